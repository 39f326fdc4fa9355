"""A learned hijack model beside the rule: calibrated gradient boosting on offers history.

Target: a *hijack event* for a SKU x channel on day t is a snapshot where another seller holds the
Buy Box (``buybox_winner == "other"``) while the previous snapshot's winner was not "other", and the
seller count rose against the previous snapshot (a new seller took the Buy Box). For a feature row
dated d the label is 1 when an event happens on a day in (d, d + horizon_days]. Rows whose window
reaches past the last visible day are censored (not labelled) and are only scored.

Features are the rule's inputs, raw (not banded): product_type (one-hot), margin fraction,
seller_count, brand_registered, price premium over the market median, and on-hand cover days on the
snapshot day (NaN when sales / inventory are not given) -- the rule uses the same cover for its
low-cover points. The classifier is scikit-learn's
``HistGradientBoostingClassifier`` wrapped in ``CalibratedClassifierCV`` (isotonic, 3 folds), so its
output is a probability and its Brier score is meaningful.

Comparison (:func:`holdout_compare`) is on a time-based holdout: rows dated after a cutoff form the
test set; training rows end ``horizon_days`` before the cutoff so no training label looks into the
test period. Metrics are ROC AUC (ranking) and Brier score (probability accuracy, lower is better)
for the model, for the rule score read as a probability (score / 100), and for the rule score
calibrated on the training rows by isotonic regression (same ranking, fair Brier).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from workbench.errors import InputError
from workbench.policies.base import Policy, check_in_range, check_whole_number
from workbench.risk._common import ParameterError, num, pct, to_date
from workbench.risk.hijack import HijackScorer, hijack_features
from workbench.risk.stockout import onhand_cover_history
from workbench.stock import columns_until

TYPES = ("standard", "bundle", "private_label", "custom")
MODEL_COLUMNS = ["sku", "channel", "hijack_model_prob", "model_horizon_days", "reason"]
METRIC_COLUMNS = ["scorer", "auc", "brier", "n_train", "n_test", "positives_train", "positives_test", "base_rate_test",
                  "train_end", "test_start", "test_end", "horizon_days", "reason"]


def hijack_events(offers: pd.DataFrame, require_new_seller: bool = True) -> pd.DataFrame:
    """Offers rows with a boolean ``hijack_event`` (see module docstring), sorted by sku, channel, date."""
    o = offers.sort_values(["sku", "channel", "date"], kind="mergesort").reset_index(drop=True)
    g = o.groupby(["sku", "channel"], sort=False)
    prev_w = g["buybox_winner"].shift()
    prev_n = g["seller_count"].shift()
    ev = (o["buybox_winner"] == "other") & prev_w.notna() & (prev_w != "other")
    if require_new_seller:
        ev &= o["seller_count"].astype(float) > prev_n.astype(float)
    o["hijack_event"] = ev.to_numpy(bool)
    return o


def label_within(events: pd.DataFrame, horizon_days: int, last_day) -> pd.DataFrame:
    """Add ``label`` (1 when an event follows within (d, d + horizon]) and ``labelled`` (window fully visible).

    ``events`` is :func:`hijack_events`' output (sorted by sku, channel, date). For every row the first
    event of its SKU x channel strictly after its date is found by one ``searchsorted`` over all events,
    keyed by (SKU x channel, seconds): no loop over the SKU x channel pairs.
    """
    last_day = pd.Timestamp(last_day)
    e = events
    group = e.groupby(["sku", "channel"], sort=False).ngroup().to_numpy()  # -1: a missing key, never labelled
    dates = e["date"].to_numpy("datetime64[ns]")
    seconds = (dates - dates.min()).astype("timedelta64[s]").astype(np.int64) if len(e) else np.zeros(0, np.int64)
    key = group.astype(np.int64) * (int(seconds.max(initial=0)) + 1) + seconds  # sorted within each group
    is_event = e["hijack_event"].to_numpy(bool) & (group >= 0)
    order = np.argsort(key[is_event], kind="stable")
    ev_key, ev_group, ev_date = key[is_event][order], group[is_event][order], dates[is_event][order]
    label = np.zeros(len(e), dtype=int)
    if len(ev_key):
        pos = np.searchsorted(ev_key, key, side="right")  # the first event strictly after the row's date
        nxt = np.minimum(pos, len(ev_key) - 1)
        has = (pos < len(ev_key)) & (ev_group[nxt] == group) & (group >= 0)
        label = (has & (ev_date[nxt] - dates <= np.timedelta64(int(horizon_days), "D"))).astype(int)
    out = e.copy()
    out["label"] = label
    out["labelled"] = (out["date"] + pd.Timedelta(days=int(horizon_days))) <= last_day
    return out


def feature_matrix(rows: pd.DataFrame, use_cover: bool = True) -> np.ndarray:
    """Model inputs: one-hot product type, margin, seller_count, brand_registered, price_premium[, cover_days]."""
    cols = [(rows["product_type"] == t).to_numpy(float) for t in TYPES]
    cols += [rows["margin"].astype(float).to_numpy(), rows["seller_count"].astype(float).to_numpy(),
             rows["brand_registered"].astype("Float64").astype(float).to_numpy(),
             rows["price_premium"].astype(float).to_numpy()]
    if use_cover:
        cols.append(rows["cover_days"].astype(float).to_numpy() if "cover_days" in rows else np.full(len(rows), np.nan))
    return np.column_stack(cols)


class HijackModel(Policy):
    """Calibrated classifier for P(hijack event within ``horizon_days``) from the rule's five inputs.

    Parameters: horizon_days (14), max_iter / learning_rate / min_samples_leaf of the gradient boosting,
    n_threads (1; None = all cores), max_train_rows (a seeded random sample above this many rows), seed.

    Both a policy and an estimator: :meth:`recommend` (the policy verb) trains a copy on the
    snapshot's labelled offers history and scores each SKU x channel's latest snapshot;
    :meth:`fit` / :meth:`predict_proba` are the estimator underneath (the holdout comparison uses them).
    """

    def __init__(self, horizon_days=14, max_iter=150, learning_rate=0.05, min_samples_leaf=40, n_threads=1,
                 max_train_rows=150_000, seed=0):
        self.horizon_days = horizon_days
        self.max_train_rows = max_train_rows
        self.n_threads = n_threads
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed

    def _validate(self) -> None:
        for name in ("horizon_days", "max_iter", "min_samples_leaf"):
            check_whole_number(name, getattr(self, name))
        check_in_range("learning_rate", self.learning_rate, 0, 1, closed="right")
        check_whole_number("n_threads", self.n_threads, allow_none=True)
        if self.max_train_rows is not None and not self.max_train_rows >= 100:
            raise ParameterError(f"`max_train_rows` must be >= 100 or None, got {self.max_train_rows!r}")

    def recommend(self, snapshot, rows: pd.DataFrame | None = None) -> pd.DataFrame:
        """P(a new seller takes the Buy Box within ``horizon_days``) per SKU x channel on its latest offers
        snapshot at or before as-of (``MODEL_COLUMNS``; every SKU without offers gets one row, no probability).

        Trains a copy on the labelled rows of :func:`training_rows` (``rows``: reuse ones already built);
        today's cover feature is the snapshot's ``sellable_cover_days`` (training rows use the on-hand
        cover of their own day, also without inbound). A model that cannot be trained says why in ``reason``.
        """
        self._validate_all()
        ds, as_of = snapshot.ds, to_date(snapshot.as_of)
        products, offers = snapshot["products"], snapshot.get("offers")
        seen = offers[offers["date"] <= as_of] if offers is not None else None
        today = hijack_features(products, seen, as_of)
        today = today.merge(snapshot.covers()[["sku", "sellable_cover_days"]], on="sku", how="left")
        today["cover_days"] = today["sellable_cover_days"]
        out = today[["sku", "channel"]].assign(hijack_model_prob=np.nan, model_horizon_days=int(self.horizon_days))
        h = int(self.horizon_days)
        if seen is None or seen.empty:
            out["reason"] = ("learned model not run: " + ("offers table absent" if offers is None else
                                                          f"no offers snapshot on or before {as_of:%Y-%m-%d}"))
            return out[MODEL_COLUMNS]
        if rows is None:
            rows = training_rows(products, seen, as_of, h, sales=ds["sales"], inventory=ds["inventory"])
        lab = rows[rows["labelled"]]
        try:
            fitted = clone(self).fit(lab, lab["label"].to_numpy(int))
        except InputError as e:
            out["reason"] = f"learned model not trained: {e}"
            return out[MODEL_COLUMNS]
        has = today["channel"].notna().to_numpy()
        if has.any():
            out.loc[has, "hijack_model_prob"] = np.round(fitted.predict_proba(today[has]), 4)
        out["reason"] = [
            (f"learned model {pct(p, 1)} chance a new seller takes the Buy Box within {h} d (calibrated gradient "
             f"boosting on {fitted.n_train_} offers snapshots, {fitted.events_train_} with an event ahead; "
             f"{num(s)} sellers, sellable cover {num(c)} d)") if ok else
            "learned model not run: no offers snapshot for this SKU"
            for p, s, c, ok in zip(out["hijack_model_prob"], today["seller_count"], today["cover_days"], has)]
        return out[MODEL_COLUMNS]

    def fit(self, rows: pd.DataFrame, y) -> "HijackModel":
        self._validate_all()
        y = np.asarray(y, dtype=int)
        if self.max_train_rows and len(y) > self.max_train_rows:
            pick = np.sort(np.random.default_rng(self.seed).choice(len(y), int(self.max_train_rows), replace=False))
            rows, y = rows.iloc[pick], y[pick]
        if y.sum() < 6 or (len(y) - y.sum()) < 6:
            raise InputError(f"HijackModel needs at least 6 events and 6 non-events to train, got {int(y.sum())} "
                             f"events in {len(y)} rows")
        base = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                              min_samples_leaf=self.min_samples_leaf, random_state=self.seed)
        # A small model: OpenMP threads cost more than they give on a shared box (8x slower on 2 busy cores).
        # cover is used only when the training rows have it (an all-missing column cannot be binned)
        self.use_cover_ = bool("cover_days" in rows and rows["cover_days"].notna().any())
        with threadpool_limits(self.n_threads):
            self.model_ = CalibratedClassifierCV(base, method="isotonic", cv=3).fit(
                feature_matrix(rows, self.use_cover_), y)
        self.n_train_ = len(y)
        self.events_train_ = int(y.sum())
        return self

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        """P(event within horizon_days) per row."""
        with threadpool_limits(self.n_threads):
            return self.model_.predict_proba(feature_matrix(rows, self.use_cover_))[:, 1]


def training_rows(products: pd.DataFrame, offers: pd.DataFrame, as_of, horizon_days: int,
                  sales: pd.DataFrame | None = None, inventory: pd.DataFrame | None = None,
                  require_new_seller: bool = True) -> pd.DataFrame:
    """Feature rows for every offers snapshot up to ``as_of`` with label and labelled flag.

    With ``sales`` and ``inventory``, each row also gets the on-hand ``cover_days`` of its day.
    """
    as_of = to_date(as_of)
    visible = offers[offers["date"] <= as_of]
    ev = label_within(hijack_events(visible, require_new_seller), horizon_days, as_of)
    feats = hijack_features(products, ev, as_of, history=True)
    keep = ev[["sku", "channel", "date", "hijack_event", "label", "labelled"]].rename(columns={"date": "offers_date"})
    rows = feats.merge(keep, on=["sku", "channel", "offers_date"], how="inner")
    if sales is not None and inventory is not None and not rows.empty:
        # only sku, date, units are read: no copy of all ~8 M rows at 10k SKUs
        rows["cover_days"] = onhand_cover_history(rows, columns_until(sales, ["sku", "date", "units"], as_of),
                                                  inventory[inventory["as_of"] <= as_of])
    else:
        rows["cover_days"] = np.nan
    return rows.sort_values(["offers_date", "sku", "channel"], kind="mergesort").reset_index(drop=True)


def _metrics(name, y, p, n_train, ev_train, split, horizon, note):
    auc = roc_auc_score(y, p) if 0 < y.sum() < len(y) else np.nan
    return {"scorer": name, "auc": round(float(auc), 4), "brier": round(float(brier_score_loss(y, p)), 5),
            "n_train": n_train, "n_test": len(y), "positives_train": ev_train, "positives_test": int(y.sum()),
            "base_rate_test": round(float(y.mean()), 4), "train_end": split[0], "test_start": split[1],
            "test_end": split[2], "horizon_days": horizon, "reason": note}


def holdout_compare(rows: pd.DataFrame, model: HijackModel | None = None, scorer: HijackScorer | None = None,
                    test_fraction: float = 0.3) -> pd.DataFrame:
    """Rule vs learned model on a time-based holdout of labelled ``rows`` (from :func:`training_rows`).

    The test period is the last ``test_fraction`` of distinct snapshot dates; training rows end
    ``horizon_days`` before the test period starts. Returns one row per scorer (``METRIC_COLUMNS``),
    or one row saying why no comparison was possible.
    """
    model = clone(model) if model is not None else HijackModel()
    scorer = scorer if scorer is not None else HijackScorer()
    if not 0 < test_fraction < 1:
        raise ParameterError(f"`test_fraction` must be in (0, 1), got {test_fraction}")
    lab = rows[rows["labelled"]]
    horizon = int(model.horizon_days)
    dates = np.sort(lab["offers_date"].unique())
    if len(dates) < 10:
        return _no_comparison(f"only {len(dates)} labelled snapshot dates (need >= 10)", horizon)
    test_start = pd.Timestamp(dates[int(len(dates) * (1 - test_fraction))])
    train_end = test_start - pd.Timedelta(days=horizon + 1)
    train = lab[lab["offers_date"] <= train_end]
    test = lab[lab["offers_date"] >= test_start]
    split = (train_end.date().isoformat(), test_start.date().isoformat(),
             pd.Timestamp(dates[-1]).date().isoformat())
    y_tr, y_te = train["label"].to_numpy(int), test["label"].to_numpy(int)
    if y_tr.sum() < 6 or y_te.sum() < 3 or y_te.sum() == len(y_te):
        return _no_comparison(f"too few hijack events to compare (positive rows: train {int(y_tr.sum())}, "
                              f"test {int(y_te.sum())})",
                              horizon, split)
    model = model.fit(train, y_tr)
    p_model = model.predict_proba(test)
    rule_tr = scorer.score_features(train)["hijack_score"].to_numpy(float)
    rule_te = scorer.score_features(test)["hijack_score"].to_numpy(float)
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(rule_tr, y_tr)
    p_rule_cal = iso.predict(rule_te)
    out = [
        _metrics("learned model (calibrated gradient boosting)", y_te, p_model, len(y_tr), int(y_tr.sum()), split,
                 horizon, f"P(new seller takes the Buy Box within {horizon} d) from the rule's inputs"),
        _metrics("rule score / 100", y_te, rule_te / 100.0, len(y_tr), int(y_tr.sum()), split, horizon,
                 "playbook score read directly as a probability (not meant as one: Brier is unfair to it)"),
        _metrics("rule score, isotonic-calibrated", y_te, p_rule_cal, len(y_tr), int(y_tr.sum()), split, horizon,
                 "same ranking as the rule, mapped to probabilities on the training period"),
        _metrics("base rate (no skill)", y_te, np.full(len(y_te), y_tr.mean()), len(y_tr), int(y_tr.sum()), split,
                 horizon, "training-period event rate for every row: the floor any scorer must beat"),
    ]
    return pd.DataFrame(out, columns=METRIC_COLUMNS)


def _no_comparison(why: str, horizon: int, split=(None, None, None)) -> pd.DataFrame:
    return pd.DataFrame([{"scorer": "none", "auc": np.nan, "brier": np.nan, "n_train": 0, "n_test": 0,
                          "positives_train": 0, "positives_test": 0, "base_rate_test": np.nan, "train_end": split[0],
                          "test_start": split[1], "test_end": split[2], "horizon_days": horizon,
                          "reason": f"no rule-vs-model comparison: {why}"}], columns=METRIC_COLUMNS)


def verdict(metrics: pd.DataFrame) -> str:
    """One sentence: which scorer ranks hijack risk better on the holdout (honest when the rule wins)."""
    if metrics.empty or metrics["scorer"].iloc[0] == "none":
        return metrics["reason"].iloc[0] if not metrics.empty else "no comparison"
    m = metrics.set_index("scorer")
    model = m.loc["learned model (calibrated gradient boosting)"]
    rule = m.loc["rule score, isotonic-calibrated"]
    if abs(model["auc"] - rule["auc"]) < 0.01:
        who = "model and rule rank about equally"
    elif model["auc"] > rule["auc"]:
        who = "the learned model ranks better"
    else:
        who = "the rule ranks better than the learned model"
    return (f"holdout {model['test_start']}..{model['test_end']}: {who} (AUC model {model['auc']:.3f} vs rule "
            f"{m.loc['rule score / 100', 'auc']:.3f}; Brier model {model['brier']:.4f} vs calibrated rule "
            f"{rule['brier']:.4f}, base rate {m.loc['base rate (no skill)', 'brier']:.4f})")

"""Backtest metrics, ensembles, model choice and conformal intervals.

MASE (Hyndman & Koehler 2006, "Another look at measures of forecast accuracy", IJF 22(4)):

    MASE = mean|y_t - yhat_t| / scale,   scale = mean_{t>m} |y_t - y_{t-m}| over the training history

with m = 7 (daily) or 52 (weekly): the in-sample seasonal-naive error. Series too short for m use
m = 1; a scale of 0 (constant series) falls back to the mean |y|, then to 1.

Intervals are split-conformal (Vovk et al. 2005; Angelopoulos & Bates 2021 tutorial) on the
normalized absolute backtest errors of the chosen model, |e| / d with d = max(yhat, scale)
(proportional to the forecast for busy series, to the series' scale for slow movers), pooled with
the same quantity for its demand class so that three windows per series are not over-trusted:

    q_L = (n · Q_series(L) + K · Q_class(L)) / (n + K),   K = 20,   Q(L) = the ceil((n+1)·L)/n quantile
    yhat_lo = max(yhat - q_L · d, 0),  yhat_hi = yhat + q_L · d

Intervals widen (or not) with the horizon as the backtest says: the scores are also pooled per demand
class and horizon step s (steps within ±3 of s pooled for a 28-step horizon, so each step has enough scores):

    q_L(series, s) = q_L(series) · Q_class(L, s) / Q_class(L)

The same formula applies to every model (ETS, Croston, the global model, ensembles), so coverage is
comparable across classes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

POOL_K = 20.0


def mase_scale(df: pd.DataFrame, m: int) -> pd.Series:
    """Per-series in-sample seasonal-naive MAE (index ``unique_id``)."""
    d = df[["unique_id", "y"]]
    g = d.groupby("unique_id", sort=True)["y"]
    err_m = (d["y"] - g.shift(m)).abs()
    s = err_m.groupby(d["unique_id"]).mean()
    err_1 = (d["y"] - g.shift(1)).abs().groupby(d["unique_id"]).mean()
    mean_abs = d["y"].abs().groupby(d["unique_id"]).mean()
    s = s.where(s.notna() & (s > 0), err_1)
    s = s.where(s.notna() & (s > 0), mean_abs)
    return s.where(s.notna() & (s > 0), 1.0).rename("scale")


def backtest_table(cv: pd.DataFrame, models: list[str], scale: pd.Series) -> pd.DataFrame:
    """Long table: one row per series × model × window with ``mae, mase, bias, n_points``.

    Censored periods (``censored`` column, if present) are left out of the metrics.
    """
    d = cv if "censored" not in cv else cv[~cv["censored"]]
    # one integer key per (series, model, cutoff), in that sort order: grouping by it is much cheaper than
    # grouping a long frame that repeats every id string once per model
    names = sorted(models)
    uid, cut = pd.Categorical(d["unique_id"]), pd.Categorical(d["cutoff"])
    n_m, n_c = len(names), len(cut.categories)
    key = ((uid.codes.astype(np.int64)[None, :] * n_m + np.arange(n_m)[:, None]) * n_c + cut.codes[None, :]).ravel()
    y = d["y"].to_numpy(dtype=float)
    yhat = d[names].to_numpy(dtype=float).T  # (models, rows)
    long = pd.DataFrame({"key": key, "abs_err": np.abs(y[None, :] - yhat).ravel(), "err": (yhat - y[None, :]).ravel()})
    t = long.groupby("key", sort=True).agg(mae=("abs_err", "mean"), bias=("err", "mean"),
                                           n_points=("abs_err", "size"))
    k = t.index.to_numpy()
    t = t.reset_index(drop=True)
    t.insert(0, "cutoff", np.asarray(cut.categories)[k % n_c])
    t.insert(0, "model", np.asarray(names, dtype=object)[(k // n_c) % n_m])
    t.insert(0, "unique_id", np.asarray(uid.categories, dtype=object)[k // (n_c * n_m)])
    t["mase"] = t["mae"] / t["unique_id"].map(scale).to_numpy()
    return t


SHRINK_POINTS = 150.0


def combination_weights(table: pd.DataFrame, groups: pd.Series, models: dict[str, list[str]], top: int = 3,
                        shrink: float = SHRINK_POINTS) -> pd.DataFrame:
    """Per-series combination weights from the backtest: inverse squared error, shrunk to the class.

    For the ``top`` models of the series' class group by mean backtest MASE (``models``: {group: names}):

        w_class(m)  ∝ 1 / MASE_class(m)²          w_series(m) ∝ 1 / MASE_series(m)²
        w(m) = λ · w_series(m) + (1 − λ) · w_class(m),   λ = n / (n + shrink)

    with n the series' scored backtest points (``n_points`` summed over windows; ``shrink`` = 150
    points: a series with 3 windows of 28 days leans about a third on its own errors). Inverse-error
    weights are the classic combination of Bates & Granger (1969); shrinking them toward equal-ish
    class weights guards against a few noisy windows (Smith & Wallis 2009, "forecast combination puzzle").
    Returns ``unique_id, model, weight`` (weights of a series sum to 1).
    """
    per = table.groupby(["unique_id", "model"], sort=True).agg(err=("mase", "mean"), n=("n_points", "sum")).reset_index()
    per["group"] = per["unique_id"].map(groups)
    own = np.array([m in models.get(g, ()) for m, g in zip(per["model"], per["group"])], dtype=bool)
    per = per[own & per["err"].notna()]
    by_class = per.groupby(["group", "model"])["err"].mean().reset_index()
    best = by_class.sort_values(["group", "err", "model"]).groupby("group").head(top)
    best = best.assign(w_class=1.0 / np.maximum(best["err"], 1e-3) ** 2)
    best["w_class"] /= best.groupby("group")["w_class"].transform("sum")
    per = per.merge(best[["group", "model", "w_class"]], on=["group", "model"], how="inner")
    per["w_series"] = 1.0 / np.maximum(per["err"], 1e-3) ** 2
    per["w_series"] /= per.groupby("unique_id")["w_series"].transform("sum")
    n = per.groupby("unique_id")["n"].transform("max")
    lam = n / (n + shrink)
    per["weight"] = lam * per["w_series"] + (1 - lam) * per["w_class"]
    per["weight"] /= per.groupby("unique_id")["weight"].transform("sum")
    return per[["unique_id", "model", "weight"]].reset_index(drop=True)


def add_ensemble(cv: pd.DataFrame, fc: pd.DataFrame, weights: pd.DataFrame, name: str = "Ensemble") -> None:
    """Add the weighted combination column ``name`` to ``cv`` and ``fc`` in place (weights of members
    with no forecast on a row are shared among the others)."""
    wide = weights.pivot(index="unique_id", columns="model", values="weight").fillna(0.0)
    cols = list(wide.columns)
    for frame in (cv, fc):
        W = wide.reindex(frame["unique_id"]).fillna(0.0).to_numpy()
        V = frame[cols].to_numpy(dtype=float)
        W = np.where(np.isnan(V), 0.0, W)
        tot = W.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[name] = np.where(tot > 0, (W * np.nan_to_num(V)).sum(axis=1) / tot, np.nan)


def choose(table: pd.DataFrame, groups: pd.Series, how: str = "series", margin: float = 0.0,
           prefer: tuple[str, ...] = ("Ensemble", "AnnualEnsemble")) -> pd.DataFrame:
    """Per series: ``model`` with the lowest mean MASE over windows (``how='series'``), or the model
    with the lowest mean MASE over its class group (``how='class'``). Returns
    ``unique_id, model, mase, n_windows``.

    ``margin``: a single model replaces the best of the ``prefer`` combinations only when its
    backtest MASE is lower by more than this fraction (a few windows are a noisy judge; combinations
    are the safer default, Makridakis et al. 2020).
    """
    if how not in ("series", "class"):
        raise ValueError(f"selection must be one of 'series', 'class', got {how!r}")
    if not 0 <= margin < 1:
        raise ValueError(f"margin must be in [0, 1), got {margin!r}")
    per = table.groupby(["unique_id", "model"], sort=True).agg(
        mase=("mase", "mean"), n_windows=("cutoff", "nunique")).reset_index()
    if how == "series":
        adj = per["mase"] * np.where(per["model"].isin(prefer), 1.0 - margin, 1.0)
        best = per.assign(_adj=adj).sort_values(["unique_id", "_adj", "model"]).drop_duplicates("unique_id")
        return best.drop(columns="_adj").reset_index(drop=True)
    per["group"] = per["unique_id"].map(groups)
    by_class = per.groupby(["group", "model"])["mase"].mean().reset_index()
    win = by_class.sort_values(["group", "mase", "model"]).drop_duplicates("group").set_index("group")["model"]
    per["chosen"] = per["group"].map(win)
    return per[per["model"] == per["chosen"]][["unique_id", "model", "mase", "n_windows"]].reset_index(drop=True)


def conformal_q(x: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ceil((n+1)·level)/n empirical quantile of the scores ``x``."""
    n = len(x)
    if n == 0:
        return np.nan
    qq = min(1.0, np.ceil((n + 1) * level) / n)
    return float(np.quantile(x, qq))


def grouped_conformal_q(codes: np.ndarray, scores: np.ndarray, n_groups: int, level: float) -> np.ndarray:
    """:func:`conformal_q` of ``scores`` within each group (``codes`` 0..n_groups-1), for all groups at once:
    one sort instead of a Python call per group. Same numbers as numpy's default ("linear") quantile of
    each group; NaN for a group without scores."""
    codes = np.asarray(codes)
    order = np.lexsort((scores, codes))
    x = np.asarray(scores, dtype=float)[order]
    n = np.bincount(codes, minlength=n_groups)
    start = np.r_[0, np.cumsum(n)[:-1]]
    out = np.full(n_groups, np.nan)
    has = n > 0
    nn = n[has].astype(float)
    qq = np.minimum(1.0, np.ceil((nn + 1) * level) / nn)
    vi = (nn - 1) * qq  # numpy's virtual index for its default ("linear") method
    lo = np.clip(np.floor(vi), 0, nn - 1)
    gamma = vi - lo
    hi = np.minimum(lo + 1, nn - 1)
    a, b = x[start[has] + lo.astype(int)], x[start[has] + hi.astype(int)]
    diff = b - a
    out[has] = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)  # numpy's _lerp
    return out


def conformal_quantiles(cv_long: pd.DataFrame, levels: list[int], class_of: pd.Series) -> pd.DataFrame:
    """Scaled |error| quantiles per series for each level, shrunk to the class pool.

    ``cv_long``: ``unique_id, score`` (= |y - yhat| / d of the chosen model). Returns a frame
    indexed by ``unique_id`` with columns ``q_<L>``.
    """
    codes, uids = pd.factorize(cv_long["unique_id"], sort=True)
    cls_codes, classes = pd.factorize(cv_long["unique_id"].map(class_of), sort=True)
    score = cv_long["score"].to_numpy(dtype=float)
    n = np.bincount(codes, minlength=len(uids)).astype(float)
    keep = cls_codes >= 0  # a series without a class has no pool
    cls_of_series = pd.Index(classes).get_indexer(pd.Index(uids).map(class_of))
    out = {}
    for L in levels:
        a = L / 100.0
        q_s = grouped_conformal_q(codes, score, len(uids), a)
        q_c = grouped_conformal_q(cls_codes[keep], score[keep], len(classes), a)
        qc_series = np.where(cls_of_series >= 0, q_c[np.maximum(cls_of_series, 0)], np.nan)
        out[f"q_{L}"] = (n * q_s + POOL_K * qc_series) / (n + POOL_K)
    res = pd.DataFrame(out, index=pd.Index(uids, name="unique_id"))
    return res


def step_factors(cv_long: pd.DataFrame, levels: list[int], class_of: pd.Series, horizon: int,
                 band: int | None = None) -> pd.DataFrame:
    """Q_class(L, step) / Q_class(L): how much wider the interval is at each horizon step.

    ``cv_long``: ``unique_id, step, score``. Scores of steps within ±``band`` (default: 3 for a
    28-step horizon, scaled with it, at least 1) are pooled for each step. Returns a frame indexed by
    (demand class, step) with columns ``f_<L>``.
    """
    band = band if band is not None else max(1, round(3 * horizon / 28))
    cls = cv_long["unique_id"].map(class_of).to_numpy()
    steps = cv_long["step"].to_numpy()
    score = cv_long["score"].to_numpy(dtype=float)
    rows = []
    for c in pd.unique(cls):
        sc, st = score[cls == c], steps[cls == c]
        base = {L: conformal_q(sc, L / 100) for L in levels}
        for s in range(1, horizon + 1):
            x = sc[np.abs(st - s) <= band]
            with np.errstate(divide="ignore", invalid="ignore"):
                rows.append({"class": c, "step": s,
                             **{f"f_{L}": np.float64(conformal_q(x, L / 100)) / base[L] for L in levels}})
    out = pd.DataFrame(rows).set_index(["class", "step"])
    return out.replace([np.inf, -np.inf], np.nan).fillna(1.0)

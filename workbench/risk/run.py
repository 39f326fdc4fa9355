"""`workbench risk`: the SKU risk table and the findings written beside it.

Files written (``<stem>`` is the output file name without its extension):

* ``FILE``                       one row per SKU: hijack score + five dimension scores, level, scan interval,
                                 stockout risk, learned-model probability, reason
* ``<stem>_account_health.csv``  one row per channel x metric (or one row saying the table is absent)
* ``<stem>_alerts.csv``          offers alerts of the last 7 days (new seller, Buy Box lost, abnormal price)
* ``<stem>_feed.csv``            supplier-feed checks per SKU x supplier
* ``<stem>_returns.csv``         top-3 return reasons per SKU with an action
* ``<stem>_new_products.csv``    new-product test verdicts
* ``<stem>_model.csv``           rule vs learned model on a time-based holdout (AUC, Brier)
* ``<stem>_rejects.csv``         input rows that could not be used, with their reason (only when there are some)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.errors import InputError
from workbench.risk._common import pct, to_date, write_frame
from workbench.risk.alerts import OffersAlerts
from workbench.risk.feed import SupplierFeedPolicy
from workbench.risk.health import AccountHealthPolicy
from workbench.risk.hijack import HijackScorer
from workbench.risk.learned import HijackModel, _no_comparison, holdout_compare, training_rows, verdict
from workbench.risk.returns import NewProductTestPolicy, ReturnsPolicy
from workbench.risk.stockout import stockout_risk

RISK_COLUMNS = ["sku", "hijack_score", "hijack_level", "monitor_every_minutes", "stockout_risk", "reason",
                "score_product_type", "score_margin", "score_competition", "score_brand", "score_price",
                "hijack_model_prob", "model_horizon_days", "channel", "offers_date", "product_type", "margin_pct",
                "seller_count", "brand_registered", "price_vs_median_pct", "cover_days", "sellable_cover_days",
                "low_cover_points",
                "extra_protection", "stockout_source", "alerts_recent", "recommended_action", "data_notes"]
OUTPUT_SUFFIXES = (".csv", ".parquet")


def risk_table(snapshot, restock: pd.DataFrame, scorer: HijackScorer | None = None,
               model: HijackModel | None = None, alerts: pd.DataFrame | None = None,
               test_fraction: float = 0.3, compare: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(risk table with RISK_COLUMNS, rule-vs-model holdout metrics) from the run's snapshot and restock output.

    ``compare=False`` skips the holdout comparison (a second model fit and its test predictions, about
    a third of the risk step): the metrics are then None; the risk table is the same.

    ``cover_days`` and ``sellable_cover_days`` are the snapshot's; ``stockout_risk`` is the restock
    engine's probability. Sellable cover drives hijack exposure (inbound stock does not protect the
    listing today): :meth:`HijackScorer.recommend` and :meth:`HijackModel.recommend` read it.
    """
    ds, as_of = snapshot.ds, to_date(snapshot.as_of)
    offers = ds.get("offers")
    scorer = scorer if scorer is not None else HijackScorer()
    model = model if model is not None else HijackModel()
    stock = stockout_risk(snapshot, restock)
    risk = scorer.recommend(snapshot).drop(columns=["reason", "cover_days", "sellable_cover_days"])
    risk = risk.merge(stock, on="sku", how="left")

    notes = []
    offers_seen = offers[offers["date"] <= as_of] if offers is not None else None
    rows = None
    if offers is None:
        notes.append("offers table absent: seller count and price position scored as unknown, no learned model")
        metrics = _no_comparison("offers table absent", int(model.horizon_days))
    elif offers_seen.empty:
        notes.append(f"no offers snapshot on or before {as_of:%Y-%m-%d}: seller count and price scored as unknown")
        metrics = _no_comparison("no offers history before as_of", int(model.horizon_days))
    else:
        rows = training_rows(ds["products"], offers_seen, as_of, model.horizon_days, sales=ds["sales"],
                             inventory=ds["inventory"])
        metrics = holdout_compare(rows, model=model, scorer=scorer, test_fraction=test_fraction) if compare else None
    learned = model.recommend(snapshot, rows=rows)
    if rows is not None and learned["reason"].str.startswith("learned model not trained").any():
        notes.append(learned["reason"].iloc[0])
    risk = risk.merge(learned[["sku", "channel", "hijack_model_prob"]], on=["sku", "channel"], how="left")
    risk["model_horizon_days"] = int(model.horizon_days)

    if alerts is not None and not alerts.empty and "sku" in alerts:
        risk["alerts_recent"] = risk["sku"].map(alerts.groupby("sku").size()).fillna(0).astype(int)
    else:
        risk["alerts_recent"] = 0

    reasons = []
    for r in risk.itertuples():
        parts = [r.hijack_reason, r.stockout_reason]
        if not pd.isna(r.hijack_model_prob):
            parts.append(f"learned model {pct(r.hijack_model_prob, 1)} chance a new seller takes the Buy Box "
                         f"within {r.model_horizon_days} d")
        if r.alerts_recent:
            parts.append(f"{r.alerts_recent} offers alert(s) this week")
        parts += notes
        reasons.append("; ".join(parts))
    risk["reason"] = reasons
    risk["data_notes"] = "; ".join(notes)
    risk["offers_date"] = pd.to_datetime(risk["offers_date"]).dt.strftime("%Y-%m-%d")
    out = risk[RISK_COLUMNS].sort_values(["hijack_score", "sku"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True), metrics


def _side_path(output: Path, name: str) -> Path:
    return output.with_name(f"{output.stem}_{name}.csv")


def _compute(snapshot, restock: pd.DataFrame, include_model: bool = True) -> tuple[dict, list[str]]:
    """Every risk frame for the run: ({name: frame}, notes about missing inputs); the rule-vs-model
    holdout metrics (``model``) only with ``include_model``."""
    ds = snapshot.ds
    offers = ds.get("offers")
    notes: list[str] = []

    alerts = OffersAlerts().recommend(snapshot)
    if offers is None:
        notes.append("offers table absent")
    risk, metrics = risk_table(snapshot, restock, alerts=alerts if offers is not None else None, compare=include_model)

    health = AccountHealthPolicy().recommend(snapshot)
    if ds.get("account_health") is None:
        notes.append("account_health table absent")
    feed = SupplierFeedPolicy().recommend(snapshot)
    if ds.get("supplier_feed") is None:
        notes.append("supplier_feed table absent")
    returns = ReturnsPolicy().recommend(snapshot)
    if ds.get("returns") is None:
        notes.append("returns table absent")
    newp = NewProductTestPolicy().recommend(snapshot)
    if "launch_date" not in ds["products"].columns:
        notes.append("products.launch_date absent")

    if getattr(ds, "n_rejected", 0):
        notes.append(ds.rejects_summary())
    if len(risk):  # one line on every row: which optional inputs were missing or rejected
        first = risk["data_notes"].iloc[0]
        risk["data_notes"] = "; ".join([first] * bool(first) + [n for n in notes if not first.startswith(n)]) \
            or "all optional risk tables present"
    frames = {"risk": risk, "account_health": health, "alerts": alerts, "feed": feed, "returns": returns,
              "new_products": newp}
    if include_model:
        frames["model"] = metrics
    return frames, notes


def risk_outputs(snapshot, restock: pd.DataFrame, include_model: bool = False) -> dict[str, pd.DataFrame]:
    """Risk frames for the run (the pipeline's risk step; nothing is written).

    Keys: risk, account_health, alerts, feed, returns, new_products (+ model when ``include_model``).
    ``restock``: this run's restock output; its ``stockout_probability`` becomes ``stockout_risk``.
    """
    return _compute(snapshot, restock, include_model)[0]


def check_output_path(output_path) -> Path:
    """The risk command's output file: .csv or .parquet, not a directory."""
    output = Path(output_path)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"--output: expected a file ending in .csv or .parquet, got {str(output)!r}")
    if output.exists() and output.is_dir():
        raise InputError(f"--output: {output} is a directory; expected a file path")
    return output


def run_risk(data_dir, as_of, output_path, overrides=None) -> dict:
    """`workbench risk`: run the pipeline up to risk, write the risk table and its side files atomically.

    Returns ``{"paths": {name: Path}, "counts": {name: rows}, "notes": [...], "model_verdict": str}``.
    Optional tables that are missing produce a file (or column note) that says so instead of failing.
    """
    from workbench.data.load import load_dataset
    from workbench.pipeline import run_pipeline

    as_of = to_date(as_of, "--as-of")
    output = check_output_path(output_path)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"--data: {data_dir} is not a directory")
    ds = load_dataset(data_dir)
    res = run_pipeline(ds, as_of, overrides=overrides, steps=("restock", "risk"), include_model=True)
    frames, notes = res.risk, res.risk_notes
    if ds.n_rejected:
        frames["rejects"] = ds.rejects
    paths, counts = {}, {}
    for name, frame in frames.items():
        path = output if name == "risk" else _side_path(output, name)
        paths[name] = write_frame(frame, path)
        counts[name] = len(frame)
    risk, health, feed = frames["risk"], frames["account_health"], frames["feed"]
    counts["high_risk"] = int((risk["hijack_level"] == "high").sum())
    counts["health_breaches"] = int(health["breach"].fillna(False).astype(bool).sum())
    counts["feed_review"] = int(feed["review"].fillna(False).astype(bool).sum())
    return {"paths": paths, "counts": counts, "notes": notes, "model_verdict": verdict(frames["model"])}

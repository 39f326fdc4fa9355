"""The weekly results: computed once by the pipeline into CSVs, read by the report notebooks.

``compute_weekly`` runs data → forecast → restock → pricing / ads → risk and writes one CSV per
result; ``load_results`` reads them back (or computes them when a notebook runs on its own, e.g.
under nbval or in JupyterLab).
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.io import write_frame

log = logging.getLogger(__name__)

FILES = {
    "restock": "restock.csv",
    "pricing": "pricing.csv",
    "ads": "ads.csv",
    "risk": "risk.csv",
    "account_health": "risk_account_health.csv",
    "alerts": "risk_alerts.csv",
    "feed": "risk_feed.csv",
    "returns": "risk_returns.csv",
    "new_products": "risk_new_products.csv",
    "forecast": "forecast.csv",
    "backtest": "forecast_backtest.csv",
    "accuracy": "forecast_accuracy.csv",
    "classes": "forecast_classes.csv",
    "lost_demand": "forecast_lost_demand.csv",
    "history": "demand_history.csv",
    "rejects": "rejects.csv",
}
DATE_COLUMNS = ("ds", "date", "order_by", "as_of")

# Daily forecast horizon for restock: longest sea lead time + review period + peak window margin.
FORECAST_HORIZON_DAYS = 120
FORECAST_LEVELS = (80, 95)


def compute_weekly(ds, as_of: str, out_dir: Path) -> list[Path]:
    """Compute every section for ``as_of`` from a loaded dataset; write one CSV each into ``out_dir``."""
    from workbench.forecast.api import demand_history, forecast_frame
    from workbench.policies.ads import ads_recommendations
    from workbench.policies.pricing import pricing_recommendations
    from workbench.policies.restock import RestockPolicy
    from workbench.risk.run import risk_outputs

    out_dir = Path(out_dir)
    as_of_ts = pd.Timestamp(as_of)
    written: list[Path] = []

    def put(name: str, frame: pd.DataFrame | None) -> None:
        if frame is not None:
            written.append(write_frame(frame, out_dir / FILES[name]))

    history = demand_history(ds.tables, as_of_ts)
    fc = forecast_frame(history, horizon=FORECAST_HORIZON_DAYS, freq="D", levels=list(FORECAST_LEVELS),
                        events=ds.get("events"))
    put("history", history)
    put("forecast", fc.forecast)
    put("backtest", fc.backtest)
    put("accuracy", fc.accuracy)
    put("classes", fc.classification)
    put("lost_demand", fc.lost_units)

    restock = RestockPolicy().recommend(ds["products"], ds["inventory"], ds["shipments"], fc.forecast, as_of_ts,
                                        sales=ds["sales"], events=ds.get("events"))
    put("restock", restock)
    put("pricing", pricing_recommendations(ds, as_of_ts, restock=restock))
    if ds.get("ads") is not None:
        put("ads", ads_recommendations(ds, as_of_ts, restock=restock))
    for name, frame in risk_outputs(ds, as_of_ts, restock=restock).items():
        put(name, frame)
    return written


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    df = pd.read_csv(path)
    for c in DATE_COLUMNS:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c], errors="coerce")
    return df


@dataclass
class WeeklyResults:
    as_of: str
    frames: dict[str, pd.DataFrame | None] = field(default_factory=dict)

    def __getattr__(self, name: str):
        frames = self.__dict__.get("frames", {})
        if name in FILES:
            return frames.get(name)
        raise AttributeError(name)

    def extra(self, name: str) -> pd.DataFrame | None:
        return self.frames.get(name)

    def restock_orders(self) -> pd.DataFrame | None:
        r = self.restock
        return None if r is None else r[r["recommended_qty"] > 0].sort_values("days_of_cover")

    def pricing_changes(self) -> pd.DataFrame | None:
        p = self.pricing
        if p is None:
            return None
        ch = p[p["change_pct"].abs() > 1e-9]
        return ch.reindex(ch["change_pct"].abs().sort_values(ascending=False).index)

    def ads_changes(self) -> pd.DataFrame | None:
        a = self.ads
        if a is None:
            return None
        delta = (a["recommended_budget"] - a["current_budget"]).abs()
        return a[delta > 1e-9].assign(_d=delta).sort_values("_d", ascending=False).drop(columns="_d")

    def kpis(self) -> dict[str, object]:
        out: dict[str, object] = {"as of": self.as_of}
        if self.restock is not None:
            out["SKUs"] = len(self.restock)
            out["SKUs to order"] = int((self.restock["recommended_qty"] > 0).sum())
        if self.pricing is not None:
            out["listings to re-price"] = len(self.pricing_changes())
        if self.ads is not None:
            out["campaigns to change"] = len(self.ads_changes())
        if self.risk is not None:
            out["high hijack risk"] = int((self.risk["hijack_level"] == "high").sum())
        if self.rejects is not None:
            out["rejected input rows"] = len(self.rejects)
        return out


def load_results(data_dir: str | Path, as_of: str, results_dir: str | Path = "") -> WeeklyResults:
    """Read the results the pipeline wrote into ``results_dir``; compute them if there are none."""
    folder = Path(results_dir) if results_dir else None
    if folder is None or not (folder / FILES["restock"]).is_file():
        from workbench.data import load_dataset

        ds = load_dataset(data_dir)
        folder = Path(tempfile.mkdtemp(prefix="workbench-results-"))
        ds.write_rejects(folder / FILES["rejects"])
        compute_weekly(ds, as_of, folder)
    frames = {name: _read(folder / fname) for name, fname in FILES.items()}
    if frames["rejects"] is not None and frames["rejects"].empty:
        frames["rejects"] = None
    return WeeklyResults(as_of, frames)

"""The weekly results: computed once by the pipeline into files, read by the report notebooks.

``compute_weekly`` runs :func:`workbench.pipeline.run_pipeline` (data → history → forecast → stock
snapshot → restock → pricing / ads → risk) and writes one file per result; ``load_results`` reads them
back (or computes them when a notebook runs on its own, e.g. under nbval or in JupyterLab).

Formats. The tables people open (restock, pricing, ads, risk, rejects, ...) are CSV. The two large
machine tables, the daily forecast and the backtest (one row per SKU × day / window × model: hundreds
of MB of CSV at 10,000 SKUs), are Parquet. The demand history is not in the report folder: it goes to
one shared store beside the report folders, ``<reports>/history/demand_history-YYYY-MM.parquet``
(:func:`write_history`), one file per calendar month, where a week's run writes only the months its
new days fall in; the history is written once, not again every week. ``WeeklyResults`` reads the
large tables only when asked (``history_of`` reads a few SKUs).
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.io import atomic_path, read_frame, write_frame
from workbench.report.monday import FILES as MONDAY_FILES
from workbench.report.monday import write_monday

log = logging.getLogger(__name__)

FILES = {
    "restock": "restock.csv",
    "locations": "restock_locations.csv",
    "pricing": "pricing.csv",
    "ads": "ads.csv",
    "risk": "risk.csv",
    "account_health": "risk_account_health.csv",
    "alerts": "risk_alerts.csv",
    "feed": "risk_feed.csv",
    "returns": "risk_returns.csv",
    "new_products": "risk_new_products.csv",
    "forecast": "forecast.parquet",
    "backtest": "forecast_backtest.parquet",
    "accuracy": "forecast_accuracy.csv",
    "classes": "forecast_classes.csv",
    "lost_demand": "forecast_lost_demand.csv",
    "rejects": "rejects.csv",
    "coverage": "data_coverage.csv",
}
FILES.update(MONDAY_FILES)  # actions, purchase orders, money, changes: workbench/report/monday.py
DATE_COLUMNS = ("ds", "date", "order_by", "as_of", "last_observed")
LAZY = ("forecast", "backtest")  # large: read when a notebook asks for them
HISTORY_DIR = "history"          # the shared demand-history store, beside the report folders
HISTORY_FILE = "demand_history-{month}.parquet"

# What the report tables show (the reason last); the CSVs keep every column.
VIEWS = {
    "restock": ["sku", "title", "status", "cover_days", "sellable_cover_days", "available", "supplier_held",
                "inbound", "ads", "safety_stock", "reorder_point",
                "recommended_qty", "ship_mode", "order_by", "stockout_probability", "rot_qty", "reason"],
    "pricing": ["sku", "title", "channel", "phase", "cover_days", "sellable_cover_days", "rule", "current_price",
                "recommended_price", "change_pct",
                "predicted_units_change_pct", "predicted_profit_change_pct", "reason"],
    "ads": ["sku", "channel", "campaign", "ad_type", "phase", "action", "current_budget", "recommended_budget",
            "change_pct", "bid_change_pct", "reason"],
    "risk": ["sku", "title", "hijack_score", "hijack_level", "monitor_every_minutes", "stockout_risk", "cover_days",
             "sellable_cover_days", "score_product_type",
             "score_margin", "score_competition", "score_brand", "score_price", "hijack_model_prob", "reason"],
    "account_health": ["channel", "metric", "latest", "target", "breach", "weeks_in_breach", "trend", "reason"],
    "classes": ["unique_id", "demand_class", "adi", "cv2", "n_obs", "model", "mase", "reason"],
    "accuracy": ["demand_class", "model", "mase", "series", "windows"],
}


def view(name: str, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The columns a report table shows for a result (every column when no view is defined)."""
    if frame is None or name not in VIEWS:
        return frame
    return frame[[c for c in VIEWS[name] if c in frame.columns]]


def compute_weekly(ds, as_of: str, out_dir: Path, overrides=None, result=None,
                   history_store: Path | None = None) -> list[Path]:
    """Run the pipeline for ``as_of`` on a loaded dataset; write one file per result into ``out_dir``.

    ``overrides``: the analyst overrides (default: :func:`workbench.config.default_overrides`, read once
    here); ``result``: a :class:`workbench.pipeline.PipelineResult` already computed (else one is run);
    ``history_store``: the shared demand-history folder (default: ``history/`` beside ``out_dir``).
    """
    from workbench.config import default_overrides
    from workbench.pipeline import run_pipeline

    out_dir = Path(out_dir)
    written: list[Path] = []

    def put(name: str, frame: pd.DataFrame | None) -> None:
        if frame is not None:
            path = out_dir / FILES[name]
            written.append(write_machine_table(frame, path) if name in LAZY else write_frame(frame, path))

    res = result if result is not None else run_pipeline(
        ds, pd.Timestamp(as_of), overrides=overrides if overrides is not None else default_overrides())
    fc = res.forecast
    store = Path(history_store) if history_store is not None else out_dir.parent / HISTORY_DIR
    written += write_history(fc.history, store)
    put("forecast", fc.forecast)
    put("backtest", backtest_reasons(fc.backtest))
    put("accuracy", accuracy_table(fc.backtest, fc.choices, fc.classification))
    put("classes", class_reasons(fc.classification.merge(fc.choices[["unique_id", "model", "mase"]],
                                                          on="unique_id", how="left")))
    put("lost_demand", lost_reasons(fc.lost_units[fc.lost_units["lost_units"] > 0]
                                    .sort_values("lost_units", ascending=False)))
    put("coverage", coverage_table(res))
    put("restock", with_title(res.restock, ds["products"]))
    put("locations", res.locations)
    put("pricing", with_title(res.pricing, ds["products"]))
    put("ads", res.ads)
    for name, frame in res.risk.items():
        put(name, with_title(frame, ds["products"]) if name == "risk" else frame)
    # the presentation layer's hook: reads the CSVs above back; the large frames are handed over in memory
    written += write_monday(ds, as_of, out_dir, history=fc.history, forecast=fc.forecast)
    return written


#: Decimals kept of the large machine tables' numbers (units per day, MASE): 0.001 is far below any
#: decision, and rounded numbers compress to about half the size.
MACHINE_DECIMALS = 3


def write_machine_table(frame: pd.DataFrame, path: Path) -> Path:
    """A large machine table (forecast, backtest) as Parquet, atomically: floats rounded to
    :data:`MACHINE_DECIMALS` decimals, zstd-compressed (about half the size of the default)."""
    floats = frame.select_dtypes("float").columns
    out = frame.assign(**{c: frame[c].round(MACHINE_DECIMALS) for c in floats})
    with atomic_path(path) as tmp:
        out.to_parquet(tmp, index=False, compression="zstd")
    return Path(path)


def coverage_table(res) -> pd.DataFrame:
    """One row: the as-of date, the last day with sales data and the days missing in between."""
    last = res.snapshot.last_observed
    return pd.DataFrame({"as_of": [res.as_of], "last_observed": [last], "missing_days": [res.missing_days],
                         "reason": [res.data_note()]})


def _num(s: pd.Series, fmt: str) -> pd.Series:
    return s.map(lambda x: format(x, fmt) if pd.notna(x) else "n/a")


def history_reasons(h: pd.DataFrame) -> pd.DataFrame:
    """Each day of demand history says whether it is observed sales or an estimate for a stockout day."""
    observed = "observed " + _num(h["y_observed"], ".0f") + " units sold, in stock"
    imputed = ("out of stock: sold " + _num(h["y_observed"], ".0f") + ", demand estimated at "
               + _num(h["y"], ".1f") + " from the level around the gap x weekday profile")
    return h.assign(reason=observed.where(~h["censored"].astype(bool), imputed))


def backtest_reasons(bt: pd.DataFrame) -> pd.DataFrame:
    return bt.assign(reason=bt["model"] + " backtest from cutoff " + pd.to_datetime(bt["cutoff"]).dt.strftime("%Y-%m-%d")
                     + ": MASE " + _num(bt["mase"], ".2f") + ", MAE " + _num(bt["mae"], ".2f") + ", bias "
                     + _num(bt["bias"], "+.2f") + " over " + bt["n_points"].astype(str) + " points")


def class_reasons(c: pd.DataFrame) -> pd.DataFrame:
    """Syntetos-Boylan cut-offs ADI 1.32 and CV² 0.49, and the model the class backtest chose."""
    adi = c["adi"].map(lambda a: f"ADI {a:.2f} {'>=' if a >= 1.32 else '<'} 1.32" if pd.notna(a) else "ADI n/a")
    cv2 = c["cv2"].map(lambda v: f"CV² {v:.2f} {'>=' if v >= 0.49 else '<'} 0.49" if pd.notna(v) else "CV² n/a")
    chosen = ("; " + c["model"].astype(str) + " chosen" + c["mase"].map(
        lambda m: f" by backtest MASE {m:.2f}" if pd.notna(m) else " as the fallback (too short to backtest)"))
    return c.assign(reason=c["demand_class"].astype(str) + " (" + adi + ", " + cv2 + ", "
                    + c["n_obs"].astype(str) + " days)" + chosen)


def lost_reasons(lost: pd.DataFrame) -> pd.DataFrame:
    return lost.assign(reason=_num(lost["lost_units"], ",.0f") + " units of demand estimated over "
                       + lost["stockout_periods"].astype(str) + " stockout days (" + _num(lost["observed_units"], ",.0f")
                       + " units sold in the history); forecasts and ADS use the estimate, not the zeros")


def with_title(frame: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The frame with the product title right after ``sku``, so people (and purchase orders) see names."""
    if "title" in frame.columns or "sku" not in frame.columns:
        return frame
    out = frame.merge(products[["sku", "title"]], on="sku", how="left")
    return out[["sku", "title"] + [c for c in frame.columns if c != "sku"]]


def accuracy_table(backtest: pd.DataFrame, choices: pd.DataFrame, classification: pd.DataFrame) -> pd.DataFrame:
    """Mean backtest MASE per demand class and candidate model, on the same series within a class.

    Candidates differ by class (Croston-type models only compete on intermittent series), so models
    are compared within a class. ``workbench (selected)`` is the mean MASE of the model each series
    chose, on the same windows the choice was made on: an optimistic, in-sample view of the
    selection; the honest out-of-sample comparison is in ``benchmarks/results/``.
    """
    cls = classification[["unique_id", "demand_class"]]
    bt = backtest.merge(cls, on="unique_id", how="left")
    per_model = (bt.groupby(["demand_class", "model"])
                 .agg(mase=("mase", "mean"), series=("unique_id", "nunique"), windows=("cutoff", "nunique"))
                 .reset_index())
    ch = choices.merge(cls, on="unique_id", how="left", suffixes=("_choice", ""))
    selected = (ch.groupby("demand_class")
                .agg(mase=("mase", "mean"), series=("unique_id", "nunique"), windows=("n_windows", "max"))
                .reset_index().assign(model="workbench (selected)"))
    out = pd.concat([selected, per_model], ignore_index=True)
    out = out.sort_values(["demand_class", "mase"], kind="stable").reset_index(drop=True)
    out["windows"] = out["windows"].fillna(0).astype(int)
    out["reason"] = (out["demand_class"] + ": mean MASE over " + out["series"].astype(str) + " series x "
                     + out["windows"].astype(str) + " rolling-origin windows (1 = seasonal-naive in-sample error)")
    short = out["mase"].isna()
    out.loc[short, "reason"] = (out.loc[short, "demand_class"] + ": " + out.loc[short, "series"].astype(str)
                                + " series too short for a backtest; a fallback model forecasts them")
    return out[["demand_class", "model", "mase", "series", "windows", "reason"]]


def history_month_path(store: Path, month: pd.Period) -> Path:
    return Path(store) / HISTORY_FILE.format(month=month.strftime("%Y-%m"))


def write_history(history: pd.DataFrame, store: Path) -> list[Path]:
    """Write the demand history (with its reasons) into the shared store, one Parquet file per month.

    A month is written when its file is missing or when this history reaches later into the month than
    the stored file (the month the new days fall in); complete months already stored are left alone,
    so a weekly run writes one or two small files, and a re-run for an earlier date never shortens the
    store. Returns the files written.
    """
    store = Path(store)
    store.mkdir(parents=True, exist_ok=True)
    if history.empty:
        return []
    month = history["ds"].dt.to_period("M")
    written = []
    for m, last in history.groupby(month, sort=True)["ds"].max().items():
        path = history_month_path(store, m)
        if path.is_file() and pd.read_parquet(path, columns=["ds"])["ds"].max() >= last:
            continue
        part = history[(month == m).to_numpy()]
        written.append(write_frame(history_reasons(part).reset_index(drop=True), path))
    return written


def read_history(store: Path, as_of=None, unique_ids=None) -> pd.DataFrame | None:
    """The stored demand history up to ``as_of`` (all SKUs, or only ``unique_ids``); None when there is none."""
    files = sorted(Path(store).glob(HISTORY_FILE.format(month="*")))
    if as_of is not None:
        last = pd.Timestamp(as_of).to_period("M")
        files = [f for f in files if pd.Period(f.stem[-7:], "M") <= last]
    if not files:
        return None
    filters = [("unique_id", "in", list(unique_ids))] if unique_ids is not None else None
    h = pd.concat([pd.read_parquet(f, filters=filters) for f in files], ignore_index=True)
    if as_of is not None:
        h = h[h["ds"] <= pd.Timestamp(as_of)]
    return h.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return read_frame(path, DATE_COLUMNS)  # ids stay text ("00001", "NA"); formula escapes undone


@dataclass
class WeeklyResults:
    """The results of one week; ``forecast``, ``backtest`` and ``history`` are read from ``folder`` and the
    history store when first asked for (``frames`` holds what is loaded)."""

    as_of: str
    frames: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    folder: Path | None = None
    history_store: Path | None = None

    def __getattr__(self, name: str):
        if name in FILES or name == "history":
            return self._get(name)
        raise AttributeError(name)

    def _get(self, name: str) -> pd.DataFrame | None:
        frames = self.__dict__.setdefault("frames", {})
        if name not in frames:
            if name == "history":
                store = self.__dict__.get("history_store")
                frames[name] = read_history(store, self.as_of) if store is not None else None
            elif name in FILES and self.__dict__.get("folder") is not None:
                frames[name] = _read(self.folder / FILES[name])
        return frames.get(name)

    def history_of(self, unique_ids) -> pd.DataFrame | None:
        """The demand history of a few SKUs (reads only their rows from the store)."""
        if "history" in self.frames or self.history_store is None:
            h = self._get("history")
            return None if h is None else h[h["unique_id"].isin(list(unique_ids))]
        return read_history(self.history_store, self.as_of, unique_ids)

    def extra(self, name: str) -> pd.DataFrame | None:
        return self._get(name)

    def view(self, name: str) -> pd.DataFrame | None:
        return view(name, self._get(name))

    def pricing_changes(self) -> pd.DataFrame | None:
        """Every listing whose price changes, the biggest change first (``top.pricing_changes``)."""
        from workbench.report import top

        return None if self.pricing is None else view("pricing", top.pricing_changes(self.pricing))

    def ads_changes(self) -> pd.DataFrame | None:
        """Every campaign whose budget changes, the biggest change first (``top.ads_changes``)."""
        from workbench.report import top

        return None if self.ads is None else view("ads", top.ads_changes(self.ads))

    def forecast_of(self, unique_ids) -> pd.DataFrame | None:
        """The daily forecast of a few SKUs (reads only their rows from the report folder's Parquet)."""
        frames, folder = self.__dict__.setdefault("frames", {}), self.__dict__.get("folder")
        ids = [str(u) for u in unique_ids]
        if "forecast" in frames or folder is None or not (folder / FILES["forecast"]).is_file():
            f = self._get("forecast")
            return None if f is None else f[f["unique_id"].isin(ids)]
        return pd.read_parquet(folder / FILES["forecast"], filters=[("unique_id", "in", ids)])

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
        cov = self.coverage
        if cov is not None and len(cov) and cov["missing_days"].iloc[0] > 0:
            out["days of data missing before as-of"] = int(cov["missing_days"].iloc[0])
        return out


def load_results(data_dir: str | Path, as_of: str, results_dir: str | Path = "") -> WeeklyResults:
    """Read the results the pipeline wrote into ``results_dir``; compute them if there are none."""
    folder = Path(results_dir) if results_dir else None
    if folder is not None and (folder / FILES["restock"]).is_file():
        return _read_all(folder, as_of)
    from workbench.data import load_dataset

    ds = load_dataset(data_dir)
    with tempfile.TemporaryDirectory(prefix="workbench-results-") as tmp:  # read back at once, then removed
        week = Path(tmp) / "week"
        week.mkdir()
        ds.write_rejects(week / FILES["rejects"])
        compute_weekly(ds, as_of, week, history_store=Path(tmp) / HISTORY_DIR)
        res = _read_all(week, as_of, Path(tmp) / HISTORY_DIR)
        for name in (*LAZY, "history"):  # the folder is removed: read everything now
            res._get(name)
        res.folder = res.history_store = None
        return res


def _read_all(folder: Path, as_of: str, history_store: Path | None = None) -> WeeklyResults:
    """The small tables of a report folder now, the large ones when asked for."""
    frames = {name: _read(folder / fname) for name, fname in FILES.items() if name not in LAZY}
    if frames["rejects"] is not None and frames["rejects"].empty:
        frames["rejects"] = None
    store = Path(history_store) if history_store is not None else folder.parent / HISTORY_DIR
    return WeeklyResults(as_of, frames, folder=folder, history_store=store)

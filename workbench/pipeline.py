"""The one path through the workbench: load → history → forecast → stock snapshot → policies → risk.

:func:`run_pipeline` (or :class:`Pipeline` for custom policies) runs the steps once for a loaded
dataset and an as-of date and returns every result in a :class:`PipelineResult`. The CLI commands
(`restock`, `pricing`, `ads`, `risk`), the weekly run (:func:`workbench.report.weekly.compute_weekly`),
the what-if engine (:func:`workbench.scenarios.run.prepare`) and the notebooks all call it; nothing
else chains these steps. Overrides (the analyst's forecast overrides) are passed in by the caller;
the entry points read the default location once from :func:`workbench.config.default_overrides`.
"""
from __future__ import annotations

import logging
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from workbench.policies.ads import AdBudgetPolicy
from workbench.policies.locations import LocationPolicy
from workbench.policies.pricing import PricingPolicy
from workbench.policies.restock import RestockPolicy
from workbench.stock import StockSnapshot, build_snapshot

log = logging.getLogger(__name__)

# Daily horizon: the longest sea lead time (~60 d with lateness) + review period + a peak-season margin.
FORECAST_HORIZON_DAYS = 120
FORECAST_LEVELS = (80, 95)
STEPS = ("restock", "pricing", "ads", "risk")


@dataclass
class PipelineResult:
    """Everything one run computed. Frames a step did not run for are None."""

    ds: object
    as_of: pd.Timestamp
    forecast: object | None              # workbench.forecast.api.ForecastResult (None: no forecast run)
    snapshot: StockSnapshot
    restock: pd.DataFrame | None = None
    locations: pd.DataFrame | None = None
    phases: pd.DataFrame | None = None
    pricing: pd.DataFrame | None = None
    ads: pd.DataFrame | None = None
    risk: dict = field(default_factory=dict)   # risk, account_health, alerts, feed, returns, new_products (, model)
    risk_notes: list = field(default_factory=list)
    stages: dict = field(default_factory=dict)  # stage -> {"seconds", "cpu_seconds", "peak_rss_mb"}

    @property
    def missing_days(self) -> int:
        """Days of data missing before as-of (the last sales day is this many days before as-of)."""
        return self.snapshot.missing_days

    def data_note(self) -> str:
        """One sentence on how far the data reaches (said by the weekly report and the CLI)."""
        last = self.snapshot.last_observed
        if last is None or pd.isna(last):
            return "no sales data on or before the as-of date"
        if self.missing_days == 0:
            return f"data through {last:%Y-%m-%d} (the as-of date)"
        return (f"data ends {last:%Y-%m-%d}: {self.missing_days} day(s) missing before as-of "
                f"{self.as_of:%Y-%m-%d}; no sales are assumed for them")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def stage(name: str, into: dict):
    """Time one stage (wall and CPU seconds) and note the process's peak memory after it; logged at INFO."""
    t0, c0 = time.perf_counter(), time.process_time()
    yield
    into[name] = {"seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(time.process_time() - c0, 2),
                  "peak_rss_mb": peak_rss_mb()}
    log.info("stage %s: %.1f s (cpu %.1f s), peak RSS %.0f MB", name, into[name]["seconds"],
             into[name]["cpu_seconds"], into[name]["peak_rss_mb"])


def progress(items, desc: str):
    """A progress bar over ``items`` on a terminal; silent when stderr is not a TTY (cron, papermill, tests)."""
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, disable=not sys.stderr.isatty(), leave=False)


@dataclass
class Pipeline:
    """The steps' settings: the policies (sklearn-style, cloneable) and the forecast's horizon and levels."""

    restock: RestockPolicy = field(default_factory=RestockPolicy)
    pricing: PricingPolicy = field(default_factory=PricingPolicy)
    ads: AdBudgetPolicy = field(default_factory=AdBudgetPolicy)
    locations: LocationPolicy = field(default_factory=LocationPolicy)
    horizon_days: int = FORECAST_HORIZON_DAYS
    levels: tuple = FORECAST_LEVELS

    def forecast(self, ds, as_of, overrides=None):
        """Demand history (ends at the last observed day) and daily forecasts per SKU."""
        from workbench.forecast.api import forecast_frame
        from workbench.forecast.history import demand_history

        history = demand_history(ds.tables if hasattr(ds, "tables") else ds, pd.Timestamp(as_of))
        return forecast_frame(history, horizon=self.horizon_days, freq="D", levels=list(self.levels),
                              events=ds.get("events"), overrides=overrides)

    def run(self, ds, as_of, *, overrides=None, forecast=None, steps=STEPS,
            include_model: bool = False) -> PipelineResult:
        """Run ``steps`` (a subset of :data:`STEPS`, in that order) for a loaded dataset.

        ``forecast``: a ForecastResult to reuse (else one is made; ``overrides`` is the analyst
        overrides file or dict). The snapshot is built once and every step reads it.
        """
        as_of = pd.Timestamp(as_of).normalize()
        unknown = set(steps) - set(STEPS)
        if unknown:
            raise ValueError(f"unknown pipeline step(s) {sorted(unknown)}; choose from {STEPS}")
        stages: dict = {}
        with stage("forecast", stages):
            fc = forecast if forecast is not None else self.forecast(ds, as_of, overrides)
        with stage("snapshot", stages):
            snap = build_snapshot(ds, as_of, forecast=fc.forecast, history=fc.history)
        res = PipelineResult(ds=ds, as_of=as_of, forecast=fc, snapshot=snap, stages=stages)
        if snap.missing_days:
            log.warning(res.data_note())
        if "restock" in steps or "risk" in steps:
            with stage("restock", stages):
                res.restock = self.restock.recommend(snap)
                res.locations = self.locations.recommend(snap, res.restock)
        if "pricing" in steps or "ads" in steps:
            with stage("pricing", stages):
                res.phases = self.pricing.phase.recommend(snap)
                if "pricing" in steps:
                    res.pricing = self.pricing.recommend(snap, phases=res.phases)
        if "ads" in steps and ds.get("ads") is not None:
            with stage("ads", stages):
                res.ads = self.ads.recommend(snap, phases=res.phases)
        if "risk" in steps:
            from workbench.risk.run import _compute

            with stage("risk", stages):
                frames, res.risk_notes = _compute(snap, res.restock)
            if not include_model:
                frames.pop("model")
            res.risk = frames
        return res


def run_pipeline(ds, as_of, *, overrides=None, forecast=None, steps=STEPS, include_model: bool = False,
                 **policies) -> PipelineResult:
    """``Pipeline(**policies).run(ds, as_of, ...)``: the entry point the CLI, weekly run and notebooks use."""
    return Pipeline(**policies).run(ds, as_of, overrides=overrides, forecast=forecast, steps=steps,
                                    include_model=include_model)

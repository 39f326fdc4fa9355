"""The one path through the workbench: load → history → forecast → stock snapshot → policies → risk.

:func:`run_pipeline` (or :class:`Pipeline` for custom policies) runs the steps once for a loaded
dataset and an as-of date and returns every result in a :class:`PipelineResult`. The CLI commands
(`restock`, `pricing`, `ads`, `risk`), the weekly run (:func:`workbench.report.weekly.compute_weekly`),
the what-if engine (:func:`workbench.scenarios.run.prepare`) and the notebooks all call it; nothing
else chains these steps. Overrides (the analyst's forecast overrides) are passed in by the caller;
the entry points read the default location once from :func:`workbench.config.default_overrides`.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import os
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
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
# SKUs forecast in one call: the candidates' backtest frames grow with SKUs x days x models. At 2,500 the
# forecast stage peaked at 4.3 GB on 10,000 SKUs x 2 years, over the 4 GB target (issue 12, item 8;
# benchmarks/results/weekly_speed_10000.md); smaller chunks hold less at once.
FORECAST_CHUNK_SKUS = 1250
# statsforecast worker processes for the candidate models: one, in this process. The candidates cost well
# under a millisecond per series; a process pool (forking a process that holds the whole dataset, pickling
# each chunk to it) cost 2-3x their CPU and more wall time on 2 cores (measured on 1,250 SKUs x 2 years).
FORECAST_JOBS = 1


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


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (statsforecast's worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def release_freed_memory() -> None:
    """Hand the memory the stage freed back to the system (glibc's ``malloc_trim``; nothing elsewhere).

    A stage's temporaries of the ~8 M sales rows (10,000 SKUs) are freed when it ends, but glibc keeps
    freed heap pages mapped, and the next stage's large arrays are new mappings beside them: the process's
    resident memory then grows stage after stage (measured at 2,000 SKUs: 100-250 MB a stage returned by
    a trim). Issue 12, item 8 (peak RSS <= 4 GB at 10,000 SKUs). It changes no value; it costs milliseconds.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        pass


@contextmanager
def stage(name: str, into: dict):
    """Time one stage (wall and CPU seconds, the 1-minute load average at its end) and note the process's
    peak memory after it; logged at INFO. The stage's garbage is collected before the next one starts."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    yield
    gc.collect()
    release_freed_memory()
    into[name] = {"seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(cpu_seconds() - c0, 2),
                  "peak_rss_mb": peak_rss_mb(), "load_avg": round(os.getloadavg()[0], 1)}
    log.info("stage %s: %.1f s (cpu %.1f s), peak RSS %.0f MB, load average %.1f", name, into[name]["seconds"],
             into[name]["cpu_seconds"], into[name]["peak_rss_mb"], into[name]["load_avg"])


def progress(items, desc: str, total: int | None = None):
    """A progress bar over ``items`` on a terminal; silent when stderr is not a TTY (cron, papermill, tests)."""
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, disable=not sys.stderr.isatty(), leave=False)


@dataclass
class Pipeline:
    """The steps' settings: the policies (sklearn-style, cloneable) and the forecast's horizon and levels."""

    restock: RestockPolicy = field(default_factory=RestockPolicy)
    pricing: PricingPolicy = field(default_factory=PricingPolicy)
    ads: AdBudgetPolicy = field(default_factory=AdBudgetPolicy)
    locations: LocationPolicy = field(default_factory=LocationPolicy)
    horizon_days: int = FORECAST_HORIZON_DAYS
    levels: tuple = FORECAST_LEVELS
    chunk_skus: int = FORECAST_CHUNK_SKUS
    seed: int = 0  # the global model's row sample and the SKU chunks' order

    def forecast(self, ds, as_of, overrides=None):
        """Demand history (ends at the last observed day) and daily forecasts per SKU.

        Up to ``chunk_skus`` SKUs are forecast in one call; a larger catalog is forecast in near-equal
        chunks of SKUs in a seeded random order (a progress bar on a terminal), each a full forecast run
        (class pooling, ensembles, guard, intervals) over a thousand series or more, so that the backtest
        frames of every candidate model never exist for the whole catalog at once. The global model is
        fitted once per cutoff, on the first chunk (a random sample of the catalog), and applied to the
        other chunks (:class:`workbench.forecast.chunks.SharedGlobalModel`). Each chunk's backtest errors
        of its chosen models are kept (``ForecastResult.errors``) for the restock's lead-time spread.
        """
        from workbench.forecast.chunks import SharedGlobalModel, sku_chunks
        from workbench.forecast.errors import backtest_errors
        from workbench.forecast.gbm import GlobalGBM
        from workbench.forecast.history import demand_history

        history = demand_history(ds.tables if hasattr(ds, "tables") else ds, pd.Timestamp(as_of))
        size = max(int(self.chunk_skus), 1)
        n_chunks = -(-history["unique_id"].nunique() // size)
        if n_chunks <= 1:
            return self._forecast(history, ds, overrides)
        shared = SharedGlobalModel(GlobalGBM("D", self.horizon_days, seed=self.seed, events=ds.get("events")))
        parts, c0 = [], cpu_seconds()
        chunks = sku_chunks(history, size, seed=self.seed, balanced=True)
        for i, chunk in enumerate(progress(chunks, "forecast (SKU chunks)", total=n_chunks)):
            part = self._forecast(chunk, ds, overrides, global_model=shared)
            del chunk
            part.errors = backtest_errors(part)  # what lead_time_errors needs of the backtest
            # every candidate's future and backtest predictions, and the ensembles' weights: only the tuning
            # notebook reads them, per SKU (combine_forecasts does not carry them); not kept chunk after chunk
            part.candidates = part.cv = part.weights = None
            parts.append(part)
            release_freed_memory()  # the chunk's backtest frames, before the next chunk's
            log.info("forecast chunk %d/%d: %d SKUs, cpu %.1f s, peak RSS %.0f MB", i + 1, n_chunks,
                     part.choices["unique_id"].nunique(), cpu_seconds() - c0, peak_rss_mb())
            c0 = cpu_seconds()
        del history, chunks
        return combine_forecasts(parts)

    def _forecast(self, history: pd.DataFrame, ds, overrides, global_model=None):
        from workbench.forecast.api import forecast_frame
        from workbench.forecast.history import promotion_regressors

        # issue 15: known future promotions (optional promotions table) are regressors of the global
        # model; events reach it through ``events``. Without the table nothing changes.
        history, future = promotion_regressors(history, ds.get("promotions"), self.horizon_days)
        return forecast_frame(history, horizon=self.horizon_days, freq="D", levels=list(self.levels),
                              events=ds.get("events"), overrides=overrides, future=future, seed=self.seed,
                              global_model=global_model, n_jobs=FORECAST_JOBS)

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
        release_freed_memory()  # what loading the dataset freed (its raw and checked copies of each table)
        with stage("forecast", stages):
            fc = forecast if forecast is not None else self.forecast(ds, as_of, overrides)
        with stage("snapshot", stages):
            snap = build_snapshot(ds, as_of, forecast=fc.forecast, history=fc.history)
        res = PipelineResult(ds=ds, as_of=as_of, forecast=fc, snapshot=snap, stages=stages)
        if snap.missing_days:
            log.warning(res.data_note())
        if "restock" in steps or "risk" in steps:
            with stage("restock", stages):
                from workbench.forecast.errors import lead_time_errors  # the lead-time demand spread
                res.restock = self.restock.recommend(snap, forecast_errors=lead_time_errors(fc))
                res.locations = self.locations.recommend(snap, res.restock)
        if "pricing" in steps or "ads" in steps:
            with stage("pricing", stages):
                res.phases = self.pricing.phase.recommend(snap, restock=res.restock)  # an air bridge is a replenishment
                if "pricing" in steps:
                    res.pricing = self.pricing.recommend(snap, phases=res.phases)
        if "ads" in steps and ds.get("ads") is not None:
            with stage("ads", stages):
                res.ads = self.ads.recommend(snap, phases=res.phases)
        if "risk" in steps:
            from workbench.risk.run import _compute

            with stage("risk", stages):
                frames, res.risk_notes = _compute(snap, res.restock, include_model=include_model)
            res.risk = frames
        return res


def combine_forecasts(parts: list):
    """One ForecastResult from the results of SKU chunks: frames concatenated and ordered by SKU as one
    call orders them, the chosen models' backtest errors concatenated, ensembles' members merged, stage
    timings summed."""
    from workbench.forecast.api import ForecastResult

    frames = {}
    for name in ("forecast", "backtest", "classification", "lost_units", "choices", "history", "errors"):
        got = [getattr(p, name) for p in parts if getattr(p, name) is not None]
        for p in parts:  # one table at a time exists twice, not every table
            setattr(p, name, None)
        whole = pd.concat(got, ignore_index=True) if got else None
        del got  # the chunks' copies go before the sorted copy is made
        frames[name] = _by_sku(whole) if whole is not None else None
        del whole
    ensembles: dict = {}
    timings: dict = {}
    for p in parts:
        for k, members in p.ensembles.items():
            ensembles[k] = list(dict.fromkeys([*ensembles.get(k, []), *members]))
        for k, v in p.timings.items():
            timings[k] = timings.get(k, 0.0) + v
    return ForecastResult(**frames, ensembles=ensembles, candidates=None, timings=timings)


def _by_sku(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the chunks (each ordered by SKU, SKUs in random order) ordered by SKU, each SKU's rows in
    their order (a stable sort on the SKU alone)."""
    codes, uniques = pd.factorize(frame["unique_id"], sort=True)
    order = np.argsort(codes, kind="stable")
    return frame.take(order).reset_index(drop=True)


def run_pipeline(ds, as_of, *, overrides=None, forecast=None, steps=STEPS, include_model: bool = False,
                 **policies) -> PipelineResult:
    """``Pipeline(**policies).run(ds, as_of, ...)``: the entry point the CLI, weekly run and notebooks use."""
    return Pipeline(**policies).run(ds, as_of, overrides=overrides, forecast=forecast, steps=steps,
                                    include_model=include_model)

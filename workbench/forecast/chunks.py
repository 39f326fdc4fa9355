"""Forecast a catalog too large for one call in SKU chunks, with flat memory.

:func:`forecast_chunks` takes an iterable of chunk frames (each a set of whole series: read from a
partitioned Parquet dataset, a database cursor, or generated), runs the full method on each
(:func:`.api.forecast_frame`: censored demand, classes, backtest, combination, per-step intervals)
and writes each chunk's forecast and choices as Parquet before reading the next, so peak memory
is that of one chunk whatever the catalog size.

The global model is fitted once per cutoff (each backtest window and the future) on the **first**
chunk's series and applied to every later chunk through mlforecast's ``new_df`` (the same trees,
each series' own lags and scale): :class:`SharedGlobalModel`. Its fitting cost is then paid once
instead of once per chunk. Make the first chunk a random sample of SKUs (:func:`sku_chunks` shuffles
with a seed) so that the model learns from the catalog's mix, not from one category. Everything
else (classes, candidate selection per class, combination weights, interval calibration) is
decided within each chunk, which at a few thousand SKUs per chunk has ample series per class.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from workbench.forecast.gbm import GlobalGBM
from workbench.io import write_frame


class SharedGlobalModel:
    """A :class:`GlobalGBM` fitted on the first panel it sees for each training end date and applied to
    every later panel with the same end date (mlforecast ``predict(new_df=...)``). A panel with a new
    end date gets its own fit, so a later chunk never uses a model trained past its own cutoff.
    ``fits`` counts the fits, ``applied`` the panels forecast with an earlier fit."""

    alias = GlobalGBM.alias

    def __init__(self, model: GlobalGBM):
        self.model = model
        self._fitted: dict = {}
        self.fits = 0
        self.applied = 0

    def forecast(self, panel: pd.DataFrame, future: pd.DataFrame | None = None, exog=()) -> pd.DataFrame:
        frame = self.model.training_frame(panel, exog, future)
        key = (pd.Timestamp(frame.data["ds"].max()), tuple(frame.exog))
        if key in self._fitted:
            self.applied += 1
            return self.model.predict_frame(self._fitted[key], frame, new=True)
        fcst = self.model.fit_frame(frame.data)
        self._fitted[key] = fcst
        self.fits += 1
        return self.model.predict_frame(fcst, frame)


class PeriodicGlobalModel:
    """A :class:`GlobalGBM` refit at most every ``refit_every`` periods of training end date; a panel ending
    less than that after the last stored fit is forecast with that fit (mlforecast ``predict(new_df=...)``:
    the same trees, each series' own newest lags and scale). For a replay that forecasts every week:
    refit monthly, predict weekly. A panel ending before the stored fit (a backtest window) gets its own
    fit and is not stored, so a fit never sees data after a panel's end. ``fits`` and ``applied`` count."""

    alias = GlobalGBM.alias

    def __init__(self, model: GlobalGBM, refit_every: int):
        if refit_every < 1:
            raise ValueError(f"refit_every must be >= 1 period, got {refit_every}")
        self.model, self.refit_every = model, int(refit_every)
        self._fit = None  # (training end, exog columns, fitted MLForecast)
        self.fits = 0
        self.applied = 0

    def forecast(self, panel: pd.DataFrame, future: pd.DataFrame | None = None, exog=()) -> pd.DataFrame:
        frame = self.model.training_frame(panel, exog, future)
        end, cols = pd.Timestamp(frame.data["ds"].max()), tuple(frame.exog)
        periods = ((end - self._fit[0]) / pd.Timedelta(days=1 if self.model.freq == "D" else 7)
                   if self._fit is not None else None)
        if periods is not None and 0 <= periods < self.refit_every and cols == self._fit[1]:
            self.applied += 1
            return self.model.predict_frame(self._fit[2], frame, new=True)
        fcst = self.model.fit_frame(frame.data)
        self.fits += 1
        if periods is None or periods >= 0:
            self._fit = (end, cols, fcst)
        return self.model.predict_frame(fcst, frame)


def sku_chunks(df: pd.DataFrame, chunk_skus: int, seed: int = 0, balanced: bool = False) -> Iterator[pd.DataFrame]:
    """Whole series of ``df`` in chunks of at most ``chunk_skus`` SKUs, SKUs in a seeded random order
    (the first chunk then is a random sample: it trains the shared global model). ``balanced``: as few
    chunks as that allows, of near-equal size (10,001 SKUs in chunks of 1,250 are nine chunks of
    1,111-1,112, not eight full ones and one SKU alone), so every chunk has enough series per class."""
    if chunk_skus < 1:
        raise ValueError(f"chunk_skus must be >= 1, got {chunk_skus}")
    codes, uniques = pd.factorize(df["unique_id"].astype(str))
    perm = np.random.default_rng(seed).permutation(len(uniques))
    n = len(uniques)
    n_chunks = -(-n // chunk_skus)
    chunk_of = (perm * n_chunks // max(n, 1) if balanced else perm // chunk_skus)[codes]
    for c in range(int(chunk_of.max()) + 1 if len(df) else 0):
        yield df[chunk_of == c]


@dataclass
class ChunkReport:
    """One chunk's numbers: series, forecast rows, seconds, the files written, stage timings."""

    index: int
    n_series: int
    rows: int
    seconds: float
    forecast_path: Path
    choices_path: Path
    timings: dict


def forecast_chunks(chunks: Iterable[pd.DataFrame], out_dir: Path | str, horizon: int, freq: str,
                    levels=(80, 95), seed: int = 0, events: pd.DataFrame | None = None,
                    use_global_model: bool = True, **kwargs) -> Iterator[ChunkReport]:
    """Forecast each chunk (whole series, long ``unique_id, ds, y[, in_stock]``) with the full method and
    write ``forecast_<i>.parquet`` and ``choices_<i>.parquet`` into ``out_dir`` (atomically) as it goes;
    yields a :class:`ChunkReport` per chunk. ``kwargs`` go to :func:`.api.forecast_frame` (e.g.
    ``n_windows``, ``engine``). Nothing of a chunk is kept after its files are written."""
    from workbench.forecast.api import forecast_frame

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shared = SharedGlobalModel(GlobalGBM(freq, horizon, seed=seed, events=events)) if use_global_model else None
    for i, chunk in enumerate(chunks):
        t0 = time.perf_counter()
        res = forecast_frame(chunk, horizon, freq, levels, seed=seed, events=events,
                             use_global_model=use_global_model, global_model=shared, **kwargs)
        fc_path = write_frame(res.forecast, out / f"forecast_{i:05d}.parquet")
        ch_path = write_frame(res.choices, out / f"choices_{i:05d}.parquet")
        report = ChunkReport(index=i, n_series=int(res.choices["unique_id"].nunique()), rows=len(res.forecast),
                             seconds=time.perf_counter() - t0, forecast_path=fc_path, choices_path=ch_path,
                             timings=dict(res.timings))
        del res
        yield report

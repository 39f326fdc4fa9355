"""The one module that runs statsforecast models over many series, locally or on a distributed engine
(and picks the global model's class per engine: :func:`global_model_class`).

``local`` runs statsforecast on all cores (``n_jobs=-1``). ``dask``, ``spark`` and ``ray`` hand the same
``StatsForecast`` call a distributed DataFrame; statsforecast's Fugue backend then fits each series
where its partition lives (statsforecast/distributed/fugue.py). The workbench does not distribute
anything by itself.
"""
from __future__ import annotations

import warnings

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import HistoricAverage

from workbench.errors import WorkbenchError

ENGINES = ("local", "dask", "spark", "ray")


def _to_engine(df: pd.DataFrame, engine: str, npartitions: int | None):
    if engine == "dask":
        try:
            import dask.dataframe as dd
        except ImportError as e:  # pragma: no cover - depends on the install
            raise WorkbenchError("engine 'dask' needs dask: pip install 'dask[dataframe,distributed]' 'fugue[dask]'") from e
        return dd.from_pandas(df, npartitions=npartitions or max(1, min(64, len(df) // 200_000 + 2)))
    if engine == "spark":
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            raise WorkbenchError("engine 'spark' needs pyspark: pip install 'fugue[spark]'") from e
        spark = SparkSession.builder.getOrCreate()
        return spark.createDataFrame(df)
    if engine == "ray":
        try:
            import ray.data
        except ImportError as e:
            raise WorkbenchError("engine 'ray' needs ray: pip install 'fugue[ray]'") from e
        return ray.data.from_pandas(df)
    raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")


def _to_pandas(res) -> pd.DataFrame:
    if isinstance(res, pd.DataFrame):
        return res
    if hasattr(res, "compute"):  # dask
        return res.compute()
    if hasattr(res, "toPandas"):  # spark
        return res.toPandas()
    if hasattr(res, "to_pandas"):  # ray dataset
        return res.to_pandas()
    raise TypeError(f"unexpected result type {type(res)!r}")


def run_models(df: pd.DataFrame, models: list, freq_alias: str, horizon: int, n_windows: int,
               engine: str = "local", n_jobs: int = -1, npartitions: int | None = None
               ) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Rolling-origin backtest (``n_windows`` windows, step = horizon) and the future forecast.

    Returns (cv: ``unique_id, ds, cutoff, y, <alias>...`` or None when ``n_windows == 0``,
    forecast: ``unique_id, ds, <alias>...``). A model that fails on a series falls back to
    ``HistoricAverage`` for that series (statsforecast's ``fallback_model``).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    data = df[["unique_id", "ds", "y"]].copy()
    data["unique_id"] = data["unique_id"].astype(str)
    data["y"] = data["y"].astype(float)
    sf = StatsForecast(models=models, freq=freq_alias, n_jobs=n_jobs if engine == "local" else 1,
                       fallback_model=HistoricAverage())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if engine == "local":
            cv = sf.cross_validation(h=horizon, df=data, n_windows=n_windows, step_size=horizon) if n_windows else None
            fc = sf.forecast(h=horizon, df=data)
        else:
            dist = _to_engine(data, engine, npartitions)
            cv = (_to_pandas(sf.cross_validation(h=horizon, df=dist, n_windows=n_windows, step_size=horizon))
                  if n_windows else None)
            fc = _to_pandas(sf.forecast(h=horizon, df=dist))
    for frame in (cv, fc):
        if frame is not None:
            frame["unique_id"] = frame["unique_id"].astype(str)
            frame["ds"] = pd.to_datetime(frame["ds"])
            if "cutoff" in frame:
                frame["cutoff"] = pd.to_datetime(frame["cutoff"])
            for c in frame.columns:  # distributed engines hand back nullable/arrow dtypes
                if c not in ("unique_id", "ds", "cutoff"):
                    frame[c] = frame[c].astype("float64")
    sort = ["unique_id", "ds"]
    if cv is not None:
        cv = cv.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)
    return cv, fc.sort_values(sort).reset_index(drop=True)


def global_model_class(engine: str):
    """The global model's class for ``engine``: mlforecast's distributed fit on the Dask cluster for
    'dask' (:class:`.distributed.DaskGlobalGBM`); in-process :class:`.gbm.GlobalGBM` otherwise (Spark and
    Ray distribute the statistical candidates only)."""
    if engine == "dask":
        from workbench.forecast.distributed import DaskGlobalGBM

        return DaskGlobalGBM
    from workbench.forecast.gbm import GlobalGBM

    return GlobalGBM

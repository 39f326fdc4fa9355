"""A global LightGBM model across all series, built with mlforecast: lags, rolling statistics,
calendar and retail events, and known-in-advance regressors (promotions, planned prices, events).

One LightGBM regressor learns from every series at once (the "global model" idea of Montero-Manso &
Hyndman 2021, IJF 37(4); the M5 winners' setups, Makridakis et al. 2022, IJF 38(4)). mlforecast
computes the lag and rolling features and forecasts **recursively**: the lags start at one week
(7 days / 1 week), so from step 8 on a daily forecast feeds on its own earlier predictions.

Target (per-series scaling, then a count-appropriate objective):

    s_i    = mean(y_i over its last 182 days / 26 weeks of training) + 0.1
    target = log1p(y / s_i), LightGBM L2           (objective="log1p", the default)
           or y / s_i, LightGBM Tweedie(1.2)        (objective="tweedie")
    yhat   = s_i · expm1(prediction)  or  s_i · prediction

Measured on the held-out retail set named in issue 15 the log1p form beat Tweedie and Poisson; our
own benchmark (``benchmarks/forecast_pasta.py``) records both.

Features: target lags 7, 14, 21, 28 and 364 days (1, 2, 3, 4, 52 weeks); rolling means of the last
7 and 28 days and the same-weekday mean of 4 weeks (lag 7); the rolling mean and standard deviation
of 28 days at lag 28; the calendar and built-in retail events of :func:`calendar.event_features`
(plus the dataset's own events table); and every exogenous column of the input (``exog``), whose
future values the caller passes. Censored (stockout / closed) periods keep their imputed value for
the lag features but carry weight 0, so they are never training targets.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.forecast._panel import freq_alias, group_bounds, window_stats
from workbench.forecast.calendar import event_features

ALIAS = "GlobalGBM"
OBJECTIVES = ("log1p", "tweedie")
SCALE_WINDOW = {"D": 182, "W": 26}
LAGS = {"D": [7, 14, 21, 28, 364], "W": [1, 2, 3, 4, 52]}
# Periods of each series' history the recursive forecast reads: the longest lag (364 days / 52 weeks) plus
# the widest lagged window (28-day mean and std at lag 28: 56 days; 13-week mean at lag 1). A model applied
# to new series (mlforecast ``new_df``) is handed only this tail: the same forecast, less to preprocess.
PREDICT_HISTORY = {"D": 364 + 56, "W": 52 + 13}


def _lag_transforms(freq: str) -> dict:
    from mlforecast.lag_transforms import RollingMean, RollingStd, SeasonalRollingMean

    if freq == "D":
        return {7: [RollingMean(7), RollingMean(28), SeasonalRollingMean(season_length=7, window_size=4)],
                28: [RollingMean(28), RollingStd(28)]}
    return {1: [RollingMean(4), RollingMean(13)], 52: [RollingMean(3)]}


@dataclass
class GBMFrame:
    """:meth:`GlobalGBM.training_frame`'s output: the scaled training rows (``data``), each series' scale,
    the forecast dates' rows (``X_df``: known regressors, their timing features, calendar) and the
    regressor columns present."""

    data: pd.DataFrame
    scale: pd.Series
    X_df: pd.DataFrame
    exog: list


class GlobalGBM:
    """Global recursive LightGBM over a panel; ``forecast(panel, future)`` returns the next ``horizon`` periods.

    Parameters: ``freq`` ('D'|'W'), ``horizon`` (>= 1), ``objective`` ('log1p' or 'tweedie'),
    ``max_rows`` training rows per fit (a seeded sample favouring the last year), ``n_estimators``,
    ``learning_rate``, ``num_leaves``, ``min_child_samples``, ``seed``, ``n_threads`` (default 1:
    on a busy shared machine OpenMP spin-waiting made more threads slower), ``events`` (dataset
    events table), ``prime_days`` ({year: [dates]}).
    """

    alias = ALIAS

    def __init__(self, freq: str, horizon: int, objective: str = "log1p", max_rows: int = 300_000,
                 n_estimators: int = 300, learning_rate: float = 0.05, num_leaves: int = 31,
                 min_child_samples: int = 40, seed: int = 0, events: pd.DataFrame | None = None,
                 prime_days: dict | None = None, n_threads: int = 1, exog_derived: bool = True):
        self.freq = freq
        self.exog_derived = exog_derived
        self.horizon = horizon
        self.objective = objective
        self.max_rows = max_rows
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed
        self.events = events
        self.prime_days = prime_days
        self.n_threads = n_threads

    def _check(self):
        if self.freq not in ("D", "W"):
            raise ValueError(f"freq must be one of 'D', 'W', got {self.freq!r}")
        if not isinstance(self.horizon, (int, np.integer)) or self.horizon < 1:
            raise ValueError(f"horizon must be an integer >= 1, got {self.horizon!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.max_rows < 100:
            raise ValueError(f"max_rows must be >= 100, got {self.max_rows}")

    def _regressor(self):
        import lightgbm as lgb

        extra = {"objective": "tweedie", "tweedie_variance_power": 1.2} if self.objective == "tweedie" else {"objective": "l2"}
        return lgb.LGBMRegressor(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                                 num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
                                 subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
                                 random_state=self.seed, n_jobs=self.n_threads, verbosity=-1, **extra)

    def _calendar(self, ds: pd.Series) -> pd.DataFrame:
        udates = pd.Series(pd.to_datetime(ds.unique())).sort_values().reset_index(drop=True)
        # the same dates recur (each cutoff of every SKU chunk, :class:`.chunks.SharedGlobalModel`): built once
        memo = self.__dict__.setdefault("_calendars", {})
        key = udates.to_numpy().tobytes()
        if key not in memo:
            cal = event_features(udates, self.freq, self.events, self.prime_days).astype(np.float32)
            cal.insert(0, "ds", udates.to_numpy())
            memo[key] = cal
        return memo[key]

    def _future_dates(self, panel: pd.DataFrame) -> pd.DataFrame:
        st = pd.Timedelta(days=1 if self.freq == "D" else 7)
        last = panel.groupby("unique_id", sort=True)["ds"].max()
        h = self.horizon
        return pd.DataFrame({"unique_id": np.repeat(last.index.to_numpy(), h),
                             "ds": np.repeat(last.to_numpy(), h) + np.tile(np.arange(1, h + 1), len(last)) * st})

    def forecast(self, panel: pd.DataFrame, future: pd.DataFrame | None = None, exog: list[str] | tuple = ()
                 ) -> pd.DataFrame:
        """Fit on ``panel`` (``unique_id, ds, y, censored`` and the ``exog`` columns, on a regular grid)
        and forecast ``horizon`` periods. ``future``: ``unique_id, ds`` and the ``exog`` columns for the
        forecast dates (missing values read as 0). Returns ``unique_id, ds, GlobalGBM``."""
        frame = self.training_frame(panel, exog, future)
        return self.predict_frame(self.fit_frame(frame.data), frame)

    def training_frame(self, panel: pd.DataFrame, exog=(), future: pd.DataFrame | None = None) -> "GBMFrame":
        """The scaled, weighted training frame and the forecast dates' rows, both with the calendar
        features and the regressors' timing features (:func:`with_derived`, computed once over history
        and future together, since they look across the forecast origin): a :class:`GBMFrame`."""
        self._check()
        exog = [c for c in exog if c in panel.columns]
        data = panel[["unique_id", "ds", "y", "censored", *exog]].sort_values(["unique_id", "ds"])
        data = data.reset_index(drop=True)
        data["y"] = data["y"].astype(float)
        recent = data.groupby("unique_id", sort=False).tail(SCALE_WINDOW[self.freq])
        scale = recent.groupby("unique_id", sort=False)["y"].mean() + 0.1
        s = data["unique_id"].map(scale).to_numpy()
        data["y"] = data["y"] / s
        data["w"] = (~data.pop("censored").astype(bool)).astype(float)
        for c in exog:
            data[c] = data[c].fillna(0.0).astype(float)
        X_df = self._known_future(data, future, exog)
        if self.exog_derived and exog:
            data, X_df = with_derived(data, X_df, exog, self.freq)
        cal = self._calendar(pd.concat([data["ds"], X_df["ds"]]))
        data, X_df = _with_calendar(data, cal), _with_calendar(X_df, cal).assign(w=1.0)
        return GBMFrame(data=data, scale=scale, X_df=X_df, exog=exog)

    def mlforecast_kwargs(self, data: pd.DataFrame) -> dict:
        """The features and target transform, shared by the local and the distributed (Dask) fit."""
        from mlforecast.target_transforms import GlobalSklearnTransformer
        from sklearn.preprocessing import FunctionTransformer

        transforms = ([GlobalSklearnTransformer(FunctionTransformer(np.log1p, np.expm1))]
                      if self.objective == "log1p" else [])
        return dict(freq=freq_alias(self.freq, data["ds"]), lags=LAGS[self.freq],
                    lag_transforms=_lag_transforms(self.freq), target_transforms=transforms)

    def fit_frame(self, data: pd.DataFrame):
        """Fit mlforecast + LightGBM on a :meth:`training_frame` (a sample of its rows, see ``_sample``)."""
        from mlforecast import MLForecast

        fcst = MLForecast(models={ALIAS: self._regressor()}, **self.mlforecast_kwargs(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prep = fcst.preprocess(data, static_features=[], dropna=False, weight_col="w")
            feats = list(fcst.ts.features_order_)
            rows = self._sample(prep)
            # mlforecast passes the weight column as LightGBM's sample_weight
            fcst.fit_models(prep.loc[rows, ["w", *feats]], prep.loc[rows, "y"].to_numpy())
        return fcst

    def _known_future(self, data: pd.DataFrame, future: pd.DataFrame | None, exog) -> pd.DataFrame:
        """``unique_id, ds`` of the forecast dates with the known regressors from ``future`` (missing: 0)."""
        X_df = self._future_dates(data)
        if future is not None and exog:
            X_df = X_df.merge(future[["unique_id", "ds", *[c for c in exog if c in future.columns]]],
                              on=["unique_id", "ds"], how="left")
        for c in exog:
            X_df[c] = X_df[c].fillna(0.0).astype(float) if c in X_df else 0.0
        return X_df

    def predict_frame(self, fcst, frame: "GBMFrame", new: bool = False) -> pd.DataFrame:
        """Recursive forecast of ``frame``'s series with the fitted ``fcst``; ``new=True`` when they are
        series ``fcst`` was not fitted on (mlforecast's ``new_df``: the same trees, their own lags)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new_df = frame.data.groupby("unique_id", sort=False).tail(PREDICT_HISTORY[self.freq]) if new else None
            pred = fcst.predict(self.horizon, X_df=frame.X_df, new_df=new_df)
        return self.unscale(pred, frame.scale)

    @staticmethod
    def unscale(pred: pd.DataFrame, scale: pd.Series) -> pd.DataFrame:
        pred["unique_id"] = pred["unique_id"].astype(str)
        pred[ALIAS] = np.maximum(pred[ALIAS].to_numpy(dtype=float), 0.0) * pred["unique_id"].map(scale).to_numpy()
        return pred[["unique_id", "ds", ALIAS]]

    def _sample(self, prep: pd.DataFrame) -> np.ndarray:
        """Training rows: those with weight > 0; when more than ``max_rows``, half uniform and half from
        the last year of each series (seeded)."""
        rows = prep.index[prep["w"].to_numpy() > 0].to_numpy()
        if len(rows) <= self.max_rows:
            return rows
        rng = np.random.default_rng(self.seed)
        last = prep.groupby("unique_id", sort=False)["ds"].transform("max")
        year = pd.Timedelta(days=364)
        recent = rows[(prep.loc[rows, "ds"] > last.loc[rows] - year).to_numpy()]
        half = self.max_rows // 2
        pick = np.r_[rng.choice(rows, half, replace=False), rng.choice(recent, min(half, len(recent)), replace=False)]
        return np.unique(pick)


def _with_calendar(frame: pd.DataFrame, cal: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the calendar's columns for its dates (every date is in ``cal``, sorted by ``ds``): a
    left merge on ``ds`` done by position."""
    pos = np.searchsorted(cal["ds"].to_numpy(), frame["ds"].to_numpy())
    feats = cal.drop(columns="ds").take(pos).reset_index(drop=True)
    return pd.concat([frame.reset_index(drop=True), feats], axis=1)


def with_derived(data: pd.DataFrame, X_df: pd.DataFrame, exog: list[str], freq: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add, for each known-in-advance column c, features of its timing around each date (computed on
    history and future together, so a forecast date sees the promotions planned around it):

        c_prev   = c one period earlier            (post-promotion dip)
        c_next   = c one period later              (shoppers waiting for an announced promotion)
        c_recent = sum of c over the previous 7 days / 1 week, excluding today (pantry loading)
        c_since  = periods since c was last non-zero, capped at 28 days / 8 weeks

    Beyond the forecast horizon c is unknown and read as 0. Returns (data, X_df) with the new columns.
    """
    cap, win = (28, 7) if freq == "D" else (8, 1)
    both = pd.concat([data.assign(_f=False), X_df.assign(_f=True)], ignore_index=True)
    both = both.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    ids = both["unique_id"].to_numpy()
    start, end = group_bounds(ids)
    pos = np.arange(len(both)) - start
    for c in exog:
        v = both[c].to_numpy(dtype=float)
        both[f"{c}_prev"] = window_stats(v, start, end, -1, -1)[0]
        both[f"{c}_next"] = window_stats(v, start, end, 1, 1)[0]
        both[f"{c}_recent"] = window_stats(v, start, end, -win, -1)[0]
        last_on = pd.Series(np.where(v != 0, pos, np.nan)).groupby(ids, sort=False).ffill()
        both[f"{c}_since"] = np.minimum(pos - last_on.fillna(-10 ** 6).to_numpy(), cap).astype(float)
    fut = both.pop("_f").to_numpy()
    return both[~fut].reset_index(drop=True), both[fut].drop(columns=["y", "w"], errors="ignore").reset_index(drop=True)

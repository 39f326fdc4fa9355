"""A global gradient-boosted model across all series: lags, last year, calendar and retail events.

One scikit-learn ``HistGradientBoostingRegressor`` learns from every series at once (the "global
model" idea of Montero-Manso & Hyndman 2021, "Principles and algorithms for forecasting groups of
time series", IJF 37(4); and the M5 winners' LightGBM setups, Makridakis et al. 2022, IJF 38(4)).
It is what lets the workbench see peaks that single-series models miss (Black Friday, Christmas).

Direct multi-horizon design: every feature of the row for period t uses history up to t-h only,
so one model serves all steps 1..h without recursion. The target is scale-free:

    scale(t) = mean(y[t-h-L+1 .. t-h]) + 1/L          (L = 91 days / 26 weeks; +1/L avoids 0)
    target   = y(t) / scale(t),  prediction = max(model(x) · scale(t), 0)

Features: y at lags h..h+K-1, the short recent level, last year's value around t (lag 364 days /
52 weeks) and last year's level growth, the share of non-zero periods, calendar fields, built-in
retail events at t and at t - 1 year, and the dataset's own events table (``calendar.event_features``).
Censored (stockout) periods are never training targets.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from workbench.forecast._panel import YEAR, group_bounds, lag, step, window_mean
from workbench.forecast.calendar import event_features

ALIAS = "GlobalGBM"
LONG = {"D": 91, "W": 26}
SHORT = {"D": 7, "W": 4}
NLAGS = {"D": 7, "W": 4}
YEAR_EVENTS = ("thanksgiving", "black_friday", "cyber_monday", "christmas_run_up", "christmas", "prime_day", "super_bowl")


class GlobalGBM:
    """Global direct model over a panel. ``backtest_forecast`` returns CV and future predictions.

    Parameters: ``freq`` ('D'|'W'), ``horizon`` (>= 1), ``max_rows`` training rows sampled per fit
    (seeded), ``max_iter``/``learning_rate``/``min_samples_leaf`` of the booster, ``seed``,
    ``n_threads`` OpenMP threads for the booster (default 1: on a busy shared machine OpenMP
    spin-waiting made 2 threads 10x slower than 1 in our measurements),
    ``events`` (dataset events table), ``prime_days`` ({year: [dates]}).
    """

    alias = ALIAS

    def __init__(self, freq: str, horizon: int, max_rows: int = 200_000, max_iter: int = 200,
                 learning_rate: float = 0.05, min_samples_leaf: int = 30, seed: int = 0,
                 events: pd.DataFrame | None = None, prime_days: dict | None = None, n_threads: int = 1):
        self.freq = freq
        self.horizon = horizon
        self.max_rows = max_rows
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed
        self.events = events
        self.prime_days = prime_days
        self.n_threads = n_threads

    def _check(self):
        if self.freq not in ("D", "W"):
            raise ValueError(f"freq must be one of 'D', 'W', got {self.freq!r}")
        if not isinstance(self.horizon, (int, np.integer)) or self.horizon < 1:
            raise ValueError(f"horizon must be an integer >= 1, got {self.horizon!r}")
        if self.max_rows < 100:
            raise ValueError(f"max_rows must be >= 100, got {self.max_rows}")

    def _extend(self, panel: pd.DataFrame) -> pd.DataFrame:
        """Panel plus ``horizon`` future rows per series, with ``rel`` = position relative to the last observation."""
        h, st = self.horizon, step(self.freq)
        last = panel.groupby("unique_id", sort=False)["ds"].max()
        fut = pd.DataFrame({
            "unique_id": np.repeat(last.index.to_numpy(), h),
            "ds": np.repeat(last.to_numpy(), h) + np.tile(np.arange(1, h + 1), len(last)) * st,
            "y": np.nan, "censored": False,
        })
        ext = pd.concat([panel[["unique_id", "ds", "y", "censored"]], fut], ignore_index=True)
        ext = ext.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        n = ext.groupby("unique_id", sort=False)["ds"].transform("size").to_numpy()
        idx = ext.groupby("unique_id", sort=False).cumcount().to_numpy()
        ext["rel"] = idx - (n - h - 1)
        return ext

    def _features(self, ext: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
        """Feature matrix (float32) for ``rows`` of ``ext`` only: window sums run over the whole
        panel as 1-D arrays, but only the rows a fit or a prediction needs are materialized."""
        f, h = self.freq, self.horizon
        y = ext["y"].to_numpy(dtype=float)
        start, end = group_bounds(ext["unique_id"].to_numpy())
        L, S, Y = LONG[f], SHORT[f], YEAR[f]
        scale = self._scale(y, start, end)[rows]
        X = {}

        def put(name, full):
            X[name] = full[rows].astype(np.float32)

        for k in range(h, h + NLAGS[f]):
            X[f"lag_{k}"] = (lag(y, start, k)[rows] / scale).astype(np.float32)
        X["level_short"] = (window_mean(y, start, end, -h - S + 1, -h)[rows] / scale).astype(np.float32)
        nz = np.where(np.isnan(y), np.nan, (y > 0).astype(float))
        put("nonzero_share", window_mean(nz, start, end, -h - L + 1, -h))
        if f == "D":
            k0 = int(np.ceil(h / 7) * 7)
            lags = np.vstack([lag(y, start, k0 + 7 * j)[rows] for j in range(4)])
            X["same_weekday"] = (np.nanmean(lags, axis=0) / scale).astype(np.float32)
        if Y >= h:
            w = 3 if f == "D" else 1
            X["last_year"] = (lag(y, start, Y)[rows] / scale).astype(np.float32)
            X["last_year_window"] = (window_mean(y, start, end, -Y - w, -Y + w)[rows] / scale).astype(np.float32)
            X["last_year_next"] = (window_mean(y, start, end, -Y + w + 1, -Y + w + S)[rows] / scale).astype(np.float32)
            ly_level = window_mean(y, start, end, -h - L + 1 - Y, -h - Y)[rows] + 1.0 / L
            X["growth"] = (scale / ly_level).astype(np.float32)
        # calendar and events: computed once per distinct date, then looked up
        ds = ext["ds"].to_numpy()[rows]
        udates, inv = np.unique(ds, return_inverse=True)
        cal = event_features(pd.Series(udates), f, self.events, self.prime_days)
        for c in cal.columns:
            X[c] = cal[c].to_numpy(dtype=np.float32)[inv]
        if Y >= h:
            back = pd.Timedelta(days=Y if f == "D" else 7 * Y)
            ly = event_features(pd.Series(udates) - back, f, None, self.prime_days)
            for c in YEAR_EVENTS:
                X[f"{c}_last_year"] = ly[c].to_numpy(dtype=np.float32)[inv]
        return pd.DataFrame(X)

    def _scale(self, y, start, end):
        L = LONG[self.freq]
        return window_mean(y, start, end, -self.horizon - L + 1, -self.horizon) + 1.0 / L

    def backtest_forecast(self, panel: pd.DataFrame, cutoffs_rel: list[int], n_jobs: int = -1) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Fit once per backtest cutoff and once on all history.

        ``panel``: ``unique_id, ds, y, censored`` on a regular grid. ``cutoffs_rel``: last training
        position relative to each series' last observation (e.g. [-3h, -2h, -h] as statsforecast's
        ``cross_validation`` with ``step_size = h``). Returns (cv: ``unique_id, ds, cutoff, GlobalGBM``,
        forecast: ``unique_id, ds, GlobalGBM``).
        """
        self._check()
        h = self.horizon
        ext = self._extend(panel)
        y = ext["y"].to_numpy(dtype=float)
        start, end = group_bounds(ext["unique_id"].to_numpy())
        scale = self._scale(y, start, end)
        target = np.clip(y / scale, 0, 50)
        rel = ext["rel"].to_numpy()
        trainable = ~np.isnan(target) & ~ext["censored"].to_numpy(dtype=bool) & ~np.isnan(scale)
        rng = np.random.default_rng(self.seed)
        plan = []
        for s in list(cutoffs_rel) + [0]:
            rows = np.flatnonzero(trainable & (rel <= s))
            if len(rows) > self.max_rows:
                # favour recent rows: half uniform, half from the last year before the cutoff
                recent = rows[rel[rows] > s - YEAR[self.freq]]
                rows = np.unique(np.r_[rng.choice(rows, self.max_rows // 2, replace=False),
                                       rng.choice(recent, min(len(recent), self.max_rows // 2), replace=False)])
            plan.append((s, rows, np.flatnonzero((rel > s) & (rel <= s + h))))
        need = np.unique(np.concatenate([np.r_[r, p] for _, r, p in plan]))
        X = self._features(ext, need)
        cv_parts = []
        fcst = None
        for s, rows, pred_rows in plan:
            if len(rows) < 20:
                pred = np.full(len(pred_rows), np.nan)
            else:
                model = HistGradientBoostingRegressor(
                    loss="squared_error", learning_rate=self.learning_rate, max_iter=self.max_iter,
                    max_leaf_nodes=31, min_samples_leaf=self.min_samples_leaf, l2_regularization=1.0,
                    early_stopping=False, random_state=self.seed)
                xt = X.iloc[np.searchsorted(need, rows)]
                keep = xt.columns[(xt.nunique(dropna=True) >= 2).to_numpy()]  # constant/empty columns carry nothing
                with threadpool_limits(self.n_threads):
                    model.fit(xt[keep], target[rows])
                    xp = X.iloc[np.searchsorted(need, pred_rows)][keep]
                    pred = np.maximum(model.predict(xp), 0.0) * scale[pred_rows]
            part = ext.iloc[pred_rows][["unique_id", "ds"]].copy()
            part[ALIAS] = pred
            if s == 0:
                fcst = part.reset_index(drop=True)
            else:
                cut = ext.loc[rel == s, ["unique_id", "ds"]].rename(columns={"ds": "cutoff"})
                cv_parts.append(part.merge(cut, on="unique_id", how="left"))
        cv = (pd.concat(cv_parts, ignore_index=True) if cv_parts
              else pd.DataFrame(columns=["unique_id", "ds", "cutoff", ALIAS]))
        return cv, fcst

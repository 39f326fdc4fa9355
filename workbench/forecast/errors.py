"""The forecast's own rolling-origin backtest errors, summed over lead-time-long windows.

Safety stock protects against the error of the demand forecast over the lead time (plus the review
period), not against the daily noise: a forecast that is too low today tends to be too low all month,
so daily errors are correlated and L independent days understate the spread (Prak, Teunter & Syntetos
2017, "On the calculation of safety stocks when demand is forecasted", *EJOR* 256(2)). The forecast
engine already makes the errors: its rolling-origin backtest (:func:`workbench.forecast.api.backtest_candidates`,
``ForecastResult.cv``) forecasts each series from a cutoff for a whole horizon. This module reads them:

1. :func:`backtest_errors`: actual − forecast of each series' **chosen** model, per ``unique_id, cutoff,
   step`` (days the history marks as censored — a stockout, demand imputed — are left out);
2. :class:`WindowErrors` (:func:`window_errors`): per series and window length W days, the errors summed
   over every W-day window inside one cutoff's horizon (steps s … s+W−1), and

       σ_W² = w · RMS²(own windowed sums) + (1 − w) · (a·F_W + b·F_W²),
       w = n_eff / (n_eff + ``prior_windows``),  n_eff = valid days / W (non-overlapping windows),

   F_W the series' forecast demand over the coming W days, a and b fitted on every window of its demand
   class (a·F the noise that averages out with volume, b·F² the level error that does not): a series with
   few windows borrows the spread of its class, as the intervals do. The class's empirical
   quantiles of the standardized windowed error (sum / σ_W of its series) give the safety factor for
   a service level without assuming normal tails (:meth:`WindowErrors.safety_factor`).

The RMS includes the mean error: a forecast that ran low over whole windows in the backtest keeps that
bias in its spread, as it would over a real lead time. With one backtest window of 120 days and a 47-day
sea lead time + review period, a series has ≈ 2.5 independent windows: the class pool carries most of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ERROR_COLUMNS = ["unique_id", "cutoff", "step", "y", "yhat", "error"]
PRIOR_WINDOWS = 3.0  # pseudo-windows of the class pool in each series' σ_W
MIN_CLASS_WINDOWS = 10  # windows a class needs for its own fit and quantiles (else all series pooled)


def backtest_errors(result) -> pd.DataFrame:
    """``unique_id, cutoff, step, y, yhat, error`` (error = y − yhat) of each series' chosen model in the
    forecast's rolling-origin backtest (``result`` a :class:`~workbench.forecast.api.ForecastResult`).

    Censored days (a recorded stockout, demand imputed) are left out. Empty when the run had no
    backtest (every series too short) or the result carries no backtest frame. A result without ``cv``
    but with ``errors`` (SKU chunks, :meth:`workbench.pipeline.Pipeline.forecast`) returns those.
    """
    cv, choices = getattr(result, "cv", None), getattr(result, "choices", None)
    if cv is None and getattr(result, "errors", None) is not None:
        return result.errors  # a catalog forecast in SKU chunks kept each chunk's errors, not its cv
    if cv is None or choices is None or len(cv) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ERROR_COLUMNS})
    ch = choices[choices["source"].isin(["backtest", "override"])] if "source" in choices else choices
    model = ch.set_index(ch["unique_id"].astype(str))["model"]
    cv = cv[~cv["censored"].astype(bool)] if "censored" in cv else cv
    uid = cv["unique_id"].astype(str)
    m = uid.map(model)
    keep = m.notna().to_numpy()
    cv, m = cv[keep], m[keep]
    cols = [c for c in dict.fromkeys(m) if c in cv.columns or f"override:{c}" in cv.columns]
    names = [c if c in cv.columns else f"override:{c}" for c in cols]
    values = cv[names].to_numpy(float) if names else np.empty((len(cv), 0))
    idx = pd.Index(cols).get_indexer(m)
    ok = idx >= 0
    yhat = np.full(len(cv), np.nan)
    yhat[ok] = np.maximum(values[np.flatnonzero(ok), idx[ok]], 0.0)
    out = pd.DataFrame({"unique_id": cv["unique_id"].astype(str).to_numpy(), "cutoff": cv["cutoff"].to_numpy(),
                        "step": cv["step"].to_numpy(int), "y": cv["y"].to_numpy(float), "yhat": yhat})
    out["error"] = out["y"] - out["yhat"]
    return out.dropna(subset=["error"]).reset_index(drop=True)


@dataclass
class WindowErrors:
    """The backtest errors as a matrix: one row per (series, cutoff), one column per horizon step."""

    row_uid: np.ndarray  # (m,) series of each row
    error: np.ndarray  # (m, H) actual − forecast, NaN where unknown
    yhat: np.ndarray  # (m, H) the backtest forecast
    group: pd.Series  # unique_id → pooling group (demand class); missing → "all"
    prior_windows: float = PRIOR_WINDOWS
    # window length → its window_stats / class_variance (the matrices are never changed after construction;
    # a restock call asks for the same lengths several times, and the class fit is the costly part)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def _cached(self, kind: str, w: int, compute):
        key = (kind, w)
        if key not in self._memo:
            self._memo[key] = compute(w)
        return self._memo[key]

    @property
    def horizon(self) -> int:
        return self.error.shape[1]

    def _sums(self, w: int):
        """Windowed sums of errors and forecasts, (m, H − w + 1), NaN where a window touches a gap."""
        def csum(a):
            return np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(np.nan_to_num(a), axis=1)], axis=1)
        bad = csum(np.isnan(self.error).astype(float))
        ok = (bad[:, w:] - bad[:, :-w]) == 0
        ce, cf = csum(self.error), csum(self.yhat)
        return np.where(ok, ce[:, w:] - ce[:, :-w], np.nan), np.where(ok, cf[:, w:] - cf[:, :-w], np.nan)

    def window_stats(self, w: int) -> pd.DataFrame:
        """Per series for window length ``w`` days: ``sumsq, windows, valid_days`` (its own windowed sums)."""
        return self._cached("stats", int(min(max(w, 1), self.horizon)), self._window_stats)

    def _window_stats(self, w: int) -> pd.DataFrame:
        e, _ = self._sums(w)
        frame = pd.DataFrame({"uid": self.row_uid, "sumsq": np.nansum(e ** 2, axis=1),
                              "windows": np.isfinite(e).sum(axis=1),
                              "valid_days": np.isfinite(self.error).sum(axis=1)})
        return frame.groupby("uid").sum()

    def class_variance(self, w: int) -> pd.DataFrame:
        """Per pooling group (demand class, and ``"all"``): ``a, b`` of σ_W² = a·F + b·F², F the window's forecast.

        a·F is the Poisson-like noise of a series (relative spread falls with volume), b·F² the level error
        that does not average out (a forecast 20% low stays 20% low). Fitted by non-negative least squares
        on every window of the group, each equation divided by F + 1 so that big series do not decide alone.
        """
        return self._cached("class", int(min(max(w, 1), self.horizon)), self._class_variance)

    def _class_variance(self, w: int) -> pd.DataFrame:
        from scipy.optimize import nnls

        e, f = self._sums(w)
        g = self.group.reindex(pd.Index(self.row_uid)).fillna("all").to_numpy()
        rows = {}
        for name in [*pd.unique(g), "all"]:
            m = np.ones(len(g), bool) if name == "all" else (g == name)
            ee, ff = e[m].ravel(), np.maximum(f[m].ravel(), 0.0)
            ok = np.isfinite(ee) & np.isfinite(ff)
            if ok.sum() < MIN_CLASS_WINDOWS:
                continue
            ee, ff = ee[ok], ff[ok]
            den = ff + 1.0
            coef, _ = nnls(np.column_stack([ff / den, ff ** 2 / den]), ee ** 2 / den)
            rows[name] = coef
        return pd.DataFrame(rows, index=["a", "b"]).T

    def sigma(self, skus, window_days, forecast_sum) -> tuple[np.ndarray, np.ndarray]:
        """σ_W per SKU (units) for its own window length (days, rounded up; capped at the backtest
        horizon, beyond it σ grows as W/H: errors that far out are taken as fully correlated) and its
        forecast demand over that window: its own windows' RMS blended with its class's a·F + b·F²
        (:meth:`class_variance`). Returns (σ_W, weight on the SKU's own windows); NaN when neither the
        SKU nor any class has enough windows."""
        skus = pd.Index(pd.Index(skus).astype(str))
        wd = np.ceil(np.maximum(np.asarray(window_days, dtype=float), 1.0)).astype(int)
        fsum = np.maximum(np.asarray(forecast_sum, dtype=float), 0.0)
        out, weight = np.full(len(skus), np.nan), np.zeros(len(skus))
        grp = self.group.reindex(skus).fillna("all").to_numpy()
        for w in np.unique(wd):
            rows = np.flatnonzero(wd == w)
            wc = int(min(w, self.horizon))
            own = self.window_stats(wc).reindex(skus[rows])
            cv = self.class_variance(wc)
            g = np.where(pd.Index(cv.index).get_indexer(grp[rows]) >= 0, grp[rows], "all")
            a = pd.Series(g).map(cv["a"]).to_numpy(float) if len(cv) else np.full(len(rows), np.nan)
            b = pd.Series(g).map(cv["b"]).to_numpy(float) if len(cv) else np.full(len(rows), np.nan)
            F = fsum[rows] * wc / w
            class_var = a * F + b * F ** 2
            own_var = (own["sumsq"] / own["windows"].where(own["windows"] > 0)).to_numpy(float)
            n_eff = (own["valid_days"].fillna(0) / wc).to_numpy(float)
            wt = np.where(np.isfinite(own_var), n_eff / (n_eff + self.prior_windows), 0.0)
            var = np.where(np.isfinite(class_var), (1 - wt) * class_var + wt * np.nan_to_num(own_var),
                           np.where(wt > 0, own_var, np.nan))
            out[rows] = np.sqrt(var) * (w / wc)
            weight[rows] = np.where(np.isfinite(class_var), wt, np.where(wt > 0, 1.0, 0.0))
        return out, weight

    def safety_factor(self, service_level, window_days) -> np.ndarray:
        """Safety factor k per SKU: the ``service_level`` quantile of the standardized windowed error
        (sum over W days / the series' own RMS of such sums), pooled over all series for the SKU's
        window length — the empirical counterpart of Φ⁻¹(service level), heavier-tailed where the
        errors are. NaN when fewer than ``MIN_CLASS_WINDOWS`` standardized sums exist."""
        sl = np.asarray(service_level, dtype=float)
        wd = np.minimum(np.ceil(np.maximum(np.asarray(window_days, dtype=float), 1.0)).astype(int), self.horizon)
        out = np.full(sl.shape, np.nan)
        for w in np.unique(wd):
            rows = np.flatnonzero(wd == w)
            e, _ = self._sums(int(w))
            rms = np.sqrt(np.nanmean(e ** 2, axis=1, keepdims=True))
            z = (e / np.where(rms > 0, rms, np.nan)).ravel()
            z = z[np.isfinite(z)]
            if len(z) >= MIN_CLASS_WINDOWS:
                out[rows] = np.quantile(z, np.clip(sl[rows], 0.0, 1.0))
        return out


def window_errors(errors: pd.DataFrame, group: pd.Series | None = None,
                  prior_windows: float = PRIOR_WINDOWS) -> WindowErrors | None:
    """:class:`WindowErrors` from :func:`backtest_errors`' frame (``group``: unique_id → demand class, for
    the pool). None when there are no errors."""
    if errors is None or len(errors) == 0:
        return None
    e = errors.assign(unique_id=errors["unique_id"].astype(str))
    rows = e[["unique_id", "cutoff"]].drop_duplicates().reset_index(drop=True)
    key = pd.MultiIndex.from_frame(rows)
    r = key.get_indexer(pd.MultiIndex.from_frame(e[["unique_id", "cutoff"]]))
    H = int(e["step"].max())
    err = np.full((len(rows), H), np.nan)
    fc = np.full((len(rows), H), np.nan)
    c = e["step"].to_numpy(int) - 1
    err[r, c] = e["error"].to_numpy(float)
    fc[r, c] = e["yhat"].to_numpy(float)
    group = group if group is not None else pd.Series(dtype=object)
    group = pd.Series(group.to_numpy(), index=pd.Index(group.index).astype(str))
    return WindowErrors(row_uid=rows["unique_id"].to_numpy(), error=err, yhat=fc, group=group,
                        prior_windows=prior_windows)


def lead_time_errors(result, prior_windows: float = PRIOR_WINDOWS) -> WindowErrors | None:
    """The one call a policy needs: :func:`window_errors` of :func:`backtest_errors`, pooled per demand class."""
    cls = None
    if getattr(result, "classification", None) is not None and len(result.classification):
        c = result.classification
        cls = pd.Series(c["demand_class"].to_numpy(), index=c["unique_id"].astype(str))
    return window_errors(backtest_errors(result), cls, prior_windows)

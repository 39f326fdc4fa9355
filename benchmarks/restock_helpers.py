"""Helpers for the restock benchmarks: a stand-in forecast and synthetic forecast frames.

The restock policy takes the forecast engine's frame as input. The benchmarks must not depend on the
engine (written concurrently, and far slower than a weekly replay needs), so they use
:func:`seasonal_naive_forecast`: a censoring-aware level (mean of in-stock days over the last 28
days) times last year's shape for the coming days (shrunk towards 1), with normal intervals from the
SKU's recent dispersion. It has the engine's output columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

Z80, Z95 = 1.2816, 1.96


def daily_units_matrix(sales: pd.DataFrame, skus, start, end):
    """Units per SKU per day (channels summed) and an in-stock mask, (n_skus, days) from start..end."""
    skus = pd.Index(skus)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    n_days = (end - start).days + 1
    s = sales[(sales["date"] >= start) & (sales["date"] <= end)]
    idx = skus.get_indexer(s["sku"].astype(str))
    day = (s["date"] - start).dt.days.to_numpy()
    ok = idx >= 0
    units = np.zeros((len(skus), n_days))
    np.add.at(units, (idx[ok], day[ok]), s["units"].to_numpy(float)[ok])
    instock = np.ones((len(skus), n_days), dtype=bool)
    if "in_stock" in s.columns:
        oos = np.zeros((len(skus), n_days), dtype=bool)
        flag = ~s["in_stock"].fillna(True).astype(bool).to_numpy()
        np.logical_or.at(oos, (idx[ok], day[ok]), flag[ok])
        instock = ~oos
    return units, instock


def seasonal_naive_forecast(sales: pd.DataFrame, skus, as_of, horizon_days: int = 90,
                            shrink_units: float = 2.0, shape_weight: float = 0.5, half_window: int = 7) -> pd.DataFrame:
    """Forecast frame ``unique_id, ds, model, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95``.

    level  = mean units on in-stock days of the last 28 days (last 90 if fewer than 7 in stock)
    shape  = 1 + w·(clip((LY mean of days h−7..h+7 + c) / (LY mean of the 28 days before as-of − 364 + c), 0.5, 3) − 1), w = 0.5
    yhat_h = level · shape_h;   σ_h = sqrt(φ · yhat_h), φ = max(1, var/mean of recent in-stock days)
    """
    as_of = pd.Timestamp(as_of)
    skus = pd.Index(skus)
    start = as_of - pd.Timedelta(days=364 + 28 + 7)
    units, instock = daily_units_matrix(sales, skus, start, as_of + pd.Timedelta(days=0))
    t = units.shape[1] - 1  # index of as_of
    w28 = slice(t - 27, t + 1)
    n28 = instock[:, w28].sum(1)
    lvl28 = np.where(n28 > 0, (units[:, w28] * instock[:, w28]).sum(1) / np.maximum(n28, 1), 0.0)
    w90 = slice(max(t - 89, 0), t + 1)
    n90 = instock[:, w90].sum(1)
    lvl90 = np.where(n90 > 0, (units[:, w90] * instock[:, w90]).sum(1) / np.maximum(n90, 1), 0.0)
    level = np.where(n28 >= 7, lvl28, lvl90)
    x = np.where(instock[:, w90], units[:, w90], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.nan_to_num(np.nanvar(x, axis=1) / np.maximum(np.nanmean(x, axis=1), 1e-9), nan=1.0)
    phi = np.clip(phi, 1.0, 20.0)
    # Last year: the sales matrix covers as_of − 399 .. as_of; LY day h sits at t − 364 + h.
    ly_start = as_of - pd.Timedelta(days=364 + 28)
    ly_units, ly_in = daily_units_matrix(sales, skus, ly_start, ly_start + pd.Timedelta(days=28 + horizon_days + half_window))
    has_ly = (sales.groupby(sales["sku"].astype(str))["date"].min().reindex(skus) <= ly_start).to_numpy()
    base = ly_units[:, :28].mean(1)
    c = shrink_units
    cs = np.concatenate([np.zeros((len(skus), 1)), np.cumsum(ly_units, axis=1)], axis=1)
    h = np.arange(1, horizon_days + 1)
    lo = np.clip(28 + h - half_window, 0, ly_units.shape[1])
    hi = np.clip(28 + h + half_window + 1, 0, ly_units.shape[1])
    win = (cs[:, hi] - cs[:, lo]) / (hi - lo)
    shape = 1 + shape_weight * (np.clip((win + c) / (base[:, None] + c), 0.5, 3.0) - 1)
    shape = np.where(has_ly[:, None], shape, 1.0)
    yhat = level[:, None] * shape
    sig = np.sqrt(phi[:, None] * np.maximum(yhat, 1e-9))
    n, H = yhat.shape
    ds = as_of + pd.to_timedelta(np.tile(h, n), unit="D")
    return pd.DataFrame({
        "unique_id": np.repeat(skus.to_numpy(), H), "ds": ds, "model": "SeasonalNaiveStub",
        "yhat": yhat.ravel(), "yhat_lo_80": np.maximum(yhat - Z80 * sig, 0).ravel(), "yhat_hi_80": (yhat + Z80 * sig).ravel(),
        "yhat_lo_95": np.maximum(yhat - Z95 * sig, 0).ravel(), "yhat_hi_95": (yhat + Z95 * sig).ravel(),
    })


def blend_forecast(sales: pd.DataFrame, skus, as_of, horizon_days: int = 90) -> pd.DataFrame:
    """Flat forecast at the seller's ADS blend (the rule of thumb's information), σ = sqrt(yhat)."""
    from workbench.stock import blended_ads

    ads = blended_ads(sales, skus, as_of)["ads_blend"].to_numpy()
    skus = pd.Index(skus)
    h = np.arange(1, horizon_days + 1)
    yhat = np.repeat(ads, horizon_days)
    sig = np.sqrt(np.maximum(yhat, 1e-9))
    return pd.DataFrame({
        "unique_id": np.repeat(skus.to_numpy(), horizon_days), "ds": pd.Timestamp(as_of) + pd.to_timedelta(np.tile(h, len(skus)), unit="D"),
        "model": "ADSBlend", "yhat": yhat, "yhat_lo_80": np.maximum(yhat - Z80 * sig, 0), "yhat_hi_80": yhat + Z80 * sig,
        "yhat_lo_95": np.maximum(yhat - Z95 * sig, 0), "yhat_hi_95": yhat + Z95 * sig})


def engine_forecaster(events=None, refresh_days: int = 28, horizon_days: int = 150):
    """The workbench forecast engine (censored-demand corrected, model selection per SKU), refreshed
    every ``refresh_days`` (a full engine run per weekly step would take most of the replay's time);
    between refreshes the last forecast is reused for the days after as-of."""
    state: dict = {}

    def forecast(sales: pd.DataFrame, skus, as_of, horizon: int = 120) -> pd.DataFrame:
        from workbench.forecast.api import forecast_frame
        from workbench.forecast.history import demand_history

        as_of = pd.Timestamp(as_of)
        if "at" not in state or (as_of - state["at"]).days >= refresh_days:
            hist = demand_history({"sales": sales}, as_of)
            state["fc"] = forecast_frame(hist, horizon=horizon_days, freq="D", levels=[80, 95], events=events).forecast
            state["at"] = as_of
        f = state["fc"]
        return f[f["ds"] > as_of]
    return forecast

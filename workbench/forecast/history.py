"""Demand history with censored (stockout) periods treated as unknown demand, not zero demand.

Method (``impute_censored``): a multiplicative level x seasonal-profile estimate, in the spirit of
the "expectation of demand during stockout" corrections reviewed in Nahmias (1994), "Demand
estimation in lost sales inventory systems", Naval Research Logistics 41(6), and used in practice
as "fill stockout days with the level around the gap times the weekday profile":

    profile_i(p)  = mean(y_i,t | in stock, t in position p) / mean(y_i,t | in stock)      (p = weekday; daily only)
                    shrunk toward 1: (n_p * profile + k) / (n_p + k), k = 4
    level_i(t)    = mean(y_i,s / profile_i(p(s)) | in stock, |s - t| <= W)                  (W = 28 days / 8 weeks)
                    falling back to the series' whole in-stock mean when fewer than 3 in-stock points lie in the window
    demand_i(t)   = level_i(t) * profile_i(p(t))                                           for censored t
    lost_i(t)     = max(demand_i(t) - sold_i(t), 0);  y_adj = max(demand, sold)

The window is centred, so a gap is bridged by the level before and after it. This uses sales after the
gap, which is right for history correction; backtests therefore impute each window again from the
history cut at its cutoff (``api.backtest_candidates``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.forecast._panel import group_bounds, window_stats
from workbench.stock import in_stock_flags

SHRINK_K = 4.0
MIN_IN_WINDOW = 3
WINDOW = {"D": 28, "W": 8}


def impute_censored(df: pd.DataFrame, freq: str = "D") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replace demand on ``in_stock == False`` periods with an estimate; return (frame, lost units per series).

    ``df``: ``unique_id, ds, y`` and optional ``in_stock``, sorted by ``unique_id, ds`` on a complete grid.
    Returns the frame with ``y`` corrected, ``y_observed`` (sales as recorded) and ``censored`` (bool),
    and a per-series table ``unique_id, stockout_periods, lost_units, observed_units``.
    """
    if freq not in WINDOW:
        raise ValueError(f"freq must be one of {tuple(WINDOW)}, got {freq!r}")
    out = df.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)  # a new frame
    censored = ~out["in_stock"].astype(bool) if "in_stock" in out.columns else pd.Series(False, index=out.index)
    sold = out["y"].astype(float).to_numpy()
    cens = censored.to_numpy()
    y_obs = np.where(cens, np.nan, sold)
    ids = out["unique_id"].to_numpy()
    start, end = group_bounds(ids)

    codes, _ = pd.factorize(out["unique_id"], sort=False)
    y_ser = pd.Series(y_obs)
    series_mean = y_ser.groupby(codes).transform("mean").to_numpy()
    if freq == "D":
        pos = out["ds"].dt.dayofweek.to_numpy()
        grp = y_ser.groupby([codes, pos])
        pmean = grp.transform("mean").to_numpy()
        pcount = grp.transform("count").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = pmean / series_mean
        raw = np.where(np.isfinite(raw), raw, 1.0)
        profile = (pcount * raw + SHRINK_K) / (pcount + SHRINK_K)
    else:
        profile = np.ones(len(out))
    profile = np.maximum(profile, 1e-3)

    w = WINDOW[freq]
    s, c = window_stats(y_obs / profile, start, end, -w, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = s / c
    level = np.where((c >= MIN_IN_WINDOW) & np.isfinite(level), level, series_mean)
    level = np.where(np.isfinite(level), level, 0.0)  # a series never in stock: nothing to learn from
    estimate = level * profile
    sold0 = np.nan_to_num(sold, nan=0.0)
    adj = np.where(cens, np.maximum(estimate, sold0), sold0)
    # a closed day (``closed``, see validation.regularize) gets the estimate for the models but no lost units
    shut = out["closed"].to_numpy(dtype=bool) if "closed" in out.columns else np.zeros(len(out), bool)
    lost = np.where(cens & ~shut, np.maximum(estimate - sold0, 0.0), 0.0)

    out["y_observed"] = sold0
    out["y"] = adj
    out["censored"] = cens
    per = pd.DataFrame({"unique_id": ids, "censored": cens & ~shut, "closed": shut, "lost": lost, "sold": sold0})
    lost_tbl = per.groupby("unique_id", sort=False).agg(
        stockout_periods=("censored", "sum"), lost_units=("lost", "sum"), observed_units=("sold", "sum"),
        closed_periods=("closed", "sum")).reset_index()
    lost_tbl["stockout_periods"] = lost_tbl["stockout_periods"].astype(int)
    lost_tbl["closed_periods"] = lost_tbl["closed_periods"].astype(int)
    return out, lost_tbl


def demand_history(dataset_tables: dict, as_of=None, by_channel: bool = False, freq: str = "D") -> pd.DataFrame:
    """Long frame ``unique_id, ds, y, in_stock`` (``channel`` too when ``by_channel``) from a dataset's tables.

    ``sales`` (date, sku, channel, units, optional in_stock) is summed per SKU (and channel on request)
    and day, up to and including ``as_of``, on a daily grid that ends at the last day with data (never a
    fabricated zero-sales day between the data's end and ``as_of``). In-stock days follow the
    workbench's one rule, :func:`workbench.stock.in_stock_flags`, per sales row; a SKU-day (without
    ``by_channel``) is in stock when any of its channels was. Days with no sales row are zero sales,
    their flag from the inventory (the same rule).
    ``freq='W'`` sums days into weeks ending Sunday; a week is out of stock when more than half its days are.
    """
    if "sales" not in dataset_tables:
        from workbench.errors import InputError
        raise InputError("dataset has no sales table", ["sales:0:-: required table is missing"])
    sales = dataset_tables["sales"].copy()
    sales["date"] = pd.to_datetime(sales["date"])
    if as_of is not None:
        sales = sales[sales["date"] <= pd.Timestamp(as_of)]
    keys = ["sku", "channel"] if by_channel else ["sku"]
    inventory = dataset_tables.get("inventory") if hasattr(dataset_tables, "get") else None
    sales["in_stock"] = in_stock_flags(sales, inventory)
    daily = sales.groupby(keys + ["date"], sort=True).agg(units=("units", "sum"),
                                                          in_stock=("in_stock", "any")).reset_index()
    # The history ends at the last observed day (on or before as_of): an as-of date after the data
    # adds no unobserved zero-sales day; the pipeline reports how many days are missing.
    end = daily["date"].max()
    # complete daily grid per key from its first sale to the last observed day
    first = daily.groupby(keys)["date"].min().rename("first").reset_index()
    n = ((end - first["first"]).dt.days + 1).clip(lower=1).to_numpy()
    grid = first.loc[first.index.repeat(n), keys].reset_index(drop=True)
    grid["date"] = np.repeat(first["first"].to_numpy(), n) + pd.to_timedelta(np.concatenate([np.arange(k) for k in n]), unit="D")
    daily = grid.merge(daily, on=keys + ["date"], how="left")
    daily["units"] = daily["units"].fillna(0.0).astype(float)
    daily["in_stock"] = in_stock_flags(daily, inventory)  # grid days without a sales row: the inventory's word
    if by_channel:
        daily["unique_id"] = daily["sku"].astype(str) + "|" + daily["channel"].astype(str)
    else:
        daily["unique_id"] = daily["sku"].astype(str)
    daily = daily.rename(columns={"date": "ds", "units": "y"})
    if freq == "W":
        daily["ds"] = daily["ds"].dt.to_period("W-SUN").dt.end_time.dt.normalize()
        extra = ["channel"] if by_channel else []
        daily = daily.groupby(["unique_id", "ds"] + extra).agg(
            y=("y", "sum"), in_stock=("in_stock", "mean")).reset_index()
        daily["in_stock"] = daily["in_stock"] >= 0.5
    cols = ["unique_id", "ds", "y", "in_stock"] + (["channel"] if by_channel else [])
    return daily[cols].sort_values(["unique_id", "ds"]).reset_index(drop=True)


def promotion_regressors(history: pd.DataFrame, promotions: pd.DataFrame | None, horizon: int
                         ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Known-in-advance promotion columns for the forecast, from the dataset's ``promotions`` table.

    ``history``: ``unique_id`` (= SKU), ``ds`` daily. ``promotions``: ``date, sku`` (one row per SKU
    and day on promotion; an optional ``channel``, any channel counts) and optional ``discount_pct``.
    Adds to the history, per SKU and day: ``promo`` (1 on a promotion day, else 0) and, when the table
    has depths, ``promo_discount`` (the deepest discount that day as a fraction, 0 when unknown).
    Returns (history with the columns, future: ``unique_id, ds`` and the same columns for the
    ``horizon`` days after each series' last day). Without a promotions table (or with no rows)
    the history is returned unchanged and the future is None: the forecast runs without regressors.
    """
    if promotions is None or len(promotions) == 0 or len(history) == 0:
        return history, None
    p = pd.DataFrame({"unique_id": promotions["sku"].astype(str), "ds": pd.to_datetime(promotions["date"]),
                      "promo": 1.0})
    cols = ["promo"]
    if "discount_pct" in promotions.columns:
        p["promo_discount"] = pd.to_numeric(promotions["discount_pct"], errors="coerce").fillna(0.0).to_numpy() / 100.0
        cols.append("promo_discount")
    p = p.groupby(["unique_id", "ds"], sort=False)[cols].max().reset_index()
    last = history.groupby("unique_id", sort=True)["ds"].max()
    future = pd.DataFrame({"unique_id": np.repeat(last.index.to_numpy(), horizon),
                           "ds": np.repeat(last.to_numpy(), horizon)
                           + pd.to_timedelta(np.tile(np.arange(1, horizon + 1), len(last)), unit="D")})
    out = []
    for frame in (history, future):
        f = frame.merge(p, on=["unique_id", "ds"], how="left")
        f[cols] = f[cols].fillna(0.0)
        out.append(f)
    return out[0], out[1]

"""Stockout risk per SKU: the restock engine's probability when given, else a cover-based estimate.

Cover-based estimate (used until the restock engine's ``stockout_probability`` is passed in):

    stock_units   = available (on_hand - reserved, latest inventory snapshot per location at or before as_of)
                    + inbound (open shipments: ordered by as_of, not received by as_of)
    ads           = mean daily units over the last ``window_days`` days (all channels; days with
                    in_stock == False are left out because their demand is censored)
    sigma_daily   = max(std of those daily units, sqrt(ads))      (Poisson floor)
    L             = median order-to-receipt days of the SKU's received shipments (else all SKUs', else 30)
    t_arrival     = days until the earliest open shipment's eta (order_date + L when eta is empty), 0 if past
    P(D_t > x)    = 1 - Phi((x - ads * t) / (sigma_daily * sqrt(t)))      demand over t days exceeds x units
    P(stockout)   = max(P(D_t_arrival > available),   -- runs out before the next arrival
                        P(D_L > stock_units))          -- runs out within one lead time even with inbound
    cover_days    = stock_units / ads;   onhand_cover_days = available / ads (what protects the listing today)

This is the textbook normal approximation of lead-time demand (Silver, Pyke & Thomas, *Inventory and
Production Management in Supply Chains*, 4th ed., §6.7), with no reorder assumed during L.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.risk._common import num, pct

STOCKOUT_COLUMNS = ["sku", "available", "inbound", "ads", "cover_days", "onhand_cover_days", "lead_time_days",
                    "stockout_risk", "stockout_source", "stockout_reason"]


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _p_exceed(ads: float, sigma_daily: float, days: float, units: float) -> float:
    """P(demand over ``days`` > ``units``) under Normal(ads * days, sigma_daily^2 * days)."""
    if days <= 0:
        return 0.0
    mu, sd = ads * days, sigma_daily * math.sqrt(days)
    return 1.0 - _phi((units - mu) / sd) if sd > 0 else float(units < mu)


def stock_position(inventory: pd.DataFrame, shipments: pd.DataFrame | None, as_of) -> pd.DataFrame:
    """sku, available, inbound at ``as_of``."""
    as_of = pd.Timestamp(as_of)
    inv = inventory[inventory["as_of"] <= as_of]
    if inv.empty:
        avail = pd.Series(dtype=float, name="available")
    else:
        last = inv.sort_values("as_of", kind="mergesort").groupby(["sku", "location"]).tail(1)
        avail = (last["on_hand"] - last["reserved"]).clip(lower=0).groupby(last["sku"]).sum().astype(float)
    inbound = pd.Series(dtype=float)
    if shipments is not None and not shipments.empty:
        s = shipments[(shipments["order_date"] <= as_of)
                      & (shipments["received_date"].isna() | (shipments["received_date"] > as_of))]
        inbound = s.groupby("sku")["qty"].sum().astype(float)
    out = pd.concat([avail.rename("available"), inbound.rename("inbound")], axis=1).fillna(0.0)
    out.index.name = "sku"
    return out.reset_index()


def next_arrivals(shipments: pd.DataFrame | None, as_of, lead_time_days: pd.Series) -> pd.Series:
    """Earliest expected arrival per SKU among open shipments: eta, or order_date + the SKU's lead time."""
    if shipments is None or shipments.empty:
        return pd.Series(dtype="datetime64[ns]")
    as_of = pd.Timestamp(as_of)
    s = shipments[(shipments["order_date"] <= as_of)
                  & (shipments["received_date"].isna() | (shipments["received_date"] > as_of))]
    lt = pd.to_timedelta(s["sku"].map(lead_time_days).fillna(30.0), unit="D")
    return (s["eta"].fillna(s["order_date"] + lt)).groupby(s["sku"]).min()


def lead_times(shipments: pd.DataFrame | None, as_of, default_days: float = 30.0) -> tuple[pd.Series, float]:
    """Median order-to-receipt days per SKU (received by as_of) and the all-SKU median fallback."""
    if shipments is None or shipments.empty:
        return pd.Series(dtype=float), default_days
    r = shipments[shipments["received_date"].notna() & (shipments["received_date"] <= pd.Timestamp(as_of))]
    if r.empty:
        return pd.Series(dtype=float), default_days
    days = (r["received_date"] - r["order_date"]).dt.days.astype(float)
    return days.groupby(r["sku"]).median(), float(days.median())


def daily_demand(sales: pd.DataFrame, as_of, window_days: int) -> pd.DataFrame:
    """sku, ads, sigma_daily, days_used from the last ``window_days`` days (censored days left out)."""
    as_of = pd.Timestamp(as_of)
    start = as_of - pd.Timedelta(days=window_days - 1)
    s = sales[(sales["date"] >= start) & (sales["date"] <= as_of)]
    daily = s.groupby(["sku", "date"])["units"].sum().unstack("date")
    full = pd.date_range(start, as_of, freq="D")
    daily = daily.reindex(columns=full).fillna(0.0)
    if "in_stock" in s.columns:
        out_days = s[s["in_stock"].astype("boolean").fillna(True) == False]  # noqa: E712
        if not out_days.empty:
            mask = out_days.groupby(["sku", "date"]).size().unstack("date").reindex(
                index=daily.index, columns=full).notna()
            daily = daily.mask(mask)
    ads = daily.mean(axis=1, skipna=True).fillna(0.0)
    sd = daily.std(axis=1, ddof=1, skipna=True).fillna(0.0)
    return pd.DataFrame({"ads": ads, "sigma_daily": np.maximum(sd, np.sqrt(ads)),
                         "days_used": daily.notna().sum(axis=1)}).rename_axis("sku").reset_index()


def cover_stockout_estimate(products: pd.DataFrame, sales: pd.DataFrame, inventory: pd.DataFrame,
                            shipments: pd.DataFrame | None, as_of, window_days: int = 28,
                            default_lead_time_days: float = 30.0) -> pd.DataFrame:
    """Cover-based stockout probability per SKU (formula in the module docstring); columns STOCKOUT_COLUMNS."""
    pos = stock_position(inventory, shipments, as_of)
    dem = daily_demand(sales, as_of, window_days)
    lt_sku, lt_all = lead_times(shipments, as_of, default_lead_time_days)
    df = products[["sku"]].merge(pos, on="sku", how="left").merge(dem, on="sku", how="left")
    df[["available", "inbound", "ads", "sigma_daily"]] = df[["available", "inbound", "ads", "sigma_daily"]].fillna(0.0)
    df["lead_time_days"] = df["sku"].map(lt_sku).fillna(lt_all).astype(float)
    df["next_arrival"] = df["sku"].map(next_arrivals(shipments, as_of, df.set_index("sku")["lead_time_days"]))
    stock = df["available"] + df["inbound"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["cover_days"] = np.where(df["ads"] > 0, stock / df["ads"], np.inf)
        df["onhand_cover_days"] = np.where(df["ads"] > 0, df["available"] / df["ads"], np.inf)
    probs, reasons = [], []
    as_of = pd.Timestamp(as_of)
    for r, st in zip(df.itertuples(), stock):
        if r.ads <= 0:
            probs.append(0.0)
            reasons.append(f"stockout risk 0% (cover estimate): no sales in the last {window_days} d")
            continue
        p_lead = _p_exceed(r.ads, r.sigma_daily, r.lead_time_days, st)
        text = (f"{num(st)} units = {num(r.cover_days)} d cover at {num(r.ads)}/d vs {num(r.lead_time_days)} d "
                f"lead time")
        p = p_lead
        if r.inbound > 0:
            eta = r.next_arrival if pd.notna(r.next_arrival) else as_of + pd.Timedelta(days=r.lead_time_days)
            t_arr = max((eta - as_of).days, 0)
            p_gap = _p_exceed(r.ads, r.sigma_daily, t_arr, r.available) if t_arr > 0 else 0.0
            if p_gap > p_lead:
                p = p_gap
                text = (f"{num(r.available)} on hand = {num(r.available / r.ads)} d at {num(r.ads)}/d vs {t_arr} d "
                        f"to the next arrival ({eta:%Y-%m-%d})")
        probs.append(round(p, 4))
        reasons.append(f"stockout risk {pct(p)} (cover estimate): {text}")
    df["stockout_risk"] = probs
    df["stockout_source"] = "cover estimate"
    df["stockout_reason"] = reasons
    df["cover_days"] = df["cover_days"].replace(np.inf, np.nan).round(1)
    df["onhand_cover_days"] = df["onhand_cover_days"].replace(np.inf, np.nan).round(1)
    df["ads"] = df["ads"].round(3)
    return df[STOCKOUT_COLUMNS]


def from_restock_engine(products: pd.DataFrame, stockout_probability: pd.DataFrame,
                        estimate: pd.DataFrame | None = None) -> pd.DataFrame:
    """Use the restock engine's ``sku, stockout_probability`` (cover estimate fills SKUs it lacks)."""
    sp = stockout_probability
    col = "stockout_probability" if "stockout_probability" in sp.columns else "stockout_risk"
    eng = sp.groupby("sku")[col].max().astype(float)
    base = estimate if estimate is not None else pd.DataFrame({"sku": products["sku"]})
    out = products[["sku"]].merge(base, on="sku", how="left")
    has = out["sku"].isin(eng.index) & out["sku"].map(eng).notna()
    out.loc[has, "stockout_risk"] = out.loc[has, "sku"].map(eng).round(4)
    out.loc[has, "stockout_source"] = "restock engine"
    out.loc[has, "stockout_reason"] = [f"stockout risk {pct(p)} (restock engine)" for p in out.loc[has, "stockout_risk"]]
    for c in STOCKOUT_COLUMNS:
        if c not in out:
            out[c] = np.nan
    return out[STOCKOUT_COLUMNS]


def onhand_cover_history(rows: pd.DataFrame, sales: pd.DataFrame, inventory: pd.DataFrame,
                         window_days: int = 28, date_col: str = "offers_date") -> pd.Series:
    """On-hand cover in days for each (sku, ``date_col``) row, as it looked on that day.

    cover = available units (latest inventory snapshot at or before the day, summed over locations)
            / mean daily units sold over the ``window_days`` days ending that day.
    0 when nothing is available; 999 when stock is on hand but nothing sold in the window.
    Inbound stock is not counted: it does not protect the listing today.
    """
    inv = inventory.assign(avail=(inventory["on_hand"] - inventory["reserved"]).clip(lower=0))
    inv = inv.groupby(["sku", "as_of"], as_index=False)["avail"].sum().sort_values("as_of")
    daily = sales.groupby(["sku", "date"])["units"].sum().unstack("sku")
    days = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
    rolling = daily.reindex(days).fillna(0.0).rolling(window_days, min_periods=1).mean()
    key = rows[["sku", date_col]].reset_index().rename(columns={date_col: "date"})
    key["date"] = pd.to_datetime(key["date"])
    key = key.sort_values("date")
    m = pd.merge_asof(key, inv.rename(columns={"as_of": "date"}), on="date", by="sku", direction="backward")
    # look the rolling mean up by position instead of stacking the whole SKU x day matrix
    di = days.get_indexer(m["date"])
    si = rolling.columns.get_indexer(m["sku"])
    ok = (di >= 0) & (si >= 0)
    vals = np.zeros(len(m))
    vals[ok] = rolling.to_numpy()[di[ok], si[ok]]
    m["ads"] = vals
    avail, rate = m["avail"].astype(float), m["ads"].astype(float).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(avail <= 0, 0.0, np.where(rate > 0, avail / rate, 999.0))
    cover = np.where(avail.isna(), np.nan, np.minimum(cover, 999.0))
    return pd.Series(cover, index=m["index"].to_numpy()).reindex(rows.index)

"""Stockout risk per SKU, read from the run's stock snapshot and the restock engine.

Nothing is recomputed here: stock, inbound, daily demand, ``cover_days`` and ``sellable_cover_days``
come from :class:`workbench.stock.StockSnapshot`, and ``stockout_risk`` is the restock engine's
``stockout_probability`` (the snapshot's one Monte Carlo method: P(sellable stock runs out before an
order placed today arrives)). :func:`onhand_cover_history` is different: the cover as it looked on
past days, a feature of the learned hijack model's training rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.risk._common import num, pct

STOCKOUT_COLUMNS = ["sku", "available", "inbound", "ads", "cover_days", "sellable_cover_days", "lead_time_days",
                    "stockout_risk", "stockout_source", "stockout_reason"]


def stockout_risk(snapshot, restock: pd.DataFrame) -> pd.DataFrame:
    """Per SKU of the snapshot: its stock and covers, and the restock engine's stockout probability."""
    s = snapshot.skus.rename(columns={"daily_demand": "ads"})
    r = restock.assign(sku=restock["sku"].astype(str)).drop_duplicates("sku").set_index("sku")
    df = s[["sku", "available", "inbound", "ads", "cover_days", "sellable_cover_days"]].copy()
    df["lead_time_days"] = df["sku"].map(r["lead_time_days"]).astype(float)
    df["stockout_risk"] = df["sku"].map(r["stockout_probability"]).astype(float).fillna(0.0).round(4)
    df["stockout_source"] = "restock engine (Monte Carlo)"
    mode = df["sku"].map(r["main_mode"]) if "main_mode" in r.columns else pd.Series("main", index=df.index)
    df["stockout_reason"] = [
        (f"stockout risk {pct(p)} (restock engine): {num(a)} sellable + {num(i)} inbound = {num(c)} d cover "
         f"(sellable {num(sc)} d) at {num(d)}/d vs {num(lt)} d {m} lead time")
        if d > 0 else f"stockout risk {pct(p)} (restock engine): no expected demand"
        for p, a, i, c, sc, d, lt, m in zip(df["stockout_risk"], df["available"], df["inbound"], df["cover_days"],
                                            df["sellable_cover_days"], df["ads"], df["lead_time_days"].fillna(0), mode)]
    return df[STOCKOUT_COLUMNS]


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
    key = rows[["sku", date_col]].reset_index().rename(columns={date_col: "date"})
    key["date"] = pd.to_datetime(key["date"])
    key = key.sort_values("date")
    m = pd.merge_asof(key, inv.rename(columns={"as_of": "date"}), on="date", by="sku", direction="backward")
    m["ads"] = rolling_daily_mean(sales, m["sku"], m["date"], window_days)
    avail, rate = m["avail"].astype(float), m["ads"].astype(float).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(avail <= 0, 0.0, np.where(rate > 0, avail / rate, 999.0))
    cover = np.where(avail.isna(), np.nan, np.minimum(cover, 999.0))
    return pd.Series(cover, index=m["index"].to_numpy()).reindex(rows.index)


def rolling_daily_mean(sales: pd.DataFrame, skus: pd.Series, dates: pd.Series, window_days: int) -> np.ndarray:
    """Mean daily units sold by each (sku, date) over the ``window_days`` days ending that date.

    Days without sales count as 0 on the grid from the first to the last sales day (a window that
    starts before the grid averages the days it has); a SKU without sales or a date off the grid gets 0.
    Cumulative sums over a SKU x day array of integer codes: no SKU x day frame is stacked or unstacked.
    """
    sku_code, names = pd.factorize(sales["sku"], sort=True)
    day = sales["date"].to_numpy("datetime64[ns]")
    valid = (sku_code >= 0) & ~np.isnat(day)
    start = day[valid].min() if valid.any() else np.datetime64("NaT")
    offset = (day - start) / np.timedelta64(1, "D")
    on_grid = valid & np.isfinite(offset) & (offset == np.floor(offset))
    n_days = int(offset[on_grid].max()) + 1 if on_grid.any() else 0
    units = sales["units"].to_numpy(float)
    flat = sku_code[on_grid].astype(np.int64) * n_days + offset[on_grid].astype(np.int64)
    daily = np.bincount(flat, weights=np.nan_to_num(units[on_grid]), minlength=len(names) * n_days)
    cum = np.zeros((len(names), n_days + 1))
    np.cumsum(daily.reshape(len(names), n_days), axis=1, out=cum[:, 1:])
    si = pd.Index(names).get_indexer(skus)
    di = (dates.to_numpy("datetime64[ns]") - start) / np.timedelta64(1, "D")
    ok = (si >= 0) & np.isfinite(di) & (di == np.floor(di)) & (di >= 0) & (di < n_days)
    out = np.zeros(len(skus))
    end = di[ok].astype(np.int64) + 1
    first = np.maximum(end - int(window_days), 0)
    out[ok] = (cum[si[ok], end] - cum[si[ok], first]) / (end - first)
    return out

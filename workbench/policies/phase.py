"""Where each SKU × channel stands in the stockout cycle at the as-of date (domain-rules.md §2).

Phases:

- ``stockout``: nothing available to sell (available stock ≤ 0, or the channel's latest sales day
  is marked not in stock);
- ``pre_stockout``: in stock, but the stock runs out before the next arrival::

      cover_days     = available / ADS
      days_to_arrival = next arrival − as_of
      gap_days       = days_to_arrival − cover_days   (> 0: days with nothing to sell)

  The gap is classed ``short`` (≤ ``short_gap_max_days``, default 7), ``medium``
  (≤ ``medium_gap_max_days``, default 30) or ``long`` (more, or no inbound shipment at all). The
  playbook's own bands are "3–5 d", "10–15 d" and "over a month"; the defaults close the holes
  between them so that, e.g., a 10-day gap is medium.
- ``recovery``: back in stock after a stockout of at least ``min_stockout_days`` that ended within
  ``recovery_lookback_days``, while sales (or keyword ranks, where recorded) are still below their
  pre-stockout level. ``recovery_step`` is the rung of the ladder: 1 right after the restock or while
  sales are under ``second_step_sales_ratio`` of the pre-stockout rate, 2 after that, and the SKU is
  ``normal`` again once sales are back to ``recovered_sales_ratio`` and ranks within
  ``rank_tolerance``;
- ``normal``: everything else.

``pre_stockout`` wins over ``recovery``: a SKU that was restocked with too little stock to reach the
next arrival is treated as running out (no recovery discount while stock runs out).

Cover and next arrival come from :func:`stock_cover`, a small function the restock engine's numbers
can replace: pass its frame as ``restock``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.policies.base import check_in_range

PHASES = ("normal", "pre_stockout", "stockout", "recovery")

# Order → arrival days when an in-transit shipment has no ETA (rough playbook transit times).
DEFAULT_TRANSIT_DAYS = {"sea": 45, "rail": 35, "truck": 10, "air": 12, "express": 7}


def as_timestamp(as_of) -> pd.Timestamp:
    """The as-of date as a midnight Timestamp."""
    return pd.Timestamp(as_of).normalize()


def in_stock_flags(sales: pd.DataFrame, inventory: pd.DataFrame | None = None) -> pd.Series:
    """Per sales row: could the listing sell that day?

    Uses ``sales.in_stock`` where given; where it is missing, the latest inventory snapshot on or
    before that day (available = on_hand − reserved > 0); with neither, the day counts as in stock.
    """
    flags = pd.Series(pd.NA, index=sales.index, dtype="boolean")
    if "in_stock" in sales.columns:
        flags = sales["in_stock"].astype("boolean")
    missing = flags.isna()
    if missing.any() and inventory is not None and len(inventory):
        inv = inventory.assign(available=inventory["on_hand"] - inventory["reserved"])
        daily = inv.groupby(["sku", "as_of"], as_index=False)["available"].sum().sort_values("as_of")
        rows = sales.loc[missing, ["sku", "date"]].reset_index().sort_values("date")
        merged = pd.merge_asof(rows, daily, left_on="date", right_on="as_of", by="sku", direction="backward")
        known = merged["available"].notna()
        flags.loc[merged.loc[known, "index"].to_numpy()] = (merged.loc[known, "available"] > 0).to_numpy()
    return flags.fillna(True).astype(bool)


def blended_ads(sales: pd.DataFrame, as_of, windows=(7, 14, 30), by=("sku", "channel"),
                inventory: pd.DataFrame | None = None) -> pd.DataFrame:
    """Average daily sales (ADS): the mean of the per-window averages over in-stock days.

    ``ADS = mean_w( units on in-stock days in (as_of − w, as_of] / number of those days )`` for
    w in ``windows`` (domain-rules.md §1: sellers blend the last 7, 14 and 30 days). Out-of-stock
    days are left out so a stockout does not drag the rate down (censored demand). Windows with no
    in-stock day are skipped; no in-stock day at all gives ADS 0.
    """
    as_of = as_timestamp(as_of)
    by = list(by)
    s = sales.loc[(sales["date"] <= as_of) & (sales["date"] > as_of - pd.Timedelta(days=max(windows)))]
    s = s.assign(_ok=in_stock_flags(s, inventory))
    s = s.loc[s["_ok"]]
    parts = []
    for w in windows:
        sw = s.loc[s["date"] > as_of - pd.Timedelta(days=w)]
        # units per in-stock day: the number of distinct days, summed over channels when by=sku
        g = sw.groupby(by).agg(units=("units", "sum"), days=("date", "nunique"))
        parts.append((g["units"] / g["days"]).rename(f"ads_{w}d"))
    out = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    out["ads"] = out.mean(axis=1, skipna=True).fillna(0.0)
    return out.reset_index()


def latest_available(inventory: pd.DataFrame, as_of) -> pd.DataFrame:
    """Available units per SKU: latest snapshot per location on or before as_of, summed over locations."""
    as_of = as_timestamp(as_of)
    inv = inventory.loc[inventory["as_of"] <= as_of]
    inv = inv.sort_values("as_of").groupby(["sku", "location"], as_index=False).last()
    inv = inv.assign(available=(inv["on_hand"] - inv["reserved"]).clip(lower=0))
    return inv.groupby("sku", as_index=False).agg(available=("available", "sum"), on_hand=("on_hand", "sum"))


def next_arrivals(shipments: pd.DataFrame, as_of, overdue_days: int = 7) -> pd.DataFrame:
    """Earliest expected arrival per SKU among in-transit shipments (``received_date`` empty).

    The expected arrival is the ETA; without an ETA, ``ship_date`` (else ``order_date``) plus
    :data:`DEFAULT_TRANSIT_DAYS` for the mode. An ETA already passed is assumed ``overdue_days``
    after as_of (the shipment is late, not here).
    """
    as_of = as_timestamp(as_of)
    s = shipments.loc[shipments["received_date"].isna() & (shipments["order_date"] <= as_of)].copy()
    cols = ["sku", "next_arrival", "next_shipment_id", "next_mode", "inbound", "arrival_note"]
    if s.empty:
        return pd.DataFrame(columns=cols)
    base = s["ship_date"].fillna(s["order_date"])
    fallback = base + pd.to_timedelta(s["mode"].map(DEFAULT_TRANSIT_DAYS).fillna(45), unit="D")
    s["next_arrival"] = s["eta"].fillna(fallback)
    s["arrival_note"] = np.where(s["eta"].isna(), "no ETA, estimated from mode", "ETA")
    overdue = s["next_arrival"] < as_of
    s.loc[overdue, "next_arrival"] = as_of + pd.Timedelta(days=overdue_days)
    s.loc[overdue, "arrival_note"] = f"ETA passed, assumed +{overdue_days} d"
    inbound = s.groupby("sku")["qty"].sum().rename("inbound")
    first = s.sort_values(["next_arrival", "shipment_id"]).groupby("sku").first()
    out = first.rename(columns={"shipment_id": "next_shipment_id", "mode": "next_mode"})
    out = out.join(inbound).reset_index()
    return out[cols]


def stock_cover(ds, as_of, restock: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per SKU: available, ADS, cover_days, next arrival, days_to_arrival, gap_days.

    ``cover_days = available / ADS`` (ADS summed over channels, :func:`blended_ads`);
    ``gap_days = (next_arrival − as_of) − cover_days``. With a ``restock`` frame (one row per SKU
    from the restock engine) its ``ads`` and ``available`` (else ``on_hand``) replace ours, and its
    ``next_arrival`` / ``next_shipment_id`` / ``next_mode`` columns when present.
    """
    as_of = as_timestamp(as_of)
    products = ds["products"][["sku"]]
    avail = latest_available(ds["inventory"], as_of)
    ads = blended_ads(ds["sales"], as_of, by=("sku",), inventory=ds["inventory"])[["sku", "ads"]]
    arr = next_arrivals(ds["shipments"], as_of)
    out = products.merge(avail, on="sku", how="left").merge(ads, on="sku", how="left")
    out = out.merge(arr, on="sku", how="left")
    out["source"] = "workbench.policies.phase.stock_cover"
    if restock is not None and len(restock):
        r = restock.drop_duplicates("sku").set_index("sku")
        idx = out.set_index("sku").index
        if "ads" in r.columns:
            out["ads"] = r["ads"].reindex(idx).fillna(pd.Series(out["ads"].to_numpy(), index=idx)).to_numpy()
        stock_col = "available" if "available" in r.columns else ("on_hand" if "on_hand" in r.columns else None)
        if stock_col:
            out["available"] = r[stock_col].reindex(idx).fillna(pd.Series(out["available"].to_numpy(), index=idx)).to_numpy()
        for c in ("next_arrival", "next_shipment_id", "next_mode"):
            if c in r.columns:
                vals = r[c].reindex(idx)
                if c == "next_arrival":
                    vals = pd.to_datetime(vals)
                keep = vals.notna().to_numpy()
                out.loc[keep, c] = vals.to_numpy()[keep]
        out["source"] = "restock results"
    out["available"] = out["available"].fillna(0).astype(float)
    out["ads"] = out["ads"].fillna(0.0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(out["ads"] > 0, out["available"] / out["ads"].where(out["ads"] > 0, 1), np.inf)
    out["cover_days"] = np.where(out["available"] <= 0, 0.0, cover)
    out["next_arrival"] = pd.to_datetime(out["next_arrival"])
    out["days_to_arrival"] = (out["next_arrival"] - as_of).dt.days.astype(float)
    out["gap_days"] = out["days_to_arrival"] - out["cover_days"]
    out["inbound"] = pd.to_numeric(out["inbound"], errors="coerce").fillna(0)
    return out


def _runs(df: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive equal ``_ok`` values per sku × channel: start, end, ok, days."""
    d = df.sort_values(["sku", "channel", "date"])
    key = d["sku"].astype(str) + "\x00" + d["channel"].astype(str)
    new = (d["_ok"] != d["_ok"].shift()) | (key != key.shift())
    run_id = new.cumsum()
    return d.groupby(run_id).agg(sku=("sku", "first"), channel=("channel", "first"), ok=("_ok", "first"),
                                 start=("date", "min"), end=("date", "max")).assign(
        days=lambda r: (r["end"] - r["start"]).dt.days + 1)


@dataclass
class StockoutPhase:
    """Classify every SKU × channel into normal / pre_stockout / stockout / recovery.

    Parameters (playbook defaults, domain-rules.md §2)
    ----------
    short_gap_max_days, medium_gap_max_days : gap class limits (short ≤ 7 d, medium ≤ 30 d, long above).
    lookahead_days : a stockout projected further out than this is not yet pre-stockout (45 d).
    min_stockout_days : shortest out-of-stock run that counts as a stockout for recovery (3 d).
    recovery_lookback_days : a stockout that ended longer ago than this is history (60 d).
    pre_window_days : days before the stockout that set the pre-stockout sales and rank level (30 d).
    recovered_sales_ratio : sales back to this share of the pre-stockout rate = recovered (0.9).
    second_step_sales_ratio : sales at this share move the ladder to step 2 (0.6).
    step_min_days : days every step lasts at least, so one good day does not end step 1 (7 d).
    rank_tolerance : ranks within this relative distance of pre-stockout ranks = recovered (0.2).
    """

    short_gap_max_days: float = 7.0
    medium_gap_max_days: float = 30.0
    lookahead_days: float = 45.0
    min_stockout_days: int = 3
    recovery_lookback_days: int = 60
    pre_window_days: int = 30
    recovered_sales_ratio: float = 0.9
    second_step_sales_ratio: float = 0.6
    step_min_days: int = 7
    rank_tolerance: float = 0.2

    def _validate(self) -> None:
        check_in_range("short_gap_max_days", self.short_gap_max_days, 0, 60, closed="both")
        check_in_range("medium_gap_max_days", self.medium_gap_max_days, self.short_gap_max_days, 365, closed="right")
        check_in_range("lookahead_days", self.lookahead_days, 0, 365, closed="right")
        check_in_range("min_stockout_days", self.min_stockout_days, 1, 60, closed="both")
        check_in_range("recovery_lookback_days", self.recovery_lookback_days, 1, 365, closed="both")
        check_in_range("pre_window_days", self.pre_window_days, 1, 365, closed="both")
        check_in_range("recovered_sales_ratio", self.recovered_sales_ratio, 0, 2, closed="right")
        check_in_range("second_step_sales_ratio", self.second_step_sales_ratio, 0, self.recovered_sales_ratio, closed="right")
        check_in_range("step_min_days", self.step_min_days, 0, 60, closed="both")
        check_in_range("rank_tolerance", self.rank_tolerance, 0, 10, closed="left")

    def gap_class(self, gap_days) -> np.ndarray:
        """'short' / 'medium' / 'long' for a gap in days (NaN = no inbound shipment = long)."""
        g = np.asarray(gap_days, dtype=float)
        return np.where(g <= self.short_gap_max_days, "short",
                        np.where(g <= self.medium_gap_max_days, "medium", "long"))

    def classify(self, ds, as_of, restock: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per SKU × channel (channels seen in sales) with the phase and the numbers behind it."""
        self._validate()
        as_of = as_timestamp(as_of)
        cover = stock_cover(ds, as_of, restock)
        sales = ds["sales"]
        sales = sales.loc[sales["date"] <= as_of]
        sales = sales.assign(_ok=in_stock_flags(sales, ds["inventory"]))
        pairs = sales[["sku", "channel"]].drop_duplicates()
        out = pairs.merge(cover, on="sku", how="left")
        last = sales.sort_values("date").groupby(["sku", "channel"]).agg(
            last_sale_date=("date", "last"), last_in_stock=("_ok", "last")).reset_index()
        out = out.merge(last, on=["sku", "channel"], how="left")

        # latest stockout episode per sku × channel
        runs = _runs(sales)
        oos = runs.loc[~runs["ok"] & (runs["days"] >= self.min_stockout_days)]
        oos = oos.sort_values("end").groupby(["sku", "channel"]).last().reset_index()
        oos = oos.rename(columns={"start": "stockout_start", "end": "stockout_end", "days": "stockout_days"})
        out = out.merge(oos[["sku", "channel", "stockout_start", "stockout_end", "stockout_days"]],
                        on=["sku", "channel"], how="left")
        out["restock_date"] = out["stockout_end"] + pd.Timedelta(days=1)
        out["days_since_restock"] = (as_of - out["restock_date"]).dt.days + 1

        # pre-stockout and since-restock sales rates (in-stock days only)
        ok = sales.loc[sales["_ok"], ["sku", "channel", "date", "units"]].merge(
            out[["sku", "channel", "stockout_start", "restock_date"]], on=["sku", "channel"])
        pre = ok.loc[(ok["date"] < ok["stockout_start"])
                     & (ok["date"] >= ok["stockout_start"] - pd.Timedelta(days=self.pre_window_days))]
        post = ok.loc[(ok["date"] >= ok["restock_date"]) & (ok["date"] > as_of - pd.Timedelta(days=7))]
        out = out.merge(pre.groupby(["sku", "channel"])["units"].mean().rename("pre_stockout_ads").reset_index(),
                        on=["sku", "channel"], how="left")
        out = out.merge(post.groupby(["sku", "channel"])["units"].mean().rename("recent_ads").reset_index(),
                        on=["sku", "channel"], how="left")
        out["sales_ratio"] = out["recent_ads"] / out["pre_stockout_ads"]
        out = self._ranks(ds, as_of, out)

        # the phase, in order of precedence
        stockout_now = (out["available"] <= 0) | (out["last_in_stock"] == False)  # noqa: E712
        ongoing = out["stockout_end"].notna() & (out["stockout_end"] >= out["last_sale_date"])
        stockout_now = stockout_now | ongoing
        pre = (~stockout_now) & (out["cover_days"] <= self.lookahead_days) & (
            out["next_arrival"].isna() | (out["gap_days"] > 0))
        recent = (out["stockout_end"].notna()
                  & (out["stockout_end"] >= as_of - pd.Timedelta(days=self.recovery_lookback_days)))
        no_reference = out["pre_stockout_ads"].isna() | (out["pre_stockout_ads"] <= 0)
        sales_ok = no_reference | (out["sales_ratio"] >= self.recovered_sales_ratio)
        rank_ok = (out["rank_ratio"].isna()) | (out["rank_ratio"] <= 1 + self.rank_tolerance)
        young = out["days_since_restock"] <= self.step_min_days
        recovery = (~stockout_now) & (~pre) & recent & ~(sales_ok & rank_ok)
        out["phase"] = np.select([stockout_now, pre, recovery], ["stockout", "pre_stockout", "recovery"], "normal")
        out["gap_class"] = np.where(out["phase"] == "pre_stockout", self.gap_class(out["gap_days"]), "")
        step1 = young | (out["sales_ratio"].fillna(0) < self.second_step_sales_ratio)
        out["recovery_step"] = np.where(out["phase"] == "recovery", np.where(step1, 1, 2), 0)
        out["phase_reason"] = [self._explain(r) for r in out.itertuples(index=False)]
        return out.sort_values(["sku", "channel"]).reset_index(drop=True)

    def _ranks(self, ds, as_of, out: pd.DataFrame) -> pd.DataFrame:
        """Mean organic rank over keywords before the stockout and now (unranked counts as 100)."""
        out = out.assign(pre_rank=np.nan, current_rank=np.nan, rank_ratio=np.nan)
        kr = ds.get("keyword_ranks") if hasattr(ds, "get") else None
        if kr is None or kr.empty:
            return out
        kr = kr.loc[kr["date"] <= as_of].assign(rank=lambda d: d["organic_rank"].astype(float).fillna(100.0))
        episodes = out[["sku", "stockout_start"]].dropna().drop_duplicates("sku")
        k = kr.merge(episodes, on="sku")
        pre = k.loc[(k["date"] < k["stockout_start"])
                    & (k["date"] >= k["stockout_start"] - pd.Timedelta(days=self.pre_window_days))]
        pre = pre.groupby(["sku", "keyword"])["rank"].median()
        now = kr.sort_values("date").groupby(["sku", "keyword"])["rank"].last()
        both = pd.concat([pre.rename("pre"), now.rename("now")], axis=1, join="inner").reset_index()
        agg = both.groupby("sku").agg(pre_rank=("pre", "mean"), current_rank=("now", "mean"))
        out = out.drop(columns=["pre_rank", "current_rank", "rank_ratio"]).merge(
            agg.reset_index(), on="sku", how="left")
        out["rank_ratio"] = out["current_rank"] / out["pre_rank"]
        return out

    def _explain(self, r) -> str:
        arrival = _arrival_text(r)
        if r.phase == "stockout":
            return f"out of stock (available {r.available:.0f}); {arrival}"
        if r.phase == "pre_stockout":
            if pd.isna(r.next_arrival):
                return (f"cover {r.cover_days:.1f} d and no inbound shipment: long gap "
                        f"(> {self.medium_gap_max_days:g} d)")
            return (f"cover {r.cover_days:.1f} d < {r.days_to_arrival:.0f} d to next arrival ({arrival}): "
                    f"{r.gap_class} gap of {r.gap_days:.1f} d")
        if r.phase == "recovery":
            txt = f"back in stock {r.days_since_restock:.0f} d after a {r.stockout_days:.0f}-day stockout, "
            if pd.isna(r.recent_ads):
                txt += "no sales recorded since"
            else:
                txt += f"sales {r.recent_ads:.1f}/d vs {r.pre_stockout_ads:.1f}/d before ({r.sales_ratio:.0%})"
            if not pd.isna(r.rank_ratio):
                txt += f", keyword rank {r.current_rank:.0f} vs {r.pre_rank:.0f} before"
            return txt + f": recovery step {r.recovery_step}"
        cover = "no sales" if not np.isfinite(r.cover_days) else f"cover {r.cover_days:.1f} d"
        return f"{cover}, next arrival {arrival}" if not pd.isna(r.next_arrival) else f"{cover}, {arrival}"


def _arrival_text(r) -> str:
    if pd.isna(r.next_arrival):
        return "no inbound shipment"
    note = "" if getattr(r, "arrival_note", "ETA") in ("ETA", None) or pd.isna(getattr(r, "arrival_note", None)) \
        else f", {r.arrival_note}"
    return f"{r.next_shipment_id} {r.next_mode}, ETA {r.next_arrival:%Y-%m-%d}{note}"


def classify_phases(ds, as_of, restock: pd.DataFrame | None = None, **params) -> pd.DataFrame:
    """Shortcut: ``StockoutPhase(**params).classify(ds, as_of, restock)``."""
    return StockoutPhase(**params).classify(ds, as_of, restock)

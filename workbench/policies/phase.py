"""Where each SKU × channel stands in the stockout cycle at the as-of date (domain-rules.md §2).

Phases:

- ``stockout``: nothing available to sell (available stock ≤ 0, or the channel's latest sales day
  is not in stock by the workbench's one rule, :func:`workbench.stock.in_stock_flags`, read from
  :meth:`workbench.stock.StockSnapshot.sales_in_stock`);
- ``pre_stockout``: in stock, but the sellable stock runs out before the next arrival::

      sellable_cover_days = sellable available / daily demand      (the run's StockSnapshot)
      days_to_arrival     = next expected arrival − as_of           (the snapshot, from leadtime)
      gap_days            = days_to_arrival − sellable_cover_days   (> 0: days with nothing to sell)

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

Stock, daily demand, covers and the next arrival come from the run's
:class:`workbench.stock.StockSnapshot`; nothing here recomputes them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.policies.base import Policy, check_in_range
from workbench.stock import columns_view, pair_positions, stockout_window_rows

PHASES = ("normal", "pre_stockout", "stockout", "recovery")
STOCK_COLUMNS = ["sku", "on_hand", "available", "supplier_held", "inbound", "ads", "cover_days", "sellable_cover_days",
                 "next_arrival", "next_shipment_id", "next_mode", "arrival_note", "days_to_arrival"]


def as_timestamp(as_of) -> pd.Timestamp:
    """The as-of date as a midnight Timestamp."""
    return pd.Timestamp(as_of).normalize()


def replenishment_days(snapshot, restock: pd.DataFrame | None = None, default_mode: str = "sea") -> pd.DataFrame:
    """Rule ``replenishment_gap``: days until the next replenishment can land, per SKU.

        days_to_replenishment = min(open PO's expected arrival − as_of,
                                    lead time of an order placed today at the SKU's usual mode,
                                    the urgent mode's lead time where the restock plan ships an air bridge)

    Lead times from :func:`workbench.policies.restock.order_today_lead_times` (the snapshot's
    supplier × mode table); ``restock``: this run's restock frame (``air_qty``, ``urgent_lead_time_days``).
    Always finite, so every gap has a class.
    """
    from workbench.policies.restock import order_today_lead_times

    modes, lt = order_today_lead_times(snapshot, default_mode)
    order_days = np.maximum(lt["lead_time_days"].to_numpy(float), 1.0)
    order_days = np.where(np.isfinite(order_days), order_days, 60.0)
    po = snapshot.column("days_to_arrival").astype(float)
    po = np.where(np.isfinite(po), np.maximum(po, 0.0), np.inf)
    air = np.full(len(modes), np.inf)
    air_mode = np.full(len(modes), "", dtype=object)
    if restock is not None and len(restock) and "air_qty" in restock.columns:
        r = restock.set_index("sku").reindex(snapshot.sku_index)
        uses_air = (r["air_qty"].fillna(0) > 0).to_numpy()
        air = np.where(uses_air, r["urgent_lead_time_days"].to_numpy(float), np.inf)
        air_mode = np.where(uses_air, r["urgent_mode"].astype(str).to_numpy(dtype=object), "")
    days = np.minimum.reduce([po, order_days, air])
    source = np.where(days == po, "open PO", np.where(days == air, "air bridge (" + air_mode + ")",
                                                        "order today by " + modes))
    return pd.DataFrame({"sku": snapshot.sku_index, "days_to_replenishment": days, "replenishment": source,
                         "order_lead_time_days": order_days, "order_mode": modes})


def stock_columns(snapshot, restock: pd.DataFrame | None = None, default_mode: str = "sea") -> pd.DataFrame:
    """Per SKU from the snapshot: stock, ``ads`` (the snapshot's daily demand), both covers, next arrival,
    the next replenishment (:func:`replenishment_days`) and the gap = replenishment − sellable cover."""
    out = snapshot.skus.rename(columns={"daily_demand": "ads"})[STOCK_COLUMNS].copy()
    out = out.merge(replenishment_days(snapshot, restock, default_mode), on="sku", how="left")
    out["gap_days"] = out["days_to_replenishment"] - out["sellable_cover_days"]
    return out


def _runs(df: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive equal ``_ok`` values per sku × channel: start, end, ok, days.

    One row per run, the days of each pair in date order; computed on integer codes and positions (no
    sorted copy of the ~8 M sales rows at 10,000 SKUs)."""
    key = df.groupby(["sku", "channel"], sort=True, observed=True).ngroup().to_numpy()
    dates = df["date"].to_numpy(dtype="datetime64[ns]")
    order = np.lexsort((dates.view("int64"), key))
    key, ok = key[order], df["_ok"].to_numpy(dtype=bool)[order]
    new = np.r_[True, (ok[1:] != ok[:-1]) | (key[1:] != key[:-1])] if len(order) else np.zeros(0, bool)
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, len(order) - 1] if len(first) else first
    runs = pd.DataFrame({"sku": df["sku"].to_numpy()[order[first]], "channel": df["channel"].to_numpy()[order[first]],
                         "ok": ok[first], "start": dates[order[first]], "end": dates[order[last]]},
                        index=pd.RangeIndex(1, len(first) + 1))
    return runs.assign(days=lambda r: (r["end"] - r["start"]).dt.days + 1)


@dataclass(repr=False)
class StockoutPhase(Policy):
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
    default_mode : ship mode of an order placed today for a SKU with no shipment history ("sea").
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
    default_mode: str = "sea"

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

    def _gap_class(self, gap_days) -> np.ndarray:
        """'short' / 'medium' / 'long' for a gap in days."""
        g = np.asarray(gap_days, dtype=float)
        return np.where(g <= self.short_gap_max_days, "short",
                        np.where(g <= self.medium_gap_max_days, "medium", "long"))

    def recommend(self, snapshot, restock: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per SKU × channel (channels seen in sales) with the phase and the numbers behind it.

        ``restock``: this run's restock frame, so an air bridge in the plan counts as the next replenishment.
        """
        self._validate_all()
        ds, as_of = snapshot.ds, snapshot.as_of
        cover = stock_columns(snapshot, restock, self.default_mode)
        # the one in-stock rule, per channel; a fresh frame of the columns read here (renamed in place, no copy)
        sales = snapshot.sales_in_stock(["sku", "channel", "date", "units", "sessions"], copy=False)
        sales.columns = ["_ok" if c == "in_stock" else c for c in sales.columns]
        sales.index = pd.RangeIndex(len(sales))  # labels = positions (the table's own index may repeat)
        pairs = columns_view(sales, ["sku", "channel"]).drop_duplicates()
        out = pairs.merge(cover, on="sku", how="left")
        # each pair's latest sales day (one row per SKU × channel × day): no sort of ~8 M rows
        latest = sales.groupby(["sku", "channel"], sort=False, observed=True)["date"].idxmax().to_numpy()
        last = sales.loc[latest, ["sku", "channel", "date", "_ok"]].rename(
            columns={"date": "last_sale_date", "_ok": "last_in_stock"})
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
        cols = ["sku", "channel", "date", "units"] + (["sessions"] if "sessions" in sales.columns else [])
        # only SKU × channels with a stockout episode have either rate (NaT bounds select no day)
        episodes = out.loc[out["stockout_start"].notna(), ["sku", "channel", "stockout_start", "restock_date"]]
        pre, post = self._episode_rows(sales, episodes, as_of, cols)
        out = out.merge(pre.groupby(["sku", "channel"])["units"].mean().rename("pre_stockout_ads").reset_index(),
                        on=["sku", "channel"], how="left")
        out = out.merge(post.groupby(["sku", "channel"])["units"].mean().rename("recent_ads").reset_index(),
                        on=["sku", "channel"], how="left")
        out["sales_ratio"] = out["recent_ads"] / out["pre_stockout_ads"]
        out = out.merge(self._conversions(pre, post), on=["sku", "channel"], how="left")
        conv_cols = ["pre_conversion", "recent_conversion", "conversion_ratio"]
        out[conv_cols] = out[conv_cols].astype(float)  # all-NaN without sessions: keep them numeric
        out = self._ranks(ds, as_of, out)

        # the phase, in order of precedence
        stockout_now = (out["available"] <= 0) | (out["last_in_stock"] == False)  # noqa: E712
        ongoing = out["stockout_end"].notna() & (out["stockout_end"] >= out["last_sale_date"])
        stockout_now = stockout_now | ongoing
        pre = (~stockout_now) & (out["sellable_cover_days"] <= self.lookahead_days) & (out["gap_days"] > 0)
        recent = (out["stockout_end"].notna()
                  & (out["stockout_end"] >= as_of - pd.Timedelta(days=self.recovery_lookback_days)))
        no_reference = out["pre_stockout_ads"].isna() | (out["pre_stockout_ads"] <= 0)
        # rule recovery_over: ranks and conversion back (sales where sessions are not recorded)
        measure = out["conversion_ratio"].where(out["conversion_ratio"].notna(), out["sales_ratio"])
        out["recovery_measure"] = np.where(out["conversion_ratio"].notna(), "conversion", "sales")
        sales_ok = no_reference | (measure >= self.recovered_sales_ratio)
        rank_ok = (out["rank_ratio"].isna()) | (out["rank_ratio"] <= 1 + self.rank_tolerance)
        young = out["days_since_restock"] <= self.step_min_days
        recovery = (~stockout_now) & (~pre) & recent & ~(sales_ok & rank_ok)
        out["phase"] = np.select([stockout_now, pre, recovery], ["stockout", "pre_stockout", "recovery"], "normal")
        out["recovery_over"] = (out["phase"] == "normal") & recent
        out["gap_class"] = np.where(out["phase"] == "pre_stockout", self._gap_class(out["gap_days"]), "")
        step1 = young | (measure.fillna(0) < self.second_step_sales_ratio)
        out["recovery_step"] = np.where(out["phase"] == "recovery", np.where(step1, 1, 2), 0)
        out["phase_reason"] = [self._explain(r) for r in out.itertuples(index=False)]
        out["reason"] = out["phase_reason"]
        return out.sort_values(["sku", "channel"]).reset_index(drop=True)

    def _episode_rows(self, sales: pd.DataFrame, episodes: pd.DataFrame, as_of, cols: list) -> tuple:
        """The in-stock sales rows (``cols``) of the ``pre_window_days`` before each pair's stockout and of
        its recovery's last week: looked up by pair and taken, no merge of the ~8 M rows (10,000 SKUs)."""
        if episodes.empty:
            return sales.iloc[:0][cols], sales.iloc[:0][cols]
        at = pair_positions(sales, episodes)
        ok = sales["_ok"].to_numpy(dtype=bool)
        pre_rows = stockout_window_rows(sales, episodes, self.pre_window_days, at=at, mask=ok)
        ok &= at >= 0
        date = sales["date"].to_numpy(dtype="datetime64[ns]")
        restock = episodes["restock_date"].to_numpy(dtype="datetime64[ns]")[np.maximum(at, 0)]
        post = ok & (date >= restock) & (date > (as_of - pd.Timedelta(days=7)).to_datetime64())
        return sales.take(pre_rows)[cols], sales.take(np.flatnonzero(post))[cols]

    @staticmethod
    def _conversions(pre: pd.DataFrame, post: pd.DataFrame) -> pd.DataFrame:
        """Conversion (units / sessions) before the stockout and since the restock, and their ratio."""
        cols = ["sku", "channel", "pre_conversion", "recent_conversion", "conversion_ratio"]
        if "sessions" not in pre.columns:
            return pd.DataFrame(columns=cols)

        def conv(d):
            g = d.groupby(["sku", "channel"])[["units", "sessions"]].sum().astype(float)
            return g["units"] / g["sessions"].where(g["sessions"] > 0)
        both = pd.concat([conv(pre).rename("pre_conversion"), conv(post).rename("recent_conversion")], axis=1)
        both["conversion_ratio"] = both["recent_conversion"] / both["pre_conversion"].where(both["pre_conversion"] > 0)
        return both.reset_index()[cols]

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
            limit = (f"≤ {self.short_gap_max_days:g} d" if r.gap_class == "short" else
                     f"≤ {self.medium_gap_max_days:g} d" if r.gap_class == "medium" else f"> {self.medium_gap_max_days:g} d")
            nxt = (f"open PO {arrival}" if r.replenishment == "open PO" else
                   f"{r.replenishment}" + ("" if pd.isna(r.next_arrival) else f"; open PO {arrival}"))
            if r.replenishment != "open PO" and pd.isna(r.next_arrival):
                nxt += ", nothing inbound"
            return (f"replenishment_gap: sellable cover {r.sellable_cover_days:.1f} d < {r.days_to_replenishment:.1f} d "
                    f"to the next replenishment ({nxt}): {r.gap_class} gap of {r.gap_days:.1f} d ({limit})")
        if r.phase == "recovery":
            txt = f"back in stock {r.days_since_restock:.0f} d after a {r.stockout_days:.0f}-day stockout, "
            if pd.isna(r.recent_ads):
                txt += "no sales recorded since"
            else:
                txt += f"sales {r.recent_ads:.1f}/d vs {r.pre_stockout_ads:.1f}/d before ({r.sales_ratio:.0%})"
            if not pd.isna(r.conversion_ratio):
                txt += f", conversion {r.recent_conversion:.1%} vs {r.pre_conversion:.1%} ({r.conversion_ratio:.0%})"
            if not pd.isna(r.rank_ratio):
                txt += f", keyword rank {r.current_rank:.0f} vs {r.pre_rank:.0f} before"
            return txt + (f": recovery step {r.recovery_step} until rank (≤ {1 + self.rank_tolerance:.0%} of before) and "
                          f"{r.recovery_measure} (≥ {self.recovered_sales_ratio:.0%}) are back")
        cover = ("no sales" if r.ads <= 0 else
                 f"cover {r.cover_days:.1f} d (sellable {r.sellable_cover_days:.1f} d)")
        if r.recovery_over:
            back = [f"keyword rank {r.current_rank:.0f} vs {r.pre_rank:.0f}" if not pd.isna(r.rank_ratio) else "",
                    f"conversion {r.recent_conversion:.1%} vs {r.pre_conversion:.1%}" if not pd.isna(r.conversion_ratio)
                    else (f"sales {r.recent_ads:.1f}/d vs {r.pre_stockout_ads:.1f}/d" if not pd.isna(r.sales_ratio) else "")]
            cover = (f"recovery_over: back in stock {r.days_since_restock:.0f} d after a {r.stockout_days:.0f}-day stockout "
                     f"and {', '.join(b for b in back if b) or 'no reference'} are back; {cover}")
        return f"{cover}, next arrival {arrival}" if not pd.isna(r.next_arrival) else f"{cover}, {arrival}"


def _arrival_text(r) -> str:
    if pd.isna(r.next_arrival):
        return "no inbound shipment"
    late = ", overdue: chase" if "overdue" in str(r.arrival_note) else ""
    return f"{r.next_shipment_id} {r.next_mode}, expected {r.next_arrival:%Y-%m-%d}{late}"

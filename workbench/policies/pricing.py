"""Price recommendations across the stockout cycle (domain-rules.md §2), sized by price elasticity.

Rules (named in the ``rule`` column), applied per SKU × channel on its phase (:mod:`.phase`):

======================================  =============================================================
rule                                    what it does
======================================  =============================================================
``pre_stockout_short_gap_hold``         gap ≤ 7 d: leave the price, let it sell out
``pre_stockout_medium_gap_raise``       gap ≤ 30 d: raise 5–10 % (≤ 5 % on a low-price item)
``pre_stockout_take_back_raise``        conversion fell > 15 % since the raise: take half of it back
``pre_stockout_long_gap_flag``          gap > 30 d or nothing inbound: a planning failure, flagged
``stockout_hold``                       out of stock: keep the price (keep any small raise)
``recovery_step_1_discount``            just restocked: 20–35 % off the pre-stockout price
``recovery_step_2_discount``            sales on the way back: a smaller discount (10 %)
``normal_hold`` / ``normal_model_nudge``  healthy: hold, or move ≤ 3 % toward the profit-optimal price
``recovery_over``                       ranks and conversion back: back to the pre-stockout price
``buybox_lost_win_back``                Buy Box held by another seller at a price ≥ our margin floor:
                                        match it (never a raise while the Buy Box is lost)
``buybox_lost_hijack_playbook``         the other seller's price is below our margin floor: hold, and
                                        run the hijack playbook (test buy, brand-registry complaint)
======================================  =============================================================

``conversion_check`` (every row): after a price raise, conversion since the raise vs the 14 days
before; a drop above ``take_back_conversion_drop`` (15 %) fires it (shown in ``conversion_check``
and ``conversion_drop_pct``; in a medium gap the raise is partly taken back).

Sizing with the elasticity β (:mod:`.elasticity`), inside the playbook band:

- medium gap: the raise that stretches the stock to the arrival,
  ``c_stretch = (sellable_cover_days / days_to_replenishment)^(1/β) − 1``, but no more than the raise that costs
  ``max_demand_drop`` (15 %) of demand, ``c_keep = (1 − 0.15)^(1/β) − 1``; then clipped to [5 %, 10 %].
  While the stock still sells out before the arrival the raise loses no units: the predicted units
  and profit are for the days until the arrival, with units capped by the stock;
- recovery step 1: the discount that would win back the pre-stockout sales rate,
  ``d = 1 − (pre_ads / recent_ads)^(1/β)``, clipped to [20 %, ``recovery_first_discount``]
  (default 25 %, at most 35 %: never 50 %+, that is clearance);
- normal: the constant-elasticity profit optimum ``p* = unit_cost / (1 − fee_rate) · β / (1 + β)``
  (β < −1; Lerner's rule, e.g. Phillips, *Pricing and Revenue Optimization*, §3.4) is shown as
  ``model_price`` where the SKU's own price history gave the slope (rule of thumb and model side by
  side); the price moves toward it only with ``normal_max_change`` > 0, by at most that much.

Guard rails: never below ``unit_cost / (1 − fee_rate − margin_floor)`` (cost + fees + a margin
floor); a raise never goes more than ``buybox_max_premium`` above the lowest competitor on a shared
listing (``offers``); no promotions while stock runs out (``promotions_allowed`` is False in
pre_stockout and stockout). Predicted effects on units and profit use the same β.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.policies.base import Policy, check_in_range
from workbench.policies.elasticity import (ElasticityEstimator, price_change_for_units, profit_change,
                                           units_change)
from workbench.policies.phase import StockoutPhase, as_timestamp
from workbench.stock import columns_view, stockout_window_rows

PRICING_COLUMNS = ["sku", "channel", "current_price", "recommended_price", "change_pct", "phase", "cover_days",
                   "sellable_cover_days", "gap_days", "gap_class", "rule", "reason", "predicted_units_change_pct",
                   "predicted_profit_change_pct"]
# change_pct and predicted_*_pct are percentages (7.0 = +7 %).
EXTRA_COLUMNS = ["predicted_demand_change_pct", "reference_price", "model_price", "floor_price", "elasticity",
                 "elasticity_source", "days_to_arrival", "days_to_replenishment", "replenishment", "recovery_step",
                 "next_shipment_id", "promotions_allowed", "flag", "conversion_check", "conversion_drop_pct",
                 "buybox_lost", "buybox_price"]

MEDIUM_GAP_BAND = (0.05, 0.10)
RECOVERY_FIRST_BAND = (0.20, 0.35)


def current_prices(sales: pd.DataFrame, products: pd.DataFrame, as_of) -> pd.DataFrame:
    """Latest known price per SKU × channel on or before as_of.

    ``sales.price`` where given, else revenue / units of the latest day with sales, else the list
    price in ``products``.
    """
    as_of = as_timestamp(as_of)
    unit = sales["revenue"] / sales["units"].where(sales["units"] > 0)
    p = sales["price"].fillna(unit) if "price" in sales.columns else unit
    del unit
    # only the rows with a price on or before as-of, and only the four columns read (~8 M rows at 10,000 SKUs)
    rows = np.flatnonzero((sales["date"] <= as_of).to_numpy() & p.notna().to_numpy())
    s = pd.DataFrame({"sku": sales["sku"].array[rows], "channel": sales["channel"].array[rows],
                      "date": sales["date"].array[rows], "_p": p.array[rows]})
    del p, rows
    # the price of each pair's latest day (one row per SKU × channel × day): no sort of ~8 M rows
    latest = s.groupby(["sku", "channel"], sort=False, observed=True)["date"].idxmax()
    last = s.loc[latest.to_numpy(), ["sku", "channel", "_p"]].rename(columns={"_p": "current_price"})
    del s
    pairs = columns_view(sales, ["sku", "channel"]).drop_duplicates()
    out = pairs.merge(last, on=["sku", "channel"], how="left").merge(
        products[["sku", "price"]], on="sku", how="left")
    out["current_price"] = out["current_price"].fillna(out["price"])
    return out.drop(columns="price")


def reference_prices(sales: pd.DataFrame, phases: pd.DataFrame, window_days: int = 30) -> pd.Series:
    """Median price in the ``window_days`` before each SKU's stockout (NaN when there was none)."""
    ep = phases[["sku", "channel", "stockout_start"]].dropna()
    idx = pd.MultiIndex.from_frame(phases[["sku", "channel"]])
    if ep.empty:
        return pd.Series(np.nan, index=phases.index)
    # each row's stockout start looked up by its pair, then only the rows in the window are taken
    s = sales.take(stockout_window_rows(sales, ep, window_days))
    unit = s["revenue"] / s["units"].where(s["units"] > 0)
    p = s["price"].fillna(unit) if "price" in s.columns else unit
    ref = s[["sku", "channel"]].assign(_p=p).groupby(["sku", "channel"])["_p"].median()
    return pd.Series(ref.reindex(idx).to_numpy(), index=phases.index)


def median_prices(sales: pd.DataFrame, as_of, days: int) -> pd.DataFrame:
    """Median daily price per SKU × channel over the ``days`` up to as_of (column ``recent_price``)."""
    as_of = as_timestamp(as_of)
    s = sales.loc[(sales["date"] <= as_of) & (sales["date"] > as_of - pd.Timedelta(days=days))]
    unit = s["revenue"] / s["units"].where(s["units"] > 0)
    p = s["price"].fillna(unit) if "price" in s.columns else unit
    return s.assign(recent_price=p).groupby(["sku", "channel"])["recent_price"].median().reset_index()


def conversion_since_price_change(sales: pd.DataFrame, as_of, before_days: int = 14) -> pd.DataFrame:
    """Conversion (units / sessions, in-stock days) since today's price took effect vs the days before.

    Columns sku, channel, price_since, conv_after, conv_before (NaN without a ``sessions`` column or
    with no sessions). Used for the playbook's "take back the raise if conversion falls 10–20 %".
    """
    cols = ["sku", "channel", "price_since", "price_before", "conv_after", "conv_before"]
    if "sessions" not in sales.columns or "price" not in sales.columns:
        return pd.DataFrame(columns=cols)
    as_of = as_timestamp(as_of)
    use = ["sku", "channel", "date", "price", "units", "sessions"] + (["in_stock"] if "in_stock" in sales.columns else [])
    # the rows read, in (sku, channel, date) order: one copy of them (~8 M rows at 10,000 SKUs), no sorted
    # copy of a copy; pair codes hashed once, in label order (= their order of appearance once sorted)
    rows = np.flatnonzero(((sales["date"] <= as_of) & sales["price"].notna()).to_numpy())
    if len(rows) == 0:
        return pd.DataFrame(columns=cols)
    s = columns_view(sales, use)
    key = s.groupby(["sku", "channel"], sort=True, observed=True).ngroup().to_numpy()[rows]
    order = np.lexsort((s["date"].to_numpy(dtype="datetime64[ns]").view("int64")[rows], key))
    s = s.take(rows[order])
    key = pd.factorize(key[order])[0]  # 0, 1, ... in label order: pairs without such rows leave no gap
    del rows, order
    last_price = s["price"].groupby(key).transform("last")
    changed = (s["price"] - last_price).abs() > 0.005
    last_other = s["date"].where(changed).groupby(key).transform("max")
    s["price_since"] = (last_other + pd.Timedelta(days=1)).fillna(s["date"].groupby(key).transform("min"))
    ok = s["in_stock"].fillna(True).astype(bool) if "in_stock" in s.columns else True
    after = ok & (s["date"] >= s["price_since"])
    before = ok & (s["date"] < s["price_since"]) & (s["date"] >= s["price_since"] - pd.Timedelta(days=before_days))
    s["_k"] = key
    # the (sku, channel) of each pair code (s is sorted by pair: codes run 0, 1, ... in label order)
    pair = pd.MultiIndex.from_frame(s[["sku", "channel"]].iloc[np.flatnonzero(np.r_[True, key[1:] != key[:-1]])])

    def by_pair(x):
        x.index = pair[x.index.to_numpy()]
        return x

    def rate(rows):
        g = s.loc[rows, ["_k", "units", "sessions"]].groupby("_k")[["units", "sessions"]].sum().astype("float64")
        g = by_pair(g)
        # plain floats: `sessions` is a nullable column, and pd.NA cannot be tested like NaN later on
        return g["units"] / g["sessions"].where(g["sessions"] > 0)

    since = by_pair(s.groupby("_k")["price_since"].first())
    prev = by_pair(s.loc[s["date"] < s["price_since"], ["_k", "price"]].groupby("_k")["price"].last())
    out = pd.concat([since, prev.rename("price_before"), rate(after).rename("conv_after"),
                     rate(before).rename("conv_before")], axis=1)
    return out.reset_index()[cols]


def latest_offers(offers: pd.DataFrame | None, as_of) -> pd.DataFrame:
    cols = ["sku", "channel", "seller_count", "buybox_winner", "buybox_price", "lowest_competitor_price",
            "market_median_price"]
    if offers is None or offers.empty:
        return pd.DataFrame(columns=cols)
    o = offers.loc[offers["date"] <= as_timestamp(as_of)].sort_values("date")
    return o.groupby(["sku", "channel"]).last().reset_index()[cols]


def _pct(x: float) -> str:
    return f"{x * 100:+.0f}%"


@dataclass(repr=False)
class PricingPolicy(Policy):
    """Playbook pricing across the stockout cycle (see module docstring).

    Parameters
    ----------
    medium_gap_raise : raise for a medium gap when not sized by elasticity (0.07; in [0.05, 0.10]).
    max_demand_drop : a medium-gap raise may cost at most this share of demand at the fitted
        elasticity (0.15; in [0.10, 0.20], the playbook's "take back the raise if conversion falls 10–20 %").
    low_price_usd, low_price_max_raise : items under 10 USD move at most 5 % (no 7.99 → 9.99 jumps).
    recovery_first_discount : step-1 discount (0.25; in [0.20, 0.35]); with elasticity sizing, the
        largest step-1 discount (the sized discount is kept in [0.20, recovery_first_discount]).
    recovery_second_discount : step-2 discount (0.10; below the first).
    margin_floor : minimum margin after cost and fees, as a share of price (0.05).
    buybox_max_premium : a raise stays within this much of the lowest competitor price (0.05).
    raise_reference_days : a medium-gap raise is measured from the lower of today's price and the
        median price of these days (60), so weekly runs do not stack raises.
    take_back_conversion_drop : conversion drop since a raise that takes part of it back (0.15; in
        [0.10, 0.20]); needs ``sales.sessions``.
    take_back_share : share of the raise taken back then (0.5; 1 = all of it).
    normal_max_change : largest model-driven move for a healthy SKU (0 = hold and only show the model's
        price in ``model_price``; up to 0.10). Off by default: the constant-elasticity optimum is
        far from today's price whenever |β| is near 1, and a weekly step would compound.
    use_elasticity : size changes with the fitted elasticity (True) or use the fixed values.
    phase : the :class:`StockoutPhase` that places each SKU × channel in the stockout cycle (its
        parameters are tuned as ``phase__<name>``).
    """

    medium_gap_raise: float = 0.07
    max_demand_drop: float = 0.15
    low_price_usd: float = 10.0
    low_price_max_raise: float = 0.05
    recovery_first_discount: float = 0.25
    recovery_second_discount: float = 0.10
    margin_floor: float = 0.05
    buybox_max_premium: float = 0.05
    raise_reference_days: int = 60
    take_back_conversion_drop: float = 0.15
    take_back_share: float = 0.5
    normal_max_change: float = 0.0
    use_elasticity: bool = True
    phase: StockoutPhase = field(default_factory=StockoutPhase)

    def _validate(self) -> None:
        check_in_range("medium_gap_raise", self.medium_gap_raise, *MEDIUM_GAP_BAND, closed="both")
        check_in_range("max_demand_drop", self.max_demand_drop, 0.10, 0.20, closed="both")
        check_in_range("low_price_usd", self.low_price_usd, 0, 1e6, closed="left")
        check_in_range("low_price_max_raise", self.low_price_max_raise, 0, MEDIUM_GAP_BAND[1], closed="both")
        check_in_range("recovery_first_discount", self.recovery_first_discount, *RECOVERY_FIRST_BAND, closed="both")
        check_in_range("recovery_second_discount", self.recovery_second_discount, 0,
                       self.recovery_first_discount, closed="left")
        check_in_range("margin_floor", self.margin_floor, 0, 0.5, closed="left")
        check_in_range("buybox_max_premium", self.buybox_max_premium, 0, 1, closed="both")
        check_in_range("raise_reference_days", self.raise_reference_days, 1, 365, closed="both")
        check_in_range("take_back_conversion_drop", self.take_back_conversion_drop, 0.10, 0.20, closed="both")
        check_in_range("take_back_share", self.take_back_share, 0, 1, closed="right")
        check_in_range("normal_max_change", self.normal_max_change, 0, 0.10, closed="both")

    def recommend(self, snapshot, phases: pd.DataFrame | None = None,
                  elasticity: ElasticityEstimator | None = None) -> pd.DataFrame:
        """One row per SKU × channel: the design's pricing columns plus the numbers behind them.

        ``phases``: this run's :meth:`StockoutPhase.recommend` output (computed with ``self.phase`` if not given).
        """
        self._validate_all()
        ds, as_of = snapshot.ds, snapshot.as_of
        products = ds["products"]
        ph = phases if phases is not None else self.phase.recommend(snapshot)
        # in_stock resolved once, by the one rule (workbench.stock); read only, so not copied
        sales = snapshot.sales_in_stock(["sku", "channel", "date", "units", "revenue", "price", "sessions"], copy=False)
        est = elasticity if elasticity is not None else ElasticityEstimator().fit(sales, products, as_of)
        df = ph.merge(current_prices(ds["sales"], products, as_of), on=["sku", "channel"], how="left")
        df["reference_price"] = reference_prices(ds["sales"], df).fillna(df["current_price"])
        df = df.merge(median_prices(ds["sales"], as_of, self.raise_reference_days), on=["sku", "channel"], how="left")
        df = df.merge(conversion_since_price_change(sales, as_of), on=["sku", "channel"], how="left")
        df = df.merge(products[["sku", "unit_cost", "fee_rate", "price"]].rename(columns={"price": "list_price"}),
                      on="sku", how="left")
        df = df.merge(est.lookup(df, products)[["sku", "channel", "elasticity", "elasticity_source", "n_weeks"]],
                      on=["sku", "channel"], how="left")
        df = df.merge(latest_offers(ds.get("offers"), as_of), on=["sku", "channel"], how="left")
        df["floor_price"] = df["unit_cost"] / (1 - df["fee_rate"] - self.margin_floor)
        if df.empty:  # no sales on or before as_of: nothing to price
            return pd.DataFrame(columns=PRICING_COLUMNS + EXTRA_COLUMNS)
        rows = [self._one(r) for r in df.itertuples(index=False)]
        res = pd.DataFrame(rows, index=df.index)
        out = pd.concat([df, res], axis=1)
        out["change_pct"] = ((out["recommended_price"] / out["current_price"] - 1) * 100).round(1)
        el = out["elasticity"].to_numpy(float)
        chg = out["recommended_price"] / out["current_price"] - 1
        demand = units_change(chg, el)
        prof = profit_change(out["current_price"], out["recommended_price"], out["unit_cost"], out["fee_rate"], el)
        units = demand.copy()
        # Running out: units sold until the arrival are capped by the stock on hand, so a raise that
        # still sells out before the arrival loses no units and earns its full margin gain.
        pre = (out["phase"] == "pre_stockout").to_numpy() & np.isfinite(out["days_to_replenishment"].to_numpy(float))
        if pre.any():
            horizon = out["ads"].to_numpy(float) * out["days_to_replenishment"].to_numpy(float)
            stock = out["available"].to_numpy(float)
            base = np.minimum(horizon, stock)
            new = np.minimum(horizon * (1 + demand), stock)
            m0 = out["current_price"] * (1 - out["fee_rate"]) - out["unit_cost"]
            m1 = out["recommended_price"] * (1 - out["fee_rate"]) - out["unit_cost"]
            with np.errstate(divide="ignore", invalid="ignore"):
                u = np.where(base > 0, new / np.where(base > 0, base, 1) - 1, 0.0)
                p = np.where((base > 0) & (m0 > 0), new * m1 / np.where((base > 0) & (m0 > 0), base * m0, 1) - 1,
                             np.nan)
            units = np.where(pre, u, units)
            prof = np.where(pre, p, prof)
        out["predicted_demand_change_pct"] = (demand * 100).round(1)
        out["predicted_units_change_pct"] = np.round(units * 100, 1)
        out["predicted_profit_change_pct"] = np.round(np.nan_to_num(np.asarray(prof, float) * 100, nan=0.0), 1)
        out["promotions_allowed"] = ~out["phase"].isin(["pre_stockout", "stockout"])
        out["buybox_lost"] = out["buybox_winner"].astype(str) == "other"
        out["reason"] = [self._reason(r) for r in out.itertuples(index=False)]
        out = out[PRICING_COLUMNS + EXTRA_COLUMNS]
        for c in ("elasticity", "cover_days", "sellable_cover_days", "gap_days"):
            out[c] = out[c].astype(float).round(2)
        return out.sort_values(["sku", "channel"]).reset_index(drop=True)

    # -- one SKU × channel ---------------------------------------------------------------------
    def _one(self, r) -> dict:
        """The rule for one SKU × channel by phase, then the guard rails; the price and the texts behind it."""
        cur = float(r.current_price)
        how, guard, flag, model_price = "", "", "", np.nan
        if r.phase == "stockout":
            rule, new = "stockout_hold", cur
        elif r.phase == "pre_stockout" and r.gap_class == "short":
            rule, new = "pre_stockout_short_gap_hold", cur
        elif r.phase == "pre_stockout" and r.gap_class == "long":
            rule, new, flag = "pre_stockout_long_gap_flag", cur, "planning failure: gap over a month"
        elif r.phase == "pre_stockout":
            rule, new, how, guard = self._medium_gap(r)
        elif r.phase == "recovery":
            rule, new, how, guard = self._recovery(r)
        elif r.recovery_over and cur < float(r.reference_price) * 0.995:
            # back to the pre-stockout price, in steps of at most the step-2 discount (no sharp jump)
            ref = float(r.reference_price)
            rule, new = "recovery_over", min(ref, cur * (1 + self.recovery_second_discount))
            how = (f"ranks and conversion are back: the pre-stockout price {ref:.2f} again" if new >= ref - 0.005 else
                   f"ranks and conversion are back: toward the pre-stockout price {ref:.2f}, at most "
                   f"+{self.recovery_second_discount:.0%} a week")
        else:
            rule, new, how, model_price = self._normal(r)
        if str(r.buybox_winner) == "other" and r.phase != "stockout":
            rule, new, how, flag = self._buybox_lost(r, rule, new, how, flag)
        new, guard, flag = self._guard_rails(r, new, guard, flag)
        check = self._conversion_check(r)
        return {"recommended_price": round(float(new), 2), "rule": rule, "how_text": how, "guard_text": guard,
                "flag": flag, "model_price": round(float(model_price), 2), "conversion_check": check[0],
                "conversion_drop_pct": check[1]}

    def _buybox_lost(self, r, rule, new, how, flag) -> tuple:
        """Buy Box held by another seller: never a raise. When its price is at or above our margin floor and
        the phase's price is above it, match it (``buybox_lost_win_back``); a phase price already at or
        below it stands (it wins the Buy Box back). Below our floor: do not chase it, hold, and run the
        hijack playbook (``buybox_lost_hijack_playbook`` in the normal phase; named in ``flag`` always)."""
        cur, bb = float(r.current_price), float(r.buybox_price)
        if not np.isfinite(bb):
            return rule, min(new, cur), how, flag
        if bb >= r.floor_price:
            if new > bb:
                rule, new = "buybox_lost_win_back", bb
                how = (f"Buy Box held by another seller at {bb:.2f} vs our {cur:.2f}: price to win it back, "
                       f"{bb:.2f} (≥ margin floor {r.floor_price:.2f})")
            resp = f"price response to {min(new, bb):.2f} (margin floor {r.floor_price:.2f})"
        else:
            new = min(new, cur)
            resp = "hijack playbook: test buy, brand-registry complaint"
            if r.phase == "normal":
                rule = "buybox_lost_hijack_playbook"
                how = (f"Buy Box held by another seller at {bb:.2f}, below our margin floor {r.floor_price:.2f}: "
                       f"do not chase it; {resp}")
        flag = (flag + "; " if flag else "") + f"Buy Box lost at {bb:.2f}: {resp}"
        return rule, new, how, flag

    def _conversion_check(self, r) -> tuple:
        """Rule ``conversion_check``: after a raise (price_before → current), conversion after vs before."""
        known = (r.conv_before == r.conv_before and r.conv_before > 0 and r.conv_after == r.conv_after
                 and r.price_before == r.price_before and r.price_before < float(r.current_price) - 0.005)
        if not known:
            return "", np.nan
        drop = 1 - r.conv_after / r.conv_before
        if drop <= self.take_back_conversion_drop:
            return "", round(-drop * 100, 1)
        return (f"conversion_check: conversion {r.conv_before:.1%} → {r.conv_after:.1%} ({-drop:+.0%}, beyond "
                f"−{self.take_back_conversion_drop:.0%}) since the raise {r.price_before:.2f} → {float(r.current_price):.2f} "
                f"on {r.price_since:%Y-%m-%d}: take back part of it"), round(-drop * 100, 1)

    def _medium_gap(self, r) -> tuple:
        """Medium gap: raise 5–10 %, sized by elasticity; no stacking; take back a raise that hurt conversion."""
        cur, beta = float(r.current_price), float(r.elasticity)
        how, guard = "", ""
        rule = "pre_stockout_medium_gap_raise"
        lo, hi = MEDIUM_GAP_BAND
        if self.use_elasticity and r.days_to_replenishment > 0:
            stretch = float(price_change_for_units(max(r.sellable_cover_days, 1e-3) / r.days_to_replenishment, beta))
            keep = float(price_change_for_units(1 - self.max_demand_drop, beta))
            c = float(np.clip(min(stretch, keep), lo, hi))
            if stretch <= keep and np.isclose(stretch, c):
                how = "sized to stretch cover to the arrival"
            elif keep < stretch and np.isclose(keep, c):
                how = (f"largest raise that keeps the demand drop within {self.max_demand_drop:.0%}; "
                       f"stretching cover to the arrival would need {stretch:+.0%}")
            else:
                how = (f"stretching cover to the arrival would need {stretch:+.0%}, a {self.max_demand_drop:.0%} "
                       f"demand drop allows {keep:+.0%}; kept in the {lo:.0%}–{hi:.0%} band")
        else:
            c = self.medium_gap_raise
        if cur < self.low_price_usd and c > self.low_price_max_raise:
            c = self.low_price_max_raise
            guard += f"; capped at {c:+.0%} on a low-price item (< {self.low_price_usd:g} USD)"
        base = min(cur, float(r.recent_price)) if r.recent_price == r.recent_price else cur
        new = base * (1 + c)
        drop = (1 - r.conv_after / r.conv_before) if (r.conv_before == r.conv_before and r.conv_before > 0
                                                      and r.conv_after == r.conv_after) else np.nan
        if base < cur * 0.995 and drop == drop and drop > self.take_back_conversion_drop:
            # the playbook: conversion fell more than 10-20 % after the raise, take part of it back
            rule = "pre_stockout_take_back_raise"
            new = base + (cur - base) * (1 - self.take_back_share)
            how = (f"conversion {r.conv_before:.1%} → {r.conv_after:.1%} ({-drop:+.0%}) since the raise to "
                   f"{cur:.2f} on {r.price_since:%Y-%m-%d}; take back {self.take_back_share:.0%} of it")
        elif new <= cur * 1.005:
            # last week's raise is still in place: a weekly run must not stack raises
            new = cur
            guard += (f"; the raise is already in place (today {cur:.2f} vs {base:.2f}, the "
                      f"{self.raise_reference_days}-day median), held")
        elif base < cur:
            guard += f"; measured from the {self.raise_reference_days}-day median price {base:.2f}"
        return rule, new, how, guard

    def _recovery(self, r) -> tuple:
        """Recovery: step 1 20–35 % off the pre-stockout price (sized by elasticity), step 2 10 %."""
        cur, beta = float(r.current_price), float(r.elasticity)
        how, guard = "", ""
        ref = float(r.reference_price)
        if r.recovery_step == 1:
            rule = "recovery_step_1_discount"
            d = self.recovery_first_discount
            ratio = r.pre_stockout_ads / r.recent_ads if r.recent_ads and r.recent_ads > 0 else np.nan
            if self.use_elasticity and np.isfinite(ratio) and ratio > 1:
                raw = 1 - float(np.power(ratio, 1 / beta))
                d = float(np.clip(raw, RECOVERY_FIRST_BAND[0], self.recovery_first_discount))
                how = (f"sized to win back {r.pre_stockout_ads:.1f}/d" if np.isclose(raw, d) else
                       f"winning back {r.pre_stockout_ads:.1f}/d would need {-raw:+.0%}, kept in the "
                       f"{RECOVERY_FIRST_BAND[0]:.0%}–{self.recovery_first_discount:.0%} band")
        else:
            rule, d = "recovery_step_2_discount", self.recovery_second_discount
        new = ref * (1 - d)
        how = f"off the pre-stockout price {ref:.2f}" + (f"; {how}" if how else "")
        if new > cur * 1.005:
            guard += f"; today's price {cur:.2f} is already below this rung: step up to it"
        return rule, new, how, guard

    def _normal(self, r) -> tuple:
        """Healthy: hold; the constant-elasticity profit optimum is shown, applied only up to normal_max_change."""
        cur, beta = float(r.current_price), float(r.elasticity)
        how, model_price = "", np.nan
        rule, new = "normal_hold", cur
        own = str(r.elasticity_source).startswith("own history")
        if self.use_elasticity and own and beta < -1:
            opt = r.unit_cost / (1 - r.fee_rate) * beta / (1 + beta)
            model_price = opt
            step = float(np.clip(opt / cur - 1, -self.normal_max_change, self.normal_max_change))
            if abs(step) >= 0.005:
                rule, new = "normal_model_nudge", cur * (1 + step)
                how = (f"profit-optimal price {opt:.2f} at elasticity {beta:.1f}, step capped at "
                       f"±{self.normal_max_change:.0%}")
            else:
                how = (f"model view: profit-optimal price {opt:.2f} at elasticity {beta:.1f}, not applied "
                       f"(normal_max_change = {self.normal_max_change:g})")
        return rule, new, how, model_price

    def _guard_rails(self, r, new: float, guard: str, flag: str) -> tuple:
        """Buy Box premium cap, margin floor, and flags for a price already below the floor."""
        cur = float(r.current_price)
        if new > cur and r.seller_count == r.seller_count and r.seller_count > 1 \
                and r.lowest_competitor_price == r.lowest_competitor_price:
            cap = max(cur, r.lowest_competitor_price * (1 + self.buybox_max_premium))
            if new > cap:
                new = cap
                guard += (f"; raise capped at {self.buybox_max_premium:.0%} above the lowest competitor "
                          f"({r.lowest_competitor_price:.2f}) to keep the Buy Box")
        if new < r.floor_price and new < cur:
            new = min(cur, r.floor_price)
            guard += (f"; held at the margin floor {r.floor_price:.2f} (cost {r.unit_cost:.2f} + "
                      f"fees {r.fee_rate:.0%} + {self.margin_floor:.0%} margin)")
        if cur < r.floor_price:
            flag = (flag + "; " if flag else "") + f"price below margin floor {r.floor_price:.2f}"
        return new, guard, flag

    def _reason(self, r) -> str:
        chg = r.recommended_price / r.current_price - 1
        words = {
            "stockout_hold": "hold the price (keep any raise made before)",
            "pre_stockout_short_gap_hold": "hold the price and let it sell out",
            "pre_stockout_long_gap_flag": "a planning failure to fix (expedite, air freight), price held",
            "pre_stockout_medium_gap_raise": f"raise {_pct(chg)}" if abs(chg) > 1e-9 else "no raise left after the guard rails",
            "pre_stockout_take_back_raise": f"take back part of the raise, {_pct(chg)}",
            "recovery_step_1_discount": f"{_pct(r.recommended_price / r.reference_price - 1)}",
            "recovery_step_2_discount": f"{_pct(r.recommended_price / r.reference_price - 1)}",
            "normal_hold": "healthy, hold the price",
            "normal_model_nudge": f"healthy, {_pct(chg)} toward the model's price",
            "buybox_lost_win_back": f"buybox_lost_win_back {_pct(chg)}",
            "recovery_over": f"recovery_over {_pct(chg)}",
            "buybox_lost_hijack_playbook": "buybox_lost_hijack_playbook, price held",
        }[r.rule]
        text = f"{r.phase_reason if hasattr(r, 'phase_reason') else r.phase}: {words}"
        if r.how_text:
            text += f" {r.how_text}" if r.rule.startswith(("recovery", "buybox")) else f" ({r.how_text})"
        if abs(chg) > 1e-9 and r.phase == "pre_stockout" and r.predicted_units_change_pct != r.predicted_demand_change_pct:
            text += (f" (elasticity {r.elasticity:.1f} → {r.predicted_demand_change_pct:+.0f}% demand; stock until the "
                     f"arrival: {r.predicted_units_change_pct:+.0f}% units sold, {r.predicted_profit_change_pct:+.0f}% profit)")
        elif abs(chg) > 1e-9:
            text += (f" (elasticity {r.elasticity:.1f} → {r.predicted_units_change_pct:+.0f}% units, "
                     f"{r.predicted_profit_change_pct:+.0f}% profit)")
        text += r.guard_text
        bb = [f for f in str(r.flag).split("; ") if f.startswith("Buy Box lost")]
        if bb and not r.rule.startswith("buybox"):
            text += f"; {bb[0]}"
        if r.conversion_check:
            text += f"; {r.conversion_check}"
        if r.phase in ("pre_stockout", "stockout"):
            text += "; no promotions or deals while stock runs out"
        return text

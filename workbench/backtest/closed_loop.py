"""Pricing and ads in closed loop: three sellers replayed week by week in the generator's market.

Arms (each decides every Monday from its own view, :func:`workbench.backtest.market.view_for`):

- ``workbench``: the pipeline's calls (:class:`workbench.pipeline.Pipeline`): forecast on the
  view's censoring-corrected history, stock snapshot, ``RestockPolicy``, ``StockoutPhase``,
  ``PricingPolicy`` and ``AdBudgetPolicy`` at their defaults; orders = the restock plan (air bridge
  by the urgent mode, the rest by the main mode);
- ``playbook``: :class:`PlaybookAsWritten`, domain-rules.md §2 with its fixed percentages, and the
  playbook's restock rule of §1 (:func:`workbench.backtest.adapters.rule_of_thumb_orders`);
- ``hold``: price and budgets as they were at the start, the workbench's restock (so workbench vs
  hold is the value of the pricing and ads policies at the same restock policy).

The forecast is refreshed every ``forecast_every`` weeks (fast: no global model, one backtest
window) and the elasticity re-fitted every ``elasticity_every`` weeks; both are cached per arm.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.backtest import market as M
from workbench.backtest.replay import Progress

FORECAST_HORIZON_DAYS = 120


def restock_orders(restock: pd.DataFrame, label: str) -> pd.DataFrame:
    """Orders from a restock frame: ``air_qty`` by its urgent mode, ``main_qty`` by its main mode."""
    rows = []
    for r in restock[restock["recommended_qty"] > 0].itertuples(index=False):
        if r.air_qty > 0:
            rows.append(dict(sku=str(r.sku), qty=int(r.air_qty), mode=str(r.urgent_mode),
                             reason=f"{label} air bridge: {r.reason}"))
        if r.main_qty > 0:
            rows.append(dict(sku=str(r.sku), qty=int(r.main_qty), mode=str(r.main_mode), reason=f"{label}: {r.reason}"))
    return pd.DataFrame(rows, columns=["sku", "qty", "mode", "reason"])


@dataclass
class Decision:
    price: np.ndarray
    budget: np.ndarray
    orders: pd.DataFrame
    rule: np.ndarray  # per SKU, the pricing rule that set the price


class WorkbenchRestock:
    """The pipeline's forecast → snapshot → restock, with the forecast cached for ``forecast_every`` weeks."""

    def __init__(self, forecast_every: int = 2):
        from workbench.pipeline import Pipeline

        self.pipeline = Pipeline()
        self.forecast_every = forecast_every
        self.fc, self.fc_day = None, None

    def snapshot_and_restock(self, view, day):
        from workbench.forecast.api import forecast_frame
        from workbench.forecast.history import demand_history
        from workbench.stock import build_snapshot

        as_of = day - pd.Timedelta(days=1)
        if self.fc is None or (day - self.fc_day).days >= 7 * self.forecast_every:
            hist = demand_history(view.tables, as_of)
            self.fc = forecast_frame(hist, horizon=FORECAST_HORIZON_DAYS, freq="D", levels=[80, 95],
                                     events=view.get("events"), overrides={}, n_jobs=1, use_global_model=False,
                                     n_windows=1)
            self.fc_day = day
        snap = build_snapshot(view, as_of, forecast=self.fc.forecast, history=self.fc.history)
        return snap, self.pipeline.restock.recommend(snap)


def _by_sku(frame: pd.DataFrame, col: str, skus: list, channel: str = "amazon_us") -> pd.Series:
    f = frame[frame["channel"].astype(str) == channel] if "channel" in frame.columns else frame
    return f.drop_duplicates("sku").set_index("sku")[col].reindex(skus)


class WorkbenchArm:
    """Arm ``workbench``: the pipeline's restock, pricing and ads steps at their defaults."""

    name = "workbench"

    def __init__(self, forecast_every: int = 2, elasticity_every: int = 4, pipeline=None):
        self.restock = WorkbenchRestock(forecast_every)
        if pipeline is not None:
            self.restock.pipeline = pipeline
        self.elasticity_every = elasticity_every
        self.est, self.est_day = None, None

    def __call__(self, m: M.Market, s: M.ArmState, view, day) -> Decision:
        from workbench.policies.elasticity import ElasticityEstimator

        p = self.restock.pipeline
        snap, restock = self.restock.snapshot_and_restock(view, day)
        phases = p.pricing.phase.recommend(snap, restock=restock)
        if self.est is None or (day - self.est_day).days >= 7 * self.elasticity_every:
            self.est = ElasticityEstimator().fit(view["sales"], view["products"], snap.as_of, inventory=view["inventory"])
            self.est_day = day
        pricing = p.pricing.recommend(snap, phases=phases, elasticity=self.est)
        ads = p.ads.recommend(snap, phases=phases)
        price = _by_sku(pricing, "recommended_price", m.skus).fillna(pd.Series(s.price, index=m.skus)).to_numpy(float)
        rule = _by_sku(pricing, "rule", m.skus).fillna("none").to_numpy(dtype=object)
        budget = (ads.set_index("campaign")["recommended_budget"].reindex(m.camp["campaign"])
                  .fillna(pd.Series(s.budget, index=m.camp["campaign"])).to_numpy(float))
        return Decision(price, budget, restock_orders(restock, "workbench"), rule)


class HoldArm:
    """Arm ``hold``: prices and budgets as at the start; orders from the workbench's restock."""

    name = "hold"

    def __init__(self, forecast_every: int = 2):
        self.restock = WorkbenchRestock(forecast_every)

    def __call__(self, m: M.Market, s: M.ArmState, view, day) -> Decision:
        _, restock = self.restock.snapshot_and_restock(view, day)
        return Decision(m.start_price.copy(), m.start_budget.copy(), restock_orders(restock, "workbench restock"),
                        np.full(m.n, "hold", dtype=object))


@dataclass
class PlaybookAsWritten:
    """The seller playbook's stockout cycle (domain-rules.md §2) with its fixed percentages.

    Per SKU, from the playbook's own numbers (ADS blend, available stock, the next arrival):
    cover = available / ADS; gap = days to the next replenishment (open PO, else an order placed
    today by the usual mode) − cover.

    - stockout (nothing available): price held; Sponsored Brands / Display paused, SP left alone;
    - before a stockout (gap > 0): short gap (≤ ``short_gap_days``) hold; medium (≤ ``long_gap_days``)
      raise ``medium_gap_raise`` from the reference price; longer: a planning failure, price held;
      budgets cut ``pre_stockout_ad_cut`` from their reference, auto/broad campaigns with 14-day ACoS
      above break-even (or spend and no sales) paused, never all off;
    - after a restock (out of stock during the last week): two weeks of recovery, price
      ``recovery_discounts`` off the reference, budgets × ``recovery_ad_multipliers``;
    - otherwise normal: the reference price and budgets (what the seller ran before the cycle).
    """

    medium_gap_raise: float = 0.075       # "raise price 5–10 %"
    pre_stockout_ad_cut: float = 0.35     # "cut daily budgets 30–40 %"
    short_gap_days: float = 7.0           # "3–5 days, back within a week"
    long_gap_days: float = 30.0           # "over a month is a planning failure"
    recovery_discounts: tuple = (0.25, 0.10)       # "first 20–35 % off, then smaller discounts"
    recovery_ad_multipliers: tuple = (1.5, 1.25)   # "raise budgets to 1–2× the pre-stockout level"
    restock: str = "rule"                 # "rule": the playbook's restock rule; "workbench": RestockPolicy
    name: str = "playbook"
    _mem: dict = field(default_factory=dict, repr=False)

    def __call__(self, m: M.Market, s: M.ArmState, view, day) -> Decision:
        from workbench.backtest.adapters import rule_of_thumb_orders
        from workbench.policies.phase import replenishment_days
        from workbench.stock import build_snapshot

        as_of = day - pd.Timedelta(days=1)
        if self.restock == "workbench":
            if "wb" not in self._mem:
                self._mem["wb"] = WorkbenchRestock()
            _, restock = self._mem["wb"].snapshot_and_restock(view, day)
            orders = restock_orders(restock, "workbench restock")
        else:
            orders = rule_of_thumb_orders(view, day)
        snap = build_snapshot(view, as_of)  # no forecast: daily demand is the playbook's ADS blend
        sk = snap.skus.set_index("sku").reindex(m.skus)
        ads_rate = sk["ads_blend"].to_numpy(float)
        avail = sk["available"].to_numpy(float)
        repl = replenishment_days(snap).set_index("sku")["days_to_replenishment"].reindex(m.skus).to_numpy(float)
        cover = np.where(ads_rate > 0, avail / np.where(ads_rate > 0, ads_rate, 1), np.inf)
        gap = repl - cover
        ref_p, ref_b = m.start_price, m.start_budget
        step = self._mem.setdefault("recovery_step", np.zeros(m.n, dtype=int))
        w = int((day - m.start).days // 7)
        was_out = (s.ledger["in_stock"][:, max(7 * w - 7, 0):7 * w] == 0).any(axis=1) if w > 0 else np.zeros(m.n, bool)

        stockout = avail <= 0
        step[:] = np.where(stockout, 0, np.where(was_out, 1, np.where(step == 1, 2, 0)))
        pre = ~stockout & (gap > 0)  # no promotions while stock runs out: wins over recovery
        recovery = ~stockout & ~pre & (step > 0)
        medium = pre & (gap > self.short_gap_days) & (gap <= self.long_gap_days)
        normal = ~stockout & ~recovery & ~pre
        # the reference price and budgets are the seller's own before any cycle (the start's)
        price = s.price.copy()
        price = np.where(medium, ref_p * (1 + self.medium_gap_raise), price)
        price = np.where(pre & ~medium, s.price, price)
        disc = np.array([0.0, *self.recovery_discounts])[np.minimum(step, 2)]
        price = np.where(recovery, ref_p * (1 - disc), price)
        price = np.where(normal, ref_p, price)
        rule = np.select([stockout, recovery, medium, pre, normal],
                         ["stockout_hold", "recovery_discount", "pre_stockout_medium_raise", "pre_stockout_hold",
                          "normal_hold"], "normal_hold").astype(object)
        budget = self._budgets(m, s, view, as_of, stockout, pre, recovery, normal, step, ref_b)
        return Decision(np.round(price, 2), budget, orders, rule)

    def _budgets(self, m, s, view, as_of, stockout, pre, recovery, normal, step, ref_b) -> np.ndarray:
        c = m.camp
        ci = c["i"].to_numpy()
        budget = ref_b.copy()
        sbsd = c["ad_type"].isin(["SB", "SD"]).to_numpy()
        budget = np.where(stockout[ci] & sbsd, 0.0, budget)
        budget = np.where(stockout[ci] & ~sbsd, s.budget, budget)
        mult = np.array([1.0, *self.recovery_ad_multipliers])[np.minimum(step, 2)]
        budget = np.where(recovery[ci], ref_b * mult[ci], budget)
        # before a stockout: cut, pausing poor auto / broad campaigns
        ads = view["ads"]
        recent = ads[ads["date"] > as_of - pd.Timedelta(days=14)].groupby("campaign")[["spend", "ad_sales"]].sum()
        recent = recent.reindex(c["campaign"]).fillna(0.0)
        unit_margin = s.price * (1 - m.sp["fee_rate"].to_numpy()) - m.sp["unit_cost"].to_numpy()
        breakeven = np.clip(unit_margin / s.price, 0, None)[ci]
        acos = recent["spend"].to_numpy() / np.maximum(recent["ad_sales"].to_numpy(), 1e-9)
        poor = c["targeting"].isin(["auto", "broad"]).to_numpy() & (recent["spend"].to_numpy() > 0) & (acos > breakeven)
        cut = np.where(poor, 0.0, ref_b * (1 - self.pre_stockout_ad_cut))
        for i in np.flatnonzero(pre):
            mine = ci == i
            keep = cut[mine]
            if keep.sum() <= 0 and ref_b[mine].sum() > 0:  # never switch all ads off
                best = np.argmin(np.where(ref_b[mine] > 0, acos[mine], np.inf))
                keep[best] = ref_b[mine][best] * (1 - self.pre_stockout_ad_cut)
            budget[mine] = keep
        return np.round(budget, 2)


def default_arms(forecast_every: int = 2, elasticity_every: int = 4) -> list:
    return [WorkbenchArm(forecast_every, elasticity_every), PlaybookAsWritten(), HoldArm(forecast_every)]


def run_closed_loop(m: M.Market, arms: list, progress: bool | None = None) -> dict:
    """Replay every arm over the market's weeks; returns summaries, weekly decisions and orders."""
    bar = Progress(m.weeks * len(arms), "closed loop", progress)
    states = {}
    for arm in arms:
        s = M.new_arm_state(m, arm.name)
        for w in range(m.weeks):
            day = m.start + pd.Timedelta(days=7 * w)
            view = M.view_for(m, s, day)
            dec = arm(m, s, view, day)
            M.place_orders(m, s, w, dec.orders)
            M.play_week(m, s, w, dec.price, dec.budget)
            wk = slice(7 * w, 7 * w + 7)
            s.decisions.append(pd.DataFrame({
                "arm": arm.name, "week": w + 1, "sku": m.skus, "price": np.round(dec.price, 2),
                "price_vs_start": np.round(dec.price / m.start_price, 3),
                "ad_budget": np.bincount(m.camp["i"].to_numpy(), dec.budget, minlength=m.n).round(2),
                "rule": dec.rule, "sold": s.ledger["sold"][:, wk].sum(1), "lost": s.ledger["lost"][:, wk].sum(1),
                "end_stock": s.stock.copy(), "profit_before_freight_carrying": (
                    s.ledger["revenue"] - s.ledger["cogs"] - s.ledger["fees"] - s.ledger["ad_spend"])[:, wk].sum(1)}))
            bar.step(arm.name)
        states[arm.name] = s
    table = pd.DataFrame([M.summary(m, s) for s in states.values()])
    return dict(summary=table, states=states,
                decisions=pd.concat([d for s in states.values() for d in s.decisions], ignore_index=True),
                orders=pd.DataFrame([o for s in states.values() for o in s.orders]))

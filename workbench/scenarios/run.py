"""What-if runs: forecast once, derive each scenario's demand and lead times, replay it week by week, compare, save.

Demand per scenario is the baseline forecast's quantiles times a factor per SKU and day:

    factor_{i,t} = m_{i,t} · (1 + Δp)^{β_i} · (1 + Δads_units_i / base_units_i)

- m: the scenario's demand multiplier inside its date window (and SKU/category filter), else 1;
- (1 + Δp)^β: constant-elasticity response to a price change, β_i from
  :class:`workbench.policies.elasticity.ElasticityEstimator` (averaged over channels);
- ads: each campaign's fitted spend → sales curve A·(1 − exp(−s/B))
  (:func:`workbench.policies.ads.fit_response_curves`, the ads policy's own curves) moved from today's
  spend s to s·(1 + Δb); the extra ad sales in USD / price are extra units per day, relative to the
  SKU's forecast over the next 28 days (capped to ×0.2…×3). Demand reacts to the budget only through
  these curves: a campaign already on the flat part of its curve gains little (the ``ad_factor`` and
  ``extra_ad_sales_usd`` columns show it per SKU).

Lead times: ``extra_days`` is added to the supplier × mode table the policy plans with, to the
simulated lead time of every order by those modes, and to the arrival of shipments in transit.
A price change is the list price the policy sees (its cost-optimal service level reads the margin) and
the revenue of every unit. "Air for top N" makes air the usual mode of those SKUs.

Each scenario is then replayed (:mod:`.simulate`): ``n_paths`` drawn futures and the median one, the
pipeline's restock, stockout-phase, pricing and ads steps deciding every simulated week
(:func:`workbench.backtest.adapters.workbench_week`) with the scenario's forecast (extended flat past
the forecast horizon so late weeks can still plan a lead time ahead) and lead-time table. The factor
above is what the restock policy plans with; the simulated world applies the demand multiplier to the
quantiles and the price and budget of each week through :func:`lever_market` (the closed-loop market's
rules, :mod:`workbench.backtest.levers`, with the fitted elasticities and curves), the scenario's price
and budget levers multiplying what the policies set. ``weekly_levers=False`` holds price and budget at
the levers for the whole horizon (demand = quantiles × the whole factor).

A SKU whose usual mode becomes air has no faster mode left for an air bridge; the restock policy's
``late_inbound_bridge`` then orders by air itself what is short before a late sea shipment lands
(docs/what-if.md).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.backtest import adapters
from workbench.backtest import world as W
from workbench.backtest.replay import Setup
from workbench.backtest.view import ReplayRecords, build_view, restrict
from workbench.data.load import Dataset
from workbench.errors import InputError
from workbench.io import write_frame, write_text
from workbench.leadtime import MODES
from workbench.policies.restock import RestockPolicy
from workbench.scenarios.simulate import ShiftedLeadTimes, SimResult, simulate, stack_frame
from workbench.scenarios.spec import Scenario, load_scenario_set
from workbench.stock import build_snapshot

QUANTILE_COLUMNS = ("yhat_lo_95", "yhat_lo_80", "yhat", "yhat_hi_80", "yhat_hi_95")
AD_FACTOR_BOUNDS = (0.2, 3.0)
# Days the policy's forecast is carried on past the forecast's horizon (flat, the last 28 days' mean):
# a week near the end of the horizon still plans a lead time plus a review period ahead.
POLICY_EXTEND_DAYS = 180
# Paths of the restock policy's own stockout Monte Carlo (P(run out before an order arrives), which
# decides air) in the simulated weeks: 200 instead of its 1,000 keeps the standard error of a 5%
# probability under 1.6 points and makes each weekly decision ~3x cheaper. Today's recommendation
# (skus.csv) uses the policy as given.
DECISION_PATHS = 200
# Drawn paths per scenario by default: each path is a copy of the catalog the policy decides on every
# week, so the cost grows with paths × SKUs × weeks (benchmarks/whatif_speed.py).
DEFAULT_PATHS = 20
COMPARISON_COLUMNS = [
    "scenario", "title", "levers", "stockout_days", "stockout_days_p90", "skus_short", "units_sold", "lost_units",
    "lost_revenue_usd", "service_level", "demand_units", "revenue_usd", "ad_spend_usd", "ad_sales_usd", "profit_usd", "peak_inventory_units", "cash_tied_up_usd",
    "order_units", "order_units_air", "air_bridge_units", "prebuild_units", "freight_usd", "freight_by_mode",
    "extra_ad_spend_usd", "extra_ad_sales_usd", "recommended_qty_today", "price_rules", "ads_rules", "weeks",
    "n_paths", "seed", "reason",
]


@dataclass
class WhatIfBase:
    """Everything a run computes once and every scenario shares."""

    ds: object
    as_of: pd.Timestamp
    products: pd.DataFrame          # one row per SKU, the order of every array
    forecast: pd.DataFrame          # the baseline forecast (long)
    quantiles: np.ndarray           # (n, H, 5) baseline demand quantiles, days as_of+1 … as_of+H
    lead_times: pd.DataFrame        # supplier × mode table
    shipments: pd.DataFrame
    policy: RestockPolicy
    world: Dataset | None = None    # the dataset cut to the products, keys as plain strings (the replay's base)
    decision_paths: int = DECISION_PATHS  # the policy's own Monte Carlo paths in simulated weeks
    sampler: object = None          # the dataset's lead times (:class:`workbench.backtest.world.LeadTimeSampler`)
    _cache: dict = field(default_factory=dict)

    @property
    def skus(self) -> pd.Index:
        return pd.Index(self.products["sku"].astype(str))

    @property
    def weeks(self) -> int:
        """Simulated weeks: the whole weeks of the forecast horizon."""
        return self.quantiles.shape[1] // 7

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The simulated days, as_of + 1 … as_of + 7 · weeks."""
        return self.as_of + pd.to_timedelta(np.arange(1, 7 * self.weeks + 1), unit="D")


@dataclass
class ScenarioResult:
    scenario: Scenario
    summary: dict
    skus: pd.DataFrame         # one row per SKU
    order_plan: pd.DataFrame   # what to ship when, by which mode (median path)
    stock_fan: pd.DataFrame    # sku ('ALL' = total), ds, p10, p50, p90 of on-hand units
    levers: pd.DataFrame | None = None  # median path: week, sku, price, price_rule, ad_budget, ads_rule


@dataclass
class WhatIfRun:
    comparison: pd.DataFrame
    results: dict              # scenario name -> ScenarioResult
    scenario_set: str = ""
    as_of: pd.Timestamp | None = None

    def at_risk(self, scenario: str, top_n: int = 10) -> pd.DataFrame:
        """The SKUs with the most lost revenue in one scenario."""
        t = self.results[scenario].skus
        return t[t["lost_units"] > 0].nlargest(top_n, "lost_revenue_usd").reset_index(drop=True)

    def riskiest_sku(self, scenario: str) -> str:
        """The SKU with the most lost revenue in a scenario (the first SKU when nothing is lost)."""
        t = self.results[scenario].skus
        return str(t.loc[t["lost_revenue_usd"].idxmax(), "sku"])

    def order_plans(self, top_n: int = 30) -> pd.DataFrame:
        """The first ``top_n`` orders of every scenario, by date."""
        return pd.concat([r.order_plan.head(top_n).assign(scenario=name) for name, r in self.results.items()],
                         ignore_index=True)


# ------------------------------------------------------------------------------------------------
def prepare(ds, as_of, forecast: pd.DataFrame | None = None, horizon_days: int | None = None,
            policy: RestockPolicy | None = None, overrides=None) -> WhatIfBase:
    """Forecast once through the pipeline (unless ``forecast`` is given; ``overrides``: the analyst
    overrides file or dict), lay the baseline demand quantiles out as (SKU, day, quantile), and set up
    what every scenario's replay shares (the dataset cut to the products, its lead-time pools)."""
    from workbench.pipeline import Pipeline

    as_of = pd.Timestamp(as_of).normalize()
    if forecast is None:
        forecast = Pipeline().forecast(ds, as_of, overrides).forecast
    products = ds["products"].drop_duplicates("sku").reset_index(drop=True)
    fc_h = int((forecast["ds"].max() - as_of).days) if len(forecast) else 0
    H = int(min(horizon_days or fc_h, fc_h)) if fc_h > 0 else int(horizon_days or 0)
    if H < 14:
        raise InputError(f"what-if needs a forecast of at least 14 days after {as_of.date()}, got {H}")
    skus = pd.Index(products["sku"].astype(str))
    q = np.zeros((len(skus), H, 5))
    f = forecast[forecast["ds"] > as_of]
    i = skus.get_indexer(f["unique_id"].astype(str))
    t = (f["ds"] - as_of).dt.days.to_numpy() - 1
    ok = (i >= 0) & (t >= 0) & (t < H)
    for k, col in enumerate(QUANTILE_COLUMNS):
        src = col if col in f.columns else "yhat"
        q[i[ok], t[ok], k] = np.maximum(f[src].to_numpy(float)[ok], 0.0)
    q = np.sort(q, axis=2)
    ships = ds["shipments"]
    ships = ships[ships["order_date"] <= as_of]
    policy = policy or RestockPolicy()
    lt = build_snapshot(ds, as_of).lead_times
    known = ships[ships["received_date"].notna() & (ships["received_date"] <= as_of)]
    return WhatIfBase(ds=ds, as_of=as_of, products=products, forecast=forecast, quantiles=q, lead_times=lt,
                      shipments=ships, policy=policy, world=restrict(ds, list(skus)),
                      sampler=W.LeadTimeSampler(known))


def _elasticity(base: WhatIfBase) -> np.ndarray:
    if "elasticity" not in base._cache:
        from workbench.policies.elasticity import ElasticityEstimator
        est = ElasticityEstimator().fit(base.ds["sales"], base.products, base.as_of)
        base._cache["elasticity_est"] = est
        pairs = base.ds["sales"][["sku", "channel"]].drop_duplicates()
        e = est.lookup(pairs, base.products).groupby("sku")["elasticity"].mean()
        base._cache["elasticity"] = e.reindex(base.skus).fillna(est.prior_elasticity).to_numpy(float)
    return base._cache["elasticity"]


def _ad_curves(base: WhatIfBase) -> pd.DataFrame:
    """Per campaign: sku, today's daily spend (last 28 days) and the fitted A, B."""
    if "ads" not in base._cache:
        from workbench.policies.ads import fit_response_curves
        ads = base.ds.get("ads")
        out = pd.DataFrame(columns=["campaign", "sku", "spend", "a_sales_usd", "b_spend_usd"])
        if ads is not None and len(ads):
            win = ads[(ads["date"] <= base.as_of) & (ads["date"] > base.as_of - pd.Timedelta(days=90))]
            curves = fit_response_curves(win)
            recent = win[win["date"] > base.as_of - pd.Timedelta(days=28)]
            spend = recent.groupby("campaign").agg(sku=("sku", "first"), spend=("spend", "sum"))
            spend["spend"] = spend["spend"] / 28.0
            out = spend.reset_index().merge(curves[["campaign", "a_sales_usd", "b_spend_usd"]], on="campaign")
            out = out.dropna(subset=["a_sales_usd", "b_spend_usd"])
        base._cache["ads"] = out
    return base._cache["ads"]


def _revenue_rank(base: WhatIfBase) -> pd.Series:
    s = base.ds["sales"]
    s = s[(s["date"] <= base.as_of) & (s["date"] > base.as_of - pd.Timedelta(days=90))]
    return s.groupby("sku")["revenue"].sum().reindex(base.skus).fillna(0.0)


def demand_factor(base: WhatIfBase, sc: Scenario) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(factor (n, H), ad-driven factor (n,), extra ad spend and extra ad sales in USD per day) for a scenario."""
    n, H = base.quantiles.shape[:2]
    factor = np.ones((n, H))
    if sc.demand_multiplier != 1.0:
        days = base.as_of + pd.to_timedelta(np.arange(1, H + 1), unit="D")
        in_win = np.ones(H, dtype=bool)
        if sc.demand_start is not None:
            in_win &= days >= sc.demand_start
        if sc.demand_end is not None:
            in_win &= days <= sc.demand_end
        rows = np.ones(n, dtype=bool)
        if sc.demand_skus:
            rows &= base.skus.isin(sc.demand_skus)
        if sc.demand_categories:
            rows &= base.products["category"].astype(str).isin(sc.demand_categories).to_numpy()
        factor[np.ix_(rows, in_win)] *= sc.demand_multiplier
    if sc.price_change:
        factor *= np.power(1.0 + sc.price_change, _elasticity(base))[:, None]
    ad_factor = np.ones(n)
    extra_spend = extra_sales = 0.0
    if sc.ad_budget_change:
        cur = _ad_curves(base)
        if len(cur):
            a, b, s = (cur[c].to_numpy(float) for c in ("a_sales_usd", "b_spend_usd", "spend"))
            gain = a * (np.exp(-s / b) - np.exp(-s * (1 + sc.ad_budget_change) / b))
            price = base.products.set_index("sku")["price"].astype(float)
            gain_usd = pd.Series(gain, index=cur["sku"].astype(str).to_numpy()).groupby(level=0).sum()
            extra_units = gain_usd / price.reindex(gain_usd.index).to_numpy()
            base_units = base.quantiles[:, :28, 2].mean(axis=1)
            eu = extra_units.reindex(base.skus).fillna(0.0).to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                ad_factor = np.where(base_units > 0, 1 + eu / base_units, 1.0)
            ad_factor = np.clip(ad_factor, *AD_FACTOR_BOUNDS)
            extra_spend = float((s * sc.ad_budget_change).sum())
            extra_sales = float(gain.sum())
        factor *= ad_factor[:, None]
    return factor, ad_factor, extra_spend, extra_sales


def _lead_time_table(base: WhatIfBase, sc: Scenario) -> pd.DataFrame:
    lt = base.lead_times.copy()
    if sc.extra_lead_days:
        rows = lt["mode"].isin(sc.lead_modes)
        for c in ("lead_time_days", "p50_days", "p90_days", "p95_days", "lateness_mean_days"):
            if c in lt:
                lt.loc[rows, c] = lt.loc[rows, c].astype(float) + sc.extra_lead_days
    return lt


def _forecast_frame(base: WhatIfBase, q: np.ndarray) -> pd.DataFrame:
    """The scenario's quantiles as a forecast frame, carried on flat for :data:`POLICY_EXTEND_DAYS` more
    days at each quantile's mean over the last 28 days (what the policy plans with)."""
    n, H, _ = q.shape
    tail = np.repeat(q[:, -28:, :].mean(axis=1, keepdims=True), POLICY_EXTEND_DAYS, axis=1)
    q = np.concatenate([q, tail], axis=1)
    days = base.as_of + pd.to_timedelta(np.arange(1, q.shape[1] + 1), unit="D")
    out = pd.DataFrame({"unique_id": np.repeat(base.skus.to_numpy(), q.shape[1]),
                        "ds": np.tile(days.to_numpy(), n), "model": "scenario"})
    for k, col in enumerate(QUANTILE_COLUMNS):
        out[col] = q[:, :, k].ravel()
    return out


def scenario_world(base: WhatIfBase, sc: Scenario) -> Dataset:
    """The dataset as the scenario has it: list prices moved by the price change; shipments in transit
    on the delayed modes arriving ``extra_days`` later; air the usual mode of the top-N SKUs."""
    tables = dict(base.world.tables)
    if sc.price_change:
        tables["products"] = tables["products"].assign(price=tables["products"]["price"] * (1 + sc.price_change))
    ships = tables["shipments"]
    if sc.extra_lead_days:
        ships = ships.copy()
        late = (ships["mode"].isin(sc.lead_modes) & (ships["order_date"] <= base.as_of)
                & ~(ships["received_date"] <= base.as_of))
        for c in ("eta", "received_date"):
            ships.loc[late, c] = ships.loc[late, c] + pd.Timedelta(days=sc.extra_lead_days)
    if sc.air_for_top:
        air_skus = set(_revenue_rank(base).nlargest(sc.air_for_top).index)
        ships = ships.copy()
        done = ships["sku"].isin(air_skus) & (ships["received_date"] <= base.as_of)
        ships.loc[done, "mode"] = base.policy.urgent_mode
    tables["shipments"] = ships
    return Dataset(base.world.path, tables)


def scenario_setup(base: WhatIfBase, sc: Scenario, world: Dataset) -> Setup:
    """The backtest's replay world for the scenario: start stock and pipeline at ``as_of``, the dataset's
    lead-time pools shifted by the scenario; demand and uniforms are drawn per path by :func:`simulate`."""
    skus, start, D = list(base.skus), base.as_of + pd.Timedelta(days=1), 7 * base.weeks
    sampler = ShiftedLeadTimes(base.sampler, sc.extra_lead_days, sc.lead_modes)
    state = W.start_state(world, skus, start, D, sampler)
    n = len(skus)
    return Setup(base=world, start=start, weeks=base.weeks, skus=skus, days=base.dates, demand=np.zeros((n, D)),
                 censored=np.zeros((n, D), bool), state=state, sampler=sampler, uniforms=np.full((n, base.weeks, len(MODES)), 0.5),
                 freight_share=W.freight_shares(base.ds), carrying_rate=0.25,
                 **W.sku_arrays(world, skus, start, state.location))


def first_view(setup: Setup) -> Dataset:
    """What the policy sees on the first simulated day (the same on every path)."""
    records = ReplayRecords(setup.skus, setup.state.location, setup.channel, setup.price, setup.other_locations)
    records.snapshot(setup.start - pd.Timedelta(days=1), setup.state.stock)
    return build_view(setup.base, setup.start, setup.start, records)


def lever_market(base: WhatIfBase, sc: Scenario):
    """The demand response to weekly prices and budgets (:class:`workbench.backtest.levers.LeverMarket`) with
    the fitted numbers the policies decide with: each SKU's elasticity, each campaign's spend → sales curve,
    today's price and spend (what the baseline forecast is at), the scenario's price and budget levers."""
    from workbench.backtest.levers import RECOVERY_TAU_DAYS, LeverMarket
    from workbench.policies.pricing import current_prices

    skus, prod = base.skus, base.products.assign(sku=base.products["sku"].astype(str))
    cur = current_prices(base.ds["sales"], base.products, base.as_of).assign(sku=lambda c: c["sku"].astype(str))
    ref_price = cur.groupby("sku")["current_price"].mean().reindex(skus).fillna(
        prod.set_index("sku")["price"].astype(float)).to_numpy(float)
    _elasticity(base)
    curves = _ad_curves(base)
    cols = ["campaign", "sku", "i", "ad_type", "targeting", "bid", "channel", "a", "b", "util", "ref_spend"]
    camp = pd.DataFrame(columns=cols)
    budget = np.zeros(0)
    if len(curves):
        ads = base.ds["ads"]
        last = ads[ads["date"] <= base.as_of].sort_values("date").drop_duplicates("campaign", keep="last")
        last = last.assign(campaign=last["campaign"].astype(str)).set_index("campaign")
        c = curves.assign(campaign=curves["campaign"].astype(str), sku=curves["sku"].astype(str))
        c = c[c["campaign"].isin(last.index)].reset_index(drop=True)
        lc = last.reindex(c["campaign"])
        budget = lc["daily_budget"].to_numpy(float)
        camp = pd.DataFrame({
            "campaign": c["campaign"], "sku": c["sku"], "i": skus.get_indexer(c["sku"]),
            "ad_type": lc["ad_type"].astype(str).to_numpy(),
            "targeting": (lc["targeting"].astype(str) if "targeting" in lc else pd.Series("auto", index=lc.index)).to_numpy(),
            "bid": (lc["bid"].astype(float) if "bid" in lc else pd.Series(1.0, index=lc.index)).to_numpy(),
            "channel": lc["channel"].astype(str).to_numpy(), "a": c["a_sales_usd"].to_numpy(float),
            "b": c["b_spend_usd"].to_numpy(float),
            "util": np.clip(c["spend"].to_numpy(float) / np.maximum(budget, 1e-9), 0.05, 1.0),
            "ref_spend": c["spend"].to_numpy(float)})
        keep = (camp["i"] >= 0).to_numpy() & np.isfinite(budget)
        camp, budget = camp[keep].reset_index(drop=True), budget[keep]
    return LeverMarket(skus=list(skus), ref_price=ref_price, elasticity=_elasticity(base),
                       base_units=base.quantiles[:, :28, 2].mean(axis=1), decay=np.full(len(skus), np.exp(-1 / RECOVERY_TAU_DAYS)),
                       campaigns=camp, start_budget=budget, price_lever=1.0 + sc.price_change,
                       budget_lever=1.0 + sc.ad_budget_change)


def scenario_decider(forecast: pd.DataFrame, lead_times: pd.DataFrame, params: dict, elasticity=None):
    """``decide_for(stacked_setup)``: the workbench's Monday on the copies, planning with the scenario's forecast
    (one copy per path) and lead-time table. With a lever market (``stacked.market``) the pipeline's restock,
    stockout-phase, pricing and ads steps all decide (:func:`workbench.backtest.adapters.workbench_week`);
    without one only the restock adapter does (prices and budgets fixed)."""
    def decide_for(stacked: Setup):
        from workbench.pipeline import Pipeline

        fc = stack_frame(forecast, "unique_id", len(stacked.skus) // max(forecast["unique_id"].nunique(), 1))
        if stacked.market is None:
            return lambda view, day: adapters.workbench_orders(view, day, fc, params, lead_times=lead_times)
        pipe, state = Pipeline(), {"budget": stacked.market.start_budget.copy()}
        est = adapters.CopiesElasticity(elasticity) if elasticity is not None else None

        def decide(view, day):
            dec = adapters.workbench_week(view, day, fc, stacked.market, stacked.channel, state["budget"], params,
                                          lead_times, pipe, est)
            state["budget"] = dec.budget
            return dec
        return decide
    return decide_for


def run_scenario(base: WhatIfBase, sc: Scenario, n_paths: int = DEFAULT_PATHS, seed: int = 0,
                 weekly_levers: bool = True) -> ScenarioResult:
    """Replay the scenario week by week with the policies deciding, over ``n_paths`` paths.

    ``weekly_levers``: pricing and ads decide every simulated week too, demand answering through the
    lever market (:func:`lever_market`); False: prices and budgets fixed for the horizon at the scenario's
    levers (the engine before weekly levers; kept for comparison).

    Steps: :func:`plan_under` (demand, lead times, the scenario's world and the first week's
    recommendation) → :func:`simulate` (the paths and the median path) → the tables
    (:func:`sku_table`, :func:`order_plan_table`, :func:`stock_fan_table`, :func:`scenario_summary`).
    """
    plan = plan_under(base, sc, weekly_levers)
    sim = simulate(plan["setup"], plan["q_world"], plan["decide_for"], n_paths, seed, name=sc.name)
    return ScenarioResult(scenario=sc, summary=scenario_summary(base, sc, plan, sim, n_paths, seed),
                          skus=sku_table(base, plan, sim), order_plan=order_plan_table(sim),
                          stock_fan=stock_fan_table(base, sim), levers=sim.median_levers)


def plan_under(base: WhatIfBase, sc: Scenario, weekly_levers: bool = True) -> dict:
    """The scenario's demand quantiles ``q`` (with ``factor``, ``ad_factor``, ``extra_spend``,
    ``extra_sales``), lead-time table ``lt``, policy forecast ``fc``, replay ``setup`` and ``decide_for``,
    and the first week's recommendation ``rec`` (one row per SKU, the restock table)."""
    factor, ad_factor, extra_spend, extra_sales = demand_factor(base, sc)
    q = base.quantiles * factor[:, :, None]
    lt = _lead_time_table(base, sc)
    fc = _forecast_frame(base, q)  # the policy plans with the levers' expected effect
    setup = scenario_setup(base, sc, scenario_world(base, sc))
    q_world = q
    if weekly_levers:  # the world applies price and budget every week; its quantiles carry the multiplier only
        setup.market = lever_market(base, sc)
        q_world = base.quantiles * demand_factor(base, replace(sc, price_change=0.0, ad_budget_change=0.0))[0][:, :, None]
    rec = adapters.restock_on_view(first_view(setup), base.as_of, fc, base.policy, lead_times=lt)
    rec = rec.assign(sku=rec["sku"].astype(str)).set_index("sku").reindex(base.skus).reset_index()
    params = base.policy.get_params(deep=False)
    params["n_paths"] = min(int(params["n_paths"]), int(base.decision_paths))
    decide_for = scenario_decider(fc, lt, params, base._cache.get("elasticity_est") if weekly_levers else None)
    return {"q": q, "q_world": q_world, "factor": factor, "ad_factor": ad_factor, "extra_spend": extra_spend, "extra_sales": extra_sales,
            "lt": lt, "fc": fc, "setup": setup, "decide_for": decide_for, "rec": rec}


def sku_table(base: WhatIfBase, plan: dict, sim: SimResult) -> pd.DataFrame:
    """One row per SKU: this week's recommendation, the simulated stockouts, lost units and revenue,
    the orders the policy placed over the horizon (by air, as air bridges, as pre-builds), and a reason."""
    prod, rec, skus, price = base.products, plan["rec"], base.skus, plan["setup"].price
    n, D = len(skus), 7 * base.weeks
    out = pd.DataFrame({
        "sku": skus.to_numpy(), "title": prod.get("title", pd.Series([""] * n)).to_numpy(),
        "main_mode": rec["main_mode"].to_numpy(), "recommended_qty": rec["recommended_qty"].to_numpy(),
        "air_qty": rec["air_qty"].to_numpy(), "ship_mode": rec["ship_mode"].to_numpy(),
        "order_by": pd.to_datetime(rec["order_by"]).to_numpy(),
        "lead_time_days": rec["lead_time_days"].to_numpy(), "demand_factor_mean": plan["factor"].mean(axis=1).round(3),
        "ad_factor": plan["ad_factor"].round(3), "p_stockout": sim.p_stockout.round(4),
        "stockout_days": sim.stockout_days.round(2), "demand_units": sim.demand_units.round(1),
        "lost_units": sim.lost_units.round(1), "lost_revenue_usd": (sim.lost_units * price).round(2),
        "fill_rate": np.where(sim.demand_units > 0, 1 - sim.lost_units / np.maximum(sim.demand_units, 1e-9), 1.0).round(4),
        "order_units_main": sim.order_units_main.round(1), "order_units_air": sim.order_units_urgent.round(1),
        "air_bridge_units": sim.bridge_units.round(1), "prebuild_units": sim.prebuild_units.round(1),
        "freight_usd": sim.freight_usd.round(2), "units_sold": sim.sold_units.round(1),
        "revenue_usd": sim.revenue.round(2), "ad_spend_usd": sim.ad_spend.round(2),
    })
    out["reason"] = [
        (f"{r.sku}: P(stockout) {r.p_stockout:.0%}, {r.stockout_days:.1f} stockout days, {r.lost_units:.0f} units "
         f"(${r.lost_revenue_usd:,.0f}) lost over {D} d with the restock policy deciding weekly "
         f"({r.order_units_main + r.order_units_air:.0f} units ordered on average, {r.order_units_air:.0f} by air, "
         f"{r.prebuild_units:.0f} as peak pre-build); today: order {r.recommended_qty} by {r.ship_mode} by "
         f"{pd.Timestamp(r.order_by).date()} (lead time {r.lead_time_days:.0f} d)")
        for r in out.itertuples(index=False)]
    return out


def order_plan_table(sim: SimResult) -> pd.DataFrame:
    """The median path's orders, week by week, each with its kind and the policy's reason."""
    o = sim.median_orders
    plan = pd.DataFrame({"sku": o["sku"], "order_date": o["order_date"], "mode": o["mode"], "kind": o["kind"],
                         "qty": o["qty"].astype("int64"), "expected_arrival": o["arrival_date"],
                         "freight_usd": o["freight_cost"].round(2), "reason": o["reason"]})
    return plan.sort_values(["order_date", "sku"], kind="stable").reset_index(drop=True)


def stock_fan_table(base: WhatIfBase, sim: SimResult) -> pd.DataFrame:
    """On-hand p10 / p50 / p90 per day: the total over SKUs (``sku == 'ALL'``) first, then each SKU."""
    skus, dates = base.skus.to_numpy(), base.dates.to_numpy()
    n, H = len(skus), len(dates)
    fan = pd.DataFrame({"sku": np.repeat(skus, H), "ds": np.tile(dates, n),
                        "p10": sim.stock_q[:, :, 0].ravel(), "p50": sim.stock_q[:, :, 1].ravel(),
                        "p90": sim.stock_q[:, :, 2].ravel()})
    total = pd.DataFrame({"sku": "ALL", "ds": dates, "p10": sim.total_stock_q[:, 0],
                          "p50": sim.total_stock_q[:, 1], "p90": sim.total_stock_q[:, 2]})
    fan = pd.concat([total, fan], ignore_index=True)
    fan[["p10", "p50", "p90"]] = fan[["p10", "p50", "p90"]].round(1)
    return fan


def scenario_summary(base: WhatIfBase, sc: Scenario, plan: dict, sim: SimResult, n_paths: int, seed: int) -> dict:
    """The scenario's row of the comparison: service, stockouts, cash, orders by kind, freight, ad spend."""
    D = 7 * base.weeks
    by_mode = sim.freight_by_mode
    demand, lost = float(sim.demand_units.sum()), float(sim.lost_units.sum())
    return {**_money(base, plan["setup"], sim, D), **_rule_counts(sim.median_levers),
        "scenario": sc.name, "title": sc.label, "levers": sc.describe(),
        "stockout_days": round(float(sim.path_stockout_days.mean()), 1),
        "stockout_days_p90": round(float(np.quantile(sim.path_stockout_days, 0.9)), 1),
        "skus_short": int((sim.p_stockout >= 0.5).sum()),
        "lost_units": round(lost, 1), "lost_revenue_usd": round(float(sim.path_lost_revenue.mean()), 2),
        "service_level": round(1 - lost / demand, 4) if demand > 0 else 1.0,
        "demand_units": round(demand, 1),
        "peak_inventory_units": round(float(sim.path_peak_units.mean()), 1),
        "cash_tied_up_usd": round(float(sim.path_peak_cash.mean()), 2),
        "order_units": round(float((sim.order_units_main + sim.order_units_urgent).sum()), 1),
        "order_units_air": round(float(sim.order_units_urgent.sum()), 1),
        "air_bridge_units": round(float(sim.bridge_units.sum()), 1),
        "prebuild_units": round(float(sim.prebuild_units.sum()), 1),
        "freight_usd": round(float(sim.freight_usd.sum()), 2),
        "freight_by_mode": "; ".join(f"{m} {v:,.0f}" for m, v in by_mode.items() if v > 0) or "none",
        "extra_ad_spend_usd": round(plan["extra_spend"] * D, 2),
        "extra_ad_sales_usd": round(plan["extra_sales"] * D, 2),
        "recommended_qty_today": int(plan["rec"]["recommended_qty"].sum()),
        "weeks": int(base.weeks), "n_paths": int(n_paths), "seed": int(seed),
    }


def _money(base: WhatIfBase, setup: Setup, sim: SimResult, D: int) -> dict:
    """Units sold, revenue, ad spend and sales, and profit = revenue − cost of goods − fees − ad spend −
    freight − carrying (carrying rate × mean inventory value × days / 365), means over the drawn paths."""
    fee = base.products["fee_rate"].astype(float).fillna(0.0).to_numpy() if "fee_rate" in base.products else 0.0
    rev, spend = float(sim.revenue.sum()), float(sim.ad_spend.sum())
    cogs, fees = float(sim.sold_units @ setup.unit_cost), float((sim.revenue * fee).sum())
    carrying = setup.carrying_rate * float(sim.avg_stock @ setup.unit_cost) * D / 365
    return {"units_sold": round(float(sim.sold_units.sum()), 1), "revenue_usd": round(rev, 2),
            "ad_spend_usd": round(spend, 2), "ad_sales_usd": round(float(sim.ad_sales.sum()), 2),
            "profit_usd": round(rev - cogs - fees - spend - float(sim.freight_usd.sum()) - carrying, 2)}


def _rule_counts(levers: pd.DataFrame | None) -> dict:
    """How often each pricing / ads rule decided a SKU-week on the median path ('fixed' without weekly levers)."""
    if levers is None or levers.empty:
        return {"price_rules": "fixed for the horizon", "ads_rules": "fixed for the horizon"}
    def count(col):
        parts = levers[col].astype(str).str.split("; ").explode()
        parts = parts[parts != ""].value_counts()
        return "; ".join(f"{k} {v}" for k, v in parts.items()) or "none"
    return {"price_rules": count("price_rule"), "ads_rules": count("ads_rule")}


def _reason(s: dict, base: dict | None, D: int) -> str:
    vs = ""
    if base is not None and base["scenario"] != s["scenario"]:
        vs = f" (baseline {base['stockout_days']:,.0f})"
    ads = (f" Ad budget: +${s['extra_ad_spend_usd']:,.0f} spend for +${s['extra_ad_sales_usd']:,.0f} ad sales "
           f"on the fitted spend curves." if s["extra_ad_spend_usd"] else "")
    return (f"{s['title']} [{s['levers']}]: {s['stockout_days']:,.0f} SKU stockout days{vs} over {D} d, "
            f"{s['lost_units']:,.0f} units (${s['lost_revenue_usd']:,.0f}) lost, service level "
            f"{s['service_level']:.1%}, peak cash tied up ${s['cash_tied_up_usd']:,.0f}, freight "
            f"${s['freight_usd']:,.0f}; the restock policy, deciding every week, ordered {s['order_units']:,.0f} "
            f"units ({s['order_units_air']:,.0f} by air, {s['air_bridge_units']:,.0f} as air bridges, "
            f"{s['prebuild_units']:,.0f} as peak pre-builds); {s['units_sold']:,.0f} units sold for "
            f"${s['revenue_usd']:,.0f}, ad spend ${s['ad_spend_usd']:,.0f}, profit ${s['profit_usd']:,.0f}; pricing rules "
            f"(SKU-weeks, median path): {s['price_rules']}; ads rules: {s['ads_rules']}; mean of {s['n_paths']} paths, "
            f"seed {s['seed']}.{ads}")


def compare(results: list[ScenarioResult], horizon_days: int) -> pd.DataFrame:
    """One row per scenario (:data:`COMPARISON_COLUMNS`), the baseline first; ``horizon_days``: the simulated days."""
    rows = [r.summary for r in results]
    base = next((r.summary for r in results if r.scenario.is_baseline()), None)
    for row in rows:
        row["reason"] = _reason(row, base, horizon_days)
    return pd.DataFrame(rows)[COMPARISON_COLUMNS]


def what_if(ds, as_of, scenarios: list[Scenario], n_paths: int = DEFAULT_PATHS, seed: int = 0,
            forecast: pd.DataFrame | None = None, horizon_days: int | None = None,
            policy: RestockPolicy | None = None, scenario_set: str = "", overrides=None) -> WhatIfRun:
    """Run every scenario on a loaded dataset (one forecast, shared random numbers) and compare them."""
    if not isinstance(n_paths, (int, np.integer)) or isinstance(n_paths, bool) or n_paths < 1:
        raise InputError(f"n_paths must be a whole number >= 1, got {n_paths!r}")
    base = prepare(ds, as_of, forecast=forecast, horizon_days=horizon_days, policy=policy, overrides=overrides)
    results = [run_scenario(base, sc, n_paths=n_paths, seed=seed) for sc in scenarios]
    comp = compare(results, 7 * base.weeks)
    return WhatIfRun(comparison=comp, results={r.scenario.name: r for r in results}, scenario_set=scenario_set,
                     as_of=base.as_of)


def write_run(run: WhatIfRun, output_dir, scenarios_dir=None, meta: dict | None = None) -> Path:
    """Write ``comparison.csv``, ``<scenario>/{skus,order_plan,stock_fan}.csv``, the scenario files and
    ``run.json`` into ``output_dir``; every file is written atomically."""
    out = Path(output_dir)
    for name, r in run.results.items():
        write_frame(r.skus, out / name / "skus.csv")
        write_frame(r.order_plan, out / name / "order_plan.csv")
        write_frame(r.stock_fan, out / name / "stock_fan.csv")
        if r.levers is not None:
            write_frame(r.levers, out / name / "levers.csv")
    if scenarios_dir is not None:
        for p in sorted([*Path(scenarios_dir).glob("*.yaml"), *Path(scenarios_dir).glob("*.yml")]):
            write_text(out / "scenarios" / p.name, p.read_text(encoding="utf-8"))
    info = {"scenario_set": run.scenario_set, "as_of": str(run.as_of.date()) if run.as_of is not None else None,
            "scenarios": list(run.results), **(meta or {})}
    write_text(out / "run.json", json.dumps(info, indent=2, default=str) + "\n")
    write_frame(run.comparison, out / "comparison.csv")  # last: its presence means the review is complete
    return out


def run_what_if(data_dir, as_of, scenarios_dir, output_dir, n_paths: int = DEFAULT_PATHS, seed: int = 0,
                overrides=None, weeks: int | None = None) -> pd.DataFrame:
    """The ``workbench what-if`` command: load, run every scenario file of ``scenarios_dir``, write to ``output_dir``.

    Returns the comparison (one row per scenario, with a ``reason``). Bad scenario files or data raise
    :class:`workbench.errors.InputError` (exit code 2) before anything is written. ``overrides``: the
    analyst overrides the forecast uses (the CLI passes :func:`workbench.config.default_overrides`);
    ``weeks``: simulated weeks (default: the forecast horizon's whole weeks, 17).
    """
    from workbench.data import load_dataset

    if weeks is not None and (not isinstance(weeks, (int, np.integer)) or isinstance(weeks, bool) or weeks < 2):
        raise InputError(f"--weeks must be a whole number >= 2, got {weeks!r}")
    scenarios = load_scenario_set(scenarios_dir)
    ds = load_dataset(data_dir)
    run = what_if(ds, as_of, scenarios, n_paths=n_paths, seed=seed, scenario_set=Path(scenarios_dir).name,
                  overrides=overrides, horizon_days=7 * weeks if weeks else None)
    write_run(run, output_dir, scenarios_dir,
              meta={"data_dir": str(data_dir), "n_paths": n_paths, "seed": seed, "weeks": int(run.comparison["weeks"].iloc[0])})
    return run.comparison


def review_dir(reports_root, scenarios_dir, as_of) -> Path:
    """``<reports_root>/<scenario set>/<as-of>/``: where a review's results are kept for later comparison."""
    return Path(reports_root) / Path(scenarios_dir).name / str(pd.Timestamp(as_of).date())


def compare_reviews(dir_a, dir_b) -> pd.DataFrame:
    """Two saved reviews side by side: per scenario, each review's key numbers and the change."""
    cols = ["stockout_days", "lost_units", "lost_revenue_usd", "service_level", "cash_tied_up_usd", "freight_usd"]
    a = pd.read_csv(Path(dir_a) / "comparison.csv").set_index("scenario")[cols]
    b = pd.read_csv(Path(dir_b) / "comparison.csv").set_index("scenario")[cols]
    out = a.join(b, how="outer", lsuffix="_a", rsuffix="_b")
    for c in cols:
        out[f"{c}_change"] = out[f"{c}_b"] - out[f"{c}_a"]
    return out.reset_index()


def kpis(run: WhatIfRun) -> dict:
    """Headline numbers for the notebook: worst scenario and its gap to the baseline."""
    c = run.comparison
    base = c[c["levers"] == "no change (baseline)"]
    worst = c.loc[c["stockout_days"].idxmax()]
    out = {"scenarios": len(c), "paths per scenario": int(c["n_paths"].iloc[0]),
           "worst scenario": worst["title"], "worst stockout SKU-days": f"{worst['stockout_days']:,.0f}"}
    if len(base):
        out["baseline stockout SKU-days"] = f"{base['stockout_days'].iloc[0]:,.0f}"
        out["baseline service level"] = f"{base['service_level'].iloc[0]:.1%}"
    return out


def worst_scenario(run: WhatIfRun) -> str:
    c = run.comparison
    return str(c.loc[c["lost_revenue_usd"].idxmax(), "scenario"])


def save_review(run: WhatIfRun, reports_root, scenarios_dir, save: bool = True) -> str:
    """Write the run under ``review_dir(...)`` when ``save``; returns a sentence saying what happened."""
    if not save:
        return "save = False: nothing written. Set save = True to keep this review for later comparison."
    out = write_run(run, review_dir(reports_root, scenarios_dir, run.as_of), scenarios_dir)
    return f"Review saved to {out} (comparison.csv, one folder per scenario, the scenario files, run.json)."

"""What-if runs: forecast once, derive each scenario's demand and lead times, simulate, compare, save.

Demand per scenario is the baseline forecast's quantiles times a factor per SKU and day:

    factor_{i,t} = m_{i,t} · (1 + Δp)^{β_i} · (1 + Δads_units_i / base_units_i)

- m: the scenario's demand multiplier inside its date window (and SKU/category filter), else 1;
- (1 + Δp)^β: constant-elasticity response to a price change, β_i from
  :class:`workbench.policies.elasticity.ElasticityEstimator` (averaged over channels);
- ads: each campaign's fitted spend → sales curve A·(1 − exp(−s/B))
  (:func:`workbench.policies.ads.fit_response_curves`) moved from today's spend s to s·(1 + Δb);
  the extra ad sales in USD / price are extra units per day, relative to the SKU's forecast over the
  next 28 days (capped to ×0.2…×3).

Lead times: ``extra_days`` is added to the supplier × mode table's mean and percentiles and to the
expected lateness of shipments in transit, so both the policy's plan and the simulated arrivals move.
The restock policy (:class:`workbench.policies.restock.RestockPolicy`) then plans with the scenario's
demand and lead times, and :mod:`.simulate` runs that plan through the horizon.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.io import write_frame, write_text
from workbench.leadtime import lookup_lead_times
from workbench.policies.restock import RestockPolicy, freight_rates
from workbench.scenarios.simulate import SimInputs, simulate
from workbench.stock import build_snapshot
from workbench.scenarios.spec import Scenario, load_scenario_set

QUANTILE_COLUMNS = ("yhat_lo_95", "yhat_lo_80", "yhat", "yhat_hi_80", "yhat_hi_95")
AD_FACTOR_BOUNDS = (0.2, 3.0)
COMPARISON_COLUMNS = [
    "scenario", "title", "levers", "stockout_days", "stockout_days_p90", "skus_short", "lost_units",
    "lost_revenue_usd", "service_level", "demand_units", "peak_inventory_units", "cash_tied_up_usd",
    "order_units", "order_units_air", "freight_usd", "freight_by_mode", "extra_ad_spend_usd",
    "recommended_qty_today", "n_paths", "seed", "reason",
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
    _cache: dict = field(default_factory=dict)

    @property
    def skus(self) -> pd.Index:
        return pd.Index(self.products["sku"].astype(str))

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.as_of + pd.to_timedelta(np.arange(1, self.quantiles.shape[1] + 1), unit="D")


@dataclass
class ScenarioResult:
    scenario: Scenario
    summary: dict
    skus: pd.DataFrame         # one row per SKU
    order_plan: pd.DataFrame   # what to ship when, by which mode (median path)
    stock_fan: pd.DataFrame    # sku ('ALL' = total), ds, p10, p50, p90 of on-hand units


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
    overrides file or dict) and lay the baseline demand quantiles out as (SKU, day, quantile)."""
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
    return WhatIfBase(ds=ds, as_of=as_of, products=products, forecast=forecast, quantiles=q, lead_times=lt,
                      shipments=ships, policy=policy)


def _elasticity(base: WhatIfBase) -> np.ndarray:
    if "elasticity" not in base._cache:
        from workbench.policies.elasticity import ElasticityEstimator
        est = ElasticityEstimator().fit(base.ds["sales"], base.products, base.as_of)
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


def demand_factor(base: WhatIfBase, sc: Scenario) -> tuple[np.ndarray, np.ndarray, float]:
    """(factor (n, H), ad-driven factor (n,), extra ad spend USD per day) for a scenario."""
    n, H = base.quantiles.shape[:2]
    factor = np.ones((n, H))
    if sc.demand_multiplier != 1.0:
        days = base.dates
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
    extra_spend = 0.0
    if sc.ad_budget_change:
        cur = _ad_curves(base)
        if len(cur):
            a, b, s = (cur[c].to_numpy(float) for c in ("a_sales_usd", "b_spend_usd", "spend"))
            gain = a * (np.exp(-s / b) - np.exp(-s * (1 + sc.ad_budget_change) / b))
            price = base.products.set_index("sku")["price"].astype(float)
            extra_units = (pd.Series(gain, index=cur["sku"].astype(str).to_numpy()).groupby(level=0).sum()
                           / price.reindex(cur["sku"].astype(str).unique()).to_numpy())
            base_units = base.quantiles[:, :28, 2].mean(axis=1)
            eu = extra_units.reindex(base.skus).fillna(0.0).to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                ad_factor = np.where(base_units > 0, 1 + eu / base_units, 1.0)
            ad_factor = np.clip(ad_factor, *AD_FACTOR_BOUNDS)
            extra_spend = float((s * sc.ad_budget_change).sum())
        factor *= ad_factor[:, None]
    return factor, ad_factor, extra_spend


def _lead_time_table(base: WhatIfBase, sc: Scenario) -> pd.DataFrame:
    lt = base.lead_times.copy()
    if sc.extra_lead_days:
        rows = lt["mode"].isin(sc.lead_modes)
        for c in ("lead_time_days", "p50_days", "p90_days", "p95_days", "lateness_mean_days"):
            if c in lt:
                lt.loc[rows, c] = lt.loc[rows, c].astype(float) + sc.extra_lead_days
    return lt


def _forecast_frame(base: WhatIfBase, q: np.ndarray) -> pd.DataFrame:
    n, H, _ = q.shape
    out = pd.DataFrame({"unique_id": np.repeat(base.skus.to_numpy(), H),
                        "ds": np.tile(base.dates.to_numpy(), n), "model": "scenario"})
    for k, col in enumerate(QUANTILE_COLUMNS):
        out[col] = q[:, :, k].ravel()
    return out


def run_scenario(base: WhatIfBase, sc: Scenario, n_paths: int = 1000, seed: int = 0) -> ScenarioResult:
    """Plan with the restock policy under the scenario, then simulate ``n_paths`` paths.

    Steps: :func:`plan_under` (demand, lead times, snapshot, restock plan) → :func:`sim_inputs` →
    :func:`simulate` (the Monte Carlo and the median path's orders) → the tables
    (:func:`sku_table`, :func:`order_plan_table`, :func:`stock_fan_table`, :func:`scenario_summary`).
    """
    plan = plan_under(base, sc)
    inp, modes = sim_inputs(base, sc, plan)
    sim = simulate(inp, n_paths=n_paths, seed=seed)
    _, orders = simulate(inp, deterministic=True, record_orders=True)
    sku_tbl = sku_table(base, plan, sim, modes)
    summary = scenario_summary(base, sc, plan, sim, modes, n_paths, seed)
    return ScenarioResult(scenario=sc, summary=summary, skus=sku_tbl, order_plan=order_plan_table(base, orders, modes),
                          stock_fan=stock_fan_table(base, sim))


def plan_under(base: WhatIfBase, sc: Scenario) -> dict:
    """The scenario's demand quantiles ``q`` (with ``factor``, ``ad_factor``, ``extra_spend``), lead-time
    table ``lt``, stock snapshot ``snap`` and the restock policy's recommendation ``rec`` (one row per SKU)."""
    factor, ad_factor, extra_spend = demand_factor(base, sc)
    q = base.quantiles * factor[:, :, None]
    lt = _lead_time_table(base, sc)
    ships = base.shipments
    if sc.air_for_top:
        air_skus = set(_revenue_rank(base).nlargest(sc.air_for_top).index)
        # the policy's main mode is the SKU's usual mode: make air the usual mode of these SKUs
        ships = ships.copy()
        done = ships["sku"].isin(air_skus) & ships["received_date"].notna()
        ships.loc[done, "mode"] = base.policy.urgent_mode
    tables = {name: base.ds.get(name) for name in ("products", "inventory", "sales", "events")}
    snap = build_snapshot({**tables, "shipments": ships}, base.as_of, forecast=_forecast_frame(base, q), lead_times=lt)
    rec = base.policy.recommend(snap).set_index("sku").reindex(base.skus).reset_index()
    return {"q": q, "factor": factor, "ad_factor": ad_factor, "extra_spend": extra_spend, "lt": lt, "snap": snap,
            "rec": rec}


def sim_inputs(base: WhatIfBase, sc: Scenario, plan: dict) -> tuple[SimInputs, dict]:
    """The simulation's arrays from the plan, and per SKU the ``main`` and ``urgent`` modes, their freight
    ``rate_main`` / ``rate_urgent`` (USD per unit) and the scenario's unit ``price``."""
    prod, rec, lt = base.products, plan["rec"], plan["lt"]
    n = len(base.skus)
    main_mode = rec["main_mode"].to_numpy(dtype=object)  # the policy's usual mode per SKU
    urgent = np.full(n, base.policy.urgent_mode, dtype=object)
    supplier = prod["supplier"].astype(str).to_numpy(dtype=object)
    lt_urg = lookup_lead_times(lt, supplier, urgent, base.as_of)
    t_day, t_sd, t_q = plan["snap"].transit_slots()
    unit_cost = prod["unit_cost"].to_numpy(float)
    price = prod["price"].to_numpy(float) * (1 + sc.price_change)
    rates = freight_rates(base.shipments, unit_cost, base.policy.freight_cost_share)
    modes = {"main": main_mode, "urgent": urgent, "rate_main": rates(main_mode), "rate_urgent": rates(urgent),
             "price": price}
    air_qty = rec["air_qty"].to_numpy(float)
    qty0 = rec["recommended_qty"].to_numpy(float)
    inp = SimInputs(
        demand_q=plan["q"].astype(np.float32), available=rec["available"].to_numpy(float),
        transit_day=t_day, transit_sd=t_sd, transit_qty=t_q,
        order0_main=qty0 - air_qty, order0_urgent=air_qty,
        lt_main=rec["lead_time_days"].to_numpy(float), lt_main_sd=rec["lead_time_std"].to_numpy(float),
        lt_urgent=np.maximum(lt_urg["lead_time_days"].to_numpy(float), 1.0),
        lt_urgent_sd=lt_urg["lead_time_std"].to_numpy(float),
        safety_stock=np.maximum(rec["order_up_to"].to_numpy(float) - rec["review_demand"].to_numpy(float), 0.0),
        moq=prod["moq"].to_numpy(float), case_pack=prod["case_pack"].to_numpy(float), unit_cost=unit_cost,
        unit_price=price, rate_main=modes["rate_main"], rate_urgent=modes["rate_urgent"],
        review_days=int(base.policy.review_period_days))
    return inp, modes


def sku_table(base: WhatIfBase, plan: dict, sim, modes: dict) -> pd.DataFrame:
    """One row per SKU: the plan, the simulated stockouts, lost units and revenue, freight, and a reason."""
    prod, rec, skus = base.products, plan["rec"], base.skus
    n, H = base.quantiles.shape[:2]
    freight = sim.order_units_main * modes["rate_main"] + sim.order_units_urgent * modes["rate_urgent"]
    out = pd.DataFrame({
        "sku": skus.to_numpy(), "title": prod.get("title", pd.Series([""] * n)).to_numpy(),
        "main_mode": modes["main"], "recommended_qty": rec["recommended_qty"].to_numpy(),
        "air_qty": rec["air_qty"].to_numpy(), "ship_mode": rec["ship_mode"].to_numpy(),
        "order_by": pd.to_datetime(rec["order_by"]).to_numpy(),
        "lead_time_days": rec["lead_time_days"].to_numpy(), "demand_factor_mean": plan["factor"].mean(axis=1).round(3),
        "ad_factor": plan["ad_factor"].round(3), "p_stockout": sim.p_stockout.round(4),
        "stockout_days": sim.stockout_days.round(2), "demand_units": sim.demand_units.round(1),
        "lost_units": sim.lost_units.round(1), "lost_revenue_usd": (sim.lost_units * modes["price"]).round(2),
        "fill_rate": np.where(sim.demand_units > 0, 1 - sim.lost_units / np.maximum(sim.demand_units, 1e-9), 1.0).round(4),
        "order_units_main": sim.order_units_main.round(1), "order_units_air": sim.order_units_urgent.round(1),
        "freight_usd": freight.round(2),
    })
    out["reason"] = [
        (f"{r.sku}: P(stockout) {r.p_stockout:.0%}, {r.stockout_days:.1f} stockout days, {r.lost_units:.0f} units "
         f"(${r.lost_revenue_usd:,.0f}) lost over {H} d; order {r.recommended_qty} by {r.ship_mode} by "
         f"{pd.Timestamp(r.order_by).date()} (lead time {r.lead_time_days:.0f} d)")
        for r in out.itertuples(index=False)]
    return out


def order_plan_table(base: WhatIfBase, orders: list, modes: dict) -> pd.DataFrame:
    """The median path's orders: today's recommendation and the weekly reviews after it."""
    skus, as_of = base.skus, base.as_of
    plan = pd.DataFrame(orders, columns=["_i", "day", "qty", "kind", "arrival_day"])
    i = plan["_i"].to_numpy()
    plan["sku"] = skus.to_numpy()[i] if len(plan) else []
    plan["mode"] = np.where(plan["kind"] == "main", modes["main"][i] if len(plan) else [], modes["urgent"][0])
    plan["order_date"] = as_of + pd.to_timedelta(plan["day"], unit="D")
    plan["expected_arrival"] = as_of + pd.to_timedelta(plan["arrival_day"], unit="D")
    rates = np.where(plan["kind"] == "main", modes["rate_main"][i] if len(plan) else [],
                     modes["rate_urgent"][i] if len(plan) else [])
    plan["freight_usd"] = (plan["qty"] * rates).round(2)
    plan["qty"] = plan["qty"].round().astype("int64")
    plan["reason"] = np.where(plan["day"] == 0, "today's restock recommendation (RestockPolicy)",
                              "weekly review: position below order-up-to level on the median path")
    return plan.sort_values(["order_date", "sku"])[["sku", "order_date", "mode", "qty", "expected_arrival",
                                                    "freight_usd", "reason"]].reset_index(drop=True)


def stock_fan_table(base: WhatIfBase, sim) -> pd.DataFrame:
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


def scenario_summary(base: WhatIfBase, sc: Scenario, plan: dict, sim, modes: dict, n_paths: int,
                     seed: int) -> dict:
    """The scenario's row of the comparison: service, stockouts, cash, freight, ad spend."""
    H = base.quantiles.shape[1]
    main_mode = modes["main"]
    by_mode = (pd.Series(sim.order_units_main * modes["rate_main"]).groupby(main_mode).sum().add(
        pd.Series(sim.order_units_urgent * modes["rate_urgent"]).groupby(modes["urgent"]).sum(), fill_value=0.0))
    demand = float(sim.demand_units.sum())
    lost = float(sim.lost_units.sum())
    return {
        "scenario": sc.name, "title": sc.label, "levers": sc.describe(),
        "stockout_days": round(float(sim.path_stockout_days.mean()), 1),
        "stockout_days_p90": round(float(np.quantile(sim.path_stockout_days, 0.9)), 1),
        "skus_short": int((sim.p_stockout >= 0.5).sum()),
        "lost_units": round(lost, 1), "lost_revenue_usd": round(float((sim.lost_units * modes["price"]).sum()), 2),
        "service_level": round(1 - lost / demand, 4) if demand > 0 else 1.0,
        "demand_units": round(demand, 1),
        "peak_inventory_units": round(float(sim.path_peak_units.mean()), 1),
        "cash_tied_up_usd": round(float(sim.path_peak_cash.mean()), 2),
        "order_units": round(float((sim.order_units_main + sim.order_units_urgent).sum()), 1),
        "order_units_air": round(float(sim.order_units_urgent.sum() + sim.order_units_main[main_mode == "air"].sum()), 1),
        "freight_usd": round(float(by_mode.sum()), 2),
        "freight_by_mode": "; ".join(f"{m} {v:,.0f}" for m, v in by_mode.items() if v > 0) or "none",
        "extra_ad_spend_usd": round(plan["extra_spend"] * H, 2),
        "recommended_qty_today": int(plan["rec"]["recommended_qty"].sum()),
        "n_paths": int(n_paths), "seed": int(seed),
    }


def _reason(s: dict, base: dict | None, H: int) -> str:
    vs = ""
    if base is not None and base["scenario"] != s["scenario"]:
        vs = f" (baseline {base['stockout_days']:,.0f})"
    return (f"{s['title']} [{s['levers']}]: {s['stockout_days']:,.0f} SKU stockout days{vs} over {H} d, "
            f"{s['lost_units']:,.0f} units (${s['lost_revenue_usd']:,.0f}) lost, service level "
            f"{s['service_level']:.1%}, peak cash tied up ${s['cash_tied_up_usd']:,.0f}, freight "
            f"${s['freight_usd']:,.0f} ({s['freight_by_mode']}); mean of {s['n_paths']} paths, seed {s['seed']}.")


def compare(results: list[ScenarioResult], horizon_days: int) -> pd.DataFrame:
    """One row per scenario (:data:`COMPARISON_COLUMNS`), the baseline first."""
    rows = [r.summary for r in results]
    base = next((r.summary for r in results if r.scenario.is_baseline()), None)
    for row in rows:
        row["reason"] = _reason(row, base, horizon_days)
    return pd.DataFrame(rows)[COMPARISON_COLUMNS]


def what_if(ds, as_of, scenarios: list[Scenario], n_paths: int = 1000, seed: int = 0,
            forecast: pd.DataFrame | None = None, horizon_days: int | None = None,
            policy: RestockPolicy | None = None, scenario_set: str = "", overrides=None) -> WhatIfRun:
    """Run every scenario on a loaded dataset (one forecast, shared random numbers) and compare them."""
    if not isinstance(n_paths, (int, np.integer)) or isinstance(n_paths, bool) or n_paths < 1:
        raise InputError(f"n_paths must be a whole number >= 1, got {n_paths!r}")
    base = prepare(ds, as_of, forecast=forecast, horizon_days=horizon_days, policy=policy, overrides=overrides)
    results = [run_scenario(base, sc, n_paths=n_paths, seed=seed) for sc in scenarios]
    comp = compare(results, base.quantiles.shape[1])
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
    if scenarios_dir is not None:
        for p in sorted([*Path(scenarios_dir).glob("*.yaml"), *Path(scenarios_dir).glob("*.yml")]):
            write_text(out / "scenarios" / p.name, p.read_text(encoding="utf-8"))
    info = {"scenario_set": run.scenario_set, "as_of": str(run.as_of.date()) if run.as_of is not None else None,
            "scenarios": list(run.results), **(meta or {})}
    write_text(out / "run.json", json.dumps(info, indent=2, default=str) + "\n")
    write_frame(run.comparison, out / "comparison.csv")  # last: its presence means the review is complete
    return out


def run_what_if(data_dir, as_of, scenarios_dir, output_dir, n_paths: int = 1000, seed: int = 0,
                overrides=None) -> pd.DataFrame:
    """The ``workbench what-if`` command: load, run every scenario file of ``scenarios_dir``, write to ``output_dir``.

    Returns the comparison (one row per scenario, with a ``reason``). Bad scenario files or data raise
    :class:`workbench.errors.InputError` (exit code 2) before anything is written. ``overrides``: the
    analyst overrides the forecast uses (the CLI passes :func:`workbench.config.default_overrides`).
    """
    from workbench.data import load_dataset

    scenarios = load_scenario_set(scenarios_dir)
    ds = load_dataset(data_dir)
    run = what_if(ds, as_of, scenarios, n_paths=n_paths, seed=seed, scenario_set=Path(scenarios_dir).name,
                  overrides=overrides)
    write_run(run, output_dir, scenarios_dir,
              meta={"data_dir": str(data_dir), "n_paths": n_paths, "seed": seed})
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

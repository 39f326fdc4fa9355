"""Issue 13 done-when, on a weekly run of a generated dataset: no ad raise where ACoS > break-even or the
Buy Box is lost; every pre-stockout listing has a finite gap whose class matches its days; every
ordered SKU ends at or above its reorder point; statuses match the stated thresholds."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from restock_fixtures import recent_mean_forecast
from workbench.policies.ads import AdBudgetPolicy
from workbench.policies.phase import StockoutPhase
from workbench.policies.pricing import PricingPolicy
from workbench.policies.restock import RestockPolicy
from workbench.stock import build_snapshot

generate = pytest.importorskip("workbench.data.generate")


def check_invariants(restock: pd.DataFrame, phases: pd.DataFrame, ads: pd.DataFrame | None,
                     p: RestockPolicy, phase: StockoutPhase | None = None) -> None:
    """Assert the done-when invariants on one run's frames (used here and by the seller cases)."""
    phase = phase or StockoutPhase()
    if ads is not None and len(ads):
        raised = ads["recommended_budget"] > ads["current_budget"] + 0.005
        spend, sales = ads["spend_14d"].fillna(0), ads["ad_sales_14d"].fillna(0)
        acos = np.where(sales > 0, spend / sales.where(sales > 0, 1), np.where(spend > 0, np.inf, 0.0))
        above = acos > ads["breakeven_acos"] + 1e-3
        bad = ads[raised & (above | ads["buybox_lost"].astype(bool))]
        assert bad.empty, f"ad raise above break-even or with the Buy Box lost:\n{bad[['campaign', 'reason']]}"
    pre = phases[phases["phase"] == "pre_stockout"]
    assert np.isfinite(pre["gap_days"].astype(float)).all(), pre[["sku", "gap_days"]]
    assert (pre["gap_days"] > 0).all()
    np.testing.assert_array_equal(pre["gap_class"].to_numpy(), phase._gap_class(pre["gap_days"]))
    ordered = restock[restock["recommended_qty"] > 0]
    short = ordered[ordered["inventory_position"] + ordered["recommended_qty"] < ordered["reorder_point"] - 0.1]
    assert short.empty, f"ordered SKUs below their reorder point:\n{short[['sku', 'reason']]}"
    d = restock["ads"].astype(float)
    st, cover, sell = restock["status"], restock["cover_days"], restock["sellable_cover_days"]
    live = d > 0
    np.testing.assert_array_equal((st == "alert_under_7d").to_numpy(), (live & (sell < p.alert_cover_days)).to_numpy())
    air_band = live & (sell >= p.alert_cover_days) & (cover <= p.consider_air_cover_days)
    np.testing.assert_array_equal((st == "consider_air").to_numpy(), air_band.to_numpy())
    assert (cover[st == "overstock"] > p.overstock_cover_days).all()
    assert (restock.loc[st == "overstock", "recommended_qty"] == 0).all()
    sea = st == "order_by_sea_soon"
    assert ((cover[sea] > p.consider_air_cover_days) & (cover[sea] <= p.order_sea_cover_days)).all()
    assert (restock.loc[st.isin(["order_now", "new_product"]), "recommended_qty"] > 0).all()
    assert (restock.loc[st == "ok", "recommended_qty"] == 0).all()


@pytest.fixture(scope="module")
def weekly():
    tables, _ = generate.generate_dataset(generate.GeneratorConfig(n_skus=40, years=1.5, seed=13))
    t = {k: v.apply(lambda c: c.astype(str) if isinstance(c.dtype, pd.CategoricalDtype) else c)
         for k, v in tables.items()}
    as_of = pd.Timestamp(t["sales"]["date"].max()).normalize()
    fc = recent_mean_forecast(t["sales"], t["products"]["sku"], as_of, horizon=120)
    snap = build_snapshot(t, as_of, forecast=fc)
    policy = RestockPolicy(n_paths=300)
    restock = policy.recommend(snap)
    phases = StockoutPhase().recommend(snap, restock=restock)
    pricing = PricingPolicy().recommend(snap, phases=phases)
    ads = AdBudgetPolicy().recommend(snap, phases=phases)
    return policy, restock, phases, pricing, ads


def test_the_done_when_invariants_hold_on_a_generated_weekly_run(weekly):
    policy, restock, phases, pricing, ads = weekly
    check_invariants(restock, phases, ads, policy)
    assert (restock["recommended_qty"] > 0).any() and len(ads) > 0


def test_every_decision_names_its_rule(weekly):
    _, restock, phases, pricing, ads = weekly
    pre = pricing[pricing["phase"] == "pre_stockout"]
    assert pre["reason"].str.contains("replenishment_gap").all()
    assert pricing["gap_days"].where(pricing["phase"] == "pre_stockout").dropna().map(np.isfinite).all()
    guarded = ads[ads["guard"] != ""]
    assert guarded["reason"].str.contains("no_sales_pause|too_few_clicks_keep|peak_keep_profitable|no_raise_above_breakeven|"
                                          "buybox_lost_no_raise").all()
    over = restock[restock["status"] == "overstock"]
    assert (over["overstock_action"] != "").all() and over["reason"].str.contains("tied up").all()

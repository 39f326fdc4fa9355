"""Seller cases (issue 13): one hand-built situation per rule, the decision a seller would take, and a
reason that names the rule and its numbers (fixture: tests/seller_cases.py)."""
from __future__ import annotations

import numpy as np
import pytest
from seller_cases import AS_OF, load_seller_cases

from workbench.policies.ads import AdBudgetPolicy
from workbench.policies.phase import StockoutPhase
from workbench.policies.pricing import PricingPolicy
from workbench.policies.restock import RestockPolicy
from workbench.risk.hijack import HijackScorer
from workbench.risk.returns import NewProductTestPolicy
from workbench.stock import build_snapshot


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return load_seller_cases(tmp_path_factory.mktemp("seller") / "d")


@pytest.fixture(scope="module")
def snap(ds):
    return build_snapshot(ds, AS_OF)


@pytest.fixture(scope="module")
def restock(snap):
    return RestockPolicy(n_paths=300).recommend(snap).set_index("sku")


@pytest.fixture(scope="module")
def phases(snap, restock):
    return StockoutPhase().recommend(snap, restock=restock.reset_index()).set_index("sku")


@pytest.fixture(scope="module")
def pricing(snap, phases):
    return PricingPolicy().recommend(snap, phases=phases.reset_index()).set_index("sku")


@pytest.fixture(scope="module")
def ads(snap, phases):
    return AdBudgetPolicy().recommend(snap, phases=phases.reset_index()).set_index("campaign")


# -- 1. the gap is stockout vs the next replenishment ------------------------------------------------
def test_a_truck_sku_ordered_this_week_has_no_gap(phases, pricing):
    r = phases.loc["GAP-TRUCK"]
    assert r["days_to_replenishment"] == pytest.approx(7, abs=1.5) and "truck" in r["replenishment"]
    assert r["phase"] == "normal"  # 10.5 d of stock, a truck order lands in ~7 d: nothing to do on price or ads
    assert pricing.loc["GAP-TRUCK", "rule"] == "normal_hold"


def test_gap_classes_follow_the_next_replenishment(snap, phases):
    plain = StockoutPhase().recommend(snap).set_index("sku")  # no restock plan: no air bridge
    med = plain.loc["GAP-SEA-MED"]  # the open PO (35 d) lands before an order placed today (40 d)
    assert med["phase"] == "pre_stockout" and med["gap_class"] == "medium"
    assert med["replenishment"] == "open PO" and med["gap_days"] == pytest.approx(15, abs=3)
    assert "replenishment_gap" in med["reason"] and f"{med['gap_days']:.1f} d" in med["reason"]
    # the plan flies nothing today: it runs out on day 20 and next week's air order (7 + 10 d) still lands before
    # that (the air bridge carries only the days the next review cannot reach), so the open PO stays the answer
    assert phases.loc["GAP-SEA-MED", "replenishment"] == "open PO"
    # without the restock plan the sea-only SKU waits ~40 d for an order placed today: a long gap ...
    alone = plain.loc["GAP-SEA-LONG"]
    assert alone["gap_class"] == "long" and alone["gap_days"] == pytest.approx(35, abs=3)
    assert "order today by sea" in alone["reason"]
    # ... with the plan's air bridge the next replenishment lands in ~10 d: a short gap
    bridged = phases.loc["GAP-SEA-LONG"]
    assert bridged["replenishment"].startswith("air bridge") and bridged["gap_class"] == "short"
    assert bridged["gap_days"] == pytest.approx(5, abs=2)


# -- 2. ads: never raise above break-even, pause spend without sales, keep profitable going into a peak ----
def test_ads_follow_break_even_and_the_peak(ads):
    exact, broad, auto = (ads.loc[f"ADS-PEAK-SP-{n}"] for n in ("exact", "broad", "auto"))
    assert exact["acos"] < exact["breakeven_acos"] and exact["recommended_budget"] >= exact["current_budget"]
    assert abs(exact["change_pct"]) <= 20.0 + 1e-6  # the weekly cap stays
    assert broad["acos"] > broad["breakeven_acos"] and broad["recommended_budget"] <= broad["current_budget"]
    assert auto["recommended_budget"] == 0 and auto["action"] == "pause"
    assert "no_sales_pause" in auto["reason"] and "42 clicks" in auto["reason"]
    if "peak_keep_profitable" in exact["reason"]:
        assert "Black Friday" in exact["reason"]


def test_recovery_does_not_raise_a_campaign_above_break_even(ads):
    bad, good = ads.loc["REC-STEP1-SP-exact"], ads.loc["REC-STEP1-SP-phrase"]
    assert bad["phase"] == "recovery" and bad["acos"] > bad["breakeven_acos"]
    assert bad["recommended_budget"] <= bad["current_budget"]
    assert "no_raise_above_breakeven" in bad["reason"] and f"{bad['breakeven_acos']:.0%}" in bad["reason"]
    assert good["recommended_budget"] > good["current_budget"]  # the profitable core campaign does get the boost


# -- 3. Buy Box lost -------------------------------------------------------------------------------------
def test_buybox_lost_no_ad_raise_and_a_price_to_win_it_back(ads, pricing, snap):
    c = ads.loc["BUYBOX-SP-exact"]
    assert c["buybox_lost"] and c["recommended_budget"] <= c["current_budget"]
    p = pricing.loc["BUYBOX"]
    assert p["rule"] == "buybox_lost_win_back" and p["recommended_price"] == pytest.approx(41.98)
    assert "41.98" in p["reason"] and "margin floor" in p["reason"]
    h = pricing.loc["HIJACK"]
    assert h["rule"] == "buybox_lost_hijack_playbook" and h["recommended_price"] <= h["current_price"]
    assert "test buy" in h["reason"] and "brand-registry complaint" in h["reason"]
    risk = HijackScorer().recommend(snap).set_index("sku")
    assert "test buy" in risk.loc["HIJACK", "recommended_action"]
    assert "buybox_lost" in risk.loc["BUYBOX", "recommended_action"]


# -- 4. recovery pricing from the pre-stockout price, and back to normal when ranks and conversion are ------
def test_recovery_discount_is_taken_from_the_pre_stockout_price(pricing, phases):
    r = pricing.loc["REC-STEP1"]
    assert r["rule"] == "recovery_step_1_discount" and r["reference_price"] == pytest.approx(30.0)
    off = 1 - r["recommended_price"] / 30.0
    assert 0.20 - 1e-6 <= off <= 0.35 + 1e-6
    assert "pre-stockout price 30.00" in r["reason"]
    back = pricing.loc["REC-BACK"]
    assert phases.loc["REC-BACK", "phase"] == "normal" and "recovery_over" in phases.loc["REC-BACK", "reason"]
    assert back["rule"] == "recovery_over" and back["recommended_price"] == pytest.approx(31.99)


# -- 5. restock quantities ---------------------------------------------------------------------------------
def test_air_only_when_it_pays_and_as_its_own_small_order(restock):
    thin = restock.loc["AIR-THIN"]
    assert thin["air_qty"] == 0 and "air_not_worth_it" in thin["rule"]
    assert f"${thin['net_unit_margin']:.2f}/unit net of sea freight" in thin["reason"] and thin["net_unit_margin"] < 0.5
    only = restock.loc["AIR-ONLY"]
    assert only["air_qty"] > 0 and only["main_qty"] == 0 and only["recommended_qty"] == only["air_qty"]
    assert only["air_qty"] < only["moq"] and only["air_qty"] % only["case_pack"] == 0
    # the newsvendor quantity of the gap: point need 40 + z·σ at the fractile 1 − premium / net margin, in cases
    from scipy import stats
    q = only["air_need"] + stats.norm.ppf(only["air_service_level"]) * only["air_need_std"]
    assert only["air_need"] <= only["air_qty"] and q - 0.5 <= only["air_qty"] < q + only["case_pack"]


def test_moq_above_the_target_is_said(restock):
    r = restock.loc["MOQ-FORCED"]
    assert r["recommended_qty"] == 300 and r["moq_extra"] > 0 and "moq_above_target" in r["rule"]
    assert f"forces {r['moq_extra']} more" in r["reason"]


def test_turnover_cut_only_for_healthy_skus(restock):
    r = restock.loc["RUNNING-SLOW"]
    assert r["turnover_per_month"] < 1 and r["recommended_qty"] > 0
    assert "turnover_slow" not in r["rule"]
    assert r["inventory_position"] + r["recommended_qty"] >= r["reorder_point"]


def test_every_unit_is_explained(restock):
    for sku in ("GAP-SEA-LONG", "MOQ-FORCED", "AIR-ONLY", "RUNNING-SLOW"):
        r = restock.loc[sku]
        assert f"order {r['recommended_qty']} by" in r["reason"]
        assert r["recommended_qty"] == r["air_qty"] + r["main_qty"]
        assert r["main_qty"] == r["main_case_qty"] + r["moq_extra"]


def test_service_level_is_cost_optimal_with_the_rule_of_thumb_beside_it(restock):
    thin, rich = restock.loc["AIR-THIN"], restock.loc["GAP-SEA-LONG"]
    assert thin["service_level"] < rich["service_level"]  # 0.50 margin vs 19.50: less safety stock is worth it
    assert restock.loc["LOW-SELLABLE", "service_level"] >= 0.98  # key item floor
    assert {"rot_qty", "rot_safety_stock", "qty_vs_rule"} <= set(restock.columns)
    assert "cost-optimal" in rich["reason"]


# -- 6. stock standards and statuses ----------------------------------------------------------------------
def test_under_seven_days_of_sellable_stock_is_an_alert_even_with_inbound(restock):
    r = restock.loc["LOW-SELLABLE"]
    assert r["cover_days"] > 20 and r["sellable_cover_days"] < 7
    assert r["status"] == "alert_under_7d" and "sellable cover 3.0 d < 7 d" in r["reason"]
    truck = restock.loc["GAP-TRUCK"]
    assert truck["status"] == "consider_air" and "within the cover: no air needed" in truck["reason"]


# -- 7. new products and returns ----------------------------------------------------------------------------
def test_a_test_verdict_needs_a_minimum_sample_and_a_stop_is_not_reordered(snap, restock):
    v = NewProductTestPolicy().recommend(snap).set_index("sku")
    assert v.loc["NEW-SMALL", "verdict"] == "keep testing" and "test_min_sample" in v.loc["NEW-SMALL", "reason"]
    assert v.loc["NEW-STOP", "verdict"] == "stop"
    stop = restock.loc["NEW-STOP"]
    assert stop["recommended_qty"] == 0 and "test_stop_no_reorder" in stop["reason"]
    spike = restock.loc["DEFECT-SPIKE"]
    assert "defect_returns_spike" in spike["rule"] and "40 defect/quality returns = 14%" in spike["reason"]


# -- 8. overstock gets an action ------------------------------------------------------------------------------
def test_overstock_gets_a_clearance_or_removal_with_the_money(restock):
    r = restock.loc["OVERSTOCK"]
    assert r["status"] == "overstock" and r["overstock_action"] == "removal / liquidation"
    assert r["stock_value_usd"] == pytest.approx(2000 * 6.0)
    assert r["holding_cost_month_usd"] == pytest.approx(12000 * 0.25 / 12)
    assert r["excess_units"] == pytest.approx(2000 - 2 * 90, abs=5)
    assert "$12,000 tied up costing $250/month" in r["reason"]


# -- 9. conversion check after a raise ---------------------------------------------------------------------------
def test_conversion_check_after_a_raise_is_visible(pricing):
    r = pricing.loc["RAISED"]
    assert r["conversion_drop_pct"] == pytest.approx(-30.0, abs=1)
    assert r["conversion_check"].startswith("conversion_check") and "20.00 → 22.00" in r["conversion_check"]
    assert "conversion_check" in r["reason"]
    assert not pricing.loc["ADS-PEAK", "conversion_check"]


def test_invariants_hold_on_the_seller_cases(restock, phases, ads):
    from test_decision_invariants import check_invariants
    check_invariants(restock.reset_index(), phases.reset_index(), ads.reset_index(), RestockPolicy())
    assert np.isfinite(phases.loc[phases["phase"] == "pre_stockout", "gap_days"]).all()

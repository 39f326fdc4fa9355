"""Where each SKU stands in the stockout cycle: the four hand-made cases and the gap classes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pricing_ads_dataset import AS_OF, four_sku_tables, load_four_sku_dataset

from workbench.stock import build_snapshot
from workbench.policies.phase import StockoutPhase


@pytest.fixture(scope="module")
def phases(four):
    return StockoutPhase().recommend(build_snapshot(four, AS_OF)).set_index("sku")


def test_the_four_cases_get_their_phase(phases):
    assert phases["phase"].to_dict() == {"GAP-10D": "pre_stockout", "HEALTHY": "normal", "OOS": "stockout",
                                         "RESTOCKED": "recovery"}


def test_a_10_day_gap_is_medium_and_the_reason_names_the_shipment(phases):
    gap = phases.loc["GAP-10D"]
    # 40 sellable / 10 a day = 4.0 days of cover; PO-118's ETA is in 14 days, and sea shipments land
    # 3.2 days after their ETA on average (workbench.leadtime): expected in 17 days, a 13-day gap
    assert (gap["sellable_cover_days"], gap["days_to_arrival"], gap["gap_days"]) == (4.0, 17.0, 13.0)
    assert gap["cover_days"] == 64.0  # (40 sellable + 600 in transit) / 10, the snapshot's playbook cover
    assert gap["gap_class"] == "medium"
    assert gap["days_to_replenishment"] == 17.0 and gap["replenishment"] == "open PO"
    assert gap["phase_reason"] == ("replenishment_gap: sellable cover 4.0 d < 17.0 d to the next replenishment "
                                   "(open PO PO-118 sea, expected 2026-04-17): medium gap of 13.0 d (≤ 30 d)")


def test_just_restocked_after_15_days_out_is_recovery_step_1(phases):
    r = phases.loc["RESTOCKED"]
    assert r["stockout_days"] == 15 and r["days_since_restock"] == 3
    assert r["pre_stockout_ads"] == 12.0 and round(r["recent_ads"], 2) == 4.67  # (4 + 5 + 5) / 3
    assert (r["pre_rank"], r["current_rank"]) == (6.5, 24.0)  # mean of 4 & 9 before, 18 & 30 now
    assert r["recovery_step"] == 1
    assert "15-day stockout" in r["phase_reason"] and "recovery step 1" in r["phase_reason"]


def test_gap_classes_have_parameter_boundaries():
    rules = StockoutPhase()
    assert list(rules._gap_class([3, 7, 10, 15, 30, 31, float("nan")])) == [
        "short", "short", "medium", "medium", "medium", "long", "long"]
    assert list(StockoutPhase(short_gap_max_days=10)._gap_class([10])) == ["short"]


def test_a_bad_parameter_is_named_with_its_value(four):
    with pytest.raises(ValueError, match=r"`medium_gap_max_days` must be in \(7, 365\], got 5"):
        StockoutPhase(medium_gap_max_days=5).recommend(build_snapshot(four, AS_OF))


def test_short_and_long_gaps(tmp_path):
    t = four_sku_tables()
    sh = t["shipments"]
    sh.loc[sh["sku"] == "GAP-10D", "eta"] = "2026-04-08"  # expected 11 days away (ETA + 3 d), cover 4 → 7-day gap
    sh = sh[sh["sku"] != "HEALTHY"]  # nothing inbound for HEALTHY
    inv = t["inventory"]
    inv.loc[inv["sku"] == "HEALTHY", "on_hand"] = 305  # 300 available: 30 days, nothing coming
    ph = StockoutPhase().recommend(build_snapshot(load_four_sku_dataset(tmp_path / "four", shipments=sh, inventory=inv), AS_OF)).set_index("sku")
    assert (ph.loc["GAP-10D", "phase"], ph.loc["GAP-10D", "gap_class"]) == ("pre_stockout", "short")
    # Nothing inbound is not automatically a long gap (issue 13): the next replenishment is an order
    # placed today at the SKU's usual mode, so the gap is that lead time minus the 30 days of cover.
    h = ph.loc["HEALTHY"]
    assert h["replenishment"] == "order today by sea" and np.isfinite(h["gap_days"])
    assert h["gap_days"] == pytest.approx(h["order_lead_time_days"] - 30.0)
    assert h["phase"] == ("pre_stockout" if h["gap_days"] > 0 else "normal")
    if h["phase"] == "pre_stockout":
        assert h["gap_class"] == StockoutPhase()._gap_class(h["gap_days"])
        assert "order today by sea, nothing inbound" in h["phase_reason"]


def test_recovery_moves_to_step_2_and_back_to_normal(tmp_path):
    t = four_sku_tables()
    s, kr, inv = t["sales"], t["keyword_ranks"], t["inventory"]
    inv.loc[inv["sku"] == "RESTOCKED", "on_hand"] = 905  # plenty: not running out again
    # stockout 02-20 .. 03-06 (15 days), back since 03-07: 24 days ago
    r = s["sku"] == "RESTOCKED"
    out = r & s["date"].between("2026-02-20", "2026-03-06")
    back = r & (s["date"] >= "2026-03-07")
    s.loc[r, ["units", "in_stock"]] = [12, True]
    s.loc[out, ["units", "in_stock"]] = [0, False]
    s.loc[back, "units"] = 9  # 75 % of the 12 a day before
    s["revenue"] = (s["units"] * s["price"]).round(2)
    ph = StockoutPhase().recommend(build_snapshot(load_four_sku_dataset(tmp_path / "four", sales=s, keyword_ranks=kr.iloc[:0], inventory=inv), AS_OF))
    row = ph.set_index("sku").loc["RESTOCKED"]
    assert (row["phase"], row["recovery_step"]) == ("recovery", 2)
    s.loc[back, "units"] = 12  # sales back to the pre-stockout level and no rank data: recovered
    s["revenue"] = (s["units"] * s["price"]).round(2)
    ph = StockoutPhase().recommend(build_snapshot(load_four_sku_dataset(tmp_path / "four", sales=s, keyword_ranks=kr.iloc[:0], inventory=inv), AS_OF))
    assert ph.set_index("sku").loc["RESTOCKED", "phase"] == "normal"

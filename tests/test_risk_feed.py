"""Supplier feed (domain-rules.md §7): staleness, oversell risk, SKU code changes, flagged for review."""
import pandas as pd

from risk_fixtures import risk_snapshot

from workbench.risk import SupplierFeedPolicy

AS_OF = "2026-05-10"  # reference time: end of day, 2026-05-11 00:00


def test_stale_feed_oversell_and_code_change_are_flagged():
    feed = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-05-10 20:00", "2026-05-10 08:00", "2026-05-09 22:00",
                                     "2026-05-10 22:00", "2026-05-12 09:00"]),
        "sku": ["A", "B", "C", "C", "A"], "supplier": ["S1", "S2", "S1", "S1", "S1"],
        "supplier_stock": [50, 3, 40, 40, 0],
        "supplier_sku": ["X-1", "Y-1", "Z-1", "Z-2", "X-1"]})
    products = pd.DataFrame({"sku": ["A", "B", "C"], "supplier_sku": ["X-1", "Y-1", "Z-1"]})
    inventory = pd.DataFrame({"as_of": pd.Timestamp("2026-05-10"), "sku": ["A", "B", "C"], "location": "dropship",
                              "on_hand": [20, 10, 5], "reserved": [0, 2, 0]})
    f = SupplierFeedPolicy().recommend(risk_snapshot(AS_OF, products, supplier_feed=feed, inventory=inventory))
    f = f.set_index("sku")
    # A: read 4 h ago (the 05-12 reading is in the future), listed 20 <= 50: nothing to review
    assert f.loc["A", "hours_since_reading"] == 4 and not f.loc["A", "review"]
    # B: 16 h old > 6 h, listed 8 > supplier 3 -> stale and oversell 5 units
    assert f.loc["B", "stale"] and f.loc["B", "oversell_risk"] and f.loc["B", "oversell_units"] == 5
    assert "last reading 16 h ago > 6 h: STALE" in f.loc["B", "reason"]
    assert "listed 8 > supplier stock 3: oversell risk 5 units" in f.loc["B", "reason"]
    # C: code changed Z-1 -> Z-2 at the supplier
    assert f.loc["C", "sku_code_changed"] and "Z-1 -> Z-2" in f.loc["C", "reason"]
    assert f.loc["C", "supplier_hours_since_reading"] == 2  # S1's freshest reading is 22:00
    assert f["reason"].str.endswith("flagged for manual review").sum() == 2


def test_staleness_threshold_is_a_parameter():
    feed = pd.DataFrame({"timestamp": pd.to_datetime(["2026-05-10 08:00"]), "sku": ["A"], "supplier": ["S"],
                         "supplier_stock": [10]})
    products = pd.DataFrame({"sku": ["A"]})
    no_stock = pd.DataFrame({"as_of": pd.Series(dtype="datetime64[ns]"), "sku": pd.Series(dtype=str),
                             "location": pd.Series(dtype=str), "on_hand": pd.Series(dtype="int64"),
                             "reserved": pd.Series(dtype="int64")})
    f = SupplierFeedPolicy(max_staleness_hours=24).recommend(
        risk_snapshot(AS_OF, products, supplier_feed=feed, inventory=no_stock))
    assert not f.loc[0, "stale"] and not f.loc[0, "review"]

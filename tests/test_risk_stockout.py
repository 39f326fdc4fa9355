"""Stockout risk: cover-based estimate (hand-checked) and the restock engine's probability when given."""
import math

import pandas as pd
import pytest

from workbench.risk import cover_stockout_estimate, from_restock_engine

AS_OF = pd.Timestamp("2026-05-10")
PRODUCTS = pd.DataFrame({"sku": ["A", "Z"]})


def data():
    days = pd.date_range(AS_OF - pd.Timedelta(days=27), AS_OF, freq="D")
    sales = pd.DataFrame({"date": days, "sku": "A", "channel": "amazon", "units": 2, "revenue": 20.0})
    inventory = pd.DataFrame({"as_of": [AS_OF], "sku": ["A"], "location": ["FBA"], "on_hand": [45], "reserved": [5]})
    shipments = pd.DataFrame({"shipment_id": ["P1", "P2"], "sku": "A", "supplier": "S", "mode": "sea", "qty": [100, 50],
                              "order_date": pd.to_datetime(["2026-01-01", "2026-05-01"]),
                              "ship_date": pd.NaT, "eta": pd.NaT,
                              "received_date": pd.to_datetime(["2026-01-31", None]), "location": "FBA"})
    return sales, inventory, shipments


def p_exceed(units, ads, days):
    """P(Normal(ads * days, 2 * days) > units): daily sd floor sqrt(ads) = sqrt(2) here."""
    return 0.5 * (1 - math.erf(((units - ads * days) / math.sqrt(2 * days)) / math.sqrt(2)))


def test_cover_estimate_matches_the_normal_approximation():
    sales, inventory, shipments = data()
    shipments.loc[1, "eta"] = AS_OF + pd.Timedelta(days=5)
    s = cover_stockout_estimate(PRODUCTS, sales, inventory, shipments, AS_OF).set_index("sku")
    a = s.loc["A"]
    # stock 40 available + 50 inbound = 90, ads 2/d -> cover 45 d; lead time 30 d (P1 took 30 d)
    # within a lead time: P(D_30 > 90) = 1 - Phi(30 / sqrt(60)); before the arrival in 5 d: P(D_5 > 40) ~ 0
    assert (a.available, a.inbound, a.ads, a.cover_days, a.lead_time_days) == (40, 50, 2, 45, 30)
    assert a.stockout_risk == pytest.approx(p_exceed(90, 2, 30), abs=1e-4)
    assert a.stockout_reason == "stockout risk 0% (cover estimate): 90 units = 45 d cover at 2/d vs 30 d lead time"
    assert s.loc["Z", "stockout_risk"] == 0 and "no sales" in s.loc["Z", "stockout_reason"]


def test_without_an_eta_the_arrival_is_order_date_plus_lead_time():
    sales, inventory, shipments = data()
    a = cover_stockout_estimate(PRODUCTS, sales, inventory, shipments, AS_OF).set_index("sku").loc["A"]
    # P2 ordered 05-01 + 30 d -> arrives 05-31, 21 d away; 40 on hand at 2/d last 20 d
    assert a.stockout_risk == pytest.approx(p_exceed(40, 2, 21), abs=1e-4)
    assert "40 on hand = 20 d at 2/d vs 21 d to the next arrival (2026-05-31)" in a.stockout_reason


def test_out_of_stock_days_do_not_drag_average_sales_down():
    sales, inventory, shipments = data()
    sales["in_stock"] = True
    sales.loc[sales.index[:14], ["units", "in_stock"]] = [0, False]
    a = cover_stockout_estimate(PRODUCTS, sales, inventory, shipments, AS_OF).set_index("sku").loc["A"]
    assert a.ads == 2


def test_restock_engine_probability_wins_when_given():
    sales, inventory, shipments = data()
    est = cover_stockout_estimate(PRODUCTS, sales, inventory, shipments, AS_OF)
    eng = pd.DataFrame({"sku": ["A"], "stockout_probability": [0.42]})
    s = from_restock_engine(PRODUCTS, eng, est).set_index("sku")
    assert s.loc["A", "stockout_risk"] == 0.42 and s.loc["A", "stockout_source"] == "restock engine"
    assert s.loc["Z", "stockout_source"] == "cover estimate"


def test_running_out_before_the_next_arrival_counts_even_with_inbound():
    sales, inventory, shipments = data()
    inventory["on_hand"] = 5  # 0 available after 5 reserved
    shipments.loc[1, "qty"] = 500
    shipments.loc[1, "eta"] = AS_OF + pd.Timedelta(days=10)
    a = cover_stockout_estimate(PRODUCTS, sales, inventory, shipments, AS_OF).set_index("sku").loc["A"]
    # 500 inbound covers the lead time, but nothing is on hand for the 10 days until it lands
    assert a.stockout_risk == 1.0
    assert a.stockout_reason == ("stockout risk 100% (cover estimate): 0 on hand = 0 d at 2/d vs 10 d to the next "
                                 "arrival (2026-05-20)")

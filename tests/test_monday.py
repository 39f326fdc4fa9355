"""The Monday layer on small hand-made frames: purchase orders, money, actions, what changed."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.report import actions, changes, money, orders

AS_OF = "2026-11-23"
PRODUCTS = pd.DataFrame({"sku": ["A", "B", "C"], "title": ["Apple", "Bag", "Cup"], "supplier": ["S1", "S1", "S2"],
                         "unit_cost": [2.5, 10.0, 4.0], "price": [10.0, 30.0, 12.0]})
SHIPMENTS = pd.DataFrame({"shipment_id": ["P1", "P2", "P3"], "sku": ["A", "B", "C"], "supplier": ["S1", "S1", "S2"],
                          "mode": ["sea", "air", "sea"], "qty": [100, 10, 50], "order_date": ["2026-10-01"] * 3,
                          "eta": ["2026-11-01", "2026-11-01", "2026-11-30"],
                          "received_date": ["2026-11-01", "2026-11-01", None], "freight_cost": [50.0, 40.0, 10.0]})


def restock(**over):
    r = pd.DataFrame({"sku": ["A", "B", "C"], "title": ["Apple", "Bag", "Cup"], "supplier": ["S1", "S1", "S2"],
                      "available": [0, 40, 5000], "inbound": [0, 0, 50], "ads": [10.0, 2.0, 5.0],
                      "recommended_qty": [300, 0, 0], "air_qty": [40, 0, 0], "ship_mode": ["air+sea", "sea", "sea"],
                      "order_by": ["2026-11-20", "2027-01-01", "2027-01-01"], "stockout_probability": [1.0, 0.1, 0.0],
                      "status": ["consider_air", "ok", "overstock"], "reason": ["r-A", "r-B", "r-C"]})
    return r.assign(**over)


def test_purchase_orders_split_air_and_sea_and_add_up_to_restock_units():
    po = orders.purchase_orders(restock(), PRODUCTS, SHIPMENTS)
    assert po["qty"].sum() == restock()["recommended_qty"].sum() == 300
    assert sorted(zip(po["mode"], po["qty"])) == [("air", 40), ("sea", 260)]
    assert (po["amount"] == po["qty"] * 2.5).all()
    # freight per unit from S1's past sea shipment (50 / 100); no past S1 air from... B's air 40/10 = 4.0
    assert po.set_index("mode").loc["sea", "freight"] == pytest.approx(260 * 0.5)
    assert po.set_index("mode").loc["air", "freight"] == pytest.approx(40 * 4.0)
    assert po["reason"].str.contains("r-A").all() and po["reason"].str.contains("× unit cost 2.50").all()


def test_supplier_totals_carry_cash_per_supplier_and_mode_and_a_total():
    po = orders.purchase_orders(restock(), PRODUCTS, SHIPMENTS)
    t = orders.supplier_totals(po).set_index(["supplier", "mode"])
    total = t.loc[("TOTAL", "all")]
    assert total["qty"] == 300 and total["cash"] == pytest.approx(po["amount"].sum() + po["freight"].sum())
    assert t.loc[("S1", "sea"), "cash"] == pytest.approx(260 * 2.5 + 260 * 0.5)


def test_revenue_at_risk_counts_days_before_an_arrival_as_lost():
    fc = pd.DataFrame({"unique_id": "C", "ds": pd.date_range("2026-11-24", periods=28), "yhat": 10.0})
    r = restock(available=[0, 40, 20])
    out = money.at_risk(fc, r, PRODUCTS, SHIPMENTS, AS_OF).set_index("sku")
    # C: 20 in stock for 2 days, 50 arrive on 2026-11-30 (day 7); days 3..6 short 40 units,
    # then 50 cover days 7..11, short again days 12..28 (17 days × 10)
    assert out.loc["C", "short_units"] == pytest.approx(40 + 170)
    assert out.loc["C", "revenue_at_risk"] == pytest.approx(210 * 12.0)
    assert out.loc["C", "first_short_date"] == pd.Timestamp("2026-11-26")


def test_revenue_at_risk_with_small_daily_shortfalls_still_names_the_first_short_day():
    # 0.3 units short a day: no single day is 0.5 short, the 28 days add up to 8.4 (a 10,000-SKU run crashed here)
    fc = pd.DataFrame({"unique_id": "C", "ds": pd.date_range("2026-11-24", periods=28), "yhat": 0.3})
    out = money.at_risk(fc, restock(available=[0, 40, 0]), PRODUCTS, None, AS_OF).set_index("sku")
    assert out.loc["C", "short_units"] == pytest.approx(0.3 * 28)
    assert out.loc["C", "first_short_date"] == pd.Timestamp("2026-11-24")
    assert "from 2026-11-24" in out.loc["C", "reason"]


def test_lost_last_week_prices_the_censored_days_only():
    h = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2026-11-10", periods=14), "y": 5.0, "y_observed": 5.0,
                      "censored": False})
    h.loc[h.index[-2:], ["y_observed", "censored"]] = [1.0, True]
    h.loc[h.index[0], ["y_observed", "censored"]] = [0.0, True]  # before the week: not counted
    out = money.lost_last_week(h, PRODUCTS, AS_OF)
    assert out["lost_units"].tolist() == [8.0] and out["revenue_lost"].tolist() == [80.0]


def test_overstock_values_units_beyond_the_cover_at_unit_cost():
    out = money.overstock(restock(), PRODUCTS, cover_days=180, holding_rate=0.02).set_index("sku")
    assert list(out.index) == ["C"]
    assert out.loc["C", "excess_units"] == 5050 - 900
    assert out.loc["C", "overstock_value"] == pytest.approx(4150 * 4.0)
    assert out.loc["C", "holding_cost_month"] == pytest.approx(4150 * 4.0 * 0.02)


def test_actions_rank_breaches_and_stockouts_first_and_show_rates_as_percentages():
    health = pd.DataFrame({"channel": ["amazon_us", "amazon_us"], "metric": ["odr", "rating"], "latest": [0.008, 4.9],
                           "target": ["< 0.5%", ">= 4.7"], "breach": [True, False], "trend": ["worsening", "stable"],
                           "reason": ["odr breach", "ok"]})
    alerts = pd.DataFrame({"date": ["2026-11-20", "2026-11-22"], "sku": ["B", "B"], "channel": ["amazon_us"] * 2,
                           "alert": ["buybox_lost"] * 2, "severity": ["high"] * 2, "reason": ["bb1", "bb2"]})
    po = orders.purchase_orders(restock(), PRODUCTS, SHIPMENTS)
    revenue = pd.DataFrame({"sku": ["B"], "channel": ["amazon_us"], "revenue": [900.0]})
    rows = (actions.health_actions(health, revenue, AS_OF) + actions.buybox_actions(alerts, revenue, AS_OF)
            + actions.order_actions(po, pd.DataFrame(columns=["sku", "revenue_at_risk"]), AS_OF)
            + actions.out_of_stock_actions(restock(), pd.DataFrame(columns=["sku", "revenue_at_risk"]), AS_OF))
    ranked = actions.rank(rows)
    assert ranked["kind"].tolist()[:2] == ["account health breach", "out of sellable stock"]
    assert "0.80%" in ranked.loc[0, "action"]
    assert (ranked["kind"] == "Buy Box lost").sum() == 1  # one action per listing, the latest alert
    assert ranked.loc[ranked["kind"] == "Buy Box lost", "money_at_stake"].item() == 900.0
    order = ranked[ranked["kind"] == "order due"].iloc[0]
    assert "40 by air + 260 by sea" in order["action"] and "has passed" in order["action"]
    assert actions.subject_counts(ranked, po) == "2 urgent · 1 to order · 1 health breach · 1 Buy Box lost"


def test_changes_say_first_run_without_an_earlier_report(tmp_path):
    assert changes.previous_report(tmp_path, AS_OF) is None
    ch, fva = changes.compare(None, {"actions": actions.rank([])}, None, AS_OF)
    assert ch["kind"].tolist() == ["first run"] and fva.empty


def test_changes_against_the_previous_report(tmp_path):
    prev = tmp_path / "2026-11-16"
    prev.mkdir()
    (tmp_path / "2026-11-30").mkdir()  # a later report is never "previous"
    restock().to_csv(prev / "restock.csv", index=False)
    pd.DataFrame({"kind": ["Buy Box lost", "order due"], "subject": ["X amazon_us", "A"], "action": ["x", "a"],
                  "reason": ["r", "r"]}).to_csv(prev / "actions.csv", index=False)
    pd.DataFrame({"sku": ["A", "B"], "qty": [100, 50]}).to_csv(prev / "purchase_orders.csv", index=False)
    pd.DataFrame({"sku": ["A"], "channel": ["amazon_us"], "phase": ["pre_stockout"]}).to_csv(prev / "pricing.csv",
                                                                                           index=False)
    pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2026-11-17", periods=14).strftime("%Y-%m-%d"),
                  "yhat": 10.0}).to_csv(prev / "forecast.csv", index=False)
    assert changes.previous_report(tmp_path, AS_OF) == prev
    now = actions.rank([actions._row("today", "order due", "A", "a", AS_OF, 1, "", "r"),
                        actions._row("now", "out of sellable stock", "A", "o", AS_OF, 1, "", "r")])
    pricing = pd.DataFrame({"sku": ["A"], "channel": ["amazon_us"], "phase": ["stockout"], "reason": ["out"]})
    history = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2026-11-10", periods=14), "y": 8.0,
                            "y_observed": 8.0, "censored": False})
    ships = SHIPMENTS.assign(order_date=["2026-11-18", "2026-10-01", "2026-10-01"])
    ch, fva = changes.compare(prev, {"actions": now, "pricing": pricing, "history": history}, ships, AS_OF)
    kinds = dict(zip(ch["subject"] + "|" + ch["kind"], ch["after"]))
    assert "A|new: out of sellable stock" in kinds and "X amazon_us|resolved: Buy Box lost" in kinds
    assert kinds["A|order placed in full"] == "100" and kinds["B|order not placed"] == "0"
    assert kinds["A amazon_us|phase change"] == "stockout"
    assert fva["forecast_units"].tolist() == [70.0] and fva["actual_units"].tolist() == [56.0]
    assert changes.week_accuracy(fva) == pytest.approx(1 - 14 / 56)

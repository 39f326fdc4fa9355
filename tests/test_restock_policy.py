"""RestockPolicy behaviour a seller would notice, on small hand-made frames."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from restock_fixtures import AS_OF, flat_forecast, inventory, products, received, shipments, snap
from workbench.policies.base import check_policy_output
from workbench.policies.restock import RESTOCK_COLUMNS, RESTOCK_NUMERIC, RestockPolicy

# Sea history for supplier S1: lead times 40..49 (mean 44.5), all SKUs share it.
HISTORY = received("S1", "sea", list(range(40, 50)), sku="A")


def sea_shipments(extra=()):
    return shipments(HISTORY + list(extra))


def one(policy=None, on_hand=300, yhat=10.0, extra_ships=(), events=None, sales=None, **prod):
    p = products(**prod)
    out = (policy or RestockPolicy(n_paths=500)).recommend(snap(
        p, inventory(sku=list(p["sku"]), on_hand=on_hand), sea_shipments(extra_ships),
        flat_forecast(list(p["sku"]), yhat), AS_OF, sales=sales, events=events))
    return out


def test_output_meets_the_policy_contract_and_every_sku_has_a_row():
    p = products(sku=["A", "B", "C"])
    # C has no inventory row and no forecast: it still gets a row, with a reason.
    out = RestockPolicy(n_paths=200).recommend(snap(p, inventory(sku=["A", "B"], on_hand=[50, 900]), sea_shipments(),
                                               flat_forecast(["A", "B"], 10.0), AS_OF))
    check_policy_output(out, RESTOCK_COLUMNS, RESTOCK_NUMERIC)
    assert list(out["sku"]) == ["A", "B", "C"]
    assert out["stockout_probability"].between(0, 1).all()
    c = out.set_index("sku").loc["C"]
    assert c["recommended_qty"] == 0 and c["forecast_model"].startswith("ads_blend")
    assert c["status"] == "ok" and "no order needed" in c["reason"]  # nothing in stock, nothing to sell


def test_under_the_reorder_point_orders_up_to_target_in_moq_and_case_packs():
    out = one(on_hand=300, moq=[250], case_pack=[24]).iloc[0]
    assert out["inventory_position"] < out["reorder_point"]
    q = out["recommended_qty"]
    assert q >= 250 and q % 24 == 0
    # Orders up to S = D(L+R) + SS(L+R): at most one case above.
    assert out["order_up_to"] - 300 <= q < max(out["order_up_to"] - 300, 250) + 24
    assert out["status"] in ("order_now", "consider_air", "alert_under_7d")
    assert out["order_by"] == AS_OF
    # issue 13: the reason explains every unit (need = order-up-to − position, then cases / MOQ)
    assert f"order {q} by" in out["reason"] and "cases of 24" in out["reason"]
    assert q == out["air_qty"] + out["main_qty"]


def test_reorder_point_is_lead_time_demand_plus_safety_stock():
    # the formula at the rule of thumb's fixed 95 % (the default is now the cost-optimal level, issue 13/14)
    out = one(RestockPolicy(n_paths=500, service_level_rule="fixed"), on_hand=2000).iloc[0]
    L, d = out["lead_time_days"], out["ads"]
    assert d == pytest.approx(10.0)
    assert out["lead_time_demand"] == pytest.approx(d * L, abs=1.0)
    assert out["reorder_point"] == pytest.approx(out["lead_time_demand"] + out["safety_stock"], abs=0.2)
    # σ_d = sqrt(10) from the flat intervals; SS = 1.645·sqrt(L·10 + 100·σ_L²)
    ss = 1.6449 * np.sqrt(L * 10 + 100 * out["lead_time_std"] ** 2)
    assert out["safety_stock"] == pytest.approx(ss, rel=0.02)


def test_in_transit_stock_counts_as_inbound_and_prevents_a_double_order():
    transit = dict(shipment_id="PO-9", sku="A", supplier="S1", mode="sea", qty=600,
                   order_date=pd.Timestamp("2026-02-15"), ship_date=None, eta=pd.Timestamp("2026-03-05"),
                   received_date=None, location="FBA-US")
    without = one(on_hand=300).iloc[0]
    with_transit = one(on_hand=300, extra_ships=[transit]).iloc[0]
    assert with_transit["inbound"] == 600
    assert with_transit["days_of_cover"] == pytest.approx((300 + 600) / with_transit["ads"], abs=0.01)
    assert with_transit["cover_days"] == with_transit["days_of_cover"]
    assert with_transit["sellable_cover_days"] == pytest.approx(300 / with_transit["ads"], abs=0.01)
    assert without["recommended_qty"] > 0 and with_transit["recommended_qty"] == 0
    assert "600 in transit" in with_transit["reason"]


def test_key_items_carry_more_safety_stock():
    # a thin margin (price 6.20, cost 5: 0.27/unit) makes the cost-optimal level low; a key item keeps its floor
    frames = (products(sku=["K", "R"], is_key_item=[True, False], price=[6.2]), inventory(sku=["K", "R"], on_hand=2000),
              sea_shipments(), flat_forecast(["K", "R"], 10.0), AS_OF)
    out = RestockPolicy(n_paths=200).recommend(snap(*frames)).set_index("sku")
    # the floor is an expected fill rate of 98 % (key_floor_measure="fill_rate"): a higher level and more stock
    assert out.loc["K", "service_level"] > out.loc["R", "service_level"]
    assert out.loc["K", "safety_stock"] > out.loc["R", "safety_stock"]
    cyc = RestockPolicy(n_paths=200, key_floor_measure="cycle").recommend(snap(*frames)).set_index("sku")
    assert cyc.loc["K", "service_level"] >= 0.98 > cyc.loc["R", "service_level"]
    fixed = RestockPolicy(n_paths=200, service_level_rule="fixed").recommend(snap(*frames)).set_index("sku")
    assert fixed.loc["K", "service_level"] == 0.98 and fixed.loc["R", "service_level"] == 0.95


def test_status_follows_the_playbook_cover_bands():
    skus = ["alert", "air", "order", "soon", "fine", "over"]
    on_hand = [50, 150, 460, 700, 1000, 3000]  # 10/day → cover 5, 15, 46, 70, 100, 300 d
    out = RestockPolicy(n_paths=300).recommend(snap(
        products(sku=skus), inventory(sku=skus, on_hand=on_hand), sea_shipments(),
        flat_forecast(skus, 10.0), AS_OF)).set_index("sku")
    assert out.loc["alert", "status"] == "alert_under_7d"
    assert out.loc["air", "status"] == "consider_air"
    assert out.loc["order", "status"] == "order_now"
    assert out.loc["soon", "status"] == "order_by_sea_soon"
    assert out.loc["fine", "status"] == "ok"
    assert out.loc["over", "status"] == "overstock"
    assert out.loc["soon", "order_by"] > AS_OF  # not yet: order by a later date
    # Probabilities fall as cover rises.
    p = out.loc[skus, "stockout_probability"].to_numpy()
    assert (np.diff(p) <= 1e-9).all() and p[0] == 1.0 and p[-1] == 0.0


def test_air_bridge_when_sea_cannot_arrive_before_the_stockout():
    # the bridge all the way to the sea arrival (air_bridge_horizon="main_arrival"; the default stops at the
    # next review's air window, test below)
    out = one(RestockPolicy(n_paths=500, air_bridge_horizon="main_arrival"), on_hand=150).iloc[0]  # runs out on day 15; sea ~45 d
    assert out["air_qty"] > 0 and out["ship_mode"].startswith("air")
    assert out["extra_freight_usd"] > 0
    assert "by air" in out["reason"] and "freight" in out["reason"]
    # Point need = demand from the run-out (day 15, after air lands on day 12) to the sea arrival; at a margin
    # of 12 against a premium of ~1.3 the newsvendor flies more than that point need (z > 0), never below it.
    assert out["air_need"] == pytest.approx(10 * (out["lead_time_days"] - 15), abs=20)
    assert out["air_need"] <= out["air_qty"] <= out["air_need"] + 4 * out["air_need_std"] + 10


def test_peak_event_ahead_raises_the_order_and_moves_order_by_earlier():
    base = one(on_hand=1000).iloc[0]
    assert base["recommended_qty"] == 0  # above the reorder point without a peak
    p90 = np.ceil(base["lead_time_p90"])

    def bf(days):
        return pd.DataFrame({"date": [AS_OF + pd.Timedelta(days=days)], "event": ["Black Friday"], "scope": ["all"]})
    # Peak in 140 d: the pre-build is due at peak − p90 − 60 d, earlier than the normal order date.
    later = one(on_hand=1000, events=bf(140)).iloc[0]
    assert later["recommended_qty"] == 0
    assert later["order_by"] == AS_OF + pd.Timedelta(days=140 - p90 - 60) < base["order_by"]
    assert "Black Friday" in later["reason"]
    # Peak due this week: one pre-build order up to S × 1.5 (playbook +50%).
    pre = one(on_hand=700, events=bf(p90 + 60 - 3)).iloc[0]
    assert pre["recommended_qty"] >= 1.5 * pre["order_up_to"] - 700 > 0
    assert "peak_prebuild" in pre["rule"] and "pre-build" in pre["reason"]
    # With the events' expected uplift the raise is the season's extra demand: 2 days at +90% = 1.8 days of
    # sales at 10/day = 18 units, not +50% of S; the playbook's +50% stays the cap and peak_sizing="playbook"
    prime = pd.DataFrame({"date": AS_OF + pd.to_timedelta([p90 + 57, p90 + 58], unit="D"), "event": "Prime Day",
                          "scope": "all", "expected_uplift": [1.0, 0.8]})
    sized = one(on_hand=400, events=prime).iloc[0]
    assert sized["peak_raise"] == pytest.approx(18.0, abs=0.5) and "peak_prebuild" in sized["rule"]
    assert "1.8 days of sales" in sized["reason"]
    playbook = one(RestockPolicy(n_paths=300, peak_sizing="playbook"), on_hand=400, events=prime).iloc[0]
    assert playbook["peak_raise"] == pytest.approx(0.5 * playbook["order_up_to"], rel=1e-3)
    assert playbook["recommended_qty"] > sized["recommended_qty"]
    # Daily rows of one season count as one peak dated by its first day.
    season = pd.DataFrame({"date": AS_OF + pd.to_timedelta(np.arange(140, 170), unit="D"),
                           "event": "Christmas run-up", "scope": "all"})
    assert one(on_hand=1000, events=season).iloc[0]["order_by"] == later["order_by"]


def _sales(units_per_day, days=60, sku="A", end=AS_OF):
    d = pd.date_range(end=end, periods=days)
    return pd.DataFrame({"date": d, "sku": sku, "channel": "amazon_us", "units": units_per_day, "revenue": 0.0})


def test_turnover_rule_raises_fast_movers_by_30_percent():
    # Issue 13: turnover adjustments apply to healthy SKUs only. The old case (100 on hand at 10/day with
    # a 45-day sea lead time and nothing inbound) is a SKU running out, where the rule must not fire; a
    # healthy fast mover has 500 landing in a few days, so it does not run out before a new order lands.
    sales = _sales(10)  # 300 sold in 30 d on ~100 on hand → turnover 3×/month
    transit = dict(shipment_id="PO-7", sku="A", supplier="S1", mode="sea", qty=500,
                   order_date=pd.Timestamp("2026-01-20"), ship_date=None, eta=pd.Timestamp("2026-03-03"),
                   received_date=None, location="FBA-US")
    fast = one(on_hand=100, sales=sales, moq=[1], case_pack=[1], extra_ships=[transit]).iloc[0]
    plain = one(RestockPolicy(n_paths=300, turnover_fast_raise=0.0), on_hand=100, sales=sales,
                moq=[1], case_pack=[1], extra_ships=[transit]).iloc[0]
    assert "turnover_fast" in fast["rule"] and plain["recommended_qty"] > 0
    assert fast["recommended_qty"] == pytest.approx(1.3 * plain["recommended_qty"], abs=1.5)
    assert "turnover_fast 3.0×/month > 2: +30%" in fast["reason"]
    running_out = one(on_hand=100, sales=sales, moq=[1], case_pack=[1]).iloc[0]
    assert "turnover" not in running_out["rule"]


def test_new_product_uses_the_test_batch_formula():
    launch = AS_OF - pd.Timedelta(days=19)
    sales = _sales(5, days=20)  # test-period ADS 5/day
    out = one(on_hand=0, yhat=5.0, sales=sales, launch_date=[launch], moq=[1], case_pack=[1]).iloc[0]
    target = 5 * 3 + 5 * out["lead_time_days"]
    assert "test_batch" in out["rule"]
    assert out["recommended_qty"] >= np.ceil(target) - 1


def test_rule_of_thumb_is_shown_beside_the_model_with_the_difference():
    out = one(on_hand=300, sales=_sales(10, days=60), moq=[1], case_pack=[1]).iloc[0]
    # ADS 10 × L + 14 d × 10 − 300 on hand − 0 in transit
    expected = np.ceil(10 * out["lead_time_days"] + 140 - 300)
    assert out["rot_qty"] == pytest.approx(expected, abs=1)
    assert out["qty_vs_rule"] == out["recommended_qty"] - out["rot_qty"]
    assert "rule of thumb" in out["reason"]


def test_same_seed_same_answer():
    a, b = one(on_hand=200), one(on_hand=200)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("param,value,msg", [
    ("service_level", 1.2, r"`service_level` must be in \(0, 1\), got 1.2"),
    ("default_mode", "boat", r"`default_mode` must be one of"),
    ("n_paths", 0, r"`n_paths` must be a whole number >= 1, got 0"),
    ("turnover_slow_cut", 1.5, r"`turnover_slow_cut` must be in \[0, 1\), got 1.5"),
    ("order_policy", "weekly", r"`order_policy` must be 'order_up_to' or 'reorder_point', got 'weekly'"),
    ("service_measure", "beta", r"`service_measure` must be 'cycle' or 'fill_rate'"),
    ("demand_correlation", -0.1, r"`demand_correlation` must be in \[0, 1\], got -0.1"),
])
def test_bad_parameters_are_named_in_the_error(param, value, msg):
    with pytest.raises(ValueError, match=msg):
        one(RestockPolicy(**{param: value}))


def test_restock_on_a_loaded_dataset_snapshot(tiny_dataset):
    from workbench.data import load_dataset
    from workbench.stock import build_snapshot

    fc = flat_forecast(["SKU-1", "SKU-2"], 3.0, as_of=pd.Timestamp("2026-01-02"))
    df = RestockPolicy(n_paths=100).recommend(build_snapshot(load_dataset(tiny_dataset), "2026-01-02", forecast=fc))
    assert list(df["sku"]) == ["SKU-1", "SKU-2"]
    check_policy_output(df, RESTOCK_COLUMNS, RESTOCK_NUMERIC)
    assert df.set_index("sku").loc["SKU-1", "inbound"] == 100  # PO-2 air, not yet received


def test_fill_rate_target_gives_less_safety_stock_when_moq_orders_are_large():
    cycle = one(RestockPolicy(n_paths=500, service_level_rule="fixed"), on_hand=2000, moq=[2000], case_pack=[10]).iloc[0]
    fill = one(RestockPolicy(n_paths=200, service_measure="fill_rate", service_level_rule="fixed"), on_hand=2000,
               moq=[2000], case_pack=[10]).iloc[0]
    assert fill["safety_stock"] < cycle["safety_stock"]
    assert "fill rate 95.0%" in fill["reason"]


def test_reorder_point_policy_orders_only_below_the_reorder_point():
    # Position between ROP and S: the (R, S) default tops up, the ROP variant waits.
    probe = one(on_hand=2000).iloc[0]
    between = int((probe["reorder_point"] + probe["order_up_to"]) / 2)
    rs = one(on_hand=between).iloc[0]
    rop = one(RestockPolicy(n_paths=200, order_policy="reorder_point"), on_hand=between).iloc[0]
    assert rs["recommended_qty"] > 0 and rop["recommended_qty"] == 0


def test_service_level_prices_a_unit_over_the_order_cycle_the_moq_forces():
    # 10/day; an MOQ of 600 lasts 60 days: a unit more is carried 60 days, a stockout risked every 60 days
    weekly = one(moq=[10], case_pack=[10]).iloc[0]
    moq = one(moq=[600], case_pack=[10]).iloc[0]
    assert weekly["order_cycle_days"] == pytest.approx(7.0) and moq["order_cycle_days"] == pytest.approx(60.0, rel=0.02)
    # margin 20·0.85 − 5 = 12 on cost 5, less 0.25 sea freight a unit = 11.75, at 25%/yr: over 7 d
    # CR = 11.75/(11.75 + 0.024) → the 0.995 cap; over 60 d c_o = 5·0.25·60/365 = 0.2055 → CR = 11.75/11.9555 = 0.983
    assert weekly["service_level"] == pytest.approx(0.995)
    assert moq["service_level"] == pytest.approx(11.75 / (11.75 + 5 * 0.25 * moq["order_cycle_days"] / 365), abs=1e-4)
    assert moq["service_level"] == pytest.approx(0.983, abs=2e-3)
    review = one(RestockPolicy(n_paths=200, service_period="review"), moq=[600], case_pack=[10]).iloc[0]
    assert review["service_level"] == pytest.approx(weekly["service_level"])
    assert "60-day order cycle" in moq["reason"]


def test_backtest_errors_set_the_lead_time_demand_spread():
    """Errors summed over windows widen the spread where days are correlated; the reason says where σ came from."""
    from types import SimpleNamespace
    from workbench.forecast.errors import lead_time_errors

    H = 120
    cv = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2026-01-02", periods=H), "cutoff": pd.Timestamp("2026-01-01"),
                       "step": np.arange(1, H + 1), "censored": False, "M": 10.0,
                       "y": 10.0 + np.repeat([3.0, -3.0], H // 2)})  # 30% off for two months: correlated errors
    res = SimpleNamespace(cv=cv, choices=pd.DataFrame({"unique_id": ["A"], "model": ["M"], "source": ["backtest"]}),
                          classification=pd.DataFrame({"unique_id": ["A"], "demand_class": ["smooth"]}))
    errs = lead_time_errors(res)
    p = products()
    frames = (p, inventory(sku=list(p["sku"]), on_hand=300), sea_shipments(), flat_forecast(list(p["sku"]), 10.0), AS_OF)
    iid = RestockPolicy(n_paths=200).recommend(snap(*frames)).iloc[0]
    wide = RestockPolicy(n_paths=200).recommend(snap(*frames), forecast_errors=errs).iloc[0]
    assert iid["demand_spread"] == "intervals" and wide["demand_spread"] == "backtest_errors"
    assert wide["demand_std_lr"] > iid["demand_std_lr"] and wide["safety_stock"] > iid["safety_stock"]
    assert "backtest errors summed over" in wide["reason"]
    off = RestockPolicy(n_paths=200, demand_spread="intervals").recommend(snap(*frames), forecast_errors=errs).iloc[0]
    assert off["demand_std_lr"] == pytest.approx(iid["demand_std_lr"])


def test_air_by_expected_cost_net_of_the_freight_a_sold_unit_pays():
    # Cost 40, price 60, fee 15%: margin 11 a unit; sea freight 5% of cost = 2, air 30% = 12. A sale saved by
    # air earns 11 − 2 = 9 net of the freight any sold unit pays, less than the 10 air premium: no air,
    # even though 11 > 10 and the gap is certain in the point forecast.
    out = one(on_hand=150, unit_cost=[40.0], price=[60.0]).iloc[0]
    assert out["air_qty"] == 0 and "air_not_worth_it" in out["rule"]
    # the default SKU (cost 5, margin 12, premium 1.25): air, sized as the newsvendor quantity of the gap,
    # need + z·σ with the fractile 1 − premium / net margin (more than the point need at this margin)
    air = one(on_hand=150).iloc[0]
    assert air["air_qty"] > 0
    assert air["air_service_level"] == pytest.approx(1 - air["air_premium_per_unit"] / (12.0 - 0.25), abs=1e-3)
    z = stats.norm.ppf(air["air_service_level"])
    q = air["air_need"] + z * air["air_need_std"]
    assert q - 1e-6 <= air["air_qty"] < q + 10  # rounded up to cases of 10
    assert air["air_lost_units_saved"] < air["air_qty"]
    assert f"{air['air_lost_units_saved']:.0f} expected sales" in air["reason"]


def test_critical_ratio_uses_the_margin_net_of_the_main_modes_freight():
    # price 7, fee 15%, cost 5: margin 0.95, sea freight 0.25 a unit (5% of 5): c_u = 0.70;
    # c_o = 0.25·5·T/365 over the order cycle T = MOQ 100 / 10 a day = 10 d → CR 0.953 (0.965 gross)
    out = one(on_hand=2000, price=[7.0]).iloc[0]
    T = out["order_cycle_days"]
    assert T == pytest.approx(10.0)
    cu, co = 0.95 - 0.25, 0.25 * 5.0 * T / 365
    assert out["service_level"] == pytest.approx(cu / (cu + co), abs=1e-4)


def test_air_bridge_covers_only_until_the_next_reviews_air_order_can_land():
    # Runs out on day 15; air lands on day 12, sea on ~day 45. With a weekly review the air ordered today only
    # needs to carry the days next week's air order cannot reach (days 12..18): next week decides again with a
    # week more information and what is then still missing. The old horizon (to the sea arrival) flies ~300.
    out = one(on_hand=150).iloc[0]
    ka = np.ceil(out["urgent_lead_time_days"])
    assert out["air_need"] == pytest.approx(10 * (ka + 7 - 15), abs=10)
    assert 0 < out["air_qty"] < 100
    assert "until the next review's air order can land" in out["reason"]
    far = one(RestockPolicy(n_paths=300, air_bridge_horizon="main_arrival"), on_hand=150).iloc[0]
    assert far["air_need"] == pytest.approx(10 * (far["lead_time_days"] - 15), abs=20)
    # a run-out after the first review's air window: no air today (next week's order can still land in time)
    later = one(on_hand=220).iloc[0]
    assert later["air_qty"] == 0 and later["air_need"] == 0


def test_late_inbound_with_no_faster_mode_is_bridged_by_the_main_mode():
    # Air is this SKU's usual mode, so no faster mode can bridge; a 600-unit sea shipment is in transit but lands
    # on day 40, while 50 units at 10/day run out on day 5. The position (650) is above the target, yet every
    # sale from day 5 to day 40 would be lost: order what is short in [L, L + R) by air itself.
    air = received("S1", "air", [8, 9, 10, 11, 12] * 2, sku="A")
    late_sea = dict(shipment_id="PO-LATE", sku="A", supplier="S1", mode="sea", qty=600,
                    order_date=AS_OF - pd.Timedelta(days=20), ship_date=AS_OF - pd.Timedelta(days=15),
                    eta=AS_OF + pd.Timedelta(days=40), received_date=None, location="FBA-US")
    p = products(moq=[10])
    snapshot = snap(p, inventory(on_hand=50), shipments(air + [late_sea]), flat_forecast(["A"], 10.0), AS_OF)
    out = RestockPolicy(n_paths=300).recommend(snapshot).iloc[0]
    assert out["main_mode"] == "air" and out["inventory_position"] >= out["order_up_to"]
    # the units short between the air arrival (~day 10) and the next review's window end (~day 17)
    assert 60 <= out["recommended_qty"] <= 150
    assert "late_inbound_bridge" in out["rule"] and "late_inbound_bridge" in out["reason"]
    off = RestockPolicy(n_paths=300, late_inbound_bridge=False).recommend(snapshot).iloc[0]
    assert off["recommended_qty"] == 0


def test_key_item_floor_is_an_expected_fill_rate_not_a_cycle_service_level():
    # Thin margin (price 6.20): the cost-optimal level is low. An MOQ of 600 at 10/day is a 60-day order cycle:
    # a 98 % fill rate then needs far less safety stock than 98 % of cycles without a stockout (z 2.05).
    frames = (products(sku=["K", "R"], is_key_item=[True, False], price=[6.2], moq=[600], case_pack=[10]),
              inventory(sku=["K", "R"], on_hand=2000), sea_shipments(), flat_forecast(["K", "R"], 10.0), AS_OF)
    out = RestockPolicy(n_paths=200).recommend(snap(*frames)).set_index("sku")
    cyc = RestockPolicy(n_paths=200, key_floor_measure="cycle").recommend(snap(*frames)).set_index("sku")
    k, r = out.loc["K"], out.loc["R"]
    assert cyc.loc["K", "service_level"] == pytest.approx(0.98)
    # the floor: G(z) = (1 − 0.98)·Q/σ over L + R, Q = 600 units a cycle
    from workbench.policies.restock import normal_loss
    assert normal_loss(k["safety_factor_z"]) == pytest.approx(0.02 * 600 / k["demand_std_lr"], rel=0.02)
    assert r["safety_factor_z"] < k["safety_factor_z"] < cyc.loc["K", "safety_factor_z"]
    assert r["safety_stock"] < k["safety_stock"] < cyc.loc["K", "safety_stock"]
    assert "key_item_floor" in k["rule"] and "key_item_floor" not in r["rule"]
    assert "expected fill rate ≥ 98%" in k["reason"] and "raised the cost-optimal" in k["reason"]
    # a weekly-ordered key item (Q = 70 units a week) keeps nearly the cycle floor's z
    wk = RestockPolicy(n_paths=200).recommend(snap(products(sku=["K"], is_key_item=[True], price=[6.2], moq=[10], case_pack=[10]),
                                                   inventory(sku=["K"], on_hand=2000), sea_shipments(),
                                                   flat_forecast(["K"], 10.0), AS_OF)).iloc[0]
    assert normal_loss(wk["safety_factor_z"]) == pytest.approx(0.02 * 70 / wk["demand_std_lr"], rel=0.02)


def test_lead_time_crossing_lowers_the_lead_time_term_only_when_orders_overlap():
    # Sea lead times 20..70 d (σ_L ≈ 15 d). Weekly orders (MOQ 10 at 10/day) have ~7 orders in flight: a late one
    # is partly made up by the next, so σ_L counts as σ_L·sqrt(7/(√π·σ_L)); an MOQ lasting 120 days has one in flight.
    ships = shipments(received("S1", "sea", list(range(20, 71, 5)), sku="A"))

    def run(moq, crossing):
        p = products(sku=["A"], moq=[moq], case_pack=[10])
        return RestockPolicy(n_paths=200, lead_time_crossing=crossing).recommend(
            snap(p, inventory(sku=["A"], on_hand=300), ships, flat_forecast(["A"], 10.0), AS_OF)).iloc[0]
    weekly, weekly_off = run(10, True), run(10, False)
    s = weekly["lead_time_std"]
    assert weekly["lead_time_std_effective"] == pytest.approx(s * np.sqrt(7 / (np.sqrt(np.pi) * s)), abs=0.01)
    assert weekly["demand_std_lr"] < weekly_off["demand_std_lr"] and weekly["safety_stock"] < weekly_off["safety_stock"]
    assert "lead_time_crossing" in weekly["reason"] and "lead_time_crossing" not in weekly_off["reason"]
    big = run(1200, True)
    assert big["lead_time_std_effective"] == pytest.approx(big["lead_time_std"], abs=0.01)
    assert big["demand_std_lr"] == pytest.approx(run(1200, False)["demand_std_lr"])

"""Closed-loop market (workbench.backtest.market): price, ads, stockouts and profit as the generator's truth says."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from workbench.backtest import market as M
from workbench.backtest.view import assert_no_look_ahead

START = pd.Timestamp("2026-06-01")  # a Monday


def tiny_market(stock=(500.0, 0.0), weeks=1, elasticity=(-1.5, -2.0)) -> M.Market:
    """Two smooth-demand SKUs (A sells ~20/day at list price 10, B ~10/day at 20), one SP campaign on A,
    one SB campaign on B; no arrivals; a dataset-free market (the view is not used here)."""
    n, D = 2, 7 * weeks
    sp = pd.DataFrame({"price": [10.0, 20.0], "elasticity": list(elasticity), "unit_cost": [4.0, 8.0],
                       "fee_rate": [0.15, 0.15], "recovery_tau": [7.0, 7.0], "hijack_p": [0.0, 0.0],
                       "conversion": [0.1, 0.1], "p_occ": [1.0, 1.0], "base": [20.0, 10.0], "size_cv": [0.2, 0.2],
                       "cls": [0, 0]})
    camp = pd.DataFrame({"campaign": ["A-SP", "B-SB"], "sku": ["A", "B"], "i": [0, 1], "ad_type": ["SP", "SB"],
                         "targeting": ["exact", "brand"], "a": [50.0, 40.0], "b": [10.0, 8.0], "bid": [1.0, 1.0],
                         "ref_spend": [7.75, 7.75], "channel": "amazon_us"})
    state = SimpleNamespace(stock=np.array(stock, float), arrivals=np.zeros((n, D + 10)),
                            location=np.array(["WH", "WH"], dtype=object))
    return M.Market(ds=None, base=None, seed=3, start=START, days=pd.date_range(START, periods=D, freq="D"),
                    skus=["A", "B"], sp=sp, organic=np.array([[18.0] * D, [9.0] * D]), uplift=np.zeros(D),
                    camp=camp, util=np.full((2, D), 0.8), start_price=np.array([10.0, 20.0]),
                    start_budget=np.array([10.0, 10.0]), start_shift=np.zeros(n), start_ewma=np.array([20.0, 10.0]),
                    second_channel=np.array(["", ""], dtype=object), second_share=np.zeros(n), state=state,
                    sampler=None, uniforms=None, freight_share={"sea": 0.06},
                    other_locations=pd.DataFrame(columns=["sku", "location"]))


def test_a_higher_price_lowers_expected_demand_by_the_true_elasticity():
    m = tiny_market()
    t = np.arange(7)
    base = m.expected_demand(m.start_price, m.start_budget, t)
    up = m.expected_demand(m.start_price * 1.10, m.start_budget, t)
    np.testing.assert_allclose(up / base, np.array([[1.10 ** -1.5], [1.10 ** -2.0]]) * np.ones((1, 7)))


def test_ad_spend_adds_units_along_the_true_response_curve():
    m = tiny_market()
    t = np.arange(7)
    none = m.expected_demand(m.start_price, np.zeros(2), t)
    some = m.expected_demand(m.start_price, m.start_budget, t)
    spend = 10.0 * 0.8
    expected = np.array([50 * (1 - np.exp(-spend / 10)) / 10, 40 * (1 - np.exp(-spend / 8)) / 20])
    np.testing.assert_allclose((some - none)[:, 0], expected)
    np.testing.assert_allclose(none[:, 0], [18.0, 9.0])  # no ads: organic demand only


def test_no_stock_sells_nothing_counts_lost_demand_and_costs_rank():
    m = tiny_market(stock=(500.0, 0.0))
    s = M.new_arm_state(m, "t")
    M.play_week(m, s, 0, m.start_price, m.start_budget)
    L = s.ledger
    assert L["sold"][1].sum() == 0 and L["lost"][1].sum() == L["demand"][1].sum() > 0
    assert (L["in_stock"][1] == 0).all() and L["revenue"][1].sum() == 0
    np.testing.assert_allclose(s.shift, [0.0, 1.4])  # 7 days out of stock × 0.2
    # the SB campaign keeps spending on clicks that cannot convert; no ad sales
    assert L["ad_spend"][1].sum() == pytest.approx(7 * 10 * 0.8) and L["ad_sales"][1].sum() == 0
    assert L["sold"][0].sum() > 0 and L["lost"][0].sum() == 0


def test_sponsored_products_pause_themselves_out_of_stock():
    m = tiny_market(stock=(0.0, 500.0))
    s = M.new_arm_state(m, "t")
    M.play_week(m, s, 0, m.start_price, m.start_budget)
    assert s.ledger["ad_spend"][0].sum() == pytest.approx(7 * 10 * 0.8 * M.SP_OOS_SPEND)


def test_rank_penalty_after_a_stockout_thins_demand():
    m = tiny_market(stock=(1e6, 1e6), weeks=8)
    fresh, hurt = M.new_arm_state(m, "a"), M.new_arm_state(m, "b")
    hurt.shift[:] = 2.0
    for w in range(8):
        M.play_week(m, fresh, w, m.start_price, m.start_budget)
        M.play_week(m, hurt, w, m.start_price, m.start_budget)
    first = slice(0, 7)
    ratio = hurt.ledger["sold"][:, first].sum() / fresh.ledger["sold"][:, first].sum()
    assert 0.35 < ratio < 0.65  # e^(-0.5·2) = 0.37 on day 1, ≈ 0.5 over the week, decaying toward 1 as the shift recovers
    assert hurt.shift.max() < 0.01


def test_profit_accounting_adds_up():
    m = tiny_market(stock=(60.0, 500.0))
    s = M.new_arm_state(m, "t")
    # an order of 100 A landing on day 2 (freight 100 × 4 × 0.06 = 24, paid on arrival)
    s.arrivals[0, 2] += 100
    s.freight[0] += 24.0
    s.orders.append(dict(arm="t", week=1, order_date=START, sku="A", mode="sea", qty=100, lead_time_days=2,
                         freight_cost=24.0, reason="test"))
    M.play_week(m, s, 0, np.array([11.0, 19.0]), np.array([5.0, 0.0]))
    r = M.summary(m, s)
    assert r["profit"] == pytest.approx(r["revenue"] - r["cogs"] - r["fees"] - r["ad_spend"] - r["freight"]
                                        - r["carrying"])
    L = s.ledger
    assert r["revenue"] == pytest.approx((L["sold"] * np.array([[11.0], [19.0]])).sum())
    assert r["cogs"] == pytest.approx((L["sold"] * np.array([[4.0], [8.0]])).sum())
    assert r["fees"] == pytest.approx(0.15 * r["revenue"])
    # freight is a cost as the units sell, first in, first out: the 60 on hand at the start came with theirs
    sold_a = s.ledger["sold"][0].sum()
    assert r["freight"] == pytest.approx(min(max(sold_a - 60, 0), 100) * 0.24) and r["freight_paid"] == 24.0
    inv = (L["stock"] * np.array([[4.0], [8.0]])).sum(0).mean()
    assert r["carrying"] == pytest.approx(0.25 * inv * 7 / 365)
    assert r["fill_rate"] == pytest.approx(L["sold"].sum() / L["demand"].sum())
    assert r["stockout_days"] == int((L["lost"] > 0).sum())
    assert r["acos"] == pytest.approx(L["ad_spend"].sum() / L["ad_sales"].sum())
    # stock falls by exactly what sold
    assert s.stock[1] == pytest.approx(500.0 - L["sold"][1].sum())


def test_every_arm_draws_the_same_demand():
    m = tiny_market(stock=(1e6, 1e6))
    a, b = M.new_arm_state(m, "a"), M.new_arm_state(m, "b")
    M.play_week(m, a, 0, m.start_price, m.start_budget)
    M.play_week(m, b, 0, m.start_price, m.start_budget)
    np.testing.assert_array_equal(a.ledger["demand"], b.ledger["demand"])


@pytest.mark.slow
def test_closed_loop_on_a_tiny_generated_catalog(tmp_path):
    """Three arms over 2 weeks on 14 generated SKUs: finite books, no look-ahead, the arms' own records."""
    from workbench.backtest import closed_loop as CL
    from workbench.data.generate import GeneratorConfig

    cfg = GeneratorConfig(n_skus=14, years=1.0 + 14 / 365, seed=5, ads_days=1000, end_date="2026-12-27")
    m = M.build_market(cfg, 2, tmp_path / "data")
    # the world at list price and reference spend is the generator's expected demand
    assert (m.organic >= 0).all() and m.organic.sum() > 0
    res = CL.run_closed_loop(m, CL.default_arms(), progress=False)
    tab = res["summary"].set_index("arm")
    assert list(tab.index) == ["workbench", "playbook", "hold"]
    assert np.isfinite(tab[["profit", "fill_rate", "acos"]].to_numpy()).all()
    for arm, s in res["states"].items():
        day = m.start + pd.Timedelta(days=7)
        v = M.view_for(m, s, day)
        assert_no_look_ahead(v, day)
        own = v["ads"][v["ads"]["date"] >= m.start]
        assert len(own) == 7 * len(m.camp) and (own["date"] < day).all()
    hold = res["decisions"].query("arm == 'hold'")
    assert (hold["price_vs_start"] == 1.0).all()

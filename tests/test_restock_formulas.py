"""Restock formulas against hand-checkable numbers (docstrings name the sources)."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.policies.restock import (air_bridge_qty, freight_rates, blended_ads, fill_rate_z, normal_loss, projected_stock, daily_sigma_from_intervals, lognormal_params, round_order_qty,
                                        safety_stock, service_z, simulate_stockout_probability, first_order_after_test_qty)


def test_safety_stock_with_demand_and_lead_time_variance():
    # SS = z·sqrt(L·σ_d² + d²·σ_L²) = 1.645·sqrt(36·25 + 400·16) = 1.645·85.44 = 140.5
    assert safety_stock(1.645, 36, 20, 5, 4) == pytest.approx(140.55, abs=0.01)
    # Fixed lead time: only demand variance, z·σ_d·sqrt(L) = 1.645·5·6 = 49.35
    assert safety_stock(1.645, 36, 20, 5, 0) == pytest.approx(49.35)
    assert service_z(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert service_z(0.98) > service_z(0.95)


def test_order_quantity_is_whole_at_least_moq_and_in_case_packs():
    assert round_order_qty(433, 500, 48) == 528  # MOQ 500 → 11 cases of 48
    assert round_order_qty(530, 100, 50) == 550
    assert round_order_qty(500, 500, 50) == 500  # already exact: no extra case
    assert round_order_qty(0, 500, 50) == 0
    assert round_order_qty(-20, 500, 50) == 0
    q = round_order_qty(np.array([1.0, 77.7, 1001.0]), np.array([0, 60, 1000]), np.array([12, 12, 7]))
    assert list(q) == [12, 84, 1001]


def test_sigma_from_forecast_intervals():
    f = pd.DataFrame({"yhat": [10.0], "yhat_lo_80": [6.0], "yhat_hi_80": [14.0],
                      "yhat_lo_95": [2.0], "yhat_hi_95": [18.0]})
    # 80%: 8 / (2·1.2816) = 3.121; 95%: 16 / (2·1.96) = 4.082; mean 3.60
    assert daily_sigma_from_intervals(f)[0] == pytest.approx((8 / 2.5631 + 16 / 3.9199) / 2, abs=1e-3)
    assert daily_sigma_from_intervals(f[["yhat"]])[0] == pytest.approx(np.sqrt(10))
    # Lower bounds clipped at 0: (hi − yhat)/z → 80%: 2.5631/1.2816 = 2.0, 95%: 3.92/1.96 = 2.0
    clipped = pd.DataFrame({"yhat": [1.0], "yhat_lo_80": [0.0], "yhat_hi_80": [1 + 2.5631],
                            "yhat_lo_95": [0.0], "yhat_hi_95": [1 + 3.92]})
    assert daily_sigma_from_intervals(clipped)[0] == pytest.approx(2.0, abs=1e-3)


def test_playbook_test_batch_example():
    assert first_order_after_test_qty(5, 20) == pytest.approx(115)  # 5×3 + 5×20


def test_lognormal_has_the_requested_mean_and_std():
    mu, sig = lognormal_params(40.0, 8.0)
    m, v = np.exp(mu + sig**2 / 2), (np.exp(sig**2) - 1) * np.exp(2 * mu + sig**2)
    assert m == pytest.approx(40.0) and np.sqrt(v) == pytest.approx(8.0)


def test_monte_carlo_matches_the_lead_time_tail_when_demand_is_certain():
    # 100 units, 10/day for sure → first unmet demand on day 11. P(stockout) = P(L > 11), L lognormal(10, 2).
    H = 60
    mean = np.full((1, H), 10.0)
    p = simulate_stockout_probability(mean, np.zeros((1, H)), np.array([100.0]), np.array([[10.0]]),
                                      np.array([[2.0]]), n_paths=40_000, seed=1)
    mu, sig = lognormal_params(10.0, 2.0)
    exact = 1 - stats.lognorm.cdf(11, s=sig, scale=np.exp(mu))
    assert p[0, 0] == pytest.approx(exact, abs=0.01)


def test_monte_carlo_counts_in_transit_arrivals_and_is_deterministic_for_a_seed():
    H = 60
    mean, sd = np.full((2, H), 10.0), np.full((2, H), 3.0)
    avail = np.array([60.0, 60.0])
    lt = np.array([[15.0], [15.0]]), np.array([[0.5], [0.5]])
    # SKU 0: 200 units arrive on day 4 (sure); SKU 1: nothing in transit → runs out on day ~7 before L = 15.
    args = (np.array([[4.0], [0.0]]), np.array([[0.0], [0.0]]), np.array([[200.0], [0.0]]))
    p1 = simulate_stockout_probability(mean, sd, avail, *lt, *args, n_paths=2000, seed=3)
    p2 = simulate_stockout_probability(mean, sd, avail, *lt, *args, n_paths=2000, seed=3)
    assert np.array_equal(p1, p2)
    assert p1[0, 0] < 0.01 and p1[1, 0] == 1.0
    assert ((p1 >= 0) & (p1 <= 1)).all()


def test_blended_ads_weights_recent_windows_and_drops_last_year_without_history():
    as_of = pd.Timestamp("2026-03-01")
    days = pd.date_range(end=as_of, periods=100)
    units = np.where(days > as_of - pd.Timedelta(days=7), 20, 10)
    sales = pd.DataFrame({"date": days, "sku": "A", "channel": "amazon_us", "units": units, "revenue": 0.0})
    b = blended_ads(sales, ["A"], as_of).iloc[0]
    # a7 = 20, a14 = 15, a30 = (7·20 + 23·10)/30 = 12.333; no LY → (0.2·20 + 0.3·15 + 0.3·12.333)/0.8
    assert (b["ads_7"], b["ads_14"]) == (20, 15)
    assert b["ads_blend"] == pytest.approx((4 + 4.5 + 3.7) / 0.8)
    assert np.isnan(b["ads_ly"])


def test_blended_ads_uses_last_year_with_growth():
    as_of = pd.Timestamp("2026-03-01")
    days = pd.date_range(end=as_of, periods=500)
    # Flat 10/day, except last year's coming month sold 30/day (a seasonal bump).
    ly = (days > as_of - pd.Timedelta(days=364)) & (days <= as_of - pd.Timedelta(days=334))
    sales = pd.DataFrame({"date": days, "sku": "A", "channel": "c", "units": np.where(ly, 30, 10), "revenue": 0.0})
    b = blended_ads(sales, ["A"], as_of).iloc[0]
    assert b["yoy_growth"] == pytest.approx(1.0) and b["ads_ly"] == pytest.approx(30)
    assert b["ads_blend"] == pytest.approx(0.2 * 10 + 0.3 * 10 + 0.3 * 10 + 0.2 * 30)


def test_air_bridge_covers_the_gap_until_sea_arrives_net_of_in_transit():
    H = 60
    mean = np.full((2, H), 10.0)
    arrivals = np.zeros((2, H + 1))
    arrivals[1, 20] = 500  # SKU 1 has 500 units landing on day 20
    stock, runout = projected_stock(mean, np.array([100.0, 100.0]), arrivals)
    assert list(runout) == [11, 11]  # 100 units cover days 1..10
    q = air_bridge_qty(mean, stock, arrivals, np.array([12.0, 12.0]), np.array([45.0, 45.0]))
    assert q[0] == pytest.approx(330)  # days 12..44
    assert q[1] == pytest.approx(80)  # days 12..19, then the in-transit 500 carry it


def test_fill_rate_safety_factor_from_the_normal_loss_function():
    # G(0.9) = φ(0.9) − 0.9·(1 − Φ(0.9)) = 0.2661 − 0.1657 = 0.1004
    assert normal_loss(0.9) == pytest.approx(0.1004, abs=1e-4)
    # P2 = 0.98, Q = 500, σ = 100 → G(k) = 0.02·5 = 0.1 → k ≈ 0.90
    assert fill_rate_z(0.98, 500, 100) == pytest.approx(0.90, abs=0.01)
    # Large orders relative to σ need no safety stock: clipped at 0, never negative.
    assert fill_rate_z(0.95, 10_000, 10) == 0.0


def test_correlated_daily_errors_widen_lead_time_demand():
    # ρ = 0.1, L = 11: L·(1 + ρ(L−1)) = 11·2 = 22 → z·sqrt(22·σ_d²) with σ_d = 3, σ_L = 0
    assert safety_stock(2.0, 11, 10, 3, 0, demand_correlation=0.1) == pytest.approx(2 * np.sqrt(22 * 9))
    assert safety_stock(2.0, 11, 10, 3, 0) == pytest.approx(2 * np.sqrt(11 * 9))


def test_freight_rates_follow_each_skus_value_like_the_shipments_charged():
    # Freight recorded as 30% (air) / 6% (sea) of the goods' value on SKUs costing 5 and 50: per unit it is
    # 1.5 and 15 by air, so the median over all SKUs (8.25) fits neither. Each SKU gets its own per-unit
    # freight where it has shipped by the mode, else the mode's share of value times its unit cost.
    rows = []
    for sku, cost in (("A", 5.0), ("B", 50.0)):
        for mode, share in (("air", 0.30), ("sea", 0.06)):
            rows.append(dict(sku=sku, mode=mode, qty=100, freight_cost=100 * cost * share))
    rows.append(dict(sku="C", mode="sea", qty=10, freight_cost=10 * 20.0 * 0.06))
    ships = pd.DataFrame(rows)
    rates = freight_rates(ships, [5.0, 50.0, 20.0], skus=["A", "B", "C"])
    assert rates(["air", "air", "air"]) == pytest.approx([1.5, 15.0, 0.30 * 20.0])
    assert rates(["sea", "sea", "sea"]) == pytest.approx([0.3, 3.0, 1.2])
    # no freight recorded for a mode: the default share of the unit cost
    assert rates(["rail"] * 3) == pytest.approx([0.08 * 5, 0.08 * 50, 0.08 * 20])

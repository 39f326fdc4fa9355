"""Cost-optimal service level, air vs sea by expected cost, lead-time demand spread: hand-checked numbers."""
import numpy as np
import pytest

from workbench.policies.service import (air_bridge_units, air_units_saved, air_vs_sea, cost_optimal_service_level, critical_ratio, expected_shortfall,
                                        implied_correlation, lead_time_demand_sigma, stock_floor_units,
                                        window_error_rms)


def test_critical_ratio_by_hand():
    # c_o = 20 * 0.25 * 7 / 365 = 0.09589; CR = 10 / 10.09589
    assert critical_ratio(10, 20, 0.25, 7) == pytest.approx(10 / (10 + 20 * 0.25 * 7 / 365))
    assert critical_ratio(10, 20, 0.25, 7) == pytest.approx(0.9905, abs=1e-4)
    # a dearer carrying rate lowers the ratio; no margin gives 0
    assert critical_ratio(10, 20, 2.0, 28) < critical_ratio(10, 20, 0.25, 28)
    assert critical_ratio(0, 20, 0.25, 7) == 0


def test_cost_optimal_service_level_bounds():
    sl = cost_optimal_service_level([10, 0.05, 0.05, 1000], [20, 20, 20, 1], 0.25, 7, [False, False, True, False])
    assert sl[0] == pytest.approx(0.9905, abs=1e-4)
    assert sl[1] == 0.5  # CR 0.343 lifted to the floor (no negative safety stock)
    assert critical_ratio(0.05, 20, 0.25, 7) == pytest.approx(0.05 / (0.05 + 0.09589), abs=1e-4)
    assert sl[2] == 0.98  # key item floor
    assert sl[3] == 0.995  # cap


def test_stock_floor_units():
    assert stock_floor_units([4, 4], [True, False]).tolist() == [120, 60]


def test_expected_shortfall():
    assert expected_shortfall(100, 100, 20) == pytest.approx(20 * 0.398942, rel=1e-5)
    assert expected_shortfall(50, 80, 0) == 30
    assert expected_shortfall(500, 100, 20) == pytest.approx(0, abs=1e-9)


def test_air_vs_sea_by_hand():
    benefit, air = air_vs_sea(40, 5, 8, 100, 10, 0.30, 0.05)
    assert benefit == pytest.approx(30) and bool(air)
    benefit, air = air_vs_sea(40, 5, 6, 100, 10, 0.30, 0.05)  # 210 - 250
    assert benefit == pytest.approx(-40) and not bool(air)


def test_window_errors_keep_correlation():
    e = np.array([[1, 1, -1, -1, 1, 1, -1, -1]], dtype=float)
    rms = window_error_rms(e, 2)
    assert rms[0] == pytest.approx(np.sqrt(16 / 7))
    rho = implied_correlation(rms, 1.0, 2)
    assert rho[0] == pytest.approx((16 / 7 / 2 - 1) / 1)
    # perfectly persistent errors: rho = 1; alternating: rho clipped at 0
    assert implied_correlation(window_error_rms(np.ones((1, 30)), 7), 1.0, 7)[0] == pytest.approx(1.0)
    alt = np.array([[1, -1] * 15], dtype=float)
    assert implied_correlation(window_error_rms(alt, 2), 1.0, 2)[0] == 0.0
    # windows touching a NaN are skipped; too short a series gives NaN
    assert window_error_rms(np.array([[1, np.nan, 1, 1]]), 2)[0] == pytest.approx(2.0)
    assert np.isnan(window_error_rms(np.array([[1.0]]), 2)[0])
    with pytest.raises(ValueError):
        window_error_rms(e, 0)


def test_lead_time_demand_sigma():
    assert lead_time_demand_sigma(60, 20, 4) == pytest.approx(100)


def test_air_vs_sea_charges_the_holding_of_the_earlier_arrival():
    # 35 units saved × 8 − 100 × 10 × 0.25 − 100 × 0.2 holding = 280 − 250 − 20 = +10
    benefit, air = air_vs_sea(40, 5, 8, 100, 10, 0.30, 0.05, holding_per_unit=0.2)
    assert benefit == pytest.approx(10) and bool(air)


def test_air_bridge_units_is_the_newsvendor_quantity_of_the_gap():
    # need N = 100 ± 40; net margin 8, premium 2 → the k-th air unit pays while P(need ≥ k) > 2/8:
    # fractile 0.75, z = 0.6745 → q = 100 + 0.6745·40 = 126.98
    q, z = air_bridge_units(100, 40, 8, 2)
    assert z == pytest.approx(0.6745, abs=1e-4) and q == pytest.approx(126.98, abs=0.01)
    # thin margin: 3 vs premium 2 → fractile 1/3, z = −0.4307 → fewer units than the point need
    q, _ = air_bridge_units(100, 40, 3, 2)
    assert q == pytest.approx(100 - 0.4307 * 40, abs=0.01)
    # a premium at or above the margin: no air at all, whatever the gap
    q, _ = air_bridge_units([100, 100], [40, 0], [2, 1.9], 2)
    assert q.tolist() == [0, 0]
    # no spread: the point need when air pays; never negative
    q, _ = air_bridge_units([100, -50], 0, 8, 2)
    assert q.tolist() == [100, 0]


def test_air_bridge_units_saved_is_the_expected_shortfall_difference():
    # E[(N+ε)⁺] − E[(N+ε−q)⁺], N = 100, σ = 40, q = 127
    saved = air_units_saved(127, 100, 40)
    assert saved == pytest.approx(expected_shortfall(0, 100, 40) - expected_shortfall(127, 100, 40))
    assert 0 < saved < 100.5  # every air unit is not a sale saved


def test_crossing_lead_time_std_by_hand():
    from workbench.policies.service import crossing_lead_time_std
    # weekly orders, σ_L 8 d: 8·sqrt(7 / (√π·8)) = 5.62 d; one order in flight (every 60 d): the textbook 8 d
    assert crossing_lead_time_std(8.0, 7.0) == pytest.approx(8 * np.sqrt(7 / (np.sqrt(np.pi) * 8)))
    assert crossing_lead_time_std(8.0, 7.0) == pytest.approx(5.62, abs=0.01)
    assert crossing_lead_time_std(8.0, 60.0) == pytest.approx(8.0)
    assert crossing_lead_time_std([0.0, 2.0], [7.0, 7.0]).tolist() == [0.0, 2.0]  # T ≥ √π·σ_L: unchanged

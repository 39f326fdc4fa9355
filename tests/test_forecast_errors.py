"""The forecast's backtest errors summed over lead-time windows (workbench/forecast/errors.py): hand-checked."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from workbench.forecast.errors import backtest_errors, lead_time_errors, window_errors


def _result(y_a, y_b, censored_day=None):
    """Two series, one cutoff, 8 steps; A chose 'M1', B chose 'M2' (the other column is a decoy)."""
    H = 8
    ds = pd.date_range("2026-01-02", periods=H)
    rows = []
    for uid, y, own, other in (("A", y_a, "M1", "M2"), ("B", y_b, "M2", "M1")):
        for s in range(H):
            rows.append({"unique_id": uid, "ds": ds[s], "cutoff": pd.Timestamp("2026-01-01"), "step": s + 1,
                         "y": y[s], "censored": uid == "A" and s + 1 == censored_day, own: 10.0, other: 999.0})
    cv = pd.DataFrame(rows)
    choices = pd.DataFrame({"unique_id": ["A", "B"], "model": ["M1", "M2"], "source": ["backtest", "backtest"]})
    cls = pd.DataFrame({"unique_id": ["A", "B"], "demand_class": ["smooth", "smooth"]})
    return SimpleNamespace(cv=cv, choices=choices, classification=cls)


def test_backtest_errors_use_the_chosen_model_and_drop_censored_days():
    res = _result([11, 11, 9, 9, 11, 11, 9, 9], [10] * 8, censored_day=3)
    e = backtest_errors(res)
    assert set(e["yhat"]) == {10.0}  # never the decoy column
    a = e[e["unique_id"] == "A"]
    assert a["step"].tolist() == [1, 2, 4, 5, 6, 7, 8]  # day 3 was a stockout: its demand is imputed, not seen
    assert a["error"].tolist() == [1, 1, -1, 1, 1, -1, -1]


def test_window_sigma_keeps_the_correlation_and_pools_a_short_series():
    # errors 1, 1, −1, −1, 1, 1, −1, −1 (service.window_error_rms's example): window 2 → RMS √(16/7) = 1.512
    res = _result([11, 11, 9, 9, 11, 11, 9, 9], [10] * 8)
    we = lead_time_errors(res, prior_windows=0.0)  # no pooling: the series' own windows only
    sig, weight = we.sigma(["A"], [2], [20.0])
    assert sig[0] == pytest.approx(np.sqrt(16 / 7)) and weight[0] == 1.0
    sig1, _ = we.sigma(["A"], [1], [10.0])
    assert sig1[0] == pytest.approx(1.0)
    # B's forecast was exact: alone σ = 0; with the pool it borrows the class's a·F + b·F²
    pooled = lead_time_errors(res, prior_windows=4.0)
    sig_b, w_b = pooled.sigma(["B"], [1], [10.0])
    assert w_b[0] == pytest.approx(8 / (8 + 4))  # 8 days / window 1 = 8 independent windows
    # every window has F = 10: the fit reproduces the class's mean squared error, (8·1 + 8·0) / 16
    class_var = 0.5
    assert sig_b[0] == pytest.approx(np.sqrt(4 / 12 * class_var), rel=1e-6)
    # an unknown SKU takes the pool alone; a window past the backtest horizon grows linearly
    sig_x, w_x = pooled.sigma(["X"], [1], [10.0])
    assert w_x[0] == 0 and sig_x[0] == pytest.approx(np.sqrt(class_var), rel=1e-6)
    sig_long, _ = we.sigma(["A"], [16], [160.0])
    sig_8, _ = we.sigma(["A"], [8], [80.0])
    assert sig_long[0] == pytest.approx(2 * sig_8[0])


def test_no_backtest_gives_none():
    empty = SimpleNamespace(cv=None, choices=None, classification=None)
    assert backtest_errors(empty).empty and lead_time_errors(empty) is None
    assert window_errors(pd.DataFrame()) is None


def test_empirical_safety_factor_is_a_quantile_of_standardized_window_sums():
    rng = np.random.default_rng(0)
    H, n = 60, 40
    e = rng.normal(0, 1, (n, H))
    frame = pd.DataFrame({"unique_id": np.repeat([f"S{i}" for i in range(n)], H), "cutoff": pd.Timestamp("2026-01-01"),
                          "step": np.tile(np.arange(1, H + 1), n), "y": 5 + e.ravel(), "yhat": 5.0})
    frame["error"] = frame["y"] - frame["yhat"]
    k = window_errors(frame).safety_factor(np.array([0.5, 0.95]), np.array([1, 1]))
    assert abs(k[0]) < 0.1 and k[1] == pytest.approx(1.645, abs=0.1)  # normal errors: close to Φ⁻¹

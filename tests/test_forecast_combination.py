"""Combination weights come from the backtest (inverse squared MASE, shrunk to the class for short histories)."""
import numpy as np
import pandas as pd

from workbench.forecast.select import SHRINK_POINTS, add_ensemble, combination_weights


def _table(errors: dict[str, dict[str, float]], n_points: int, windows: int = 3) -> pd.DataFrame:
    """A backtest table: {unique_id: {model: MASE}} repeated over ``windows`` windows of ``n_points`` each."""
    rows = [{"unique_id": uid, "model": m, "cutoff": w, "mase": e, "n_points": n_points}
            for uid, by_model in errors.items() for m, e in by_model.items() for w in range(windows)]
    return pd.DataFrame(rows)


MODELS = {"continuous": ["AutoETS", "GlobalGBM", "WindowAverage"]}


def _weights(table: pd.DataFrame) -> pd.DataFrame:
    groups = pd.Series("continuous", index=sorted(table["unique_id"].unique()))
    return combination_weights(table, groups, MODELS).set_index(["unique_id", "model"])["weight"]


def test_a_clearly_better_model_gets_most_of_the_weight():
    # every series: the global model's backtest error is a third of the others'
    errs = {f"S{i}": {"AutoETS": 0.9, "GlobalGBM": 0.3, "WindowAverage": 1.0} for i in range(5)}
    w = _weights(_table(errs, n_points=28))
    for uid in errs:
        assert w[uid, "GlobalGBM"] > 0.8, w[uid]
        # inverse squared error: AutoETS (0.9) gets more than WindowAverage (1.0)
        assert w[uid, "AutoETS"] > w[uid, "WindowAverage"]
        assert np.isclose(w[uid].sum(), 1.0)
    # the exact formula for one series: class and series weights are equal here, so w ∝ 1/MASE²
    inv = np.array([1 / 0.9 ** 2, 1 / 0.3 ** 2, 1 / 1.0 ** 2])
    assert np.allclose(w["S0"][["AutoETS", "GlobalGBM", "WindowAverage"]], inv / inv.sum())


def _class_vs_own(n_points: int) -> pd.Series:
    """Nine series where AutoETS is best; one series (X) where WindowAverage is best."""
    errs = {f"S{i}": {"AutoETS": 0.4, "GlobalGBM": 1.0, "WindowAverage": 1.0} for i in range(9)}
    errs["X"] = {"AutoETS": 1.2, "GlobalGBM": 1.0, "WindowAverage": 0.3}
    return _weights(_table(errs, n_points=n_points))["X"]


def test_short_histories_lean_on_the_class_weights_long_ones_on_their_own():
    short = _class_vs_own(n_points=2)    # 3 windows x 2 points: λ = 6 / (6 + 150) ≈ 0.04
    long = _class_vs_own(n_points=200)   # 3 windows x 200 points: λ = 600 / 750 = 0.8
    # the class says AutoETS; the series' own backtest says WindowAverage
    assert short["AutoETS"] > short["WindowAverage"], short
    assert long["WindowAverage"] > 0.6 and long["WindowAverage"] > long["AutoETS"], long
    # λ is n / (n + shrink) with n the scored points summed over windows
    lam = 600 / (600 + SHRINK_POINTS)
    assert 0.0 < long["AutoETS"] < (1 - lam) + 1e-9


def test_only_the_classs_top_models_are_members_and_the_ensemble_uses_the_weights():
    errs = {f"S{i}": {"AutoETS": 0.5, "GlobalGBM": 0.6, "WindowAverage": 0.7, "Naive": 0.4} for i in range(3)}
    table = _table(errs, n_points=28)
    groups = pd.Series("continuous", index=list(errs))
    w = combination_weights(table, groups, MODELS, top=2)
    # Naive is not a candidate of the class; WindowAverage is third of three
    assert set(w["model"]) == {"AutoETS", "GlobalGBM"}
    cv = pd.DataFrame({"unique_id": ["S0", "S0"], "AutoETS": [10.0, np.nan], "GlobalGBM": [20.0, 8.0]})
    fc = cv.copy()
    add_ensemble(cv, fc, w)
    ws = w[w["unique_id"] == "S0"].set_index("model")["weight"]
    assert np.isclose(cv["Ensemble"].iloc[0], 10 * ws["AutoETS"] + 20 * ws["GlobalGBM"])
    # a member without a forecast on a row leaves its weight to the others
    assert np.isclose(cv["Ensemble"].iloc[1], 8.0)

"""Syntetos-Boylan demand classes on hand-checkable series."""
import numpy as np
import pandas as pd
import pytest

from workbench.forecast import classify_demand


def _frame(series: dict) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": k, "ds": pd.date_range("2024-01-01", periods=len(v)), "y": v})
                      for k, v in series.items()], ignore_index=True)


def test_four_classes_with_hand_computed_adi_and_cv2():
    df = _frame({
        "smooth": [10, 11, 9, 10, 10, 12, 8, 10] * 5,             # ADI 1, CV² ~0.01
        "erratic": [1, 30, 2, 25, 1, 40, 3, 20] * 5,              # ADI 1, CV² > 0.49
        "intermittent": [0, 0, 5, 0, 0, 6, 0, 0, 5, 0] * 4,       # ADI = 40/12 = 3.33, CV² ~0.01
        "lumpy": [0, 0, 1, 0, 0, 20, 0, 0, 2, 0] * 4,             # ADI 3.33, CV² > 0.49
        "inactive": [0] * 40,
        "new": [3, 4, 2],
    })
    c = classify_demand(df, "D", min_obs=10).set_index("unique_id")
    assert c.loc["smooth", "demand_class"] == "smooth"
    assert c.loc["erratic", "demand_class"] == "erratic"
    assert c.loc["intermittent", "demand_class"] == "intermittent"
    assert c.loc["lumpy", "demand_class"] == "lumpy"
    assert c.loc["inactive", "demand_class"] == "inactive"
    assert c.loc["new", "demand_class"] == "short"
    assert c.loc["intermittent", "adi"] == pytest.approx(40 / 12)
    sizes = np.array([5, 6, 5] * 4, float)
    assert c.loc["intermittent", "cv2"] == pytest.approx((sizes.std() / sizes.mean()) ** 2)


def test_bad_freq_names_the_parameter():
    with pytest.raises(ValueError, match="freq must be one of"):
        classify_demand(_frame({"a": [1, 2, 3]}), "M")

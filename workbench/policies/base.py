"""The contract every policy output meets (restock, pricing, ads, risk).

A policy is a plain object, scikit-learn style: ``__init__`` only stores parameters (playbook
defaults from ``shared/docs/domain-rules.md``); validation happens when it is used, with messages
that name the parameter, the value and what is allowed. Its output is a frame with the design's
columns and a non-empty ``reason`` on every row. :func:`check_policy_output` asserts that, so every
policy can share one contract test.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def check_policy_output(
    df: pd.DataFrame,
    required_columns: Iterable[str],
    numeric_columns: Iterable[str] = (),
    *,
    reason_column: str = "reason",
) -> None:
    """Raise ``AssertionError`` naming the problem if ``df`` breaks the policy contract.

    - every column in ``required_columns`` is present (``reason`` is always required);
    - ``reason`` is a non-empty string on every row;
    - the ``numeric_columns`` (numbers the policy promises) hold numbers with no NaN.
    """
    required = list(dict.fromkeys([*required_columns, reason_column]))
    missing = [c for c in required if c not in df.columns]
    assert not missing, f"policy output is missing column(s) {missing}; has {list(df.columns)}"
    reasons = df[reason_column]
    bad = reasons.isna() | (reasons.astype(str).str.strip() == "")
    assert not bad.any(), f"{int(bad.sum())} row(s) have an empty `{reason_column}`, first at index {df.index[bad.to_numpy()][0]!r}"
    for c in numeric_columns:
        assert c in df.columns, f"numeric column {c!r} is missing"
        values = pd.to_numeric(df[c], errors="coerce")
        nan = values.isna()
        assert not nan.any(), (f"column {c!r} has {int(nan.sum())} NaN / non-numeric value(s), "
                               f"first at index {df.index[nan.to_numpy()][0]!r}")


def check_in_range(name: str, value, low: float, high: float, *, closed: str = "neither") -> None:
    """Validate a scalar parameter; message names parameter, value and what is allowed."""
    lo_ok = value >= low if closed in ("left", "both") else value > low
    hi_ok = value <= high if closed in ("right", "both") else value < high
    try:
        ok = bool(np.isfinite(value)) and lo_ok and hi_ok
    except TypeError:
        ok = False
    if not ok:
        lb = "[" if closed in ("left", "both") else "("
        rb = "]" if closed in ("right", "both") else ")"
        raise ValueError(f"`{name}` must be in {lb}{low:g}, {high:g}{rb}, got {value!r}")

"""The contract every policy meets: restock, phase, pricing, ads, locations and the risk rules (hijack
scorer and model, offers alerts, account health, supplier feed, returns, new-product tests).

A policy subclasses :class:`Policy`, a scikit-learn ``BaseEstimator``: ``__init__`` only stores
parameters (playbook defaults from ``shared/docs/domain-rules.md``), so ``get_params`` /
``set_params`` / ``clone`` work, and a policy that uses another takes it as a parameter
(``PricingPolicy(phase=StockoutPhase(...))``, tuned as ``phase__medium_gap_max_days``). Validation
happens when it is used and raises :class:`workbench.errors.ParameterError` naming the parameter,
the value and what is allowed. The one verb is ``recommend(snapshot, ...)`` on a
:class:`workbench.stock.StockSnapshot`. Its output is a frame with the design's columns and a
non-empty ``reason`` on every row; :func:`check_policy_output` asserts that, so every policy shares
one contract test (tests/test_policy_contract.py, which finds every subclass and fails on one without
a case). ``recommend`` is the only public verb: where a rule also runs on raw tables (the risk
rules), that is a private ``_from_tables`` helper ``recommend`` calls, not a second entry point.
Estimators beside the policies (``ElasticityEstimator``) keep the same parameter contract with
``fit`` / ``predict``.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from workbench.errors import ParameterError


class Policy(BaseEstimator):
    """Base of every policy: parameters in ``__init__`` only, ``_validate()`` then ``recommend(snapshot, ...)``."""

    def _validate(self) -> None:  # overridden where there is something to check
        return None

    def _validate_all(self) -> None:
        """Validate this policy and every sub-policy passed as a parameter."""
        for value in self.get_params(deep=False).values():
            if isinstance(value, Policy):
                value._validate_all()
        self._validate()

    def recommend(self, snapshot, **kwargs) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError


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
        raise ParameterError(f"`{name}` must be in {lb}{low:g}, {high:g}{rb}, got {value!r}")


def check_whole_number(name: str, value, low: int = 1, high: int | None = None, *, unit: str = "",
                       allow_none: bool = False) -> None:
    """Validate a whole-number parameter (days, counts, iterations): an int (not a bool) in
    ``[low, high]`` (no upper bound when ``high`` is None), or None when ``allow_none``.

    The message names parameter, value and what is allowed, e.g. "`top_n` must be a whole number >= 1,
    got 0"; ``unit`` names what is counted ("days": "a whole number of days >= 1").
    """
    if allow_none and value is None:
        return
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if whole and value >= low and (high is None or value <= high):
        return
    what = "a whole number" + (f" of {unit}" if unit else "")
    bound = f">= {low}" if high is None else f"from {low} to {high}"
    raise ParameterError(f"`{name}` must be {what} {bound}{' or None' if allow_none else ''}, got {value!r}")

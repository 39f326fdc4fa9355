"""Small helpers shared by the risk modules: dates, atomic writes, latest snapshots."""
from __future__ import annotations

import pandas as pd

from workbench.errors import InputError, ParameterError  # noqa: F401  (ParameterError re-exported)
from workbench.io import write_frame  # noqa: F401  (re-exported: atomic CSV/Parquet writes)


def to_date(value, name: str = "as_of") -> pd.Timestamp:
    """Parse a date-like value into a midnight Timestamp; errors name the parameter and the value."""
    if value is None:
        raise InputError(f"`{name}` must be a date YYYY-MM-DD, got None")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"`{name}` must be a date YYYY-MM-DD, got {value!r}") from None
    if pd.isna(ts):
        raise InputError(f"`{name}` must be a date YYYY-MM-DD, got {value!r}")
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


def require_columns(df: pd.DataFrame, table: str, columns) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{table}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")


def latest_at_or_before(df: pd.DataFrame, keys: list[str], date_col: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """The last row per key with ``date_col <= as_of`` (the snapshot the run is allowed to see)."""
    seen = df[df[date_col] <= as_of]
    if seen.empty:
        return seen.copy()
    return seen.sort_values(date_col, kind="mergesort").groupby(keys, sort=True).tail(1).reset_index(drop=True)


def pct(x: float, digits: int = 0) -> str:
    """0.583 -> '58%'."""
    return f"{x * 100:.{digits}f}%"


def num(x: float) -> str:
    """Compact number: 3 -> '3', 2.5 -> '2.5', 7.25 -> '7.2'."""
    if pd.isna(x):
        return "n/a"
    r = round(float(x), 1)
    return f"{r:.0f}" if r == int(r) else f"{r:.1f}"

"""Vectorized helpers over a long panel sorted by ``unique_id, ds`` (no per-series Python loops)."""
from __future__ import annotations

import numpy as np
import pandas as pd

SEASON = {"D": 7, "W": 52}
YEAR = {"D": 364, "W": 52}


def group_bounds(ids: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index of each row's group and group end (exclusive), for a frame sorted by id."""
    ids = np.asarray(ids)
    n = len(ids)
    if n == 0:
        return np.zeros(0, int), np.zeros(0, int)
    change = np.r_[True, ids[1:] != ids[:-1]]
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], n]
    sizes = ends - starts
    return np.repeat(starts, sizes), np.repeat(ends, sizes)


def window_stats(values: np.ndarray, start: np.ndarray, end: np.ndarray, lo_off: int, hi_off: int):
    """Sum and count of non-NaN values over rows [t+lo_off, t+hi_off] clipped to the group."""
    v = np.where(np.isnan(values), 0.0, values)
    c = (~np.isnan(values)).astype(float)
    cs_v = np.r_[0.0, np.cumsum(v)]
    cs_c = np.r_[0.0, np.cumsum(c)]
    t = np.arange(len(values))
    lo = np.clip(t + lo_off, start, end)
    hi = np.clip(t + hi_off + 1, start, end)
    hi = np.maximum(hi, lo)
    return cs_v[hi] - cs_v[lo], cs_c[hi] - cs_c[lo]


def window_mean(values, start, end, lo_off, hi_off, min_count=1):
    s, c = window_stats(values, start, end, lo_off, hi_off)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = s / c
    m[c < min_count] = np.nan
    return m


def freq_alias(freq: str, ds: pd.Series) -> str:
    """pandas/statsforecast frequency string: 'D', or 'W-<weekday>' anchored on the data's weekday."""
    if freq == "D":
        return "D"
    day = pd.Timestamp(ds.iloc[0]).day_name()[:3].upper()
    return f"W-{day}"


def step(freq: str) -> pd.Timedelta:
    return pd.Timedelta(days=1 if freq == "D" else 7)

"""Retail and supply calendar for the sample-data generator: peak events and Chinese New Year.

Used by :mod:`workbench.data.generate` only. Dates are handled as numpy ``datetime64[D]``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# Chinese New Year (first day of the Spring Festival), 2018-2035.
CNY_DATES = {
    2018: "2018-02-16", 2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12",
    2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
    2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13",
    2030: "2030-02-03", 2031: "2031-01-23", 2032: "2032-02-11", 2033: "2033-01-31",
    2034: "2034-02-19", 2035: "2035-02-08",
}
CNY_HOLIDAY_DAYS = 7  # rows written to the events table: CNY .. CNY+6

# Demand uplift as a fraction (0.8 = +80%) written to events.expected_uplift.
PRIME_DAY_UPLIFT = (1.0, 0.8)  # day 1, day 2
BLACK_FRIDAY_UPLIFT = 1.5
BF_WEEKEND_UPLIFT = (0.6, 0.45)  # Saturday, Sunday
CYBER_MONDAY_UPLIFT = 1.0
CHRISTMAS_RUNUP = (0.15, 0.5)  # linear from Dec 1 to Dec 20


def nth_weekday(year: int, month: int, weekday: int, n: int) -> np.datetime64:
    """The n-th (1-based) given weekday (Mon=0) of a month."""
    first = pd.Timestamp(year=year, month=month, day=1)
    offset = (weekday - first.weekday()) % 7
    return np.datetime64((first + pd.Timedelta(days=offset + 7 * (n - 1))).date(), "D")


def prime_day_start(year: int, overrides: dict[int, np.datetime64]) -> np.datetime64:
    """Second Tuesday of July unless overridden for that year."""
    return overrides.get(year, nth_weekday(year, 7, 1, 2))


def black_friday(year: int) -> np.datetime64:
    """The day after the fourth Thursday of November (US Thanksgiving)."""
    return nth_weekday(year, 11, 3, 4) + np.timedelta64(1, "D")


def events_frame(first: np.datetime64, last: np.datetime64, prime_overrides: dict[int, np.datetime64]) -> pd.DataFrame:
    """One row per event day between first and last (inclusive): date, event, scope, expected_uplift."""
    rows: list[tuple[np.datetime64, str, str, float]] = []
    y0, y1 = int(str(first)[:4]), int(str(last)[:4])
    for y in range(y0, y1 + 1):
        pd0 = prime_day_start(y, prime_overrides)
        for k, up in enumerate(PRIME_DAY_UPLIFT):
            rows.append((pd0 + np.timedelta64(k, "D"), "Prime Day", "all", up))
        bf = black_friday(y)
        rows.append((bf, "Black Friday", "all", BLACK_FRIDAY_UPLIFT))
        for k, up in enumerate(BF_WEEKEND_UPLIFT):
            rows.append((bf + np.timedelta64(k + 1, "D"), "Black Friday weekend", "all", up))
        rows.append((bf + np.timedelta64(3, "D"), "Cyber Monday", "all", CYBER_MONDAY_UPLIFT))
        lo, hi = CHRISTMAS_RUNUP
        for k in range(20):
            rows.append((np.datetime64(f"{y}-12-01") + np.timedelta64(k, "D"), "Christmas run-up", "all",
                         round(lo + (hi - lo) * k / 19, 3)))
        if y in CNY_DATES:
            c = np.datetime64(CNY_DATES[y])
            for k in range(CNY_HOLIDAY_DAYS):
                rows.append((c + np.timedelta64(k, "D"), "Chinese New Year", "supply", np.nan))
    ev = pd.DataFrame(rows, columns=["date", "event", "scope", "expected_uplift"])
    ev = ev[(ev["date"] >= first) & (ev["date"] <= last)]
    ev["date"] = pd.to_datetime(ev["date"])
    return ev.sort_values(["date", "event"], kind="stable").reset_index(drop=True)


def demand_uplift(days: np.ndarray, events: pd.DataFrame) -> np.ndarray:
    """Expected uplift fraction per day (0 on ordinary days) from demand events (scope 'all')."""
    up = np.zeros(len(days), dtype=np.float64)
    dem = events[events["scope"] == "all"]
    idx = {d: i for i, d in enumerate(days.astype("datetime64[D]"))}
    for d, u in zip(dem["date"].to_numpy().astype("datetime64[D]"), dem["expected_uplift"].to_numpy()):
        i = idx.get(d)
        if i is not None:
            up[i] = max(up[i], float(u))
    return up


def supply_calendar(days: np.ndarray) -> dict[str, np.ndarray]:
    """Per-day supply flags for ship-date adjustments (days: datetime64[D] array).

    - ``closure_release``: for a ship date inside the factory closure CNY-10 .. CNY+10, the day index
      (into ``days``) when goods can ship again (CNY+11); -1 elsewhere.
    - ``pre_cny_rush``: ship date in CNY-28 .. CNY-11 (ports congested before the holiday).
    - ``peak_congestion``: ship date between Sep 1 and Nov 15 (peak-season port congestion).
    """
    n = len(days)
    d0 = days[0]
    release = np.full(n, -1, dtype=np.int64)
    rush = np.zeros(n, dtype=bool)
    years = days.astype("datetime64[Y]").astype(int) + 1970
    for y in range(int(years.min()) - 1, int(years.max()) + 2):
        if y not in CNY_DATES:
            continue
        c = int((np.datetime64(CNY_DATES[y]) - d0).astype(int))
        lo, hi = max(c - 10, 0), min(c + 10, n - 1)
        if lo <= hi:
            release[lo:hi + 1] = c + 11
        lo, hi = max(c - 28, 0), min(c - 11, n - 1)
        if lo <= hi:
            rush[lo:hi + 1] = True
    md = (days.astype("datetime64[M]").astype(int) % 12) + 1
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    peak = ((md == 9) | (md == 10) | ((md == 11) & (dom <= 15)))
    return {"closure_release": release, "pre_cny_rush": rush, "peak_congestion": peak}

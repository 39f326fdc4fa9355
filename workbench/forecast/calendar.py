"""Built-in retail calendar (US marketplace peaks) and event features for the global model.

Dates follow the public rules: Thanksgiving = 4th Thursday of November, Black Friday = the day after,
Cyber Monday = the Monday after; Labor Day = 1st Monday of September; Super Bowl = 1st Sunday of
February up to 2021 and 2nd Sunday from 2022 (NFL 17-game season); Christmas = 25 December with a
run-up (10-24 Dec); Prime Day is configurable (default: 2nd Tuesday and Wednesday of July);
Chinese New Year (lunar calendar, table below) matters for supply: factories close about a week
before and up to three weeks after.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

CHINESE_NEW_YEAR = {
    2010: "2010-02-14", 2011: "2011-02-03", 2012: "2012-01-23", 2013: "2013-02-10", 2014: "2014-01-31",
    2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16", 2019: "2019-02-05",
    2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10",
    2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13",
    2030: "2030-02-03",
}
DEMAND_EVENTS = ("super_bowl", "labor_day", "thanksgiving", "black_friday", "cyber_monday",
                 "christmas_run_up", "christmas", "prime_day")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> pd.Timestamp:
    first = pd.Timestamp(year=year, month=month, day=1)
    return first + pd.Timedelta(days=(weekday - first.dayofweek) % 7 + 7 * (n - 1))


def retail_calendar(start, end, prime_days: dict[int, Iterable[str]] | None = None) -> pd.DataFrame:
    """Rows ``date, event, scope`` for every built-in event between ``start`` and ``end`` (inclusive).

    ``prime_days``: {year: [dates]} to replace the default Prime Day guess for that year.
    ``scope`` is ``demand`` for sales peaks and ``supply`` for Chinese New Year factory closures.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    rows = []
    for year in range(start.year - 1, end.year + 2):
        tg = _nth_weekday(year, 11, 3, 4)
        rows += [(tg, "thanksgiving"), (tg + pd.Timedelta(days=1), "black_friday"),
                 (tg + pd.Timedelta(days=4), "cyber_monday"),
                 (_nth_weekday(year, 9, 0, 1), "labor_day"),
                 (_nth_weekday(year, 2, 6, 1 if year <= 2021 else 2), "super_bowl"),
                 (pd.Timestamp(year=year, month=12, day=25), "christmas")]
        rows += [(pd.Timestamp(year=year, month=12, day=d), "christmas_run_up") for d in range(10, 25)]
        if prime_days and year in prime_days:
            rows += [(pd.Timestamp(d), "prime_day") for d in prime_days[year]]
        else:
            tue = _nth_weekday(year, 7, 1, 2)
            rows += [(tue, "prime_day"), (tue + pd.Timedelta(days=1), "prime_day")]
        if year in CHINESE_NEW_YEAR:
            cny = pd.Timestamp(CHINESE_NEW_YEAR[year])
            rows += [(cny + pd.Timedelta(days=k), "chinese_new_year") for k in range(-7, 22)]
    cal = pd.DataFrame(rows, columns=["date", "event"])
    cal["scope"] = np.where(cal["event"] == "chinese_new_year", "supply", "demand")
    cal = cal[(cal["date"] >= start) & (cal["date"] <= end)]
    return cal.sort_values(["date", "event"]).reset_index(drop=True)


def event_features(ds: pd.Series, freq: str, events: pd.DataFrame | None = None,
                   prime_days: dict | None = None) -> pd.DataFrame:
    """Calendar and event features for each date in ``ds`` (index aligned with ``ds``).

    Daily: one indicator per built-in demand event on that day. Weekly (``ds`` = the week's last day):
    the indicator is 1 when the event falls in the 7 days ending at ``ds``. Also ``days_to_christmas``,
    ``days_to_black_friday`` (0..60, 60 meaning far), calendar fields, and from the dataset's
    ``events`` table (``date, event``, optional ``expected_uplift``): ``dataset_event`` and ``dataset_uplift``.
    """
    ds = pd.to_datetime(pd.Series(ds)).reset_index(drop=True)
    uniq = pd.Series(ds.unique()).sort_values().reset_index(drop=True)
    lo, hi = uniq.min() - pd.Timedelta(days=7), uniq.max() + pd.Timedelta(days=7)
    cal = retail_calendar(lo, hi, prime_days)
    feats = pd.DataFrame({"ds": uniq})
    width = 7 if freq == "W" else 1

    def hits(dates: pd.Series) -> np.ndarray:
        d = np.sort(dates.to_numpy())
        right = np.searchsorted(d, uniq.to_numpy(), side="right")
        left = np.searchsorted(d, (uniq - pd.Timedelta(days=width - 1)).to_numpy(), side="left")
        return right - left

    for ev in DEMAND_EVENTS:
        feats[ev] = (hits(cal.loc[cal["event"] == ev, "date"]) > 0).astype(np.int8)

    ahead = retail_calendar(lo, hi + pd.Timedelta(days=400), prime_days)

    def days_to(ev: str) -> np.ndarray:
        d = np.sort(ahead.loc[ahead["event"] == ev, "date"].to_numpy())
        idx = np.searchsorted(d, uniq.to_numpy(), side="left")
        nxt = np.where(idx < len(d), d[np.minimum(idx, len(d) - 1)], np.datetime64("NaT"))
        days = (pd.to_datetime(nxt) - uniq).dt.days.to_numpy(dtype=float)
        return np.clip(np.nan_to_num(days, nan=60.0), 0, 60)

    feats["days_to_christmas"] = days_to("christmas")
    feats["days_to_black_friday"] = days_to("black_friday")
    feats["month"] = uniq.dt.month.to_numpy()
    feats["week_of_year"] = uniq.dt.isocalendar().week.to_numpy().astype(int)
    if freq == "D":
        feats["day_of_week"] = uniq.dt.dayofweek.to_numpy()
        feats["day_of_month"] = uniq.dt.day.to_numpy()
    if events is not None and len(events):
        ev = events.copy()
        ev["date"] = pd.to_datetime(ev["date"])
        feats["dataset_event"] = (hits(ev["date"]) > 0).astype(np.int8)
        if "expected_uplift" in ev.columns:
            up = ev.groupby("date")["expected_uplift"].max().astype(float)
            m = pd.Series(0.0, index=uniq)
            for day, u in up.items():  # few rows: one per event day
                m[((uniq >= day) & (uniq < day + pd.Timedelta(days=width))).to_numpy()] = u
            feats["dataset_uplift"] = m.to_numpy()
    out = pd.DataFrame({"ds": ds}).merge(feats, on="ds", how="left")
    return out.drop(columns="ds")

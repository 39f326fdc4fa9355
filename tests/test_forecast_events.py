"""Retail calendar dates, event features, and peaks that the backtest windows cannot see."""
import numpy as np
import pandas as pd

from workbench.forecast import forecast_frame
from workbench.forecast.calendar import event_features, retail_calendar


def test_calendar_dates_follow_the_public_rules():
    cal = retail_calendar("2026-01-01", "2026-12-31")
    first = cal.groupby("event")["date"].min().dt.strftime("%Y-%m-%d")
    assert first["thanksgiving"] == "2026-11-26"
    assert first["black_friday"] == "2026-11-27"
    assert first["cyber_monday"] == "2026-11-30"
    assert first["labor_day"] == "2026-09-07"
    assert first["super_bowl"] == "2026-02-08"       # 2nd Sunday of February since 2022
    assert first["prime_day"] == "2026-07-14"        # default guess: 2nd Tuesday of July
    assert first["chinese_new_year"] == "2026-02-10"  # closure starts a week before 17 Feb
    assert (cal.loc[cal["event"] == "chinese_new_year", "scope"] == "supply").all()
    custom = retail_calendar("2026-01-01", "2026-12-31", prime_days={2026: ["2026-07-08", "2026-07-09"]})
    assert custom.loc[custom["event"] == "prime_day", "date"].dt.day.tolist() == [8, 9]
    assert retail_calendar("2011-01-01", "2011-12-31").query("event == 'super_bowl'")["date"].iloc[0] == pd.Timestamp("2011-02-06")


def test_weekly_features_mark_the_week_that_contains_the_event():
    weeks = pd.Series(pd.to_datetime(["2010-11-19", "2010-11-26", "2010-12-03"]))  # Walmart weeks end on Friday
    f = event_features(weeks, "W", events=pd.DataFrame({"date": ["2010-11-30"], "event": ["promo"], "expected_uplift": [0.4]}))
    assert f["thanksgiving"].tolist() == [0, 1, 0]
    assert f["black_friday"].tolist() == [0, 1, 0]
    assert f["cyber_monday"].tolist() == [0, 0, 1]
    assert f["dataset_event"].tolist() == [0, 0, 1]
    assert f["dataset_uplift"].tolist() == [0.0, 0.0, 0.4]


def test_holiday_peak_is_forecast_even_though_backtest_windows_hold_none():
    rng = np.random.default_rng(0)
    ds = pd.date_range("2020-01-03", "2022-10-28", freq="W-FRI")
    future = pd.date_range("2022-11-04", periods=13, freq="W-FRI")
    def demand(d):
        peak = np.where((d.month == 11) & (d.day >= 20) | (d.month == 12) & (d.day <= 24), 2.0, 1.0)
        return 1000 * peak
    df = pd.concat([pd.DataFrame({"unique_id": f"st{i}", "ds": ds,
                                  "y": demand(ds) * rng.lognormal(0, 0.05, len(ds))}) for i in range(6)])
    res = forecast_frame(df, 13, "W", [80])
    f = res.forecast
    peak_weeks = f["ds"].isin(future[(future.month == 11) & (future.day >= 20) | (future.month == 12) & (future.day <= 24)])
    ratio = f.loc[peak_weeks, "yhat"].mean() / f.loc[~peak_weeks, "yhat"].mean()
    assert ratio > 1.6, ratio
    assert res.choices["model"].isin(["SeasonalNaive", "SeasonalNaiveLevel", "GlobalGBM", "AnnualEnsemble"]).all()
    assert res.choices["reason"].str.contains("know last year's pattern").all()

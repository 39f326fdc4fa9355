"""Weekly results at seller scale: large tables as Parquet, the demand history written once into a shared
store beside the report folders, read back lazily through ``WeeklyResults``."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.pipeline import run_pipeline
from workbench.report.weekly import (FILES, HISTORY_DIR, _read_all, compute_weekly, read_history,
                                     write_history)

AS_OF = "2026-11-23"


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    data = write_sample_dataset(tmp_path_factory.mktemp("wr_data"),
                                GeneratorConfig(n_skus=6, years=1.0, seed=3, end_date="2026-11-22", ads_days=30),
                                include_truth=False)
    ds = load_dataset(data)
    res = run_pipeline(ds, AS_OF)
    reports = tmp_path_factory.mktemp("reports")
    folder = reports / AS_OF
    folder.mkdir()
    written = compute_weekly(ds, AS_OF, folder, result=res)
    return res, reports, folder, written


def test_big_tables_are_parquet_and_the_history_is_not_in_the_report_folder(week):
    res, reports, folder, written = week
    assert (folder / "forecast.parquet").is_file() and (folder / "forecast_backtest.parquet").is_file()
    assert not list(folder.glob("demand_history*")) and not list(folder.glob("forecast.csv"))
    for people in ("restock", "pricing", "risk"):  # the tables people open stay CSV
        assert FILES[people].endswith(".csv") and (folder / FILES[people]).is_file()
    months = sorted((reports / HISTORY_DIR).glob("*.parquet"))
    assert [m.name for m in months][-1] == "demand_history-2026-11.parquet"
    assert len(months) == res.forecast.history["ds"].dt.to_period("M").nunique()
    assert set(months) <= set(written)


def test_the_stored_history_is_the_runs_history_with_reasons_and_ends_at_the_last_observed_day(week):
    res, reports, _, _ = week
    back = read_history(reports / HISTORY_DIR, AS_OF)
    assert back["ds"].max() == pd.Timestamp("2026-11-22")  # no fabricated day at as-of
    assert len(back) == len(res.forecast.history) and back["reason"].str.len().gt(0).all()
    pd.testing.assert_series_equal(back["y"], res.forecast.history["y"].reset_index(drop=True), check_names=False)


def test_a_second_week_writes_only_the_month_its_new_days_fall_in(week, tmp_path):
    res, reports, _, _ = week
    store = tmp_path / "store"
    h = res.forecast.history
    first = write_history(h[h["ds"] <= "2026-11-15"], store)
    assert len(first) == h["ds"].dt.to_period("M").nunique()
    before = {p.name: p.stat().st_mtime_ns for p in store.iterdir()}
    second = write_history(h, store)  # a week later: the days 16-22 November are new
    assert [p.name for p in second] == ["demand_history-2026-11.parquet"]
    after = {p.name: p.stat().st_mtime_ns for p in store.iterdir()}
    assert {k for k in before if before[k] != after[k]} == {"demand_history-2026-11.parquet"}
    assert write_history(h[h["ds"] <= "2026-11-15"], store) == []  # an earlier re-run never shortens the store
    assert read_history(store)["ds"].max() == pd.Timestamp("2026-11-22")
    assert read_history(store, "2026-11-15")["ds"].max() == pd.Timestamp("2026-11-15")


def test_weekly_results_read_big_tables_only_when_asked(week):
    res, reports, folder, _ = week
    r = _read_all(folder, AS_OF)
    assert "forecast" not in r.frames and "history" not in r.frames
    assert r.restock is not None and len(r.restock) == len(res.restock)
    assert len(r.forecast) == len(res.forecast.forecast)
    some = res.restock["sku"].iloc[:2].tolist()
    few = r.history_of(some)
    assert set(few["unique_id"]) == set(some)
    assert len(few) == res.forecast.history["unique_id"].isin(some).sum()
    assert len(r.history) == len(res.forecast.history)

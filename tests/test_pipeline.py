"""The one pipeline: the CLI commands, the weekly run and the what-if engine read one stock snapshot."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import main
from workbench.data import load_dataset
from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.forecast.overrides import set_override
from workbench.pipeline import Pipeline, run_pipeline
from workbench.policies.ads import ADS_COLUMNS
from workbench.policies.pricing import PRICING_COLUMNS

AS_OF = "2026-11-23"  # the generator's data end on 2026-11-22: one day of data missing before as-of
COVERS = ["cover_days", "sellable_cover_days"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pipeline_data")
    cfg = GeneratorConfig(n_skus=8, years=1.0, seed=5, end_date="2026-11-22", ads_days=30)
    return write_sample_dataset(out, cfg, include_truth=False)


@pytest.fixture(scope="module")
def result(data):
    return run_pipeline(load_dataset(data), AS_OF)


def test_the_history_ends_at_the_last_observed_day_and_the_gap_is_reported(result):
    # as-of is the day after the last sales date: no fabricated zero-sales day is added
    assert result.forecast.history["ds"].max() == pd.Timestamp("2026-11-22")
    assert result.missing_days == 1
    assert "1 day(s) missing before as-of 2026-11-23" in result.data_note()


def test_restock_pricing_and_risk_carry_the_same_covers_per_sku(result):
    snap = result.snapshot.covers().set_index("sku")
    restock = result.restock.set_index("sku")[COVERS]
    pricing = result.pricing.groupby("sku")[COVERS].agg(["min", "max"])
    risk = result.risk["risk"].set_index("sku")[COVERS]
    for c in COVERS:
        pd.testing.assert_series_equal(restock[c], snap[c], check_names=False)
        assert (pricing[(c, "min")] == pricing[(c, "max")]).all()  # one value per SKU across channels
        pd.testing.assert_series_equal(pricing[(c, "min")], snap[c].reindex(pricing.index), check_names=False)
        pd.testing.assert_series_equal(risk[c].sort_index(), snap[c].sort_index(), check_names=False)


def test_the_covers_follow_their_one_definition(result):
    s = result.snapshot.skus
    sold = s["daily_demand"] > 0
    expect = ((s["available"] + s["inbound"]) / s["daily_demand"]).clip(upper=999).round(2)
    assert (s.loc[sold, "cover_days"] - expect[sold]).abs().max() <= 0.01
    expect = (s["available"] / s["daily_demand"]).clip(upper=999).round(2)
    assert (s.loc[sold, "sellable_cover_days"] - expect[sold]).abs().max() <= 0.01


def test_supplier_held_stock_is_not_sellable():
    from workbench.stock import build_snapshot

    inv = pd.DataFrame({"as_of": pd.Timestamp("2026-03-01"), "sku": ["A", "A"],
                        "location": ["FBA-US-EAST", "SUPPLIER-DROPSHIP"], "on_hand": [129, 701], "reserved": [0, 0]})
    prod = pd.DataFrame({"sku": ["A"], "supplier": ["S"], "unit_cost": [5.0], "moq": [1], "case_pack": [1],
                         "is_key_item": [False]})
    ships = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]") for c in ("order_date", "ship_date", "eta", "received_date")})
    ships = ships.assign(shipment_id=pd.Series(dtype=str), sku=pd.Series(dtype=str), supplier=pd.Series(dtype=str),
                         mode=pd.Series(dtype=str), qty=pd.Series(dtype="int64"), location=pd.Series(dtype=str))
    sales = pd.DataFrame({"date": pd.date_range("2026-01-15", "2026-03-01"), "sku": "A", "channel": "amazon_us",
                          "units": 50.0})
    snap = build_snapshot({"products": prod, "inventory": inv, "shipments": ships, "sales": sales}, "2026-03-01")
    row = snap.skus.iloc[0]
    assert (row["available"], row["supplier_held"], row["sellable_cover_days"]) == (129, 701, 2.58)


def test_cli_pricing_and_ads_run_the_pipeline_and_write_their_files(data, tmp_path):
    out = tmp_path / "pricing.csv"
    assert main(["pricing", "--data", str(data), "--as-of", AS_OF, "--output", str(out)]) == 0
    back = pd.read_csv(out)
    assert list(back.columns[:len(PRICING_COLUMNS)]) == PRICING_COLUMNS and back["reason"].str.len().gt(0).all()
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temporary file
    out = tmp_path / "ads.csv"
    assert main(["ads", "--data", str(data), "--as-of", AS_OF, "--output", str(out)]) == 0
    assert list(pd.read_csv(out).columns[:len(ADS_COLUMNS)]) == ADS_COLUMNS


def test_an_overrides_file_passed_in_changes_the_model_of_that_sku(data, tmp_path):
    ds = load_dataset(data)
    short = Pipeline(horizon_days=14)
    before = short.forecast(ds, AS_OF).forecast
    sku = before["unique_id"].iloc[0]
    assert (before.loc[before["unique_id"] == sku, "model"] != "Naive").all()
    path = tmp_path / "overrides.yaml"
    set_override(path, sku, "Naive", who="ana", why="last value is the best guess after the relaunch")
    after = short.forecast(ds, AS_OF, overrides=path).forecast
    assert (after.loc[after["unique_id"] == sku, "model"] == "Naive").all()
    assert after.loc[after["unique_id"] == sku, "reason"].str.contains("override", case=False).all()


def test_an_unknown_step_is_named(data):
    with pytest.raises(ValueError, match="unknown pipeline step"):
        run_pipeline(load_dataset(data), AS_OF, steps=("restock", "shipping"))


def test_the_weekly_results_say_how_many_days_of_data_are_missing(result):
    from workbench.report.weekly import WeeklyResults, coverage_table

    cov = coverage_table(result)
    assert cov.loc[0, "missing_days"] == 1 and cov.loc[0, "last_observed"] == pd.Timestamp("2026-11-22")
    assert WeeklyResults(AS_OF, {"coverage": cov}).kpis()["days of data missing before as-of"] == 1


def test_a_large_catalog_is_forecast_in_sku_chunks_that_cover_every_sku_once(data, result):
    ds = load_dataset(data)
    chunked = Pipeline(horizon_days=14, chunk_skus=3).forecast(ds, AS_OF)  # 8 SKUs: chunks of 3, 3, 2
    whole = result.forecast
    f = chunked.forecast
    assert sorted(f["unique_id"].unique()) == sorted(whole.forecast["unique_id"].unique())
    assert (f.groupby("unique_id").size() == 14).all() and f["reason"].str.len().gt(0).all()
    assert sorted(chunked.choices["unique_id"]) == sorted(whole.choices["unique_id"])
    cols = ["unique_id", "ds", "y_observed"]
    pd.testing.assert_frame_equal(chunked.history[cols].sort_values(cols[:2]).reset_index(drop=True),
                                  whole.history[cols].sort_values(cols[:2]).reset_index(drop=True))
    assert chunked.candidates is None and chunked.timings["validate"] > 0


def test_a_catalog_forecast_in_sku_chunks_keeps_the_lead_time_errors_and_fits_the_global_model_once(
        data, result, monkeypatch):
    from workbench.forecast.errors import backtest_errors, lead_time_errors
    from workbench.forecast.gbm import GlobalGBM

    ds = load_dataset(data)
    fits = []
    orig = GlobalGBM.fit_frame
    monkeypatch.setattr(GlobalGBM, "fit_frame", lambda self, d: fits.append(d["unique_id"].nunique()) or orig(self, d))
    chunked = Pipeline(chunk_skus=3).run(ds, AS_OF, steps=("restock",))  # 8 SKUs: chunks of 3, 3, 2
    fc = chunked.forecast
    assert fc.cv is None and fc.errors is not None  # every candidate's predictions dropped, the errors kept
    # one fit per cutoff (the backtest windows and the future), on the first chunk (three SKUs, the backtestable ones)
    assert len(fits) == fc.backtest["cutoff"].nunique() + 1 and max(fits) <= 3
    backtested = set(fc.choices.loc[fc.choices["source"].eq("backtest"), "unique_id"])
    assert set(backtest_errors(fc)["unique_id"]) == backtested and backtested
    assert lead_time_errors(fc) is not None
    # the restock sizes safety stock from the backtest errors, as a one-call run does
    spread = chunked.restock.set_index("sku")["demand_spread"]
    whole = result.restock.set_index("sku")["demand_spread"]
    assert (whole == "backtest_errors").any()
    pd.testing.assert_series_equal(spread.sort_index(), whole.sort_index())

"""Stockout days are unknown demand, not zero demand: the imputed history matches the true demand."""
import numpy as np
import pandas as pd
import pytest

from forecast_fixtures import daily_panel
from workbench.forecast import demand_history, impute_censored


def _with_stockouts(seed=3):
    hist, truth = daily_panel(n_series=6, n_days=300, seed=seed)
    hist = hist[hist["unique_id"].isin(["S00", "S02", "S03", "S05"])].reset_index(drop=True)
    truth = truth[truth["unique_id"].isin(hist["unique_id"].unique())].reset_index(drop=True)
    hist["in_stock"] = True
    gap = hist["ds"].between("2024-06-01", "2024-06-14")
    hist.loc[gap, "in_stock"] = False
    hist.loc[gap, "y"] = 0.0
    return hist, truth, gap


def test_lost_units_match_true_demand_on_stockout_days():
    hist, truth, gap = _with_stockouts()
    fixed, lost = impute_censored(hist, "D")
    true_lost = truth.loc[gap.to_numpy(), ["unique_id", "y"]].groupby("unique_id")["y"].sum()
    est = lost.set_index("unique_id")["lost_units"]
    rel_err = (est - true_lost).abs() / true_lost
    assert (rel_err < 0.15).all(), rel_err.to_dict()
    assert (lost["stockout_periods"] == 14).all()


def test_average_daily_sales_do_not_shrink_after_a_stockout():
    hist, truth, gap = _with_stockouts()
    fixed, _ = impute_censored(hist, "D")
    window = hist["ds"].between("2024-05-18", "2024-06-14")
    true_ads = truth.loc[window.to_numpy()].groupby("unique_id")["y"].mean()
    raw_ads = hist[window].groupby("unique_id")["y"].mean()
    fixed_ads = fixed[window.to_numpy()].groupby("unique_id")["y"].mean()
    assert ((fixed_ads - true_ads).abs() / true_ads < 0.10).all()
    assert (raw_ads < 0.6 * true_ads).all()  # what a tool that reads stockouts as zero demand would use


def test_partial_day_sales_are_kept_and_flags_reported():
    df = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2024-01-01", periods=60), "y": 10.0, "in_stock": True})
    df.loc[30, ["y", "in_stock"]] = [4.0, False]  # sold 4 before running out
    fixed, lost = impute_censored(df, "D")
    assert fixed.loc[30, "y"] == pytest.approx(10.0)
    assert fixed.loc[30, "y_observed"] == 4.0 and fixed.loc[30, "censored"]
    assert lost.loc[0, "lost_units"] == pytest.approx(6.0)


def test_generated_dataset_lost_demand_close_to_truth():
    gen = pytest.importorskip("workbench.data.generate")
    tables, truth = gen.generate_dataset(gen.GeneratorConfig(n_skus=30, years=1.0, seed=11))
    hist = demand_history(tables)
    fixed, lost = impute_censored(hist, "D")
    dem = truth["demand"]
    true_lost = (dem["demand"] - dem["units"]).clip(lower=0).groupby(dem["sku"]).sum()
    est = lost.set_index("unique_id")["lost_units"]
    skus = est.index[est > 0]
    assert len(skus) > 0
    # in aggregate the estimate is close to the truth, and far better than reading stockouts as zero
    total_err = abs(est[skus].sum() - true_lost.reindex(skus).sum()) / true_lost.reindex(skus).sum()
    assert total_err < 0.35, (est[skus].sum(), true_lost.reindex(skus).sum())


def test_demand_history_aggregates_channels_and_reads_inventory():
    sales = pd.DataFrame({
        "date": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-04"],
        "sku": ["A", "A", "A", "A"], "channel": ["amazon", "shopify", "amazon", "amazon"],
        "units": [3, 2, 0, 5], "revenue": [1, 1, 0, 1]})
    inventory = pd.DataFrame({"as_of": ["2024-01-01", "2024-01-02", "2024-01-04"], "sku": "A",
                              "location": "fba", "on_hand": [10, 0, 8], "reserved": 0})
    h = demand_history({"sales": sales, "inventory": inventory})
    assert h["y"].tolist() == [5.0, 0.0, 0.0, 5.0]
    assert h["in_stock"].tolist() == [True, False, False, True]
    hc = demand_history({"sales": sales, "inventory": inventory}, by_channel=True)
    assert set(hc["unique_id"]) == {"A|amazon", "A|shopify"}
    assert demand_history({"sales": sales}, as_of="2024-01-02")["ds"].max() == pd.Timestamp("2024-01-02")

"""Issue 15: the optional promotions table reaches the weekly run's forecast as a known future regressor."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.forecast.history import promotion_regressors
from workbench.pipeline import Pipeline

H = 28
END = pd.Timestamp("2026-06-30")
PRODUCT_COLS = ("sku,title,brand,category,product_type,brand_registered,unit_cost,price,fee_rate,supplier,moq,"
                "case_pack,is_key_item")


def _promo_days(rng, days: pd.DatetimeIndex) -> np.ndarray:
    """A 3-day promotion starting on a random day of every 3-week block."""
    flag = np.zeros(len(days), dtype=bool)
    for start in range(0, len(days) - 3, 21):
        s = start + rng.integers(0, 18)
        flag[s:s + 3] = True
    return flag


def write_promo_dataset(folder, n_skus: int = 5, n_days: int = 300, seed: int = 3):
    """A small valid dataset where promotions (about 1 day in 7, +150% demand) are recorded in the past
    and planned for the next ``H`` days."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(end=END + pd.Timedelta(days=H), periods=n_days + H, freq="D")
    products, sales, promos = [PRODUCT_COLS], ["date,sku,channel,units,revenue,in_stock"], ["date,sku,discount_pct"]
    for i in range(n_skus):
        sku = f"SKU-{i}"
        products.append(f"{sku},Item {i},Acme,kitchen,standard,false,3.00,10.00,0.15,SUP-A,10,1,false")
        flag = _promo_days(rng, days)
        units = rng.poisson(rng.uniform(4, 12) * np.where(flag, 2.5, 1.0))
        for d, u, f in zip(days, units, flag):
            if d <= END:
                sales.append(f"{d:%Y-%m-%d},{sku},amazon_us,{u},{u * 10:.2f},true")
            if f:
                promos.append(f"{d:%Y-%m-%d},{sku},25")
    files = {"products.csv": products, "sales.csv": sales, "promotions.csv": promos,
             "inventory.csv": ["as_of,sku,location,on_hand,reserved"]
             + [f"{END:%Y-%m-%d},SKU-{i},FBA,500,0" for i in range(n_skus)],
             "shipments.csv": ["shipment_id,sku,supplier,mode,qty,order_date,ship_date,eta,received_date,location",
                               "PO-1,SKU-0,SUP-A,sea,100,2026-01-01,2026-01-05,2026-02-01,2026-02-03,FBA"]}
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def promo_data(tmp_path_factory):
    return write_promo_dataset(tmp_path_factory.mktemp("promo_data"))


def test_planned_promotions_lift_the_weekly_runs_forecast_on_those_days(promo_data):
    ds = load_dataset(promo_data)
    assert len(ds["promotions"]) > 0 and ds.n_rejected == 0
    fc = Pipeline(horizon_days=H).forecast(ds, END)
    assert "promo" in fc.history.columns and "promo_discount" in fc.history.columns
    planned = ds["promotions"].assign(promo=True).rename(columns={"date": "ds", "sku": "unique_id"})
    f = fc.forecast.merge(planned[["unique_id", "ds", "promo"]], on=["unique_id", "ds"], how="left")
    f["promo"] = f["promo"].eq(True)
    assert f["promo"].any() and (~f["promo"]).any()
    # per SKU: mean forecast on its planned promotion days vs its other days of the same horizon
    by = f.groupby(["unique_id", "promo"])["yhat"].mean().unstack()
    lift = by[True] / by[False]
    assert (lift > 1.5).all(), lift


def test_without_a_promotions_table_the_history_is_unchanged_and_no_future_is_passed():
    hist = pd.DataFrame({"unique_id": ["A"] * 3, "ds": pd.date_range("2026-01-01", periods=3), "y": [1.0, 2, 3]})
    same, future = promotion_regressors(hist, None, 5)
    assert future is None and same is hist
    promos = pd.DataFrame({"date": pd.to_datetime(["2026-01-02", "2026-01-05", "2026-01-05"]), "sku": ["A"] * 3,
                           "channel": ["amazon_us", "amazon_us", "walmart"]})
    h, future = promotion_regressors(hist, promos, 5)
    assert h["promo"].tolist() == [0.0, 1.0, 0.0]  # one flag per SKU and day, channels pooled
    assert future["ds"].min() == pd.Timestamp("2026-01-04") and len(future) == 5
    assert future.set_index("ds")["promo"][pd.Timestamp("2026-01-05")] == 1.0
    assert future["promo"].sum() == 1.0


def test_timing_features_of_a_regressor_see_the_planned_days_around_each_date():
    """The global model's promo_prev / _next / _recent / _since are computed over history and planned future together."""
    from workbench.forecast.gbm import with_derived

    days = pd.date_range("2026-01-01", periods=6)
    hist = pd.DataFrame({"unique_id": "A", "ds": days, "y": 1.0, "w": 1.0, "promo": [0, 1, 1, 0, 0, 0.0]})
    fut = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2026-01-07", periods=2), "promo": [1.0, 0.0]})
    h, f = with_derived(hist, fut, ["promo"], "D")
    assert h["promo_prev"].tolist() == [0, 0, 1, 1, 0, 0]
    assert h["promo_next"].tolist() == [1, 1, 0, 0, 0, 1]  # the last history day sees the planned promotion
    assert h["promo_recent"].tolist() == [0, 0, 1, 2, 2, 2]
    assert h["promo_since"].tolist() == [28, 0, 0, 1, 2, 3]
    assert f["promo_since"].tolist() == [0, 1] and f["promo_next"].tolist() == [0, 0]
    assert "y" not in f.columns and len(h) == 6 and len(f) == 2

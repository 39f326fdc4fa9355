"""Stockout risk in the risk table: the snapshot's stock and covers, the restock engine's probability."""
import pandas as pd

from workbench.risk import stockout_risk
from workbench.stock import build_snapshot

AS_OF = pd.Timestamp("2026-05-10")


def snapshot():
    days = pd.date_range(AS_OF - pd.Timedelta(days=59), AS_OF, freq="D")
    sales = pd.DataFrame({"date": days, "sku": "A", "channel": "amazon", "units": 2, "revenue": 20.0})
    inventory = pd.DataFrame({"as_of": [AS_OF] * 2, "sku": ["A", "A"], "location": ["FBA", "SUPPLIER-DROPSHIP"],
                              "on_hand": [45, 300], "reserved": [5, 0]})
    shipments = pd.DataFrame({"shipment_id": ["P1", "P2"], "sku": "A", "supplier": "S", "mode": "sea", "qty": [100, 50],
                              "order_date": pd.to_datetime(["2026-01-01", "2026-05-01"]),
                              "ship_date": pd.NaT, "eta": pd.NaT,
                              "received_date": pd.to_datetime(["2026-01-31", None]), "location": "FBA"})
    products = pd.DataFrame({"sku": ["A", "Z"], "supplier": "S"})
    return build_snapshot({"products": products, "sales": sales, "inventory": inventory, "shipments": shipments}, AS_OF)


def test_stock_and_covers_come_from_the_snapshot_and_the_probability_from_restock():
    snap = snapshot()
    restock = pd.DataFrame({"sku": ["A", "Z"], "stockout_probability": [0.31, 0.0], "lead_time_days": [30.0, 30.0],
                            "main_mode": ["sea", "sea"]})
    s = stockout_risk(snap, restock).set_index("sku")
    a = s.loc["A"]
    # 40 sellable (dropship stock left out) + 50 in transit at 2 a day
    assert (a["available"], a["inbound"], a["ads"]) == (40, 50, 2.0)
    assert (a["cover_days"], a["sellable_cover_days"]) == (45.0, 20.0)
    assert a["stockout_risk"] == 0.31 and a["stockout_source"] == "restock engine (Monte Carlo)"
    assert a["stockout_reason"].startswith("stockout risk 31% (restock engine): 40 sellable + 50 inbound = 45 d cover")
    z = s.loc["Z"]
    assert (z["cover_days"], z["sellable_cover_days"], z["stockout_risk"]) == (0.0, 0.0, 0.0)
    assert "no expected demand" in z["stockout_reason"]


def _rolling_by_frame(sales, skus, dates, window_days):
    """The definition with pandas: a SKU x day frame of units, zero-filled, rolling mean, looked up."""
    import numpy as np

    daily = sales.groupby(["sku", "date"])["units"].sum().unstack("sku")
    days = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
    rolling = daily.reindex(days).fillna(0.0).rolling(window_days, min_periods=1).mean()
    di, si = days.get_indexer(dates), rolling.columns.get_indexer(skus)
    ok = (di >= 0) & (si >= 0)
    out = np.zeros(len(skus))
    out[ok] = rolling.to_numpy()[di[ok], si[ok]]
    return out


def test_rolling_daily_mean_equals_the_frame_definition_without_building_the_frame():
    import numpy as np

    from workbench.risk.stockout import rolling_daily_mean

    rng = np.random.default_rng(4)
    days = pd.date_range("2026-01-01", periods=90)
    sales = pd.DataFrame({"sku": rng.choice([f"S{i}" for i in range(30)], 1500), "date": rng.choice(days, 1500),
                          "units": rng.integers(0, 9, 1500).astype(float)})
    look = pd.DataFrame({"sku": rng.choice([f"S{i}" for i in range(32)], 400),  # S30, S31 never sold
                         "date": rng.choice(pd.date_range("2025-12-20", periods=120), 400)})  # some off the grid
    for w in (1, 7, 28):
        got = rolling_daily_mean(sales, look["sku"], look["date"], w)
        assert np.array_equal(got, _rolling_by_frame(sales, look["sku"], look["date"], w))
    assert rolling_daily_mean(sales.iloc[:0], look["sku"], look["date"], 28).tolist() == [0.0] * len(look)

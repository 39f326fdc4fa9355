"""In-stock days are defined once (workbench.stock.in_stock_flags): the demand history, the phase and
the snapshot's per-channel rows agree."""
from __future__ import annotations

import numpy as np
import pandas as pd
from pricing_ads_dataset import AS_OF, four_sku_tables, load_four_sku_dataset

from workbench.forecast.history import demand_history
from workbench.policies.phase import StockoutPhase
from workbench.stock import build_snapshot, columns_view, in_stock_flags, pair_positions


def test_the_rule_flag_then_sales_then_sellable_inventory():
    rows = pd.DataFrame({
        "sku": "A", "units": [0, 3, 0, 0, 0, 0, 0],
        "date": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05",
                                "2025-01-01", "2026-01-02"]),
        "in_stock": [None, None, "false", "true", None, None, None]})
    inv = pd.DataFrame({"as_of": ["2026-01-01", "2026-01-04", "2026-01-02"], "sku": "A",
                        "location": ["FBA-US-EAST", "FBA-US-EAST", "SUPPLIER-DROPSHIP"],
                        "on_hand": [0, 5, 700], "reserved": [0, 0, 0]})
    got = in_stock_flags(rows, inv).tolist()
    # 0 sellable; sold 3; flag false; flag true; 5 sellable; before any snapshot; dropship stock is not sellable
    assert got == [False, True, False, True, True, True, False]


def test_history_phase_and_snapshot_read_the_same_days(tmp_path):
    """Without sales.in_stock the rule falls back to sales and inventory; the per-SKU history flag is
    'any channel in stock' of the snapshot's per-channel rows, and phase's stockout follows them."""
    t = four_sku_tables()
    sales = t["sales"].drop(columns="in_stock")
    # OOS sold nothing since 2026-03-26, counted 0 that day; GAP-10D counted 0 on 03-01 and kept selling
    inv = pd.concat([t["inventory"], pd.DataFrame({"as_of": ["2026-03-01", "2026-03-26"], "sku": ["GAP-10D", "OOS"],
                                                   "location": "FBA-US-EAST", "on_hand": 0, "reserved": 0})])
    ds = load_four_sku_dataset(tmp_path / "d", sales=sales, inventory=inv)
    snap = build_snapshot(ds, AS_OF)
    rows = snap.sales_in_stock()
    per_sku = rows.groupby(["sku", "date"])["in_stock"].any()
    hist = demand_history(ds, AS_OF).set_index(["unique_id", "ds"])["in_stock"]
    assert (hist.reindex(per_sku.index) == per_sku).all()
    gap = rows[rows["sku"] == "GAP-10D"]
    assert gap["in_stock"].all()  # it sold every day: a 0 in a snapshot does not make a stockout
    oos = rows[(rows["sku"] == "OOS") & (rows["date"] >= "2026-03-26")]
    assert len(oos) == 6 and not oos["in_stock"].any()
    phases = StockoutPhase().recommend(snap).set_index("sku")
    assert phases.loc["OOS", "phase"] == "stockout"
    assert phases.loc["GAP-10D", "phase"] != "stockout"


def test_a_caller_gets_only_the_sales_columns_it_asks_for_with_the_same_flags(tmp_path):
    """sales_in_stock(columns): at 10,000 SKUs the sales table has ~8 M rows; phase, pricing and ads each
    copy only the columns they read, and the in-stock flags are those of the full rows."""
    ds = load_four_sku_dataset(tmp_path / "d")
    snap = build_snapshot(ds, AS_OF)
    full = snap.sales_in_stock()
    some = snap.sales_in_stock(["sku", "date", "no_such_column"])
    assert list(some.columns) == ["date", "sku", "in_stock"]
    assert list(full.columns) == list(ds["sales"].columns)  # the whole table, in its own column order
    pd.testing.assert_series_equal(some["in_stock"], full["in_stock"])
    assert (some.index == full.index).all() and (full["date"] <= AS_OF).all()
    some.loc[some.index[0], "sku"] = "changed"  # a copy: the dataset is not touched
    assert ds["sales"]["sku"].iloc[0] != "changed"


def test_a_reader_can_have_the_rows_without_a_copy(tmp_path):
    """sales_in_stock(copy=False) (phase, pricing and ads only read the rows): the same rows and flags, over
    the dataset's own arrays when every row is on or before as-of (issue 12, item 8: no ~0.4 GB copy)."""
    ds = load_four_sku_dataset(tmp_path / "d")
    snap = build_snapshot(ds, ds["sales"]["date"].max())
    copied, viewed = snap.sales_in_stock(["sku", "date", "units"]), snap.sales_in_stock(["sku", "date", "units"],
                                                                                      copy=False)
    pd.testing.assert_frame_equal(viewed, copied)
    assert np.shares_memory(viewed["units"].to_numpy(), ds["sales"]["units"].to_numpy())
    assert not np.shares_memory(copied["units"].to_numpy(), ds["sales"]["units"].to_numpy())
    early = build_snapshot(ds, pd.Timestamp(AS_OF) - pd.Timedelta(days=10))  # rows after as-of are left out: a copy then
    assert (early.sales_in_stock(["date"], copy=False)["date"] <= early.as_of).all()


def test_rows_are_looked_up_by_their_sku_and_channel():
    rows = pd.DataFrame({"sku": ["A", "B", "A", "C", "B"], "channel": ["x", "x", "y", "x", "y"]})
    pairs = pd.DataFrame({"sku": ["B", "A", "A"], "channel": ["x", "y", "x"]})
    assert pair_positions(rows, pairs).tolist() == [2, 0, 1, -1, -1]
    view = columns_view(rows, ["channel"])
    assert list(view.columns) == ["channel"] and np.shares_memory(view["channel"].to_numpy(), rows["channel"].to_numpy())

"""Round trip at realistic size: the sample dataset's Amazon rows written as Seller Central reports, imported back.

Two years of orders for a few SKUs (two overlapping downloads, cancelled lines mixed in), the daily
Inventory Ledger, a Manage Inventory snapshot, returns, a Sponsored Products report with ``$`` amounts,
the purchase-order sheet and the catalog. The import must give back exactly the units, stockout days,
returns and ad spend it was made from, and `workbench weekly` (real papermill) must run on the result.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from import_reports import write_amazon_reports

from workbench.config import SAMPLE_DATA
from workbench.data.validate import validate_dataset
from workbench.importers import run_import

SKUS = ["SKU-0001", "SKU-0002", "SKU-0004", "SKU-0009"]
RENAME = {"SKU-0009": "00009", "SKU-0004": "SKU 4/b"}  # SKU ids stay text end to end: leading zeros, space, slash
AS_OF = "2026-11-23"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("roundtrip")
    source = write_amazon_reports(SAMPLE_DATA, root / "reports", root / "catalog.csv", SKUS, RENAME)
    run_import("amazon", root / "reports", root / "catalog.csv", root / "data")
    return root, source


def test_the_round_trip_carries_units_stockouts_returns_and_ad_spend_exactly(imported):
    root, src = imported
    assert validate_dataset(root / "data").ok
    sales = pd.read_csv(root / "data" / "sales.csv", dtype={"sku": str})
    assert set(sales["sku"]) == {"SKU-0001", "SKU-0002", "SKU 4/b", "00009"}
    want = src["sales"][["date", "sku", "units"]].merge(sales[["date", "sku", "units"]], on=["date", "sku"],
                                                        how="outer", suffixes=("_sample", "_imported"))
    assert want["units_imported"].notna().all() and want["units_sample"].notna().all()
    assert (want["units_sample"] == want["units_imported"]).all()
    assert sales["revenue"].sum() == pytest.approx(src["sales"]["revenue"].sum(), abs=0.01)
    out_sample = src["sales"].loc[src["sales"]["in_stock"] == False, ["date", "sku"]]  # noqa: E712
    out_imported = sales.loc[sales["in_stock"] == False, ["date", "sku"]]  # noqa: E712
    assert len(out_sample) > 0
    assert sorted(map(tuple, out_imported.values)) == sorted(map(tuple, out_sample.values))
    returns = pd.read_csv(root / "data" / "returns.csv", dtype={"sku": str})
    assert returns.groupby("sku")["units"].sum().to_dict() == src["returns"].groupby("sku")["units"].sum().to_dict()
    ads = pd.read_csv(root / "data" / "ads.csv", dtype={"sku": str})
    assert len(ads) == len(src["ads"])
    assert ads["spend"].sum() == pytest.approx(src["ads"]["spend"].sum(), abs=0.005)
    inv = pd.read_csv(root / "data" / "inventory.csv", dtype={"sku": str})
    snap = inv.loc[inv["as_of"] == inv["as_of"].max()].set_index("sku")[["on_hand", "reserved"]]
    assert snap.sort_index().to_dict("index") == src["inventory"].sort_index().to_dict("index")


@pytest.mark.slow  # ~75 s on the shared 2-core machine: the real weekly notebooks run end to end
def test_weekly_runs_on_an_imported_dataset(imported):
    root, _ = imported
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_OVERRIDES"] = str(root / "overrides.yaml")
    result = subprocess.run([sys.executable, "-m", "workbench", "weekly", "--data", str(root / "data"), "--as-of", AS_OF,
                             "--reports", str(root / "reports-out")], env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    restock = pd.read_csv(root / "reports-out" / AS_OF / "restock.csv", dtype={"sku": str})
    assert set(restock["sku"]) == {RENAME.get(s, s) for s in SKUS} and restock["reason"].notna().all()
    assert list((root / "reports-out" / AS_OF / "outbox").glob("weekly-*.eml"))

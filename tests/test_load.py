"""The loader types every table once and keeps unusable rows, with their reason, instead of dropping them."""
from __future__ import annotations

import pandas as pd
import pytest
from conftest import digest, edit_line

from workbench.data import load_dataset
from workbench.errors import InputError


def test_tables_are_typed_once_at_the_boundary(tiny_dataset):
    ds = load_dataset(tiny_dataset)
    sales = ds["sales"]
    assert pd.api.types.is_datetime64_any_dtype(sales["date"])
    assert sales["units"].dtype == "int64"
    assert sales["in_stock"].tolist() == [True, False, True, True]
    assert ds["products"]["brand_registered"].dtype == bool
    # an empty received_date (in transit) stays missing, not a made-up date
    assert ds["shipments"]["received_date"].isna().tolist() == [False, True]
    assert ds.get("offers") is None and "account_health" in ds
    assert ds.n_rejected == 0


def test_bad_rows_are_rejected_with_reason_and_the_rest_is_used(tiny_dataset, tmp_path):
    edit_line(tiny_dataset / "sales.csv", 4, ",7,", ",seven,")
    before = digest(tiny_dataset)
    ds = load_dataset(tiny_dataset)
    assert len(ds["sales"]) == 3
    assert ds.rejects[["table", "row", "column"]].values.tolist() == [["sales", 4, "units"]]
    assert 'got "seven"' in ds.rejects.loc[0, "reason"]
    assert '"units": "seven"' in ds.rejects.loc[0, "record"]  # the original cells, to fix and resend
    out = ds.write_rejects(tmp_path / "out" / "rejects.csv")
    assert pd.read_csv(out)["reason"].str.contains("seven").all()
    assert digest(tiny_dataset) == before


def test_a_rejected_product_takes_its_sales_with_it_and_says_why(tiny_dataset):
    edit_line(tiny_dataset / "products.csv", 3, ",3.10,", ",-3.10,")
    ds = load_dataset(tiny_dataset)
    assert set(ds["sales"]["sku"]) == {"SKU-1"}
    why = ds.rejects.groupby("table")["reason"].first()
    assert "expected a number >= 0" in why["products"]
    assert why["sales"] == "SKU SKU-2 was rejected in products"
    assert ds.rejects_summary() == "rejected 1 inventory row(s), 1 products row(s), 2 sales row(s)"


def test_structural_problems_stop_the_load_with_every_problem_listed(tiny_dataset):
    df = pd.read_csv(tiny_dataset / "sales.csv", dtype=str)
    df.drop(columns="units").to_csv(tiny_dataset / "sales.csv", index=False)
    (tiny_dataset / "inventory.csv").unlink()
    with pytest.raises(InputError) as e:
        load_dataset(tiny_dataset)
    text = str(e.value)
    assert "sales.csv:1:units: required column is missing" in text
    assert "inventory.csv:-:-: required table inventory is missing" in text


def test_large_tables_keep_whole_numbers_in_32_bits_with_the_same_values(tiny_dataset, monkeypatch):
    """At 10,000 SKUs the sales, ads and offers tables hold millions of rows: their whole-number columns are
    stored in 32 bits when the values fit (the values do not change); products are never compacted."""
    import workbench.data.load as load

    wide = load_dataset(tiny_dataset)
    monkeypatch.setattr(load, "COMPACT_MIN_ROWS", 0)
    small = load_dataset(tiny_dataset)
    assert small["sales"]["units"].dtype == "int32" and wide["sales"]["units"].dtype == "int64"
    assert (small["sales"]["units"].to_numpy() == wide["sales"]["units"].to_numpy()).all()
    assert small["products"]["moq"].dtype == "int64"
    assert small["sales"]["units"].sum() == wide["sales"]["units"].sum()

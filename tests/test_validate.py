"""Every validation rule, on a tiny dataset whose lines are known: file, row and column are exact."""
from __future__ import annotations

import pandas as pd
import pytest
from conftest import digest, edit_line

from workbench.cli import main
from workbench.data.validate import validate_dataset


def problems(folder):
    return validate_dataset(folder).lines()


def test_the_tiny_dataset_is_valid(tiny_dataset, capsys):
    assert main(["validate", str(tiny_dataset)]) == 0
    assert "valid" in capsys.readouterr().err


@pytest.mark.parametrize(
    "file, line, old, new, where, says",
    [
        ("sales.csv", 3, ",0,0,false", ",abc,0,false", "sales.csv:3:units", 'expected a whole number >= 0, got "abc"'),
        ("sales.csv", 2, ",4,", ",2.5,", "sales.csv:2:units", "expected a whole number, got 2.5"),
        ("inventory.csv", 3, ",120,", ",-5,", "inventory.csv:3:on_hand", "expected a number >= 0, got -5"),
        ("sales.csv", 4, "2026-01-01", "2024-13-45", "sales.csv:4:date", 'expected an ISO date YYYY-MM-DD, got "2024-13-45"'),
        ("sales.csv", 4, "2026-01-01", "01/02/2026", "sales.csv:4:date", 'got "01/02/2026"'),
        ("sales.csv", 5, "SKU-2", "SKU-99", "sales.csv:5:sku", 'unknown SKU "SKU-99" (not in products.csv)'),
        ("shipments.csv", 2, "2025-12-14", "2025-10-20", "shipments.csv:2:received_date",
         "2025-10-20 is before order_date 2025-11-01"),
        ("products.csv", 3, ",0.15,SUP-B", ",1.15,SUP-B", "products.csv:3:fee_rate", "expected a rate in [0, 1], got 1.15"),
        ("account_health.csv", 2, ",0.004,", ",-0.1,", "account_health.csv:2:odr", "expected a number >= 0, got -0.1"),
        ("shipments.csv", 3, ",air,", ",boat,", "shipments.csv:3:mode", 'expected one of sea, air, rail, truck, express, got "boat"'),
        ("products.csv", 2, "private_label", "generic", "products.csv:2:product_type", "expected one of standard, private_label"),
        ("products.csv", 2, ",true,6.50", ",maybe,6.50", "products.csv:2:brand_registered", 'expected true or false, got "maybe"'),
        ("sales.csv", 5, "2026-01-02,SKU-2", "2026-01-01,SKU-2", "sales.csv:5:date,sku,channel",
         "duplicate key (date, sku, channel) = (2026-01-01, SKU-2, amazon_us) first seen on row 4"),
        ("inventory.csv", 2, "FBA-US-EAST", "", "inventory.csv:2:location", "expected a value, got an empty cell"),
    ],
)
def test_a_bad_cell_is_named_by_file_row_and_column(tiny_dataset, capsys, file, line, old, new, where, says):
    edit_line(tiny_dataset / file, line, old, new)
    before = digest(tiny_dataset)
    assert main(["validate", str(tiny_dataset)]) == 2
    out = capsys.readouterr().out.splitlines()
    hits = [o for o in out if o.startswith(str(tiny_dataset / where) + ":")]
    assert hits, out
    assert says in hits[0]
    assert digest(tiny_dataset) == before, "validate must never modify its input"


def test_a_missing_required_column_is_reported_on_the_header(tiny_dataset, capsys):
    sales = tiny_dataset / "sales.csv"
    df = pd.read_csv(sales, dtype=str, keep_default_na=False)
    df.drop(columns="sku").to_csv(sales, index=False)
    assert main(["validate", str(tiny_dataset)]) == 2
    out = capsys.readouterr().out
    assert f"{sales}:1:sku: required column is missing" in out


def test_a_missing_required_table_is_reported(tiny_dataset, capsys):
    (tiny_dataset / "shipments.csv").unlink()
    assert main(["validate", str(tiny_dataset)]) == 2
    assert "shipments.csv:-:-: required table shipments is missing" in capsys.readouterr().out


def test_optional_tables_are_optional_but_checked_when_present(tiny_dataset):
    (tiny_dataset / "account_health.csv").unlink()
    assert problems(tiny_dataset) == []
    (tiny_dataset / "offers.csv").write_text(
        "date,sku,channel,seller_count,buybox_winner,buybox_price,lowest_competitor_price,market_median_price\n"
        "2026-01-02,SKU-1,amazon_us,3,thief,24.99,23.50,24.00\n")
    assert problems(tiny_dataset) == [
        f"{tiny_dataset / 'offers.csv'}:2:buybox_winner: expected one of self, other, none, got \"thief\""]


def test_parquet_tables_are_checked_like_csv(tiny_dataset):
    inv = pd.read_csv(tiny_dataset / "inventory.csv")
    inv.loc[1, "on_hand"] = -3
    (tiny_dataset / "inventory.csv").unlink()
    inv.to_parquet(tiny_dataset / "inventory.parquet", index=False)
    # Parquet rows are 1-based record numbers (there is no header line)
    assert problems(tiny_dataset) == [f"{tiny_dataset / 'inventory.parquet'}:2:on_hand: expected a number >= 0, got -3"]


def test_many_bad_rows_are_listed_up_to_a_limit_and_counted(tiny_dataset):
    lines = ["date,sku,channel,units,revenue"] + [f"2025-01-{d:02d},SKU-1,amazon_us,x,0" for d in range(1, 31)]
    (tiny_dataset / "sales.csv").write_text("\n".join(lines) + "\n")
    report = validate_dataset(tiny_dataset, max_per_column=5)
    assert report.problem_count == 30
    assert report.lines()[-1].endswith("... and 25 more rows with this problem")


def test_a_directory_that_does_not_exist_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_the_optional_promotions_table_is_checked_at_the_boundary(tiny_dataset):
    """Issue 15: promotions.csv (date, sku, optional channel and discount_pct) is optional and checked like the rest."""
    promo = tiny_dataset / "promotions.csv"
    promo.write_text("date,sku\n2026-01-05,SKU-1\n2026-01-06,SKU-1\n")
    assert problems(tiny_dataset) == []  # no channel, no depth: a plain promotion flag per SKU and day
    promo.write_text("date,sku,channel,discount_pct\n"
                     "2026-01-05,SKU-1,,20\n"
                     "2026-01-06,SKU-1,amazon_us,120\n"
                     "2026-13-01,SKU-1,,10\n"
                     "2026-01-07,SKU-99,,10\n"
                     "2026-01-05,SKU-2,amazon_us,ten\n"
                     "2026-01-06,SKU-1,amazon_us,15\n")
    where = str(promo)
    assert sorted(problems(tiny_dataset)) == sorted([
        f"{where}:3:discount_pct: expected a number <= 100, got 120",
        f"{where}:4:date: expected an ISO date YYYY-MM-DD, got \"2026-13-01\"",
        f"{where}:5:sku: unknown SKU \"SKU-99\" (not in products.csv)",
        f"{where}:6:discount_pct: expected a number >= 0, got \"ten\"",
        f"{where}:7:date,sku,channel: duplicate key (date, sku, channel) = (2026-01-06, SKU-1, amazon_us) "
        "first seen on row 3",
    ])

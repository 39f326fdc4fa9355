"""`workbench import`: marketplace reports as downloaded -> a dataset that validates, numbers carried over exactly.

The fixtures in tests/fixtures/import/ are written from the documented report headers with the quirks
real downloads have: a byte-order mark and Windows line ends, overlapping downloads, cancelled and
pending lines, a Non-Amazon (multi-channel) order, ``$`` amounts and ``%`` shares, MM/DD/YYYY and
"Nov 04, 2026" dates, order times in UTC that fall on the previous Pacific day, a SKU with leading zeros
and one with a space and a slash, an unknown report. Every expected number below is worked out by hand
from those files.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import digest

from workbench.cli import main
from workbench.data.validate import validate_dataset
from workbench.importers.formats import BY_NAME, norm, recognise
from workbench.importers.parse import days, money, share

FIX = Path(__file__).parent / "fixtures" / "import"
AMAZON, SHOPIFY = FIX / "amazon", FIX / "shopify"


def _import(source: str, fixture: Path, out: Path, *extra: str) -> int:
    return main(["import", source, "--reports", str(fixture / "reports"), "--catalog", str(fixture / "catalog.csv"),
                 "--out", str(out), *extra])


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture
def amazon_out(tmp_path) -> Path:
    out = tmp_path / "dataset"
    assert _import("amazon", AMAZON, out) == 0
    return out


def _units(sales: pd.DataFrame, sku: str) -> dict[str, int]:
    s = sales.loc[sales["sku"] == sku]
    return {d: int(u) for d, u in zip(s["date"], s["units"]) if int(u)}


def test_amazon_reports_import_into_a_dataset_that_validates(amazon_out):
    report = validate_dataset(amazon_out)
    assert report.ok, report.lines()
    products = _read(amazon_out, "products")
    assert products["sku"].tolist() == ["00123", "KB 10/Blue", "SKU-2"]  # SKU ids stay strings, as written
    # the blank catalog title is filled from the reports; "$4.10", "15%", "1,000", "yes" are read
    row = products.set_index("sku").loc["00123"]
    assert (row["title"], row["unit_cost"], row["fee_rate"], row["moq"], row["is_key_item"]) == \
        ("Acme Bamboo Cutting Board, Large", "4.1", "0.15", "1000", "true")


def test_sales_count_each_order_once_leave_out_cancelled_and_count_pending(amazon_out):
    sales = _read(amazon_out, "sales")
    assert set(sales["channel"]) == {"amazon_us"}
    # 11-07 is a pending line (no price: catalog price); 11-09 is 2026-11-10T01:00Z, i.e. 17:00 Pacific on 11-09.
    # Left out: the cancelled order (11-03), the order pending in the first download and cancelled in the second
    # (11-06, 4 units), the Non-Amazon order (5 units), the cancelled line of order 11.
    assert _units(sales, "00123") == {"2026-11-01": 2, "2026-11-04": 1, "2026-11-07": 1, "2026-11-09": 1}
    # order 5: pending in the first download, shipped in the second: counted once, with the second's price.
    # order 2 is 2026-11-03T05:30Z = 11-02 Pacific.
    assert _units(sales, "KB 10/Blue") == {"2026-11-02": 1, "2026-11-05": 2}
    # order 6 is in both downloads (counted once) and is 07:59Z = 23:59 Pacific on 11-05; "two" units is rejected
    assert _units(sales, "SKU-2") == {"2026-11-04": 3, "2026-11-05": 1, "2026-11-09": 2, "2026-11-10": 1}
    revenue = sales.assign(r=sales["revenue"].astype(float)).groupby("sku")["r"].sum().round(2).to_dict()
    assert revenue == {"00123": 64.95, "KB 10/Blue": 59.97, "SKU-2": 70.0}
    # a zero row on every covered day from the SKU's first day: 10 + 9 + 10 days
    assert len(sales) == 29 and sales["date"].max() == "2026-11-10"


def test_ledger_stock_and_stockout_days_reach_sales_in_stock(amazon_out):
    sales = _read(amazon_out, "sales")
    out_days = sales.loc[sales["in_stock"] == "false"]
    assert list(zip(out_days["date"], out_days["sku"])) == [
        ("2026-11-06", "SKU-2"), ("2026-11-07", "SKU-2"), ("2026-11-08", "SKU-2")]  # damaged units are not stock
    assert (sales.loc[sales["in_stock"] != "false", "in_stock"] == "true").all()
    inv = _read(amazon_out, "inventory")
    assert set(inv["location"]) == {"FBA-US"} and "OLD-1" not in set(inv["sku"])  # not in the catalog: rejected
    sku2 = inv.loc[inv["sku"] == "SKU-2"].set_index("as_of")["on_hand"].astype(int)
    assert sku2.tolist() == [20, 20, 20, 17, 16, 0, 0, 0, 14, 12]
    # the Manage Inventory snapshot (day of the last order) wins over the ledger: on_hand = fulfillable + reserved
    snap = inv.loc[inv["as_of"] == "2026-11-10"].set_index("sku")[["on_hand", "reserved"]].astype(int)
    assert snap.to_dict("index") == {"00123": {"on_hand": 45, "reserved": 5}, "KB 10/Blue": {"on_hand": 8, "reserved": 1},
                                     "SKU-2": {"on_hand": 12, "reserved": 0}}


def test_inbound_purchase_orders_returns_ads_and_sessions(amazon_out):
    ships = _read(amazon_out, "shipments").set_index("shipment_id")
    # inbound units of 00123 (100 shipped + 20 receiving) become an in-transit line; KB 10/Blue's inbound is
    # already the open purchase order PO-2; PO-3 ("boat") is rejected
    assert ships.index.tolist() == ["FBA-INBOUND-20261110", "PO-1", "PO-2"]
    assert ships.loc["FBA-INBOUND-20261110", ["sku", "qty", "received_date"]].tolist() == ["00123", "120", ""]
    assert ships.loc["PO-1", ["order_date", "received_date", "freight_cost"]].tolist() == ["2026-09-01", "2026-10-12", "850"]
    returns = _read(amazon_out, "returns")
    assert returns[["date", "sku", "units", "reason"]].values.tolist() == [
        ["2026-11-06", "00123", "1", "DEFECTIVE"], ["2026-11-07", "SKU-2", "1", "UNWANTED_ITEM"]]
    ads = _read(amazon_out, "ads")
    assert ads[["date", "sku", "impressions", "clicks", "spend", "ad_orders", "ad_sales"]].values.tolist() == [
        ["2026-11-04", "00123", "1500", "12", "14", "2", "25.98"],  # two ad groups added
        ["2026-11-05", "00123", "800", "5", "6.5", "1", "12.99"],
        ["2026-11-05", "SKU-2", "500", "3", "3", "0", "0"]]
    assert set(ads["ad_type"]) == {"SP"} and set(ads["daily_budget"]) == {"14"}  # highest daily spend, said so
    assert set(ads["daily_budget_source"]) == {"highest daily spend in the imported reports"}
    sales = _read(amazon_out, "sales").set_index(["date", "sku"])
    assert sales.loc[("2026-11-05", "00123"), ["sessions", "buybox_share"]].tolist() == ["1150", "0.955"]
    assert sales.loc[("2026-11-05", "SKU-2"), ["sessions", "buybox_share"]].tolist() == ["80", "1"]


def test_unusable_rows_and_unknown_files_are_listed_with_file_line_and_reason(amazon_out):
    rej = _read(amazon_out, "rejects")
    assert list(rej.columns) == ["file", "line", "column", "reason"]
    got = {(f, int(line)): reason for f, line, reason in zip(rej["file"], rej["line"], rej["reason"])}
    orders_a = "All Orders 2026-11-01 to 2026-11-06.txt"
    assert got[(orders_a, 4)] == "cancelled order line: left out of sales"
    assert "Non-Amazon" in got[(orders_a, 9)]
    assert "newer download" in got[(orders_a, 7)]
    assert got[("orders_download_2.txt", 10)] == 'quantity: expected a whole number of units, got "two"'
    assert got[("purchase_orders.csv", 4)].startswith("mode: expected one of")
    assert got[("returns_nov.txt", 4)].startswith("quantity: expected")
    assert got[("ledger.csv", 32)].startswith("SKU not in the catalog")
    assert "closest: FBA customer returns" in got[("reimbursements.txt", 1)]
    assert len(rej) == 13


def test_inputs_are_never_modified_and_a_second_import_changes_nothing(tmp_path):
    before = digest(FIX)
    out = tmp_path / "dataset"
    assert _import("amazon", AMAZON, out) == 0
    first = digest(out)
    assert _import("amazon", AMAZON, out) == 0
    assert digest(out) == first
    assert digest(FIX) == before


def test_a_newer_download_replaces_the_days_it_covers_and_adds_new_ones(tmp_path, amazon_out):
    header = (AMAZON / "reports" / "orders_download_2.txt").read_text().splitlines()[0]
    cols = header.split("\t")

    def line(oid, when, sku, qty, price):
        r = dict.fromkeys(cols, "")
        r.update({"amazon-order-id": oid, "purchase-date": when, "last-updated-date": when, "order-status": "Shipped",
                  "sales-channel": "Amazon.com", "sku": sku, "item-status": "Shipped", "quantity": qty,
                  "item-price": price})
        return "\t".join(r[c] for c in cols)

    newer = tmp_path / "newer"
    (newer / "reports").mkdir(parents=True)
    shutil.copy(AMAZON / "catalog.csv", newer / "catalog.csv")
    (newer / "reports" / "orders-3.txt").write_text("\n".join([
        header, line("111-0000001-0000010", "2026-11-09T18:00:00+00:00", "SKU-2", "5", "50.00"),
        line("111-0000001-0000012", "2026-11-10T20:00:00+00:00", "SKU-2", "1", "10.00"),
        line("111-0000001-0000020", "2026-11-12T18:00:00+00:00", "00123", "1", "12.99")]) + "\n")
    before = _read(amazon_out, "sales")
    assert _import("amazon", newer, amazon_out) == 0
    after = _read(amazon_out, "sales")
    old_days = before.loc[before["date"] < "2026-11-09"].reset_index(drop=True)
    kept = after.loc[after["date"] < "2026-11-09"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, old_days)  # days outside the new download are untouched
    assert _units(after, "SKU-2")["2026-11-09"] == 5  # replaced
    assert _units(after, "00123")["2026-11-12"] == 1 and "2026-11-11" in set(after["date"])  # added
    assert validate_dataset(amazon_out).ok


def test_shopify_orders_and_inventory_merge_beside_amazon(tmp_path, amazon_out):
    before = _read(amazon_out, "sales")
    assert _import("shopify", SHOPIFY, amazon_out) == 0
    sales = _read(amazon_out, "sales")
    pd.testing.assert_frame_equal(sales.loc[sales["channel"] == "amazon_us", before.columns].reset_index(drop=True),
                                  before)
    shop = sales.loc[sales["channel"] == "shopify"]
    # #1001 has two lines (the second leaves the order cells empty); #1002 is pending in one export, paid in the
    # other (once); #1003 cancelled, #1004 voided, #1005's line has no SKU: left out
    assert _units(shop, "00123") == {"2026-11-02": 3} and _units(shop, "SKU-2") == {"2026-11-02": 1, "2026-11-06": 2}
    assert round(shop["revenue"].astype(float).sum(), 2) == 77.97
    inv = _read(amazon_out, "inventory")
    main_wh = inv.loc[inv["location"] == "Main Warehouse"].set_index("sku")[["as_of", "on_hand", "reserved"]]
    assert main_wh.to_dict("index") == {"00123": {"as_of": "2026-11-06", "on_hand": "33", "reserved": "3"},
                                        "SKU-2": {"as_of": "2026-11-06", "on_hand": "10", "reserved": "1"}}
    assert "Retail Store" not in set(inv["location"])  # "not stocked": in the rejects
    assert validate_dataset(amazon_out).ok


def test_the_catalog_may_sit_in_the_reports_folder(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(AMAZON / "reports", case)
    shutil.copy(AMAZON / "catalog.csv", case / "catalog.csv")
    out = tmp_path / "out"
    assert main(["import", "amazon", "--reports", str(case), "--catalog", str(case / "catalog.csv"), "--out", str(out)]) == 0
    assert "catalog.csv" not in set(_read(out, "rejects")["file"])


def test_a_sold_sku_missing_from_the_catalog_is_an_error_naming_it(tmp_path, capsys):
    case = tmp_path / "case"
    shutil.copytree(AMAZON, case)
    lines = (case / "catalog.csv").read_text().splitlines()
    (case / "catalog.csv").write_text("\n".join(l for l in lines if not l.startswith("KB 10/Blue")) + "\n")
    assert _import("amazon", case, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "1 SKU(s) sold in the reports have no catalog row: KB 10/Blue" in err and "--catalog-template" in err
    assert not (tmp_path / "out" / "sales.csv").exists()


def test_a_bad_catalog_value_is_reported_by_file_line_and_column(tmp_path, capsys):
    case = tmp_path / "case"
    shutil.copytree(AMAZON, case)
    text = (case / "catalog.csv").read_text().replace("Beta Co,200,25,no", "Beta Co,200,0,no")
    (case / "catalog.csv").write_text(text)
    assert _import("amazon", case, tmp_path / "out") == 2
    assert f"{case / 'catalog.csv'}:4:case_pack: expected a number >= 1, got 0" in capsys.readouterr().err


def test_catalog_template_is_prefilled_from_the_reports(tmp_path):
    template = tmp_path / "catalog_template.csv"
    assert main(["import", "amazon", "--reports", str(AMAZON / "reports"), "--catalog-template", str(template)]) == 0
    t = pd.read_csv(template, dtype=str, keep_default_na=False).set_index("sku")
    assert t.index.tolist() == ["00123", "KB 10/Blue", "OLD-1", "SKU-2"]
    assert t.loc["00123", "title"] == "Acme Bamboo Cutting Board, Large" and t.loc["00123", "price"] == "12.99"
    assert t.loc["SKU-2", "fee_rate"] == "0.15" and t.loc["SKU-2", "unit_cost"] == ""  # the seller fills the rest


def test_headers_are_matched_ignoring_case_spaces_and_punctuation():
    assert norm("7 Day Total Orders (#)") == "7daytotalorders"
    api = ["Date", "FNSKU", "ASIN", "MSKU", "Title", "Disposition", "StartingWarehouseBalance", "EndingWarehouseBalance"]
    shown = ["date", "fnsku", "asin", "msku", "title", "disposition", "Starting Warehouse Balance", "ENDING WAREHOUSE BALANCE"]
    assert recognise(api) is BY_NAME["amazon_ledger_summary"] and recognise(shown) is BY_NAME["amazon_ledger_summary"]
    assert recognise(list(BY_NAME["amazon_sd_advertised_product"].documented)).name == "amazon_sd_advertised_product"
    assert recognise(list(BY_NAME["amazon_sp_advertised_product"].documented)).name == "amazon_sp_advertised_product"
    for fmt in BY_NAME.values():
        assert recognise(list(fmt.documented)) is fmt, fmt.name


def test_report_cells_dates_money_and_shares():
    cells = pd.Series(["2026-11-03T05:30:00+00:00", "2026-11-02 23:30:00 -0500", "11/04/2026", "Nov 04, 2026",
                       "2026-11-05", "10/2026", "soon"])
    d, monthly = days(cells, "America/Los_Angeles")
    assert d.dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "2026-11-02", "2026-11-02", "2026-11-04", "2026-11-04", "2026-11-05", "2026-10-31", ""]
    assert monthly.tolist() == [False, False, False, False, False, True, False]
    assert money(pd.Series(["$1,234.50", "USD 12.34", "(3.00)", "12,34", "", "n/a"])).fillna(-1).tolist() == \
        [1234.5, 12.34, -3.0, 12.34, -1, -1]
    assert share(pd.Series(["20.00%", "95.5%"])).round(4).tolist() == [0.2, 0.955]


def test_monthly_ledger_undated_business_report_spreadsheets_and_other_sources(tmp_path):
    case = tmp_path / "case"
    (case / "reports").mkdir(parents=True)
    shutil.copy(AMAZON / "catalog.csv", case / "catalog.csv")
    for name in ("orders_download_2.txt", "purchase_orders.csv"):
        shutil.copy(AMAZON / "reports" / name, case / "reports" / name)
    (case / "reports" / "ledger-monthly.csv").write_text(
        "Date,FNSKU,ASIN,MSKU,Title,Disposition,Starting Warehouse Balance,Ending Warehouse Balance,Location\n"
        "10/2026,X0,B0,00123,Board,SELLABLE,60,51,US\n"
        "10/2026,X0,B0,00123,Board,SELLABLE,0,7,CA\n")
    (case / "reports" / "BusinessReport.csv").write_text(
        (AMAZON / "reports" / "BusinessReport-2026-11-05.csv").read_text())
    (case / "reports" / "ads.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    shutil.copy(SHOPIFY / "reports" / "inventory_export_1.csv", case / "reports" / "shopify_inventory.csv")
    out = tmp_path / "out"
    assert _import("amazon", case, out) == 0
    inv = _read(out, "inventory")
    month_end = inv.loc[inv["as_of"] == "2026-10-31"]
    assert month_end[["sku", "location", "on_hand"]].values.tolist() == [["00123", "FBA-US", "51"]]  # CA row not added
    sales = _read(out, "sales")
    assert (sales.loc[sales["date"] == "2026-10-31"].empty and (sales["in_stock"] == "").all()
            and "sessions" not in sales.columns)  # monthly stock gives no daily flags; undated sessions rejected
    rej = _read(out, "rejects")
    reasons = dict(zip(rej["file"], rej["reason"]))
    assert reasons["BusinessReport.csv"].startswith("the Business Report has no date column")
    assert reasons["ads.xlsx"].startswith("spreadsheet file: open it and save it as CSV")
    assert reasons["shopify_inventory.csv"] == "a shopify report (Shopify inventory export), not amazon"
    assert reasons["ledger-monthly.csv"].startswith("stock in another country's network, not US")


def test_no_purchase_orders_and_no_shipments_table_is_a_clear_error(tmp_path, capsys):
    case = tmp_path / "case"
    shutil.copytree(AMAZON, case)
    (case / "reports" / "purchase_orders.csv").unlink()
    (case / "reports" / "Manage_FBA_Inventory.txt").unlink()
    assert _import("amazon", case, tmp_path / "out") == 2
    assert "no purchase orders found" in capsys.readouterr().err


def test_lines_of_another_north_american_marketplace_get_their_own_channel(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(AMAZON, case)
    orders = case / "reports" / "orders_download_2.txt"
    lines = orders.read_text().splitlines()
    assert "111-0000001-0000012" in lines[8]
    lines[8] = lines[8].replace("Amazon.com", "Amazon.ca")
    orders.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert _import("amazon", case, out) == 0
    sales = _read(out, "sales")
    ca = sales.loc[sales["channel"] == "amazon_ca"]
    assert ca[["date", "sku", "units", "revenue"]].values.tolist() == [["2026-11-10", "SKU-2", "1", "10"]]
    assert _units(sales.loc[sales["channel"] == "amazon_us"], "SKU-2") == {"2026-11-04": 3, "2026-11-05": 1,
                                                                          "2026-11-09": 2}

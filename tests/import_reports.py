"""Write Amazon report files (as Seller Central downloads them) from a dataset: the round trip behind the import tests.

The sample dataset's Amazon rows for a few SKUs are turned into two overlapping All Orders downloads
(with cancelled lines added), a daily Inventory Ledger (sellable ending balance 0 on out-of-stock days),
a Manage Inventory snapshot, customer returns, a Sponsored Products report with ``$`` amounts, the
seller's purchase-order sheet and catalog. Importing them must give back the same units, stockout
days, returns and ad spend.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

ORDER_HEADER = ["amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
                "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku",
                "asin", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price"]


def _tsv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


def _orders(sales: pd.DataFrame, reports: Path) -> None:
    sold = sales.loc[sales["units"] > 0].reset_index(drop=True)
    rows = []
    for i, r in sold.iterrows():
        rows.append([f"114-{i:07d}-0000001", "", f"{r.date}T18:00:00+00:00", f"{r.date}T23:00:00+00:00", "Shipped",
                     "Amazon", "Amazon.com", "", "Standard", "", r.sku, "B0X", "Shipped", int(r.units), "USD",
                     f"{r.revenue:.2f}", "0.00", "0.00"])
        if i % 37 == 0:  # a cancelled order the same day: must not count
            rows.append([f"114-{i:07d}-0000002", "", f"{r.date}T19:00:00+00:00", f"{r.date}T20:00:00+00:00",
                         "Cancelled", "Amazon", "Amazon.com", "", "Standard", "", r.sku, "B0X", "Cancelled", 3, "", "",
                         "", ""])
    days = sorted(sold["date"].unique())
    cut = days[len(days) // 2]
    early = [r for r in rows if r[2][:10] <= cut]
    late = [r for r in rows if r[2][:10] >= days[len(days) // 2 - 10]]  # overlaps the first download by ten days
    _tsv(reports / "orders-1.txt", ORDER_HEADER, early)
    _tsv(reports / "orders-2.txt", ORDER_HEADER, late)


def _ledger(sales: pd.DataFrame, reports: Path) -> None:
    header = ["Date", "FNSKU", "ASIN", "MSKU", "Title", "Disposition", "Starting Warehouse Balance", "Receipts",
              "Customer Shipments", "Ending Warehouse Balance", "Location"]
    rows = []
    for r in sales.itertuples():
        y, m, d = r.date.split("-")
        end = 0 if r.in_stock is False else 40 + int(d)
        rows.append([f"{m}/{d}/{y}", "X0", "B0X", r.sku, "", "SELLABLE", end, 0, r.units, end, "US"])
    _tsv(reports / "ledger-daily.txt", header, rows)


def write_amazon_reports(sample: Path, reports: Path, catalog: Path, skus: list[str],
                         rename: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Write the report files for ``skus`` (renamed by ``rename``: e.g. to ``00009``); return the rows used."""
    reports.mkdir(parents=True, exist_ok=True)
    rename = rename or {}
    skus = [rename.get(s, s) for s in skus]

    def read(name: str, **kw) -> pd.DataFrame:
        frame = pd.read_csv(sample / name, **kw)
        return frame.assign(sku=frame["sku"].replace(rename))

    sales = read("sales.csv", dtype={"sku": str})
    sales = sales.loc[(sales["channel"] == "amazon_us") & sales["sku"].isin(skus)].reset_index(drop=True)
    sales["in_stock"] = sales["in_stock"].map({True: True, False: False, "true": True, "false": False})
    _orders(sales, reports)
    _ledger(sales, reports)
    inv = read("inventory.csv", dtype={"sku": str})
    inv = inv.loc[inv["sku"].isin(skus) & inv["location"].str.startswith("FBA")]
    last = inv.loc[inv["as_of"] == inv["as_of"].max()].groupby("sku")[["on_hand", "reserved"]].sum()
    _tsv(reports / "myi.txt", ["sku", "fnsku", "asin", "product-name", "condition", "your-price",
                               "afn-fulfillable-quantity", "afn-reserved-quantity", "afn-inbound-working-quantity",
                               "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity"],
         [[s, "X0", "B0X", "", "New", "", int(r.on_hand - r.reserved), int(r.reserved), 0, 0, 0]
          for s, r in last.iterrows()])
    ret = read("returns.csv", dtype={"sku": str})
    ret = ret.loc[(ret["channel"] == "amazon_us") & ret["sku"].isin(skus)].reset_index(drop=True)
    _tsv(reports / "returns.txt", ["return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity",
                                   "fulfillment-center-id", "detailed-disposition", "reason", "status",
                                   "license-plate-number"],
         [[f"{r.date}T20:00:00+00:00", "", r.sku, "B0X", "X0", "", r.units, "ONT8", "SELLABLE", r.reason, "", f"LPN{i}"]
          for i, r in ret.iterrows()])
    ads = read("ads.csv", dtype={"sku": str})
    ads = ads.loc[(ads["ad_type"] == "SP") & ads["sku"].isin(skus)].reset_index(drop=True)
    with open(reports / "sp_advertised_product.csv", "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Date", "Campaign Name", "Ad Group Name", "Advertised SKU", "Impressions", "Clicks", "Spend",
                    "7 Day Total Sales", "Total Advertising Cost of Sales (ACOS)", "7 Day Total Orders (#)"])
        for r in ads.itertuples():
            day = pd.Timestamp(r.date).strftime("%b %d, %Y")
            acos = f"{100 * r.spend / r.ad_sales:.2f}%" if r.ad_sales else ""
            w.writerow([day, r.campaign, "ag", r.sku, f"{r.impressions:,}", r.clicks, f"${r.spend:,.2f}",
                        f"${r.ad_sales:,.2f}", acos, r.ad_orders])
    ships = read("shipments.csv", dtype=str, keep_default_na=False)
    ships = ships.loc[ships["sku"].isin(skus)]
    ships = ships.assign(location=ships["location"].str.replace(r"^FBA-US-\w+$", "FBA-US", regex=True))
    ships.to_csv(reports / "purchase_orders.csv", index=False)
    products = read("products.csv", dtype=str, keep_default_na=False)
    products.loc[products["sku"].isin(skus)].to_csv(catalog, index=False)
    return {"sales": sales, "returns": ret, "ads": ads, "inventory": last}

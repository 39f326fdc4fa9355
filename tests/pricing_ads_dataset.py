"""The hand-made four-SKU stockout-cycle dataset (issue 6), as CSVs that follow the dataset contract.

As of 2026-03-31, channel amazon_us, category kitchen:

=========  ==================================================================================
GAP-10D    10/day, 40 available → cover 4.0 d; PO-118 (sea) arrives 2026-04-14 (14 d): 10-day gap
OOS        8/day until 2026-03-25, out of stock since 2026-03-26; PO-205 (air) due 2026-04-06
RESTOCKED  12/day until 2026-03-13, out of stock 2026-03-14 .. 2026-03-28 (15 days), back on
           2026-03-29 selling 4–5/day; keyword ranks 4 / 9 before, 18 / 30 now
HEALTHY    10/day, 900 available (90 d of cover), PO-160 (sea) due 2026-05-20
=========  ==================================================================================

Every SKU has five campaigns: SP exact (core), SP auto, SP broad (ACoS ≈ 70 %: poor), SB brand,
SD retargeting, 60 days of history. Use :func:`write_four_sku_dataset` from any test (CLI tests too).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = "2026-03-31"
CHANNEL = "amazon_us"
START = pd.Timestamp("2025-12-02")
END = pd.Timestamp(AS_OF)

PRODUCTS = pd.DataFrame({
    "sku": ["GAP-10D", "OOS", "RESTOCKED", "HEALTHY"],
    "title": ["Chef knife", "Cutting board", "Knife block", "Peeler"],
    "brand": "Acme",
    "category": "kitchen",
    "product_type": "private_label",
    "brand_registered": True,
    "unit_cost": [7.00, 5.00, 8.00, 4.00],
    "price": [24.99, 19.99, 29.99, 14.99],
    "fee_rate": 0.15,
    "supplier": "SUP-A",
    "moq": 100,
    "case_pack": 10,
    "is_key_item": [True, False, True, False],
})

# (sku, campaign, ad_type, targeting, daily budget, ACoS of the campaign)
CAMPAIGNS = [
    ("SP exact core", "SP", "exact", 30.0, 0.20),
    ("SP auto", "SP", "auto", 20.0, 0.30),
    ("SP broad", "SP", "broad", 15.0, 0.70),
    ("SB brand", "SB", "brand", 10.0, 0.35),
    ("SD retargeting", "SD", "product", 10.0, 0.40),
]


def _sales() -> pd.DataFrame:
    days = pd.date_range(START, END, freq="D")
    rows = []
    for sku, price in zip(PRODUCTS["sku"], PRODUCTS["price"]):
        for d in days:
            units, ok = {"GAP-10D": 10, "OOS": 8, "RESTOCKED": 12, "HEALTHY": 10}[sku], True
            if sku == "OOS" and d >= pd.Timestamp("2026-03-26"):
                units, ok = 0, False
            if sku == "RESTOCKED":
                if pd.Timestamp("2026-03-14") <= d <= pd.Timestamp("2026-03-28"):
                    units, ok = 0, False
                elif d >= pd.Timestamp("2026-03-29"):
                    units = {29: 4, 30: 5, 31: 5}[d.day]
            rows.append((d, sku, CHANNEL, units, round(units * price, 2), ok, price))
    return pd.DataFrame(rows, columns=["date", "sku", "channel", "units", "revenue", "in_stock", "price"])


def _ads(seed: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range(END - pd.Timedelta(days=59), END, freq="D")
    rows = []
    for sku, price in zip(PRODUCTS["sku"], PRODUCTS["price"]):
        for name, ad_type, targeting, budget, acos in CAMPAIGNS:
            for d in days:
                b = budget
                out = (sku == "OOS" and d >= pd.Timestamp("2026-03-26")) or (
                    sku == "RESTOCKED" and pd.Timestamp("2026-03-14") <= d <= pd.Timestamp("2026-03-28"))
                if sku == "RESTOCKED" and ad_type in ("SB", "SD") and d >= pd.Timestamp("2026-03-14"):
                    b = 0.0  # the seller paused SB/SD during the stockout and has not resumed them
                spend = round(b * rng.uniform(0.6, 1.0), 2)
                if out and ad_type == "SP":
                    spend = 0.0  # Sponsored Products stop serving when the listing cannot sell
                ad_sales = 0.0 if out else round(spend / acos * rng.uniform(0.8, 1.2), 2)
                clicks = int(spend / 0.8)
                orders = int(round(ad_sales / price))
                rows.append((d, sku, CHANNEL, f"{sku} {name}", ad_type, clicks * 30, clicks, spend, orders,
                             ad_sales, b, targeting, 0.80))
    return pd.DataFrame(rows, columns=["date", "sku", "channel", "campaign", "ad_type", "impressions", "clicks",
                                       "spend", "ad_orders", "ad_sales", "daily_budget", "targeting", "bid"])


def four_sku_tables() -> dict[str, pd.DataFrame]:
    """The four-SKU dataset as frames (typed like CSV text would load)."""
    inventory = pd.DataFrame({
        "as_of": [AS_OF] * 4,
        "sku": ["GAP-10D", "OOS", "RESTOCKED", "HEALTHY"],
        "location": "FBA-US-EAST",
        "on_hand": [45, 0, 505, 905],
        "reserved": [5, 0, 5, 5],
    })
    shipments = pd.DataFrame({
        "shipment_id": ["PO-118", "PO-205", "PO-150", "PO-160"],
        "sku": ["GAP-10D", "OOS", "RESTOCKED", "HEALTHY"],
        "supplier": "SUP-A",
        "mode": ["sea", "air", "sea", "sea"],
        "qty": [600, 300, 500, 800],
        "order_date": ["2026-02-10", "2026-03-20", "2026-01-20", "2026-03-10"],
        "ship_date": ["2026-02-20", "2026-03-27", "2026-02-01", "2026-03-25"],
        "eta": ["2026-04-14", "2026-04-06", "2026-03-25", "2026-05-20"],
        "received_date": ["", "", "2026-03-29", ""],
        "location": "FBA-US-EAST",
    })
    kw = []
    for d in pd.date_range("2026-02-10", AS_OF, freq="D"):
        for keyword, before, after in [("knife block", 4, 18), ("wooden knife block", 9, 30)]:
            rank = before if d < pd.Timestamp("2026-03-14") else (60 if d <= pd.Timestamp("2026-03-28") else after)
            kw.append((d, "RESTOCKED", keyword, rank))
        kw.append((d, "HEALTHY", "vegetable peeler", 6))
    keyword_ranks = pd.DataFrame(kw, columns=["date", "sku", "keyword", "organic_rank"])
    offers = pd.DataFrame({
        "date": "2026-03-30", "sku": PRODUCTS["sku"], "channel": CHANNEL, "seller_count": 1,
        "buybox_winner": "self", "buybox_price": PRODUCTS["price"], "lowest_competitor_price": np.nan,
        "market_median_price": PRODUCTS["price"],
    })
    return {"products": PRODUCTS.copy(), "sales": _sales(), "inventory": inventory, "shipments": shipments,
            "ads": _ads(), "offers": offers, "keyword_ranks": keyword_ranks}


def write_four_sku_dataset(folder: Path | str) -> Path:
    """Write the four-SKU dataset as CSVs into ``folder`` (created) and return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in four_sku_tables().items():
        df.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    return folder


def load_four_sku_dataset(folder: Path | str, **tables: pd.DataFrame):
    """The four-SKU dataset, loaded, with some tables replaced (tests vary one thing at a time)."""
    from workbench.data import load_dataset

    folder = write_four_sku_dataset(folder)
    for name, df in tables.items():
        df.to_csv(Path(folder) / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    return load_dataset(folder)

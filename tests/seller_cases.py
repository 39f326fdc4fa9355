"""Seller cases (issue 13): hand-built SKUs whose right answer an experienced seller would agree with.

As of 2026-11-23 (Black Friday 2026-11-27 ahead), channel amazon_us, fee 15 %. Supplier SUP-SEA ships
by sea in 40 days (air in 10 days); SUP-TRUCK by truck in 7 days. Sales carry ``price`` and
``sessions`` (10 % conversion unless said otherwise). One SKU per decision:

=============  ==============================================================================  ====
sku            situation                                                                       item
=============  ==============================================================================  ====
GAP-TRUCK      10/d, 105 sellable (10.5 d), truck 7 d, nothing inbound: no gap if ordered now  1, 6
GAP-SEA-LONG   10/d, 50 sellable (5 d), sea 40 d, nothing inbound: long gap unless air-bridged  1, 6
GAP-SEA-MED    10/d, 200 sellable (20 d), a sea PO lands in ~35 d: a medium gap of ~15 d         1
ADS-PEAK       healthy; exact ACoS 20 %, broad ACoS 120 %, auto 3 clicks/d and no sales         2
REC-STEP1      back 5 d after a 15-day stockout, ranks 5 → 20, sales 4/d vs 10/d; pre price 30  2, 4
BUYBOX         Buy Box held by another seller at 41.98 vs our 45.99 (floor 16.63)              3
HIJACK         Buy Box held by another seller at 9.00, below our margin floor                  3
REC-BACK       back 45 d after a stockout at 29.49 (pre price 31.99); ranks and conversion back 4
AIR-THIN       running out by sea, margin 0.50/unit: air costs more than it saves              5
AIR-ONLY       2/d, 10 sellable, 300 in transit in ~30 d, MOQ 300: air bridge, need 40 + z·σ   5
MOQ-FORCED     1/d, 50 sellable, needs a few units, MOQ 300                                    5
RUNNING-SLOW   3/d, 100 sellable, sea 40 d: turnover < 1/month but running out                 5
LOW-SELLABLE   10/d, 30 sellable (3 d) + 500 landing in 5 d (cover 53 d)                       6
NEW-SMALL      launched 20 d ago, 10 units sold                                                7
NEW-STOP       launched 40 d ago, 112 units in the test window, 20 % defect returns            7
DEFECT-SPIKE   10/d, 14 % defective returns in the last 28 d, low stock                        7
OVERSTOCK      2/d, 2000 sellable (1000 d)                                                     8
RAISED         raised 20.00 → 22.00 14 d ago; conversion 10 % → 7 %                           9
=============  ==============================================================================  ====
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-11-23")
CHANNEL = "amazon_us"
START = pd.Timestamp("2026-06-01")
DAY = pd.Timedelta(days=1)

# sku: (unit_cost, price, supplier, moq, case_pack, key, launch, daily units, sellable)
SKUS = {
    "GAP-TRUCK": (6.0, 30.0, "SUP-TRUCK", 100, 10, False, None, 10, 105),
    "GAP-SEA-LONG": (6.0, 30.0, "SUP-SEA", 100, 10, False, None, 10, 50),
    "GAP-SEA-MED": (6.0, 30.0, "SUP-SEA", 100, 10, False, None, 10, 200),
    "ADS-PEAK": (6.0, 30.0, "SUP-SEA", 100, 10, False, None, 10, 900),
    "REC-STEP1": (6.0, 30.0, "SUP-SEA", 100, 10, False, None, 10, 300),
    "BUYBOX": (13.3, 45.99, "SUP-SEA", 100, 10, False, None, 10, 600),
    "HIJACK": (13.3, 45.99, "SUP-SEA", 100, 10, False, None, 10, 600),
    "REC-BACK": (8.0, 31.99, "SUP-SEA", 100, 10, False, None, 10, 900),
    "AIR-THIN": (9.7, 12.0, "SUP-SEA", 100, 10, False, None, 10, 50),
    "AIR-ONLY": (6.0, 30.0, "SUP-SEA", 300, 10, False, None, 2, 10),
    "MOQ-FORCED": (6.0, 30.0, "SUP-SEA", 300, 10, False, None, 1, 50),
    "RUNNING-SLOW": (6.0, 30.0, "SUP-SEA", 100, 10, False, None, 3, 100),
    "LOW-SELLABLE": (6.0, 30.0, "SUP-SEA", 100, 10, True, None, 10, 30),
    "NEW-SMALL": (6.0, 30.0, "SUP-SEA", 100, 10, False, "2026-11-03", 0, 40),
    "NEW-STOP": (6.0, 30.0, "SUP-SEA", 100, 10, False, "2026-10-14", 4, 20),
    "DEFECT-SPIKE": (6.0, 30.0, "SUP-SEA", 100, 10, False, None, 10, 100),
    "OVERSTOCK": (6.0, 30.0, "SUP-SEA", 100, 10, False, None, 2, 2000),
    "RAISED": (6.0, 22.0, "SUP-SEA", 100, 10, False, None, 10, 600),
}
REC_STEP1_OUT = (pd.Timestamp("2026-11-04"), pd.Timestamp("2026-11-18"))
REC_BACK_OUT = (pd.Timestamp("2026-09-25"), pd.Timestamp("2026-10-09"))
RAISED_ON = AS_OF - pd.Timedelta(days=13)


def _products() -> pd.DataFrame:
    rows = []
    for sku, (cost, price, sup, moq, case, key, launch, _, _) in SKUS.items():
        rows.append(dict(sku=sku, title=sku.lower(), brand="Acme", category="kitchen", product_type="private_label",
                         brand_registered=True, unit_cost=cost, price=price, fee_rate=0.15, supplier=sup, moq=moq,
                         case_pack=case, is_key_item=key, launch_date=launch or "2024-01-15"))
    return pd.DataFrame(rows)


def _day(sku: str, d: pd.Timestamp) -> tuple:
    """(units, in_stock, price, sessions) of one SKU on one day."""
    cost, price, _, _, _, _, launch, units, _ = SKUS[sku]
    if launch is not None and d < pd.Timestamp(launch):
        return None
    sessions = units * 10
    if sku == "NEW-SMALL":
        units, sessions = (1 if d.day % 2 == 0 else 0), 15
    if sku == "REC-STEP1":
        if REC_STEP1_OUT[0] <= d <= REC_STEP1_OUT[1]:
            return 0, False, price, 20
        if d > REC_STEP1_OUT[1]:
            return 4, True, price, 80
    if sku == "REC-BACK":
        if d < REC_BACK_OUT[0] - pd.Timedelta(days=40):
            price = 31.99
        elif d < REC_BACK_OUT[0]:
            price = 31.99
        elif d <= REC_BACK_OUT[1]:
            return 0, False, 31.99, 20
        else:
            price = 29.49
    if sku == "RAISED":
        if d < RAISED_ON:
            price = 20.0
        else:
            units, sessions = 7, 100
    return units, True, price, sessions


def _sales() -> pd.DataFrame:
    rows = []
    for sku in SKUS:
        for d in pd.date_range(START, AS_OF, freq="D"):
            v = _day(sku, d)
            if v is None:
                continue
            units, ok, price, sessions = v
            rows.append((d, sku, CHANNEL, units, round(units * price, 2), ok, price, sessions))
    return pd.DataFrame(rows, columns=["date", "sku", "channel", "units", "revenue", "in_stock", "price", "sessions"])


def _shipments() -> pd.DataFrame:
    rows = []
    for sku, (_, _, sup, *_rest) in SKUS.items():
        mode, lt = ("truck", 7) if sup == "SUP-TRUCK" else ("sea", 40)
        for i in range(5):
            od = pd.Timestamp("2026-01-05") + pd.Timedelta(days=30 * i)
            rows.append((f"{sku}-H{i}", sku, sup, mode, 100, od, od + 2 * DAY, od + lt * DAY, od + lt * DAY))
    for i in range(4):  # the sea supplier's air history: 10 days
        od = pd.Timestamp("2026-02-01") + pd.Timedelta(days=20 * i)
        rows.append((f"AIR-H{i}", "GAP-SEA-MED", "SUP-SEA", "air", 50, od, od + DAY, od + 10 * DAY, od + 10 * DAY))
    for sku, qty, eta in [("GAP-SEA-MED", 600, AS_OF + 35 * DAY), ("AIR-ONLY", 300, AS_OF + 30 * DAY),
                          ("LOW-SELLABLE", 500, AS_OF + 5 * DAY)]:
        od = eta - 40 * DAY
        rows.append((f"PO-{sku}", sku, "SUP-SEA", "sea", qty, od, od + 2 * DAY, eta, pd.NaT))
    df = pd.DataFrame(rows, columns=["shipment_id", "sku", "supplier", "mode", "qty", "order_date", "ship_date", "eta",
                                     "received_date"])
    df["location"] = "FBA-US"
    return df


def _ads(seed: int = 13) -> pd.DataFrame:
    """Campaigns of ADS-PEAK, REC-STEP1 and BUYBOX: (name, targeting, budget, ACoS; None = no sales)."""
    rng = np.random.default_rng(seed)
    plans = {
        "ADS-PEAK": [("exact", "exact", 30.0, 0.20), ("broad", "broad", 20.0, 1.20), ("auto", "auto", 10.0, None)],
        "REC-STEP1": [("exact", "exact", 20.0, 1.50), ("phrase", "phrase", 20.0, 0.20)],
        "BUYBOX": [("exact", "exact", 30.0, 0.15)],
    }
    rows = []
    for sku, camps in plans.items():
        price = SKUS[sku][1]
        for name, targeting, budget, acos in camps:
            for d in pd.date_range(AS_OF - pd.Timedelta(days=119), AS_OF, freq="D"):
                b = round(budget * rng.uniform(0.6, 1.4), 2)  # budgets moved: the response curve has something to fit
                out = sku == "REC-STEP1" and REC_STEP1_OUT[0] <= d <= REC_STEP1_OUT[1]
                spend = 0.0 if out else round(b * rng.uniform(0.8, 1.0), 2)
                if acos is None:
                    spend, sales, clicks = round(min(b, 5.0), 2), 0.0, 3
                else:
                    sales = round(spend / acos * (1 - np.exp(-spend / budget)) / (1 - np.exp(-1)) * rng.uniform(0.9, 1.1), 2)
                    clicks = int(spend / 0.8)
                rows.append((d, sku, CHANNEL, f"{sku}-SP-{name}", "SP", clicks * 30, clicks, spend,
                             int(round(sales / price)), sales, b, targeting, 0.8))
    return pd.DataFrame(rows, columns=["date", "sku", "channel", "campaign", "ad_type", "impressions", "clicks",
                                       "spend", "ad_orders", "ad_sales", "daily_budget", "targeting", "bid"])


def _returns() -> pd.DataFrame:
    rows = []
    for k in range(20):  # NEW-STOP: 20 defective returns in its first 28 days (112 units sold)
        rows.append((pd.Timestamp("2026-10-20") + pd.Timedelta(days=k % 20), "NEW-STOP", CHANNEL, 1, "defective"))
    for k in range(40):  # DEFECT-SPIKE: 40 of 280 sold (14 %) in the last 28 days
        rows.append((AS_OF - pd.Timedelta(days=k % 27), "DEFECT-SPIKE", CHANNEL, 1, "defective - stopped working"))
    return pd.DataFrame(rows, columns=["date", "sku", "channel", "units", "reason"])


def _keyword_ranks() -> pd.DataFrame:
    rows = []
    for d in pd.date_range("2026-09-01", AS_OF, freq="D"):
        r1 = 5 if d < REC_STEP1_OUT[0] else (60 if d <= REC_STEP1_OUT[1] else 20)
        rows.append((d, "REC-STEP1", "garlic press", r1))
        r2 = 11 if d < REC_BACK_OUT[0] else (60 if d <= REC_BACK_OUT[1] else 12)
        rows.append((d, "REC-BACK", "salad spinner", r2))
    return pd.DataFrame(rows, columns=["date", "sku", "keyword", "organic_rank"])


def seller_tables() -> dict[str, pd.DataFrame]:
    inventory = pd.DataFrame({"as_of": AS_OF, "sku": list(SKUS), "location": "FBA-US",
                              "on_hand": [v[8] for v in SKUS.values()], "reserved": 0})
    offers = []
    for sku, v in SKUS.items():
        winner, bb = "self", v[1]
        if sku == "BUYBOX":
            winner, bb = "other", 41.98
        if sku == "HIJACK":
            winner, bb = "other", 9.00
        for d in (AS_OF - pd.Timedelta(days=7), AS_OF - DAY):
            w = "self" if d < AS_OF - DAY else winner
            offers.append((d, sku, CHANNEL, 3 if sku in ("BUYBOX", "HIJACK") else 1, w, bb if w == "other" else v[1],
                           bb if sku in ("BUYBOX", "HIJACK") else np.nan, v[1]))
    offers = pd.DataFrame(offers, columns=["date", "sku", "channel", "seller_count", "buybox_winner", "buybox_price",
                                           "lowest_competitor_price", "market_median_price"])
    events = pd.DataFrame({"date": [pd.Timestamp("2026-11-27"), pd.Timestamp("2026-11-30")],
                           "event": ["Black Friday", "Cyber Monday"], "scope": "all", "expected_uplift": [1.5, 0.8]})
    return {"products": _products(), "sales": _sales(), "inventory": inventory, "shipments": _shipments(),
            "ads": _ads(), "offers": offers, "events": events, "returns": _returns(),
            "keyword_ranks": _keyword_ranks()}


def load_seller_cases(folder: Path | str):
    """Write the seller cases as CSVs (the dataset contract) into ``folder`` and load them."""
    from workbench.data import load_dataset

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in seller_tables().items():
        df.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    return load_dataset(folder)

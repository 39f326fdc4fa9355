"""Wrap the real Italian pasta till data (shared/data/real) as a contract-valid dataset, with stated assumptions.

The source has daily units and a promotion flag per SKU (118 SKUs, 4 brands, 2014-01-02 … 2018-12-31,
see shared/data/real/README.md). Everything a replenishment backtest needs beyond demand is
assumed, the same way for every SKU, and written here so a reader can weigh the results:

- products: price per brand :data:`BRAND_PRICE` (EUR read as USD); unit cost = 65% of price;
  fee rate 0 (the shop's own till, no marketplace fee); one supplier per brand ("<brand> pasta
  maker"); case pack 24, MOQ one case; key items = the top 20% SKUs by units in the first year;
  launch date = first day in the data.
- sales: channel ``store``; units = qty; revenue = units × price. The 27 closed days are not in the
  data and stay absent (no sale, no demand). ``in_stock`` is false on a run of zero-sale days that
  is improbable as chance under Poisson demand at the SKU's trailing 28-day mean m (run length
  k ≥ ln(1000)/m, i.e. P = e^{−km} < 0.001): those zeros are read as a likely empty shelf, and the
  backtest's demand history imputes them (24% of the days are zero; most are short runs of a slow
  seller and stay as real zero demand).
- shipments: the shop orders every Monday by truck from the brand's maker, qty = 7 days of
  trailing-28-day sales rounded up to cases; lead time (order → received) lognormal with mean
  :data:`BRAND_LEAD_DAYS` and CV 0.3, +4 days for orders placed in August (Ferragosto closures) and
  +2 in December; ETA = order date + the mean; freight 3% of the goods' cost (a pallet share).
- inventory: one location ``STORE``; a snapshot every Sunday with on hand = 14 days of the trailing
  28-day mean sales (a shelf plus backroom that holds about two weeks), reserved 0. Only the snapshot
  before a backtest's start matters (the replay moves stock itself).
- no events table: promotions are in the demand as recorded, not given to either policy as a regressor,
  unless ``promotions=True``: then the source's flag is written as the contract's optional promotions
  table (one row per SKU and day with ``promo`` = 1, no depth), read as a promotion calendar planned in
  advance (the backtest's view shows it whole, as the weekly run would see a plan).

The seed fixes the lead-time draws. Nothing is written into the repository: ``out_dir`` is the caller's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.io import write_frame

BRAND_PRICE = {"B1": 1.10, "B2": 1.50, "B3": 0.90, "B4": 2.20}
BRAND_LEAD_DAYS = {"B1": 4.0, "B2": 6.0, "B3": 8.0, "B4": 10.0}
COST_SHARE = 0.65
CASE_PACK = 24
FREIGHT_SHARE = 0.03
SHOP_STOCK_DAYS = 14
STOCKOUT_RUN_P = 1e-3


def default_source() -> Path:
    """shared/data/real/italian_pasta_daily.csv.gz beside the project root."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "italian_pasta_daily.csv.gz"


def _trailing_mean(raw: pd.DataFrame) -> pd.Series:
    """Mean daily units over the 28 days before each row's date (same SKU), NaN at the start."""
    return (raw.set_index("date").groupby("sku")["qty"]
            .transform(lambda s: s.rolling("28D", closed="left").mean()).to_numpy())


def _flag_stockouts(raw: pd.DataFrame) -> np.ndarray:
    """in_stock per row: false on zero runs with Poisson probability e^{−k·m} below STOCKOUT_RUN_P."""
    zero = raw["qty"].to_numpy() == 0
    new_run = np.r_[True, (raw["sku"].to_numpy()[1:] != raw["sku"].to_numpy()[:-1]) | (zero[1:] != zero[:-1])]
    run_id = np.cumsum(new_run)
    length = pd.Series(zero).groupby(run_id).transform("sum").to_numpy()
    m = raw["m28"].to_numpy()
    start_m = pd.Series(m).groupby(run_id).transform("first").to_numpy()
    with np.errstate(invalid="ignore"):
        improbable = np.exp(-length * np.nan_to_num(start_m, nan=0.0)) < STOCKOUT_RUN_P
    return ~(zero & improbable)


def pasta_tables(src: Path | str | None = None, seed: int = 0, promotions: bool = False) -> dict[str, pd.DataFrame]:
    raw = pd.read_csv(src or default_source(), parse_dates=["date"]).sort_values(["sku", "date"]).reset_index(drop=True)
    raw["qty"] = raw["qty"].round().astype("int64")
    raw["m28"] = _trailing_mean(raw)
    rng = np.random.default_rng(seed)
    brands = raw.drop_duplicates("sku").set_index("sku")["brand"]
    first_year = raw[raw["date"] < raw["date"].min() + pd.Timedelta(days=365)].groupby("sku")["qty"].sum()
    key = first_year >= first_year.quantile(0.8)
    price = brands.map(BRAND_PRICE)
    products = pd.DataFrame({
        "sku": brands.index, "title": [f"Pasta {s}" for s in brands.index], "brand": brands.to_numpy(),
        "category": "Pasta", "product_type": "standard", "brand_registered": False,
        "unit_cost": (price * COST_SHARE).round(2).to_numpy(), "price": price.to_numpy(), "fee_rate": 0.0,
        "supplier": [f"{b} pasta maker" for b in brands], "moq": CASE_PACK, "case_pack": CASE_PACK,
        "is_key_item": key.reindex(brands.index).fillna(False).to_numpy(),
        "launch_date": raw.groupby("sku")["date"].min().reindex(brands.index).to_numpy()})
    sales = pd.DataFrame({"date": raw["date"], "sku": raw["sku"], "channel": "store", "units": raw["qty"],
                          "revenue": (raw["qty"] * raw["sku"].map(price)).round(2), "in_stock": _flag_stockouts(raw)})
    weekly = raw[raw["date"].dt.dayofweek == 6].dropna(subset=["m28"])
    inventory = pd.DataFrame({"as_of": weekly["date"], "sku": weekly["sku"], "location": "STORE",
                              "on_hand": np.ceil(weekly["m28"] * SHOP_STOCK_DAYS).astype("int64"), "reserved": 0})
    out = dict(products=products, sales=sales, inventory=inventory, shipments=_shipments(raw, brands, price, rng))
    if promotions:
        out["promotions"] = raw.loc[raw["promo"] == 1, ["date", "sku"]].reset_index(drop=True)
    return out


def _shipments(raw: pd.DataFrame, brands: pd.Series, price: pd.Series, rng) -> pd.DataFrame:
    mondays = raw[(raw["date"].dt.dayofweek == 0) & (raw["m28"] > 0)]
    qty = (np.ceil(mondays["m28"].to_numpy() * 7 / CASE_PACK) * CASE_PACK).astype("int64")
    b = mondays["sku"].map(brands).to_numpy()
    mean = np.array([BRAND_LEAD_DAYS[x] for x in b])
    month = mondays["date"].dt.month.to_numpy()
    mean = mean + np.where(month == 8, 4.0, 0.0) + np.where(month == 12, 2.0, 0.0)
    sig2 = np.log1p(0.3 ** 2)
    lt = np.maximum(np.round(rng.lognormal(np.log(mean) - sig2 / 2, np.sqrt(sig2))), 1).astype(int)
    order = mondays["date"].to_numpy()
    cost = mondays["sku"].map(price).to_numpy() * COST_SHARE
    return pd.DataFrame({
        "shipment_id": [f"PO-{i:06d}" for i in range(1, len(mondays) + 1)], "sku": mondays["sku"].to_numpy(),
        "supplier": [f"{x} pasta maker" for x in b], "mode": "truck", "qty": qty, "order_date": order,
        "ship_date": order + pd.to_timedelta(1, unit="D"), "eta": order + pd.to_timedelta(np.round(mean), unit="D"),
        "received_date": order + pd.to_timedelta(lt, unit="D"), "location": "STORE",
        "freight_cost": np.round(qty * cost * FREIGHT_SHARE, 2)})


def write_pasta_dataset(out_dir: Path | str, src: Path | str | None = None, seed: int = 0,
                        promotions: bool = False) -> Path:
    """Write the wrapped dataset (products, sales, inventory, shipments as CSV; promotions too when
    ``promotions``) into ``out_dir``."""
    out = Path(out_dir)
    for name, frame in pasta_tables(src, seed, promotions).items():
        write_frame(frame, out / f"{name}.csv")
    return out

"""What a policy may see on a decision day: the dataset before the replay, plus the replay's own records.

A decision on day ``d`` (the first day of a replayed week) is made before anything of day ``d`` is
known: the view holds only rows dated before ``d``. Before the replay's start it is the dataset as
recorded (sales, inventory snapshots, shipments — a shipment received on or after ``d`` shows as in
transit, with no received or ship date —, ads, offers, returns, ranks, feed readings). From the start
on, the seller's real orders are replaced by the policy's: sales are the replay's (demand met from the
replayed stock, ``in_stock`` false on a day with unmet demand), the inventory is the replayed stock
(one snapshot at the end of each replayed week, on the SKU's main location, its other locations at
0), and shipments are the policy's orders. Exogenous tables (ads, offers, returns, ranks, account
health, supplier feed) stay the dataset's, cut at ``d``. The events calendar and the optional promotions
table are kept whole: planned events and promotions are known ahead (the weekly run forecasts with them). :func:`assert_no_look_ahead` checks a view.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.load import Dataset
from workbench.data.schema import TABLES

# Tables the replay rewrites from its start on; every other dated table is cut at the decision day.
REPLAYED = ("sales", "inventory", "shipments")
UNCUT = ("products", "events", "promotions")


def date_column(name: str) -> str | None:
    """The column a table is dated by (its first date/timestamp column in the contract)."""
    t = TABLES.get(name)
    if t is None:
        return None
    return next((c.name for c in t.columns if c.kind in ("date", "timestamp")), None)


class ReplayRecords:
    """The replay's own sales, snapshots and orders for one policy, appended week by week."""

    def __init__(self, skus: list[str], location: np.ndarray, channel: np.ndarray, price: np.ndarray,
                 other_locations: pd.DataFrame | None = None):
        self.skus = np.asarray(skus, dtype=object)
        self.location = location
        # (sku, location) pairs the dataset stocked besides the main one: snapshotted at 0 from the start
        self.other_locations = other_locations if other_locations is not None else pd.DataFrame(columns=["sku", "location"])
        self.channel = channel
        self.price = price
        self.sales: list[pd.DataFrame] = []
        self.snaps: list[pd.DataFrame] = []
        self.orders: list[dict] = []
        self.ads: list[pd.DataFrame] = []  # the replay's own ads rows, when budgets are decided weekly
        self.with_price = False  # sales rows carry the week's price (when prices are decided weekly)

    def add_week(self, days: pd.DatetimeIndex, sold: np.ndarray, lost: np.ndarray, stock_end: np.ndarray) -> None:
        n, k = sold.shape
        rows = pd.DataFrame({
            "date": np.tile(days.to_numpy(), n), "sku": np.repeat(self.skus, k), "channel": np.repeat(self.channel, k),
            "units": np.floor(sold + 1e-9).astype("int64").ravel(),
            "revenue": (np.floor(sold + 1e-9) * self.price[:, None]).ravel(),
            "in_stock": (lost <= 1e-9).ravel()})
        if self.with_price:
            rows["price"] = np.repeat(self.price, k)
        self.sales.append(rows)
        self.snapshot(days[-1], stock_end)

    def snapshot(self, day: pd.Timestamp, stock: np.ndarray) -> None:
        main = pd.DataFrame({"as_of": day, "sku": self.skus, "location": self.location,
                             "on_hand": np.floor(stock + 1e-9).astype("int64"), "reserved": 0})
        rest = self.other_locations.assign(as_of=day, on_hand=0, reserved=0)[main.columns]
        self.snaps.append(pd.concat([main, rest], ignore_index=True) if len(rest) else main)

    def add_order(self, **row) -> None:
        self.orders.append(row)


def _cut(frame: pd.DataFrame, col: str, day: pd.Timestamp) -> pd.DataFrame:
    return frame[frame[col] < day]


def _shipments_as_seen(ships: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    s = ships[ships["order_date"] < day].copy()
    for col in ("received_date", "ship_date"):
        if col in s.columns:
            s[col] = s[col].where(s[col] < day)
    return s


def restrict(ds: Dataset, skus: list[str]) -> Dataset:
    """The dataset cut to the replayed SKUs, categorical keys made plain strings (done once per run)."""
    keep = set(skus)
    tables: dict[str, pd.DataFrame] = {}
    for name, frame in ds.tables.items():
        frame = frame.copy()
        for c in frame.columns:
            if frame[c].dtype.name == "category":
                frame[c] = frame[c].astype(str)
        if "sku" in frame.columns and name != "events":
            frame = frame[frame["sku"].astype(str).isin(keep)].reset_index(drop=True)
        tables[name] = frame
    return Dataset(ds.path, tables, ds.rejects, ds.row_counts)


def build_view(base: Dataset, start: pd.Timestamp, day: pd.Timestamp, records: ReplayRecords) -> Dataset:
    """The dataset as a policy sees it at the start of ``day`` (see the module docstring).

    ``base`` is :func:`restrict`'s output; ``records`` the policy's replay so far.
    """
    tables: dict[str, pd.DataFrame] = {}
    for name, frame in base.tables.items():
        col = date_column(name)
        if name in UNCUT or col is None:
            tables[name] = frame
        elif name in REPLAYED:
            tables[name] = _cut(frame, col, start)
        else:
            tables[name] = _cut(frame, col, day)
    inv = tables["inventory"]
    tables["inventory"] = inv[inv["as_of"] < start - pd.Timedelta(days=1)]
    tables["sales"] = _concat(tables["sales"], records.sales, day, "date")
    tables["inventory"] = _concat(tables["inventory"], records.snaps, day, "as_of")
    orders = pd.DataFrame(records.orders) if records.orders else None
    ships = pd.concat([tables["shipments"], orders], ignore_index=True) if orders is not None else tables["shipments"]
    tables["shipments"] = _shipments_as_seen(ships, day)
    if records.ads:
        tables["ads"] = _concat(tables.get("ads", pd.DataFrame()), records.ads, day, "date")
    return Dataset(base.path, tables)


def _concat(real: pd.DataFrame, parts: list[pd.DataFrame], day: pd.Timestamp, col: str) -> pd.DataFrame:
    if not parts:
        return real.reset_index(drop=True)
    sim = pd.concat(parts, ignore_index=True)
    return pd.concat([real, sim[sim[col] < day]], ignore_index=True)


def assert_no_look_ahead(view: Dataset, day: pd.Timestamp) -> None:
    """Raise AssertionError when a dated row of the view (events and promotions aside) is on or after ``day``."""
    for name, frame in view.tables.items():
        col = date_column(name)
        if name in UNCUT or col is None or frame.empty:
            continue
        late = frame[col] >= day
        if late.any():
            raise AssertionError(f"{name}: {int(late.sum())} row(s) dated on or after {day.date()}")
        if name == "shipments":
            for c in ("received_date", "ship_date"):
                if c in frame.columns and (frame[c] >= day).any():
                    raise AssertionError(f"shipments.{c}: a date on or after {day.date()} is visible")

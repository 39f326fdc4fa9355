"""Converted report rows -> the contract's tables (as strings, ready to merge), with what each import replaces.

Every table comes with its *scope*: the (day, channel) or (day, location) pairs the imported reports
cover. Merging replaces exactly those in an existing dataset and keeps everything else, so a second
import of the same files changes nothing and a newer download replaces the days it overlaps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.importers.core import Context
from workbench.importers.parse import fmt_number

INBOUND_PREFIX = "FBA-INBOUND-"


@dataclass
class Converted:
    """Everything read from the reports, before it meets the catalog."""

    lines: pd.DataFrame  # counted order lines
    cover: dict[str, pd.DatetimeIndex]  # channel -> days the orders downloads cover
    ledger: pd.DataFrame = field(default_factory=pd.DataFrame)  # date, sku, sellable, monthly
    snapshot: pd.DataFrame = field(default_factory=pd.DataFrame)  # FBA Manage Inventory rows
    store_stock: pd.DataFrame = field(default_factory=pd.DataFrame)  # Shopify inventory rows
    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    returns: pd.DataFrame = field(default_factory=pd.DataFrame)
    returns_cover: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))
    ads: pd.DataFrame = field(default_factory=pd.DataFrame)
    ads_cover: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))
    purchase_orders: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class Table:
    rows: pd.DataFrame  # strings
    scope: pd.DataFrame | None = None  # rows of an existing table matching these columns are replaced
    drop_prefix: str | None = None  # shipments: earlier FBA inbound lines are replaced as a whole


def _iso(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.strftime("%Y-%m-%d")


def _text(frame: pd.DataFrame, money=(), whole=(), flags=(), dates=()) -> pd.DataFrame:
    out = frame.copy()
    present = lambda cols: [c for c in cols if c in out.columns]  # noqa: E731
    dates, money, whole, flags = present(dates), present(money), present(whole), present(flags)
    for c in dates:
        out[c] = _iso(out[c])
    for c in money:
        out[c] = out[c].astype(float).round(2).map(fmt_number)
    for c in whole:
        out[c] = out[c].map(fmt_number)
    for c in flags:
        out[c] = out[c].map({True: "true", False: "false"}).fillna("")
    return out


def known_skus(conv: Converted) -> pd.DataFrame:
    """sku, title, price of every SKU the reports mention (for the catalog template and blank catalog cells)."""
    parts = [conv.lines[["sku", "title"]].assign(price=np.nan)]
    if len(conv.lines):
        sold = conv.lines.loc[~conv.lines["pending"] & (conv.lines["units"] > 0)]
        unit = (sold["revenue"] / sold["units"]).groupby(sold["sku"]).median().rename("price").reset_index()
        parts.append(unit.assign(title=""))
    for frame in (conv.snapshot, conv.store_stock):
        if len(frame):
            parts.append(frame.reindex(columns=["sku", "title", "price"]))
    for frame in (conv.ledger, conv.returns, conv.ads, conv.sessions):
        if len(frame):
            parts.append(frame[["sku"]].assign(title="", price=np.nan))
    allk = pd.concat(parts, ignore_index=True)
    allk["title"] = allk["title"].where(allk["title"].fillna("") != "")
    out = allk.groupby("sku", sort=True).agg(title=("title", "first"), price=("price", "first")).reset_index()
    return out


def require_catalog(conv: Converted, catalog_skus: pd.Index, catalog: str) -> None:
    """A SKU that sold but is missing from the catalog stops the import, naming every such SKU."""
    missing = sorted(set(conv.lines["sku"]) - set(catalog_skus))
    if missing:
        shown = ", ".join(missing[:50]) + (f" ... and {len(missing) - 50} more" if len(missing) > 50 else "")
        raise InputError(f"{catalog}: {len(missing)} SKU(s) sold in the reports have no catalog row: {shown}. "
                         "Add them (workbench import ... --catalog-template FILE writes a pre-filled template).")


def _in_catalog(ctx: Context, frame: pd.DataFrame, skus: pd.Index) -> pd.DataFrame:
    if frame.empty:
        return frame
    bad = ~frame["sku"].isin(skus)
    ctx.reject_rows(frame.loc[bad], "SKU not in the catalog: add a catalog row to import it", "sku")
    return frame.loc[~bad]


def daily_stock(conv: Converted, ctx: Context) -> pd.DataFrame:
    """Sellable units per SKU x day: the ledger's daily rows, the Manage Inventory snapshot on its day."""
    parts = []
    if len(conv.ledger):
        d = conv.ledger.loc[~conv.ledger["monthly"], ["date", "sku", "sellable"]]
        parts.append(d)
    if len(conv.snapshot):
        parts.append(pd.DataFrame({"date": ctx.as_of, "sku": conv.snapshot["sku"],
                                   "sellable": conv.snapshot["fulfillable"]}))
    if not parts:
        return pd.DataFrame(columns=["date", "sku", "sellable"])
    return pd.concat(parts, ignore_index=True).drop_duplicates(["date", "sku"], keep="last")


def build_sales(conv: Converted, ctx: Context, products: pd.DataFrame) -> Table:
    """Units and revenue per SKU x channel x day, with a zero row on every covered day without orders.

    Pending lines carry no price in the All Orders report; their revenue is units x catalog price.
    ``in_stock`` is false on days whose sellable stock is 0, true when above 0, empty when unknown.
    """
    lines = conv.lines.copy()
    price = pd.to_numeric(products.set_index("sku")["price"], errors="coerce")
    no_price = lines["revenue"].isna()
    if no_price.any():
        lines.loc[no_price, "revenue"] = lines.loc[no_price, "units"] * lines.loc[no_price, "sku"].map(price)
        ctx.notes.append(f"{int(no_price.sum())} order line(s) without a price (pending): revenue = units x catalog price")
    agg = lines.groupby(["date", "sku", "channel"], as_index=False).agg(units=("units", "sum"), revenue=("revenue", "sum"))
    stock = daily_stock(conv, ctx)
    stock = stock.loc[stock["sku"].isin(products["sku"])]
    grid = []
    for channel, covered in conv.cover.items():
        first = agg.loc[agg["channel"] == channel].groupby("sku")["date"].min()
        if channel == ctx.channel and len(stock):
            first = pd.concat([first, stock.groupby("sku")["date"].min()]).groupby(level=0).min()
        grid.append(_days_from(first, covered).assign(channel=channel))
    if not grid:
        return Table(pd.DataFrame(columns=["date", "sku", "channel", "units", "revenue"]))
    sales = pd.concat(grid, ignore_index=True).merge(agg, on=["date", "sku", "channel"], how="left")
    sales = sales.fillna({"units": 0, "revenue": 0.0})
    st = stock.assign(channel=ctx.channel, in_stock=stock["sellable"] > 0)[["date", "sku", "channel", "in_stock"]]
    sales = sales.merge(st, on=["date", "sku", "channel"], how="left")
    sales = _attach_sessions(sales, conv, ctx)
    scope = pd.DataFrame([(d, ch) for ch, cov in conv.cover.items() for d in cov], columns=["date", "channel"])
    sales = sales.sort_values(["date", "sku", "channel"], kind="stable")
    rows = _text(sales, money=["revenue"], whole=["units", "sessions"], flags=["in_stock"], dates=["date"])
    if "buybox_share" in rows:
        rows["buybox_share"] = sales["buybox_share"].round(4).map(fmt_number)
    return Table(rows, _text(scope, dates=["date"]))


def _days_from(first: pd.Series, covered: pd.DatetimeIndex) -> pd.DataFrame:
    """Every covered day from each SKU's first day on: (date, sku) rows, built without a loop over SKUs."""
    start = np.searchsorted(covered.values, first.to_numpy(dtype="datetime64[ns]"))
    n = len(covered) - start
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return pd.DataFrame({"date": covered.values[np.repeat(start, n) + offsets], "sku": np.repeat(first.index.to_numpy(), n)})


def _attach_sessions(sales: pd.DataFrame, conv: Converted, ctx: Context) -> pd.DataFrame:
    if conv.sessions.empty:
        return sales
    s = conv.sessions.assign(channel=ctx.channel)
    merged = s.merge(sales[["date", "sku", "channel"]], on=["date", "sku", "channel"], how="left", indicator=True)
    lost = merged["_merge"] == "left_only"
    ctx.reject_rows(merged.loc[lost], "no sales day for this SKU: the orders reports do not cover this day", "SKU")
    return sales.merge(s[["date", "sku", "channel", "sessions", "buybox_share"]], on=["date", "sku", "channel"], how="left")


def build_inventory(conv: Converted, ctx: Context, skus: pd.Index) -> Table:
    """Stock snapshots: ledger days (sellable, nothing reserved), the FBA snapshot, Shopify locations."""
    parts = []
    if len(conv.ledger):
        led = _in_catalog(ctx, conv.ledger, skus)
        parts.append(pd.DataFrame({"as_of": led["date"], "sku": led["sku"], "location": ctx.location,
                                   "on_hand": led["sellable"], "reserved": 0}))
    if len(conv.snapshot):
        snap = _in_catalog(ctx, conv.snapshot, skus)
        parts.append(pd.DataFrame({"as_of": ctx.as_of, "sku": snap["sku"], "location": ctx.location,
                                   "on_hand": snap["fulfillable"] + snap["reserved"], "reserved": snap["reserved"]}))
    if len(conv.store_stock):
        st = _in_catalog(ctx, conv.store_stock, skus)
        parts.append(pd.DataFrame({"as_of": ctx.as_of, "sku": st["sku"], "location": st["location"],
                                   "on_hand": st["on_hand"], "reserved": st["reserved"]}))
    if not parts:
        return Table(pd.DataFrame(columns=["as_of", "sku", "location", "on_hand", "reserved"]))
    inv = pd.concat(parts, ignore_index=True).drop_duplicates(["as_of", "sku", "location"], keep="last")
    inv = inv.sort_values(["as_of", "sku", "location"], kind="stable")
    rows = _text(inv, whole=["on_hand", "reserved"], dates=["as_of"])
    return Table(rows, rows[["as_of", "location"]].drop_duplicates())


def build_shipments(conv: Converted, ctx: Context, products: pd.DataFrame) -> Table:
    """Purchase orders from the seller's sheet, plus FBA inbound units (Manage Inventory) not already on an open PO."""
    cols = ["shipment_id", "sku", "supplier", "mode", "qty", "order_date", "ship_date", "eta", "received_date",
            "location", "freight_cost"]
    po = _in_catalog(ctx, conv.purchase_orders, pd.Index(products["sku"])) if len(conv.purchase_orders) else \
        pd.DataFrame(columns=cols)
    parts, drop_prefix = [po.reindex(columns=cols)], None
    if len(conv.snapshot):
        drop_prefix = INBOUND_PREFIX
        snap = conv.snapshot.loc[(conv.snapshot["inbound"] > 0) & conv.snapshot["sku"].isin(products["sku"])]
        open_po = po.loc[(po["received_date"] == "") & (po["location"] == ctx.location), "sku"]
        covered = snap["sku"].isin(open_po)
        if covered.any():
            ctx.notes.append(f"{int(covered.sum())} SKU(s) with FBA inbound units already have an open purchase "
                             f"order to {ctx.location}: the purchase order is used")
        snap = snap.loc[~covered]
        day = ctx.as_of.strftime("%Y-%m-%d")
        supplier = products.set_index("sku")["supplier"]
        parts.append(pd.DataFrame({
            "shipment_id": INBOUND_PREFIX + ctx.as_of.strftime("%Y%m%d"), "sku": snap["sku"],
            "supplier": snap["sku"].map(supplier), "mode": "truck", "qty": snap["inbound"].map(fmt_number),
            "order_date": day, "ship_date": day, "eta": "", "received_date": "", "location": ctx.location,
            "freight_cost": ""}))
    rows = pd.concat(parts, ignore_index=True).fillna("")
    return Table(rows.sort_values(["shipment_id", "sku"], kind="stable"), None, drop_prefix)


def build_ads(conv: Converted, ctx: Context, skus: pd.Index) -> Table | None:
    """Ad rows; a campaign without a budget column gets its highest daily spend in these reports (said in
    ``daily_budget_source`` and in the import summary)."""
    if conv.ads.empty:
        return None
    ads = _in_catalog(ctx, conv.ads, skus).copy()
    from_report = ads["daily_budget"].notna()
    ads["daily_budget_source"] = np.where(from_report, "report", "highest daily spend in the imported reports")
    top = ads.groupby(["campaign", "date"])["spend"].sum().groupby(level=0).max()
    ads["daily_budget"] = ads["daily_budget"].fillna(ads["campaign"].map(top))
    guessed = sorted(ads.loc[~from_report, "campaign"].unique())
    if guessed:
        ctx.notes.append(f"daily_budget of {len(guessed)} campaign(s) not in the reports, taken as their highest "
                         f"daily spend: {', '.join(guessed[:10])}")
    ads = ads.sort_values(["date", "sku", "channel", "campaign"], kind="stable")
    cols = ["date", "sku", "channel", "campaign", "ad_type", "impressions", "clicks", "spend", "ad_orders",
            "ad_sales", "daily_budget", "daily_budget_source"]
    rows = _text(ads[cols], money=["spend", "ad_sales", "daily_budget"], whole=["impressions", "clicks", "ad_orders"],
                 dates=["date"])
    return Table(rows, pd.DataFrame({"date": conv.ads_cover.strftime("%Y-%m-%d"), "channel": ctx.channel}))


def build_returns(conv: Converted, ctx: Context, skus: pd.Index) -> Table | None:
    if conv.returns.empty:
        return None
    ret = _in_catalog(ctx, conv.returns, skus).sort_values(["date", "sku", "_file", "_line"], kind="stable")
    rows = _text(ret[["date", "sku", "channel", "units", "reason"]], whole=["units"], dates=["date"])
    scope = pd.DataFrame({"date": conv.returns_cover.strftime("%Y-%m-%d"), "channel": ctx.channel})
    return Table(rows, scope)

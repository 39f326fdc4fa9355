"""Amazon Seller Central reports -> rows of the dataset contract (one function per known format).

Every function takes the recognised reports of one format and the import :class:`Context`, sends the
rows it cannot use to the rejects with their reason, and returns an intermediate frame that still
carries ``_file`` and ``_line`` (so later checks, such as a SKU missing from the catalog, can reject a
row by its place in the input).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.importers.core import (CHANNEL_OF_SALES_CHANNEL, MARKETPLACES, ORDER_COLUMNS, Context, base_frame,
                                      coverage, latest_copy, need)
from workbench.importers.parse import Report, day_from_name, days, money, share, whole

def _order_lines(rep: Report, ctx: Context) -> pd.DataFrame:
    pos = rep.fmt.resolve(rep.header)
    f = base_frame(rep)
    f["order_id"] = rep.field("order_id", pos)
    f["sku"] = rep.field("sku", pos)
    f["status"] = rep.field("order_status", pos).str.lower()
    f["item_status"] = rep.field("item_status", pos).str.lower()
    sales_channel = rep.field("sales_channel", pos)
    f["sales_channel"] = sales_channel
    f["channel"] = sales_channel.str.lower().map(CHANNEL_OF_SALES_CHANNEL).fillna(ctx.channel)
    f["units"] = whole(rep.field("quantity", pos))
    f["revenue"] = money(rep.field("item_price", pos))
    f["title"] = rep.field("title", pos)
    raw_date = rep.field("purchase_date", pos)
    f["date"] = pd.NaT
    for channel, idx in f.groupby("channel").groups.items():
        tz = MARKETPLACES.get(channel, (ctx.tz,))[0]
        f.loc[idx, "date"] = days(raw_date.loc[idx], tz)[0]
    f["date"] = pd.to_datetime(f["date"])
    updated = pd.to_datetime(rep.field("last_updated", pos).where(lambda s: s != "", raw_date), utc=True,
                             errors="coerce", format="ISO8601")
    f["updated"] = updated.fillna(pd.Timestamp(0, tz="UTC"))
    f = need(ctx, rep, f, "order_id", "an order id", "amazon-order-id")
    f = need(ctx, rep, f, "sku", "a SKU", "sku")
    f = need(ctx, rep, f, "date", "a date", "purchase-date", "purchase_date")
    return need(ctx, rep, f, "units", "a whole number of units", "quantity", "quantity")


def orders(reports: list[Report], ctx: Context) -> tuple[pd.DataFrame, dict[str, pd.DatetimeIndex]]:
    """All Orders -> counted order lines and the days each channel's downloads cover.

    An order in several downloads is counted once, from the download where it was last updated (its
    latest status). Cancelled lines (order-status or item-status Cancelled) and Non-Amazon
    (multi-channel fulfilment) orders are left out and listed in the rejects; pending lines count.
    """
    parts = [_order_lines(r, ctx) for r in reports]
    lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ORDER_COLUMNS + ["order_id"])
    cover = {ch: coverage(g["date"], g["_file"]) for ch, g in lines.groupby("channel")}
    kept, older = latest_copy(lines, ["order_id"], "updated")
    ctx.reject_rows(older, "order also in a newer download: counted once, from the newest")
    non_amazon = kept["sales_channel"].str.lower().str.startswith("non-amazon")
    ctx.reject_rows(kept.loc[non_amazon], "Non-Amazon (multi-channel fulfilment) order: counted by the channel that "
                                          "sold it, not as an Amazon sale", "sales-channel")
    kept = kept.loc[~non_amazon]
    cancelled = kept["status"].str.startswith("cancel") | kept["item_status"].str.startswith("cancel")
    ctx.reject_rows(kept.loc[cancelled], "cancelled order line: left out of sales", "order-status")
    kept = kept.loc[~cancelled]
    kept = kept.assign(pending=kept["status"].str.startswith("pending"))
    return kept[ORDER_COLUMNS].reset_index(drop=True), cover


def manage_inventory(reports: list[Report], ctx: Context) -> pd.DataFrame:
    """FBA Manage Inventory -> one row per SKU on the snapshot day: fulfillable, reserved, inbound, price."""
    parts = []
    for rep in reports:
        pos = rep.fmt.resolve(rep.header)
        f = base_frame(rep, pos, ("sku", "title"))
        f["price"] = money(rep.field("price", pos))
        for col in ("fulfillable", "reserved", "inbound_working", "inbound_shipped", "inbound_receiving"):
            cells = rep.field(col, pos)
            f[col] = whole(cells.where(cells != "", "0"))
        f = need(ctx, rep, f, "sku", "a SKU", "sku")
        f = need(ctx, rep, f, "fulfillable", "a whole number", "afn-fulfillable-quantity")
        f = need(ctx, rep, f, "reserved", "a whole number", "afn-reserved-quantity")
        f = f.assign(_order=len(parts))
        parts.append(f)
    if not parts:
        return pd.DataFrame()
    snap = pd.concat(parts, ignore_index=True)
    kept, older = latest_copy(snap, ["sku"], "_order")
    ctx.reject_rows(older, "SKU also in a later Manage Inventory download: the later one is used")
    kept = kept.fillna({"inbound_working": 0, "inbound_shipped": 0, "inbound_receiving": 0})
    kept["inbound"] = kept["inbound_working"] + kept["inbound_shipped"] + kept["inbound_receiving"]
    return kept.reset_index(drop=True)


def ledger(reports: list[Report], ctx: Context) -> pd.DataFrame:
    """Inventory Ledger summary -> sellable ending balance per SKU x day (monthly rows: per month end).

    Rows of one day are added over fulfillment centers; only the SELLABLE disposition counts as stock.
    A day in two downloads is taken from the download that reaches furthest.
    """
    parts = []
    for rep in reports:
        pos = rep.fmt.resolve(rep.header)
        f = base_frame(rep)
        f["date"], f["monthly"] = days(rep.field("date", pos))
        f["sku"] = rep.field("sku", pos)
        f["disposition"] = rep.field("disposition", pos).str.upper()
        f["location_raw"] = rep.field("location", pos)
        f["ending"] = whole(rep.field("ending", pos))
        f = need(ctx, rep, f, "date", "a date (MM/DD/YYYY, YYYY-MM-DD or MM/YYYY)", "Date")
        f = need(ctx, rep, f, "sku", "a SKU", "MSKU")
        f = need(ctx, rep, f, "ending", "a whole number", "Ending Warehouse Balance")
        parts.append(f)
    if not parts:
        return pd.DataFrame(columns=["date", "sku", "sellable", "monthly", "_file", "_line"])
    rows = pd.concat(parts, ignore_index=True)
    country = ctx.location.removeprefix("FBA-")
    abroad = rows["location_raw"].str.fullmatch(r"[A-Z]{2}") & (rows["location_raw"] != country)
    ctx.reject_rows(rows.loc[abroad], f"stock in another country's network, not {country}: import it with that "
                                      "country's --marketplace", "Location")
    rows = rows.loc[~abroad]
    rows["reach"] = rows.groupby("_file")["date"].transform("max")
    kept, older = latest_copy(rows, ["date", "sku", "disposition", "location_raw"], "reach")
    ctx.reject_rows(older, "ledger day also in a download that reaches further: taken from there")
    unsellable = kept["disposition"] != "SELLABLE"
    if unsellable.any():
        ctx.notes.append(f"{int(unsellable.sum())} ledger row(s) of unsellable dispositions "
                         f"({', '.join(sorted(kept.loc[unsellable, 'disposition'].unique()))}) are not counted as stock")
    kept = kept.assign(sellable=kept["ending"].where(~unsellable, 0).clip(lower=0))
    out = kept.groupby(["date", "sku"], as_index=False).agg(
        sellable=("sellable", "sum"), monthly=("monthly", "max"), _file=("_file", "first"), _line=("_line", "first"))
    return out


def customer_returns(reports: list[Report], ctx: Context) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """FBA customer returns -> one row per return on the local return day; a return in two downloads once."""
    parts = []
    for rep in reports:
        pos = rep.fmt.resolve(rep.header)
        f = base_frame(rep)
        f["date"] = days(rep.field("date", pos), ctx.tz)[0]
        f["sku"] = rep.field("sku", pos)
        f["units"] = whole(rep.field("quantity", pos))
        reason = rep.field("reason", pos)
        f["reason"] = reason.where(reason != "", "no reason given")
        f["order_id"] = rep.field("order_id", pos)
        f["lpn"] = rep.field("lpn", pos)
        f = need(ctx, rep, f, "date", "a date", "return-date")
        f = need(ctx, rep, f, "sku", "a SKU", "sku")
        f = need(ctx, rep, f, "units", "a whole number", "quantity", "quantity")
        low = f["units"] < 1
        ctx.reject_rows(f.loc[low], "quantity: expected at least 1 returned unit", "quantity")
        parts.append(f.loc[~low])
    if not parts:
        return pd.DataFrame(columns=["date", "sku", "channel", "units", "reason", "_file", "_line"]), pd.DatetimeIndex([])
    rows = pd.concat(parts, ignore_index=True)
    cover = coverage(rows["date"], rows["_file"])
    rows["reach"] = rows.groupby("_file")["date"].transform("max")
    kept, older = latest_copy(rows, ["order_id", "sku", "date", "lpn"], "reach")
    ctx.reject_rows(older, "return also in a newer download: counted once")
    return kept.assign(channel=ctx.channel).reset_index(drop=True), cover


def advertised_products(reports: list[Report], ctx: Context, ad_type: str) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Sponsored Products / Display advertised product reports -> ads per campaign x SKU x day (ad groups added),
    and the days the downloads cover."""
    parts = []
    for rep in reports:
        pos = rep.fmt.resolve(rep.header)
        f = base_frame(rep)
        f["date"] = days(rep.field("date", pos))[0]
        f["campaign"] = rep.field("campaign", pos)
        f["ad_group"] = rep.field("ad_group", pos)
        f["sku"] = rep.field("sku", pos)
        for col in ("impressions", "clicks", "ad_orders"):
            f[col] = whole(rep.field(col, pos))
        for col in ("spend", "ad_sales", "budget"):
            f[col] = money(rep.field(col, pos))
        f = need(ctx, rep, f, "date", "a date", "Date")
        f = need(ctx, rep, f, "campaign", "a campaign name", "Campaign Name")
        f = need(ctx, rep, f, "sku", "a SKU", "Advertised SKU")
        for col, header in (("impressions", "Impressions"), ("clicks", "Clicks"), ("ad_orders", "Orders"),
                            ("spend", "Spend"), ("ad_sales", "Sales")):
            f = need(ctx, rep, f, col, "a number", header)
        parts.append(f)
    if not parts:
        return pd.DataFrame(), pd.DatetimeIndex([])
    rows = pd.concat(parts, ignore_index=True)
    rows["reach"] = rows.groupby("_file")["date"].transform("max")
    kept, older = latest_copy(rows, ["date", "campaign", "ad_group", "sku"], "reach")
    ctx.reject_rows(older, "ad row also in a download that reaches further: taken from there")
    out = kept.groupby(["date", "sku", "campaign"], as_index=False).agg(
        impressions=("impressions", "sum"), clicks=("clicks", "sum"), spend=("spend", "sum"),
        ad_orders=("ad_orders", "sum"), ad_sales=("ad_sales", "sum"), daily_budget=("budget", "max"),
        _file=("_file", "first"), _line=("_line", "first"))
    return out.assign(channel=ctx.channel, ad_type=ad_type), coverage(rows["date"], rows["_file"])


def business_report(reports: list[Report], ctx: Context) -> pd.DataFrame:
    """Business Report by child item -> sessions and Buy Box share per SKU x day."""
    parts = []
    for rep in reports:
        pos = rep.fmt.resolve(rep.header)
        f = base_frame(rep)
        named = day_from_name(rep.path)
        if "date" in pos:
            f["date"] = days(rep.field("date", pos))[0]
        elif named is not None:
            f["date"] = named
        else:
            ctx.reject(rep, np.ones(len(f), dtype=bool), "the Business Report has no date column: download one day "
                       "at a time and put the day in the file name as YYYY-MM-DD")
            continue
        f["sku"] = rep.field("sku", pos)
        f["sessions"] = whole(rep.field("sessions", pos))
        f["buybox_share"] = share(rep.field("buybox", pos))
        f = need(ctx, rep, f, "sku", "a SKU", "SKU")
        f = need(ctx, rep, f, "sessions", "a whole number", "Sessions")
        parts.append(f.assign(_order=len(parts)))
    if not parts:
        return pd.DataFrame(columns=["date", "sku", "sessions", "buybox_share", "_file", "_line"])
    rows = pd.concat(parts, ignore_index=True)
    kept, older = latest_copy(rows, ["date", "sku"], "_order")
    ctx.reject_rows(older, "SKU and day also in a later Business Report download: the later one is used")
    return kept.reset_index(drop=True)

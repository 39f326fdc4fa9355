"""Shopify admin exports -> rows of the dataset contract (orders -> sales, inventory -> inventory)."""
from __future__ import annotations

import pandas as pd

from workbench.importers.core import ORDER_COLUMNS, Context, base_frame, coverage, latest_copy, need
from workbench.importers.parse import Report, days, money, whole

# Order-level cells Shopify writes on an order's first line only; later lines of the order leave them empty.
_ORDER_LEVEL = ("created", "financial", "cancelled")


def _order_lines(rep: Report, ctx: Context) -> pd.DataFrame:
    pos = rep.fmt.resolve(rep.header)
    f = base_frame(rep)
    f["order_id"] = rep.field("order_id", pos)
    for col in _ORDER_LEVEL:
        cells = rep.field(col, pos)
        f[col] = cells.where(cells != "").groupby(f["order_id"]).ffill().fillna("")
    f["sku"] = rep.field("sku", pos)
    f["units"] = whole(rep.field("quantity", pos))
    f["revenue"] = money(rep.field("price", pos)) * f["units"]
    f["title"] = rep.field("title", pos)
    f["date"] = days(f["created"])[0]  # Shopify writes the store's own offset: the day as written is local
    f["updated"] = f.groupby("_file")["date"].transform("max")
    f = need(ctx, rep, f, "order_id", "an order name", "Name")
    f = need(ctx, rep, f, "sku", "a SKU (a line item without a SKU cannot be matched to the catalog)", "Lineitem sku")
    f = need(ctx, rep, f, "date", "a date", "Created at", "created")
    f = need(ctx, rep, f, "units", "a whole number", "Lineitem quantity", "quantity")
    return need(ctx, rep, f, "revenue", "a price", "Lineitem price", "price")


def orders(reports: list[Report], ctx: Context) -> tuple[pd.DataFrame, dict[str, pd.DatetimeIndex]]:
    """Orders export -> counted order lines. Cancelled (``Cancelled at`` set) and voided orders are left out;
    pending and paid count. An order in two overlapping exports is taken once, from the export reaching furthest."""
    parts = [_order_lines(r, ctx) for r in reports]
    if not parts:
        return pd.DataFrame(columns=ORDER_COLUMNS), {}
    lines = pd.concat(parts, ignore_index=True)
    cover = {ctx.channel: coverage(lines["date"], lines["_file"])}
    kept, older = latest_copy(lines, ["order_id"], "updated")
    ctx.reject_rows(older, "order also in an export reaching further: counted once, from there")
    cancelled = kept["cancelled"].ne("") | kept["financial"].str.lower().eq("voided")
    ctx.reject_rows(kept.loc[cancelled], "cancelled or voided order: left out of sales", "Cancelled at")
    kept = kept.loc[~cancelled]
    kept = kept.assign(channel=ctx.channel, pending=kept["financial"].str.lower().str.startswith("pending"))
    return kept[ORDER_COLUMNS].reset_index(drop=True), cover


def inventory(reports: list[Report], ctx: Context) -> pd.DataFrame:
    """Inventory export (all quantity types) -> one row per SKU x location on the snapshot day.

    ``on_hand`` is Shopify's On hand (= Available + Committed + Unavailable) and ``reserved`` is
    Committed + Unavailable, so the workbench's available stock (on_hand - reserved) is Shopify's Available.
    """
    parts = []
    for rep in reports:
        pos = rep.fmt.resolve(rep.header)
        f = base_frame(rep, pos, ("sku", "title", "location"))
        on_hand = rep.field("on_hand", pos)
        not_stocked = on_hand.str.lower().eq("not stocked")
        ctx.reject(rep, not_stocked.to_numpy(), "not stocked at this location", "On hand")
        f = f.loc[~not_stocked]
        f["on_hand"] = whole(on_hand)
        reserved = pd.Series(0.0, index=f.index)
        for col in ("committed", "unavailable"):
            cells = rep.field(col, pos).loc[f.index]
            reserved = reserved + whole(cells.where(~cells.str.lower().isin(["", "not stocked"]), "0"))
        f["reserved"] = reserved
        f = need(ctx, rep, f, "sku", "a SKU", "SKU")
        f = need(ctx, rep, f, "location", "a location name", "Location")
        f = need(ctx, rep, f, "on_hand", "a whole number", "On hand")
        f = need(ctx, rep, f, "reserved", "whole numbers in Committed and Unavailable", "Committed")
        negative = f["on_hand"] < 0
        ctx.reject_rows(f.loc[negative], "On hand below 0: oversold; counted as unknown", "On hand")
        parts.append(f.loc[~negative].assign(_order=len(parts)))
    if not parts:
        return pd.DataFrame()
    rows = pd.concat(parts, ignore_index=True)
    kept, older = latest_copy(rows, ["sku", "location"], "_order")
    ctx.reject_rows(older, "SKU and location also in a later inventory export: the later one is used")
    kept = kept.assign(reserved=kept[["reserved", "on_hand"]].min(axis=1))
    return kept.reset_index(drop=True)

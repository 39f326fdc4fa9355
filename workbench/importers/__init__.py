"""Bring a seller's own data in: marketplace reports + the seller's catalog sheet -> a dataset directory.

``workbench import amazon|shopify --reports DIR --catalog FILE --out DATASET_DIR`` runs
:func:`run_import`. Files in ``DIR`` are recognised by their header (the table of known formats is in
:mod:`workbench.importers.formats`); the input files are only read. See ``docs/import.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.errors import InputError
from workbench.importers import amazon, build, shopify, sheets
from workbench.importers.core import MARKETPLACES, Context
from workbench.importers.formats import closest
from workbench.importers.merge import read_existing, write_dataset
from workbench.importers.parse import Report, read_report

SOURCES = ("amazon", "shopify")


@dataclass
class ImportResult:
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (file, format title, rows)
    rows: dict[str, int] = field(default_factory=dict)  # rows per table written
    rejects: int = 0
    notes: list[str] = field(default_factory=list)
    template_rows: int | None = None

    def describe(self) -> str:
        out = [f"read {name}: {title} ({n} rows)" for name, title, n in self.files]
        out += [f"note: {n}" for n in self.notes]
        if self.template_rows is not None:
            out.append(f"catalog template: {self.template_rows} SKU row(s) added")
        else:
            out.append("wrote " + ", ".join(f"{t} {n} rows" for t, n in self.rows.items())
                       + f"; {self.rejects} row(s) not used, see rejects.csv")
        return "\n".join(out)


def _context(source: str, marketplace: str | None, as_of: str | None) -> Context:
    if source not in SOURCES:
        raise InputError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    day = None
    if as_of:
        try:
            day = pd.Timestamp(as_of).normalize()
        except ValueError:
            raise InputError(f"--as-of must be a date YYYY-MM-DD, got {as_of!r}") from None
    if source == "shopify":
        return Context("shopify", None, "", day)
    marketplace = marketplace or "amazon_us"
    if marketplace not in MARKETPLACES:
        raise InputError(f"unknown marketplace {marketplace!r}: expected one of {', '.join(MARKETPLACES)}")
    return Context(marketplace, MARKETPLACES[marketplace][0], "FBA-" + marketplace.split("_")[1].upper(), day)


def scan(reports_dir: Path, source: str, ctx: Context, result: ImportResult,
         skip: tuple[Path, ...] = ()) -> dict[str, list[Report]]:
    """Read every file of the folder; group recognised ones by format, report the others by name.

    ``skip``: the catalog and template paths, which may sit in the same folder."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        raise InputError(f"{reports_dir}: not a folder (expected the folder of downloaded reports)")
    found: dict[str, list[Report]] = {}
    skipped = {p.resolve() for p in skip}
    for path in sorted(p for p in reports_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if path.resolve() in skipped:
            continue
        if path.suffix.lower() in (".xlsx", ".xls"):
            ctx.reject_file(path.name, "spreadsheet file: open it and save it as CSV (the importer reads CSV and "
                                       "tab-separated text)")
            continue
        rep = read_report(path)
        for line, reason in rep.ragged:
            ctx.rejects.append(pd.DataFrame({"file": [path.name], "line": [line], "column": [""], "reason": [reason]}))
        if rep.fmt is None or rep.fmt.source not in (source, "seller"):
            best, missing = closest(rep.header)
            why = (f"a {rep.fmt.source} report ({rep.fmt.title}), not {source}" if rep.fmt is not None else
                   f"header matches no known format; closest: {best.title} ({best.name}), missing "
                   + ", ".join(missing))
            ctx.reject_file(path.name, why)
            ctx.notes.append(f"{path.name} not imported: {why}")
            continue
        found.setdefault(rep.fmt.name, []).append(rep)
        result.files.append((path.name, rep.fmt.title, len(rep.rows)))
    return found


def convert(found: dict[str, list[Report]], ctx: Context) -> build.Converted:
    get = lambda name: found.get(name, [])  # noqa: E731
    if ctx.channel == "shopify":
        lines, cover = shopify.orders(get("shopify_orders"), ctx)
        conv = build.Converted(lines, cover)
        conv.store_stock = shopify.inventory(get("shopify_inventory"), ctx)
    else:
        lines, cover = amazon.orders(get("amazon_all_orders"), ctx)
        conv = build.Converted(lines, cover)
        conv.ledger = amazon.ledger(get("amazon_ledger_summary"), ctx)
        conv.sessions = amazon.business_report(get("amazon_business_report_child"), ctx)
        conv.returns, conv.returns_cover = amazon.customer_returns(get("amazon_customer_returns"), ctx)
        sp, sp_cover = amazon.advertised_products(get("amazon_sp_advertised_product"), ctx, "SP")
        sd, sd_cover = amazon.advertised_products(get("amazon_sd_advertised_product"), ctx, "SD")
        ads = [a for a in (sp, sd) if len(a)]
        conv.ads = pd.concat(ads, ignore_index=True) if ads else pd.DataFrame()
        conv.ads_cover = sp_cover.union(sd_cover)
    if ctx.as_of is None:
        dated = [conv.lines["date"]] + ([conv.ledger["date"]] if len(conv.ledger) else [])
        last = pd.concat(dated).max() if any(len(d) for d in dated) else pd.NaT
        if pd.isna(last) and (get("amazon_manage_inventory") or get("shopify_inventory")):
            raise InputError("the inventory reports carry no date and no orders were imported: give --as-of DATE")
        ctx.as_of = None if pd.isna(last) else pd.Timestamp(last)
    if ctx.channel != "shopify":
        conv.snapshot = amazon.manage_inventory(get("amazon_manage_inventory"), ctx)
    conv.purchase_orders = sheets.purchase_orders(get("purchase_orders"), ctx)
    return conv


def run_import(source: str, reports_dir: Path, catalog: Path | None, out: Path | None,
               marketplace: str | None = None, as_of: str | None = None,
               template: Path | None = None) -> ImportResult:
    """Import a folder of reports into ``out`` (or, with ``template``, write a pre-filled catalog template)."""
    ctx = _context(source, marketplace, as_of)
    result = ImportResult()
    skip = tuple(Path(p) for p in (catalog, template) if p is not None)
    conv = convert(scan(reports_dir, source, ctx, result, skip), ctx)
    known = build.known_skus(conv)
    if template is not None:
        result.template_rows = sheets.write_template(Path(template), known, source, catalog)
        result.notes = ctx.notes
        return result
    if catalog is None or out is None:
        raise InputError("give --catalog FILE and --out DATASET_DIR (or --catalog-template FILE to write a template)")
    existing = read_existing(Path(out), "products")
    if existing is not None:  # a blank catalog cell keeps what the dataset already has
        old = existing.reindex(columns=["sku", "title", "price"]).replace("", None)
        old["price"] = pd.to_numeric(old["price"], errors="coerce")
        known = pd.concat([known, old], ignore_index=True).groupby("sku", as_index=False).first()
    products = sheets.read_catalog(Path(catalog), known)
    build.require_catalog(conv, pd.Index(products["sku"]), str(catalog))
    skus = pd.Index(products["sku"])
    tables = {
        "products": products,
        "sales": build.build_sales(conv, ctx, products) if conv.cover else None,
        "inventory": build.build_inventory(conv, ctx, skus),
        "shipments": build.build_shipments(conv, ctx, products),
        "ads": build.build_ads(conv, ctx, skus),
        "returns": build.build_returns(conv, ctx, skus),
    }
    if tables["inventory"].rows.empty:
        tables["inventory"] = None
    if tables["shipments"].rows.empty:
        if tables["shipments"].drop_prefix is None:
            tables["shipments"] = None
        if read_existing(Path(out), "shipments") is None:
            raise InputError(f"{reports_dir}: no purchase orders found; the dataset needs a shipments table: add a "
                             "purchase-order sheet (shipment_id, sku, supplier, mode, qty, order_date, ship_date, eta, "
                             "received_date, location) to the reports folder")
    rejects = ctx.rejects_frame()
    result.rows = write_dataset(Path(out), tables, rejects)
    result.rejects, result.notes = len(rejects), ctx.notes
    return result


__all__ = ["run_import", "ImportResult", "SOURCES"]

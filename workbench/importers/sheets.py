"""The seller's own sheets: the catalog (-> products), its pre-filled template, and purchase orders (-> shipments).

No marketplace report has unit cost, supplier, MOQ, case pack, key item, brand registry or product type:
those come from the seller's catalog sheet, in the columns of the contract's ``products`` table (headers
matched like report headers: ``Unit Cost`` = ``unit_cost``). Title and price may be left empty there;
the reports fill them.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.schema import FALSE_WORDS, SHIP_MODES, TABLES, TRUE_WORDS
from workbench.data.validate import check_table
from workbench.errors import InputError
from workbench.importers.core import Context, base_frame
from workbench.importers.parse import Report, days, fmt_number, money, read_report, share, whole
from workbench.io import write_frame

PRODUCT_COLUMNS = [c.name for c in TABLES["products"].columns]
_ALIASES = {"key_item": "is_key_item", "brand_registry": "brand_registered", "registered_brand": "brand_registered",
            "cost": "unit_cost", "landed_cost": "unit_cost", "min_order_qty": "moq", "minimum_order_quantity": "moq",
            "units_per_carton": "case_pack", "carton_qty": "case_pack", "seller_sku": "sku", "msku": "sku"}
DEFAULT_FEE_RATE = {"amazon": 0.15, "shopify": 0.03}  # template pre-fill: Amazon referral fee / card processing


def snake(name: str) -> str:
    s = re.sub(r"[^0-9a-z]+", "_", str(name).replace("\ufeff", "").strip().lower()).strip("_")
    return _ALIASES.get(s, s)


def read_catalog(path: Path, known: pd.DataFrame) -> pd.DataFrame:
    """The catalog as a products table of strings; blank title/price are filled from ``known`` (sku, title, price).

    Raises InputError with ``file:line:column: message`` lines when a value is unusable.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: catalog file not found (write one with --catalog-template FILE)")
    rep = read_report(path)
    cols = [snake(h) for h in rep.header]
    frame = pd.DataFrame({c: rep.rows.iloc[:, i].str.strip() for i, c in enumerate(cols)}, index=rep.rows.index)
    if "sku" not in frame.columns:
        raise InputError(f"{path}:1:sku: the catalog needs a sku column (columns: {', '.join(PRODUCT_COLUMNS)})")
    frame = frame.fillna("")
    known = known.drop_duplicates("sku").set_index("sku")
    for col in ("title", "price"):
        have = frame[col] if col in frame.columns else pd.Series("", index=frame.index)
        fill = frame["sku"].map(known[col]) if col in known.columns else pd.Series(np.nan, index=frame.index)
        frame[col] = have.where(have != "", fill.map(lambda v: v if isinstance(v, str) else fmt_number(v)).fillna(""))
    for col in ("unit_cost", "price"):
        if col in frame.columns:
            frame[col] = _clean(frame[col], money)
    if "fee_rate" in frame.columns:
        pct = frame["fee_rate"].str.contains("%")
        frame["fee_rate"] = _clean(frame["fee_rate"], money).where(~pct, _clean(frame["fee_rate"], share))
    for col in ("moq", "case_pack"):
        if col in frame.columns:
            frame[col] = _clean(frame[col], whole)
    if "product_type" in frame.columns:
        frame["product_type"] = frame["product_type"].str.lower().str.replace(" ", "_").str.replace("-", "_")
    for col in ("brand_registered", "is_key_item"):
        if col in frame.columns:
            low = frame[col].str.lower()
            frame[col] = np.where(low.isin(TRUE_WORDS), "true", np.where(low.isin(FALSE_WORDS), "false", frame[col]))
    _check_catalog(frame, rep)
    ordered = [c for c in PRODUCT_COLUMNS if c in frame.columns] + [c for c in frame.columns if c not in PRODUCT_COLUMNS]
    return frame[ordered].reset_index(drop=True)


def _clean(cells: pd.Series, parse) -> pd.Series:
    """Parsed and re-written numbers; a cell that does not parse is kept as written (the check names it)."""
    v = parse(cells)
    return v.map(fmt_number).where(v.notna(), cells)


def _check_catalog(frame: pd.DataFrame, rep: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "products.csv"
        frame.to_csv(staged, index=False)
        ct = check_table(TABLES["products"], staged, shown_as=str(rep.path))
    problems = [f"{rep.path}:1:{p.column}: {p.message}" for p in ct.file_problems]
    for rp in ct.row_problems:
        for pos, msg in zip(rp.positions, rp.messages):
            problems.append(f"{rep.path}:{rep.lines[pos]}:{rp.column}: {msg}")
    if problems:
        raise InputError(f"{rep.path}: the catalog has {len(problems)} problem(s)", problems)


def write_template(path: Path, known: pd.DataFrame, source: str, catalog: Path | None = None) -> int:
    """Write a catalog template: one row per SKU seen in the reports, what the reports know filled in.

    Rows of an existing catalog come first, unchanged; SKUs it lacks are added. Returns the rows added.
    """
    base = pd.DataFrame(columns=PRODUCT_COLUMNS)
    if catalog is not None and Path(catalog).is_file():
        rep = read_report(Path(catalog))
        base = pd.DataFrame({snake(h): rep.rows.iloc[:, i] for i, h in enumerate(rep.header)})
    seen = known.drop_duplicates("sku")
    new = seen.loc[~seen["sku"].isin(base.get("sku", pd.Series(dtype=object)))]
    add = pd.DataFrame({c: "" for c in PRODUCT_COLUMNS}, index=range(len(new)))
    add["sku"] = new["sku"].to_numpy()
    add["title"] = new["title"].fillna("").to_numpy() if "title" in new else ""
    add["price"] = new["price"].map(fmt_number).to_numpy() if "price" in new else ""
    add["fee_rate"] = fmt_number(DEFAULT_FEE_RATE.get(source, np.nan))
    out = pd.concat([base, add], ignore_index=True).fillna("")
    write_frame(out[[c for c in PRODUCT_COLUMNS] + [c for c in out.columns if c not in PRODUCT_COLUMNS]], path)
    return len(add)


def purchase_orders(reports: list[Report], ctx: Context) -> pd.DataFrame:
    """The purchase-order sheet -> shipments rows (strings); unusable lines go to the rejects."""
    parts = []
    for rep in reports:
        pos = rep.fmt.resolve(rep.header)
        f = base_frame(rep, pos, ("shipment_id", "sku", "supplier", "location"))
        f["mode"] = rep.field("mode", pos).str.lower()
        qty = whole(rep.field("qty", pos))
        f["qty"] = qty.map(fmt_number)
        f["freight_cost"] = money(rep.field("freight_cost", pos)).map(fmt_number)
        bad = pd.Series("", index=f.index)
        for col in ("order_date", "ship_date", "eta", "received_date"):
            cells = rep.field(col, pos)
            day = days(cells)[0]
            f[col] = day.dt.strftime("%Y-%m-%d").fillna("")
            bad = bad.where(bad != "", pd.Series(np.where(cells.ne("") & day.isna(), f"{col}: expected a date, got \""
                                                          + cells + "\"", ""), index=f.index))
        bad = bad.where(bad != "", np.where(f["order_date"] == "", "order_date: expected a date", ""))
        bad = bad.where(bad != "", np.where(~(qty >= 1), "qty: expected a whole number >= 1", ""))
        bad = bad.where(bad != "", np.where(~f["mode"].isin(SHIP_MODES), "mode: expected one of " + ", ".join(SHIP_MODES), ""))
        for col in ("shipment_id", "sku", "supplier", "location"):
            bad = bad.where(bad != "", np.where(f[col] == "", f"{col}: expected a value", ""))
        ctx.reject(rep, (bad != "").to_numpy(), bad)
        parts.append(f.loc[bad == ""])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

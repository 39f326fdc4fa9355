"""Load a dataset directory into typed frames, once, at the boundary.

Structural problems (a required table or column missing, an unreadable file) stop the load with an
:class:`~workbench.errors.InputError` listing every problem as ``file:row:column: message``.
Row-level problems (a bad number, an impossible date, an unknown SKU, a duplicate key) do not stop
it: those rows are left out of the frames, counted, and kept in ``Dataset.rejects`` with their
reason, to be written beside the run's output. The input directory is only ever read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.schema import TABLES
from workbench.data.validate import CheckedTable, check_dataset, find_table_file
from workbench.errors import InputError
from workbench.io import write_frame

REJECT_COLUMNS = ["table", "file", "row", "column", "reason", "record"]
# Sales data older than this (days before the decision date) is warned about as stale.
STALE_AFTER_DAYS = 14


@dataclass
class Dataset:
    path: Path
    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    row_counts: dict[str, int] = field(default_factory=dict)  # rows read per table, before rejects

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise InputError(f"{self.path}: table {name} is not in this dataset "
                             f"(expected {name}.csv or {name}.parquet)")
        return self.tables[name]

    def get(self, name: str) -> pd.DataFrame | None:
        """The table, or None when the dataset does not have this optional table."""
        return self.tables.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    @property
    def n_rejected(self) -> int:
        return len(self.rejects)

    def rejects_summary(self) -> str:
        if self.rejects.empty:
            return "no rows rejected"
        counts = self.rejects.groupby("table").size()
        return "rejected " + ", ".join(f"{n} {t} row(s)" for t, n in counts.items())

    def check_as_of(self, as_of, stale_after_days: int = STALE_AFTER_DAYS) -> str | None:
        """Compare the decision date with the sales history: before it is an :class:`InputError` (there is
        nothing to decide on); more than ``stale_after_days`` after the last sale returns a warning."""
        sales = self.tables.get("sales")
        if sales is None or sales.empty:
            return None
        as_of = pd.Timestamp(as_of).normalize()
        first, last = sales["date"].min(), sales["date"].max()
        where = find_table_file(self.path, "sales") or self.path / "sales.csv"
        if as_of < first:
            raise InputError(f"--as-of {as_of.date()} is before the first sales date {first.date()} in {where}: "
                             "there is no history to decide on (use a date within or after the data)")
        gap = (as_of - last).days
        if gap > stale_after_days:
            return (f"warning: stale data: the last sales date in {where} is {last.date()}, {gap} days before "
                    f"--as-of {as_of.date()}; the recommendations assume nothing sold since. Export fresh data?")
        return None

    def write_rejects(self, path: Path | str) -> Path:
        """Write every rejected row with its reason (an empty file with a header when there are none)."""
        return write_frame(self.rejects, path)


def _records(raw: pd.DataFrame, positions: np.ndarray) -> pd.Series:
    rows = raw.iloc[positions].astype(str)
    return pd.Series([json.dumps(r, ensure_ascii=False) for r in rows.to_dict("records")], dtype=object)


def _reject_frame(ct: CheckedTable, raw: pd.DataFrame, extra: list[tuple[np.ndarray, str, pd.Series]]) -> pd.DataFrame:
    parts = []
    items = [(rp.positions, rp.column, rp.messages) for rp in ct.row_problems] + extra
    for positions, column, messages in items:
        if len(positions) == 0:
            continue
        parts.append(pd.DataFrame({
            "table": ct.table.name,
            "file": ct.file,
            "row": ct.row_numbers(positions),
            "column": column,
            "reason": messages.to_numpy(),
            "_pos": positions,
        }))
    if not parts:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    out = pd.concat(parts, ignore_index=True).sort_values(["row", "column"], kind="stable")
    out["record"] = _records(raw, out["_pos"].to_numpy()).to_numpy()
    return out.drop(columns="_pos").reset_index(drop=True)


# Tables with fewer rows are left as they are (products, shipments, events: nothing worth saving).
COMPACT_MIN_ROWS = 100_000
_SMALL_INTS = {"int64": "int32", "Int64": "Int32"}


def compact(frame: pd.DataFrame, table) -> pd.DataFrame:
    """Store a large typed table in less memory, values unchanged (issue 12, item 8: 10,000 SKUs in 4 GB):
    whole-number columns (units, sessions, on_hand, clicks, ranks...) whose values fit become 32-bit
    (``int32`` / ``Int32``: 4 bytes a row instead of 8). Sums and products of them are computed in 64 bits
    by pandas and numpy as before.

    Text columns stay Python strings: SKU, channel and campaign as pandas categoricals would save another
    ~0.4 GB at 10,000 SKUs, but 150+ ``groupby`` calls in the policies, risk and forecast modules use
    ``observed=False`` (the pandas 2 default) and some compare text columns with ``<`` (issue 12 notes).
    """
    if len(frame) < COMPACT_MIN_ROWS or table.name == "products":
        return frame
    for col in table.columns:
        s = frame[col.name] if col.name in frame.columns else None
        if s is None or col.kind != "int" or str(s.dtype) not in _SMALL_INTS:
            continue
        lo, hi = s.min(), s.max()
        if pd.notna(lo) and np.iinfo(np.int32).min < lo and hi < np.iinfo(np.int32).max:
            frame[col.name] = s.astype(_SMALL_INTS[str(s.dtype)])
    return frame


def load_dataset(data_dir: Path | str) -> Dataset:
    """Load and type every table present; raise InputError on structural problems only."""
    data_dir = Path(data_dir)
    report = check_dataset(data_dir, max_per_column=None)
    fatal = list(report.dataset_problems)
    for ct in report.tables.values():
        fatal.extend(ct.file_problems)
    if fatal:
        raise InputError(f"{data_dir}: the dataset cannot be loaded ({len(fatal)} problem(s))",
                         [str(p) for p in fatal])

    tables: dict[str, pd.DataFrame] = {}
    rejects: list[pd.DataFrame] = []
    counts: dict[str, int] = {}
    kept_products = None
    products_read = report.tables["products"].frame["sku"]  # every SKU in the products file, rejected or not
    # products first: rows of other tables whose SKU was rejected from products are rejected too
    for name in ["products"] + [n for n in report.tables if n != "products"]:
        ct = report.tables[name]
        counts[name] = ct.n_rows
        bad = np.zeros(ct.n_rows, dtype=bool)
        bad[ct.bad_positions()] = True
        extra = []
        sku_col = ct.table.sku_column
        if kept_products is not None and sku_col and sku_col in ct.frame.columns:
            s = ct.frame[sku_col]
            cascade = (~bad) & s.isin(products_read).to_numpy() & ~s.isin(kept_products).to_numpy()
            if cascade.any():
                pos = np.flatnonzero(cascade)
                extra.append((pos, sku_col, "SKU " + s.iloc[pos].astype(str).reset_index(drop=True)
                              + " was rejected in products"))
                bad |= cascade
        if bad.any():
            rejects.append(_reject_frame(ct, ct.raw, extra))
        frame = ct.frame.loc[~bad].reset_index(drop=True) if bad.any() else ct.frame
        tables[name] = compact(frame, ct.table)
        ct.frame = ct.raw = None  # the checked copies go as soon as the loaded table exists
        if name == "products":
            kept_products = pd.Index(frame["sku"])
    rej = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    return Dataset(data_dir, tables, rej, counts)


__all__ = ["Dataset", "load_dataset", "REJECT_COLUMNS", "TABLES"]

"""Merge imported tables into a dataset directory: replace what the import covers, keep the rest, validate, write.

Everything is staged in a temporary folder beside the dataset and checked with ``workbench validate``'s
own checks first; only a dataset that validates replaces the files (each by an atomic rename). The
tables are written as text in a fixed order, so importing the same files again rewrites identical bytes.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from workbench.data.schema import TABLES
from workbench.data.validate import check_dataset, find_table_file
from workbench.errors import InputError
from workbench.importers.build import Table
from workbench.io import write_frame


def read_existing(out: Path, name: str) -> pd.DataFrame | None:
    path = find_table_file(out, name)
    if path is None:
        return None
    if path.suffix == ".parquet":
        raise InputError(f"{path}: the importer merges into CSV datasets; convert {path.name} to {name}.csv first")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


def merge_table(name: str, existing: pd.DataFrame | None, new: Table) -> pd.DataFrame:
    """Existing rows outside the new table's scope, then the new rows; on a key clash the new row wins."""
    key = list(TABLES[name].key) or [c for c in ("date", "sku", "channel") if c in new.rows.columns]
    if existing is None or existing.empty:
        out = new.rows
    else:
        keep = pd.Series(True, index=existing.index)
        if new.scope is not None and len(new.scope):
            cols = list(new.scope.columns)
            covered = existing[cols].merge(new.scope.drop_duplicates(), on=cols, how="left", indicator=True)
            keep &= (covered["_merge"] == "left_only").to_numpy()
        if new.drop_prefix and "shipment_id" in existing:
            keep &= ~existing["shipment_id"].str.startswith(new.drop_prefix)
        out = pd.concat([existing.loc[keep], new.rows], ignore_index=True)
        if TABLES[name].key:
            out = out.drop_duplicates(key, keep="last")
    contract = [c.name for c in TABLES[name].columns]
    cols = [c for c in contract if c in out.columns] + sorted(c for c in out.columns if c not in contract)
    return out[cols].fillna("").astype(str).sort_values(key, kind="stable").reset_index(drop=True)


def write_dataset(out: Path, tables: dict[str, Table | pd.DataFrame], rejects: pd.DataFrame) -> dict[str, int]:
    """Merge, validate the whole resulting dataset, then put the changed files in place. Returns rows per table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    merged = {}
    for name, new in tables.items():
        if new is None:
            continue
        new = new if isinstance(new, Table) else Table(new, scope=new[["sku"]])
        merged[name] = merge_table(name, read_existing(out, name), new)
    stage = Path(tempfile.mkdtemp(prefix=".import-", dir=out.parent))
    try:
        for name in TABLES:
            if name in merged:
                write_frame(merged[name], stage / f"{name}.csv")
            elif (path := find_table_file(out, name)) is not None:
                shutil.copy2(path, stage / path.name)
        report = check_dataset(stage, max_per_column=20)
        if not report.ok:
            lines = [line.replace(str(stage), str(out)) for line in report.lines()]
            raise InputError(f"{out}: the imported dataset does not validate ({report.problem_count} problem(s))", lines)
        for name in merged:
            os.replace(stage / f"{name}.csv", out / f"{name}.csv")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    write_frame(rejects, out / "rejects.csv")
    return {name: len(frame) for name, frame in merged.items()}

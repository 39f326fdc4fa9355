"""Atomic writes: write to a temporary file in the target folder, then rename over the target.

A reader never sees a half-written file, and a failure leaves the previous file in place.

Every CSV the workbench writes is opened by people in Excel or Sheets, so :func:`write_frame` defuses
formula injection (OWASP "CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a leading ``'`` (so do cells that already start with ``'`` followed by
one of those, which keeps the encoding reversible). Numbers, negative ones included, stay numbers.
:func:`read_frame` undoes it, so ids such as a SKU ``=1+1`` round-trip through the workbench's own
CSVs; ids are read as text, never as numbers (``00001`` stays ``00001``, ``NA`` stays ``NA``).
"""
from __future__ import annotations

import csv
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, on error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(folder: Path | str) -> None:
    """Create ``folder`` if needed and prove a file can be written in it; raises OSError when not."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
        pass


def write_text(path: Path | str, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: Path | str, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


# A cell a spreadsheet would run as a formula; quotes in front are counted so the escape is reversible.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")
# Columns that hold identifiers: read back as text with no NA guessing (a SKU may be "NA" or "00001").
ID_COLUMNS = ("sku", "unique_id", "channel", "campaign", "location", "supplier", "shipment_id", "title",
              "brand", "category", "keyword", "scenario", "supplier_sku")


def _defuse(value):
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.match(value):
        return "'" + value
    return value


def _undo(value):
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas (numbers and non-text columns unchanged)."""
    text_cols = [c for c in df.columns if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype)
                 or isinstance(df[c].dtype, pd.CategoricalDtype)]
    if not text_cols:
        return df
    out = df.copy()
    for c in text_cols:
        s = out[c].astype(object) if isinstance(out[c].dtype, pd.CategoricalDtype) else out[c]
        out[c] = s.map(_defuse, na_action="ignore")
    out.columns = [_defuse(str(c)) for c in out.columns]
    return out


def write_frame(df: pd.DataFrame, path: Path | str) -> Path:
    """Write a frame as CSV or Parquet (``.parquet`` / ``.pq``), atomically. Dates are written as ISO strings.

    CSV text cells are defused against formula injection (see the module docstring); Parquet keeps
    values as they are (no spreadsheet opens it).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() in (".parquet", ".pq"):
            df.to_parquet(tmp, index=False)
        else:
            safe = neutralize_formulas(df)
            # the csv module quotes "\n" but not a bare "\r": quote every text cell when one holds it
            quoting = csv.QUOTE_NONNUMERIC if _has_cr(safe) else csv.QUOTE_MINIMAL
            safe.to_csv(tmp, index=False, date_format="%Y-%m-%d", lineterminator="\n", quoting=quoting)
    return path


def _has_cr(df: pd.DataFrame) -> bool:
    return any(df[c].map(lambda v: isinstance(v, str) and "\r" in v).any()
               for c in df.columns if df[c].dtype == object)


def read_frame(path: Path | str, parse_dates: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV (or Parquet) the workbench wrote: ids as text, formula escapes undone, dates parsed."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        df = pd.read_parquet(path)
    else:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
        ids = {c: str for c in header if _undo(c) in ID_COLUMNS}
        df = pd.read_csv(path, dtype=ids, keep_default_na=False, na_values={c: [""] for c in ids} | {
            c: _NA_WORDS for c in header if c not in ids}, encoding="utf-8-sig")
        df.columns = [_undo(c) for c in df.columns]
        for c in df.columns:
            if df[c].dtype == object:
                df[c] = df[c].map(_undo, na_action="ignore")
    for c in parse_dates:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c], errors="coerce")
    return df


# What pandas reads as missing in non-id columns (its defaults minus nothing: an empty cell is missing).
_NA_WORDS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
             "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]

"""Reading report files as downloaded, and the cell formats they use.

Files are read as text (UTF-8 with or without a byte-order mark, falling back to Windows-1252), with any
line ending, tab- or comma-separated (decided from the header line). Every cell stays a string until a
parser below turns it into a number or a day; a cell that does not parse comes back as missing, and the
caller sends its row to the rejects with the reason. SKUs are never parsed: ``00123`` stays ``00123``.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from workbench.importers.formats import Format, recognise


@dataclass
class Report:
    """One input file: its header, its rows as strings, and the line number of each row."""

    path: Path
    header: list[str]
    rows: pd.DataFrame  # one column per header cell, all strings ("" when empty)
    lines: np.ndarray  # 1-based line number of each row in the file
    ragged: list[tuple[int, str]]  # (line, reason) of rows that do not fit the header
    fmt: Format | None = None

    def field(self, name: str, pos: dict[str, int]) -> pd.Series:
        """The column of a format field, stripped; all "" when the file does not have it."""
        if name not in pos:
            return pd.Series("", index=self.rows.index, dtype=object)
        return self.rows.iloc[:, pos[name]].str.strip()


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_report(path: Path) -> Report:
    """Read a CSV / tab-separated file without interpreting any cell (the file is only read)."""
    text = _decode(Path(path).read_bytes())
    first = text.split("\n", 1)[0]
    delim = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] = []
    records, lines, ragged = [], [], []
    for rec in reader:
        if not header:
            if any(c.strip() for c in rec):
                header = [c.strip().lstrip("\ufeff") for c in rec]
            continue
        if not any(c.strip() for c in rec):
            continue  # blank line
        if len(rec) > len(header) and any(c.strip() for c in rec[len(header):]):
            ragged.append((reader.line_num, f"{len(rec)} cells but the header has {len(header)}"))
            continue
        rec = (rec + [""] * len(header))[: len(header)]
        records.append(rec)
        lines.append(reader.line_num)
    rows = pd.DataFrame(records, columns=range(len(header)), dtype=object) if header else pd.DataFrame()
    return Report(Path(path), header, rows, np.asarray(lines, dtype=np.int64), ragged, recognise(header))


# --- numbers -------------------------------------------------------------------------------------

_CURRENCY = re.compile(r"(US\$|CA\$|A\$|[$€£¥₹]|\b[A-Z]{3}\b)")


def _number(cell: str) -> float:
    s = _CURRENCY.sub("", cell.strip()).replace("\u00a0", "").replace(" ", "")
    neg = s.startswith("(") and s.endswith(")")
    s = s.strip("()")
    if re.fullmatch(r"-?\d+,\d{1,2}", s):  # decimal comma: 12,34
        s = s.replace(",", ".")
    s = s.replace(",", "")
    if s in ("", "-", "--"):
        return np.nan
    try:
        v = float(s)
    except ValueError:
        return np.nan
    return -v if neg else v


def money(s: pd.Series) -> pd.Series:
    """``$1,234.50``, ``USD 12.34``, ``(3.00)``, ``12,34`` -> float; empty or unreadable -> NaN."""
    u = pd.unique(s)
    m = {v: _number(v) for v in u}
    return s.map(m).astype("float64")


def share(s: pd.Series) -> pd.Series:
    """``20.00%`` -> 0.2; a bare number is read as a percentage too (``20`` -> 0.2)."""
    return money(s.str.replace("%", "", regex=False)) / 100.0


def whole(s: pd.Series) -> pd.Series:
    """Whole numbers (``1,234`` -> 1234); fractions and unreadable cells -> NaN."""
    v = money(s)
    return v.where(np.floor(v) == v)


def fmt_number(v: float) -> str:
    """A number as written to the dataset: whole numbers without decimals, others rounded to cents."""
    if pd.isna(v):
        return ""
    v = round(float(v), 6)
    return str(int(v)) if float(v).is_integer() else f"{v:.6f}".rstrip("0").rstrip(".")


# --- days ----------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?$", re.I)
_MON = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})$")
_MONTH_ONLY = re.compile(r"^(\d{1,2})/(\d{4})$")


def _offset(text: str | None):
    from datetime import timedelta, timezone

    if not text:
        return None
    if text in ("Z", "UTC"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    hh, mm = int(text[1:3]), int(text.replace(":", "")[3:5])
    return timezone(sign * timedelta(hours=hh, minutes=mm))


def _one_day(cell: str, tz: ZoneInfo | None) -> tuple[date | None, bool]:
    """(day, is_month) for one cell; the day is in ``tz`` when the cell carries an offset."""
    c = cell.strip()
    try:
        if m := _ISO.match(c):
            y, mo, d, hh, mi, ss, off = m.groups()
            if hh is None:
                return date(int(y), int(mo), int(d)), False
            t = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0), tzinfo=_offset(off))
            if t.tzinfo is not None and tz is not None:
                t = t.astimezone(tz)
            return t.date(), False
        if m := _US.match(c):
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2))), False
        if m := _MON.match(c):
            mon = _MONTHS.get(m.group(1).lower())
            return (date(int(m.group(3)), mon, int(m.group(2))), False) if mon else (None, False)
        if m := _MONTH_ONLY.match(c):
            first = date(int(m.group(2)), int(m.group(1)), 1)
            return (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date(), True
    except ValueError:
        return None, False
    return None, False


def days(s: pd.Series, tz: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse report dates to local days: (datetime64 day or NaT, True where the cell was a month ``MM/YYYY``).

    Accepts ISO dates and timestamps (``2026-11-23T07:15:00+00:00``, ``2026-11-23 10:15:22 -0500``),
    ``MM/DD/YYYY`` and ``Mon DD, YYYY``. Timestamps with an offset are converted to ``tz`` (the
    marketplace's zone) before the day is taken; without ``tz`` the day is the one written.
    """
    zone = ZoneInfo(tz) if tz else None
    parsed = {v: _one_day(v, zone) for v in pd.unique(s)}
    day = s.map({k: (pd.Timestamp(v[0]) if v[0] else pd.NaT) for k, v in parsed.items()})
    month = s.map({k: v[1] for k, v in parsed.items()}).astype(bool)
    return pd.to_datetime(day), month


def day_from_name(path: Path) -> pd.Timestamp | None:
    """A YYYY-MM-DD day written in a file name (for the Business Report, which has no date column)."""
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", path.name)
    if not m:
        return None
    try:
        return pd.Timestamp(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    except ValueError:
        return None

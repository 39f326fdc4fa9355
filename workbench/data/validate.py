"""Check a dataset directory against the contract in :mod:`workbench.data.schema`.

Every problem is reported as ``file:row:column: message``. ``row`` is the line number in a CSV file
(the header is line 1, so the first record is line 2) and the 1-based record number in a Parquet
file; ``-`` stands for "the whole file" or "the whole row". The same checks feed the loader
(:mod:`workbench.data.load`), which turns row-level problems into rejects instead of errors.

Checks are vectorized: columns are parsed once per distinct value (a 7 M-row sales table has only a
few hundred distinct dates), so validating 10,000 SKUs x 2 years of daily sales takes seconds.
"""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.schema import CONTRACT_TABLES, FALSE_WORDS, REQUIRED_TABLES, TRUE_WORDS, Column, Table
from workbench.errors import InputError

# Largest magnitude accepted in a number column: far above any real quantity or price, and exactly
# representable, so 1e308 or 2**63 is an input error instead of an overflow far from the file.
MAX_ABS = 1e12
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        row = "-" if self.row is None else str(self.row)
        return f"{self.file}:{row}:{self.column or '-'}: {self.message}"


@dataclass
class RowProblems:
    """Row-level problems of one column check: positions of the bad rows and one message each."""

    column: str
    positions: np.ndarray  # 0-based row positions in the frame
    messages: pd.Series  # aligned with positions


@dataclass
class CheckedTable:
    """The outcome of checking one table file."""

    table: Table
    file: str  # the path as shown in messages
    first_row: int  # line/record number of position 0 (2 for CSV, 1 for Parquet)
    frame: pd.DataFrame | None  # typed frame (all rows, bad cells as NaN/NaT) or None if unreadable
    raw: pd.DataFrame | None = None  # the cells as read, for rejects
    file_problems: list[Problem] = field(default_factory=list)
    row_problems: list[RowProblems] = field(default_factory=list)
    lines: np.ndarray | None = None  # line of each record when records span lines (quoted newlines)

    def row_numbers(self, positions) -> np.ndarray:
        """The line (CSV) or record (Parquet) number people see for 0-based row positions."""
        positions = np.asarray(positions, dtype=np.int64)
        return self.lines[positions] if self.lines is not None else positions + self.first_row

    @property
    def n_rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    def bad_positions(self) -> np.ndarray:
        if not self.row_problems:
            return np.array([], dtype=np.int64)
        return np.unique(np.concatenate([rp.positions for rp in self.row_problems]))

    def problems(self, max_per_column: int | None = None) -> list[Problem]:
        out = list(self.file_problems)
        for rp in self.row_problems:
            order = np.argsort(rp.positions, kind="stable")
            shown = order if max_per_column is None else order[:max_per_column]
            for i in shown:
                out.append(Problem(self.file, int(self.row_numbers(rp.positions[i])), rp.column,
                                   rp.messages.iloc[i]))
            hidden = len(order) - len(shown)
            if hidden > 0:
                out.append(Problem(self.file, None, rp.column, f"... and {hidden} more rows with this problem"))
        return out

    def problem_count(self) -> int:
        return len(self.file_problems) + sum(len(rp.positions) for rp in self.row_problems)


def find_table_file(data_dir: Path, name: str) -> Path | None:
    for ext in (".csv", ".parquet"):
        p = data_dir / f"{name}{ext}"
        if p.is_file():
            return p
    return None


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message says why in plain words."""


class HeaderProblem(ValueError):
    """The header row is unusable (duplicate names, wrong delimiter); ``column`` names the culprit."""

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


def read_raw(path: Path) -> pd.DataFrame:
    """Read a table without interpreting it: CSV cells as text (empty cell = ""), Parquet as stored.

    CSV columns come back as pandas categoricals (Arrow dictionary-encoded while reading): a column of
    7 M cells with a few hundred distinct values is stored and checked once per distinct value.
    A UTF-8 byte-order mark is dropped (it must not glue to the first column name). Raises
    :class:`UnreadableFile` (not UTF-8 text, empty, not a table) or :class:`HeaderProblem`.
    """
    if path.suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as e:  # noqa: BLE001 - any reason a Parquet reader gives up
            raise UnreadableFile(f"not a Parquet table ({type(e).__name__}: {e})") from None
    header = _csv_header(path)
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        text = pa.dictionary(pa.int32(), pa.string())
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: text for c in header}, strings_can_be_null=False, null_values=[]))
        return table.to_pandas()
    except Exception:  # ragged rows, odd quoting: the forgiving C engine says more
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
        except Exception as e:  # noqa: BLE001
            raise UnreadableFile(f"not a CSV table ({type(e).__name__}: {e})") from None


def _csv_header(path: Path) -> list[str]:
    """The header of a CSV file, after checking the whole file is UTF-8 text and the header is usable."""
    first = _check_utf8_text(path)
    header = next(csv.reader([first]), [])
    if len(header) == 1 and first.count(";") > 0:
        raise HeaderProblem(f"the header has no commas but {first.count(';')} semicolons: the file looks "
                            "semicolon-delimited; save it as comma-separated CSV")
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen:
            raise HeaderProblem(f"duplicate column name (columns {seen[name]} and {i})", column=name)
        seen[name] = i
    return header


def _check_utf8_text(path: Path, chunk: int = 1 << 20) -> str:
    """Decode the whole file as UTF-8 in chunks (constant memory); return its first line, BOM removed."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, first, blank = 0, None, True
    with open(path, "rb") as f:
        while True:
            data = f.read(chunk)
            pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as e:
                at, bad = offset - pending + e.start, e.object[e.start]
                raise UnreadableFile(f"not UTF-8 text: byte 0x{bad:02x} at offset {at} cannot be decoded "
                                     f"({e.reason}); save the file as UTF-8 CSV") from None
            if "\x00" in text:
                raise UnreadableFile(f"not a text file: NUL byte near offset {offset + text.index(chr(0))}")
            if first is None:
                first = text.lstrip("\ufeff")
            elif "\n" not in first:
                first += text
            blank = blank and not text.strip()
            if not data:
                break
            offset += len(data)
    if blank:
        raise UnreadableFile("the file is empty (expected a header line and one line per record)")
    return first.splitlines()[0]


def record_lines(path: Path, n_records: int) -> np.ndarray | None:
    """Line number of each record of a CSV file when records and lines differ (quoted newlines, blank
    lines), else None (record i is on line i + 2)."""
    if path.suffix == ".parquet":
        return None
    with open(path, "rb") as f:
        newlines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    if newlines in (n_records, n_records + 1):  # one line per record (last line with or without newline)
        return None
    lines = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader, None)
        start = reader.line_num + 1
        for rec in reader:
            if rec:
                lines.append(start)
            start = reader.line_num + 1
    return np.asarray(lines, dtype=np.int64) if len(lines) == n_records else None


def _quote(values: pd.Series) -> pd.Series:
    return '"' + values.astype(str).str.slice(0, 40) + '"'


def _as_text(s: pd.Series) -> pd.Series:
    """Strings with missing values as "" and surrounding blanks removed (computed per distinct value)."""
    return _by_unique(s, lambda u: u.fillna("").astype(str).str.strip())


def _by_unique(s: pd.Series, parse) -> pd.Series:
    """Apply a vectorized parser to the distinct values only, then broadcast back."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        uniques = np.append(s.cat.categories.to_numpy(dtype=object), None)  # code -1 (missing) -> None
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=False)
    parsed = parse(pd.Series(uniques, dtype=object))
    return pd.Series(np.asarray(parsed)[codes], index=s.index)


def _check_column(col: Column, s: pd.Series) -> tuple[pd.Series, list[tuple[np.ndarray, pd.Series]]]:
    """Return the typed column and a list of (bad mask, messages for those rows)."""
    issues: list[tuple[np.ndarray, pd.Series]] = []
    if col.kind in ("int", "float") and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        empty = s.isna().to_numpy()
        values = s.astype("float64")
        infinite = np.isinf(values.to_numpy())
        if infinite.any():
            issues.append((infinite, "expected a finite number, got " + values[infinite].map(_fmt)))
            values = values.where(~infinite)
        bad_parse = np.zeros(len(s), dtype=bool)
        text = None
    elif col.kind in ("date", "timestamp") and pd.api.types.is_datetime64_any_dtype(s):
        values = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        values = values.dt.normalize() if col.kind == "date" else values
        empty = values.isna().to_numpy()
        bad_parse = np.zeros(len(s), dtype=bool)
        text = None
    elif col.kind == "bool" and pd.api.types.is_bool_dtype(s):
        empty = s.isna().to_numpy()
        values = s
        bad_parse = np.zeros(len(s), dtype=bool)
        text = None
    else:
        text = _as_text(s)
        empty = (text == "").to_numpy()
        values, bad_parse = _parse_text(col, text)
        bad_parse &= ~empty

    if not col.nullable and empty.any():
        issues.append((empty, pd.Series("expected a value, got an empty cell", index=s.index)[empty]))
    if bad_parse.any():
        shown = text[bad_parse] if text is not None else s[bad_parse].astype(str)
        issues.append((bad_parse, _expected(col) + ", got " + _quote(shown)))

    ok = ~empty & ~bad_parse
    if col.kind in ("int", "float"):
        v = values.to_numpy(dtype="float64", na_value=np.nan)
        if col.kind == "int":
            frac = ok & (np.floor(v) != v)
            if frac.any():
                issues.append((frac, "expected a whole number, got " + values[frac].map(_fmt)))
            ok &= ~frac
        if col.min is not None:
            low = ok & (v < col.min)
            if low.any():
                issues.append((low, f"expected a number >= {_fmt(col.min)}, got " + values[low].map(_fmt)))
            ok &= ~low
        if col.max is None or col.max > MAX_ABS:  # 1e308, 2**63: no quantity or price is that large
            big = ok & (np.abs(v) > MAX_ABS)
            if big.any():
                issues.append((big, f"expected a number <= {MAX_ABS:g}, got " + values[big].map(_fmt)))
            ok &= ~big
        if col.max is not None:
            high = ok & (v > col.max)
            if high.any():
                what = "a rate in [0, 1]" if (col.min, col.max) == (0, 1) else f"a number <= {_fmt(col.max)}"
                issues.append((high, f"expected {what}, got " + values[high].map(_fmt)))
    return values, issues


def _fmt(x) -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else f"{f:g}"


def _expected(col: Column) -> str:
    return {
        "int": "expected a whole number" + (f" >= {_fmt(col.min)}" if col.min is not None else ""),
        "float": "expected a number" + (f" >= {_fmt(col.min)}" if col.min is not None else ""),
        "date": "expected an ISO date YYYY-MM-DD",
        "timestamp": "expected an ISO timestamp YYYY-MM-DD[THH:MM[:SS]]",
        "bool": "expected true or false",
        "enum": "expected one of " + ", ".join(col.choices),
        "str": "expected text",
    }[col.kind]


def _parse_text(col: Column, text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse a text column; return (typed values with NaN/NaT where bad or empty, bad mask)."""
    empty = text == ""
    if col.kind in ("int", "float"):
        def parse(u: pd.Series) -> np.ndarray:
            v = pd.to_numeric(u.where(u != "", None), errors="coerce").to_numpy(dtype="float64")
            return np.where(np.isfinite(v), v, np.nan)

        values = pd.Series(_by_unique(text, parse).to_numpy(dtype="float64"), index=text.index)
        return values, values.isna().to_numpy()
    if col.kind in ("date", "timestamp"):
        pattern = _ISO_DATE if col.kind == "date" else _ISO_TIMESTAMP
        fmt = "%Y-%m-%d" if col.kind == "date" else "ISO8601"

        def parse(u: pd.Series) -> pd.Series:
            good_shape = u.str.match(pattern, na=False)
            out = pd.to_datetime(u.where(good_shape, None), format=fmt, errors="coerce")
            if getattr(out.dt, "tz", None) is not None:
                out = out.dt.tz_convert(None)
            return out.to_numpy(dtype="datetime64[ns]")

        values = pd.Series(_by_unique(text, parse).to_numpy(dtype="datetime64[ns]"), index=text.index)
        return values, (values.isna() & ~empty).to_numpy()
    if col.kind == "bool":
        low = _by_unique(text, lambda u: u.str.lower())
        is_true, is_false = low.isin(TRUE_WORDS), low.isin(FALSE_WORDS)
        values = pd.Series(pd.array(np.where(is_true, True, np.where(is_false, False, None)), dtype="boolean"),
                           index=text.index)
        return values, (~is_true & ~is_false).to_numpy()
    if col.kind == "enum":
        bad = ~_by_unique(text, lambda u: u.isin(col.choices)).astype(bool)
        return text.where(~empty, None), bad.to_numpy()
    return text.where(~empty, None), np.zeros(len(text), dtype=bool)


def check_table(table: Table, path: Path, shown_as: str | None = None) -> CheckedTable:
    """Read one table file and check its columns, ranges, key and row-internal date order."""
    shown = shown_as or str(path)
    first_row = 1 if path.suffix == ".parquet" else 2
    try:
        raw = read_raw(path)
    except HeaderProblem as e:
        return CheckedTable(table, shown, first_row, None, file_problems=[Problem(shown, 1, e.column, str(e))])
    except UnreadableFile as e:
        return CheckedTable(table, shown, first_row, None, file_problems=[Problem(shown, None, None, f"cannot read: {e}")])
    except Exception as e:  # noqa: BLE001 - unreadable file (permissions, a folder, ...): report, don't crash
        return CheckedTable(table, shown, first_row, None,
                            file_problems=[Problem(shown, None, None, f"cannot read: {type(e).__name__}: {e}")])
    ct = CheckedTable(table, shown, first_row, None, raw=raw, lines=record_lines(path, len(raw)))
    header_row = 1 if path.suffix != ".parquet" else None
    raw.columns = [str(c) for c in raw.columns]
    for c in raw.columns:
        if c != c.strip() or c != c.lower():
            ct.file_problems.append(Problem(shown, header_row, c, "column names must be lower snake case"))
    missing = [c for c in table.required_columns if c not in raw.columns]
    for c in missing:
        ct.file_problems.append(Problem(shown, header_row, c,
                                        f"required column is missing (table {table.name} needs: "
                                        f"{', '.join(table.required_columns)})"))
    if missing:
        return ct
    if len(raw) == 0 and table.required:
        ct.file_problems.append(Problem(shown, None, None, "the table has no rows"))

    typed = raw.copy(deep=False)
    for col in table.columns:
        if col.name not in raw.columns:
            continue
        values, issues = _check_column(col, raw[col.name])
        typed[col.name] = values
        for mask, messages in issues:
            ct.row_problems.append(RowProblems(col.name, np.flatnonzero(mask), messages.reset_index(drop=True)))
    ct.frame = _finish_types(table, typed)
    _check_order(ct)
    _check_key(ct, raw)
    return ct


def _finish_types(table: Table, df: pd.DataFrame) -> pd.DataFrame:
    for col in table.columns:
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if col.kind == "int":
            df[col.name] = s.round().astype("Int64") if (col.nullable or s.isna().any()) else s.astype("int64")
        elif col.kind == "bool" and not (col.nullable or s.isna().any()):
            df[col.name] = s.astype(bool)
    return df


def _check_order(ct: CheckedTable) -> None:
    df = ct.frame
    for later, earlier in ct.table.not_before:
        if later not in df.columns or earlier not in df.columns:
            continue
        a, b = df[later], df[earlier]
        bad = (a < b).to_numpy(dtype=bool, na_value=False)
        if bad.any():
            msg = (a[bad].dt.strftime("%Y-%m-%d") + f" is before {earlier} " + b[bad].dt.strftime("%Y-%m-%d"))
            ct.row_problems.append(RowProblems(later, np.flatnonzero(bad), msg.reset_index(drop=True)))


def _check_key(ct: CheckedTable, raw: pd.DataFrame) -> None:
    # an optional key column (promotions.channel) that the file leaves out is not part of its key
    key = [c for c in ct.table.key if c in raw.columns]
    if not key or len(raw) == 0:
        return
    # Combine factorized codes into one integer per row: far faster than hashing tuples of strings.
    combined = np.zeros(len(raw), dtype=np.int64)
    missing = np.zeros(len(raw), dtype=bool)
    for c in key:
        codes, uniques = pd.factorize(ct.frame[c])
        missing |= codes < 0
        combined = combined * (len(uniques) + 1) + codes
    dup = pd.Series(combined).duplicated(keep="first").to_numpy() & ~missing
    if not dup.any():
        return
    first_pos = pd.Series(np.arange(len(raw))).groupby(combined).transform("first").to_numpy()
    shown = raw.loc[dup, key].astype(str).agg(", ".join, axis=1).reset_index(drop=True)
    msg = ("duplicate key (" + ", ".join(key) + ") = (" + shown + ") first seen on row "
           + pd.Series(ct.row_numbers(first_pos[dup])).astype(str))
    ct.row_problems.append(RowProblems(",".join(key), np.flatnonzero(dup), msg))


def check_skus(checked: dict[str, CheckedTable]) -> None:
    """SKUs in any table other than products must exist in products."""
    products = checked.get("products")
    if products is None or products.frame is None:
        return
    known = pd.Index(products.frame["sku"].dropna().unique())
    where = products.file
    for name, ct in checked.items():
        col = ct.table.sku_column
        if ct.frame is None or not col or col not in ct.frame.columns:
            continue
        s = ct.frame[col]
        bad = (~s.isin(known) & s.notna()).to_numpy()
        if bad.any():
            msg = "unknown SKU " + _quote(s[bad]) + f" (not in {Path(where).name})"
            ct.row_problems.append(RowProblems(col, np.flatnonzero(bad), msg.reset_index(drop=True)))


@dataclass
class ValidationReport:
    data_dir: Path
    tables: dict[str, CheckedTable]
    dataset_problems: list[Problem]
    max_per_column: int | None = 50

    @property
    def problem_count(self) -> int:
        return len(self.dataset_problems) + sum(ct.problem_count() for ct in self.tables.values())

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problems(self) -> list[Problem]:
        out = list(self.dataset_problems)
        for ct in self.tables.values():
            out.extend(ct.problems(self.max_per_column))
        return out

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems()]

    def summary(self) -> str:
        return ", ".join(f"{name} {ct.n_rows:,} rows" for name, ct in self.tables.items())


def check_dataset(data_dir: Path, max_per_column: int | None = 50) -> ValidationReport:
    """Check every table present in ``data_dir``; missing required tables are problems."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: not a directory (expected a dataset directory of NAME.csv / NAME.parquet tables)")
    dataset_problems: list[Problem] = []
    checked: dict[str, CheckedTable] = {}
    for name, table in CONTRACT_TABLES.items():
        path = find_table_file(data_dir, name)
        if path is None:
            if name in REQUIRED_TABLES:
                dataset_problems.append(Problem(str(data_dir / f"{name}.csv"), None, None,
                                                f"required table {name} is missing (expected {name}.csv or {name}.parquet)"))
            continue
        checked[name] = check_table(table, path)
    check_skus(checked)
    return ValidationReport(data_dir, checked, dataset_problems, max_per_column)


def validate_dataset(data_dir: Path, max_per_column: int | None = 50) -> ValidationReport:
    """Entry point of ``workbench validate``: the report; its ``ok`` says whether the dataset is valid."""
    return check_dataset(data_dir, max_per_column)

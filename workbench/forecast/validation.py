"""Check the long input contract ``unique_id, ds, y`` (optional ``in_stock``) once, at the door.

Problems are reported as ``FILE:ROW:COLUMN: message`` with ROW the CSV line number (header = line 1).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import InputError

REQUIRED = ("unique_id", "ds", "y")
TRUE_WORDS = {"true", "1", "yes", "y", "t", "1.0"}
FALSE_WORDS = {"false", "0", "no", "n", "f", "0.0"}
MIN_OBS = 3
MAX_PER_COLUMN = 20


def read_long(path: Path) -> pd.DataFrame:
    """Read CSV or Parquet (by extension) keeping raw text, so validation can quote bad cells."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"input file not found: {path}", [f"{path}:0:-: file does not exist"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise InputError(f"input must be .csv or .parquet, got {path.name!r}",
                     [f"{path}:0:-: unsupported extension {suffix!r} (allowed: .csv, .parquet)"])


def exog_columns(raw: pd.DataFrame) -> dict[str, pd.Series]:
    """Extra numeric columns of the input (promotion flags, planned prices, event flags): known-in-advance
    regressors for the global model. Empty cells read as 0; a column with any non-numeric text is not
    a regressor and is ignored, as before (titles, channels)."""
    out = {}
    for c in raw.columns:
        if c in REQUIRED or c == "in_stock":
            continue
        col = raw[c]
        if col.dtype == bool:
            out[str(c)] = col.astype(float)
            continue
        blank = col.isna() | col.astype(str).str.strip().isin(["", "nan", "None", "<NA>"])
        num = pd.to_numeric(col.where(~blank), errors="coerce")
        if len(col) and not (num.isna() & ~blank).any() and (~blank).any():
            out[str(c)] = num.fillna(0.0).astype(float)
    return out


class _Problems(list):
    """``FILE:ROW:COLUMN: message`` lines, at most MAX_PER_COLUMN per check and a count of the rest."""

    def __init__(self, source: str, n_rows: int):
        super().__init__()
        self.source = source
        self.line = np.arange(n_rows) + 2  # CSV line of each row (header = line 1)

    def report(self, mask: np.ndarray, col: str, msg) -> None:
        bad = np.flatnonzero(mask)
        for i in bad[:MAX_PER_COLUMN]:
            self.append(f"{self.source}:{self.line[i]}:{col}: {msg(i)}")
        if len(bad) > MAX_PER_COLUMN:
            self.append(f"{self.source}:-:{col}: ... and {len(bad) - MAX_PER_COLUMN} more row(s) with the same problem")


def _check_shape(raw: pd.DataFrame, source: str) -> None:
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise InputError(
            f"{source}: missing required column(s) {', '.join(missing)}",
            [f"{source}:1:{c}: required column is missing (have: {', '.join(map(str, raw.columns))})" for c in missing],
        )
    if len(raw) == 0:
        raise InputError(f"{source}: no rows", [f"{source}:2:-: the file has a header but no data rows"])


def _parse_ids(raw: pd.DataFrame, problems: _Problems) -> pd.Series:
    # clean each distinct id once and share the string objects (10k SKUs x 730 days = 7 M rows)
    codes, uniques = pd.factorize(raw["unique_id"], use_na_sentinel=False)
    clean_ids = np.array([str(u).strip() if u is not None and u == u else "" for u in uniques], dtype=object)
    uid = pd.Series(clean_ids[codes], index=raw.index)
    problems.report((uid == "").to_numpy() | raw["unique_id"].isna().to_numpy(), "unique_id",
                    lambda i: "expected a non-empty id")
    return uid


def _parse_dates(raw: pd.DataFrame, problems: _Problems) -> pd.Series:
    ds_raw = raw["ds"]
    ds = pd.to_datetime(ds_raw, errors="coerce", format="mixed") if ds_raw.dtype == object else pd.to_datetime(ds_raw, errors="coerce")
    problems.report(ds.isna().to_numpy(), "ds", lambda i: f"expected a date YYYY-MM-DD, got {str(ds_raw.iloc[i])!r}")
    return ds


def _parse_in_stock(raw: pd.DataFrame, problems: _Problems) -> pd.Series:
    if "in_stock" not in raw.columns:
        return pd.Series(True, index=raw.index)
    s = raw["in_stock"]
    if s.dtype == bool:
        return s
    txt = s.astype(str).str.strip().str.lower()
    ok = txt.isin(TRUE_WORDS | FALSE_WORDS) | (txt == "")
    problems.report((~ok).to_numpy(), "in_stock", lambda i: f"expected true/false, got {str(s.iloc[i])!r}")
    return ~txt.isin(FALSE_WORDS)


def _parse_y(raw: pd.DataFrame, in_stock: pd.Series, problems: _Problems) -> pd.Series:
    y_raw = raw["y"]
    y = pd.to_numeric(y_raw, errors="coerce")
    if pd.api.types.is_numeric_dtype(y_raw):  # already numbers (the pipeline's history): only NaN is empty
        empty = y_raw.isna()
    else:  # text from a file: blank cells and the usual spellings of "missing"
        empty = y_raw.astype(str).str.strip().isin(["", "nan", "None", "<NA>"]) | y_raw.isna()
    bad_num = y.isna() & ~empty
    problems.report(bad_num.to_numpy(), "y", lambda i: f"expected a number >= 0, got {str(y_raw.iloc[i])!r}")
    # an empty y is allowed only on an out-of-stock day (unknown demand, imputed later)
    problems.report((empty & in_stock).to_numpy(), "y",
                    lambda i: "expected a number >= 0, got an empty cell (allowed only when in_stock is false)")
    problems.report((y < 0).to_numpy(), "y", lambda i: f"expected a number >= 0, got {y.iloc[i]}")
    problems.report((~np.isfinite(y.fillna(0))).to_numpy(), "y", lambda i: f"expected a finite number, got {y.iloc[i]}")
    return y


def _rows(n: int, index) -> np.ndarray:
    mask = np.zeros(n, bool)
    mask[index] = True
    return mask


def _check_duplicates(frame: pd.DataFrame, keyed: pd.DataFrame, problems: _Problems) -> None:
    dup = keyed.duplicated(["unique_id", "ds"], keep="first")
    if not dup.any():
        return
    first_line = {}
    for i, key in zip(keyed.index, zip(keyed["unique_id"], keyed["ds"])):
        first_line.setdefault(key, problems.line[i])
    problems.report(_rows(len(frame), keyed.index[dup.to_numpy()]), "unique_id,ds",
                    lambda i: f"duplicate of line {first_line[(frame['unique_id'].iloc[i], frame['ds'].iloc[i])]} "
                              f"({frame['unique_id'].iloc[i]}, {frame['ds'].iloc[i].date()})")


def _check_grid(frame: pd.DataFrame, keyed: pd.DataFrame, freq: str, problems: _Problems) -> None:
    """Weekly data on one weekday; daily data as dates without a time."""
    if freq == "W" and len(keyed):
        wd = keyed["ds"].dt.dayofweek
        common = wd.mode().iloc[0]
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(common))
        problems.report(_rows(len(frame), keyed.index[(wd != common).to_numpy()]), "ds",
                        lambda i: f"weekly data must fall on one weekday ({day.day_name()}), got {frame['ds'].iloc[i].day_name()}")
    if freq == "D" and len(keyed) and (keyed["ds"].dt.normalize() != keyed["ds"]).any():
        problems.report(_rows(len(frame), keyed.index[(keyed["ds"].dt.normalize() != keyed["ds"]).to_numpy()]), "ds",
                        lambda i: f"daily data must be dates without a time, got {frame['ds'].iloc[i]}")


def _check_min_obs(frame: pd.DataFrame, keyed: pd.DataFrame, min_obs: int, problems: _Problems) -> None:
    counts = keyed.groupby("unique_id")["ds"].transform("size")
    short = keyed.index[(counts < min_obs).to_numpy()]
    if not len(short):
        return
    firsts = keyed.loc[short].drop_duplicates("unique_id")
    n_by = counts.loc[firsts.index]
    problems.report(_rows(len(frame), firsts.index), "unique_id",
                    lambda i: f"series {frame['unique_id'].iloc[i]!r} has {int(n_by.loc[i])} row(s); "
                              f"at least {min_obs} are needed to forecast")


def validate_long(raw: pd.DataFrame, freq: str, source: str = "input", min_obs: int = MIN_OBS) -> pd.DataFrame:
    """Return a clean typed frame ``unique_id (str), ds (datetime), y (float), in_stock (bool)``.

    Raises :class:`InputError` listing every problem found (capped at 20 per column): missing columns,
    unparseable dates, non-numeric or negative ``y``, duplicate ``unique_id, ds``, dates off the
    ``freq`` grid, series with fewer than ``min_obs`` rows.
    """
    if freq not in ("D", "W"):
        raise InputError(f"freq must be one of 'D', 'W', got {freq!r}")
    _check_shape(raw, source)
    problems = _Problems(source, len(raw))
    uid = _parse_ids(raw, problems)
    ds = _parse_dates(raw, problems)
    in_stock = _parse_in_stock(raw, problems)
    y = _parse_y(raw, in_stock, problems)
    frame = pd.DataFrame({"unique_id": uid, "ds": ds, "y": y.astype(float), "in_stock": in_stock.astype(bool)})
    for c, values in exog_columns(raw).items():
        frame[c] = values
    keyed = frame.dropna(subset=["ds"])
    _check_duplicates(frame, keyed, problems)
    _check_grid(frame, keyed, freq, problems)
    _check_min_obs(frame, keyed, min_obs, problems)
    if problems:
        raise InputError(f"{source}: {len(problems)} problem(s) in the forecast input", list(problems))
    return frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def closed_dates(df: pd.DataFrame, freq: str) -> pd.DatetimeIndex:
    """Dates inside the data's range that no series has: the store (or dataset) was closed.

    Only when there are at least two series: with one series a missing date may as well be a day
    without sales.
    """
    from workbench.forecast._panel import step

    if df["unique_id"].nunique() < 2 or df.empty:
        return pd.DatetimeIndex([])
    seen = pd.DatetimeIndex(df["ds"].unique())
    full = pd.date_range(seen.min(), seen.max(), freq=step(freq))
    return full.difference(seen)


def regularize(df: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, pd.Series]:
    """Put every series on a complete ``freq`` grid from its first to its last date.

    A date missing from one series' sales log means nothing sold that day, so such gaps are filled
    with ``y = 0`` (in stock). A date missing from every series (:func:`closed_dates`) is a closure:
    neither demand nor zero. It gets ``closed = True`` and ``in_stock = False`` so that it is treated
    like a stockout (demand estimated for the models, never a backtest target nor a training
    target, no lost units). Returns (frame, number of zero-filled periods per series).
    """
    from workbench.forecast._panel import step

    st = step(freq)
    bounds = df.groupby("unique_id", sort=True)["ds"].agg(["min", "max", "size"])
    n_full = ((bounds["max"] - bounds["min"]) / st).astype(int) + 1
    if (n_full == bounds["size"]).all():
        return df.assign(closed=False), pd.Series(0, index=bounds.index)  # callers copy before changing anything
    from utilsforecast.preprocessing import fill_gaps

    from workbench.forecast._panel import freq_alias

    shut = closed_dates(df, freq)
    out = fill_gaps(df, freq=freq_alias(freq, df["ds"]), start="per_serie", end="per_serie")
    out = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    missing = (out["y"].isna() & out["in_stock"].isna()).to_numpy()
    closed = missing & out["ds"].isin(shut).to_numpy()
    filled = missing & ~closed
    out["y"] = out["y"].where(~filled, 0.0)
    for c in out.columns.difference(["unique_id", "ds", "y", "in_stock"]):
        out[c] = out[c].fillna(0.0)  # regressors on filled or closed dates: not set
    out["in_stock"] = np.where(closed, False, np.where(out["in_stock"].isna(), True, out["in_stock"])).astype(bool)
    out["closed"] = closed
    return out, pd.Series(filled, index=out.index).groupby(out["unique_id"]).sum()

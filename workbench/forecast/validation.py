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


def validate_long(raw: pd.DataFrame, freq: str, source: str = "input", min_obs: int = MIN_OBS) -> pd.DataFrame:
    """Return a clean typed frame ``unique_id (str), ds (datetime), y (float), in_stock (bool)``.

    Raises :class:`InputError` listing every problem found (capped at 20 per column): missing columns,
    unparseable dates, non-numeric or negative ``y``, duplicate ``unique_id, ds``, dates off the
    ``freq`` grid, series with fewer than ``min_obs`` rows.
    """
    if freq not in ("D", "W"):
        raise InputError(f"freq must be one of 'D', 'W', got {freq!r}")
    problems: list[str] = []
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise InputError(
            f"{source}: missing required column(s) {', '.join(missing)}",
            [f"{source}:1:{c}: required column is missing (have: {', '.join(map(str, raw.columns))})" for c in missing],
        )
    if len(raw) == 0:
        raise InputError(f"{source}: no rows", [f"{source}:2:-: the file has a header but no data rows"])
    line = np.arange(len(raw)) + 2

    def report(mask: np.ndarray, col: str, msg) -> None:
        bad = np.flatnonzero(mask)
        for i in bad[:MAX_PER_COLUMN]:
            problems.append(f"{source}:{line[i]}:{col}: {msg(i)}")
        if len(bad) > MAX_PER_COLUMN:
            problems.append(f"{source}:-:{col}: ... and {len(bad) - MAX_PER_COLUMN} more row(s) with the same problem")

    # clean each distinct id once and share the string objects (10k SKUs x 730 days = 7 M rows)
    codes, uniques = pd.factorize(raw["unique_id"], use_na_sentinel=False)
    clean_ids = np.array([str(u).strip() if u is not None and u == u else "" for u in uniques], dtype=object)
    uid = pd.Series(clean_ids[codes], index=raw.index)
    report((uid == "").to_numpy() | raw["unique_id"].isna().to_numpy(), "unique_id", lambda i: "expected a non-empty id")

    ds_raw = raw["ds"]
    ds = pd.to_datetime(ds_raw, errors="coerce", format="mixed") if ds_raw.dtype == object else pd.to_datetime(ds_raw, errors="coerce")
    report(ds.isna().to_numpy(), "ds", lambda i: f"expected a date YYYY-MM-DD, got {str(ds_raw.iloc[i])!r}")

    in_stock = pd.Series(True, index=raw.index)
    if "in_stock" in raw.columns:
        s = raw["in_stock"]
        if s.dtype == bool:
            in_stock = s
        else:
            txt = s.astype(str).str.strip().str.lower()
            ok = txt.isin(TRUE_WORDS | FALSE_WORDS) | (txt == "")
            report((~ok).to_numpy(), "in_stock", lambda i: f"expected true/false, got {str(s.iloc[i])!r}")
            in_stock = ~txt.isin(FALSE_WORDS)

    y_raw = raw["y"]
    y = pd.to_numeric(y_raw, errors="coerce")
    empty = y_raw.astype(str).str.strip().isin(["", "nan", "None", "<NA>"]) | y_raw.isna()
    bad_num = y.isna() & ~empty
    report(bad_num.to_numpy(), "y", lambda i: f"expected a number >= 0, got {str(y_raw.iloc[i])!r}")
    # an empty y is allowed only on an out-of-stock day (unknown demand, imputed later)
    report((empty & in_stock).to_numpy(), "y", lambda i: "expected a number >= 0, got an empty cell (allowed only when in_stock is false)")
    report((y < 0).to_numpy(), "y", lambda i: f"expected a number >= 0, got {y.iloc[i]}")
    report((~np.isfinite(y.fillna(0))).to_numpy(), "y", lambda i: f"expected a finite number, got {y.iloc[i]}")

    frame = pd.DataFrame({"unique_id": uid, "ds": ds, "y": y.astype(float), "in_stock": in_stock.astype(bool)})
    for c, values in exog_columns(raw).items():
        frame[c] = values
    keyed = frame.dropna(subset=["ds"])
    dup = keyed.duplicated(["unique_id", "ds"], keep="first")
    if dup.any():
        first_line = {}
        for i, key in zip(keyed.index, zip(keyed["unique_id"], keyed["ds"])):
            first_line.setdefault(key, line[i])
        idx = keyed.index[dup.to_numpy()]
        mask = np.zeros(len(raw), bool)
        mask[idx] = True
        report(mask, "unique_id,ds", lambda i: f"duplicate of line {first_line[(frame['unique_id'].iloc[i], frame['ds'].iloc[i])]} "
                                               f"({frame['unique_id'].iloc[i]}, {frame['ds'].iloc[i].date()})")
    if freq == "W" and len(keyed):
        wd = keyed["ds"].dt.dayofweek
        common = wd.mode().iloc[0]
        mask = np.zeros(len(raw), bool)
        mask[keyed.index[(wd != common).to_numpy()]] = True
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(common))
        report(mask, "ds", lambda i: f"weekly data must fall on one weekday ({day.day_name()}), got {frame['ds'].iloc[i].day_name()}")
    if freq == "D" and len(keyed) and (keyed["ds"].dt.normalize() != keyed["ds"]).any():
        mask = np.zeros(len(raw), bool)
        mask[keyed.index[(keyed["ds"].dt.normalize() != keyed["ds"]).to_numpy()]] = True
        report(mask, "ds", lambda i: f"daily data must be dates without a time, got {frame['ds'].iloc[i]}")

    counts = keyed.groupby("unique_id")["ds"].transform("size")
    short = keyed.index[(counts < min_obs).to_numpy()]
    if len(short):
        firsts = keyed.loc[short].drop_duplicates("unique_id")
        mask = np.zeros(len(raw), bool)
        mask[firsts.index] = True
        n_by = counts.loc[firsts.index]
        report(mask, "unique_id", lambda i: f"series {frame['unique_id'].iloc[i]!r} has {int(n_by.loc[i])} row(s); "
                                            f"at least {min_obs} are needed to forecast")
    if problems:
        raise InputError(f"{source}: {len(problems)} problem(s) in the forecast input", problems)
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

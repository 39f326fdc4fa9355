"""Which rows of a result the report shows, and in what order: what needs action first.

A report must not grow with the catalog: a table embeds at most :data:`MAX_ROWS` rows (the most
urgent, or the most money, first) and a plain sentence above it says how many of how many are shown
and which file in the report folder holds every row. Nothing is lost: the files keep every row.

Each ranked result has one function here naming its order (tested in tests/test_report_top.py);
:func:`ranked` applies it. A result without a rule keeps the order of its file.
"""
from __future__ import annotations

import html

import pandas as pd

#: Rows of one table embedded in a report (the file holds them all). 150 rows is six pages of 25.
MAX_ROWS = 150

LEVELS = ("high", "medium", "low")


def _num(df: pd.DataFrame, col: str, missing: float = 0.0) -> pd.Series:
    """A numeric column (``missing`` where absent or not a number)."""
    if col not in df.columns:
        return pd.Series(missing, index=df.index, dtype=float)
    return pd.to_numeric(df[col], errors="coerce").astype(float).fillna(missing)


def _rank(values: pd.Series, order) -> pd.Series:
    """Position of each value in ``order`` (unknown values last)."""
    return values.map({v: i for i, v in enumerate(order)}).fillna(len(order))


def restock(df: pd.DataFrame) -> pd.DataFrame:
    """Most urgent status first (the restock policy's STATUSES order), then the highest stockout
    probability, then the least sellable cover."""
    from workbench.policies.restock import STATUSES

    keys = {"_status": _rank(df["status"], STATUSES) if "status" in df.columns else 0,
            "_p": -_num(df, "stockout_probability"),
            "_cover": _num(df, "sellable_cover_days", float("inf"))}
    return _sorted(df, keys)


def risk(df: pd.DataFrame) -> pd.DataFrame:
    """High hijack level first, then the highest hijack score, then the highest stockout risk."""
    keys = {"_level": _rank(df["hijack_level"], LEVELS) if "hijack_level" in df.columns else 0,
            "_score": -_num(df, "hijack_score"), "_stockout": -_num(df, "stockout_risk")}
    return _sorted(df, keys)


def account_health(df: pd.DataFrame) -> pd.DataFrame:
    """Breaches first, the longest-running first."""
    keys = {"_breach": ~df["breach"].fillna(False).astype(bool) if "breach" in df.columns else 0,
            "_weeks": -_num(df, "weeks_in_breach")}
    return _sorted(df, keys)


def pricing_changes(df: pd.DataFrame) -> pd.DataFrame:
    """Only the listings whose price changes, the biggest change first."""
    change = _num(df, "change_pct").abs()
    return _sorted(df[change > 1e-9], {"_c": -change[change > 1e-9]})


def ads_changes(df: pd.DataFrame) -> pd.DataFrame:
    """Only the campaigns whose budget changes, the biggest change in money first."""
    delta = (df["recommended_budget"] - df["current_budget"]).abs()
    return _sorted(df[delta > 1e-9], {"_d": -delta[delta > 1e-9]})


def purchase_orders(df: pd.DataFrame) -> pd.DataFrame:
    """The earliest order-by date first, then the largest amount."""
    keys = {"_by": pd.to_datetime(df["order_by"], errors="coerce"),
            "_amount": -_num(df, "amount")}
    return _sorted(df, keys)


def classes(df: pd.DataFrame) -> pd.DataFrame:
    """The largest backtest error (MASE) first; SKUs too short to backtest last."""
    return _sorted(df, {"_m": -_num(df, "mase", float("-inf"))})


def locations(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with something to do (an order share or a transfer: action other than "ok") first, then the
    least cover."""
    keys = {"_ok": df["action"].astype(str).eq("ok") if "action" in df.columns else 0,
            "_cover": _num(df, "days_of_cover", float("inf"))}
    return _sorted(df, keys)


def returns(df: pd.DataFrame) -> pd.DataFrame:
    """The SKUs with the highest return rate first, each SKU's reasons together in their rank."""
    keys = {"_rate": -_num(df, "return_rate"), "_sku": df["sku"].astype(str) if "sku" in df.columns else 0,
            "_rank": _num(df, "rank")}
    return _sorted(df, keys)


def lost_demand(df: pd.DataFrame) -> pd.DataFrame:
    """The most demand lost to stockouts first."""
    return _sorted(df, {"_l": -_num(df, "lost_units")})


def _sorted(df: pd.DataFrame, keys: dict) -> pd.DataFrame:
    d = df.assign(**keys)
    return d.sort_values(list(keys), kind="stable").drop(columns=list(keys)).reset_index(drop=True)


#: result name -> (ranking function, the order in words, as the sentence above the table says it)
RANKS = {
    "restock": (restock, "most urgent first"),
    "risk": (risk, "highest hijack risk first"),
    "account_health": (account_health, "breaches first"),
    "pricing_changes": (pricing_changes, "biggest price change first"),
    "ads_changes": (ads_changes, "biggest budget change first"),
    "purchase_orders": (purchase_orders, "earliest order-by date first"),
    "classes": (classes, "largest backtest error first"),
    "lost_demand": (lost_demand, "most lost units first"),
    "locations": (locations, "transfers and order shares first, then the least cover"),
    "returns": (returns, "highest return rate first"),
}


def ranked(name: str, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """``frame`` in the order its table shows it (unchanged when ``name`` has no rule)."""
    if frame is None or name not in RANKS:
        return frame
    return RANKS[name][0](frame)


def order_words(name: str) -> str:
    return RANKS[name][1] if name in RANKS else ""


def shown_sentence(total: int, limit: int = MAX_ROWS, file: str | None = None, order: str = "") -> str:
    """HTML: "Showing 150 of 10,000 rows (most urgent first); the full table is in restock.csv." with the
    file linked (a relative link: the report's HTML sits in the report folder beside the file)."""
    order = f" ({order})" if order else ""
    link = f"<a href='{html.escape(file, quote=True)}'>{html.escape(file)}</a>" if file else ""
    if total > limit:
        where = f"; the full table is in {link} in the report folder" if file else "; the rest are not shown"
        return f"Showing {limit:,} of {total:,} rows{html.escape(order)}{where}."
    where = f"; the same table is in {link}" if file else ""
    return f"All {total:,} row{'s' * (total != 1)}{html.escape(order)}{where}."

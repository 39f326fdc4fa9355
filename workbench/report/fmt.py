"""How numbers read in the report and the email: plain column names, whole units without decimals,
rates as percentages (0.0080 → 0.80%), money with two decimals, dates as YYYY-MM-DD."""
from __future__ import annotations

import pandas as pd

#: Shorthand column names spelled out for readers (the CSVs keep the short names).
PLAIN_NAMES = {"ads": "avg_daily_sales", "ads_blend": "avg_daily_sales_blend", "rot_qty": "rule_of_thumb_qty",
               "rot_ads": "rule_of_thumb_avg_daily_sales", "latest": "latest_value"}
#: Share-of-one columns shown as percentages.
RATES = {"stockout_probability", "stockout_probability_air", "stockout_risk", "hijack_model_prob", "share_of_returns",
         "return_rate", "conversion", "bad_rate", "abs_pct_error", "acos", "breakeven_acos", "service_level",
         "demand_share", "odr", "cancel_rate", "late_shipment_rate"}
#: Columns that count units or days: whole numbers.
WHOLE = {"qty", "recommended_qty", "air_qty", "rot_qty", "on_hand", "reserved", "available", "inbound", "safety_stock",
         "reorder_point", "order_up_to", "inventory_position", "excess_units", "lost_units", "short_units",
         "demand_units", "arriving_units", "units", "skus", "rank", "stockout_days", "days", "series", "windows",
         "transfer_in", "transfer_out", "allocated_qty", "returned_units", "sold_units", "monitor_every_minutes",
         "weeks_in_breach", "n_obs", "forecast_units", "actual_units", "error_units", "stockout_periods",
         "observed_units"}
RATE_METRICS = {"odr", "cancel_rate", "late_shipment_rate"}


def _pct(x, digits: int = 2) -> str:
    return f"{x:.{digits}%}" if pd.notna(x) else ""


def health_values(df: pd.DataFrame) -> pd.DataFrame:
    """Account-health value columns: rate metrics as percentages, the rating as it is."""
    out = df.copy()
    if "metric" not in out.columns:
        return out
    rate = out["metric"].isin(RATE_METRICS)
    for c in [c for c in out.columns if c == "latest" or c.startswith("value_w")]:
        v = pd.to_numeric(out[c], errors="coerce")
        out[c] = [_pct(x) if r else (f"{x:.2f}" if pd.notna(x) else "") for x, r in zip(v, rate)]
    return out


def column_kind(name: str, s: pd.Series) -> str:
    """How a report column reads: ``signed`` (a ``*_pct`` change), ``date``, ``bool``, ``rate``, ``whole``,
    ``money`` or ``text``. The email, the report tables and the CSV views all dispatch on it."""
    if name.endswith("_pct"):
        return "signed"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if not pd.api.types.is_numeric_dtype(s):
        return "text"
    if name in RATES:
        return "rate"
    if name in WHOLE or pd.api.types.is_integer_dtype(s):
        return "whole"
    return "money"


def plain_cells(s: pd.Series, kind: str) -> pd.Series:
    """Dates as YYYY-MM-DD and booleans as yes / no (empty where missing)."""
    return s.dt.strftime("%Y-%m-%d").fillna("") if kind == "date" else s.map({True: "yes", False: "no"})


_SHOWN = {"signed": lambda x: f"{x:+.1f}%" if pd.notna(x) else "", "rate": _pct,
          "whole": lambda x: f"{x:,.0f}" if pd.notna(x) else "", "money": lambda x: f"{x:,.2f}" if pd.notna(x) else ""}


def display_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Strings as people read them, with the column names spelled out."""
    shown = health_values(df)
    for c in shown.columns:
        kind = column_kind(c, shown[c])
        if kind in ("date", "bool"):
            shown[c] = plain_cells(shown[c], kind)
        elif kind != "text":
            shown[c] = shown[c].map(_SHOWN[kind])
    return shown.rename(columns=PLAIN_NAMES)


def money(x: float) -> str:
    return f"{x:,.2f}"

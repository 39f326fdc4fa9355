"""What changed since last week, from the previous report folder in the same reports directory.

Compares this run's CSVs with the last earlier ``reports/<YYYY-MM-DD>/``: new and resolved actions,
orders placed (input shipments) vs last week's purchase orders, last week's forecast vs the units
actually sold, and stockout-phase changes. With no earlier report it says "first run".
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from workbench.io import read_frame

COLUMNS = ["kind", "subject", "before", "after", "reason"]
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def previous_report(reports_dir: Path, as_of) -> Path | None:
    """The latest ``reports_dir/<date>`` before ``as_of`` that holds a restock.csv, or None."""
    reports_dir, as_of = Path(reports_dir), pd.Timestamp(as_of)
    if not reports_dir.is_dir():
        return None
    dated = [p for p in reports_dir.iterdir() if p.is_dir() and _DATE_DIR.match(p.name)
             and pd.Timestamp(p.name) < as_of and (p / "restock.csv").is_file()]
    return max(dated, key=lambda p: p.name) if dated else None


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    p = folder / name
    return read_frame(p) if p.is_file() else None  # ids stay text, formula escapes undone


def action_changes(before: pd.DataFrame | None, after: pd.DataFrame) -> pd.DataFrame:
    """Actions new this week and last week's actions that no longer apply (keyed by kind and subject)."""
    if before is None:
        return pd.DataFrame(columns=COLUMNS)
    key = ["kind", "subject"]
    b = before.drop_duplicates(key).set_index(key).sort_index()
    a = after.drop_duplicates(key).set_index(key).sort_index()
    new = [dict(kind=f"new: {k}", subject=s, before="", after=a.loc[(k, s), "action"],
                reason=f"not on last week's list; {a.loc[(k, s), 'reason']}") for k, s in a.index.difference(b.index)]
    gone = [dict(kind=f"resolved: {k}", subject=s, before=b.loc[(k, s), "action"], after="",
                 reason="on last week's list, no longer triggered this week") for k, s in b.index.difference(a.index)]
    return pd.DataFrame(new + gone, columns=COLUMNS)


def order_changes(po_before: pd.DataFrame | None, shipments: pd.DataFrame | None, since, until) -> pd.DataFrame:
    """Per SKU: units recommended last week vs units ordered (shipments with an order date in the week)."""
    if po_before is None:
        return pd.DataFrame(columns=COLUMNS)
    rec = po_before.groupby("sku")["qty"].sum()
    placed = pd.Series(dtype=float)
    if shipments is not None and len(shipments):
        d = pd.to_datetime(shipments["order_date"], errors="coerce")
        week = shipments[(d > pd.Timestamp(since)) & (d <= pd.Timestamp(until))]
        placed = week.groupby("sku")["qty"].sum()
    rows = []
    for sku in sorted(set(rec.index) | set(placed.index)):
        r, p = int(rec.get(sku, 0)), int(placed.get(sku, 0))
        verdict = ("placed in full" if r and p >= r else "placed in part" if r and p else
                   "not placed" if r else "placed without a recommendation")
        rows.append(dict(kind=f"order {verdict}", subject=sku, before=str(r), after=str(p),
                         reason=f"recommended {r:,} units in the report of {pd.Timestamp(since):%Y-%m-%d}; "
                                f"{p:,} units ordered since (shipments.order_date): {verdict}"))
    return pd.DataFrame(rows, columns=COLUMNS)


def phase_changes(before: pd.DataFrame | None, after: pd.DataFrame | None) -> pd.DataFrame:
    if before is None or after is None:
        return pd.DataFrame(columns=COLUMNS)
    m = before[["sku", "channel", "phase"]].merge(after[["sku", "channel", "phase", "reason"]], on=["sku", "channel"],
                                                   suffixes=("_before", ""))
    m = m[m["phase_before"] != m["phase"]]
    return pd.DataFrame({"kind": "phase change", "subject": m["sku"] + " " + m["channel"],
                         "before": m["phase_before"], "after": m["phase"],
                         "reason": "stockout phase " + m["phase_before"] + " → " + m["phase"] + ": " + m["reason"]},
                        columns=COLUMNS)


def forecast_vs_actual(forecast_before: pd.DataFrame | None, history: pd.DataFrame | None, since, until
                       ) -> pd.DataFrame:
    """Last week's forecast for the days since the previous report vs the units sold and the demand estimate."""
    cols = ["sku", "days", "forecast_units", "actual_units", "error_units", "abs_pct_error", "reason"]
    if forecast_before is None or history is None:
        return pd.DataFrame(columns=cols)
    since, until = pd.Timestamp(since), pd.Timestamp(until)

    def window(df):
        d = pd.to_datetime(df["ds"])
        return df[(d > since) & (d <= until)]

    f = window(forecast_before).groupby("unique_id").agg(forecast_units=("yhat", "sum"), days=("ds", "nunique"))
    a = window(history).groupby("unique_id").agg(actual_units=("y_observed", "sum"), demand=("y", "sum"),
                                                 censored=("censored", lambda s: int(s.astype(str).str.lower()
                                                                                      .isin(["true", "1"]).sum())))
    m = f.join(a, how="inner").reset_index().rename(columns={"unique_id": "sku"})
    m["error_units"] = m["forecast_units"] - m["actual_units"]
    m["abs_pct_error"] = (m["error_units"].abs() / m["actual_units"].where(m["actual_units"] > 0)).round(4)
    m["reason"] = [f"forecast {fc:,.0f} units for {since + pd.Timedelta(days=1):%Y-%m-%d}..{until:%Y-%m-%d}, sold "
                   f"{ac:,.0f} ({e:+,.0f})" + (f"; {c} stockout day(s), demand estimate {dm:,.0f}" if c else "")
                   for fc, ac, e, c, dm in zip(m["forecast_units"], m["actual_units"], m["error_units"], m["censored"],
                                               m["demand"])]
    m["forecast_units"], m["actual_units"] = m["forecast_units"].round(1), m["actual_units"].round(1)
    m["error_units"] = m["error_units"].round(1)
    return m.reindex(m["error_units"].abs().sort_values(ascending=False).index)[cols].reset_index(drop=True)


def week_accuracy(fva: pd.DataFrame) -> float | None:
    """1 − WAPE over all SKUs: 1 − Σ|forecast − actual| / Σ actual (None without data)."""
    if fva is None or not len(fva) or fva["actual_units"].sum() <= 0:
        return None
    return float(1 - fva["error_units"].abs().sum() / fva["actual_units"].sum())


def summary(changes: pd.DataFrame | None) -> tuple[pd.DataFrame | None, str]:
    """(the change rows, one sentence counting them by kind) for the report and the email.

    None rows mean a first run (no earlier report to compare with).
    """
    if changes is None or not len(changes) or changes["kind"].iloc[0] == "first run":
        return None, "First run: there is no earlier report in this reports folder to compare with."
    prev = changes.loc[changes["kind"] == "compared with", "subject"]
    body = changes[changes["kind"] != "compared with"]
    counts = body["kind"].str.replace(r":.*", "", regex=True).value_counts()
    return body, (f"Compared with the previous report of {prev.iloc[0] if len(prev) else 'last week'}: "
                  + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")


def compare(previous: Path | None, current: dict[str, pd.DataFrame | None], shipments: pd.DataFrame | None,
            as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(changes, forecast_vs_actual) of this run against the previous report folder."""
    if previous is None:
        first = pd.DataFrame([dict(kind="first run", subject="", before="", after="",
                                   reason="first run: no earlier weekly report in this reports folder to compare with")],
                             columns=COLUMNS)
        return first, forecast_vs_actual(None, None, as_of, as_of)
    since = pd.Timestamp(previous.name)
    changes = pd.concat([action_changes(_read(previous, "actions.csv"), current["actions"]),
                         order_changes(_read(previous, "purchase_orders.csv"), shipments, since, as_of),
                         phase_changes(_read(previous, "pricing.csv"), current.get("pricing"))], ignore_index=True)
    head = pd.DataFrame([dict(kind="compared with", subject=previous.name, before=previous.name,
                              after=pd.Timestamp(as_of).strftime("%Y-%m-%d"),
                              reason=f"changes since the previous report of {previous.name}")], columns=COLUMNS)
    before = _read(previous, "forecast.parquet")  # earlier reports wrote forecast.csv
    fva = forecast_vs_actual(before if before is not None else _read(previous, "forecast.csv"),
                             current.get("history"), since, as_of)
    return pd.concat([head, changes], ignore_index=True), fva

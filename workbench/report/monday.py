"""The Monday-morning layer of the weekly run: actions, purchase orders, money, what changed.

:func:`write_monday` runs after the recommendations are written; it reads the run's CSVs back from
``out_dir`` (not the policies' internals) plus the input tables it needs (products, shipments, sales)
and writes the files below beside them. The report notebooks and the email read those files.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.io import read_frame, write_frame
from workbench.report import actions, changes, money, orders

FILES = {
    "actions": "actions.csv",
    "purchase_orders": "purchase_orders.csv",
    "po_totals": "purchase_orders_by_supplier.csv",
    "money": "money.csv",
    "revenue_lost": "money_revenue_lost.csv",
    "revenue_at_risk": "money_revenue_at_risk.csv",
    "overstock": "money_overstock.csv",
    "changes": "changes.csv",
    "forecast_vs_actual": "forecast_vs_actual.csv",
}
_INPUTS = {"restock": "restock.csv", "pricing": "pricing.csv", "ads": "ads.csv", "alerts": "risk_alerts.csv",
           "feed": "risk_feed.csv", "health": "risk_account_health.csv"}


def _read(path: Path) -> pd.DataFrame | None:
    return read_frame(path) if path.is_file() else None  # ids stay text ("00001", "NA"), formula escapes undone


def _with_reason(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    return frame if "reason" in frame.columns else frame.assign(reason=reason)


def build(ds, as_of, out_dir: Path, previous: Path | None, history: pd.DataFrame | None = None,
          forecast: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every Monday table for ``as_of`` from the run's CSVs in ``out_dir`` and the dataset ``ds``.

    ``history`` and ``forecast`` are the run's demand history and daily forecast (large: handed over in
    memory, they are not CSVs of the report folder).
    """
    r = {k: _read(Path(out_dir) / v) for k, v in _INPUTS.items()}
    r["history"], r["forecast"] = history, forecast
    products, shipments, sales = ds["products"], ds.get("shipments"), ds.get("sales")
    po = orders.purchase_orders(r["restock"], products, shipments)
    totals = orders.supplier_totals(po)
    totals = _with_reason(totals, "")
    totals["reason"] = [f"{int(q):,} units over {int(n)} SKU(s): goods {a:,.2f} + estimated freight {f:,.2f} = cash "
                        f"{c:,.2f}; first order-by {pd.Timestamp(o):%Y-%m-%d}"
                        for q, n, a, f, c, o in zip(totals["qty"], totals["skus"], totals["amount"], totals["freight"],
                                                    totals["cash"], totals["order_by"])]
    lost = money.lost_last_week(r["history"], products, as_of)
    risk = money.at_risk(r["forecast"], r["restock"], products, shipments, as_of)
    over = money.overstock(r["restock"], products)
    revenue = money.weekly_revenue(sales, as_of)
    todo = actions.rank(actions.health_actions(r["health"], revenue, as_of)
                        + actions.out_of_stock_actions(r["restock"], risk, as_of)
                        + actions.buybox_actions(r["alerts"], revenue, as_of)
                        + actions.order_actions(po, risk, as_of)
                        + actions.feed_actions(r["feed"], revenue, as_of)
                        + actions.recovery_actions(r["pricing"], revenue, as_of))
    changed, fva = changes.compare(previous, {"actions": todo, "pricing": r["pricing"], "history": r["history"]},
                                   shipments, as_of)
    return {"actions": todo, "purchase_orders": po, "po_totals": totals,
            "money": money.summary(lost, risk, over, r["ads"], totals), "revenue_lost": lost,
            "revenue_at_risk": risk, "overstock": over, "changes": changed, "forecast_vs_actual": fva}


def write_monday(ds, as_of, out_dir: Path, reports_dir: Path | None = None, history: pd.DataFrame | None = None,
                 forecast: pd.DataFrame | None = None) -> list[Path]:
    """Write the Monday tables into ``out_dir``; the previous report is looked up in ``reports_dir``
    (default: the folder holding ``out_dir``, i.e. the weekly run's reports directory)."""
    out_dir = Path(out_dir)
    previous = changes.previous_report(reports_dir if reports_dir is not None else out_dir.parent, as_of)
    tables = build(ds, as_of, out_dir, previous, history=history, forecast=forecast)
    return [write_frame(tables[name], out_dir / fname) for name, fname in FILES.items()]

"""The Monday sections of the weekly report notebook: actions, order sheet, money, what changed;
and the forecast-quality page's tables. Each takes the loaded results and displays HTML.

Every table shows at most ``nb.limit()`` rows, what needs action first, under a sentence naming the
file of the report folder that holds every row (``tables.capped_html``): the page does not grow with
the catalog."""
from __future__ import annotations

import html

import pandas as pd

from workbench.report import nb, tables, top
from workbench.report.actions import subject_counts
from workbench.report.changes import summary as change_summary
from workbench.report.changes import week_accuracy
from workbench.report.monday import FILES as MONDAY_FILES


def _section(sid: str, title: str, intro: str, body: str) -> None:
    nb._display_html(f"<section id='{sid}'><h2>{html.escape(title)}</h2><p>{html.escape(intro)}</p>{body}</section>")


def _capped(frame: pd.DataFrame, page_length: int, name: str, order: str = "") -> str:
    """``frame``'s first rows as a table, the file of result ``name`` named (``tables.capped_html``)."""
    return tables.capped_html(frame, page_length, MONDAY_FILES.get(name), order, nb.limit())


def actions(r) -> None:
    """``<section id="actions">``: the ranked to-do list, with the counts of the email's subject line."""
    acts, po = r.extra("actions"), r.extra("purchase_orders")
    if acts is None or not len(acts):
        _section("actions", "Actions", "Nothing needs doing this week.", "")
        return
    counts = subject_counts(acts, po)
    intro = (f"{counts}. Most urgent first (now, then today, then this week), then by the money at stake; "
             "open a reason for the numbers behind it.")
    _section("actions", f"Actions: {len(acts):,} this week", intro,
             _capped(acts, 15, "actions", "most urgent first, then the money at stake"))


def orders(r) -> None:
    po, totals = r.extra("purchase_orders"), r.extra("po_totals")
    if po is None or not len(po):
        _section("orders", "Order sheet", "Nothing to order this week.", "")
        return
    t = totals[totals["supplier"] == "TOTAL"].iloc[0]
    intro = (f"{po['sku'].nunique()} SKUs, {int(t['qty']):,} units, cash {t['cash']:,.2f} (goods {t['amount']:,.2f} + "
             f"estimated freight {t['freight']:,.2f}); the same lines are in purchase_orders.csv, grouped by supplier "
             "and ship mode. Units add up to the restock table's recommended quantities.")
    _section("orders", "Order sheet: draft purchase orders", intro,
             "<p><b>Cash per supplier and mode</b></p>" + _capped(totals, 25, "po_totals")
             + "<p><b>Order lines</b></p>" + _capped(top.purchase_orders(po), 25, "purchase_orders",
                                                      top.order_words("purchase_orders")))


def money(r) -> None:
    m = r.extra("money")
    if m is None or not len(m):
        return
    body = _capped(m, 10, "money")
    for name, title in (("revenue_at_risk", "Revenue at risk in the next 4 weeks, by SKU"),
                        ("revenue_lost", "Revenue lost to stockouts last week, by SKU"),
                        ("overstock", "Overstock and its holding cost, by SKU")):
        frame = r.extra(name)
        if frame is not None and len(frame):
            body += f"<p><b>{html.escape(title)}</b></p>" + _capped(frame, 10, name, "most money first")
    _section("money", "Money this week", "Each figure says how it was computed.", body)


def changes(r) -> None:
    ch, fva = r.extra("changes"), r.extra("forecast_vs_actual")
    body_rows, intro = change_summary(ch)
    if body_rows is None:
        _section("changes", "What changed since last week", intro, "")
        return
    body = _capped(body_rows, 15, "changes")
    acc = week_accuracy(fva)
    if acc is not None:
        body += (f"<p><b>Last week's forecast vs units sold</b>: accuracy {acc:.0%} (1 − WAPE over {len(fva):,} SKUs; "
                 "stockout days sell less than demand)</p>" + _capped(fva, 10, "forecast_vs_actual", "largest misses first"))
    _section("changes", "What changed since last week", intro, body)


def accuracy_vs_naive(backtest: pd.DataFrame | None, classes: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per SKU: the chosen model's mean backtest MASE vs seasonal naive's on the same windows."""
    if backtest is None or classes is None or "model" not in classes.columns:
        return None
    naive = backtest[backtest["model"] == "SeasonalNaive"].groupby("unique_id")["mase"].mean().rename("seasonal_naive_mase")
    chosen = classes[["unique_id", "demand_class", "model", "mase"]].rename(columns={"mase": "chosen_mase"})
    m = chosen.merge(naive, on="unique_id", how="inner").dropna(subset=["chosen_mase", "seasonal_naive_mase"])
    m["worse_than_naive"] = m["chosen_mase"] > m["seasonal_naive_mase"]
    m["reason"] = [f"{mod} MASE {c:.2f} vs seasonal naive {n:.2f}: " + ("loses to" if w else "beats")
                   + " the naive baseline" for mod, c, n, w in zip(m["model"], m["chosen_mase"],
                                                                     m["seasonal_naive_mase"], m["worse_than_naive"])]
    return m.sort_values(["worse_than_naive", "chosen_mase"], ascending=[False, False]).reset_index(drop=True)


def accuracy_by_class(per_sku: pd.DataFrame | None) -> None:
    """One line per demand class: the chosen models vs seasonal naive, the losing SKUs named."""
    if per_sku is None or not len(per_sku):
        nb.note("No backtest results to compare with seasonal naive.")
        return
    rows = []
    for cls, g in per_sku.groupby("demand_class"):
        losers = g.loc[g["worse_than_naive"], "unique_id"].tolist()  # per_sku: the worst losers first
        rows.append({"demand_class": cls, "skus": len(g), "chosen_mase": g["chosen_mase"].mean(),
                     "seasonal_naive_mase": g["seasonal_naive_mase"].mean(), "skus_worse_than_naive": len(losers),
                     "reason": (f"chosen models mean MASE {g['chosen_mase'].mean():.2f} vs seasonal naive "
                                f"{g['seasonal_naive_mase'].mean():.2f} on {len(g)} SKUs; worse than naive: "
                                + named(losers))})
    out = pd.DataFrame(rows)
    worse = out[out["chosen_mase"] > out["seasonal_naive_mase"]]
    if len(worse):
        nb.note("Worse than seasonal naive on average: " + "; ".join(
            f"{w.demand_class} (MASE {w.chosen_mase:.2f} vs {w.seasonal_naive_mase:.2f})" for w in worse.itertuples()))
    nb._display_html(tables.table_html(out, 10))


def named(ids: list, most: int = 10) -> str:
    """``ids`` in a sentence: the first ``most`` named, the rest counted ("A, B and 12 more")."""
    if not ids:
        return "none"
    shown = ", ".join(str(i) for i in ids[:most])
    return shown + (f" and {len(ids) - most:,} more (the table below, worst first)" if len(ids) > most else "")


def misses_last_week(r, n: int = 3) -> None:
    """Last week's forecast vs units sold, largest misses first, with the history and forecast of the worst
    ``n``; on a first run (no forecast from last week) the largest backtest errors instead."""
    from workbench.report import figures

    fva = r.extra("forecast_vs_actual")
    if fva is None or not len(fva):
        nb.note("First run: no forecast from last week to compare with what sold; the largest backtest errors follow.")
        nb.biggest_misses(r, n)
        return
    acc = 1 - fva["error_units"].abs().sum() / max(fva["actual_units"].sum(), 1e-9)
    nb._display_html(f"<p>Accuracy last week: <b>{acc:.0%}</b> (1 − WAPE: 1 − Σ|forecast − sold| / Σ sold over "
                     f"{len(fva)} SKUs). Stockout days sell less than demand; their rows say so.</p>")
    nb.table(fva, 10, "Forecast vs sold last week, per SKU", file=MONDAY_FILES["forecast_vs_actual"],
             order="largest misses first")
    worst = fva["sku"].head(n).astype(str).tolist()
    history, forecast = r.history_of(worst), r.forecast_of(worst)  # a few SKUs' rows, not the whole store
    if history is not None and forecast is not None:
        for uid in worst:
            nb.figure(figures.history_and_forecast(history, forecast, uid, last_days=120))

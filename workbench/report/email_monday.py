"""The top of the Monday email: the ranked actions, the order sheet (every SKU), money, what changed.

Reads the CSVs of the run folder; HTML-escapes everything taken from data; no JavaScript.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.report.actions import subject_counts as _counts
from workbench.report.changes import summary as change_summary
from workbench.report.changes import week_accuracy

#: The email lists at most this many purchase-order lines / actions / changes; the rest are named as
#: "+N more" with the attached sheet that holds them (never a silent cut).
MAX_ORDER_LINES = 200
MAX_ACTIONS = 15
MAX_CHANGES = 15

EMAIL_STYLE = ("<style>body{font-family:Arial,sans-serif;font-size:14px;color:#222} "
               "table.t{border-collapse:collapse;margin:6px 0 14px} table.t th,table.t td{border-bottom:1px solid #ddd;"
               "padding:3px 8px;text-align:left;font-size:12px;vertical-align:top} "
               "table.t td.n,table.t th.n{text-align:right} .why{color:#666;font-size:11px} "
               ".now{color:#b71c1c;font-weight:bold} .today{color:#e65100;font-weight:bold} "
               "tr.sup td{background:#f3f3f3;font-weight:bold}</style>")


@dataclass
class MondayParts:
    html: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def open_section(self, section_id: str, title: str, text_title: str) -> None:
        self.html.append(f"<section id='{section_id}'><h2>{title}</h2>")
        self.text.append(text_title)

    def close_empty(self, html_sentence: str, text_sentence: str) -> None:
        """Close the open section with one sentence saying why it has no table."""
        self.html.append(f"<p>{html_sentence}</p></section>")
        self.text += ["  " + text_sentence, ""]


def _e(x) -> str:
    return html.escape("" if x is None or (isinstance(x, float) and pd.isna(x)) else str(x))


def _date(x) -> str:
    return pd.Timestamp(x).strftime("%Y-%m-%d") if pd.notna(x) and str(x) else ""


def subject_counts(actions: pd.DataFrame | None, po: pd.DataFrame | None) -> str:
    return _counts(actions if actions is not None else pd.DataFrame(columns=["urgency", "kind"]), po)


def _why(text, limit: int = 240) -> str:
    """A reason for the email, cut at ``limit`` characters (the attached sheets keep it whole)."""
    t = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    return _e(t if len(t) <= limit else t[:limit].rsplit(" ", 1)[0] + " … (in full in the attached sheet)")


def _more(n: int, what: str, sheet: str) -> str:
    return (f"<p><b>+{n} more {what}</b>: every row is in the attached sheet <b>{sheet}</b> (also in the "
            "report folder).</p>" if n > 0 else "")


def actions_html(acts: pd.DataFrame | None, out: MondayParts) -> None:
    out.open_section("actions", "Actions, most urgent first", "ACTIONS, most urgent first")
    if acts is None or not len(acts):
        out.close_empty("Nothing needs doing this week.", "nothing needs doing this week")
        return
    rows = []
    for a in acts.head(MAX_ACTIONS).itertuples():
        cls = a.urgency.replace(" ", "")
        rows.append(f"<tr><td class='n'>{a.rank}</td><td class='{cls}'>{_e(a.urgency)}</td><td>{_e(a.kind)}</td>"
                    f"<td>{_e(a.subject)}</td><td>{_e(a.action)}<div class='why'>{_why(a.reason)}</div></td>"
                    f"<td style='white-space:nowrap'>{_date(a.due)}</td><td class='n'>{a.money_at_stake:,.2f}<div class='why'>"
                    f"{_e(a.money_basis)}</div></td></tr>")
        out.text.append(f"  {a.rank}. [{a.urgency}] {a.kind} {a.subject}: {a.action} (by {_date(a.due)}; "
                        f"{a.money_at_stake:,.2f} at stake)")
    out.html.append("<table class='t'><tr><th>#</th><th>when</th><th>what</th><th>subject</th><th>action</th>"
                    "<th>by</th><th class='n'>money at stake</th></tr>" + "".join(rows) + "</table>")
    out.html.append(_more(len(acts) - MAX_ACTIONS, "actions", "actions.csv") + "</section>")
    out.text.append("")


def orders_html(po: pd.DataFrame | None, totals: pd.DataFrame | None, out: MondayParts) -> None:
    out.open_section("orders", "Order sheet: every SKU to order", "ORDER SHEET (purchase_orders.csv)")
    if po is None or not len(po):
        out.close_empty("Nothing to order this week.", "nothing to order")
        return
    cash = totals.set_index(["supplier", "mode"])["cash"] if totals is not None and len(totals) else pd.Series(dtype=float)
    rows, shown = [], 0
    for (sup, mode), g in po.groupby(["supplier", "mode"], sort=False):
        if shown >= MAX_ORDER_LINES:
            break
        c = cash.get((sup, mode), g["amount"].sum() + g["freight"].sum())
        rows.append(f"<tr class='sup'><td colspan='4'>{_e(sup)} · {_e(mode)}</td>"
                    f"<td class='n'>{int(g['qty'].sum()):,}</td><td></td><td class='n'>cash {c:,.2f}</td></tr>")
        out.text.append(f"  {sup} / {mode}: cash {c:,.2f}")
        for p in g.head(MAX_ORDER_LINES - shown).itertuples():
            rows.append(f"<tr><td style='white-space:nowrap'>{_e(p.sku)}</td><td>{_e(p.title)}<div class='why'>"
                        f"{_why(p.reason)}</div></td><td style='white-space:nowrap'>{_date(p.order_by)}</td>"
                        f"<td>{_e(p.mode)}</td><td class='n'>{int(p.qty):,}</td>"
                        f"<td class='n'>{p.unit_cost:,.2f}</td><td class='n'>{p.amount:,.2f} + freight "
                        f"{p.freight:,.2f}</td></tr>")
            out.text.append(f"    {p.sku} {p.title}: {int(p.qty):,} units by {p.mode}, order by {_date(p.order_by)}, "
                            f"{p.amount:,.2f} + freight {p.freight:,.2f}")
            shown += 1
    total = totals[totals["supplier"] == "TOTAL"].iloc[0] if totals is not None and len(totals) else None
    if total is not None:
        rows.append(f"<tr class='sup'><td colspan='4'>Total: {int(total['skus'])} SKUs</td>"
                    f"<td class='n'>{int(total['qty']):,}</td><td></td><td class='n'>cash {total['cash']:,.2f}</td></tr>")
        out.text.append(f"  TOTAL {int(total['skus'])} SKUs, {int(total['qty']):,} units, cash {total['cash']:,.2f}")
    out.html.append("<table class='t'><tr><th>sku</th><th>title (reason below)</th><th>order by</th><th>mode</th>"
                    "<th class='n'>qty</th><th class='n'>unit cost</th><th class='n'>amount</th></tr>"
                    + "".join(rows) + "</table>")
    out.html.append(_more(len(po) - shown, "order lines", "purchase_orders.csv") + "</section>")
    out.text.append("")


def money_html(money: pd.DataFrame | None, out: MondayParts) -> None:
    if money is None or not len(money):
        return
    rows = "".join(f"<tr><td>{_e(m.item)}</td><td class='n'>{m.amount:,.2f}</td><td class='why'>{_e(m.reason)}</td></tr>"
                   for m in money.itertuples())
    out.html.append("<section id='money'><h2>Money this week</h2><table class='t'>" + rows + "</table></section>")
    out.text += ["MONEY"] + [f"  {m.item}: {m.amount:,.2f}" for m in money.itertuples()] + [""]


def changes_html(changes: pd.DataFrame | None, fva: pd.DataFrame | None, out: MondayParts) -> None:
    out.open_section("changes", "What changed since last week", "WHAT CHANGED SINCE LAST WEEK")
    body, line = change_summary(changes)
    if body is None:
        out.close_empty(_e(line), line)
        return
    acc = week_accuracy(fva)
    if acc is not None:
        line += (f" Last week's forecast vs units sold: {fva['forecast_units'].sum():,.0f} forecast, "
                 f"{fva['actual_units'].sum():,.0f} sold; accuracy {acc:.0%} (1 − WAPE over {len(fva)} SKUs).")
    out.html.append(f"<p>{_e(line)}</p>")
    out.text.append("  " + line)
    rows = "".join(f"<tr><td>{_e(c.kind)}</td><td>{_e(c.subject)}</td><td>{_e(c.before)}</td><td>{_e(c.after)}</td></tr>"
                   for c in body.head(MAX_CHANGES).itertuples())
    out.html.append("<table class='t'><tr><th>change</th><th>subject</th><th>before</th><th>now</th></tr>" + rows
                    + "</table>" + _more(len(body) - MAX_CHANGES, "changes", "changes.csv") + "</section>")
    out.text.append("")


def email_monday(report_dir: Path, acts: pd.DataFrame | None, po: pd.DataFrame | None, attached: str) -> MondayParts:
    from workbench.report.summary import _read

    out = MondayParts()
    actions_html(acts, out)
    orders_html(po, _read(report_dir, "purchase_orders_by_supplier.csv"), out)
    money_html(_read(report_dir, "money.csv"), out)
    changes_html(_read(report_dir, "changes.csv"), _read(report_dir, "forecast_vs_actual.csv"), out)
    return out

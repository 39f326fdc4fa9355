"""Report tables: paging, filtering and sorting over the rows embedded (itables/DataTables, embedded
offline once per report). :func:`capped_html` embeds at most ``workbench.report.top.MAX_ROWS`` rows, with
a sentence naming the file that holds every row, so a report does not grow with the catalog. Numbers stay numbers for sorting and are formatted for display in
the browser: whole units without decimals, money with two, rates as percentages; dates are ISO text,
so they sort as dates. Key columns come first; the reason is last, folded into an expandable line.
"""
from __future__ import annotations

import html

import pandas as pd

from workbench.report.fmt import PLAIN_NAMES, column_kind, health_values, plain_cells

#: Columns people act on, shown first when present (in this order); ``reason`` always last.
KEY_FIRST = ["rank", "urgency", "kind", "subject", "action", "due", "money_at_stake", "sku", "unique_id", "title",
             "supplier", "channel", "campaign", "metric", "latest", "target", "breach", "mode", "qty",
             "recommended_qty", "ship_mode", "order_by", "unit_cost", "amount", "freight", "status", "phase", "action",
             "current_price", "recommended_price", "change_pct", "current_budget", "recommended_budget", "alert",
             "severity", "available", "inbound", "ads", "sellable_cover_days", "cover_days", "days_of_cover"]

_JS_WHOLE = ("function(d,t){return t==='display'&&d!==null&&d!==''&&!isNaN(d)?Number(d).toLocaleString('en-US',"
             "{maximumFractionDigits:0}):d}")
_JS_MONEY = ("function(d,t){return t==='display'&&d!==null&&d!==''&&!isNaN(d)?Number(d).toLocaleString('en-US',"
             "{minimumFractionDigits:2,maximumFractionDigits:2}):d}")
_JS_RATE = "function(d,t){return t==='display'&&d!==null&&d!==''&&!isNaN(d)?Number(d).toFixed(2)+'%':d}"
_JS_SIGNED = "function(d,t){return t==='display'&&d!==null&&d!==''&&!isNaN(d)?(d>0?'+':'')+Number(d).toFixed(1)+'%':d}"

_initialised = False


def setup() -> None:
    """Embed the DataTables bundle in the notebook output once (offline: no CDN)."""
    global _initialised
    import itables

    itables.init_notebook_mode(all_interactive=False, connected=False)
    _initialised = True


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in dict.fromkeys(KEY_FIRST) if c in df.columns]
    rest = [c for c in df.columns if c not in first and c != "reason"]
    return df[first + rest + (["reason"] if "reason" in df.columns else [])]


def _reason_cell(text) -> str:
    t = "" if pd.isna(text) else str(text)
    if len(t) <= 60:
        return html.escape(t)
    return f"<details><summary>{html.escape(t[:60])}…</summary>{html.escape(t)}</details>"


def prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """The frame as it is embedded (escaped text, numeric numbers, ISO dates) and its column renderers."""
    from itables import JavascriptFunction

    d = health_values(_ordered(df))  # account-health values: rates in percent, ratings as they are
    defs: dict[str, list[int]] = {"whole": [], "money": [], "rate": [], "signed": []}
    for i, c in enumerate(d.columns):
        s = d[c]
        kind = "reason" if c == "reason" else column_kind(c, s)
        if kind == "signed" and not pd.api.types.is_numeric_dtype(s):
            kind = "text"  # a *_pct column of text is embedded as text
        if kind == "reason":
            d[c] = s.map(_reason_cell)
        elif kind in ("date", "bool"):
            d[c] = plain_cells(s, kind)
        elif kind == "text":
            d[c] = s.map(lambda x: "" if pd.isna(x) else html.escape(str(x)))
        else:  # numbers stay numbers; a renderer formats them in the browser
            if kind == "rate":
                d[c] = (s * 100).round(2)
            elif kind == "money":
                d[c] = s.round(2)
            defs[kind].append(i)
    js = {"whole": _JS_WHOLE, "money": _JS_MONEY, "rate": _JS_RATE, "signed": _JS_SIGNED}
    column_defs = [{"targets": cols, "render": JavascriptFunction(js[k])} for k, cols in defs.items() if cols]
    if "reason" in d.columns:
        column_defs.append({"targets": [len(d.columns) - 1], "className": "wb-reason"})
    for cls, names in (("wb-wrap", WRAP), ("wb-wide", {"action"})):
        cols = [i for i, c in enumerate(d.columns) if c in names]
        if cols:
            column_defs.append({"targets": cols, "className": cls})
    return d.rename(columns=PLAIN_NAMES), column_defs


def capped_html(df: pd.DataFrame, page_length: int = 25, file: str | None = None, order: str = "",
                limit: int | None = None) -> str:
    """The first ``limit`` rows of ``df`` (already in the order to show) as one interactive table, under a
    sentence saying how many of how many rows are shown and which file holds them all."""
    from workbench.report import top

    limit = top.MAX_ROWS if limit is None else int(limit)
    return (f"<p class='wb-shown'>{top.shown_sentence(len(df), limit, file, order)}</p>"
            + table_html(df.head(limit), page_length))


def table_html(df: pd.DataFrame, page_length: int = 25, caption: str = "") -> str:
    """One interactive table with every row of ``df`` embedded; the DataTables library comes from
    :func:`setup`. Report sections call :func:`capped_html`."""
    import itables

    d, column_defs = prepare(df)
    return itables.to_html_datatable(
        d, caption=caption or None, connected=False, maxBytes=0, maxRows=0, maxColumns=0, allow_html=True,
        format_floats_in_python=False, showIndex=False, pageLength=page_length,
        lengthMenu=sorted({page_length, 10, 25, 100, 500}),
        columnDefs=column_defs, classes="display compact", order=[],
        layout={"topStart": "pageLength", "topEnd": "search", "bottomStart": "info", "bottomEnd": "paging"})


#: Long text columns that may wrap (everything else stays on one line).
WRAP = {"money_basis", "title", "subject", "before", "after"}

STYLE = """<style>
table.dataTable td,table.dataTable th{text-align:left !important;white-space:nowrap}
table.dataTable td.dt-type-numeric,table.dataTable th.dt-type-numeric{text-align:right !important}
table.dataTable td.wb-wrap{white-space:normal;min-width:120px;max-width:300px}
table.dataTable td.wb-wide{white-space:normal;min-width:240px;max-width:400px}
table.dataTable td.wb-reason{white-space:normal;min-width:200px;max-width:420px;color:#555}
table.dataTable td.wb-reason summary{cursor:pointer}
</style>"""

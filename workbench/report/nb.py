"""Helpers the report notebooks call, so the notebooks stay thin: setup, tables, figures, notes.

Tables are HTML-escaped and sortable/filterable in the exported report (a few lines of inline
JavaScript, no CDN); figures are plotly with the library embedded once, so reports work offline.
"""
from __future__ import annotations

import html
import itertools

import pandas as pd

_table_ids = itertools.count(1)

_TABLE_JS = """
<script>
(function(){
  function cell(r,i){var t=r.cells[i].innerText.replace(/[,%+$]/g,'');var n=parseFloat(t);return isNaN(n)?r.cells[i].innerText.toLowerCase():n;}
  document.querySelectorAll('table.wb-sortable').forEach(function(tb){
    if(tb.dataset.ready)return; tb.dataset.ready=1;
    tb.querySelectorAll('thead th').forEach(function(th,i){
      th.style.cursor='pointer'; th.title='click to sort';
      th.addEventListener('click',function(){
        var body=tb.tBodies[0],rows=Array.from(body.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
        rows.sort(function(a,b){var x=cell(a,i),y=cell(b,i);return (x>y?1:x<y?-1:0)*(asc?1:-1);});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
    var f=document.getElementById(tb.id+'-filter');
    if(f)f.addEventListener('input',function(){var q=f.value.toLowerCase();
      Array.from(tb.tBodies[0].rows).forEach(function(r){r.style.display=r.innerText.toLowerCase().indexOf(q)>=0?'':'none';});});
  });
})();
</script>
"""

_STYLE = """<style>
table.wb-sortable{border-collapse:collapse;font-size:12px;margin:4px 0 12px}
table.wb-sortable th{background:#f3f3f3;text-align:left;padding:4px 8px;border-bottom:2px solid #ccc}
table.wb-sortable td{padding:3px 8px;border-bottom:1px solid #e5e5e5;vertical-align:top;white-space:nowrap}
.wb-scroll{overflow-x:auto;max-width:100%}
.wb-note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px;margin:6px 0}
.wb-kpi{display:inline-block;margin:4px 16px 4px 0;padding:6px 12px;background:#f5f7fa;border-radius:4px}
.wb-kpi b{font-size:18px;display:block}
</style>"""


_plotly_embedded = False


def setup() -> None:
    """Start a report notebook: plotly.js is embedded with the first figure shown (offline, no CDN)."""
    global _plotly_embedded
    _plotly_embedded = False
    pd.set_option("display.max_colwidth", 200)


def figure(fig) -> None:
    """Display a plotly figure as HTML; the first one carries plotly.js, so the report needs no network."""
    global _plotly_embedded
    _display_html(fig.to_html(full_html=False, include_plotlyjs=not _plotly_embedded, include_mathjax=False,
                              config={"displaylogo": False, "responsive": True}))
    _plotly_embedded = True


def _display_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))


def note(text: str) -> None:
    """A highlighted sentence, e.g. to say a section's data is missing."""
    _display_html(_STYLE + f"<div class='wb-note'>{html.escape(text)}</div>")


def kpis(items: dict[str, object]) -> None:
    cells = "".join(f"<span class='wb-kpi'><b>{html.escape(str(v))}</b>{html.escape(k)}</span>" for k, v in items.items())
    _display_html(_STYLE + f"<div>{cells}</div>")


def display_values(df: pd.DataFrame) -> pd.DataFrame:
    """Values as people read them: percent columns signed (8.8 means +8.8 %), money-like floats with
    two decimals and thousands separators, dates as YYYY-MM-DD. For tables in reports and emails."""
    shown = df.copy()
    for c in shown.columns:
        if c.endswith("_pct"):
            shown[c] = shown[c].map(lambda x: f"{x:+.1f}%" if pd.notna(x) else "")
        elif pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].map(lambda x: f"{x:,.2f}" if pd.notna(x) else "")
        elif pd.api.types.is_datetime64_any_dtype(shown[c]):
            shown[c] = shown[c].dt.strftime("%Y-%m-%d")
    return shown


def table_html(df: pd.DataFrame, max_rows: int = 200, caption: str = "") -> str:
    """A sortable, filterable, escaped HTML table of at most ``max_rows`` rows."""
    tid = f"wb-table-{next(_table_ids)}"
    shown = display_values(df.head(max_rows))
    if "reason" in shown.columns:  # the reason comes right after the identifying columns, readable width
        ident = [c for c in ("sku", "unique_id", "title", "channel", "campaign", "metric", "status", "phase",
                             "action") if c in shown.columns][:3]
        shown = shown[ident + ["reason"] + [c for c in shown.columns if c not in ident and c != "reason"]]
        k = shown.columns.get_loc("reason") + 1
        reason_css = (f"<style>#{tid} td:nth-child({k}){{white-space:normal;text-align:left;min-width:380px;max-width:520px}}"
                      "</style>")
    else:
        reason_css = ""
    body = shown.to_html(index=False, escape=True, border=0, table_id=tid, classes="wb-sortable")
    more = (f"<p><i>Showing {max_rows} of {len(df):,} rows; the full table is in the attached CSV.</i></p>"
            if len(df) > max_rows else "")
    head = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    flt = f"<input id='{tid}-filter' placeholder='filter rows…' style='margin:4px 0;padding:3px;width:240px'>"
    return _STYLE + reason_css + head + flt + f"<div class='wb-scroll'>{body}</div>" + more + _TABLE_JS


def table(df: pd.DataFrame | None, max_rows: int = 200, caption: str = "", missing: str = "No data.") -> None:
    if df is None or len(df) == 0:
        note(missing)
        return
    _display_html(table_html(df, max_rows, caption))


def show(make_figure, frame: pd.DataFrame | None, missing: str, **kwargs) -> None:
    """Display ``make_figure(frame)``, or say why the section has no figure."""
    if frame is None or len(frame) == 0:
        note(missing)
        return
    fig = make_figure(frame, **kwargs)
    if fig is None:
        note(missing)
    else:
        figure(fig)


def biggest_misses(results, n: int = 3) -> None:
    """Charts for the ``n`` series whose chosen model had the largest backtest MASE."""
    from workbench.report import figures

    classes, forecast = results.classes, results.forecast
    if classes is None or forecast is None or "mase" not in classes.columns:
        note("No backtest results.")
        return
    worst = classes.dropna(subset=["mase"]).sort_values("mase", ascending=False).head(n)
    history = results.history_of(worst["unique_id"])  # a few SKUs' rows, not the whole store
    if history is None:
        note("No demand history.")
        return
    table(worst, n, "Largest backtest errors")
    for uid in worst["unique_id"]:
        figure(figures.history_and_forecast(history, forecast, uid))

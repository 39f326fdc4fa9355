"""Helpers the report notebooks call, so the notebooks stay thin: setup, tables, figures, notes.

Tables show the rows that need action first, at most ``max_rows`` of them (``workbench.report.top``),
with paging, filtering and sorting (``workbench.report.tables``, DataTables embedded once) and a sentence
naming the file of the report folder that holds every row; figures are plotly with the library embedded once, so reports work offline.
"""
from __future__ import annotations

import html

import pandas as pd

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
_max_rows: int | None = None  # None: workbench.report.top.MAX_ROWS


def setup(max_rows: int | None = None) -> None:
    """Start a report notebook: plotly.js is embedded with the first figure shown and the DataTables
    library once here (offline, no CDN). ``max_rows``: rows embedded per table (default ``top.MAX_ROWS``)."""
    from workbench.report import tables

    global _plotly_embedded, _max_rows
    _plotly_embedded = False
    _max_rows = max_rows
    pd.set_option("display.max_colwidth", 200)
    tables.setup()
    _display_html(_STYLE + tables.STYLE)


def figure(fig) -> None:
    """Display a plotly figure: as plotly's own mimetype (JupyterLab draws it, trusted or not) and as
    HTML for the exported report, where the first figure carries plotly.js so it needs no network."""
    import json

    import plotly.io as pio
    from IPython.display import display

    global _plotly_embedded
    config = {"displaylogo": False, "responsive": True}
    page = fig.to_html(full_html=False, include_plotlyjs=not _plotly_embedded, include_mathjax=False, config=config)
    spec = json.loads(pio.to_json(fig, validate=False))
    display({"application/vnd.plotly.v1+json": {**spec, "config": config}, "text/html": page,
             "text/plain": f"<plotly figure: {fig.layout.title.text or ''}>"}, raw=True)
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


def table(df: pd.DataFrame | None, page_length: int = 25, caption: str = "", missing: str = "No data.",
          file: str | None = None, order: str = "") -> None:
    """An interactive table of the first rows of ``df`` (``page_length`` a page), or ``missing``.

    At most ``max_rows`` (see :func:`setup`) rows are embedded; a sentence says how many of how many,
    in which ``order``, and names the report-folder ``file`` that holds every row.
    """
    from workbench.report import tables

    if df is None or len(df) == 0:
        note(missing)
        return
    head = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    _display_html(head + tables.capped_html(df, page_length, file, order, limit()))


def limit() -> int:
    """Rows embedded per table in this notebook."""
    from workbench.report import top

    return top.MAX_ROWS if _max_rows is None else int(_max_rows)


def result_table(results, name: str, page_length: int = 25, caption: str = "", missing: str = "No data.") -> None:
    """The table of result ``name`` (a file of the report folder, e.g. ``restock``): the rows that need
    action first (``workbench.report.top``), the report's columns, the file named and linked."""
    from workbench.report import top
    from workbench.report.weekly import FILES, view

    base = name.removesuffix("_changes")
    frame = top.ranked(name, results.extra(base))
    table(view(base, frame), page_length, caption, missing, FILES.get(base), top.order_words(name))


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

    classes = results.classes
    if classes is None or "mase" not in classes.columns:
        note("No backtest results.")
        return
    worst = classes.dropna(subset=["mase"]).sort_values("mase", ascending=False).head(n)
    history = results.history_of(worst["unique_id"])  # a few SKUs' rows, not the whole store
    forecast = results.forecast_of(worst["unique_id"])
    if history is None or forecast is None:
        note("No demand history or forecast.")
        return
    table(worst, n, "Largest backtest errors", file="forecast_classes.csv", order="largest error first")
    for uid in worst["unique_id"]:
        figure(figures.history_and_forecast(history, forecast, uid))

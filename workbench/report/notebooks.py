"""Run a notebook with papermill and export it to HTML without code (plotly embedded, offline); then
slim the executed notebook (its figures' HTML copies are only for the export)."""
from __future__ import annotations

from pathlib import Path

from workbench.config import secrets_hidden
from workbench.io import write_text

TEMPLATES = Path(__file__).resolve().parent / "templates"


def run_notebook(source: Path, target: Path, parameters: dict, cell_timeout_seconds: int = 900) -> Path:
    """Execute ``source`` into ``target`` with ``parameters`` injected (typed values, never secrets)."""
    import papermill as pm

    target.parent.mkdir(parents=True, exist_ok=True)
    with secrets_hidden():  # the kernel inherits the environment: never the SMTP password
        pm.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                            cwd=str(source.parent), execution_timeout=cell_timeout_seconds,
                            progress_bar=False, log_output=False, report_mode=False)
    return target


def export_html(notebook: Path, target: Path) -> Path:
    """HTML for readers: inputs and prompts hidden, outputs (tables, plotly figures) kept."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            extra_template_basedirs=[str(TEMPLATES)], template_name="offline")
    body, _ = exporter.from_filename(str(notebook))
    return write_text(target, body)


PLOTLY_MIME = "application/vnd.plotly.v1+json"


def drop_figure_html(notebook: Path) -> Path:
    """Rewrite an executed notebook without the HTML copy of each plotly figure, atomically.

    :func:`workbench.report.nb.figure` displays a figure twice: as plotly's JSON (JupyterLab draws that)
    and as HTML for the exported page, the first copy carrying plotly.js (about 5 MB). Once the page
    is exported, the notebook needs only the JSON: the report folder holds plotly.js once per page.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME in data:
                data.pop("text/html", None)
    return write_text(notebook, nbformat.writes(nb))

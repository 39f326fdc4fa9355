"""Two consecutive weekly runs on data/samples into one reports folder; the second report and email are
what a seller opens on Monday: actions first, every SKU to order, purchase orders, what changed.

The first week runs the computation and the email only (its notebooks are not what is tested); the
second runs everything, and a real headless Chromium opens its HTML (skipped when none is installed).
"""
from __future__ import annotations

import email
import email.policy
import json
import re

import pandas as pd
import pytest

from workbench.config import SAMPLE_DATA, MailSettings
from workbench.report.browser import find_chromium
from workbench.report.pipeline import run_weekly

WEEK1, WEEK2 = "2026-11-16", "2026-11-23"
OUTBOX = MailSettings(None, 0, None, None, False, "workbench@example.com", ["ops@example.com"])


@pytest.fixture(scope="module")
def week2(tmp_path_factory):
    reports = tmp_path_factory.mktemp("monday") / "reports"
    run_weekly(SAMPLE_DATA, WEEK1, reports, settings=OUTBOX, notebooks=())
    out = run_weekly(SAMPLE_DATA, WEEK2, reports, settings=OUTBOX)
    msg = email.message_from_bytes((out.report_dir / "outbox").glob("weekly-*.eml").__next__().read_bytes(),
                                   policy=email.policy.default)
    return {"dir": out.report_dir, "msg": msg, "html": (out.report_dir / "weekly_report.html").read_text(),
            "body": msg.get_body(("html",)).get_content(), "eml": next((out.report_dir / "outbox").glob("*.eml"))}


def to_order(d) -> list[str]:
    r = pd.read_csv(d / "restock.csv", dtype={"sku": str})
    return sorted(r.loc[r["recommended_qty"] > 0, "sku"])


def test_the_report_and_the_email_open_with_the_actions(week2):
    first = re.search(r"<section id=['\"]([a-z]+)['\"]", week2["html"])
    assert first and first.group(1) == "actions"
    assert re.search(r"id=['\"]actions['\"]", week2["html"]).start() < week2["html"].index("Order sheet")
    assert re.search(r"<section id=['\"]([a-z]+)['\"]", week2["body"]).group(1) == "actions"
    assert "amazon_us odr 0.80% breaches" in week2["body"] and "0.80%" in week2["html"]


def test_the_subject_carries_the_counts(week2):
    subject = week2["msg"]["Subject"]
    assert WEEK2 in subject
    m = re.search(r"(\d+) urgent · (\d+) to order · (\d+) health breach", subject)
    assert m, subject
    assert int(m.group(2)) == len(to_order(week2["dir"])) and int(m.group(3)) >= 1


def test_purchase_orders_add_up_to_restock_units_per_sku(week2):
    po = pd.read_csv(week2["dir"] / "purchase_orders.csv", dtype={"sku": str})
    r = pd.read_csv(week2["dir"] / "restock.csv", dtype={"sku": str})
    want = r[r["recommended_qty"] > 0].set_index("sku")["recommended_qty"].sort_index()
    assert po.groupby("sku")["qty"].sum().sort_index().to_dict() == want.to_dict()
    assert (po["amount"] - po["qty"] * po["unit_cost"]).abs().max() < 0.01
    assert {"supplier", "sku", "qty", "unit_cost", "amount", "freight", "mode", "order_by", "reason"} <= set(po.columns)


def test_every_sku_to_order_is_in_the_report_and_the_email(week2):
    skus = to_order(week2["dir"])
    assert len(skus) >= 5
    order_sheet = week2["body"][week2["body"].index("id='orders'"):week2["body"].index("id='money'")]
    assert [s for s in skus if s not in order_sheet] == []
    assert "more order lines" not in order_sheet  # nothing cut at this size
    assert [s for s in skus if s not in week2["html"]] == []


def test_the_second_week_says_what_changed_since_the_first(week2):
    assert f"previous report of {WEEK1}" in week2["html"]  # one sentence, shared by the report and the email
    assert f"report of {WEEK1}" in week2["body"] and "First run" not in week2["body"]
    fva = pd.read_csv(week2["dir"] / "forecast_vs_actual.csv")
    assert len(fva) > 0 and fva["reason"].notna().all()


def test_the_forecast_quality_page_names_the_losers_to_seasonal_naive_without_repo_links(week2):
    page = (week2["dir"] / "forecast_quality.html").read_text()
    assert "seasonal naive" in page and "worse than naive:" in page
    assert "benchmarks/" not in page and not re.search(r"class=['\"]wb-kpi['\"]", page)  # no repo links, no tiles
    assert "Forecast vs sold last week" in page


def test_the_email_stays_under_5_mb_with_the_big_tables_left_in_the_folder(week2):
    assert week2["eml"].stat().st_size <= 5 * 1024 * 1024
    names = {p.get_filename() for p in week2["msg"].iter_attachments()}
    assert names, "the reports and sheets are attached"
    assert not any(n in names for n in ("demand_history.csv", "forecast.csv", "forecast_backtest.csv"))


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium()
    if not exe:
        pytest.skip("no Chromium: install it to run the browser test (Debian/Ubuntu: apt-get install chromium); "
                    ".ci/run installs it when missing")
    from workbench.report.browser import Chromium

    with Chromium(exe) as c:
        yield c


@pytest.mark.parametrize("page", ["weekly_report.html", "forecast_quality.html"])
def test_in_chromium_every_chart_draws_without_console_errors(week2, browser, page):
    browser.events.clear()
    browser.open(week2["dir"] / page)
    assert browser.wait_for("document.querySelectorAll('table.dataTable').length > 0", 60), "tables never drew"
    charts = browser.js("document.querySelectorAll('.plotly-graph-div').length")
    drawn = browser.js("Array.from(document.querySelectorAll('.plotly-graph-div')).filter(d => d._fullLayout"
                       " && d.querySelector('.main-svg') && d.querySelectorAll('.trace').length > 0).length")
    assert charts >= 2 and drawn == charts
    assert browser.console_errors() == []


def test_in_chromium_the_filter_finds_a_sku_beyond_the_first_page(week2, browser):
    from workbench.report import top

    # the restock table (every SKU, most urgent first) has more rows than one page: its least urgent SKU
    # is on the last page
    shown = top.restock(pd.read_csv(week2["dir"] / "restock.csv", dtype={"sku": str}))
    sku = shown["sku"].iloc[-1]
    browser.open(week2["dir"] / "weekly_report.html")
    assert browser.wait_for("document.querySelectorAll('table.dataTable').length > 0", 60)
    found = browser.js("""(() => {
      const head = t => t.querySelector('thead').innerText;
      const t = Array.from(document.querySelectorAll('table.dataTable')).find(t =>
        head(t).includes('avg_daily_sales') && head(t).includes('safety_stock'));
      const wrap = t.closest('.dt-container');
      const first = t.tBodies[0].innerText;
      const info = wrap.querySelector('.dt-info').innerText;
      const sku = %s;
      const before = first.includes(sku);
      const box = wrap.querySelector('input[type=search]');
      box.value = sku; box.dispatchEvent(new Event('input', {bubbles: true}));
      return {before, info, after: t.tBodies[0].innerText, rows: t.tBodies[0].rows.length};
    })()""" % json.dumps(sku))
    assert not found["before"], f"{sku} should start beyond the first page"
    assert "of 40 entries" in found["info"]
    assert sku in found["after"] and found["rows"] == 1
    assert "All 40 rows (most urgent first); the same table is in" in week2["html"]


@pytest.mark.slow
def test_in_jupyterlab_the_executed_report_draws_its_charts_and_tables(week2, browser, tmp_path):
    """The analyst path: `make lab`'s command (trust, then lab with --allow-root as root) on the executed notebook."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    jupyter = Path(sys.executable).parent / "jupyter"
    subprocess.run([str(jupyter), "trust", str(week2["dir"] / "weekly_report.ipynb")], check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = ["--allow-root"] if os.geteuid() == 0 else []
    lab = subprocess.Popen([str(jupyter), "lab", *root, "--no-browser", f"--port={port}", "--ServerApp.token=t",
                            f"--ServerApp.root_dir={week2['dir']}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/lab/tree/weekly_report.ipynb?token=t"
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        browser.open(url)
        assert browser.wait_for("document.querySelectorAll('.jp-RenderedPlotly .main-svg').length > 0", 120)
        for _ in range(40):  # Lab renders cells as they scroll into view
            browser.js("(() => {const p = document.querySelector('.jp-WindowedPanel-outer'); if (p) p.scrollTop += 900;})()")
            time.sleep(0.3)
        figures = len(re.findall(r'class="plotly-graph-div"', week2["html"]))
        assert figures >= 2 and browser.js("document.querySelectorAll('.jp-RenderedPlotly').length") == figures
        assert browser.js("document.querySelectorAll('table.dataTable').length") > 10  # trusted: DataTables ran
    finally:
        lab.terminate()
        lab.wait(20)

"""`workbench weekly` end to end, as the server runs it: the CLI, papermill, a real SMTP server on 127.0.0.1.

One story, in order (module-scoped, because each full run executes the real notebooks):
deliver → re-run sends nothing → --force sends again → broken data fails loudly and keeps the report.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from conftest import digest
from smtp_server import smtp_server

from workbench.config import SAMPLE_DATA

AS_OF = "2026-11-23"
PASSWORD = "pw-Zq8!never-in-files"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("weekly")
    data = root / "data"
    shutil.copytree(SAMPLE_DATA, data)
    with smtp_server(user="ops-bot", password=PASSWORD) as (inbox, port):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update(WORKBENCH_SMTP_HOST="127.0.0.1", WORKBENCH_SMTP_PORT=str(port), WORKBENCH_SMTP_USER="ops-bot",
                   WORKBENCH_SMTP_PASSWORD=PASSWORD, WORKBENCH_SMTP_STARTTLS="false",
                   WORKBENCH_MAIL_FROM="workbench@example.com", WORKBENCH_MAIL_TO="ops@example.com")

        def run(*extra):
            return subprocess.run([sys.executable, "-m", "workbench", "weekly", "--data", str(data), "--as-of", AS_OF,
                                   "--reports", str(root / "reports"), *extra],
                                  env=env, capture_output=True, text=True, timeout=900)

        yield {"root": root, "data": data, "inbox": inbox, "run": run, "report": root / "reports" / AS_OF}


@pytest.fixture(scope="module")
def first(world):
    result = world["run"]()
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_the_weekly_run_sends_one_html_email_with_charts_and_attachments(world, first):
    (msg,) = world["inbox"].messages
    assert AS_OF in msg["Subject"]
    body = msg.get_body(("html",)).get_content()
    for word in ("Restock", "Pricing", "Ad budgets", "Risk"):
        assert word in body
    assert "<script" not in body.lower()
    cids = re.findall(r'src="cid:([^"]+)"', body)
    inline = {p["Content-ID"].strip("<>") for p in msg.walk() if p.get_content_type() == "image/png"}
    assert cids and set(cids) <= inline
    names = {p.get_filename() for p in msg.iter_attachments()}
    assert {"weekly_report.html", "forecast_quality.html", "restock.csv", "pricing.csv", "risk.csv"} <= names \
        or any(n.endswith(".zip") for n in names)


def test_the_report_is_html_without_code_with_offline_plotly_and_csvs(world, first):
    report = world["report"]
    html = (report / "weekly_report.html").read_text()
    for word in ("Restock", "Pricing", "Ad budgets"):
        assert word in html
    assert "nb.show(" not in html and "load_results(" not in html  # code cells are hidden
    assert "Plotly.newPlot" in html
    # plotly.js is embedded and nothing is fetched from a CDN: the report works offline
    assert re.findall(r"<script[^>]*\bsrc=", html) == []
    assert html.count("plotly.js v") == 1, "plotly.js must be embedded exactly once"
    restock = pd.read_csv(report / "restock.csv")
    assert len(restock) > 0 and restock["reason"].notna().all()
    for name in ("pricing.csv", "risk.csv", "weekly_report.ipynb", "forecast_quality.html", "rejects.csv"):
        assert (report / name).is_file(), name


def test_every_row_of_every_csv_in_the_report_has_a_reason(world, first):
    csvs = sorted(world["report"].glob("*.csv"))
    assert len(csvs) >= 10
    for path in csvs:
        df = pd.read_csv(path)
        assert "reason" in df.columns, path.name
        assert df["reason"].notna().all() and df["reason"].astype(str).str.strip().ne("").all(), path.name


def test_a_second_run_for_the_same_week_sends_nothing(world, first):
    result = world["run"]()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "already delivered" in result.stdout
    assert len(world["inbox"].messages) == 1


def test_force_builds_and_sends_again(world, first):
    result = world["run"]("--force")
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(world["inbox"].messages) == 2


def test_broken_data_fails_alerts_and_keeps_the_last_good_report(world, first):
    report_before = digest(world["report"])
    sales = world["data"] / "sales.csv"
    pd.read_csv(sales, dtype=str, keep_default_na=False).drop(columns="units").to_csv(sales, index=False)
    sent_before = len(world["inbox"].messages)
    result = world["run"]("--force")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "sales.csv:1:units: required column is missing" in result.stderr
    alert = world["inbox"].messages[sent_before:]
    assert len(alert) == 1 and "FAILED" in alert[0]["Subject"]
    text = alert[0].get_body(("plain",)).get_content()
    assert "load and validate the data" in text and "Log:" in text
    assert digest(world["report"]) == report_before, "a failed run must leave the last good report untouched"


def test_the_smtp_password_is_in_no_file_the_runs_wrote(world, first):
    leaks = [str(p) for p in (world["root"] / "reports").rglob("*")
             if p.is_file() and PASSWORD.encode() in p.read_bytes()]
    assert leaks == []

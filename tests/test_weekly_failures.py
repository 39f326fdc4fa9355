"""The weekly run's other failures: SMTP down, a notebook cell error. Each exits non-zero and alerts."""
from __future__ import annotations

import email
import email.policy
import json
import shutil

import pytest
from conftest import digest
from smtp_server import free_port

from workbench.config import NOTEBOOKS, SAMPLE_DATA, mail_settings
from workbench.report.ledger import RunLedger
from workbench.report.pipeline import WeeklyFailed, run_weekly

AS_OF = "2026-11-23"
# the delivery path is what these tests check; one notebook keeps two full runs quick
ONE_NOTEBOOK = ("weekly_report.ipynb",)


def _eml(folder):
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]


def test_smtp_down_keeps_the_new_report_alerts_into_the_outbox_and_is_retried_next_run(tmp_path):
    down = mail_settings({"WORKBENCH_SMTP_HOST": "127.0.0.1", "WORKBENCH_SMTP_PORT": str(free_port()),
                          "WORKBENCH_SMTP_STARTTLS": "false"})
    with pytest.raises(WeeklyFailed) as e:
        run_weekly(SAMPLE_DATA, AS_OF, tmp_path, settings=down, mail_attempts=2, mail_backoff_seconds=0.01,
                   notebooks=ONE_NOTEBOOK)
    assert e.value.exit_code == 1 and e.value.step == "send the email"
    report = tmp_path / AS_OF
    assert (report / "weekly_report.html").is_file()  # the report itself was good: it is published
    (alert,) = _eml(report / "outbox")
    assert "FAILED" in alert["Subject"] and "send the email" in alert.get_body(("plain",)).get_content()
    (run,) = RunLedger(tmp_path / "ledger.sqlite").runs(AS_OF)
    assert run["status"] == "failed" and run["failed_step"] == "send the email"
    # nothing was delivered, so the next run (no --force needed) builds and sends again
    outcome = run_weekly(SAMPLE_DATA, AS_OF, tmp_path, settings=mail_settings({}), notebooks=ONE_NOTEBOOK)
    assert outcome.status == "delivered" and outcome.delivery.how == "outbox"


def test_a_notebook_cell_error_fails_the_run_and_keeps_the_last_good_report(tmp_path):
    reports = tmp_path / "reports"
    report = reports / AS_OF
    (report / "outbox").mkdir(parents=True)
    (report / "weekly_report.html").write_text("<p>last good report</p>")
    before = digest(report)
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, notebooks)
    nb = json.loads((notebooks / "weekly_report.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "id": "broken-cell", "metadata": {}, "execution_count": None, "outputs": [],
                        "source": "raise RuntimeError('a cell that breaks')"})
    (notebooks / "weekly_report.ipynb").write_text(json.dumps(nb))
    with pytest.raises(WeeklyFailed) as e:
        run_weekly(SAMPLE_DATA, AS_OF, reports, settings=mail_settings({}), notebooks_dir=notebooks,
                   notebooks=("weekly_report.ipynb",))
    assert e.value.exit_code == 1 and e.value.step == "run notebook weekly_report.ipynb"
    assert "a cell that breaks" in str(e.value)
    alerts = _eml(report / "outbox")
    assert len(alerts) == 1 and "FAILED" in alerts[0]["Subject"]
    after = digest(report)
    assert {k: v for k, v in after.items() if not k.startswith("outbox/")} == before
    assert not list(reports.glob(".staging-*")), "the half-built report is cleaned up"


def test_a_cell_that_runs_past_the_timeout_fails_the_run(tmp_path):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, notebooks)
    nb = json.loads((notebooks / "forecast_quality.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "id": "slow-cell", "metadata": {}, "execution_count": None,
                        "outputs": [], "source": "import time\ntime.sleep(60)"})
    (notebooks / "forecast_quality.ipynb").write_text(json.dumps(nb))
    with pytest.raises(WeeklyFailed) as e:
        run_weekly(SAMPLE_DATA, AS_OF, tmp_path / "reports", settings=mail_settings({}), notebooks_dir=notebooks,
                   notebooks=("forecast_quality.ipynb",), cell_timeout_seconds=20)
    assert e.value.exit_code == 1 and e.value.step == "run notebook forecast_quality.ipynb"
    assert "timed out" in str(e.value).lower() or "timeout" in str(e.value).lower()
    assert not (tmp_path / "reports" / AS_OF / "forecast_quality.html").exists()
    assert len(_eml(tmp_path / "reports" / AS_OF / "outbox")) == 1

"""Flaky servers, killed runs, unwritable folders: no duplicate email, no debris, always an alert.

The SMTP servers here are real sockets on 127.0.0.1 that misbehave (``flaky_smtp``). The weekly
pipeline tests replace only the report build (forecasts and notebooks, tested elsewhere) by a tiny
report, so each run takes a second and what is tested is the delivery around it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from flaky_smtp import flaky_smtp
from smtp_server import free_port, smtp_server

from workbench.cli import main
from workbench.config import mail_settings
from workbench.report import pipeline
from workbench.report.ledger import RunLedger
from workbench.report.mail import DeliveryUnknown, MailError, build_message, deliver
from workbench.report.pipeline import WeeklyFailed, run_weekly, weekly_message_id

AS_OF = "2026-11-23"


def _settings(port, **extra):
    env = {"WORKBENCH_SMTP_HOST": "127.0.0.1", "WORKBENCH_SMTP_PORT": str(port), "WORKBENCH_SMTP_STARTTLS": "false",
           "WORKBENCH_MAIL_FROM": "bench@example.com", "WORKBENCH_MAIL_TO": "ops@example.com"}
    return mail_settings({**env, **extra})


def _msg(settings):
    return build_message(settings, "Weekly report", "<p>hi</p>", "hi")


# ---- deliver(): which failures are retried
def test_an_acknowledgement_after_the_timeout_is_delivery_unknown_and_not_resent(tmp_path):
    with flaky_smtp("ack_late", delay=3) as srv:
        s = _settings(srv.port)
        with pytest.raises(DeliveryUnknown, match="delivery unknown, check the mailbox"):
            deliver(_msg(s), s, tmp_path, "w", attempts=3, backoff_seconds=0.01, timeout_seconds=1)
        assert srv.connections == 1 and len(srv.stored) == 1


def test_a_connection_dropped_before_the_acknowledgement_is_delivery_unknown(tmp_path):
    with flaky_smtp("drop") as srv:
        s = _settings(srv.port)
        with pytest.raises(DeliveryUnknown):
            deliver(_msg(s), s, tmp_path, "w", attempts=3, backoff_seconds=0.01, timeout_seconds=5)
        assert srv.connections == 1 and len(srv.stored) == 1


def test_a_refused_login_is_permanent_and_tried_once(tmp_path):
    with flaky_smtp("auth_fail") as srv:
        s = _settings(srv.port, WORKBENCH_SMTP_USER="bot", WORKBENCH_SMTP_PASSWORD="wrong-pw-123")
        with pytest.raises(MailError) as e:
            deliver(_msg(s), s, tmp_path, "w", attempts=5, backoff_seconds=0.01)
        assert e.value.permanent and not isinstance(e.value, DeliveryUnknown)
        assert srv.login_connections == 1, "a refused password is never retried (account lockout)"
        assert "wrong-pw-123" not in str(e.value)


def test_temporary_4xx_replies_are_retried_until_accepted(tmp_path):
    with flaky_smtp("tempfail", fail_times=2) as srv:
        s = _settings(srv.port)
        d = deliver(_msg(s), s, tmp_path, "w", attempts=3, backoff_seconds=0.01)
        assert d.how == "smtp" and srv.connections == 3 and len(srv.stored) == 1


def test_a_4xx_after_the_data_is_a_clear_refusal_and_retried(tmp_path):
    with flaky_smtp("data_4xx") as srv:
        s = _settings(srv.port)
        with pytest.raises(MailError) as e:
            deliver(_msg(s), s, tmp_path, "w", attempts=2, backoff_seconds=0.01)
        assert not isinstance(e.value, DeliveryUnknown) and srv.connections == 2 and not srv.stored


def test_connection_refused_is_retried(tmp_path):
    s = _settings(free_port())
    with pytest.raises(MailError, match="after 2 attempts"):
        deliver(_msg(s), s, tmp_path, "w", attempts=2, backoff_seconds=0.01)


# ---- the weekly run around a flaky server (the report build replaced by a one-file report)
def _tiny_build(data_dir, as_of, staging, step, *args):
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    step("compute the recommendations")
    (staging / "weekly_report.html").write_text("<p>report</p>")
    return [staging / "weekly_report.html"]


@pytest.fixture
def tiny_build(monkeypatch):
    monkeypatch.setattr(pipeline, "_build", _tiny_build)


def test_the_message_id_is_stable_per_week_and_recipients():
    a = _settings(25)
    assert weekly_message_id(AS_OF, a) == weekly_message_id(AS_OF, _settings(26))
    assert weekly_message_id(AS_OF, a) != weekly_message_id("2026-11-30", a)
    assert weekly_message_id(AS_OF, a) != weekly_message_id(AS_OF, _settings(25, WORKBENCH_MAIL_TO="x@example.com"))
    assert weekly_message_id(AS_OF, a, resend=7) != weekly_message_id(AS_OF, a)


def test_a_late_acknowledgement_sends_one_copy_and_one_delivery_unknown_alert(tmp_path, tiny_build):
    with flaky_smtp("ack_late", delay=2.5) as srv:
        s = _settings(srv.port)
        with pytest.raises(WeeklyFailed) as e:
            run_weekly(tmp_path / "data", AS_OF, tmp_path / "r", settings=s, mail_backoff_seconds=0.01,
                       mail_timeout_seconds=1)
        assert e.value.step == "send the email"
        time.sleep(3)  # let the server finish the alert's late acknowledgement too
        subjects = [m["Subject"] for m in srv.messages()]
        assert sum("Weekly" in x for x in subjects) == 1, subjects
        assert any("delivery unknown" in x and "check the mailbox" in x for x in subjects), subjects
        (run,) = RunLedger(tmp_path / "r" / "ledger.sqlite").runs(AS_OF)
        assert run["status"] == "unknown" and run["message_id"] == weekly_message_id(AS_OF, s)
        assert srv.messages()[0]["Message-ID"] == run["message_id"]
        stored = len(srv.stored)
        # the next run does not send again: it says the delivery is unknown
        outcome = run_weekly(tmp_path / "data", AS_OF, tmp_path / "r", settings=s, mail_timeout_seconds=1)
        assert outcome.status == "delivery_unknown" and "check the mailbox" in outcome.describe()
        assert len(srv.stored) == stored


def test_a_refused_login_fails_once_and_alerts_into_the_outbox(tmp_path, tiny_build):
    with flaky_smtp("auth_fail") as srv:
        s = _settings(srv.port, WORKBENCH_SMTP_USER="bot", WORKBENCH_SMTP_PASSWORD="wrong-pw-123")
        with pytest.raises(WeeklyFailed):
            run_weekly(tmp_path / "data", AS_OF, tmp_path / "r", settings=s, mail_backoff_seconds=0.01)
        assert srv.login_connections == 1, "neither the report nor the alert retries a refused login"
    (alert,) = (tmp_path / "r" / AS_OF / "outbox").glob("alert-*.eml")
    assert b"535" in alert.read_bytes()
    # the report was published before the email (as the README says): a failed email leaves it in place
    assert (tmp_path / "r" / AS_OF / "weekly_report.html").read_text() == "<p>report</p>"
    (run,) = RunLedger(tmp_path / "r" / "ledger.sqlite").runs(AS_OF)
    assert run["status"] == "failed" and run["mail_state"] == "failed"  # not delivered: the next run sends


_KILLABLE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from workbench.config import mail_settings
    from workbench.report import pipeline
    pause = sys.argv[3]
    def build(data_dir, as_of, staging, step, *args):
        staging.mkdir(parents=True)
        (staging / "weekly_report.html").write_text("<p>report</p>")
        if pause == "build":
            print("BUILDING", flush=True)
            time.sleep(120)
        return [staging / "weekly_report.html"]
    pipeline._build = build
    pipeline.run_weekly(Path("data"), "2026-11-23", Path(sys.argv[1]), mail_timeout_seconds=120,
                        settings=mail_settings({"WORKBENCH_SMTP_HOST": "127.0.0.1", "WORKBENCH_SMTP_PORT": sys.argv[2],
                                                "WORKBENCH_SMTP_STARTTLS": "false"}))
""")


def _start_killable(reports: Path, port: int, pause: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _KILLABLE, str(reports), str(port), pause],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def test_kill_9_while_sending_then_a_rerun_does_not_send_twice(tmp_path):
    reports = tmp_path / "r"
    with flaky_smtp("ack_late", delay=60) as srv:
        proc = _start_killable(reports, srv.port, "send")
        try:
            assert srv.data_started.wait(90), "the run never reached the server"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert len(srv.stored) == 1
        (run,) = RunLedger(reports / "ledger.sqlite").runs(AS_OF)
        assert run["status"] == "running" and run["mail_state"] == "sending" and run["message_id"]
    with smtp_server() as (inbox, port):
        s = _settings(port)
        outcome = run_weekly(tmp_path / "data", AS_OF, reports, settings=s)
        assert outcome.status == "delivery_unknown"
        assert [m["Subject"] for m in inbox.messages] == [f"[workbench] {AS_OF}: delivery unknown, check the mailbox"]
        assert run["message_id"] in inbox.messages[0].get_body(("plain",)).get_content()
    (run,) = RunLedger(reports / "ledger.sqlite").runs(AS_OF)
    assert run["status"] == "unknown"


def test_kill_9_while_building_leaves_no_debris_and_the_rerun_delivers(tmp_path, tiny_build):
    reports = tmp_path / "r"
    proc = _start_killable(reports, free_port(), "build")
    try:
        assert proc.stdout.readline().strip() == "BUILDING"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert list(reports.glob(".staging-*"))
    with smtp_server() as (inbox, port):
        outcome = run_weekly(tmp_path / "data", AS_OF, reports, settings=_settings(port))
        assert outcome.status == "delivered" and len(inbox.messages) == 1
    assert not list(reports.glob(".staging-*")), "the killed run's staging folder is cleaned"
    killed, ok = RunLedger(reports / "ledger.sqlite").runs(AS_OF)
    assert killed["status"] == "killed" and ok["status"] == "ok"


# ---- alerts when the reports folder cannot be written or the settings are unusable
@contextmanager
def read_only(path: Path):
    """Make ``path`` unwritable even for root (immutable flag) or, as a user, by its mode."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a folder read-only")
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(mode)


def test_an_unwritable_reports_folder_is_alerted_by_mail_naming_the_step_and_path(tmp_path, tiny_build, capsys):
    reports = tmp_path / "r"
    reports.mkdir()
    with smtp_server() as (inbox, port), read_only(reports):
        with pytest.raises(WeeklyFailed) as e:
            run_weekly(tmp_path / "data", AS_OF, reports, settings=_settings(port))
    assert e.value.step == f"prepare the reports folder {reports}"
    (alert,) = inbox.messages
    body = alert.get_body(("plain",)).get_content()
    assert "FAILED" in alert["Subject"] and f"prepare the reports folder {reports}" in body


def test_an_unwritable_reports_folder_without_mail_is_alerted_on_stderr(tmp_path, tiny_build, capsys, monkeypatch):
    for k in [k for k in os.environ if k.startswith("WORKBENCH_")]:
        monkeypatch.delenv(k)
    reports = tmp_path / "r"
    reports.mkdir()
    with read_only(reports):
        code = main(["weekly", "--data", str(tmp_path / "data"), "--as-of", AS_OF, "--reports", str(reports)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"ALERT: the weekly workbench run for {AS_OF} failed at step 'prepare the reports folder {reports}'" in err


def test_a_read_only_previous_report_fails_at_publish_keeps_it_and_alerts(tmp_path, tiny_build, capsys):
    reports = tmp_path / "r"
    final = reports / AS_OF
    (final / "outbox").mkdir(parents=True)
    (final / "outbox" / "old.eml").write_text("past mail")
    with smtp_server() as (inbox, port), read_only(final):
        with pytest.raises(WeeklyFailed) as e:
            run_weekly(tmp_path / "data", AS_OF, reports, settings=_settings(port))
        assert e.value.step == "publish the report"
        (alert,) = inbox.messages
    assert str(final) in alert.get_body(("plain",)).get_content()
    assert (final / "outbox" / "old.eml").read_text() == "past mail"
    assert not list(reports.glob(".staging-*"))


def test_a_line_break_in_the_recipients_is_an_alert_on_stderr_not_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAIL_TO", "ops@example.com\r\nBcc: attacker@example.com")
    code = main(["weekly", "--data", str(tmp_path / "data"), "--as-of", AS_OF, "--reports", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "step 'read the mail settings'" in err and "WORKBENCH_MAIL_TO" in err


# ---- the notebook kernel never sees the SMTP password
def test_the_notebook_kernel_has_no_smtp_password_in_its_environment(tmp_path, monkeypatch):
    from workbench.report.notebooks import run_notebook

    monkeypatch.setenv("WORKBENCH_SMTP_PASSWORD", "kernel-must-not-see-this")
    nb = {"cells": [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "execution_count": None,
                     "outputs": [], "source": "out = ''"},
                    {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": "import os, json\nopen(out, 'w').write(json.dumps(sorted(os.environ)))"}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "env.ipynb").write_text(json.dumps(nb))
    run_notebook(tmp_path / "env.ipynb", tmp_path / "out.ipynb", {"out": str(tmp_path / "env.json")}, 120)
    names = json.loads((tmp_path / "env.json").read_text())
    assert "PATH" in names and "WORKBENCH_SMTP_PASSWORD" not in names
    assert os.environ["WORKBENCH_SMTP_PASSWORD"] == "kernel-must-not-see-this"  # restored for this process


def test_the_readme_says_what_the_run_does_about_replacing_reports_and_duplicate_mail():
    from workbench.config import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "replaced only when a run fully succeeded" not in readme
    assert "replaced only once the whole report is built" in readme and "the email is sent after that" in readme
    assert "at most once per week, not exactly once" in readme and "delivery unknown, check the mailbox" in readme

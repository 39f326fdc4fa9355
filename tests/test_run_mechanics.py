"""The weekly run's safety parts: one run at a time, a ledger of deliveries, publish by rename."""
from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.report.ledger import RunLedger
from workbench.report.lock import RunLock, RunLocked
from workbench.report.pipeline import _publish


def test_a_second_run_cannot_take_the_lock_while_the_first_holds_it(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunLocked, match="another weekly run"):
            with RunLock(tmp_path):
                pass
        # another process is refused too (flock is per open file, so this is the real case)
        code = ("import sys; from pathlib import Path; from workbench.report.lock import RunLock, RunLocked\n"
                "try:\n    RunLock(Path(sys.argv[1])).__enter__()\nexcept RunLocked:\n    sys.exit(3)\n")
        assert subprocess.run([sys.executable, "-c", code, str(tmp_path)]).returncode == 3
    with RunLock(tmp_path):  # released on exit
        pass


def test_the_ledger_knows_which_week_was_delivered(tmp_path):
    ledger = RunLedger(tmp_path / "ledger.sqlite")
    failed = ledger.start("2026-11-23", forced=False, log_path=None)
    ledger.finish(failed, "failed", failed_step="run notebook weekly_report.ipynb", detail="boom")
    assert ledger.delivered("2026-11-23") is None
    ok = ledger.start("2026-11-23", forced=False, log_path=tmp_path / "x.log")
    ledger.finish(ok, "ok", mail_how="outbox", mail_where="/r/outbox/x.eml", message_id="<1@x>")
    assert ledger.delivered("2026-11-23")["id"] == ok
    assert ledger.delivered("2026-11-30") is None
    assert [r["status"] for r in ledger.runs("2026-11-23")] == ["failed", "ok"]


def test_publish_replaces_the_report_and_keeps_past_mail(tmp_path):
    final = tmp_path / "2026-11-23"
    (final / "outbox").mkdir(parents=True)
    (final / "old.html").write_text("old")
    (final / "outbox" / "weekly-1.eml").write_text("first mail")
    staging = tmp_path / ".staging-2026-11-23-2"
    staging.mkdir()
    (staging / "new.html").write_text("new")
    _publish(staging, final)
    assert sorted(p.name for p in final.iterdir()) == ["new.html", "outbox"]
    assert (final / "outbox" / "weekly-1.eml").read_text() == "first mail"
    assert not staging.exists() and [p.name for p in tmp_path.iterdir()] == ["2026-11-23"]

"""`workbench weekly`: data → recommendations → papermill notebooks → HTML → email, safely.

Steps run sequentially into a staging folder beside the final one; only when the whole report is
built (data, every notebook, every HTML export) is ``reports/<as-of>/`` replaced (two renames), so a
failed build never destroys the last good report. The email is sent after publishing: a failed email
leaves the new report in place (and alerts). A lock keeps two runs apart; the ledger keeps a delivered
week from being sent twice and records the Message-ID before sending, so a delivery that may have
happened (a lost acknowledgement, a kill) is reported as unknown and never re-sent (at most once; see
the README). Any failure sends (or writes, or prints) an alert naming the failed step and the path.

Exit codes (see :class:`WeeklyFailed`): 0 delivered or already delivered; 1 a step failed;
2 the input data is unusable; 3 another run holds the lock.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import parseaddr
from pathlib import Path

from workbench.config import NOTEBOOKS, MailSettings, mail_settings
from workbench.errors import InputError, WorkbenchError
from workbench.io import check_writable
from workbench.report.ledger import RunLedger
from workbench.report.lock import RunLock
from workbench.report.mail import Delivery, DeliveryUnknown, MailError, alert_message, deliver

log = logging.getLogger("workbench.weekly")

WEEKLY_NOTEBOOKS = ("weekly_report.ipynb", "forecast_quality.ipynb")


class WeeklyFailed(WorkbenchError):
    def __init__(self, step: str, cause: BaseException, log_path: Path | None, exit_code: int = 1):
        super().__init__(f"weekly run failed at step '{step}': {cause}" + (f"\nlog: {log_path}" if log_path else ""))
        self.step, self.cause, self.log_path, self.exit_code = step, cause, log_path, exit_code


@dataclass
class WeeklyOutcome:
    status: str  # "delivered", "already_delivered" or "delivery_unknown"
    as_of: str
    report_dir: Path
    delivery: Delivery | None = None
    run_id: int | None = None
    files: list[Path] = field(default_factory=list)
    message_id: str | None = None

    def describe(self) -> str:
        if self.status == "delivery_unknown":
            return (f"delivery of the report for {self.as_of} is unknown (run {self.run_id}, Message-ID "
                    f"{self.message_id}): check the mailbox; nothing sent. Use --force to send it again.")
        if self.status == "already_delivered":
            return (f"the report for {self.as_of} was already delivered ({self.report_dir}); nothing sent. "
                    "Use --force to build and send it again.")
        how = "sent via SMTP to " if self.delivery.how == "smtp" else "written to the outbox: "
        return f"report for {self.as_of} in {self.report_dir}; email {how}{self.delivery.where}"


class _Step:
    """Names the step in progress, so a failure says where it happened."""

    def __init__(self):
        self.name = "start"

    def __call__(self, name: str) -> None:
        self.name = name
        log.info("step: %s", name)


def run_weekly(data_dir: Path, as_of: str, reports_dir: Path, force: bool = False,
               settings: MailSettings | None = None, notebooks_dir: Path = NOTEBOOKS,
               notebooks: tuple[str, ...] = WEEKLY_NOTEBOOKS, cell_timeout_seconds: int = 900,
               mail_attempts: int = 3, mail_backoff_seconds: float = 2.0,
               mail_timeout_seconds: float = 30.0) -> WeeklyOutcome:
    as_of = _iso_date(as_of)
    data_dir, reports_dir = Path(data_dir).resolve(), Path(reports_dir).resolve()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    final = reports_dir / as_of
    settings = _settings(settings, as_of)
    with ExitStack() as stack:
        ledger = _prepare(stack, reports_dir, settings, as_of, stamp, mail_backoff_seconds)
        previous = ledger.delivered(as_of)
        if previous and not force:
            return WeeklyOutcome("already_delivered", as_of, final, run_id=previous["id"])
        unknown = ledger.unknown(as_of)
        if unknown and not force:
            return WeeklyOutcome("delivery_unknown", as_of, final, run_id=unknown["id"], message_id=unknown["message_id"])
        log_path = reports_dir / "logs" / f"weekly-{as_of}-{stamp}.log"
        run_id = ledger.start(as_of, force, log_path)
        stack.callback(_detach_log, _attach_log(log_path))
        step = _Step()
        staging = reports_dir / f".staging-{as_of}-{run_id}"
        published = handing_over = False
        try:
            log.info("weekly run %d for %s: data %s, reports %s, forced=%s", run_id, as_of, data_dir, reports_dir, force)
            files = _build(data_dir, as_of, staging, step, notebooks_dir, notebooks, cell_timeout_seconds)
            step("publish the report")
            _publish(staging, final)
            published = True
            # the shared demand-history store lives beside the report folders, not inside one
            files = [final / f.relative_to(staging) if f.is_relative_to(staging) else f for f in files]
            step("send the email")
            from workbench.report.summary import weekly_email

            msg = weekly_email(settings, as_of, final)
            msg.replace_header("Message-ID", weekly_message_id(as_of, settings, run_id if force else None))
            ledger.sending(run_id, msg["Message-ID"], settings.mail_to)  # recorded before the first byte is sent
            handing_over = True
            delivery = deliver(msg, settings, final / "outbox", f"weekly-{as_of}-{stamp}", attempts=mail_attempts,
                               backoff_seconds=mail_backoff_seconds, timeout_seconds=mail_timeout_seconds)
            ledger.finish(run_id, "ok", report_dir=final, mail_how=delivery.how, mail_where=delivery.where,
                          message_id=delivery.message_id, mail_state="sent")
            log.info("done: %s", delivery)
            return WeeklyOutcome("delivered", as_of, final, delivery, run_id, files)
        except BaseException as e:  # noqa: BLE001 - every failure must be recorded and alerted
            log.exception("step '%s' failed", step.name)
            shutil.rmtree(staging, ignore_errors=True)
            # Once the message is handed over, only a refusal from the server proves it was not delivered.
            unsure = handing_over and not (isinstance(e, MailError) and not isinstance(e, DeliveryUnknown))
            detail = f"{type(e).__name__}: {e}"
            ledger.finish(run_id, "unknown" if unsure else "failed", failed_step=step.name, detail=detail[:4000],
                          report_dir=final if published else None,
                          mail_state=("unknown" if unsure else "failed") if handing_over else None)
            if unsure:
                _alert_unknown(settings, as_of, ledger.runs(as_of)[-1], log_path, final, stamp, mail_backoff_seconds)
            else:
                _send_alert(settings, as_of, step.name, detail, log_path, final, stamp, mail_backoff_seconds,
                            try_smtp=not (isinstance(e, MailError) and e.permanent))
            if isinstance(e, KeyboardInterrupt):
                raise
            raise WeeklyFailed(step.name, e, log_path, 2 if isinstance(e, InputError) else 1) from e


def weekly_message_id(as_of: str, settings: MailSettings, resend: int | None = None) -> str:
    """The same Message-ID for the same week and recipients (a forced resend gets its own): a mail
    system that sees one message twice can tell it is a duplicate."""
    key = hashlib.sha256(("\n".join([as_of, *sorted(settings.mail_to)])).encode()).hexdigest()[:16]
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "workbench"
    return f"<weekly-{as_of}-{key}{f'-resend{resend}' if resend else ''}@{domain}>"


def _settings(settings: MailSettings | None, as_of: str) -> MailSettings:
    """The mail settings; unusable ones (a recipient with a line break) are reported on stderr, exit 2."""
    try:
        return settings or mail_settings()
    except InputError as e:
        _stderr_alert(as_of, "read the mail settings", str(e), None)
        raise WeeklyFailed("read the mail settings", e, None, 2) from e


def _prepare(stack: ExitStack, reports_dir: Path, settings: MailSettings, as_of: str, stamp: str,
             backoff: float) -> RunLedger:
    """Take the lock, open the ledger, close rows of killed runs and remove their staging folders.

    A reports folder that cannot be written is alerted (mail, else stderr) naming the folder.
    """
    step = f"prepare the reports folder {reports_dir}"
    try:
        check_writable(reports_dir)
        stack.enter_context(RunLock(reports_dir))
        ledger = RunLedger(reports_dir / "ledger.sqlite")
        stale = ledger.reap()
        for pattern in (".staging-*", ".old-*"):
            for debris in reports_dir.glob(pattern):
                shutil.rmtree(debris, ignore_errors=True)
    except (OSError, sqlite3.Error) as e:
        detail = f"{type(e).__name__}: {e}"
        _send_alert(settings, as_of, step, detail, None, reports_dir / as_of, stamp, backoff)
        raise WeeklyFailed(step, e, None, 1) from e
    for row in stale:
        log.warning("run %d for %s did not finish (status now %s): %s", row["id"], row["as_of"], row["status"],
                    row["detail"])
        if row["status"] == "unknown":
            _alert_unknown(settings, row["as_of"], row, None, reports_dir / row["as_of"], stamp, backoff)
    return ledger


def _build(data_dir: Path, as_of: str, staging: Path, step: _Step, notebooks_dir: Path,
           notebooks: tuple[str, ...], cell_timeout_seconds: int) -> list[Path]:
    """Every file of the report, written into ``staging``."""
    from workbench.data import load_dataset
    from workbench.report.notebooks import drop_figure_html, export_html, run_notebook
    from workbench.report.weekly import compute_weekly

    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    step("load and validate the data")
    ds = load_dataset(data_dir)
    stale = ds.check_as_of(as_of)  # before the data: InputError (exit 2)
    if stale:
        log.warning("%s", stale)
    files = [ds.write_rejects(staging / "rejects.csv")]
    log.info("%s: %s", data_dir, ds.rejects_summary())
    step("compute the recommendations")
    t0 = time.perf_counter()
    files += compute_weekly(ds, as_of, staging)
    log.info("recommendations computed in %.1f s", time.perf_counter() - t0)
    for name in notebooks:
        step(f"run notebook {name}")
        executed = run_notebook(notebooks_dir / name, staging / name,
                                {"data_dir": str(data_dir), "as_of": as_of, "results_dir": str(staging)},
                                cell_timeout_seconds)
        step(f"export {name} to HTML")
        page = export_html(executed, staging / name.replace(".ipynb", ".html"))
        files += [drop_figure_html(executed), page]
    return files


def _publish(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` with renames; the outbox (past messages) is carried over."""
    old = final.with_name(f".old-{final.name}-{staging.name}")
    if final.exists():
        if not os.access(final, os.W_OK):  # checked first: nothing moves when the old report is read-only
            raise PermissionError(f"the report folder {final} is read-only; it cannot be replaced")
        if (final / "outbox").is_dir():
            os.rename(final / "outbox", staging / "outbox")
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _send_alert(settings: MailSettings, as_of: str, step: str, detail: str, log_path: Path | None, final: Path,
                stamp: str, backoff: float, try_smtp: bool = True, msg=None) -> None:
    """Alert by mail; when SMTP is what failed, into the outbox; when that cannot be written, on stderr."""
    try:
        msg = msg or alert_message(settings, as_of, f"{step}: {detail}", log_path, final)
    except Exception as e:  # noqa: BLE001 - e.g. settings that cannot make a message
        log.error("alert could not be built (%s)", e)
        return _stderr_alert(as_of, step, detail, log_path)
    if settings.host and try_smtp:
        try:
            deliver(msg, settings, final / "outbox", f"alert-{as_of}-{stamp}", attempts=2, backoff_seconds=backoff)
            return None
        except DeliveryUnknown as e:  # it may have arrived: not sent again, but kept in the outbox too
            log.error("alert: %s", e)
        except Exception as e:  # noqa: BLE001
            log.error("alert could not be sent (%s); writing it to the outbox", e)
    try:
        deliver(msg, MailSettings(None, 0, None, None, False, settings.mail_from, settings.mail_to),
                final / "outbox", f"alert-{as_of}-{stamp}")
    except Exception as e:  # noqa: BLE001 - a read-only report folder: the alert goes to stderr
        log.error("alert could not be written to %s (%s)", final / "outbox", e)
        _stderr_alert(as_of, step, detail, log_path)


def _alert_unknown(settings: MailSettings, as_of: str, row: dict, log_path: Path | None, final: Path, stamp: str,
                   backoff: float) -> None:
    """Delivery unknown: the message may have arrived. Say so, and what to check; never re-send it."""
    what = (f"delivery unknown, check the mailbox of {row.get('mail_to') or ', '.join(settings.mail_to)} for "
            f"Message-ID {row.get('message_id')}. It was NOT sent again (to avoid a duplicate). If it did not "
            f"arrive, run `workbench weekly --as-of {as_of} --force`. Run {row.get('id')}: {row.get('detail')}")
    try:
        msg = alert_message(settings, as_of, what, log_path, final, subject=f"[workbench] {as_of}: delivery unknown, check the mailbox")
    except Exception:  # noqa: BLE001
        msg = None
    _send_alert(settings, as_of, "send the email", what, log_path, final, stamp, backoff, msg=msg)


def _stderr_alert(as_of: str, step: str, detail: str, log_path: Path | None) -> None:
    """The alert of last resort: mail is impossible (no usable settings, no writable outbox)."""
    where = f" (log: {log_path})" if log_path else ""
    print(f"ALERT: the weekly workbench run for {as_of} failed at step '{step}': {detail}{where}", file=sys.stderr)


def _detach_log(handler: logging.Handler) -> None:
    logging.getLogger("workbench").removeHandler(handler)
    handler.close()


def _attach_log(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("workbench")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(str(text)).isoformat()
    except ValueError:
        raise InputError(f"--as-of must be an ISO date YYYY-MM-DD, got {text!r}") from None

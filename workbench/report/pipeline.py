"""`workbench weekly`: data → recommendations → papermill notebooks → HTML → email, safely.

Steps run sequentially into a staging folder beside the final one; only when every step succeeded
is ``reports/<as-of>/`` replaced (two renames), so a failed run never destroys the last good report.
A lock keeps two runs apart, the ledger keeps a delivered week from being sent twice, and any
failure sends (or writes) an alert naming the failed step and the log file.

Exit codes (see :class:`WeeklyFailed`): 0 delivered or already delivered; 1 a step failed;
2 the input data is unusable; 3 another run holds the lock.
"""
from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from workbench.config import NOTEBOOKS, MailSettings, mail_settings
from workbench.errors import InputError, WorkbenchError
from workbench.report.ledger import RunLedger
from workbench.report.lock import RunLock
from workbench.report.mail import Delivery, alert_message, deliver

log = logging.getLogger("workbench.weekly")

WEEKLY_NOTEBOOKS = ("weekly_report.ipynb", "forecast_quality.ipynb")


class WeeklyFailed(WorkbenchError):
    def __init__(self, step: str, cause: BaseException, log_path: Path, exit_code: int = 1):
        super().__init__(f"weekly run failed at step '{step}': {cause}\nlog: {log_path}")
        self.step, self.cause, self.log_path, self.exit_code = step, cause, log_path, exit_code


@dataclass
class WeeklyOutcome:
    status: str  # "delivered" or "already_delivered"
    as_of: str
    report_dir: Path
    delivery: Delivery | None = None
    run_id: int | None = None
    files: list[Path] = field(default_factory=list)

    def describe(self) -> str:
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
               mail_attempts: int = 3, mail_backoff_seconds: float = 2.0) -> WeeklyOutcome:
    as_of = _iso_date(as_of)
    data_dir, reports_dir = Path(data_dir).resolve(), Path(reports_dir).resolve()
    settings = settings or mail_settings()
    reports_dir.mkdir(parents=True, exist_ok=True)
    final = reports_dir / as_of
    with RunLock(reports_dir):
        ledger = RunLedger(reports_dir / "ledger.sqlite")
        previous = ledger.delivered(as_of)
        if previous and not force:
            return WeeklyOutcome("already_delivered", as_of, final, run_id=previous["id"])
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        log_path = reports_dir / "logs" / f"weekly-{as_of}-{stamp}.log"
        run_id = ledger.start(as_of, force, log_path)
        handler = _attach_log(log_path)
        step = _Step()
        staging = reports_dir / f".staging-{as_of}-{run_id}"
        published = False
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
            delivery = deliver(msg, settings, final / "outbox", f"weekly-{as_of}-{stamp}",
                               attempts=mail_attempts, backoff_seconds=mail_backoff_seconds)
            ledger.finish(run_id, "ok", report_dir=final, mail_how=delivery.how, mail_where=delivery.where,
                          message_id=delivery.message_id)
            log.info("done: %s", delivery)
            return WeeklyOutcome("delivered", as_of, final, delivery, run_id, files)
        except BaseException as e:  # noqa: BLE001 - every failure must be recorded and alerted
            log.exception("step '%s' failed", step.name)
            shutil.rmtree(staging, ignore_errors=True)
            detail = f"{type(e).__name__}: {e}"
            ledger.finish(run_id, "failed", failed_step=step.name, detail=detail[:4000],
                          report_dir=final if published else None)
            _send_alert(settings, as_of, step.name, detail, log_path, final, stamp, mail_backoff_seconds)
            code = 2 if isinstance(e, InputError) else 1
            if isinstance(e, KeyboardInterrupt):
                raise
            raise WeeklyFailed(step.name, e, log_path, code) from e
        finally:
            logging.getLogger("workbench").removeHandler(handler)
            handler.close()


def _build(data_dir: Path, as_of: str, staging: Path, step: _Step, notebooks_dir: Path,
           notebooks: tuple[str, ...], cell_timeout_seconds: int) -> list[Path]:
    """Every file of the report, written into ``staging``."""
    from workbench.data import load_dataset
    from workbench.report.notebooks import export_html, run_notebook
    from workbench.report.weekly import compute_weekly

    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    step("load and validate the data")
    ds = load_dataset(data_dir)
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
        files += [executed, export_html(executed, staging / name.replace(".ipynb", ".html"))]
    return files


def _publish(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` with renames; the outbox (past messages) is carried over."""
    old = final.with_name(f".old-{final.name}-{staging.name}")
    if final.exists():
        if (final / "outbox").is_dir():
            shutil.move(str(final / "outbox"), str(staging / "outbox"))
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _send_alert(settings: MailSettings, as_of: str, step: str, detail: str, log_path: Path, final: Path,
                stamp: str, backoff: float) -> None:
    """Alert by mail; when SMTP itself is what failed, the alert still lands in the outbox."""
    msg = alert_message(settings, as_of, f"{step}: {detail}", log_path, final)
    outbox = final / "outbox"
    try:
        deliver(msg, settings, outbox, f"alert-{as_of}-{stamp}", attempts=2, backoff_seconds=backoff)
    except Exception as e:  # noqa: BLE001
        log.error("alert could not be sent (%s); writing it to the outbox", e)
        deliver(msg, MailSettings(None, 0, None, None, False, settings.mail_from, settings.mail_to), outbox,
                f"alert-{as_of}-{stamp}")


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

"""Build the weekly and alert emails; send them over SMTP, or write them as .eml files to an outbox.

Settings come from the environment only (:func:`workbench.config.mail_settings`). With no
``WORKBENCH_SMTP_HOST`` the message is written as an ``.eml`` file, so the demo works anywhere.
STARTTLS verifies the server certificate against the system CAs (or ``WORKBENCH_SMTP_CAFILE``).
The password is used for ``login`` and nowhere else: it is never logged or written.
"""
from __future__ import annotations

import html
import io
import logging
import smtplib
import ssl
import time
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from workbench.config import MailSettings
from workbench.errors import WorkbenchError
from workbench.io import write_bytes

log = logging.getLogger(__name__)

# Attachments above this total size are sent as one zip file instead.
ZIP_ABOVE_BYTES = 5 * 1024 * 1024


class MailError(WorkbenchError):
    """The message could not be delivered."""


@dataclass(frozen=True)
class InlineImage:
    cid: str  # referenced from the HTML body as src="cid:<cid>"
    png: bytes


@dataclass(frozen=True)
class Delivery:
    how: str  # "smtp" or "outbox"
    where: str  # "host:port" or the .eml path
    message_id: str


def build_message(settings: MailSettings, subject: str, html_body: str, text_body: str,
                  images: list[InlineImage] = (), attachments: list[Path] = (),
                  zip_name: str = "reports.zip", date: float | None = None) -> EmailMessage:
    """An HTML email with a plain-text part, inline CID images and attachments (zipped if large)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(settings.mail_to)
    msg["Date"] = formatdate(date, localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.split("@")[-1] or "workbench")
    msg.set_content(text_body)
    msg.add_alternative(html_body, subtype="html")
    html_part = msg.get_payload()[1]
    for img in images:
        html_part.add_related(img.png, maintype="image", subtype="png", cid=f"<{img.cid}>",
                              filename=f"{img.cid}.png", disposition="inline")
    files = [Path(p) for p in attachments]
    if sum(p.stat().st_size for p in files) > ZIP_ABOVE_BYTES:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for p in files:
                zf.write(p, arcname=p.name)
        msg.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename=zip_name)
    else:
        for p in files:
            maintype, subtype = _mime(p)
            msg.add_attachment(p.read_bytes(), maintype=maintype, subtype=subtype, filename=p.name)
    return msg


def _mime(p: Path) -> tuple[str, str]:
    return {
        ".html": ("text", "html"),
        ".csv": ("text", "csv"),
        ".png": ("image", "png"),
        ".ipynb": ("application", "json"),
        ".zip": ("application", "zip"),
    }.get(p.suffix.lower(), ("application", "octet-stream"))


def deliver(msg: EmailMessage, settings: MailSettings, outbox: Path, stem: str,
            attempts: int = 3, backoff_seconds: float = 2.0) -> Delivery:
    """Send over SMTP when a host is configured (with retries), else write ``outbox/<stem>.eml``."""
    if not settings.host:
        path = outbox / f"{stem}.eml"
        write_bytes(path, bytes(msg))
        log.info("no SMTP host configured: wrote %s", path)
        return Delivery("outbox", str(path), msg["Message-ID"])
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            _send_smtp(msg, settings)
            log.info("sent %r to %s via %s:%s", msg["Subject"], msg["To"], settings.host, settings.port)
            return Delivery("smtp", f"{settings.host}:{settings.port}", msg["Message-ID"])
        except (OSError, smtplib.SMTPException, ssl.SSLError) as e:
            last = e
            log.warning("SMTP attempt %d/%d to %s:%s failed: %s", attempt, attempts,
                        settings.host, settings.port, _safe(e, settings))
            if attempt < attempts:
                time.sleep(backoff_seconds * 2 ** (attempt - 1))
    raise MailError(f"could not send mail via {settings.host}:{settings.port} after {attempts} attempts: "
                    f"{_safe(last, settings)}")


def _safe(e: Exception | None, settings: MailSettings) -> str:
    text = f"{type(e).__name__}: {e}" if e else "unknown error"
    return text.replace(settings.password, "***") if settings.password else text


def _send_smtp(msg: EmailMessage, settings: MailSettings) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        smtp.ehlo()
        if settings.starttls:
            context = ssl.create_default_context(cafile=settings.cafile)
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(msg)


def alert_message(settings: MailSettings, as_of: str, what_failed: str, log_path: Path | None,
                  report_dir: Path) -> EmailMessage:
    """The email sent when a weekly run fails: what failed, where the log is, which report still stands."""
    kept = f"The last good report in {report_dir} was left in place." if report_dir.exists() else \
        "No earlier report exists for this week."
    lines = [f"The weekly workbench run for {as_of} FAILED.", "", f"What failed: {what_failed}",
             f"Log: {log_path}" if log_path else "", kept, "",
             "Fix the cause and run `workbench weekly --data DIR --as-of DATE` again."]
    text = "\n".join(x for x in lines if x is not None)
    body = "<html><body><h2 style='color:#b00020'>Weekly run FAILED</h2><pre style='white-space:pre-wrap'>" \
           + html.escape(text) + "</pre></body></html>"
    return build_message(settings, f"[workbench] FAILED: weekly run for {as_of}", body, text)

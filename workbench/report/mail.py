"""Build the weekly and alert emails; send them over SMTP, or write them as .eml files to an outbox.

Settings come from the environment only (:func:`workbench.config.mail_settings`). With no
``WORKBENCH_SMTP_HOST`` the message is written as an ``.eml`` file, so the demo works anywhere.
STARTTLS verifies the server certificate against the system CAs (or ``WORKBENCH_SMTP_CAFILE``).
The password is used for ``login`` and nowhere else: it is never logged or written.
"""
from __future__ import annotations

import copy
import html
import io
import logging
import smtplib
import ssl
import time
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from workbench.config import MailSettings
from workbench.errors import WorkbenchError
from workbench.io import write_bytes

log = logging.getLogger(__name__)

# Attachments above this total size are sent as one zip file instead.
ZIP_ABOVE_BYTES = 2 * 1024 * 1024  # above this the attachments go as one zip


class MailError(WorkbenchError):
    """The message was not delivered (the server refused it, or could not be reached)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class DeliveryUnknown(MailError):
    """The connection failed after the message was handed over (a timeout or a dropped connection
    before the server's acknowledgement): the server may have stored it. Never retried, so nobody
    gets the report twice; a person has to look in the mailbox."""


class _Transient(Exception):
    """An SMTP failure worth another attempt: nothing was handed over yet, or the server said 4xx."""


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
    msg["Message-ID"] = make_msgid(domain=parseaddr(settings.mail_from)[1].rpartition("@")[2] or "workbench")
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
            attempts: int = 3, backoff_seconds: float = 2.0, timeout_seconds: float = 30.0) -> Delivery:
    """Send over SMTP when a host is configured, else write ``outbox/<stem>.eml``.

    Only transient failures are retried (connection refused or dropped before the message was handed
    over, 4xx replies). A 5xx reply (a refused login, a refused recipient) raises :class:`MailError` at
    once: retrying a refused password only risks locking the account. A failure after the message
    was handed over raises :class:`DeliveryUnknown` and is never retried (it may have arrived).
    """
    if not settings.host:
        path = outbox / f"{stem}.eml"
        write_bytes(path, bytes(msg))
        log.info("no SMTP host configured: wrote %s", path)
        return Delivery("outbox", str(path), msg["Message-ID"])
    where = f"{settings.host}:{settings.port}"
    for attempt in range(1, attempts + 1):
        try:
            _send_smtp(msg, settings, timeout_seconds)
            log.info("sent %r to %s via %s", msg["Subject"], msg["To"], where)
            return Delivery("smtp", where, msg["Message-ID"])
        except _Transient as e:
            last = _safe(e.__cause__ or e, settings)
            log.warning("SMTP attempt %d/%d to %s failed (transient): %s", attempt, attempts, where, last)
            if attempt < attempts:
                time.sleep(backoff_seconds * 2 ** (attempt - 1))
    raise MailError(f"could not send mail via {where} after {attempts} attempts: {last}")


def _safe(e: BaseException | None, settings: MailSettings) -> str:
    text = f"{type(e).__name__}: {e}" if e else "unknown error"
    return text.replace(settings.password, "***") if settings.password else text


def _code(e: BaseException) -> int | None:
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in e.recipients.values()]
        return max(codes) if codes else None
    return getattr(e, "smtp_code", None)


def _send_smtp(msg: EmailMessage, settings: MailSettings, timeout_seconds: float = 30.0) -> None:
    """One attempt. Raises _Transient (retry), MailError (permanent) or DeliveryUnknown (maybe stored)."""
    where = f"{settings.host}:{settings.port}"
    handed_over = False
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout_seconds) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=settings.cafile))
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            sender, rcpts, data = _envelope(msg)
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused = {r: smtp.rcpt(r) for r in rcpts}
            refused = {r: cr for r, cr in refused.items() if cr[0] not in (250, 251)}
            if len(refused) == len(rcpts):
                raise smtplib.SMTPRecipientsRefused(refused)
            for r, (c, why) in refused.items():
                log.warning("recipient %s refused by %s: %s %s", r, where, c, why.decode(errors="replace"))
            handed_over = True  # from here on, a lost reply means the server may have stored the message
            code, reply = smtp.data(data)
            if code != 250:  # a reply, so a clear refusal: the message was not taken
                raise smtplib.SMTPDataError(code, reply)
    except ssl.SSLError as e:  # a certificate that does not verify stays refused: never downgrade, never retry
        raise MailError(f"TLS with {where} failed: {_safe(e, settings)}", permanent=True) from None
    except smtplib.SMTPResponseException as e:
        if 400 <= (_code(e) or 0) < 500:  # the server said "not now" and took nothing
            raise _Transient() from e
        raise MailError(f"{where} refused the message ({_safe(e, settings)}); not retried",
                        permanent=True) from None
    except smtplib.SMTPRecipientsRefused as e:
        if 400 <= (_code(e) or 0) < 500:
            raise _Transient() from e
        raise MailError(f"{where} refused every recipient ({_safe(e, settings)}); not retried",
                        permanent=True) from None
    except (OSError, smtplib.SMTPException) as e:
        if handed_over:
            raise DeliveryUnknown(f"delivery unknown, check the mailbox: the connection to {where} failed after "
                                  f"the message was handed over ({_safe(e, settings)}); it was not sent again") from None
        raise _Transient() from e


def _envelope(msg: EmailMessage) -> tuple[str, list[str], bytes]:
    """Sender, recipients and the bytes ``smtplib.send_message`` would send (Bcc removed)."""
    from email.generator import BytesGenerator
    from email.utils import getaddresses

    sender = getaddresses([msg["Sender"] or msg["From"]])[0][1]
    rcpts = [a for _, a in getaddresses([str(v) for f in ("To", "Cc", "Bcc") for v in msg.get_all(f, [])]) if a]
    if msg["Bcc"] is not None:
        msg = copy.deepcopy(msg)
        del msg["Bcc"]
    buf = io.BytesIO()
    BytesGenerator(buf, policy=msg.policy.clone(linesep="\r\n")).flatten(msg, linesep="\r\n")
    return sender, rcpts, buf.getvalue()


def alert_message(settings: MailSettings, as_of: str, what_failed: str, log_path: Path | None,
                  report_dir: Path, subject: str | None = None) -> EmailMessage:
    """The email sent when a weekly run fails: what failed, where the log is, which report still stands."""
    kept = f"The last good report in {report_dir} was left in place." if report_dir.exists() else \
        "No earlier report exists for this week."
    lines = [f"The weekly workbench run for {as_of} FAILED.", "", f"What failed: {what_failed}",
             f"Log: {log_path}" if log_path else "", kept, "",
             "Fix the cause and run `workbench weekly --data DIR --as-of DATE` again."]
    text = "\n".join(x for x in lines if x is not None)
    body = "<html><body><h2 style='color:#b00020'>Weekly run FAILED</h2><pre style='white-space:pre-wrap'>" \
           + html.escape(text) + "</pre></body></html>"
    return build_message(settings, subject or f"[workbench] FAILED: weekly run for {as_of}", body, text)

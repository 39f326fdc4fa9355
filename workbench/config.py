"""Project paths and settings from the environment. Nothing else in the package reads os.environ."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = PROJECT_ROOT / "data" / "samples"
NOTEBOOKS = PROJECT_ROOT / "notebooks"
REPORTS = PROJECT_ROOT / "reports"
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "real"


def overrides_path(environ: dict | None = None) -> Path:
    """The analyst overrides file every dataset-based run reads (it may not exist yet).

    ``WORKBENCH_OVERRIDES`` when set, else ``overrides.yaml`` at the project root: outside the dataset
    directory (input is never written) and kept from week to week as the data folder changes.
    """
    env = os.environ if environ is None else environ
    value = (env.get("WORKBENCH_OVERRIDES") or "").strip()
    return Path(value) if value else PROJECT_ROOT / "overrides.yaml"


def default_overrides(environ: dict | None = None) -> Path | None:
    """The overrides file a run should use: :func:`overrides_path` when it exists, else None.

    Entry points (CLI, weekly run, what-if) call this once and pass the result into the pipeline.
    """
    path = overrides_path(environ)
    return path if path.is_file() else None


# Variables no child process needs: a notebook kernel inherits the environment, so these are taken out.
SECRET_VARIABLES = ("WORKBENCH_SMTP_PASSWORD",)


@contextmanager
def secrets_hidden() -> Iterator[None]:
    """Remove the secrets from ``os.environ`` while child processes (notebook kernels) start and run.

    papermill has no way to give a kernel its own environment, so the run's process environment is
    scrubbed for the duration and restored after; the mail settings were read before.
    """
    saved = {k: os.environ.pop(k) for k in SECRET_VARIABLES if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class MailSettings:
    """SMTP settings. With no host, mail is written as an .eml file into the run's outbox."""

    host: str | None
    port: int
    user: str | None
    password: str | None
    starttls: bool
    mail_from: str
    mail_to: tuple[str, ...]
    cafile: str | None = None  # a private CA bundle to verify the SMTP server (WORKBENCH_SMTP_CAFILE)

    def __repr__(self) -> str:  # never print the password
        return (f"MailSettings(host={self.host!r}, port={self.port}, user={self.user!r}, "
                f"password={'***' if self.password else None}, starttls={self.starttls}, "
                f"mail_from={self.mail_from!r}, mail_to={self.mail_to!r})")


def mail_settings(environ: dict | None = None) -> MailSettings:
    env = os.environ if environ is None else environ
    host = (env.get("WORKBENCH_SMTP_HOST") or "").strip() or None
    port_text = (env.get("WORKBENCH_SMTP_PORT") or "").strip()
    try:
        port = int(port_text) if port_text else 587
    except ValueError:
        from workbench.errors import InputError
        raise InputError(f"WORKBENCH_SMTP_PORT must be a whole number, got {port_text!r}") from None
    to = tuple(_address("WORKBENCH_MAIL_TO", a) for a in (env.get("WORKBENCH_MAIL_TO") or "ops@example.com").split(",")
               if a.strip())
    return MailSettings(
        host=host,
        port=port,
        user=(env.get("WORKBENCH_SMTP_USER") or "").strip() or None,
        password=env.get("WORKBENCH_SMTP_PASSWORD") or None,
        starttls=_flag(env.get("WORKBENCH_SMTP_STARTTLS"), default=True),
        mail_from=_address("WORKBENCH_MAIL_FROM", env.get("WORKBENCH_MAIL_FROM") or "workbench@localhost"),
        mail_to=to,
        cafile=(env.get("WORKBENCH_SMTP_CAFILE") or "").strip() or None,
    )


_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+")


def _address(variable: str, text: str) -> str:
    """One plain address (name@domain); a line break or a header smuggled into it is an input error."""
    from email.utils import parseaddr

    address = text.strip(" ")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in address) or not _ADDRESS.fullmatch(parseaddr(address)[1]):
        from workbench.errors import InputError
        raise InputError(f"{variable}: expected comma-separated addresses like name@example.com, got {address!r}")
    return address

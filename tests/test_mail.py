"""Mail goes out over real SMTP (aiosmtpd on 127.0.0.1), or into the outbox when no host is set."""
from __future__ import annotations

import email
import email.policy
import ssl

import pytest
import trustme
from smtp_server import free_port, smtp_server

from workbench.config import mail_settings
from workbench.report.mail import InlineImage, MailError, build_message, deliver

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d"
                    "49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def _settings(**env):
    base = {"WORKBENCH_MAIL_FROM": "bench@example.com", "WORKBENCH_MAIL_TO": "ops@example.com, lead@example.com"}
    return mail_settings({**base, **{k: str(v) for k, v in env.items()}})


def _message(settings, tmp_path):
    (tmp_path / "restock.csv").write_text("sku,recommended_qty\nSKU-1,600\n")
    return build_message(settings, "Weekly report — as of 2026-11-23", "<p>hi <img src='cid:chart'></p>", "hi",
                         images=[InlineImage("chart", PNG)], attachments=[tmp_path / "restock.csv"])


def test_without_a_host_the_message_is_written_to_the_outbox(tmp_path):
    settings = _settings()
    d = deliver(_message(settings, tmp_path), settings, tmp_path / "outbox", "weekly-2026-11-23")
    assert d.how == "outbox" and d.where.endswith("outbox/weekly-2026-11-23.eml")
    msg = email.message_from_bytes((tmp_path / "outbox" / "weekly-2026-11-23.eml").read_bytes(),
                                   policy=email.policy.default)
    assert msg["To"] == "ops@example.com, lead@example.com"
    assert [p.get_filename() for p in msg.iter_attachments()] == ["restock.csv"]


def test_login_and_send_over_smtp_with_password_from_the_environment(tmp_path):
    with smtp_server(user="bench", password="s3cret-pw") as (inbox, port):
        settings = _settings(WORKBENCH_SMTP_HOST="127.0.0.1", WORKBENCH_SMTP_PORT=port, WORKBENCH_SMTP_USER="bench",
                             WORKBENCH_SMTP_PASSWORD="s3cret-pw", WORKBENCH_SMTP_STARTTLS="false")
        d = deliver(_message(settings, tmp_path), settings, tmp_path / "outbox", "x")
    assert d.how == "smtp" and inbox.logins == ["bench"]
    (msg,) = inbox.messages
    inline = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert inline and inline[0]["Content-ID"] == "<chart>"
    assert not (tmp_path / "outbox").exists()
    assert "s3cret-pw" not in repr(settings)


def test_starttls_verifies_the_server_certificate(tmp_path):
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with smtp_server(user="bench", password="pw", tls_context=server_ctx) as (inbox, port):
        trusted = _settings(WORKBENCH_SMTP_HOST="127.0.0.1", WORKBENCH_SMTP_PORT=port, WORKBENCH_SMTP_USER="bench",
                            WORKBENCH_SMTP_PASSWORD="pw", WORKBENCH_SMTP_CAFILE=ca_file)
        deliver(_message(trusted, tmp_path), trusted, tmp_path / "outbox", "x")
        assert len(inbox.messages) == 1
        # the same server with a certificate nobody vouches for is refused, not silently accepted
        untrusted = _settings(WORKBENCH_SMTP_HOST="127.0.0.1", WORKBENCH_SMTP_PORT=port, WORKBENCH_SMTP_USER="bench",
                              WORKBENCH_SMTP_PASSWORD="pw")
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            deliver(_message(untrusted, tmp_path), untrusted, tmp_path / "outbox", "x", attempts=1)
    assert len(inbox.messages) == 1


def test_an_unreachable_server_is_retried_then_reported_without_the_password(tmp_path):
    settings = _settings(WORKBENCH_SMTP_HOST="127.0.0.1", WORKBENCH_SMTP_PORT=free_port(), WORKBENCH_SMTP_USER="u",
                         WORKBENCH_SMTP_PASSWORD="hunter2", WORKBENCH_SMTP_STARTTLS="false")
    with pytest.raises(MailError, match="after 3 attempts") as e:
        deliver(_message(settings, tmp_path), settings, tmp_path / "outbox", "x", attempts=3, backoff_seconds=0.01)
    assert "hunter2" not in str(e.value)


def test_large_attachments_are_zipped(tmp_path, monkeypatch):
    import workbench.report.mail as mail

    monkeypatch.setattr(mail, "ZIP_ABOVE_BYTES", 10)
    msg = _message(_settings(), tmp_path)
    assert [p.get_filename() for p in msg.iter_attachments()] == ["reports.zip"]


def test_attachments_beyond_the_size_budget_stay_in_the_report_folder(tmp_path):
    """Issue 12 item 8: the email stays under 5 MB; what does not fit is left out and named, in ATTACH order."""
    import os

    from workbench.report.summary import attachments_within_budget

    small = tmp_path / "purchase_orders.csv"
    small.write_text("supplier,sku,qty\nA,SKU-1,10\n")
    big = tmp_path / "weekly_report.html"
    big.write_bytes(os.urandom(3_000_000))  # random bytes do not compress: ~4 MB once base64-encoded
    later = tmp_path / "risk.csv"
    later.write_text("sku,reason\nSKU-1,ok\n")
    kept, left = attachments_within_budget([small, big, later], budget=1_000_000)
    assert kept == [small, later] and left == [big]
    assert attachments_within_budget([small, big, later], budget=10_000_000) == ([small, big, later], [])

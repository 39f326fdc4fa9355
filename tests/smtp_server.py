"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the mail tests."""
from __future__ import annotations

import email
import email.policy
import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self, user: str | None = None, password: str | None = None):
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        self.logins: list[str] = []
        self.user, self.password = user, password

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user \
            and auth_data.password.decode() == self.password
        if ok:
            self.logins.append(self.user)
        return AuthResult(success=ok)


@contextmanager
def smtp_server(user: str | None = None, password: str | None = None, tls_context=None):
    """Yield (inbox, port). With a user, AUTH LOGIN/PLAIN is required; with a TLS context, STARTTLS too."""
    inbox = Inbox(user, password)
    port = free_port()
    kwargs = {}
    if user:
        kwargs.update(authenticator=inbox.authenticate, auth_required=True, auth_require_tls=tls_context is not None)
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()

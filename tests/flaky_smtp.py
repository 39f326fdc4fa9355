"""A misbehaving SMTP server on 127.0.0.1 (raw sockets): it stores what it receives, then misbehaves.

Modes:
- ``ok``: a plain server;
- ``ack_late``: stores the message, then waits ``delay`` seconds before the 250 (the client times out);
- ``drop``: stores the message, then closes the connection without acknowledging;
- ``auth_fail``: refuses every login with 535 (a permanent error);
- ``tempfail``: answers 451 to MAIL FROM on the first ``fail_times`` connections, then accepts;
- ``data_4xx``: answers 451 after the data (the message is not stored).
"""
from __future__ import annotations

import email
import email.policy
import socket
import socketserver
import threading
import time
from contextlib import contextmanager


class FlakyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str, delay: float = 0.0, fail_times: int = 0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode, self.delay, self.fail_times = mode, delay, fail_times
        self.stored: list[bytes] = []
        self.connections = 0
        self.login_connections = 0
        self.lock = threading.Lock()
        self.data_started = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.stored]


class _Handler(socketserver.StreamRequestHandler):
    def send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        srv: FlakyServer = self.server
        with srv.lock:
            srv.connections += 1
            number = srv.connections
        logged_in = False
        try:
            self.send("220 flaky.test ESMTP")
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").strip().upper()
                if cmd.startswith("EHLO"):
                    self.wfile.write(b"250-flaky.test\r\n250-AUTH PLAIN LOGIN\r\n250 OK\r\n")
                    self.wfile.flush()
                elif cmd.startswith("AUTH"):
                    if not logged_in:
                        logged_in = True
                        with srv.lock:
                            srv.login_connections += 1
                    self.send("535 5.7.8 Authentication credentials invalid" if srv.mode == "auth_fail"
                              else "235 2.7.0 Authentication successful")
                elif cmd.startswith("MAIL"):
                    self.send("451 4.3.0 try again later" if srv.mode == "tempfail" and number <= srv.fail_times
                              else "250 OK")
                elif cmd.startswith("RCPT"):
                    self.send("250 OK")
                elif cmd == "DATA":
                    self.send("354 end with <CRLF>.<CRLF>")
                    if not self._data(srv):
                        return
                elif cmd == "QUIT":
                    self.send("221 bye")
                    return
                else:
                    self.send("250 OK")
        except OSError:
            return

    def _data(self, srv: FlakyServer) -> bool:
        """Read the message; return False when the connection is to be dropped."""
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                return False
            if line == b".\r\n":
                break
            lines.append(line[1:] if line.startswith(b"..") else line)
        srv.data_started.set()
        if srv.mode == "data_4xx":
            self.send("451 4.3.0 queue full, try later")
            return True
        srv.stored.append(b"".join(lines))
        if srv.mode == "drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            return False
        if srv.mode == "ack_late":
            time.sleep(srv.delay)
        self.send("250 2.0.0 queued")
        return True


@contextmanager
def flaky_smtp(mode: str, delay: float = 0.0, fail_times: int = 0):
    server = FlakyServer(mode, delay, fail_times)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()

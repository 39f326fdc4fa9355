"""The run ledger: one SQLite file in the reports folder recording every weekly run and its email.

It is what makes `workbench weekly` idempotent: a week whose report was already delivered is not
sent again unless the run is forced. It holds no secrets (no settings, only where mail went).

Before a message is handed to the SMTP server its Message-ID and recipients are recorded
(``mail_state = 'sending'``). A run killed in that window, or a connection lost before the server's
acknowledgement, leaves the delivery *unknown* (``status = 'unknown'``): the next run does not send
again (it may have arrived) and the alert asks a person to check the mailbox. A run killed at any
other point is marked ``killed`` by the next run (the lock says its owner is gone).
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    as_of TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    forced INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'running',   -- running / ok / failed / unknown / killed
    failed_step TEXT,
    detail TEXT,
    report_dir TEXT,
    log_path TEXT,
    mail_how TEXT,       -- smtp / outbox
    mail_where TEXT,     -- host:port or .eml path
    message_id TEXT,
    mail_state TEXT,     -- sending / sent / failed / unknown
    mail_to TEXT         -- the recipients the message went (or was going) to
);
CREATE INDEX IF NOT EXISTS runs_as_of ON runs(as_of);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunLedger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.executescript(SCHEMA)
            have = {r["name"] for r in con.execute("PRAGMA table_info(runs)")}
            for column in ("mail_state", "mail_to"):  # ledgers written before these columns existed
                if column not in have:
                    con.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def start(self, as_of: str, forced: bool, log_path: Path | None) -> int:
        with closing(self._connect()) as con, con:
            cur = con.execute("INSERT INTO runs (as_of, started_at, forced, log_path) VALUES (?, ?, ?, ?)",
                              (as_of, _now(), int(forced), str(log_path) if log_path else None))
            return int(cur.lastrowid)

    def sending(self, run_id: int, message_id: str, mail_to) -> None:
        """Record the message about to be handed over, before the first byte goes to the server."""
        with closing(self._connect()) as con, con:
            con.execute("UPDATE runs SET mail_state='sending', message_id=?, mail_to=? WHERE id=?",
                        (message_id, ", ".join(mail_to), run_id))

    def finish(self, run_id: int, status: str, *, failed_step: str | None = None, detail: str | None = None,
               report_dir: Path | None = None, mail_how: str | None = None, mail_where: str | None = None,
               message_id: str | None = None, mail_state: str | None = None) -> None:
        with closing(self._connect()) as con, con:
            con.execute(
                "UPDATE runs SET finished_at=?, status=?, failed_step=?, detail=?, report_dir=?, mail_how=?, "
                "mail_where=?, message_id=COALESCE(?, message_id), mail_state=COALESCE(?, mail_state) WHERE id=?",
                (_now(), status, failed_step, detail, str(report_dir) if report_dir else None,
                 mail_how, mail_where, message_id, mail_state, run_id))

    def reap(self) -> list[dict]:
        """Close the rows of runs that died (call it holding the run lock: no other run is alive).

        A run that died while handing its message over becomes ``unknown`` (it may have been
        delivered); any other becomes ``killed``. Returns the rows closed, as they are now.
        """
        with closing(self._connect()) as con, con:
            stale = [dict(r) for r in con.execute("SELECT * FROM runs WHERE status='running' ORDER BY id")]
            for r in stale:
                unknown = r["mail_state"] == "sending"
                r.update(status="unknown" if unknown else "killed", mail_state="unknown" if unknown else r["mail_state"],
                         detail="the run was killed while sending: delivery unknown, check the mailbox" if unknown
                         else "the run was killed (its lock was released) before it finished")
                con.execute("UPDATE runs SET status=?, mail_state=?, detail=?, finished_at=? WHERE id=?",
                            (r["status"], r["mail_state"], r["detail"], _now(), r["id"]))
        return stale

    def delivered(self, as_of: str) -> dict | None:
        """The last run for this week whose report was delivered, or None."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM runs WHERE as_of=? AND status='ok' AND message_id IS NOT NULL "
                              "ORDER BY id DESC LIMIT 1", (as_of,)).fetchone()
        return dict(row) if row else None

    def unknown(self, as_of: str) -> dict | None:
        """The last run for this week whose delivery is unknown, unless a later run delivered or was forced."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM runs WHERE as_of=? AND status IN ('ok', 'unknown') "
                              "ORDER BY id DESC LIMIT 1", (as_of,)).fetchone()
        return dict(row) if row and row["status"] == "unknown" else None

    def runs(self, as_of: str | None = None) -> list[dict]:
        with closing(self._connect()) as con:
            q, args = ("SELECT * FROM runs WHERE as_of=? ORDER BY id", (as_of,)) if as_of else \
                ("SELECT * FROM runs ORDER BY id", ())
            return [dict(r) for r in con.execute(q, args).fetchall()]

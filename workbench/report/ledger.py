"""The run ledger: one SQLite file in the reports folder recording every weekly run and its email.

It is what makes `workbench weekly` idempotent: a week whose report was already delivered is not
sent again unless the run is forced. It holds no secrets (no settings, only where mail went).
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
    status TEXT NOT NULL DEFAULT 'running',   -- running / ok / failed
    failed_step TEXT,
    detail TEXT,
    report_dir TEXT,
    log_path TEXT,
    mail_how TEXT,       -- smtp / outbox
    mail_where TEXT,     -- host:port or .eml path
    message_id TEXT
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

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def start(self, as_of: str, forced: bool, log_path: Path | None) -> int:
        with closing(self._connect()) as con, con:
            cur = con.execute("INSERT INTO runs (as_of, started_at, forced, log_path) VALUES (?, ?, ?, ?)",
                              (as_of, _now(), int(forced), str(log_path) if log_path else None))
            return int(cur.lastrowid)

    def finish(self, run_id: int, status: str, *, failed_step: str | None = None, detail: str | None = None,
               report_dir: Path | None = None, mail_how: str | None = None, mail_where: str | None = None,
               message_id: str | None = None) -> None:
        with closing(self._connect()) as con, con:
            con.execute(
                "UPDATE runs SET finished_at=?, status=?, failed_step=?, detail=?, report_dir=?, mail_how=?, "
                "mail_where=?, message_id=? WHERE id=?",
                (_now(), status, failed_step, detail, str(report_dir) if report_dir else None,
                 mail_how, mail_where, message_id, run_id))

    def delivered(self, as_of: str) -> dict | None:
        """The last run for this week whose report was delivered, or None."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM runs WHERE as_of=? AND status='ok' AND message_id IS NOT NULL "
                              "ORDER BY id DESC LIMIT 1", (as_of,)).fetchone()
        return dict(row) if row else None

    def runs(self, as_of: str | None = None) -> list[dict]:
        with closing(self._connect()) as con:
            q, args = ("SELECT * FROM runs WHERE as_of=? ORDER BY id", (as_of,)) if as_of else \
                ("SELECT * FROM runs ORDER BY id", ())
            return [dict(r) for r in con.execute(q, args).fetchall()]

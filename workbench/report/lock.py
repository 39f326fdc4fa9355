"""One weekly run at a time per reports folder: an exclusive, non-blocking file lock."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from workbench.errors import WorkbenchError


class RunLocked(WorkbenchError):
    exit_code = 3


class RunLock:
    """``with RunLock(folder):`` holds ``folder/.weekly.lock``; a second holder fails at once.

    The kernel releases the lock when the process dies, so a crashed run never blocks the next one.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / ".weekly.lock"
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLocked(f"another weekly run holds {self.path}; try again when it has finished") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

"""Shared bits for benchmarks: timing, peak memory, a cache folder, and writing results."""
from __future__ import annotations

import json
import platform
import resource
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"  # generated data; git-ignored
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent))


@contextmanager
def timed(label: str, into: dict):
    t0 = time.perf_counter()
    yield
    into[label] = round(time.perf_counter() - t0, 2)
    print(f"{label}: {into[label]:.2f} s", flush=True)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict:
    import os

    return {"python": platform.python_version(), "cores": os.cpu_count(), "machine": platform.machine(),
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def write_result(name: str, data: dict, markdown: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({**data, "machine": machine()}, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")
    print(markdown)

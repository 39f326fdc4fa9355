"""Run every benchmark script in this folder, one process each, and report which ones failed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = []
for script in sorted(here.glob("*.py")):
    if script.name.startswith("_") or script.name == "run_all.py":
        continue
    print(f"== {script.name}", flush=True)
    if subprocess.run([sys.executable, str(script)], cwd=here).returncode != 0:
        failed.append(script.name)
print("failed: " + ", ".join(failed) if failed else "all benchmarks ran")
sys.exit(1 if failed else 0)

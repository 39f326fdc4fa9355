"""The install contract: one dependency list in two files, a console script, and `python -m workbench`."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from workbench.config import PROJECT_ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!\[ ;]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_every_pyproject_dependency_with_the_same_pandas_pin():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    conda = {_name(d): d for d in env["dependencies"] if isinstance(d, str)}
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    missing = [r for r in wanted if _name(r) not in conda]
    assert not missing, f"environment.yml lacks {missing}"
    assert "<3" in next(d for d in project["dependencies"] if _name(d) == "pandas")
    assert "<3" in conda["pandas"]


def test_the_cli_runs_as_a_module_and_lists_the_design_commands():
    out = subprocess.run([sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ["sample-data", "validate", "forecast"]:
        assert command in out

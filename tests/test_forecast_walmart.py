"""Walmart benchmark targets, checked on every test run (about 10 s); the recorded numbers live in benchmarks/results/."""
import importlib.util

import pytest

from workbench.config import PROJECT_ROOT, REAL_DATA


@pytest.mark.skipif(not (REAL_DATA / "walmart_store_sales.csv").exists(), reason="real Walmart data not available")
def test_walmart_targets_hold_against_reference_models_in_the_same_run(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("forecast_walmart", PROJECT_ROOT / "benchmarks" / "forecast_walmart.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(bench, "OUT", tmp_path)  # do not overwrite the recorded results
    summary = bench.main()
    assert all(summary["targets"].values()), summary["targets"]

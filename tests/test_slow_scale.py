"""Opt-in (`make test-slow`): the weekly run at a few hundred SKUs, every section complete."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.config import mail_settings
from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.report.pipeline import run_weekly

pytestmark = pytest.mark.slow


def test_weekly_run_on_300_skus_has_a_reasoned_row_for_every_sku(tmp_path):
    data = write_sample_dataset(tmp_path / "data", GeneratorConfig(n_skus=300, years=2, seed=21), include_truth=False)
    outcome = run_weekly(data, "2026-11-23", tmp_path / "reports", settings=mail_settings({}))
    products = pd.read_csv(data / "products.csv")
    for name, key in (("restock.csv", "sku"), ("risk.csv", "sku")):
        out = pd.read_csv(outcome.report_dir / name)
        assert set(out[key]) == set(products["sku"]), name
        assert out["reason"].str.len().gt(20).all(), name
    restock = pd.read_csv(outcome.report_dir / "restock.csv")
    orders = restock[restock["recommended_qty"] > 0].merge(products, on="sku")
    assert (orders["recommended_qty"] >= orders["moq"]).all()
    assert (orders["recommended_qty"] % orders["case_pack"] == 0).all()
    assert restock["status"].nunique() >= 4

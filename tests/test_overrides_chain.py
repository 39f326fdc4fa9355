"""An analyst's saved override reaches every dataset-based run (restock, pricing, weekly) through one file."""
from __future__ import annotations

from workbench.data import load_dataset
from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.forecast.overrides import set_override
from workbench.policies.chain import forecast_for_restock


def test_the_project_overrides_file_changes_the_model_of_that_sku(tmp_path, monkeypatch):
    data = write_sample_dataset(tmp_path / "data", GeneratorConfig(n_skus=4, years=1.0, seed=3), include_truth=False)
    ds = load_dataset(data)
    monkeypatch.setenv("WORKBENCH_OVERRIDES", str(tmp_path / "nowhere.yaml"))
    before = forecast_for_restock(ds, "2026-11-23", horizon_days=14).forecast
    sku = before["unique_id"].iloc[0]
    assert (before.loc[before["unique_id"] == sku, "model"] != "Naive").all()

    path = tmp_path / "overrides.yaml"
    set_override(path, sku, "Naive", who="ana", why="last value is the best guess after the relaunch")
    monkeypatch.setenv("WORKBENCH_OVERRIDES", str(path))
    after = forecast_for_restock(ds, "2026-11-23", horizon_days=14).forecast
    assert (after.loc[after["unique_id"] == sku, "model"] == "Naive").all()
    others = after["unique_id"] != sku
    assert (after.loc[others, "model"].to_numpy() == before.loc[before["unique_id"] != sku, "model"].to_numpy()).all()
    assert after.loc[after["unique_id"] == sku, "reason"].str.contains("override", case=False).all()

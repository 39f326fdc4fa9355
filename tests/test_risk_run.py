"""`run_risk`: the risk table and its side files from a dataset directory (generated sample data)."""
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.policies.base import check_policy_output
from workbench.risk import RISK_COLUMNS, run_risk

AS_OF = "2026-11-22"
DIMENSIONS = ["score_product_type", "score_margin", "score_competition", "score_brand", "score_price"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    from workbench.data.generate import GeneratorConfig, write_sample_dataset

    out = tmp_path_factory.mktemp("risk_data")
    write_sample_dataset(out, GeneratorConfig(n_skus=16, years=1.0, seed=11, end_date=AS_OF, ads_days=30))
    return out


@pytest.fixture(scope="module")
def result(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("risk_out") / "risk.csv"
    return run_risk(dataset, AS_OF, out)


def test_risk_table_has_the_design_columns_and_a_reason_on_every_row(result):
    risk = pd.read_csv(result["paths"]["risk"])
    assert list(risk.columns) == RISK_COLUMNS and len(risk) == 16
    check_policy_output(risk, ["sku", "hijack_level", "monitor_every_minutes"],
                        numeric_columns=["hijack_score", "stockout_risk", *DIMENSIONS])
    assert risk["hijack_score"].between(0, 100).all()
    assert set(risk["hijack_level"]) <= {"low", "medium", "high"}
    assert (risk[DIMENSIONS].sum(axis=1) + risk["low_cover_points"]).clip(upper=100).round(0).equals(
        risk["hijack_score"].round(0))
    assert risk["reason"].str.contains(r"^hijack [\d.]+/100 \((?:low|medium|high)").all()


def test_side_files_are_written_beside_the_output(result):
    p = result["paths"]
    for name in ["account_health", "alerts", "feed", "returns", "new_products", "model"]:
        assert p[name].name == f"risk_{name}.csv" and p[name].exists()
        frame = pd.read_csv(p[name])
        if len(frame):
            check_policy_output(frame, [])
    model = pd.read_csv(p["model"])
    assert "learned model (calibrated gradient boosting)" in set(model["scorer"]) or model.loc[0, "scorer"] == "none"
    health = pd.read_csv(p["account_health"])
    assert {"channel", "metric", "breach", "trend"} <= set(health.columns)
    assert result["counts"]["risk"] == 16 and "model_verdict" in result


def test_missing_optional_tables_are_reported_not_fatal(dataset, tmp_path):
    lean = tmp_path / "lean"
    lean.mkdir()
    for name in ["products", "sales", "inventory", "shipments"]:
        (lean / f"{name}.csv").write_bytes((dataset / f"{name}.csv").read_bytes())
    r = run_risk(lean, AS_OF, tmp_path / "out" / "risk.csv")
    health = pd.read_csv(r["paths"]["account_health"])
    assert len(health) == 1 and health.loc[0, "status"] == "absent"
    assert "account_health table absent" in health.loc[0, "reason"]
    risk = pd.read_csv(r["paths"]["risk"])
    assert risk["reason"].str.contains("offers table absent").all()
    assert risk["hijack_model_prob"].isna().all()
    assert "offers table absent" in r["notes"]
    assert risk["data_notes"].str.contains("account_health table absent; supplier_feed table absent").all()


def test_bad_arguments_get_clear_errors(dataset, tmp_path):
    with pytest.raises(InputError, match="`--as-of` must be a date YYYY-MM-DD, got 'next monday'"):
        run_risk(dataset, "next monday", tmp_path / "risk.csv")
    with pytest.raises(InputError, match="--output: expected a file ending in .csv or .parquet"):
        run_risk(dataset, AS_OF, tmp_path / "risk.xlsx")
    with pytest.raises(InputError, match="is not a directory"):
        run_risk(tmp_path / "nope", AS_OF, tmp_path / "risk.csv")


def test_same_data_same_output(dataset, result, tmp_path):
    again = run_risk(dataset, AS_OF, tmp_path / "risk.csv")
    for name in ["risk", "model", "account_health", "alerts"]:
        pd.testing.assert_frame_equal(pd.read_csv(result["paths"][name]), pd.read_csv(again["paths"][name]))


def test_risk_outputs_use_the_restock_probability_and_the_snapshot_covers(dataset):
    from workbench.data.load import load_dataset
    from workbench.risk import risk_outputs
    from workbench.stock import build_snapshot

    snap = build_snapshot(load_dataset(dataset), AS_OF)
    restock = pd.DataFrame({"sku": snap.products["sku"], "stockout_probability": 0.5, "lead_time_days": 30.0})
    frames = risk_outputs(snap, restock)
    assert set(frames) == {"risk", "account_health", "alerts", "feed", "returns", "new_products"}
    assert (frames["risk"]["stockout_risk"] == 0.5).all()
    covers = frames["risk"].set_index("sku")[["cover_days", "sellable_cover_days"]].sort_index()
    pd.testing.assert_frame_equal(covers, snap.covers().set_index("sku").sort_index())
    assert "model" in risk_outputs(snap, restock, include_model=True)

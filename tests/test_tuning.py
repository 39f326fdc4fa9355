"""Forecast tuning: the one-SKU backtest, and saved overrides that the next forecast run picks up."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from workbench import tuning
from workbench.data import load_dataset
from workbench.errors import InputError
from workbench.forecast.api import forecast_file, forecast_frame
from workbench.forecast.history import demand_history

ROOT = Path(__file__).resolve().parents[1]
AS_OF = pd.Timestamp("2026-11-23")


@pytest.fixture(scope="module")
def history():
    return demand_history(load_dataset(ROOT / "data" / "samples").tables, AS_OF)


def test_backtest_scores_every_candidate_on_every_window(history):
    t = tuning.backtest_sku(history, "SKU-0001", horizon=28, n_windows=3, models=["AutoETS"])
    assert t.demand_class in ("smooth", "erratic", "intermittent", "lumpy")
    assert "AutoETS" in set(t.backtest["model"])
    assert t.backtest.groupby("model")["cutoff"].nunique().eq(3).all()
    for col in ("mase", "rmsse", "bias", "coverage_80", "coverage_95"):
        assert t.backtest[col].notna().all(), col
    assert t.backtest["coverage_80"].between(0, 1).all()
    assert t.summary["model"].iloc[0] == t.best_model
    assert t.summary["mase"].is_monotonic_increasing
    f = t.forecast_of()
    assert len(f) == 28 and (f["yhat_lo_80"] <= f["yhat"]).all() and (f["yhat"] <= f["yhat_hi_80"]).all()
    assert (f["yhat_hi_80"] <= f["yhat_hi_95"]).all()


def test_the_sku_view_shows_its_combination_weights_and_production_s_choice(history):
    """Issue 15: the tuning view shows the Ensemble's per-model weights and marks the model production chose."""
    t = tuning.backtest_sku(history, "SKU-0001")
    assert len(t.weights) >= 2 and np.isclose(t.weights["weight"].sum(), 1.0)
    members = t.summary.set_index("model")["ensemble_weight"]
    assert np.allclose(members[t.weights["model"]].to_numpy(), t.weights["weight"].to_numpy())
    assert members.drop(t.weights["model"]).eq(0.0).all()  # non-members carry no weight
    assert t.summary["production"].sum() == 1
    assert t.summary.loc[t.summary["production"], "model"].iloc[0] == t.production_model
    # the weights are production's own: the same rows as the whole run's weights table for this SKU
    prod = tuning.production_run(history)
    mine = prod.weights[prod.weights["unique_id"] == "SKU-0001"].set_index("model")["weight"]
    assert np.allclose(mine[t.weights["model"]].to_numpy(), t.weights["weight"].to_numpy())


def test_stockout_days_are_marked_and_their_demand_estimated(history):
    t = tuning.backtest_sku(history, "SKU-0001")
    out = t.history[t.history["censored"]]
    assert len(out) > 0  # the sample has stockouts on SKU-0001
    assert (out["y"] >= out["y_observed"]).all() and (out["y"] > out["y_observed"]).any()


def test_mase_matches_the_textbook_formula_on_a_hand_checkable_series():
    # weekly pattern 0..6 repeated: the seasonal-naive in-sample error is 0, so the scale falls back to
    # the mean |y_t - y_{t-1}|; a Naive forecast from the last value 6 errs by |k - 6| on the next week
    days = pd.date_range("2026-01-01", periods=7 * 12, freq="D")
    y = np.tile(np.arange(7.0), 12)
    h = pd.DataFrame({"unique_id": "X", "ds": days, "y": y, "in_stock": True})
    t = tuning.backtest_sku(h, "X", horizon=7, n_windows=1, models=["Naive"])
    row = t.backtest[t.backtest["model"] == "Naive"].iloc[0]
    scale = np.mean(np.abs(np.diff(y)))  # (6·1 + 6) / 7 per week → 12/7
    assert row["mase"] == pytest.approx(np.mean(np.abs(np.arange(7.0) - 6)) / scale, rel=1e-6)
    assert row["bias"] == pytest.approx(np.mean(6 - np.arange(7.0)))


def test_a_class_of_skus_can_be_picked(history):
    ids = tuning.skus_in_class(history, "intermittent")
    assert ids and tuning.pick_sku(history, "", "intermittent") == ids[0]
    with pytest.raises(InputError, match="unknown SKU"):
        tuning.pick_sku(history, "NOPE")


def test_save_keeps_who_when_why_and_the_previous_value(tmp_path):
    path = tmp_path / "overrides.yaml"
    when = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    tuning.save_override(path, "SKU-0001", "SeasWA", "ana", "peak pattern", when=when)
    tuning.save_override(path, "SKU-0001", "WindowAverage", "bob", "promo ended", params={"window_size": 14})
    doc = yaml.safe_load(path.read_text())
    e = doc["overrides"]["SKU-0001"]
    assert doc["version"] == 2
    assert (e["model"], e["who"], e["why"], e["params"]) == ("WindowAverage", "bob", "promo ended", {"window_size": 14})
    assert e["previous"]["model"] == "SeasWA" and e["previous"]["when"] == "2026-11-20T10:00:00+00:00"
    assert doc["history"][0]["unique_id"] == "SKU-0001"
    table = tuning.overrides_table(path)
    assert table.loc[0, "previous_model"] == "SeasWA"


def test_bad_overrides_are_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "overrides.yaml"
    with pytest.raises(InputError, match="model must be one of"):
        tuning.save_override(path, "SKU-0001", "Prophet", "ana", "why not")
    with pytest.raises(InputError, match="who and why"):
        tuning.save_override(path, "SKU-0001", "Naive", "", "")
    with pytest.raises(InputError, match="bad parameters for WindowAverage"):
        tuning.save_override(path, "SKU-0001", "WindowAverage", "ana", "x", params={"windw": 3})
    assert not path.exists()


def test_the_default_notebook_run_never_writes_the_real_overrides(tmp_path):
    path = tuning.resolve_overrides_path("")
    assert ROOT not in path.parents and not path.exists()
    msg = tuning.maybe_save(False, path, "SKU-0001", "Naive", "ana", "x")
    assert msg.startswith("save = False") and not path.exists()
    assert tuning.resolve_overrides_path(str(tmp_path / "o.yaml")) == tmp_path / "o.yaml"


def test_a_saved_override_changes_the_model_the_next_forecast_uses(history, tmp_path):
    hist = history[history["unique_id"].isin(["SKU-0001", "SKU-0002", "SKU-0003"])]
    kw = dict(horizon=14, freq="D", levels=[80], use_global_model=False, n_jobs=1)
    before = forecast_frame(hist, **kw).choices.set_index("unique_id")
    new = "Naive" if before.loc["SKU-0002", "model"] != "Naive" else "HistoricAverage"
    path = tmp_path / "overrides.yaml"
    msg = tuning.maybe_save(True, path, "SKU-0002", new, "ana", "trust the last value before the promo")
    assert msg.startswith("Saved SKU-0002")
    after = forecast_frame(hist, overrides=path, **kw).choices.set_index("unique_id")
    assert after.loc["SKU-0002", "model"] == new and after.loc["SKU-0002", "source"] == "override"
    assert "ana" in after.loc["SKU-0002", "reason"]
    assert after.loc["SKU-0001", "model"] == before.loc["SKU-0001", "model"]
    # the `workbench forecast` path: forecast_file with the overrides file
    inp = tmp_path / "history.csv"
    hist.to_csv(inp, index=False)
    out = forecast_file(inp, 14, "D", [80], tmp_path / "fc.csv", overrides_path=path)
    written = pd.read_csv(tmp_path / "fc.csv")
    assert set(written.loc[written["unique_id"] == "SKU-0002", "model"]) == {new}
    assert out.choices.set_index("unique_id").loc["SKU-0002", "source"] == "override"
    # the tuning view shows it too
    t = tuning.backtest_sku(history, "SKU-0002", overrides=path)
    assert t.override["model"] == new and t.forecast_of()["model"].iloc[0] == new

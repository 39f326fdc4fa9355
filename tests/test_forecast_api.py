"""forecast_frame / forecast_file / the CLI: daily and weekly input, intervals, overrides, reasons."""
import numpy as np
import pandas as pd
import pytest

from forecast_fixtures import daily_panel
from workbench.cli import main as cli_main
from workbench.errors import InputError
from workbench.forecast import forecast_frame
from workbench.forecast.overrides import load_overrides, set_override

H = 28


@pytest.fixture(scope="module")
def daily():
    hist, truth = daily_panel(n_series=12, n_days=400 + H, seed=5)
    cut = hist["ds"].max() - pd.Timedelta(days=H)
    train = hist[hist["ds"] <= cut].copy()
    train["in_stock"] = True
    stock = (train["unique_id"] == "S00") & train["ds"].between(cut - pd.Timedelta(days=40), cut - pd.Timedelta(days=31))
    train.loc[stock, ["y", "in_stock"]] = [0.0, False]
    res = forecast_frame(train, H, "D", [80, 95], seed=0)
    return train, truth[truth["ds"] > cut], res


def test_one_row_per_series_and_day_with_required_columns(daily):
    train, test, res = daily
    f = res.forecast
    assert list(f.columns[:4]) == ["unique_id", "ds", "model", "yhat"]
    for c in ["yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95", "reason"]:
        assert c in f
    assert len(f) == train["unique_id"].nunique() * H
    assert not f.duplicated(["unique_id", "ds"]).any()
    assert f[["yhat", "yhat_lo_80", "yhat_hi_80"]].notna().all().all()
    assert (f["yhat_lo_95"] <= f["yhat_lo_80"]).all() and (f["yhat_lo_80"] <= f["yhat"]).all()
    assert (f["yhat"] <= f["yhat_hi_80"]).all() and (f["yhat_hi_80"] <= f["yhat_hi_95"]).all()
    assert (f["yhat_lo_95"] >= 0).all()
    assert f["reason"].str.len().gt(20).all()


def test_classification_backtest_and_lost_units_are_exposed(daily):
    _, _, res = daily
    assert set(res.classification["demand_class"]) <= {"smooth", "erratic", "intermittent", "lumpy"}
    assert {"unique_id", "model", "cutoff", "mase"} <= set(res.backtest.columns)
    assert res.backtest["cutoff"].nunique() == 3
    s00 = res.lost_units.set_index("unique_id").loc["S00"]
    assert s00["stockout_periods"] == 10 and s00["lost_units"] > 50
    assert "10 stockout days imputed" in res.forecast.loc[res.forecast["unique_id"] == "S00", "reason"].iloc[0]
    smooth = res.classification.set_index("unique_id").loc["S00", "demand_class"]
    intermittent = res.classification.set_index("unique_id").loc["S01", "demand_class"]
    assert smooth == "smooth" and intermittent in ("intermittent", "lumpy")
    # intermittent series are chosen among intermittent models (or the global model / ensembles)
    m01 = res.choices.set_index("unique_id").loc["S01", "model"]
    assert m01 in ("CrostonSBA", "TSB", "IMAPA", "ADIDA", "WindowAverage", "SeasWA", "GlobalGBM", "Ensemble")


def test_intervals_cover_the_truth_on_generated_data(daily):
    _, test, res = daily
    m = test.merge(res.forecast, on=["unique_id", "ds"])
    cov80 = ((m["y"] >= m["yhat_lo_80"]) & (m["y"] <= m["yhat_hi_80"])).mean()
    cov95 = ((m["y"] >= m["yhat_lo_95"]) & (m["y"] <= m["yhat_hi_95"])).mean()
    assert 0.70 <= cov80 <= 0.95, cov80
    assert cov95 >= 0.88, cov95


def test_point_forecast_beats_the_naive_mean_of_all_history(daily):
    train, test, res = daily
    m = test.merge(res.forecast, on=["unique_id", "ds"]).merge(
        train.groupby("unique_id")["y"].mean().rename("hist_mean"), on="unique_id")
    assert (m["y"] - m["yhat"]).abs().mean() < (m["y"] - m["hist_mean"]).abs().mean()


def test_short_history_gets_a_fallback_and_says_so():
    hist, _ = daily_panel(n_series=3, n_days=300, seed=1)
    new = pd.DataFrame({"unique_id": "NEW", "ds": pd.date_range("2024-10-01", periods=10), "y": [3, 4, 2, 5, 3, 4, 2, 3, 4, 5.0]})
    res = forecast_frame(pd.concat([hist, new]), 14, "D", [80], use_global_model=False)
    f = res.forecast[res.forecast["unique_id"] == "NEW"]
    assert (f["model"] == "ShortHistoryAverage").all() and len(f) == 14
    assert f["yhat"].iloc[0] == pytest.approx(3.5)
    assert "short series (10 days of history" in f["reason"].iloc[0]


def test_weekly_input_and_overrides_are_applied(tmp_path):
    rng = np.random.default_rng(2)
    ds = pd.date_range("2021-01-01", periods=150, freq="W-FRI")
    season = 1 + 0.5 * (ds.isocalendar().week.to_numpy() >= 47)
    df = pd.concat([pd.DataFrame({"unique_id": f"W{i}", "ds": ds, "y": rng.poisson(100 * season).astype(float)})
                    for i in range(4)])
    path = tmp_path / "overrides.yaml"
    set_override(path, "W1", "CrostonSBA", who="ana", why="test override")
    set_override(path, "W1", "SeasonalNaive", who="bob", why="peak season")
    ov = load_overrides(path)
    assert ov["W1"]["previous"]["model"] == "CrostonSBA" and ov["W1"]["who"] == "bob"
    res = forecast_frame(df, 13, "W", [80], overrides=path)
    f = res.forecast
    assert len(f) == 4 * 13 and (f["ds"].dt.dayofweek == 4).all()
    w1 = f[f["unique_id"] == "W1"]
    assert (w1["model"] == "SeasonalNaive").all()
    assert "analyst override (bob" in w1["reason"].iloc[0]
    # an override to a model outside the class's candidates is run for that series only
    set_override(path, "W2", "AutoETS", who="ana", why="try ETS", params={"model": "ANN"})
    res2 = forecast_frame(df, 13, "W", [80], overrides=path, use_global_model=False)
    assert (res2.forecast.loc[res2.forecast["unique_id"] == "W2", "model"] == "AutoETS").all()


def test_bad_parameters_name_the_parameter():
    hist, _ = daily_panel(n_series=2, n_days=100)
    with pytest.raises(InputError, match="horizon must be an integer >= 1, got 0"):
        forecast_frame(hist, 0, "D")
    with pytest.raises(InputError, match=r"level must be an integer in \(0, 100\), got 120"):
        forecast_frame(hist, 7, "D", [120])
    with pytest.raises(InputError, match="engine must be one of"):
        forecast_frame(hist, 7, "D", engine="gpu")
    with pytest.raises(ValueError, match="model must be one of"):
        set_override("unused.yaml", "a", "Prophet", who="x", why="y")


def test_cli_forecast_writes_csv_and_maps_bad_input_to_exit_2(tmp_path, capsys):
    hist, _ = daily_panel(n_series=3, n_days=200, seed=4)
    inp = tmp_path / "history.csv"
    hist.assign(ds=hist["ds"].dt.strftime("%Y-%m-%d")).to_csv(inp, index=False)
    out = tmp_path / "fc.csv"
    code = cli_main(["forecast", "--input", str(inp), "--horizon", "7", "--freq", "D", "--level", "80", "95",
                     "--output", str(out)])
    assert code == 0
    f = pd.read_csv(out)
    assert list(f.columns) == ["unique_id", "ds", "model", "yhat", "yhat_lo_80", "yhat_hi_80",
                               "yhat_lo_95", "yhat_hi_95", "reason"]
    assert len(f) == 21
    bad = tmp_path / "bad.csv"
    bad.write_text("unique_id,ds,y\na,2024-01-01,1\na,2024-01-01,2\na,2024-01-02,x\n")
    code = cli_main(["forecast", "--input", str(bad), "--horizon", "7", "--freq", "D", "--output", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}:3:unique_id,ds: duplicate of line 2" in err
    assert f"{bad}:4:y: expected a number >= 0, got 'x'" in err
    assert not (tmp_path / "o.csv").exists()


def test_parquet_weekly_round_trip(tmp_path):
    ds = pd.date_range("2022-01-02", periods=120, freq="W-SUN")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 120), "ds": np.tile(ds, 2),
                       "y": rng.poisson(20, 240).astype(float)})
    inp, out = tmp_path / "w.parquet", tmp_path / "w_out.parquet"
    df.to_parquet(inp)
    assert cli_main(["forecast", "--input", str(inp), "--horizon", "8", "--freq", "W", "--output", str(out), "--level", "90"]) == 0
    f = pd.read_parquet(out)
    assert len(f) == 16 and {"yhat_lo_90", "yhat_hi_90"} <= set(f.columns)


def test_only_short_histories_get_the_fallback_instead_of_a_crash():
    """Issue 18 item 5: no series long enough for a backtest used to raise KeyError: 'source'."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 10),
                       "ds": np.tile(pd.date_range("2025-03-01", periods=10), 3),
                       "y": rng.poisson(4, 30).astype(float)})
    res = forecast_frame(df, 14, "D", [80, 95])
    f = res.forecast
    assert len(f) == 3 * 14 and (f["model"] == "ShortHistoryAverage").all()
    assert f["reason"].str.contains("short series (10 days of history", regex=False).all()
    assert set(res.choices["source"]) == {"fallback"}


def test_only_inactive_series_get_a_zero_forecast_instead_of_a_crash():
    """A run as-of a year after the data: every series is inactive, none backtestable."""
    ds = pd.date_range("2024-01-01", periods=420)
    y = np.where(ds < pd.Timestamp("2024-01-20"), 3.0, 0.0)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], len(ds)), "ds": np.tile(ds, 2), "y": np.tile(y, 2)})
    res = forecast_frame(df, 7, "D", [80])
    assert (res.forecast["model"] == "Zero").all() and len(res.forecast) == 14
    assert res.forecast["reason"].str.startswith("Zero forecast").all()


def test_cli_gives_one_short_series_the_fallback_and_min_obs_makes_it_strict(tmp_path, capsys):
    hist, _ = daily_panel(n_series=2, n_days=120, seed=4)
    new = pd.DataFrame({"unique_id": "NEW", "ds": pd.to_datetime(["2024-04-28", "2024-04-29"]), "y": [2.0, 3.0]})
    inp = tmp_path / "history.csv"
    pd.concat([hist, new]).assign(ds=lambda d: d["ds"].dt.strftime("%Y-%m-%d")).to_csv(inp, index=False)
    out = tmp_path / "fc.csv"
    assert cli_main(["forecast", "--input", str(inp), "--horizon", "7", "--freq", "D", "--output", str(out)]) == 0
    f = pd.read_csv(out)
    new_rows = f[f["unique_id"] == "NEW"]
    assert len(new_rows) == 7 and (new_rows["model"] == "ShortHistoryAverage").all()
    assert "short series (2 days of history" in new_rows["reason"].iloc[0]
    strict = tmp_path / "strict.csv"
    code = cli_main(["forecast", "--input", str(inp), "--horizon", "7", "--freq", "D", "--output", str(strict),
                     "--min-obs", "3"])
    assert code == 2 and not strict.exists()
    assert f"{inp}:{len(hist) + 2}:unique_id: series 'NEW' has 2 row(s); at least 3 are needed" in capsys.readouterr().err


def test_intervals_are_calibrated_per_horizon_step_on_drifting_series():
    """Random-walk-like demand: errors grow with the horizon, so must the intervals; coverage holds by week."""
    rng = np.random.default_rng(11)
    n, days, h = 24, 364 + 3 * 28 + 28, 28
    ds = pd.date_range("2024-01-01", periods=days)
    rows = []
    for i in range(n):
        level = 60 + np.cumsum(rng.normal(0, 3.0, days))
        rows.append(pd.DataFrame({"unique_id": f"R{i:02d}", "ds": ds, "y": rng.poisson(np.clip(level, 5, None)).astype(float)}))
    full = pd.concat(rows, ignore_index=True)
    cut = ds[-h - 1]
    res = forecast_frame(full[full["ds"] <= cut], h, "D", [80], use_global_model=False)
    m = full[full["ds"] > cut].merge(res.forecast, on=["unique_id", "ds"])
    m["week"] = (m["ds"] - cut).dt.days.sub(1) // 7
    width = (m["yhat_hi_80"] - m["yhat_lo_80"]).groupby(m["week"]).mean()
    assert width.iloc[-1] > 1.3 * width.iloc[0], width
    cov = ((m["y"] >= m["yhat_lo_80"]) & (m["y"] <= m["yhat_hi_80"])).groupby(m["week"]).mean()
    assert cov.between(0.6, 0.97).all(), cov


def test_backtest_windows_never_see_sales_after_their_cutoff():
    """A stockout just before a cutoff is imputed from the data before the cutoff only."""
    from workbench.forecast.api import backtest_candidates, plan_backtest, prepare_history

    hist, _ = daily_panel(n_series=6, n_days=300, seed=9)
    hist["in_stock"] = True
    first_cut = hist["ds"].max() - pd.Timedelta(days=3 * H)
    gap = hist["ds"].between(first_cut - pd.Timedelta(days=4), first_cut + pd.Timedelta(days=4))
    hist.loc[gap, ["y", "in_stock"]] = [0.0, False]
    later = hist.copy()
    later.loc[later["ds"] > first_cut, "y"] *= 5  # a jump after the first cutoff

    def first_window(frame):
        grid, h, _, _ = prepare_history(frame, "D")
        plan = plan_backtest(h, "D", H, 3)
        cv, _, cand = backtest_candidates(grid, h, plan, global_model=None, n_jobs=1)
        models = [m for names in cand.values() for m in names]
        return cv[cv["cutoff"] == first_cut].sort_values(["unique_id", "ds"])[models].reset_index(drop=True)

    pd.testing.assert_frame_equal(first_window(hist), first_window(later))


def test_dates_missing_from_every_series_are_closures_not_zero_demand():
    hist, _ = daily_panel(n_series=6, n_days=200, seed=2)
    shut = pd.to_datetime(["2024-03-31", "2024-05-01", "2024-06-02"])
    df = hist[~hist["ds"].isin(shut)]
    df = df[~((df["unique_id"] == "S00") & (df["ds"] == pd.Timestamp("2024-04-10")))]  # one SKU's gap: zero sales
    res = forecast_frame(df, 14, "D", [80], use_global_model=False)
    lost = res.lost_units.set_index("unique_id")
    assert (lost["closed_periods"] == 3).all() and (lost["stockout_periods"] == 0).all()
    assert (lost["lost_units"] == 0).all()
    h = res.history.set_index(["unique_id", "ds"])
    smooth = h.loc["S00"]
    assert (smooth.loc[shut, "y"] > 5).all() and smooth.loc[shut, "censored"].all()
    assert smooth.loc[pd.Timestamp("2024-04-10"), "y"] == 0
    reason = res.forecast.loc[res.forecast["unique_id"] == "S00", "reason"].iloc[0]
    assert "3 closed days" in reason and "1 missing days read as zero sales" in reason


def _promo_panel(n_series=16, n_days=500, h=H, seed=7):
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=n_days + h)
    rows = []
    for i in range(n_series):
        promo = np.zeros(n_days + h)
        for start in rng.choice(n_days + h - 3, (n_days + h) // 40, replace=False):
            promo[start:start + 3] = 1.0
        lam = rng.uniform(3, 20) * (1 + 2.0 * promo)
        rows.append(pd.DataFrame({"unique_id": f"P{i:02d}", "ds": ds, "y": rng.poisson(lam).astype(float),
                                  "promo": promo}))
    full = pd.concat(rows, ignore_index=True)
    cut = ds[n_days - 1]
    return full[full["ds"] <= cut], full[full["ds"] > cut]


def test_a_known_promotion_lifts_the_forecast_on_promotion_days():
    train, test = _promo_panel()
    res = forecast_frame(train, H, "D", [80], future=test[["unique_id", "ds", "promo"]], seed=0)
    m = res.forecast.merge(test, on=["unique_id", "ds"])
    cand = res.candidates.merge(test, on=["unique_id", "ds"])
    ratio = lambda d, c: d.loc[d["promo"] == 1, c].mean() / d.loc[d["promo"] == 0, c].mean()
    assert ratio(cand, "GlobalGBM") > 1.8, ratio(cand, "GlobalGBM")
    assert ratio(m, "yhat") > 1.5, (ratio(m, "yhat"), res.choices["model"].value_counts())
    # and it is more accurate there than without the promotion calendar
    blind = forecast_frame(train.drop(columns="promo"), H, "D", [80], seed=0).forecast.merge(test, on=["unique_id", "ds"])
    assert (m["y"] - m["yhat"]).abs().mean() < 0.85 * (blind["y"] - blind["yhat"]).abs().mean()


def test_ensemble_is_the_backtest_weighted_combination_and_says_its_weights(daily):
    _, _, res = daily
    w = res.weights
    assert np.allclose(w.groupby("unique_id")["weight"].sum(), 1.0)
    assert (w["weight"] > 0).all() and w.groupby("unique_id").size().le(3).all()
    fc = res.candidates
    uid = w["unique_id"].iloc[0]
    ws = w[w["unique_id"] == uid].set_index("model")["weight"]
    rows = fc[fc["unique_id"] == uid]
    assert np.allclose(rows["Ensemble"], (rows[ws.index] * ws).sum(axis=1))
    ens = res.choices[res.choices["model"] == "Ensemble"]
    if len(ens):
        top = w[w["unique_id"] == ens["unique_id"].iloc[0]].sort_values("weight").iloc[-1]
        assert f"{top['model']} {top['weight']:.2f}" in ens["reason"].iloc[0]


def test_cli_reads_known_future_regressors_and_checks_them(tmp_path, capsys):
    train, test = _promo_panel(n_series=6, n_days=200, h=14)
    inp, fut, out = tmp_path / "h.csv", tmp_path / "future.csv", tmp_path / "fc.csv"
    train.assign(ds=train["ds"].dt.strftime("%Y-%m-%d")).to_csv(inp, index=False)
    test[["unique_id", "ds", "promo"]].assign(ds=test["ds"].dt.strftime("%Y-%m-%d")).to_csv(fut, index=False)
    args = ["forecast", "--input", str(inp), "--horizon", "14", "--freq", "D", "--output", str(out)]
    assert cli_main(args + ["--future", str(fut)]) == 0
    f = pd.read_csv(out)
    assert len(f) == 6 * 14 and f["reason"].notna().all()
    fut.write_text("unique_id,ds,promo\nP00,not-a-date,1\n")
    assert cli_main(args + ["--future", str(fut)]) == 2
    assert f"{fut}:2:ds: expected a date" in capsys.readouterr().err


def test_restock_a_year_after_the_data_runs_and_says_the_data_is_stale(tmp_path, capsys):
    """Issue 18 item 5: `workbench restock --as-of` one year after the sales used to die with KeyError: 'source'.

    Since the history ends at the last observed day (issue 12), the year without data is not read as a
    year of zero sales: the run forecasts from the data it has and says how many days are missing.
    """
    from workbench.config import PROJECT_ROOT

    out = tmp_path / "restock.csv"
    code = cli_main(["restock", "--data", str(PROJECT_ROOT / "data" / "samples"), "--as-of", "2027-11-23",
                     "--output", str(out)])
    assert code == 0
    r = pd.read_csv(out)
    assert len(r) == 40 and r["reason"].str.len().gt(0).all()
    err = capsys.readouterr().err
    assert "366 day(s) missing" in err


def test_future_regressor_file_errors_name_file_row_and_column(tmp_path, capsys):
    """Issue 15: a planned promotion must not silently read as 0: missing, non-numeric or repeated rows are errors."""
    from workbench.forecast.api import read_future

    fut = tmp_path / "future.csv"
    fut.write_text("unique_id,ds\nP00,2026-01-01\n")
    with pytest.raises(InputError) as e:
        read_future(fut, "D", regressors=["promo"])
    assert e.value.problems == [f"{fut}:1:promo: required column is missing (a regressor of the input)"]
    fut.write_text("unique_id,ds,promo\nP00,2026-01-01,1\nP00,2026-01-02,yes\nP00,2026-01-03,\nP00,2026-01-01,0\n")
    with pytest.raises(InputError) as e:
        read_future(fut, "D", regressors=["promo"])
    assert e.value.problems == [
        f"{fut}:3:promo: expected a number (a known future value of the regressor), got 'yes'",
        f"{fut}:5:unique_id,ds: duplicate row for (P00, 2026-01-01)"]
    fut.write_text("unique_id,ds,promo\nP00,2026-01-01,1\nP00,2026-01-02,\n")
    assert read_future(fut, "D", regressors=["promo"])["promo"].tolist() == [1.0, 0.0]  # empty = no promotion
    # through the CLI: exit 2 before any forecasting, the input's regressor named
    train, _ = _promo_panel(n_series=2, n_days=60, h=14)
    inp = tmp_path / "h.csv"
    train.assign(ds=train["ds"].dt.strftime("%Y-%m-%d")).to_csv(inp, index=False)
    fut.write_text("unique_id,ds\nP00,2026-01-01\n")
    args = ["forecast", "--input", str(inp), "--horizon", "14", "--freq", "D", "--output", str(tmp_path / "o.csv"),
            "--future", str(fut)]
    assert cli_main(args) == 2
    assert f"{fut}:1:promo: required column is missing" in capsys.readouterr().err

"""Select periodically, refit weekly: ``refresh_forecast``, ``PeriodicGlobalModel`` and the backtest's
``WeeklyForecaster`` schedule (quick: small panels, the statistical candidates, a 30-tree global model)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast_fixtures import daily_panel
from test_backtest import START, tiny_dataset
from workbench.backtest import Options, run_backtest
from workbench.backtest.adapters import WeeklyForecaster
from workbench.cli import main
from workbench.forecast.api import forecast_frame, refresh_forecast
from workbench.forecast.chunks import PeriodicGlobalModel
from workbench.forecast.errors import lead_time_errors
from workbench.forecast.gbm import GlobalGBM

KW = dict(horizon=28, freq="D", levels=[80, 95], use_global_model=False, n_jobs=1)


@pytest.fixture(scope="module")
def panel():
    hist, _ = daily_panel(n_series=9, n_days=300, seed=2)
    return hist


def test_nothing_is_kept_by_default(panel):
    assert forecast_frame(panel, **KW).selection is None
    assert refresh_forecast(forecast_frame(panel, **KW), panel) is None


def test_refresh_on_the_same_history_is_the_full_run(panel):
    full = forecast_frame(panel, keep_selection=True, **KW)
    again = refresh_forecast(full, panel, n_jobs=1)
    cols = ["unique_id", "ds", "model", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]
    pd.testing.assert_frame_equal(again.forecast[cols], full.forecast[cols])


def test_refresh_keeps_the_selection_and_forecasts_from_the_new_end(panel):
    first_end = panel["ds"].max() - pd.Timedelta(days=7)
    full = forecast_frame(panel[panel["ds"] <= first_end], keep_selection=True, **KW)
    new = refresh_forecast(full, panel, n_jobs=1)
    assert new is not None and new.selection is full.selection
    fc = new.forecast
    assert (fc.groupby("unique_id")["ds"].min() == panel["ds"].max() + pd.Timedelta(days=1)).all()
    assert fc.groupby("unique_id").size().eq(28).all()
    # same models (no annual guard on this short panel), same backtest errors: only the fit moved
    a = full.choices.set_index("unique_id")["model"]
    assert new.choices.set_index("unique_id")["model"].reindex(a.index).equals(a)
    assert new.choices["reason"].str.contains(f"selection of {first_end:%Y-%m-%d} kept").all()
    e0, e1 = lead_time_errors(full), lead_time_errors(new)
    np.testing.assert_array_equal(e0.error, e1.error)
    # the refit saw the new week: the forecast differs from the old one shifted
    old = full.forecast.set_index(["unique_id", "ds"])["yhat"]
    both = fc.set_index(["unique_id", "ds"])["yhat"].to_frame("new").join(old.rename("old"), how="inner")
    assert len(both) and not np.allclose(both["new"], both["old"])


def test_other_series_need_a_full_run(panel):
    full = forecast_frame(panel, keep_selection=True, **KW)
    assert refresh_forecast(full, panel[panel["unique_id"] != "S00"]) is None


def test_periodic_global_model_refits_on_schedule_and_never_looks_ahead():
    hist, _ = daily_panel(n_series=4, n_days=460, seed=5)
    hist["censored"] = False
    gm = PeriodicGlobalModel(GlobalGBM("D", 7, seed=0, n_estimators=30), refit_every=14)
    end = hist["ds"].max()
    upto = lambda days: hist[hist["ds"] <= end - pd.Timedelta(days=days)]  # noqa: E731
    gm.forecast(upto(21))
    assert (gm.fits, gm.applied) == (1, 0)
    out = gm.forecast(upto(14))  # 7 days later: the stored fit, applied to the newer history
    assert (gm.fits, gm.applied) == (1, 1)
    assert out["ds"].min() == end - pd.Timedelta(days=13)
    gm.forecast(upto(28))  # earlier than the stored fit (a backtest window): its own fit, not stored
    assert (gm.fits, gm.applied) == (2, 1)
    gm.forecast(upto(7))  # 14 days after the stored fit: refit
    gm.forecast(upto(0))
    assert (gm.fits, gm.applied) == (3, 2)
    with pytest.raises(ValueError):
        PeriodicGlobalModel(GlobalGBM("D", 7), refit_every=0)


def test_backtest_selects_every_k_weeks_and_refits_in_between(tmp_path):
    data = tiny_dataset(tmp_path / "d", wobble=True, end=START + pd.Timedelta(days=20))
    res = run_backtest(data, START, 3, tmp_path / "o", Options(fast_forecast=True, select_every=2,
                                                                policies=("workbench",)))
    assert res["forecast_runs"] == {"full": 2, "refit": 1}  # weeks 1 and 3 select, week 2 refits
    with pytest.raises(ValueError):
        WeeklyForecaster(select_every=0)


def test_cli_select_every_flags(tmp_path, capsys):
    data = tiny_dataset(tmp_path / "d", wobble=True)
    assert main(["backtest", "--data", str(data), "--start", str(START.date()), "--weeks", "2", "--output",
                 str(tmp_path / "o"), "--fast-forecast", "--select-every", "1", "--global-refit-every", "1"]) == 0
    with pytest.raises(SystemExit) as e:
        main(["backtest", "--data", str(data), "--start", str(START.date()), "--weeks", "2", "--output",
              str(tmp_path / "o"), "--select-every", "0"])
    assert e.value.code == 2
    assert "--select-every" in capsys.readouterr().err


def test_backtest_forecast_uses_the_planned_promotions_as_the_weekly_run_does(tmp_path):
    """The backtest refreshes the forecast as the weekly run would: the dataset's promotions table (past and
    planned, known ahead) reaches the engine as known future regressors, in full runs and in refits."""
    from test_forecast_promotions import END, write_promo_dataset
    from workbench.backtest.adapters import forecast_result
    from workbench.backtest.view import ReplayRecords, build_view, restrict
    from workbench.data import load_dataset

    ds = load_dataset(write_promo_dataset(tmp_path))
    skus = sorted(ds["products"]["sku"])
    n = len(skus)
    day = END + pd.Timedelta(days=1)
    records = ReplayRecords(skus, np.array(["FBA"] * n, dtype=object), np.array(["amazon_us"] * n, dtype=object),
                            np.full(n, 10.0))
    view = build_view(restrict(ds, skus), day, day, records)
    planned = view["promotions"][view["promotions"]["date"] >= day]
    assert len(planned), "planned promotions (after the decision day) are part of what the policy may see"

    def lift(res):
        f = res.forecast.merge(planned.rename(columns={"date": "ds", "sku": "unique_id"})[["unique_id", "ds"]]
                               .assign(promo=True), on=["unique_id", "ds"], how="left")
        f = f[f["ds"] <= planned["date"].max()]
        by = f.assign(promo=f["promo"].eq(True)).groupby(["unique_id", "promo"])["yhat"].mean().unstack()
        return by[True] / by[False]

    full = forecast_result(view, day)
    assert (lift(full) > 1.5).all(), lift(full)
    assert {"promo", "promo_discount"} <= set(full.history.columns)
    refit = forecast_result(view, day, prev=full)
    assert refit.selection is full.selection  # a refit of the kept selection, not a new full run
    assert (lift(refit) > 1.5).all(), lift(refit)
    # without the table the forecast is the one it was: no regressor columns, no lift
    del view.tables["promotions"]
    blind = forecast_result(view, day)
    assert "promo" not in blind.history.columns and not (lift(blind) > 1.5).all()

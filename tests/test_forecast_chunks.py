"""SKU chunks: the global model is fitted once per cutoff and applied to later chunks; files per chunk."""
import numpy as np
import pandas as pd

from forecast_fixtures import daily_panel
from workbench.forecast.chunks import SharedGlobalModel, forecast_chunks, sku_chunks
from workbench.forecast.gbm import GlobalGBM


def test_sku_chunks_split_whole_series_in_a_seeded_random_order():
    hist, _ = daily_panel(n_series=10, n_days=20, seed=1)
    parts = list(sku_chunks(hist, 4, seed=3))
    assert [p["unique_id"].nunique() for p in parts] == [4, 4, 2]
    assert sorted(pd.concat(parts)["unique_id"].unique()) == sorted(hist["unique_id"].unique())
    assert sum(len(p) for p in parts) == len(hist)  # no row dropped or repeated
    assert [sorted(p["unique_id"].unique()) for p in sku_chunks(hist, 4, seed=3)] == \
        [sorted(p["unique_id"].unique()) for p in parts]
    assert sorted(parts[0]["unique_id"].unique()) != [f"S{i:02d}" for i in range(4)]  # shuffled, not the first four


def test_shared_global_model_reuses_its_fit_and_gives_the_fitted_series_the_same_forecast():
    hist, _ = daily_panel(n_series=6, n_days=460, seed=4)  # longer than the tail a new_df forecast reads (420)
    hist["censored"] = False
    shared = SharedGlobalModel(GlobalGBM("D", 7, seed=0, n_estimators=30))
    first = shared.forecast(hist)
    again = shared.forecast(hist)  # same end date: applied through mlforecast's new_df, no refit
    assert (shared.fits, shared.applied) == (1, 1)
    np.testing.assert_allclose(first["GlobalGBM"].to_numpy(), again["GlobalGBM"].to_numpy(), rtol=1e-6)
    other = hist.assign(unique_id="N" + hist["unique_id"], y=hist["y"] * 3)
    scaled = shared.forecast(other)
    assert shared.fits == 1 and scaled["unique_id"].str.startswith("N").all()
    # per-series scaling: tripled history, tripled forecast (up to the 0.1 offset of the scale)
    ratio = scaled["GlobalGBM"].sum() / first["GlobalGBM"].sum()
    assert 2.9 < ratio < 3.1, ratio
    shorter = hist[hist["ds"] < hist["ds"].max() - pd.Timedelta(days=6)]
    shared.forecast(shorter)  # an earlier cutoff is never served by a later fit
    assert shared.fits == 2


def test_forecast_chunks_writes_every_sku_once_and_fits_the_global_model_once_per_cutoff(tmp_path, monkeypatch):
    hist, _ = daily_panel(n_series=12, n_days=260, seed=6)
    fits = []
    orig = GlobalGBM.fit_frame
    monkeypatch.setattr(GlobalGBM, "fit_frame", lambda self, data: fits.append(data["unique_id"].nunique()) or orig(self, data))
    reports = list(forecast_chunks(sku_chunks(hist, 6, seed=0), tmp_path, 14, "D", (80, 95), n_windows=1, n_jobs=1))
    assert len(reports) == 2 and [r.n_series for r in reports] == [6, 6]
    assert fits == [6, 6]  # one backtest window + the future, both on the first chunk only
    fc = pd.concat(pd.read_parquet(r.forecast_path) for r in reports)
    ch = pd.concat(pd.read_parquet(r.choices_path) for r in reports)
    assert fc.groupby("unique_id").size().eq(14).all() and fc["unique_id"].nunique() == 12
    assert sorted(ch["unique_id"]) == sorted(hist["unique_id"].unique())
    assert fc["reason"].str.len().gt(20).all()
    assert (fc["yhat_lo_80"] <= fc["yhat"]).all() and (fc["yhat_hi_95"] >= fc["yhat_hi_80"]).all()


def test_balanced_sku_chunks_are_near_equal_and_keep_the_seeded_order():
    hist, _ = daily_panel(n_series=10, n_days=5, seed=2)
    parts = list(sku_chunks(hist, 4, seed=3, balanced=True))
    assert [p["unique_id"].nunique() for p in parts] == [4, 3, 3]  # not 4, 4, 2
    assert sum(len(p) for p in parts) == len(hist)
    plain = list(sku_chunks(hist, 4, seed=3))
    assert sorted(parts[0]["unique_id"].unique()) == sorted(plain[0]["unique_id"].unique())  # same random first SKUs


def test_grouped_conformal_quantiles_equal_numpys_per_group():
    from workbench.forecast.select import conformal_q, grouped_conformal_q

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 40, 2000)
    codes[codes == 7] = 8  # group 7 has no scores
    scores = rng.gamma(1.0, 1.0, 2000)
    for level in (0.5, 0.8, 0.95):
        got = grouped_conformal_q(codes, scores, 41, level)
        want = [conformal_q(scores[codes == g], level) for g in range(41)]
        np.testing.assert_array_equal(got, np.array(want))  # bit for bit, NaN where a group is empty

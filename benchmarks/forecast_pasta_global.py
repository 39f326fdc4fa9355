"""The pasta global model alone vs HistoricAverage (the best single model in hindsight), per origin.

A cheap companion of ``forecast_pasta.py`` (one global-model fit and one HistoricAverage per origin,
same corrected history, same scoring): ``base`` is the global model without the regressor timing
features, ``derived`` with them (the default), ``derived_tw`` with them and a Tweedie objective.
Origins are numbered from the end (1 = the last 28 days), so they can run as separate processes:

    nice -n 10 .venv/bin/python benchmarks/forecast_pasta_global.py base,derived 4,3,2,1
"""
import sys, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd
from forecast_pasta import load, score, H
from workbench.forecast.api import prepare_history
from workbench.forecast.gbm import GlobalGBM
from statsforecast import StatsForecast
from statsforecast.models import HistoricAverage
variants = {
    "base": dict(exog_derived=False),
    "derived": dict(exog_derived=True),
    "derived_tw": dict(exog_derived=True, objective="tweedie"),
}
if len(sys.argv) > 1:
    variants = {k: v for k, v in variants.items() if k in sys.argv[1].split(",")}
df = load(); last = df["ds"].max(); rows = []
for k in [int(x) for x in sys.argv[2].split(",")]:
    cut = last - pd.Timedelta(days=H * k)
    train, test = df[df["ds"] <= cut], df[(df["ds"] > cut) & (df["ds"] <= cut + pd.Timedelta(days=H))]
    future = (pd.DataFrame({"unique_id": np.repeat(train["unique_id"].unique(), H)})
              .assign(ds=lambda d: cut + pd.to_timedelta(d.groupby("unique_id").cumcount() + 1, unit="D"))
              .merge(test[["unique_id", "ds", "promo"]], on=["unique_id", "ds"], how="left").fillna({"promo": 0.0}))
    grid, hist, lost, filled = prepare_history(train, "D")
    m = test.copy()
    sf = StatsForecast(models=[HistoricAverage()], freq="D").forecast(df=hist[["unique_id", "ds", "y"]], h=H)
    sf["unique_id"] = sf["unique_id"].astype(str)
    m = m.merge(sf, on=["unique_id", "ds"])
    for name, kw in variants.items():
        t0 = time.perf_counter()
        g = GlobalGBM("D", H, seed=0, **kw).forecast(hist[["unique_id", "ds", "y", "censored", "promo"]], future=future, exog=["promo"])
        m = m.merge(g.rename(columns={"GlobalGBM": name}), on=["unique_id", "ds"])
        print(name, round(time.perf_counter() - t0, 1), "s", flush=True)
    sc = score(m, hist, ["HistoricAverage", *variants])
    print(cut.date(), sc["rmsse"].round(4).to_dict(), flush=True)
    rows.append(sc["rmsse"].rename(str(cut.date())))
t = pd.DataFrame(rows)
print(t); print((t.mean() / t["HistoricAverage"].mean()).round(4))

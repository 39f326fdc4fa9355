"""Accuracy on real weekly data: Walmart store sales (45 stores), h = 13, two forecast origins.

Compares the workbench with seasonal naive, AutoETS, AutoTheta, CrostonOptimized, TSB, ADIDA, IMAPA,
WindowAverage, HistoricAverage and the mean of those references, in the same run.
MASE is scaled by the in-sample seasonal-naive MAE (m = 52) of each store's training history
(Hyndman & Koehler 2006); coverage is the share of actuals inside the 80% interval.

    .venv/bin/python benchmarks/forecast_walmart.py      # writes benchmarks/results/forecast_walmart.{md,json}
"""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import (ADIDA, IMAPA, TSB, AutoETS, AutoTheta, CrostonOptimized, HistoricAverage,
                                  SeasonalNaive, WindowAverage)

from workbench.config import REAL_DATA
from workbench.forecast import forecast_frame

H = 13
CUTOFFS = ["2011-10-28", "2012-07-27"]
OUT = Path(__file__).resolve().parent / "results"
REFERENCES = ["SeasonalNaive", "AutoETS", "AutoTheta", "CrostonOptimized", "TSB", "ADIDA", "IMAPA", "WindowAverage",
              "HistoricAverage"]


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(REAL_DATA / "walmart_store_sales.csv")
    df = pd.DataFrame({"unique_id": raw["Store"].astype(str).str.zfill(2), "ds": pd.to_datetime(raw["Date"]),
                       "y": raw["Weekly_Sales"].astype(float)})
    events = (raw.loc[raw["Holiday_Flag"] == 1, ["Date"]].drop_duplicates()
              .rename(columns={"Date": "date"}).assign(event="holiday_flag"))
    return df.sort_values(["unique_id", "ds"]).reset_index(drop=True), events


def scores(test: pd.DataFrame, scale: pd.Series, col: str, lo: str | None, hi: str | None) -> dict:
    ae = (test["y"] - test[col]).abs()
    mase = (ae.groupby(test["unique_id"]).mean() / scale).mean()
    cov = float(((test["y"] >= test[lo]) & (test["y"] <= test[hi])).mean()) if lo else float("nan")
    return {"mase": float(mase), "coverage80": cov}


def main() -> dict:
    df, events = load()
    results, timings = {}, {}
    for cut in CUTOFFS:
        cutoff = pd.Timestamp(cut)
        train = df[df["ds"] <= cutoff]
        test = df[(df["ds"] > cutoff) & (df["ds"] <= cutoff + pd.Timedelta(weeks=H))]
        g = train.groupby("unique_id")["y"]
        scale = (train["y"] - g.shift(52)).abs().groupby(train["unique_id"]).mean()
        t0 = time.perf_counter()
        res = forecast_frame(train, H, "W", [80], events=events, seed=0)
        timings[f"workbench {cut}"] = time.perf_counter() - t0
        wb = test.merge(res.forecast, on=["unique_id", "ds"])
        row = {"workbench": scores(wb, scale, "yhat", "yhat_lo_80", "yhat_hi_80")}
        row["workbench"]["models_chosen"] = res.choices["model"].value_counts().to_dict()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sf = StatsForecast([SeasonalNaive(52), AutoETS(season_length=52), AutoTheta(season_length=52)],
                               freq="W-FRI", n_jobs=-1)
            ref = sf.forecast(df=train, h=H, level=[80])
            # models without their own intervals: point forecasts only
            sf2 = StatsForecast([CrostonOptimized(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA(),
                                 WindowAverage(window_size=8), HistoricAverage()], freq="W-FRI", n_jobs=-1)
            ref = ref.merge(sf2.forecast(df=train, h=H), on=["unique_id", "ds"])
            ref["MeanOfReferences"] = ref[REFERENCES].mean(axis=1)
        timings[f"references {cut}"] = time.perf_counter() - t0
        ref["unique_id"] = ref["unique_id"].astype(str)
        rt = test.merge(ref, on=["unique_id", "ds"])
        for name in REFERENCES + ["MeanOfReferences"]:
            has = f"{name}-lo-80" in rt
            row[name] = scores(rt, scale, name, f"{name}-lo-80" if has else None, f"{name}-hi-80" if has else None)
        # every single candidate the workbench backtested, scored on the test window too (for the record)
        results[cut] = row
    mean = {m: float(np.mean([results[c][m]["mase"] for c in CUTOFFS])) for m in results[CUTOFFS[0]]}
    cov = {m: float(np.mean([results[c][m]["coverage80"] for c in CUTOFFS])) for m in results[CUTOFFS[0]]}
    summary = {
        "per_cutoff": results, "mean_mase": mean, "mean_coverage80": cov, "seconds": timings,
        "targets": {
            "workbench <= seasonal naive in each window": all(results[c]["workbench"]["mase"] <= results[c]["SeasonalNaive"]["mase"] for c in CUTOFFS),
            "workbench mean MASE <= 0.90 x seasonal naive": mean["workbench"] <= 0.90 * mean["SeasonalNaive"],
            "80% coverage in [0.70, 0.90] (each window)": all(0.70 <= results[c]["workbench"]["coverage80"] <= 0.90 for c in CUTOFFS),
        },
        # issue 15's stretch target, recorded met or not (the default test checks ``targets`` only)
        "stretch_targets": {"workbench mean MASE <= 0.75": mean["workbench"] <= 0.75},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "forecast_walmart.json").write_text(json.dumps(summary, indent=2, default=str))
    lines = ["# Walmart store sales: workbench vs reference models (same run)", "",
             f"45 stores, weekly, h={H}; MASE scaled by in-sample seasonal-naive MAE (m=52); 80% interval coverage.", "",
             "| cutoff | model | MASE | 80% coverage |", "| --- | --- | --- | --- |"]
    for c in CUTOFFS:
        for m_, v in results[c].items():
            lines.append(f"| {c} | {m_} | {v['mase']:.3f} | {v['coverage80']:.3f} |")
    lines += ["", "| model | mean MASE | ratio to seasonal naive | mean coverage |", "| --- | --- | --- | --- |"]
    for m_ in mean:
        lines.append(f"| {m_} | {mean[m_]:.3f} | {mean[m_] / mean['SeasonalNaive']:.3f} | {cov[m_]:.3f} |")
    lines += ["", "Targets:"] + [f"- {k}: {'met' if v else 'NOT met'}"
                                 for k, v in {**summary["targets"], **summary["stretch_targets"]}.items()]
    lines += ["", "Models chosen by the workbench: " + "; ".join(f"{c}: {results[c]['workbench']['models_chosen']}" for c in CUTOFFS)]
    lines += ["", "Seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())]
    (OUT / "forecast_walmart.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return summary


if __name__ == "__main__":
    main()

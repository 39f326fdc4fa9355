"""Accuracy on daily SKU data: rolling-origin backtest on generated data with known true demand.

The workbench (censored-demand correction + per-class candidates + global model + backtested choice)
against every single model applied to all series, in the same run. Single models get the same
stockout-corrected history, so the comparison isolates model choice; the workbench's own result
with raw (uncorrected) history is reported too. Accuracy is measured against the generator's true
demand (not censored sales). Metric: MASE (scale: in-sample seasonal-naive MAE, m = 7) averaged
over series and origins, plus WAPE and the workbench's 80/95% interval coverage.

    nice .venv/bin/python benchmarks/forecast_daily.py --skus 300      # results/forecast_daily.{md,json}
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import HistoricAverage

from workbench.data.generate import GeneratorConfig, generate_dataset
from workbench.forecast import demand_history, forecast_frame
from workbench.forecast.models import make_model

OUT = Path(__file__).resolve().parent / "results"
SINGLES = ["SeasonalNaive", "SeasWA", "SESOpt", "Theta", "AutoETS", "AutoTheta", "WindowAverage", "YearNaiveLevel",
           "CrostonSBA", "TSB", "IMAPA", "ADIDA", "HistoricAverage"]


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=300)
    ap.add_argument("--origins", type=int, default=3)
    ap.add_argument("--seed", type=int, default=5)  # the recorded run; tune on another seed (e.g. 13)
    args = ap.parse_args()
    H = 28
    t0 = time.perf_counter()
    tables, truth = generate_dataset(GeneratorConfig(n_skus=args.skus, years=2.0, seed=args.seed))
    t1 = time.perf_counter()
    hist_all = demand_history(tables)
    print(f"generate {t1 - t0:.1f}s, demand_history {time.perf_counter() - t1:.1f}s", flush=True)
    dem = truth["demand"].groupby(["sku", "date"])["demand"].sum().reset_index()
    dem = dem.rename(columns={"sku": "unique_id", "date": "ds", "demand": "true"})
    dem["ds"] = pd.to_datetime(dem["ds"])
    last = hist_all["ds"].max()
    rows, cover, secs = [], [], {}
    for k in range(args.origins, 0, -1):
        cut = last - pd.Timedelta(days=H * k)
        train = hist_all[hist_all["ds"] <= cut]
        test = dem[(dem["ds"] > cut) & (dem["ds"] <= cut + pd.Timedelta(days=H))]
        t0 = time.perf_counter()
        res = forecast_frame(train, H, "D", [80, 95], events=tables.get("events"), seed=0, min_obs=1)
        secs[f"workbench {cut.date()}"] = time.perf_counter() - t0
        raw = forecast_frame(train.assign(in_stock=True), H, "D", [80], events=tables.get("events"), seed=0, min_obs=1)
        hist = res.history
        g = hist.groupby("unique_id")["y"]
        scale = (hist["y"] - g.shift(7)).abs().groupby(hist["unique_id"]).mean()
        scale = scale.where(scale > 0, 1.0)
        fc = res.forecast[["unique_id", "ds", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]]
        fc = fc.rename(columns={"yhat": "workbench"}).merge(
            raw.forecast[["unique_id", "ds", "yhat"]].rename(columns={"yhat": "workbench_raw_history"}), on=["unique_id", "ds"])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sf = StatsForecast([make_model(n, 7, H) for n in SINGLES], freq="D", n_jobs=-1, fallback_model=HistoricAverage())
            single = sf.forecast(df=hist[["unique_id", "ds", "y"]], h=H)
        secs[f"singles {cut.date()}"] = time.perf_counter() - t0
        single["unique_id"] = single["unique_id"].astype(str)
        # window models return NaN (not an error) on series shorter than their window, so statsforecast's
        # fallback never fires: give them the same HistoricAverage fallback, so every model is scored on every row
        for c in SINGLES:
            single[c] = single[c].fillna(single["HistoricAverage"])
        if res.candidates is not None and "GlobalGBM" in res.candidates:
            single = single.merge(res.candidates[["unique_id", "ds", "GlobalGBM"]], on=["unique_id", "ds"], how="left")
            single["GlobalGBM"] = single["GlobalGBM"].fillna(single["HistoricAverage"])
        m = test.merge(fc, on=["unique_id", "ds"]).merge(single, on=["unique_id", "ds"])
        models = ["workbench", "workbench_raw_history"] + [c for c in single.columns if c not in ("unique_id", "ds")]
        cls = res.classification.set_index("unique_id")["demand_class"]
        for c in models:
            ae = (m["true"] - m[c]).abs()
            per = ae.groupby(m["unique_id"]).mean() / scale.reindex(ae.groupby(m["unique_id"]).mean().index)
            row = {"origin": str(cut.date()), "model": c, "mase": float(per.mean()),
                   "wape": float(ae.sum() / m["true"].sum())}
            row.update({f"mase_{k}": float(v) for k, v in per.groupby(per.index.map(cls)).mean().items()})
            rows.append(row)
        cover.append({"origin": str(cut.date()),
                      "coverage80": float(((m["true"] >= m["yhat_lo_80"]) & (m["true"] <= m["yhat_hi_80"])).mean()),
                      "coverage95": float(((m["true"] >= m["yhat_lo_95"]) & (m["true"] <= m["yhat_hi_95"])).mean())})
    t = pd.DataFrame(rows)
    by_class = t.groupby("model")[[c for c in t.columns if c.startswith("mase_")]].mean()
    mean = t.groupby("model")[["mase", "wape"]].mean().sort_values("mase")
    singles = mean.drop(index=["workbench", "workbench_raw_history"])
    best = singles["mase"].idxmin()
    summary = {
        "skus": args.skus, "origins": args.origins, "horizon": H, "mean_by_model": mean.round(4).to_dict("index"),
        "best_single_in_hindsight": best, "workbench_mase": float(mean.loc["workbench", "mase"]),
        "best_single_mase": float(singles.loc[best, "mase"]),
        "target_met": bool(mean.loc["workbench", "mase"] < singles.loc[best, "mase"]),
        "mase_by_class": by_class.round(4).to_dict("index"),
        "coverage": cover, "seconds": {k: round(v, 1) for k, v in secs.items()},
        "classes": res.classification["demand_class"].value_counts().to_dict(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "forecast_daily.json").write_text(json.dumps(summary, indent=2))
    lines = [f"# Daily SKU backtest on generated data ({args.skus} SKUs, 2 years, seed {args.seed}, h={H}, {args.origins} origins)", "",
             "Scored against the generator's true demand. Single models see the same stockout-corrected history.", "",
             "| model | mean MASE | mean WAPE |", "| --- | --- | --- |"]
    lines += [f"| {i} | {r.mase:.4f} | {r.wape:.4f} |" for i, r in mean.iterrows()]
    lines += ["", f"Best single model in hindsight: {best} (MASE {summary['best_single_mase']:.4f}); "
                  f"workbench {summary['workbench_mase']:.4f}: target {'met' if summary['target_met'] else 'NOT met'}.",
              "", "Interval coverage against true demand: " + "; ".join(
                  f"{c['origin']}: 80% {c['coverage80']:.3f}, 95% {c['coverage95']:.3f}" for c in cover),
              "", "MASE by demand class (mean over origins; classes as the workbench saw them):", "",
              "| model | " + " | ".join(c[5:] for c in by_class.columns) + " |",
              "| --- |" + " --- |" * len(by_class.columns)]
    lines += [f"| {i} | " + " | ".join(f"{v:.3f}" for v in r.to_numpy()) + " |" for i, r in by_class.loc[mean.index].iterrows()]
    lines += ["", "Demand classes (last origin): " + str(summary["classes"]),
              "", "Seconds: " + ", ".join(f"{k} {v}" for k, v in summary["seconds"].items())]
    (OUT / "forecast_daily.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return summary


if __name__ == "__main__":
    main()

"""How long `workbench risk` takes beside loading the same dataset (ratio to the load, same run).

For each size, generates (once, cached) a dataset of N SKUs x 2 years, then times load_dataset
alone and run_risk (which loads again, scores, trains the learned model twice: holdout + final).
Writes results/risk_speed.{md,json}. Sizes: command-line arguments, default 1000 5000.
Timings on a shared 2-core box are noisy; the ratio to the load measured in the same run is the number to read.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import CACHE, peak_rss_mb, timed, write_result  # noqa: E402  (sets sys.path)

from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.data.load import load_dataset
from workbench.risk import run_risk

SIZES = [int(a) for a in sys.argv[1:]] or [1000, 5000]
YEARS = 2.0
END = "2026-11-22"


def main() -> None:
    runs = []
    for n in SIZES:
        times: dict = {}
        d = CACHE / f"risk_speed_{n}"
        if not (d / "offers.csv").exists():
            write_sample_dataset(d, GeneratorConfig(n_skus=n, years=YEARS, seed=7, end_date=END, ads_days=7))
        with timed(f"{n} SKUs load_dataset", times):
            ds = load_dataset(d)
        rows = (len(ds["sales"]), len(ds["offers"]))
        del ds
        with tempfile.TemporaryDirectory() as tmp:
            with timed(f"{n} SKUs run_risk", times):
                res = run_risk(d, END, Path(tmp) / "risk.csv")
        load_s, run_s = times[f"{n} SKUs load_dataset"], times[f"{n} SKUs run_risk"]
        runs.append({"n_skus": n, "sales_rows": rows[0], "offers_rows": rows[1], "load_s": load_s, "run_risk_s": run_s,
                     "ratio": round(run_s / load_s, 2), "verdict": res["model_verdict"], "counts": res["counts"]})
    md = ["# `workbench risk` speed", "",
          f"Generated data, {YEARS:g} years ending {END}, 2 shared cores (noisy: read the ratio).", "",
          "| SKUs | sales rows | offers rows | load_dataset s | run_risk s (incl. its load) | ratio |",
          "| --- | --- | --- | --- | --- | --- |"]
    md += [f"| {r['n_skus']} | {r['sales_rows']} | {r['offers_rows']} | {r['load_s']:.1f} | {r['run_risk_s']:.1f} | "
           f"{r['ratio']:.2f}x |" for r in runs]
    md += ["", f"Peak RSS {peak_rss_mb()} MB. The learned model trains on at most 150,000 sampled rows per fit.", ""]
    md += [f"- {r['n_skus']} SKUs: {r['verdict']}" for r in runs]
    write_result("risk_speed", {"runs": runs}, "\n".join(md))


if __name__ == "__main__":
    main()

"""Weekly run speed: data/samples (target < 5 min) and a generated 2,000-SKU dataset (target < 20 min).

The reference, measured in the same process, is loading the same dataset (`load_dataset`): the
ratio says how many "loads" a full weekly run costs. Mail goes to the outbox (no SMTP host).
Usage: python benchmarks/weekly_speed.py [--skus 2000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import CACHE, peak_rss_mb, write_result

from workbench.config import SAMPLE_DATA, mail_settings
from workbench.data import load_dataset
from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.report.pipeline import run_weekly

AS_OF = "2026-11-23"


def measure(label: str, data: Path) -> dict:
    t0 = time.perf_counter()
    ds = load_dataset(data)
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as reports:
        t0 = time.perf_counter()
        run_weekly(data, AS_OF, Path(reports), settings=mail_settings({}))
        weekly_s = time.perf_counter() - t0
    row = {"dataset": label, "skus": len(ds["products"]), "sales_rows": len(ds["sales"]),
           "load_s": round(load_s, 1), "weekly_s": round(weekly_s, 1), "ratio": round(weekly_s / load_s, 1)}
    print(row, flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=2000)
    args = ap.parse_args()
    big = CACHE / f"weekly-{args.skus}"
    if not (big / "sales.csv").exists():
        write_sample_dataset(big, GeneratorConfig(n_skus=args.skus, years=2, seed=5), include_truth=False)
    rows = [measure("data/samples", SAMPLE_DATA), measure(f"generated {args.skus} SKUs", big)]
    targets = {"data/samples": 300, f"generated {args.skus} SKUs": 1200}
    md = ["# Weekly run speed", "",
          "End to end (`run_weekly`: load, forecasts, restock, pricing, ads, risk, two papermill notebooks, HTML, "
          "email to the outbox) on the shared 2-core machine; reference = `load_dataset` of the same data.", "",
          "| dataset | SKUs | sales rows | load s | weekly run s | ratio to load | target | met |",
          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        t = targets[r["dataset"]]
        md.append(f"| {r['dataset']} | {r['skus']:,} | {r['sales_rows']:,} | {r['load_s']} | {r['weekly_s']} | "
                  f"{r['ratio']}x | < {t // 60} min | {'yes' if r['weekly_s'] < t else 'NO'} |")
    md += ["", f"Peak memory of the process (the notebook kernels are separate processes): {peak_rss_mb():,.0f} MB"]
    write_result("weekly_speed", {"rows": rows, "peak_rss_mb": peak_rss_mb()}, "\n".join(md))


if __name__ == "__main__":
    main()

"""Validation speed: 10,000 SKUs x 2 years of daily sales (about 7.3 M rows); target under 60 s.

The reference, measured in the same process on the same files, is a plain ``pandas.read_csv`` (C
engine, type inference) of every table: the ratio says what the contract checks cost over merely
reading the data. The sales table is also timed alone (the issue's 7.3 M-row case).
Usage: python benchmarks/validate_speed.py [--skus 10000] [--years 2]
"""
from __future__ import annotations

import argparse

import pandas as pd
from _common import CACHE, peak_rss_mb, timed, write_result

from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.data.schema import TABLES
from workbench.data.validate import check_table, validate_dataset


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--years", type=float, default=2.0)
    args = ap.parse_args()
    folder = CACHE / f"validate-{args.skus}x{args.years:g}"
    t: dict[str, float] = {}
    if not (folder / "sales.csv").exists():
        with timed("generate dataset (not part of the measure)", t):
            write_sample_dataset(folder, GeneratorConfig(n_skus=args.skus, years=args.years, seed=1), include_truth=False)
    rows = sum(1 for _ in open(folder / "sales.csv")) - 1
    all_rows = sum(sum(1 for _ in open(p)) - 1 for p in folder.glob("*.csv"))
    with timed("reference: pandas.read_csv of every table", t):
        for p in sorted(folder.glob("*.csv")):
            pd.read_csv(p)
    with timed("workbench validate (every table)", t):
        report = validate_dataset(folder)
    assert report.ok, report.lines()[:5]
    with timed("check the sales table alone", t):
        check_table(TABLES["sales"], folder / "sales.csv")
    ratio = t["workbench validate (every table)"] / t["reference: pandas.read_csv of every table"]
    md = f"""# Validation speed

Dataset: {args.skus:,} SKUs x {args.years:g} years, {rows:,} sales rows, {all_rows:,} rows in all tables
(`workbench sample-data`, seed 1). Measured on the shared 2-core machine.

| step | seconds |
| --- | --- |
""" + "\n".join(f"| {k} | {v:.2f} |" for k, v in t.items()) + f"""

- validate / plain read_csv of the same tables: **{ratio:.2f}x**
- target: validation under 60 s on a 2-core machine: **{'met' if t['workbench validate (every table)'] < 60 else 'NOT met'}**
- peak memory of the process: {peak_rss_mb():,.0f} MB
"""
    write_result("validate_speed", {"skus": args.skus, "years": args.years, "sales_rows": rows, "seconds": t,
                                    "all_rows": all_rows, "ratio_vs_read_csv": round(ratio, 2), "peak_rss_mb": peak_rss_mb()}, md)


if __name__ == "__main__":
    main()

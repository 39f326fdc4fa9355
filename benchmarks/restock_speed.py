"""Restock speed: RestockPolicy.recommend for N SKUs with forecasts given, Monte Carlo included.

    .venv/bin/python benchmarks/restock_speed.py [--skus 10000] [--paths 1000] [--out benchmarks/results/restock_speed.md]

Data: ``generate_dataset`` (1 year of history) for products, inventory, shipments and sales; the
forecast frame is built by :func:`restock_helpers.seasonal_naive_forecast` (90 days, 80/95
intervals) and is not timed. Reference measured in the same run: the same call for N/10 SKUs
(scaling), and the Monte Carlo alone (share of the time). Budget (issue 5): 10,000 SKUs < 120 s.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restock_helpers import seasonal_naive_forecast  # noqa: E402
from workbench.data.generate import GeneratorConfig, generate_dataset  # noqa: E402
from workbench.policies import restock as rs  # noqa: E402


def timed(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    (tables, _), t_gen = timed(generate_dataset, GeneratorConfig(n_skus=args.skus, years=1.0, seed=args.seed))
    as_of = pd.Timestamp(tables["sales"]["date"].max())
    skus = tables["products"]["sku"]
    fc, t_fc = timed(seasonal_naive_forecast, tables["sales"], skus, as_of, 90)
    print(f"generated {args.skus} SKUs in {t_gen:.1f} s; forecast frame {len(fc):,} rows in {t_fc:.1f} s")

    # Count Monte Carlo time by wrapping the simulator.
    mc_time = [0.0]
    orig = rs.simulate_stockout_probability

    def wrapped(*a, **kw):
        out, dt = timed(orig, *a, **kw)
        mc_time[0] += dt
        return out
    rs.simulate_stockout_probability = wrapped

    def run(n):
        keep = set(skus.iloc[:n])
        sub = {k: (v[v["sku"].astype(str).isin(keep)] if "sku" in v.columns else v) for k, v in tables.items()}
        f = fc[fc["unique_id"].isin(keep)]
        mc_time[0] = 0.0
        pol = rs.RestockPolicy(n_paths=args.paths, seed=0)
        out, dt = timed(pol.recommend, sub["products"], sub["inventory"], sub["shipments"], f, as_of,
                        sales=sub["sales"], events=sub["events"])
        return out, dt, mc_time[0]

    small_n = max(args.skus // 10, 1)
    _, t_small, mc_small = run(small_n)
    out, t_full, mc_full = run(args.skus)
    rs.simulate_stockout_probability = orig
    assert len(out) == args.skus

    lines = [
        "# Restock speed benchmark",
        "",
        f"Run: `{' '.join(['python', *sys.argv])}` on {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}.",
        f"Data: `generate_dataset(GeneratorConfig(n_skus={args.skus}, years=1, seed={args.seed}))`, as-of {as_of.date()}, "
        f"forecast frame {len(fc):,} rows (90 days × SKUs, stand-in seasonal-naive forecast, not timed). "
        f"Monte Carlo: {args.paths} paths per SKU, demand and lead time (and in-transit arrival) sampled per day.",
        "",
        "| SKUs | recommend() s | of which Monte Carlo s | per 1,000 SKUs s |",
        "| ---: | ---: | ---: | ---: |",
        f"| {small_n:,} | {t_small:.2f} | {mc_small:.2f} | {t_small / small_n * 1000:.2f} |",
        f"| {args.skus:,} | {t_full:.2f} | {mc_full:.2f} | {t_full / args.skus * 1000:.2f} |",
        "",
        f"Scaling ratio (time for {args.skus:,} / time for {small_n:,}): {t_full / t_small:.1f}× for "
        f"{args.skus / small_n:.0f}× the SKUs. Monte Carlo share at {args.skus:,} SKUs: {mc_full / t_full:.0%}.",
        f"Budget (issue 5): {args.skus:,} SKUs in under 120 s → used {t_full / 120:.0%} of it.",
        "",
        f"Statuses: {out['status'].value_counts().to_dict()}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()

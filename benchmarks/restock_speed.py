"""Restock speed: RestockPolicy.recommend for N SKUs with forecasts given, Monte Carlo included.

    .venv/bin/python benchmarks/restock_speed.py [--skus 10000] [--paths 1000]

Data: ``generate_dataset`` (1 year of history) for products, inventory, shipments and sales; the
forecast frame is built by :func:`restock_helpers.seasonal_naive_forecast` (90 days, 80/95
intervals) and is not timed. Since the stock snapshot (issue 12) the policy reads a
:class:`workbench.stock.StockSnapshot`: building it is timed separately from ``recommend``.
Reference measured in the same run: the same calls for N/10 SKUs (scaling), and the Monte Carlo
alone (share of the time). Budget (issue 5): 10,000 SKUs < 120 s. Writes
benchmarks/results/restock_speed.md (+ .json).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import pandas as pd

from _common import peak_rss_mb, write_result  # noqa: E402  (sets sys.path)
from restock_helpers import seasonal_naive_forecast  # noqa: E402
from workbench import stock as stock_module  # noqa: E402
from workbench.data.generate import GeneratorConfig, generate_dataset  # noqa: E402
from workbench.policies.restock import RestockPolicy  # noqa: E402


def timed(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t0


def cpu_timed(fn, *a, **kw):
    """(result, wall s, CPU s of this process): the machine is shared, so CPU is reported beside wall."""
    c0 = time.process_time()
    out, dt = timed(fn, *a, **kw)
    return out, dt, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    (tables, _), t_gen = timed(generate_dataset, GeneratorConfig(n_skus=args.skus, years=1.0, seed=args.seed))
    as_of = pd.Timestamp(tables["sales"]["date"].max())
    skus = tables["products"]["sku"]
    fc, t_fc = timed(seasonal_naive_forecast, tables["sales"], skus, as_of, 90)
    print(f"generated {args.skus} SKUs in {t_gen:.1f} s; forecast frame {len(fc):,} rows in {t_fc:.1f} s", flush=True)

    # Count Monte Carlo time by wrapping the one stockout simulator (StockSnapshot.stockout_probability calls it).
    mc_time = [0.0]
    orig = stock_module.simulate_stockout_probability

    def wrapped(*a, **kw):
        out, dt = timed(orig, *a, **kw)
        mc_time[0] += dt
        return out
    stock_module.simulate_stockout_probability = wrapped

    def run(n):
        keep = set(skus.iloc[:n].astype(str))
        sub = {k: (v[v["sku"].astype(str).isin(keep)] if "sku" in v.columns else v) for k, v in tables.items()}
        f = fc[fc["unique_id"].isin(keep)]
        mc_time[0] = 0.0
        snap, dt_snap, cpu_snap = cpu_timed(stock_module.build_snapshot, sub, as_of, forecast=f)
        out, dt, cpu = cpu_timed(RestockPolicy(n_paths=args.paths, seed=0).recommend, snap)
        print(f"{n} SKUs: snapshot {dt_snap:.1f} s, recommend {dt:.1f} s (Monte Carlo {mc_time[0]:.1f} s)", flush=True)
        return out, {"skus": n, "snapshot_s": round(dt_snap, 2), "recommend_s": round(dt, 2),
                     "monte_carlo_s": round(mc_time[0], 2), "cpu_s": round(cpu_snap + cpu, 2),
                     "load_avg": round(os.getloadavg()[0], 1)}

    small_n = max(args.skus // 10, 1)
    _, small = run(small_n)
    out, full = run(args.skus)
    stock_module.simulate_stockout_probability = orig
    assert len(out) == args.skus
    rows = [small, full]
    lines = [
        "# Restock speed benchmark", "",
        f"Run: `{' '.join(['python', *sys.argv])}` on the shared 2-core machine (other helpers running).",
        f"Data: `generate_dataset(GeneratorConfig(n_skus={args.skus}, years=1, seed={args.seed}))`, as-of {as_of.date()}, "
        f"forecast frame {len(fc):,} rows (90 days × SKUs, stand-in seasonal-naive forecast, not timed). "
        f"Monte Carlo: {args.paths} paths per SKU, demand and lead time (and in-transit arrival) sampled per day.", "",
        "| SKUs | build_snapshot s | recommend() s | of which Monte Carlo s | snapshot + recommend per 1,000 SKUs s "
        "| CPU s (snapshot + recommend) | load avg at end |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        tot = r["snapshot_s"] + r["recommend_s"]
        lines.append(f"| {r['skus']:,} | {r['snapshot_s']:.2f} | {r['recommend_s']:.2f} | {r['monte_carlo_s']:.2f} | "
                     f"{tot / r['skus'] * 1000:.2f} | {r['cpu_s']:.2f} | {r['load_avg']} |")
    t_small, t_full = small["snapshot_s"] + small["recommend_s"], full["snapshot_s"] + full["recommend_s"]
    lines += ["",
              f"Scaling ratio (time for {args.skus:,} / time for {small_n:,}): {t_full / t_small:.1f}× for "
              f"{args.skus / small_n:.0f}× the SKUs. Monte Carlo share at {args.skus:,} SKUs: "
              f"{full['monte_carlo_s'] / t_full:.0%}.",
              f"Budget (issue 5): {args.skus:,} SKUs in under 120 s (snapshot + recommend) → used {t_full / 120:.0%} of it.",
              f"Peak RSS: {peak_rss_mb():,.0f} MB.", "",
              f"Statuses: {out['status'].value_counts().to_dict()}"]
    write_result("restock_speed", {"rows": rows, "paths": args.paths, "peak_rss_mb": peak_rss_mb()}, "\n".join(lines))


if __name__ == "__main__":
    main()

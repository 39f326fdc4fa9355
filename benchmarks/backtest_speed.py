"""Backtest speed: `workbench backtest` of N generated SKUs over W weeks (issue 14 target: 200 × 52 in ≤ 5 min).

    nice -n 10 .venv/bin/python benchmarks/backtest_speed.py [--skus 200] [--weeks 52] [--forecast-every 4]
        [--fast-forecast] [--profile out.prof] [--no-write]

Data: ``write_sample_dataset(GeneratorConfig(n_skus=N, years=2, seed=3))`` into benchmarks/.cache (not
timed). Timed: ``run_backtest`` as the CLI runs it (load, validation, the replay of both policies —
the workbench with its forecast refreshed every ``--forecast-every`` weeks, the rule of thumb —, the
tables and the chart), starting ``W`` weeks before the data's end. Recorded: wall time, CPU time (user
+ sys of this process and its finished children), the load average before and after (the machine is
shared: wall time is inflated by the other jobs, CPU time is the steadier number), peak memory, and
the replay's own split (decision seconds per policy). No assertion: a record.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CACHE, peak_rss_mb, write_result  # noqa: E402

import pandas as pd  # noqa: E402

from workbench.backtest import Options, run_backtest  # noqa: E402
from workbench.data.generate import GeneratorConfig, write_sample_dataset  # noqa: E402

TARGET_SECONDS = 300


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--forecast-every", type=int, default=4)
    ap.add_argument("--fast-forecast", action="store_true")
    ap.add_argument("--profile", default=None, help="write a cProfile of the timed run here")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results (profiling runs)")
    args = ap.parse_args()

    data = CACHE / f"backtest_{args.skus}_{args.seed}"
    if not (data / "products.csv").exists():
        write_sample_dataset(data, GeneratorConfig(n_skus=args.skus, years=2, seed=args.seed), include_truth=False)
    end = pd.read_csv(data / "sales.csv", usecols=["date"], parse_dates=["date"])["date"].max()
    start = end - pd.Timedelta(days=7 * args.weeks - 1)
    opts = Options(forecast_every=args.forecast_every, fast_forecast=args.fast_forecast, progress=False)
    load0 = os.getloadavg()
    prof = cProfile.Profile() if args.profile else None
    w0, c0 = time.perf_counter(), cpu()
    with tempfile.TemporaryDirectory() as out:
        if prof:
            prof.enable()
        res = run_backtest(data, start, args.weeks, out, opts)
        if prof:
            prof.disable()
    wall, cpu_s = time.perf_counter() - w0, cpu() - c0
    load1 = os.getloadavg()
    if prof:
        prof.dump_stats(args.profile)
    summary = res["summary"]
    print(summary[["policy", "fill_rate", "total_cost"]].to_string(index=False))
    print(f"wall {wall:.1f} s, cpu {cpu_s:.1f} s, load {load0} -> {load1}", flush=True)
    if args.no_write:
        return
    decide = res["decide_seconds"]
    n_skus = len(res["setup"].skus)
    met = "met" if wall <= TARGET_SECONDS else "NOT met"
    cpu_met = "met" if cpu_s <= TARGET_SECONDS else "not met"
    md = f"""# Backtest speed ({args.skus} SKUs × {args.weeks} weeks)

Run: `nice -n 10 python benchmarks/backtest_speed.py --skus {args.skus} --weeks {args.weeks} --forecast-every {args.forecast_every}{' --fast-forecast' if args.fast_forecast else ''}`.
Data: `write_sample_dataset(GeneratorConfig(n_skus={args.skus}, years=2, seed={args.seed}))` (not timed);
{n_skus} SKUs replayed from {start.date()} for {args.weeks} weeks, policies workbench and rule_of_thumb, the
workbench's forecast refreshed every {args.forecast_every} week(s){' (fast engine: no global model, one backtest window)' if args.fast_forecast else ' (full engine)'}.

| measure | value |
| --- | ---: |
| wall time | {wall:.1f} s |
| CPU time (user + sys, children included) | {cpu_s:.1f} s |
| workbench decisions (forecast + restock) | {decide.get('workbench', 0):.1f} s wall |
| rule of thumb decisions | {decide.get('rule_of_thumb', 0):.1f} s wall |
| peak memory | {peak_rss_mb():,.0f} MB |
| load average before (1/5/15 min) | {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f} |
| load average after | {load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f} |

Target (issue 14): ≤ {TARGET_SECONDS} s → wall time {met}; CPU time {cpu_met} (on {os.cpu_count()} shared cores,
CPU time is what the run would take alone on one core).
"""
    write_result("backtest_speed", {"skus": args.skus, "weeks": args.weeks, "forecast_every": args.forecast_every,
                                    "fast_forecast": args.fast_forecast, "wall_s": round(wall, 1),
                                    "cpu_s": round(cpu_s, 1), "decide_s": decide, "load_before": load0,
                                    "load_after": load1, "peak_rss_mb": peak_rss_mb(),
                                    "summary": summary.drop(columns="reason").to_dict("records")}, md)


if __name__ == "__main__":
    main()

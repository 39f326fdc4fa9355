"""Backtest speed: `workbench backtest` of N generated SKUs over W weeks (issue 14 target: 200 × 52 in ≤ 5 min).

    nice -n 10 .venv/bin/python benchmarks/backtest_speed.py [--skus 200] [--weeks 52] [--forecast-every 1]
        [--select-every 4] [--global-refit-every 4] [--fast-forecast] [--profile out.prof] [--no-write]
    nice -n 10 .venv/bin/python benchmarks/backtest_speed.py --compare [--skus 100] [--weeks 26]

``--select-every`` / ``--global-refit-every``: weeks between full model selections / global model fits
(``workbench backtest``'s options of the same names; 1 and 1 = a full engine run every week, as the
weekly run). ``--compare``: the faithfulness check instead of a timing: the same replay with the
workbench's forecast at each setting of ``COMPARE`` (every-week full runs, the CLI default, the old fast
benchmark setting), each timed, written to ``results/backtest_faithfulness.*``: total cost ratio to
the rule of thumb, fill rate, and how far each setting's decisions are from the every-week ones.

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
import json
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
from workbench.cli import GLOBAL_REFIT_EVERY, SELECT_EVERY  # noqa: E402
from workbench.data.generate import GeneratorConfig, write_sample_dataset  # noqa: E402

TARGET_SECONDS = 300
# --compare: key -> (label, Options fields). "weekly" is the reference: a full engine run every week.
COMPARE = {
    "weekly": ("full engine every week (as the weekly run)", dict(forecast_every=1, select_every=1, global_refit_every=None)),
    "select4": ("selection every 4 weeks, refit weekly (global model refit weekly)",
                dict(forecast_every=1, select_every=4, global_refit_every=None)),
    "select4g4": ("selection every 4 weeks, refit weekly (global model refit every 4 weeks)",
                  dict(forecast_every=1, select_every=4, global_refit_every=4)),
    "select13g4": ("selection every 13 weeks, refit weekly (global model refit every 4 weeks)",
                   dict(forecast_every=1, select_every=13, global_refit_every=4)),
    "fast4": ("fast engine every 4 weeks (no global model, one window; the old benchmark setting)",
              dict(forecast_every=4, fast_forecast=True)),
}


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--forecast-every", type=int, default=1, help="default: the CLI's (1)")
    ap.add_argument("--fast-forecast", action="store_true")
    ap.add_argument("--select-every", type=int, default=SELECT_EVERY, help="default: the CLI's")
    ap.add_argument("--global-refit-every", type=int, default=GLOBAL_REFIT_EVERY, help="default: the CLI's (1: every forecast)")
    ap.add_argument("--compare", nargs="*", default=None, choices=list(COMPARE),
                    help="the faithfulness comparison: run these COMPARE settings (none: only write the report "
                         "from the settings already run on this data)")
    ap.add_argument("--profile", default=None, help="write a cProfile of the timed run here")
    ap.add_argument("--name", default="backtest_speed", help="results file name (benchmarks/results/NAME.md/json)")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results (profiling runs)")
    args = ap.parse_args()

    data = CACHE / f"backtest_{args.skus}_{args.seed}"
    if not (data / "products.csv").exists():
        write_sample_dataset(data, GeneratorConfig(n_skus=args.skus, years=2, seed=args.seed), include_truth=False)
    end = pd.read_csv(data / "sales.csv", usecols=["date"], parse_dates=["date"])["date"].max()
    start = end - pd.Timedelta(days=7 * args.weeks - 1)
    if args.compare is not None:
        return compare(args, data, start)
    opts = Options(forecast_every=args.forecast_every, fast_forecast=args.fast_forecast, progress=False,
                   select_every=args.select_every, global_refit_every=args.global_refit_every if (args.global_refit_every or 1) > 1 else None)
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
    runs = res.get("forecast_runs") or {}
    n_skus = len(res["setup"].skus)
    met = "met" if wall <= TARGET_SECONDS else "NOT met"
    cpu_met = "met" if cpu_s <= TARGET_SECONDS else "not met"
    md = f"""# Backtest speed ({args.skus} SKUs × {args.weeks} weeks)

Run: `nice -n 10 python benchmarks/backtest_speed.py --skus {args.skus} --weeks {args.weeks} --forecast-every {args.forecast_every} --select-every {args.select_every} --global-refit-every {args.global_refit_every}{' --fast-forecast' if args.fast_forecast else ''}`
({'the CLI defaults' if (args.forecast_every, args.select_every, args.global_refit_every, args.fast_forecast) == (1, SELECT_EVERY, GLOBAL_REFIT_EVERY, False) else 'not the CLI defaults'}).
Data: `write_sample_dataset(GeneratorConfig(n_skus={args.skus}, years=2, seed={args.seed}))` (not timed);
{n_skus} SKUs replayed from {start.date()} for {args.weeks} weeks, policies workbench and rule_of_thumb, the
workbench's forecast refreshed every {args.forecast_every} week(s){' (fast engine: no global model, one backtest window)' if args.fast_forecast else ' (full engine)'},
its models selected every {args.select_every} week(s) (refit on the newest history in between), the global
model fitted every {args.global_refit_every} week(s): {runs.get('full', '?')} full engine runs and {runs.get('refit', '?')} refits.

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
    write_result(args.name, {"skus": args.skus, "weeks": args.weeks, "forecast_every": args.forecast_every,
                                    "fast_forecast": args.fast_forecast,
                                    "select_every": args.select_every, "global_refit_every": args.global_refit_every,
                                    "forecast_runs": runs, "wall_s": round(wall, 1),
                                    "cpu_s": round(cpu_s, 1), "decide_s": decide, "load_before": load0,
                                    "load_after": load1, "peak_rss_mb": peak_rss_mb(),
                                    "summary": summary.drop(columns="reason").to_dict("records")}, md)


def _orders_by_week(res) -> pd.Series:
    o = res["results"][0].orders
    return o.groupby(["sku", "week"])["qty"].sum()


def compare(args, data: Path, start: pd.Timestamp) -> None:
    """Run each asked COMPARE setting on the same data (timed), keep its numbers in the cache, then write
    the report of every setting run so far on this data (``weekly`` is the reference)."""
    tag = f"faith_{args.skus}_{args.weeks}_{args.seed}"
    for key in args.compare:
        opts = Options(progress=False, **COMPARE[key][1])
        load0, w0, c0 = os.getloadavg(), time.perf_counter(), cpu()
        with tempfile.TemporaryDirectory() as out:
            res = run_backtest(data, start, args.weeks, out, opts)
        wall, cpu_s = time.perf_counter() - w0, cpu() - c0
        summ = res["summary"].set_index("policy")
        wb, rot = summ.loc["workbench"], summ.loc["rule_of_thumb"]
        rec = dict(key=key, label=COMPARE[key][0], options={k: v for k, v in COMPARE[key][1].items()},
                   wall_s=round(wall, 1), cpu_s=round(cpu_s, 1), load_before=load0, load_after=os.getloadavg(),
                   forecast_runs=res.get("forecast_runs"), fill=float(wb["fill_rate"]), rot_fill=float(rot["fill_rate"]),
                   total_cost=float(wb["total_cost"]), rot_total_cost=float(rot["total_cost"]),
                   cost_ratio=float(wb["total_cost"] / rot["total_cost"]),
                   avg_inventory_value=float(wb["avg_inventory_value"]), lost_units=float(wb["lost_units"]),
                   air_units=int(wb["air_units"]),
                   orders={f"{k[0]}|{k[1]}": int(v) for k, v in _orders_by_week(res).items()})
        (CACHE / f"{tag}_{key}.json").write_text(json.dumps(rec, default=str))
        print(f"{key}: wall {wall:.1f} s, cpu {cpu_s:.1f} s, cost ratio {rec['cost_ratio']:.3f}, fill {rec['fill']:.4f}",
              flush=True)
    recs = {k: json.loads((CACHE / f"{tag}_{k}.json").read_text()) for k in COMPARE if (CACHE / f"{tag}_{k}.json").exists()}
    if recs:
        write_result("backtest_faithfulness", _faith_report(args, start, recs)[0], _faith_report(args, start, recs)[1])


def _faith_report(args, start, recs: dict):
    ref = recs.get("weekly")
    ref_orders = pd.Series(ref["orders"], dtype=float) if ref else None
    rows, table = [], []
    for key, r in recs.items():
        o = pd.Series(r["orders"], dtype=float)
        dist = None
        if ref_orders is not None:
            both = pd.concat([o, ref_orders], axis=1).fillna(0.0)
            dist = float((both[0] - both[1]).abs().sum() / max(both[1].sum(), 1.0))
        runs = r.get("forecast_runs") or {}
        rows.append({k: v for k, v in r.items() if k != "orders"} | {"order_distance_to_weekly": dist})
        d_cost = f"{r['cost_ratio'] - ref['cost_ratio']:+.3f}" if ref else "n/a"
        d_fill = f"{100 * (r['fill'] - ref['fill']):+.2f} pt" if ref else "n/a"
        default = r["options"] == dict(forecast_every=1, select_every=SELECT_EVERY, global_refit_every=GLOBAL_REFIT_EVERY)
        table.append(f"| {r['label']}{' — **the CLI default**' if default else ''} | {runs.get('full', '?')} / {runs.get('refit', '?')} | {r['cost_ratio']:.3f} ({d_cost}) "
                     f"| {r['fill']:.2%} ({d_fill}) | {r['avg_inventory_value']:,.0f} | "
                     f"{'n/a' if dist is None else f'{dist:.1%}'} | {r['wall_s']:.0f} s / {r['cpu_s']:.0f} s | "
                     f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |")
    rot = next(iter(recs.values()))
    md = f"""# Backtest faithfulness: the workbench's forecast settings against a full engine run every week

Run: `nice -n 10 python benchmarks/backtest_speed.py --compare KEY... --skus {args.skus} --weeks {args.weeks}`
(each setting once, in its own process; this report collects every setting run so far on this data).
Data: `write_sample_dataset(GeneratorConfig(n_skus={args.skus}, years=2, seed={args.seed}))`, replayed from
{start.date()} for {args.weeks} weeks; the rule of thumb (the same in every run): fill {rot['rot_fill']:.2%},
total cost {rot['rot_total_cost']:,.0f}. The reference is "{COMPARE['weekly'][0]}".

| workbench forecast setting | full runs / refits | total cost ÷ rule's (Δ vs weekly) | fill rate (Δ vs weekly) | avg inventory value | order distance to weekly | wall / CPU | load 1-min before → after |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
""" + "\n".join(table) + """

Order distance: Σ over SKU × week of |units ordered − units the every-week run ordered| ÷ units the
every-week run ordered (0 = the same orders; the replays diverge once stock differs, so this also counts
knock-on differences). Wall time is inflated by the other jobs on the shared 2-core machine; CPU time
(user + sys) is the steadier number.
"""
    return dict(skus=args.skus, weeks=args.weeks, seed=args.seed, start=str(start.date()), runs=rows), md


if __name__ == "__main__":
    main()

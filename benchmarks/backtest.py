"""`workbench backtest` on real demand (wrapped pasta data) and on generated data (3 seeds).

    nice -n 10 .venv/bin/python benchmarks/backtest.py [--skus 200] [--weeks 52] [--seeds 7 8 9]
        [--sweep-seed 7] [--sweep-pasta] [--sweep-no-air] [--forecast-every 4]

The reported file of this round (results/backtest_w34.md) was made from separate runs, two at a time
under ``nice -n 10``, 26 weeks each, combined:

    --seeds --weeks 26 --sweep-pasta --sweep-carrying 4 1 0.06 --sweep-safety-days 0 7 21 30 --name backtest_w34_26w_pasta
    --skip-pasta --seeds 9 --seed-skus 100 --weeks 26 --sweep-seed 9 --sweep-carrying 4 1 0.06
        --sweep-safety-days 0 7 21 30 --name backtest_w34_26w_seed9_frontier
    --skip-pasta --seeds S --seed-skus 100 --weeks 26 --name backtest_w34_26w_seedS   (S = 7, 8, 9, 11)
    --combine backtest_w34_26w_pasta ... --notes benchmarks/results/backtest_w34_notes.md --name backtest_w34

(all with ``--forecast-every 4 --no-reference``). The 52-week files (results/backtest_52w_seeds.md,
backtest_52w_pasta.md, backtest_52w_frontier.md, account in backtest_52w_notes.md) were made the same way, five
processes in parallel, ``--weeks 52``:

    --skip-pasta --seeds S --seed-skus 100 --name backtest_52w_part_seedS   (S = 7, 8, 11)
    --skip-pasta --seeds 9 --seed-skus 100 --sweep-seed 9 --sweep-carrying 4 --sweep-safety-days 7 21 30 --name backtest_52w_part_seed9
    --seeds --sweep-pasta --sweep-carrying 4 --sweep-safety-days 7 21 30 --name backtest_52w_part_pasta
    --combine backtest_52w_part_seed7 ... --notes benchmarks/results/backtest_52w_notes.md --name backtest_52w_seeds

A sweep's frontier includes the two-policy run's own
points (workbench at carrying 0.25/yr, rule at 14 days), so each family has 4–5 points.

- pasta: :func:`workbench.data.pasta.write_pasta_dataset` into a temporary folder (assumptions in its
  docstring), replayed from 2018-01-01 for ``--weeks`` weeks, all 118 SKUs.
- generated: ``workbench sample-data --skus N --years 2.5 --seed S --no-truth`` into a temporary
  folder, replayed from 2025-09-01 (pre-peak, Black Friday / Christmas, Chinese New Year, Prime Day).
- both policies through :func:`workbench.backtest.run_backtest` with defaults: the workbench's forecast
  is the engine without its global model and with one backtest window (``fast_forecast``), refreshed
  every ``--forecast-every`` weeks; lead-time draws common to both policies (seed 0). ``--full-forecast``:
  the engine with its global model, as the weekly run (and ``workbench backtest`` without
  ``--fast-forecast``); ``--pasta-promotions``: the pasta data with its promotions table.
- ``--sweep-*``: the frontier (workbench over carrying rates, so over its cost-optimal service levels;
  rule over safety days; optionally a fixed-service workbench family).

Targets (issue 14): workbench total cost ≤ 0.90 × the rule's at a fill rate ≥ the rule's, on real and
on generated data; its frontier above the rule's; 200 SKUs × 52 weeks in ≤ 5 minutes (the first seed's
two-policy run, timed; the reference is one restock call on the same data in the same process).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, write_result

from workbench.backtest import Options, run_backtest

PASTA_START = "2018-01-01"
GEN_START = "2025-09-01"


def _fmt(summary):
    cols = ["policy", "fill_rate", "stockout_sku_days", "lost_units", "lost_margin", "avg_inventory_value",
            "freight_cost", "carrying_cost", "total_cost", "orders", "air_units", "freight_paid"]
    head = "| " + " | ".join(cols) + " |\n| " + " | ".join("---" for _ in cols) + " |"
    rows = []
    for r in summary[cols].itertuples(index=False):
        rows.append("| " + " | ".join([r.policy, f"{r.fill_rate:.2%}", f"{r.stockout_sku_days:,}", f"{r.lost_units:,.0f}",
                                       *[f"{v:,.0f}" for v in (r.lost_margin, r.avg_inventory_value, r.freight_cost,
                                                                r.carrying_cost, r.total_cost)],
                                       f"{r.orders:,}", f"{r.air_units:,}", f"{r.freight_paid:,.0f}"]) + " |")
    return head + "\n" + "\n".join(rows)


def verdict(summary) -> dict:
    s = summary.set_index("policy")
    w, r = s.loc["workbench"], s.loc["rule_of_thumb"]
    ratio = float(w["total_cost"] / r["total_cost"])
    # the same total with freight charged when it is paid (on arrival), the accounting before landed cost
    paid = [float(x["total_cost"] - x["freight_cost"] + x["freight_paid"]) for x in (w, r)]
    return dict(cost_ratio=round(ratio, 4), fill_workbench=round(float(w["fill_rate"]), 4),
                fill_rule=round(float(r["fill_rate"]), 4),
                inventory_ratio=round(float(w["avg_inventory_value"] / r["avg_inventory_value"]), 4),
                freight_ratio=round(float(w["freight_cost"] / max(r["freight_cost"], 1e-9)), 4),
                cost_ratio_freight_paid=round(paid[0] / paid[1], 4),
                met=bool(ratio <= 0.90 and w["fill_rate"] >= r["fill_rate"]))


def one(label, data, start, weeks, out, opts, sweep) -> dict:
    t0, c0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    res = run_backtest(data, start, weeks, out, opts, do_sweep=sweep)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    entry = dict(label=label, start=start, weeks=weeks, skus=len(res["setup"].skus), seconds=round(secs, 1),
                 cpu_seconds=round(cpu, 1), forecast_every=opts.forecast_every,
                 load_average=[round(load0, 1), round(os.getloadavg()[0], 1)],
                 decide_seconds={k: round(v, 1) for k, v in res["decide_seconds"].items()},
                 summary=res["summary"].drop(columns="reason").to_dict("records"), **verdict(res["summary"]))
    if sweep:
        f = with_main_points(res["frontier"], res["summary"], opts)
        entry["frontier"] = f.drop(columns="reason").to_dict("records")
        from workbench.backtest.metrics import dominates

        entry["frontier_above"], entry["frontier_sentence"] = dominates(f)
    print(f"{label}: {secs:.0f} s wall, {cpu:.0f} s CPU, cost ratio {entry['cost_ratio']:.3f}, fill {entry['fill_workbench']:.4f} vs "
          f"{entry['fill_rule']:.4f}", flush=True)
    return entry


def with_main_points(frontier, summary, opts):
    """The frontier plus the two-policy run's own points (workbench at the default carrying rate, rule at its
    default safety days) when the sweep left them out: the same replay, so no need to run them twice."""
    import pandas as pd

    main = summary.copy()
    main.insert(1, "family", main["policy"])
    main.insert(2, "setting", [f"carrying {opts.carrying_rate:g}/yr" if p == "workbench" else f"{opts.rule_safety_days:g} d"
                               for p in main["policy"]])
    have = set(zip(frontier["family"], frontier["setting"]))
    add = main[[(f, st) not in have for f, st in zip(main["family"], main["setting"])]]
    return pd.concat([frontier, add[frontier.columns.intersection(add.columns)]], ignore_index=True)


def reference_seconds(data, start) -> float:
    """One weekly restock call (forecast made on the way, full engine) on the same data: the speed reference."""
    from workbench.data import load_dataset
    from workbench.pipeline import run_pipeline

    ds = load_dataset(data)
    t0 = time.perf_counter()
    run_pipeline(ds, start, steps=("restock",))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--seeds", type=int, nargs="*", default=[7, 8, 9])
    ap.add_argument("--combine", nargs="+", default=None,
                    help="write --name from earlier results files (benchmarks/results/NAME.json) instead of running")
    ap.add_argument("--notes", default=None, help="with --combine: a hand-written account appended to the report")
    ap.add_argument("--sweep-seed", type=int, default=None, help="trace the frontier on this generated seed")
    ap.add_argument("--sweep-pasta", action="store_true", help="trace the frontier on the pasta data")
    ap.add_argument("--forecast-every", type=int, default=4)
    ap.add_argument("--skip-pasta", action="store_true")
    ap.add_argument("--seed-skus", type=int, nargs="+", default=None, help="SKUs per seed (default --skus for all)")
    ap.add_argument("--sweep-service", type=float, nargs="+", default=[0.8, 0.9, 0.95, 0.98],
                    help="service targets of a fixed-service family (--sweep-fixed)")
    ap.add_argument("--sweep-carrying", type=float, nargs="+", default=[1.0, 4.0, 0.25, 0.06],
                    help="the workbench's carrying rates on the frontier (its cost-optimal service level follows)")
    ap.add_argument("--sweep-fixed", action="store_true", help="add a workbench curve at fixed service targets")
    ap.add_argument("--sweep-safety-days", type=float, nargs="+", default=[0, 7, 14, 30])
    ap.add_argument("--sweep-no-air", action="store_true", help="add a workbench curve without air (urgent_mode='sea')")
    ap.add_argument("--sweep-no-standards", action="store_true",
                    help="add a workbench curve without the playbook's stock standards (key_stock_days = "
                         "regular_stock_days = 0), a diagnosis of what the anti-hijack floors cost on the frontier")
    ap.add_argument("--no-reference", action="store_true", help="skip the speed reference (one full restock run)")
    ap.add_argument("--full-forecast", action="store_true",
                    help="the forecast engine with its global model (the weekly run's; default here: fast_forecast)")
    ap.add_argument("--pasta-promotions", action="store_true",
                    help="give the pasta data its promotion flag as a promotions table (planned, known ahead)")
    ap.add_argument("--name", default="backtest")
    ap.add_argument("--charts", default=str(RESULTS / "backtest_charts"), help="folder for the HTML charts")
    args = ap.parse_args()
    if args.combine:
        return combine(args)
    opts = Options(fast_forecast=not args.full_forecast, forecast_every=args.forecast_every, progress=True,
                   sweep_service=tuple(args.sweep_service), sweep_safety_days=tuple(args.sweep_safety_days),
                   sweep_carrying=tuple(args.sweep_carrying),
                   sweep_families={**({"workbench, no air": {"urgent_mode": "sea"}} if args.sweep_no_air else {}),
                                   **({"workbench, no stock standards": {"key_stock_days": 0.0, "regular_stock_days": 0.0}}
                                      if args.sweep_no_standards else {}),
                                   **({"workbench, fixed service": {"service_level_rule": "fixed"}} if args.sweep_fixed else {})})
    seed_skus = args.seed_skus or [args.skus] * len(args.seeds)
    runs, tmp = [], Path(tempfile.mkdtemp(prefix="wb-backtest-"))
    charts = Path(args.charts)
    ref = None
    if not args.skip_pasta:
        from workbench.data.pasta import write_pasta_dataset

        data = write_pasta_dataset(tmp / "pasta", promotions=args.pasta_promotions)
        runs.append(one("pasta (real demand)", data, PASTA_START, args.weeks, tmp / "out-pasta", opts, args.sweep_pasta))
    for i, seed in enumerate(args.seeds):
        data = tmp / f"gen-{seed}"
        subprocess.run([sys.executable, "-m", "workbench", "sample-data", "--out", str(data), "--skus", str(seed_skus[i]),
                        "--years", "2.5", "--seed", str(seed), "--no-truth"], check=True, stdout=subprocess.DEVNULL)
        if i == 0 and not args.no_reference:
            ref = reference_seconds(data, GEN_START)
        runs.append(one(f"generated seed {seed}", data, GEN_START, args.weeks, tmp / f"out-{seed}", opts,
                        seed == args.sweep_seed))
    for r, name in zip(runs, ["pasta"] * (not args.skip_pasta) + [f"seed{s}" for s in args.seeds]):
        src = tmp / ("out-pasta" if name == "pasta" else f"out-{name[4:]}")
        for f in ("chart.html", "frontier.html"):
            if (src / f).exists():
                charts.mkdir(parents=True, exist_ok=True)
                (charts / f"{name}_{f}").write_bytes((src / f).read_bytes())
    write_result(args.name, dict(runs=runs, args=vars(args), command=" ".join(sys.argv),
                                 reference_restock_seconds=ref), markdown(runs, args, ref))


def combine(args) -> None:
    """One report from several partial runs (e.g. pasta with its frontier, generated seeds, run in parallel)."""
    import json

    parts = [json.loads((RESULTS / f"{n}.json").read_text()) for n in args.combine]
    runs = [r for p in parts for r in p["runs"]]
    ref = next((p["reference_restock_seconds"] for p in parts if p.get("reference_restock_seconds")), None)
    cmds = [f"`{p['command']}`" for p in parts if "command" in p]
    from workbench.backtest.metrics import dominates
    import pandas as pd

    for r in runs:  # the dominance check as the current code defines it
        if "frontier" in r:
            f = pd.DataFrame(r["frontier"])
            r["frontier_above"], r["frontier_sentence"] = dominates(f)
            for fam in f["family"].unique():
                if fam not in ("workbench", "rule_of_thumb"):
                    r["frontier_sentence"] += f"; {fam}: " + dominates(f, fam)[1]
    text = markdown(runs, None, ref)
    text = text.split("\n", 2)
    text = "\n".join([text[0], "", "Runs (combined with `--combine`): " + "; ".join(cmds) + ".", "", text[2]])
    if args.notes:
        text += "\n\n" + Path(args.notes).read_text()
    pngs = frontier_pngs(runs, args.name)
    if pngs:
        text += "\n\nCharts: " + ", ".join(f"[{p.stem}]({p.name})" for p in pngs) + " (the CLI writes the same as plotly HTML).\n"
    write_result(args.name, dict(runs=runs, parts=args.combine, reference_restock_seconds=ref), text)


def frontier_pngs(runs, name) -> list:
    """A small static chart per frontier (fill rate vs average inventory value) for the results folder."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    out = []
    for r in runs:
        if "frontier" not in r:
            continue
        f = pd.DataFrame(r["frontier"])
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for fam, g in f.groupby("family", sort=False):
            g = g.sort_values("avg_inventory_value")
            ax.plot(g["avg_inventory_value"], g["fill_rate"] * 100, marker="o", label=fam)
            for x, y, t in zip(g["avg_inventory_value"], g["fill_rate"] * 100, g["setting"]):
                ax.annotate(str(t), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel("average inventory value (at cost)")
        ax.set_ylabel("fill rate, %")
        ax.set_title(f"{r['label']}: fill rate vs inventory (up and left is better)", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = RESULTS / f"{name}_frontier_{r['label'].split(' (')[0].replace(' ', '_')}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        out.append(path)
    return out


def markdown(runs, args, ref) -> str:
    run = f"Run: `nice -n 10 python {' '.join(sys.argv)}`." if args is not None else ""
    lines = ["# `workbench backtest`: workbench vs rule of thumb on real and generated demand", "",
             f"{run} Set-up: module docstring of `benchmarks/backtest.py`.", ""]
    for r in runs:
        lines += [f"## {r['label']}: {r['skus']} SKUs, {r['weeks']} weeks from {r['start']} ({r['seconds']:.0f} s wall, "
                  f"{r['cpu_seconds']:.0f} s CPU" + (f", load average {r['load_average'][0]:.0f} → {r['load_average'][1]:.0f} on 2 cores"
                  if r.get("load_average") else "") + f"; forecast refreshed every {r['forecast_every']} week(s))", "",
                  _fmt(__import__("pandas").DataFrame(r["summary"])), "",
                  f"Workbench / rule: total cost {r['cost_ratio']:.3f}, inventory {r['inventory_ratio']:.3f}, freight "
                  f"{r['freight_ratio']:.3f}; fill {r['fill_workbench']:.2%} vs {r['fill_rule']:.2%}. Target (cost ≤ 0.90× "
                  f"at fill ≥ the rule's): **{'met' if r['met'] else 'not met'}**."
                  + (f" With freight charged on arrival instead of on the units sold: cost "
                     f"{r['cost_ratio_freight_paid']:.3f}." if "cost_ratio_freight_paid" in r else ""), ""]
        if "frontier" in r:
            lines += [f"Frontier: workbench above the rule's: **{'yes' if r['frontier_above'] else 'no'}** "
                      f"({r['frontier_sentence']}).", "",
                      "| family | setting | fill rate | avg inventory | freight | total cost |", "| --- | --- | --- | --- | --- | --- |"]
            lines += [f"| {f['family']} | {f['setting']} | {f['fill_rate']:.2%} | {f['avg_inventory_value']:,.0f} | "
                      f"{f['freight_cost']:,.0f} | {f['total_cost']:,.0f} |" for f in r["frontier"]]
            lines.append("")
    gen = [r for r in runs if r["label"].startswith("generated") and "frontier" not in r]  # a sweep's time is not one replay
    if gen:
        first = gen[0]
        lines += [f"Speed: {first['skus']} SKUs × {first['weeks']} weeks, both policies, forecast refreshed every "
                  f"{first['forecast_every']} week(s): {first['cpu_seconds']:.0f} s of CPU in one process ({first['seconds']:.0f} s "
                  f"wall on the shared, loaded machine); target ≤ 300 s: **{'met' if first['cpu_seconds'] <= 300 else 'not met'}** "
                  f"(judged on CPU time: the replay runs in one process with n_jobs=1, so CPU time is the wall time on a free "
                  f"core). Time in the policies (wall): {first['decide_seconds']}. Reference in the same process: one "
                  f"restock call with the full forecast engine on the same data took {ref:.1f} s wall, so the replay cost "
                  f"{first['seconds'] / ref:.1f} reference calls." if ref else ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Pricing and ads in closed loop (issue 14, item 4): workbench vs the playbook as written vs hold.

    nice -n 10 .venv/bin/python benchmarks/closed_loop.py --seed 202 [--skus 80] [--weeks 26]
    .venv/bin/python benchmarks/closed_loop.py --combine 202 303 404 --dev 101

A run generates ``--skus`` SKUs (``GeneratorConfig(years = 1 + weeks, end_date 2026-12-27,
ads_days = all)``: one year of history, then the replayed weeks, July → December with Prime Day,
Black Friday and the Christmas run-up), builds the market of :mod:`workbench.backtest.market` and
replays the arms of :mod:`workbench.backtest.closed_loop` (workbench, playbook, hold) with a progress
bar. It writes ``benchmarks/.cache/closed_loop_<seed>.json`` (summary, timings) and the weekly
decisions as CSV beside it; ``--combine`` turns those into ``results/closed_loop.md`` / ``.json``.

Target (issue 14): workbench profit ≥ the playbook-as-written's on every seed, with fewer stockout
days. Seeds are named in the result: the development seed(s) (looked at while building and
tuning) apart from the fresh ones.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import CACHE, peak_rss_mb, write_result

from workbench.backtest import closed_loop as CL
from workbench.backtest import market as M
from workbench.data.generate import GeneratorConfig

END_DATE = "2026-12-27"
COLS = ["arm", "profit", "revenue", "ad_spend", "freight", "carrying", "fill_rate", "stockout_days",
        "lost_units", "acos", "price_index", "avg_inventory_value"]


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_seed(seed: int, skus: int, weeks: int, forecast_every: int, elasticity_every: int) -> dict:
    cfg = GeneratorConfig(n_skus=skus, years=1 + 7 * weeks / 365, seed=seed, ads_days=2000, end_date=END_DATE)
    t0, c0, load0 = time.perf_counter(), cpu_seconds(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        m = M.build_market(cfg, weeks, Path(tmp) / "data")
        res = CL.run_closed_loop(m, CL.default_arms(forecast_every, elasticity_every))
    out = dict(seed=seed, skus_generated=skus, skus_replayed=m.n, campaigns=len(m.camp), weeks=weeks,
               start=str(m.start.date()), end=str(m.days[-1].date()), forecast_every=forecast_every,
               elasticity_every=elasticity_every, summary=res["summary"].to_dict(orient="records"),
               wall_seconds=round(time.perf_counter() - t0, 1), cpu_seconds=round(cpu_seconds() - c0, 1),
               load_avg_start=round(load0, 1), load_avg_end=round(os.getloadavg()[0], 1), peak_rss_mb=peak_rss_mb())
    CACHE.mkdir(exist_ok=True)
    (CACHE / f"closed_loop_{seed}.json").write_text(json.dumps(out, indent=2, default=str))
    res["decisions"].to_csv(CACHE / f"closed_loop_{seed}_decisions.csv", index=False)
    res["orders"].to_csv(CACHE / f"closed_loop_{seed}_orders.csv", index=False)
    return out


def seed_table(r: dict) -> str:
    s = pd.DataFrame(r["summary"])[COLS]
    head = "| arm | profit USD | revenue USD | ad spend USD | freight USD | carrying USD | fill rate | stockout SKU-days | lost units | ACoS | price index | avg inventory USD |"
    rows = [head, "|" + " --- |" * len(COLS)]
    for x in s.itertuples(index=False):
        rows.append(f"| {x.arm} | {x.profit:,.0f} | {x.revenue:,.0f} | {x.ad_spend:,.0f} | {x.freight:,.0f} | "
                    f"{x.carrying:,.0f} | {x.fill_rate:.2%} | {x.stockout_days:,} | {x.lost_units:,.0f} | "
                    f"{x.acos:.1%} | {x.price_index:.3f} | {x.avg_inventory_value:,.0f} |")
    return "\n".join(rows)


def verdict(r: dict) -> dict:
    s = pd.DataFrame(r["summary"]).set_index("arm")
    w, p, h = s.loc["workbench"], s.loc["playbook"], s.loc["hold"]
    return dict(seed=r["seed"], profit_vs_playbook=float(w["profit"] / p["profit"]),
                profit_vs_hold=float(w["profit"] / h["profit"]),
                stockout_days_vs_playbook=int(w["stockout_days"] - p["stockout_days"]),
                met=bool(w["profit"] >= p["profit"] and w["stockout_days"] < p["stockout_days"]))


def combine(seeds: list[int], dev: list[int], notes: str | None, remark: str | None = None) -> None:
    missing = [s for s in seeds if not (CACHE / f"closed_loop_{s}.json").exists()]
    seeds = [s for s in seeds if s not in missing]
    runs = {s: json.loads((CACHE / f"closed_loop_{s}.json").read_text()) for s in dev + seeds}
    v = [verdict(runs[s]) for s in seeds]
    met = bool(v) and not missing and all(x["met"] for x in v)
    r0 = runs[(seeds or dev)[0]]
    lines = [
        "# Pricing and ads in closed loop (issue 14, item 4)",
        f"Generated catalogs of {r0['skus_generated']} SKUs (one year of history, then {r0['weeks']} replayed "
        f"weeks {r0['start']} → {r0['end']}); each arm decides every Monday from what it may see; the world "
        "answers with the generator's true elasticity, true ad response curves and the rank penalty after a "
        "stockout (`workbench/backtest/market.py`, docs/backtest.md § Closed loop). Command per seed: "
        f"`nice -n 10 .venv/bin/python benchmarks/closed_loop.py --seed S --skus {r0['skus_generated']} "
        f"--weeks {r0['weeks']}`; forecast refreshed every {r0['forecast_every']} weeks, elasticity every "
        f"{r0['elasticity_every']}.",
        "Arms: **workbench** = the pipeline's RestockPolicy + PricingPolicy + AdBudgetPolicy at their defaults; "
        "**playbook** = the playbook as written (domain-rules.md §2 with fixed percentages: +7.5 % in a medium "
        "gap, budgets −35 % and poor auto/broad paused before a stockout, SB/SD paused during it, −25 % / −10 % "
        "and budgets ×1.5 / ×1.25 for two weeks after a restock) with the playbook's restock rule (§1, "
        "14 days of safety stock, air when cover ≤ 20 d); **hold** = start prices and budgets with the "
        "workbench's restock (workbench − hold is what the pricing and ads policies add at the same restock).",
        f"## Target: workbench profit ≥ playbook's on every seed, with fewer stockout days — "
        + ("MET" if met else "NOT MET" if v and not all(x["met"] for x in v) else "NOT SHOWN")
        + f" on the fresh seeds {', '.join(map(str, seeds)) or '(none finished)'}"
        + (f"; seeds {', '.join(map(str, missing))} did not finish before the deadline (load average ≈ 40 on 2 cores; rerun with the command above)" if missing else ""),
        "\n".join(["| seed | workbench profit / playbook | workbench profit / hold | stockout days, workbench − playbook | met |",
                   "| --- | --- | --- | --- | --- |",
                   *[f"| {x['seed']} | {x['profit_vs_playbook']:.3f} | {x['profit_vs_hold']:.3f} | "
                     f"{x['stockout_days_vs_playbook']:+d} | {'yes' if x['met'] else 'no'} |"
                     for x in v + [verdict(runs[d]) | {"seed": f"{d} (development)"} for d in dev]]]),
    ]
    if remark:
        lines.append(remark)
    for s in seeds + dev:
        r = runs[s]
        tag = "development seed (looked at while building; not evidence)" if s in dev else "fresh seed"
        cpu = "not recorded" if r["cpu_seconds"] != r["cpu_seconds"] else f"{r['cpu_seconds']:.0f} s"
        rss = "not recorded" if r["peak_rss_mb"] != r["peak_rss_mb"] else f"{r['peak_rss_mb']:.0f} MB"
        lines += [f"### Seed {s} — {tag}",
                  f"{r['skus_replayed']} SKUs replayed ({r['skus_generated']} generated; SKUs launched after the "
                  f"start are left out), {r['campaigns']} campaigns; forecast every {r['forecast_every']} weeks. "
                  f"Wall {r['wall_seconds']:.0f} s, CPU {cpu}, load average {r['load_avg_start']} → "
                  f"{r['load_avg_end']} (2 shared cores), peak RSS {rss}." + (f" ({r['note']})" if r.get("note") else ""),
                  seed_table(r)]
    if notes:
        lines.append(Path(notes).read_text())
    write_result("closed_loop", dict(seeds=seeds, unfinished_seeds=missing, dev_seeds=dev, verdicts=v, target_met=met,
                                     runs=runs),
                 "\n\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int)
    ap.add_argument("--skus", type=int, default=80)
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--forecast-every", type=int, default=2)
    ap.add_argument("--elasticity-every", type=int, default=4)
    ap.add_argument("--combine", type=int, nargs="*")
    ap.add_argument("--dev", type=int, nargs="*", default=[])
    ap.add_argument("--notes")
    ap.add_argument("--remark", help="a sentence under the verdict table")
    a = ap.parse_args(argv)
    if a.combine:
        combine(a.combine, a.dev, a.notes, a.remark)
        return 0
    r = run_seed(a.seed, a.skus, a.weeks, a.forecast_every, a.elasticity_every)
    print(seed_table(r))
    print(verdict(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

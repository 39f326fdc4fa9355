"""What-if speed: 5 scenarios replayed week by week with the restock policy deciding (issue 14, one engine).

    .venv/bin/python benchmarks/whatif_speed.py [--skus 200] [--paths 10] [--weeks 17] [--seed 3]

Data: ``write_sample_dataset(GeneratorConfig(n_skus=N, years=2, seed=3))`` into benchmarks/.cache
(generation not timed). Timed, as `workbench what-if` runs it: load, the one forecast
(``Pipeline.forecast``: backtest, model choice, intervals), then five scenarios (baseline, Q4 demand
+60%, sea +15 d, price −10%, ad budget +50%), each replayed over ``--weeks`` weeks for the median path
and ``--paths`` drawn ones (one copy of the catalog per path, one policy call per week), then the
atomic writes. Wall time and CPU time (user + sys of this process and its children) per stage, and
the load average, because the machine is shared.

References measured in the same process: one weekly restock decision on the real dataset
(``build_snapshot`` + ``RestockPolicy.recommend``, what the weekly run does once), and the baseline
scenario with 1 path (so the ratio shows how the replay scales with paths). No assertion: a record.
The pre-refactor engine (plain order-up-to after day 0, 1,000 paths, numpy) took 38 s for the five
scenarios at 500 SKUs (benchmarks/results/whatif_speed.md before issue 14).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CACHE, peak_rss_mb, write_result  # noqa: E402

import pandas as pd  # noqa: E402

from workbench.data import load_dataset  # noqa: E402
from workbench.data.generate import GeneratorConfig, write_sample_dataset  # noqa: E402
from workbench.scenarios import Scenario, prepare, run_scenario  # noqa: E402
from workbench.scenarios.run import WhatIfRun, compare, write_run  # noqa: E402
from workbench.stock import build_snapshot  # noqa: E402

SCENARIOS = [
    Scenario("baseline", title="Baseline"),
    Scenario("q4-demand-60", title="Q4 demand +60%", demand_multiplier=1.6,
             demand_start=pd.Timestamp("2026-11-24"), demand_end=pd.Timestamp("2026-12-31")),
    Scenario("sea-late-15", title="Sea +15 days", extra_lead_days=15, lead_modes=("sea",)),
    Scenario("price-minus-10", title="Price -10%", price_change=-0.10),
    Scenario("ads-plus-50", title="Ad budget +50%", ad_budget_change=0.5),
]


def cpu() -> float:
    """User + sys seconds of this process and its finished children."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class Clock:
    def __init__(self):
        self.rows: dict[str, tuple[float, float]] = {}

    def __call__(self, label: str, fn, *a, **kw):
        w0, c0 = time.perf_counter(), cpu()
        out = fn(*a, **kw)
        self.rows[label] = (time.perf_counter() - w0, cpu() - c0)
        print(f"{label}: wall {self.rows[label][0]:.1f} s, cpu {self.rows[label][1]:.1f} s", flush=True)
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=200)
    ap.add_argument("--paths", type=int, default=10)
    ap.add_argument("--weeks", type=int, default=17)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()

    data = CACHE / f"whatif_{args.skus}_{args.seed}"
    if not (data / "products.csv").exists():
        write_sample_dataset(data, GeneratorConfig(n_skus=args.skus, years=2, seed=args.seed), include_truth=False)
    load0 = os.getloadavg()
    clock = Clock()
    ds = clock("load", load_dataset, data)
    as_of = pd.Timestamp(ds["sales"]["date"].max()) + pd.Timedelta(days=1)
    base = clock("forecast (once)", prepare, ds, as_of, horizon_days=7 * args.weeks)
    results = [clock(f"scenario {sc.name}", run_scenario, base, sc, n_paths=args.paths, seed=0) for sc in SCENARIOS]
    run = WhatIfRun(comparison=compare(results, 7 * base.weeks), results={r.scenario.name: r for r in results},
                    scenario_set="bench", as_of=base.as_of)
    with tempfile.TemporaryDirectory() as out:
        clock("write", write_run, run, out)
    stages = dict(clock.rows)
    wall = sum(w for w, _ in stages.values())
    cpu_total = sum(c for _, c in stages.values())
    scen_wall = sum(w for k, (w, _) in stages.items() if k.startswith("scenario"))
    scen_cpu = sum(c for k, (_, c) in stages.items() if k.startswith("scenario"))

    ref = Clock()
    snap = ref("one weekly decision", lambda: base.policy.recommend(
        build_snapshot(ds, base.as_of, forecast=base.forecast, lead_times=base.lead_times)))
    ref("baseline, 1 path", run_scenario, base, SCENARIOS[0], n_paths=1, seed=0)
    del snap
    load1 = os.getloadavg()
    # ratios on CPU time: wall time on the shared machine depends on the other jobs, not on this code
    w_dec, w_one = ref.rows["one weekly decision"][1], ref.rows["baseline, 1 path"][1]
    b = stages["scenario baseline"][1]

    c = run.comparison
    rows = "\n".join(f"| {k} | {w:.1f} | {cc:.1f} |" for k, (w, cc) in stages.items())
    comp = "\n".join(f"| {r.title} | {r.stockout_days:,.0f} | {r.lost_units:,.0f} | {r.service_level:.1%} | "
                     f"{r.cash_tied_up_usd:,.0f} | {r.order_units_air:,.0f} | {r.air_bridge_units:,.0f} | "
                     f"{r.prebuild_units:,.0f} | {r.freight_usd:,.0f} |" for r in c.itertuples())
    copies = args.paths + 1
    md = f"""# What-if speed benchmark (weekly replay, the restock policy deciding)

Run: `python benchmarks/whatif_speed.py --skus {args.skus} --paths {args.paths} --weeks {args.weeks} --seed {args.seed}`.
Data: `write_sample_dataset(GeneratorConfig(n_skus={args.skus}, years=2, seed={args.seed}))` (not timed), as-of
{as_of.date()}, {base.weeks} simulated weeks; each scenario replays {copies} copies of the catalog (the median
path and {args.paths} drawn ones) = {copies * args.skus:,} SKUs, one policy decision per week.
Load average (1/5/15 min) at the start {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f}, at the end
{load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f} on {os.cpu_count()} cores: the machine is shared, so wall time is
inflated; CPU time (user + sys, children included) is the steadier number.

| stage | wall s | CPU s |
| --- | ---: | ---: |
{rows}
| **total** | **{wall:.1f}** | **{cpu_total:.1f}** |

The five scenarios took {scen_wall:.1f} s wall, {scen_cpu:.1f} s CPU ({scen_cpu / len(SCENARIOS):.1f} s CPU each).

References measured in the same run (CPU seconds; ratios on CPU time):
- one weekly restock decision on the real catalog ({args.skus} SKUs, `build_snapshot` + `recommend`, 1,000-path
  stockout Monte Carlo): {w_dec:.2f} s → a {base.weeks}-week scenario with {args.paths} paths costs {b / w_dec:.0f}× one
  decision ({base.weeks} decisions on {copies}× the SKUs, with the 200-path Monte Carlo);
- the baseline scenario with 1 path (2 copies): {w_one:.1f} s → {args.paths} paths cost {b / w_one:.1f}× that
  ({copies / 2:.1f}× the copies).

Peak memory: {peak_rss_mb():,.0f} MB.

| scenario | stockout SKU-days | lost units | service level | peak cash USD | air units | air bridge units | pre-build units | freight USD |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{comp}
"""
    write_result("whatif_speed", {"stages_wall_cpu_s": stages, "total_wall_s": wall, "total_cpu_s": cpu_total,
                                  "reference_s": {k: v for k, v in ref.rows.items()}, "loadavg_start": load0,
                                  "loadavg_end": load1, "skus": args.skus, "paths": args.paths, "weeks": base.weeks}, md)


if __name__ == "__main__":
    main()

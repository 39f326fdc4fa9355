"""What-if speed: a 5-scenario comparison for 500 SKUs with 1,000 Monte Carlo paths each (issue 9: < 2 min).

    .venv/bin/python benchmarks/whatif_speed.py [--skus 500] [--paths 1000] [--seed 3]

Data: ``write_sample_dataset(GeneratorConfig(n_skus=500, years=2, seed=3))`` into benchmarks/.cache
(generation not timed). Timed, as `workbench what-if` runs it: load, the one forecast
(``Pipeline.forecast``: backtest, model choice, intervals), then five scenarios (baseline,
Q4 demand +60%, sea +15 d, price −10%, ad budget +50%) each planned with the restock policy and
simulated (SKUs × paths × days), then the atomic writes. Reference in the same process: the baseline
scenario with 100 paths (so the ratio shows how the Monte Carlo scales with paths) and the policy's
``recommend()`` alone. Writes benchmarks/results/whatif_speed.md (+ .json). No assertion: a record.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CACHE, peak_rss_mb, write_result  # noqa: E402

import pandas as pd  # noqa: E402

from workbench.data import load_dataset  # noqa: E402
from workbench.stock import build_snapshot  # noqa: E402
from workbench.data.generate import GeneratorConfig, write_sample_dataset  # noqa: E402
from workbench.scenarios import Scenario, prepare, run_scenario  # noqa: E402
from workbench.scenarios.run import compare, write_run, WhatIfRun  # noqa: E402

SCENARIOS = [
    Scenario("baseline", title="Baseline"),
    Scenario("q4-demand-60", title="Q4 demand +60%", demand_multiplier=1.6,
             demand_start=pd.Timestamp("2026-11-24"), demand_end=pd.Timestamp("2026-12-31")),
    Scenario("sea-late-15", title="Sea +15 days", extra_lead_days=15, lead_modes=("sea",)),
    Scenario("price-minus-10", title="Price -10%", price_change=-0.10),
    Scenario("ads-plus-50", title="Ad budget +50%", ad_budget_change=0.5),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=500)
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()

    data = CACHE / f"whatif_{args.skus}_{args.seed}"
    if not (data / "products.csv").exists():
        write_sample_dataset(data, GeneratorConfig(n_skus=args.skus, years=2, seed=args.seed), include_truth=False)
    t = {}
    t0 = time.perf_counter()
    ds = load_dataset(data)
    as_of = pd.Timestamp(ds["sales"]["date"].max()) + pd.Timedelta(days=1)
    t["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = prepare(ds, as_of)
    t["forecast (once)"] = time.perf_counter() - t0
    results = []
    for sc in SCENARIOS:
        t0 = time.perf_counter()
        results.append(run_scenario(base, sc, n_paths=args.paths, seed=0))
        t[f"scenario {sc.name}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = WhatIfRun(comparison=compare(results, base.quantiles.shape[1]), results={r.scenario.name: r for r in results},
                    scenario_set="bench", as_of=base.as_of)
    with tempfile.TemporaryDirectory() as out:
        write_run(run, out)
    t["write"] = time.perf_counter() - t0
    total = sum(t.values())
    scen_total = sum(v for k, v in t.items() if k.startswith("scenario"))

    # references, same process, same data
    t0 = time.perf_counter()
    run_scenario(base, SCENARIOS[0], n_paths=max(args.paths // 10, 1), seed=0)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    base.policy.recommend(build_snapshot(ds, base.as_of, forecast=base.forecast, lead_times=base.lead_times))
    t_rec = time.perf_counter() - t0

    c = run.comparison
    rows = "\n".join(f"| {k} | {v:.2f} |" for k, v in t.items())
    comp = "\n".join(f"| {r.title} | {r.stockout_days:,.0f} | {r.lost_units:,.0f} | {r.service_level:.1%} | "
                     f"{r.cash_tied_up_usd:,.0f} | {r.freight_usd:,.0f} |" for r in c.itertuples())
    cells = args.skus * args.paths * base.quantiles.shape[1]
    md = f"""# What-if speed benchmark

Run: `python benchmarks/whatif_speed.py --skus {args.skus} --paths {args.paths} --seed {args.seed}`.
Data: `write_sample_dataset(GeneratorConfig(n_skus={args.skus}, years=2, seed={args.seed}))` (not timed), as-of {as_of.date()},
horizon {base.quantiles.shape[1]} days: {cells / 1e6:.0f} M SKU × path × day cells per scenario.

| stage | seconds |
| --- | ---: |
{rows}
| **total** | **{total:.2f}** |

Budget (issue 9): 5 scenarios × {args.skus} SKUs × {args.paths} paths in under 120 s → used {total / 120:.0%} of it
(forecast {t['forecast (once)']:.1f} s, the five scenarios {scen_total:.1f} s).

References measured in the same run:
- baseline scenario with {max(args.paths // 10, 1)} paths: {t_ref:.2f} s → one {args.paths}-path scenario costs
  {t['scenario baseline'] / t_ref:.1f}× that ({args.paths // max(args.paths // 10, 1)}× the paths);
- `RestockPolicy.recommend()` alone (the plan each scenario makes, its own stockout Monte Carlo included):
  {t_rec:.2f} s → a whole scenario is {t['scenario baseline'] / t_rec:.1f}× one plan.

Peak memory: {peak_rss_mb():,.0f} MB.

| scenario | stockout SKU-days | lost units | service level | peak cash USD | freight USD |
| --- | ---: | ---: | ---: | ---: | ---: |
{comp}
"""
    write_result("whatif_speed", {"timings_s": t, "total_s": total, "reference_s": {"baseline_tenth_paths": t_ref,
                                                                                   "recommend": t_rec},
                                  "skus": args.skus, "paths": args.paths}, md)


if __name__ == "__main__":
    main()

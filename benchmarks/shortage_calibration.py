"""Is the restock model's shortage estimate right? Its prediction against the replay, SKU-week by SKU-week.

Replays the workbench on a generated seed as `benchmarks/backtest.py` does (100 SKUs, 2.5 years, 52 weeks from
2025-09-01, fast engine, forecast every 4 weeks), records its restock frame every week, and sets each row
against the demand that followed:

- predicted: the Hadley–Whitin shortage over the review period after the order lands, σ(L+R)·G(k) −
  σ(L)·G(k_L), k = (position after ordering − D(L+R)) / σ(L+R), k_L likewise over L (units);
- realized: the same in backorder terms from the dataset's demand, (D(L+R) − position)⁺ − (D(L) − position)⁺,
  and the units the replay lost in those R days;
- where the order-up-to stands: the service level's safety factor z, the order-up-to's k (z plus the stock
  standard and the peak pre-build) and the position's k after ordering (plus MOQ and case rounding).

Run: `nice -n 10 .venv/bin/python benchmarks/shortage_calibration.py --seed 9` (about 1 CPU-minute).
Writes results/shortage_calibration_seed<S>.md/.json.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from _common import write_result

from workbench.backtest import Options, adapters
from workbench.backtest.replay import replay
from workbench.backtest.run import make_setup, workbench_decider
from workbench.data import load_dataset

START = "2025-09-01"
R = 7


def record(seed: int, skus: int, weeks: int):
    """The replay's restock frames (one per week, ``week`` added) and the replay's arrays."""
    data = Path(tempfile.mkdtemp(prefix="wb-shortage-")) / f"gen-{seed}"
    subprocess.run([sys.executable, "-m", "workbench", "sample-data", "--out", str(data), "--skus", str(skus),
                    "--years", "2.5", "--seed", str(seed), "--no-truth"], check=True, stdout=subprocess.DEVNULL)
    opts = Options(fast_forecast=True, forecast_every=4, progress=False)
    setup = make_setup(load_dataset(data), pd.Timestamp(START), weeks, opts)
    frames, orders_of = [], adapters.orders_from_restock

    def stash(out):
        frames.append(out.assign(week=len(frames)))
        return orders_of(out)

    adapters.orders_from_restock = stash
    try:
        res = replay(setup, "workbench", workbench_decider(opts))
    finally:
        adapters.orders_from_restock = orders_of
    return pd.concat(frames, ignore_index=True), setup, res


def compare(fr: pd.DataFrame, setup, res) -> pd.DataFrame:
    """One row per SKU-week whose lead time and review period end inside the replay."""
    def G(z):
        return stats.norm.pdf(z) - z * stats.norm.sf(z)

    pos, dem, D = pd.Index(setup.skus), setup.demand, setup.demand.shape[1]
    rows = []
    for r in fr.itertuples(index=False):
        i, t, L = pos.get_loc(r.sku), 7 * r.week, int(round(r.lead_time_days))
        s = r.demand_std_lr
        if t + L + R > D or not s > 0:
            continue
        ip = r.inventory_position + r.recommended_qty
        sd_l = r.safety_stock / r.safety_factor_z if r.safety_factor_z > 0 and r.safety_stock > 0 else np.nan
        k = (ip - r.review_demand) / s
        tail_l = sd_l * G((ip - r.lead_time_demand) / sd_l) if np.isfinite(sd_l) else 0.0
        d_l, d_lr = dem[i, t:t + L].sum(), dem[i, t:t + L + R].sum()
        rows.append(dict(sku=r.sku, week=r.week, key=bool(r.key_item), weekly=r.order_cycle_days <= R + 1,
                         z=r.safety_factor_z, k_order_up_to=(r.order_up_to - r.review_demand) / s, k_position=k,
                         standard_sets=r.stock_standard > r.review_demand + r.safety_factor_z * s + 1,
                         error=(d_lr - r.review_demand) / s, predicted=s * G(k) - tail_l,
                         short=max(d_lr - ip, 0) - max(d_l - ip, 0), lost=res.lost[i, t + L:t + L + R].sum(),
                         demand=dem[i, t + L:t + L + R].sum()))
    return pd.DataFrame(rows)


def table(x: pd.DataFrame) -> pd.DataFrame:
    groups = {"all": x, "key items": x[x.key], "regular items": x[~x.key], "key, ordered weekly": x[x.key & x.weekly],
              "regular, ordered weekly": x[~x.key & x.weekly]}
    return pd.DataFrame([dict(group=name, sku_weeks=len(g), predicted_short=g.predicted.sum(), short=g.short.sum(),
                              lost=g.lost.sum(), demand=g.demand.sum(), error_mean=g.error.mean(),
                              error_rms=float(np.sqrt((g.error ** 2).mean())), z=g.z.mean(),
                              k_order_up_to=g.k_order_up_to.mean(), k_position=g.k_position.mean(),
                              standard_sets=g.standard_sets.mean()) for name, g in groups.items()])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--skus", type=int, default=100)
    ap.add_argument("--weeks", type=int, default=52)
    a = ap.parse_args(argv)
    fr, setup, res = record(a.seed, a.skus, a.weeks)
    t = table(compare(fr, setup, res))
    fmt = t.copy()
    for c in ("predicted_short", "short", "lost", "demand"):
        fmt[c] = fmt[c].map("{:,.0f}".format)
    for c in ("error_mean", "error_rms", "z", "k_order_up_to", "k_position"):
        fmt[c] = fmt[c].map("{:+.2f}".format)
    fmt["standard_sets"] = fmt["standard_sets"].map("{:.0%}".format)
    text = "\n".join([
        f"# Shortage model vs the replay, generated seed {a.seed}", "",
        f"Run: `nice -n 10 .venv/bin/python benchmarks/shortage_calibration.py --seed {a.seed}`; set-up in the script's "
        f"docstring ({len(setup.skus)} SKUs replayed, {a.weeks} weeks). Units over the replay: `predicted_short` the "
        "model's expected shortage over the review period after each order lands, `short` the same from the demand that "
        "followed (backorder terms), `lost` what the replay lost in those days; `error` (D(L+R) − forecast) / σ; `z` the "
        "service level's safety factor, `k_order_up_to` and `k_position` the order-up-to and the position after ordering "
        "in σ above the forecast; `standard_sets` the share of SKU-weeks whose order-up-to the stock standard raised.", "",
        "| " + " | ".join(fmt.columns) + " |", "|" + " --- |" * len(fmt.columns),
        *["| " + " | ".join(map(str, r)) + " |" for r in fmt.itertuples(index=False)]])
    write_result(f"shortage_calibration_seed{a.seed}", dict(seed=a.seed, rows=t.to_dict("records")), text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Policy backtest: replay a year week by week with the workbench policy and with the rule of thumb.

    .venv/bin/python benchmarks/restock_backtest.py [--skus 150] [--weeks 52] [--out benchmarks/results/restock_backtest.md]

Set-up (same for every policy, paired by common random numbers):

- data: ``generate_dataset(GeneratorConfig(n_skus, years=2.5, seed))``; the replay starts on the
  Sunday inventory snapshot 2025-08-31 and runs ``weeks`` weeks (so it covers the pre-peak build,
  Black Friday / Christmas, Chinese New Year and Prime Day). SKUs launched after the start − 60 d are
  left out (their launch stock is scripted by the generator).
- demand: the generator's true, uncensored daily demand (channels summed). It does not react to the
  replayed policy's stockouts (the generator's rank penalty came from its own history).
- each Sunday ``as_of``: the policy sees history up to as_of — real sales and shipments before the
  replay, then the replay's own sales (censored by its stock, with ``in_stock``), orders and stock —
  and a forecast from :func:`restock_helpers.seasonal_naive_forecast` built on that history. Orders
  are placed on as_of.
- lead times: each order's lead time is drawn from the generator's real shipments of the same
  supplier × mode ordered within ±1 month of the same calendar month (so the Chinese New Year and
  peak delays are in), by a uniform that depends only on (SKU, week, mode): both policies get the
  same lead time for the same order slot.
- workbench: ``RestockPolicy()`` defaults; ships ``air_qty`` by air, the rest by the SKU's usual mode.
- rule of thumb (domain-rules.md §1): the same call's ``rot_qty`` (ADS blend × lead time + 14 d
  − available − in transit, rounded to MOQ / case packs); by air when its cover ≤ 20 d and the
  usual mode is sea or rail (the playbook's yellow band), else the usual mode.
- freight per unit = the generator's rates × unit cost (sea 6%, air 30%, rail 12%, truck 4%, express 45%).
- total cost = lost margin + freight + carrying cost (25% a year of the average inventory value).

Metrics over the replay: fill rate (units sold / demand), stockout SKU-days (days with unmet demand),
lost units and lost revenue, average on-hand inventory value at unit cost, freight spent, orders.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restock_helpers import seasonal_naive_forecast  # noqa: E402
from workbench.data.generate import GeneratorConfig, generate_dataset  # noqa: E402
from workbench.policies.restock import RestockPolicy  # noqa: E402
from workbench.stock import build_snapshot  # noqa: E402

MODES = ("sea", "air", "rail", "truck", "express")
FREIGHT_SHARE = {"sea": 0.06, "air": 0.30, "rail": 0.12, "truck": 0.04, "express": 0.45}
CARRYING_RATE = 0.25  # yearly cost of holding inventory, share of its value (capital, storage, risk)
START = pd.Timestamp("2025-08-31")  # a Sunday snapshot of the generator (end 2026-11-22 minus 64 weeks)


class LeadTimeSampler:
    """Empirical lead times per supplier × mode × order month (±1 month), sampled by a given uniform."""

    def __init__(self, shipments: pd.DataFrame, truth_shipments: pd.DataFrame):
        s = shipments.merge(truth_shipments, on="shipment_id")
        s["month"] = s["order_date"].dt.month
        self.by_key: dict = {}
        for (sup, mode), g in s.groupby(["supplier", "mode"]):
            for m in range(1, 13):
                near = g[g["month"].isin([(m - 2) % 12 + 1, m, m % 12 + 1])]["lead_time_days"].to_numpy()
                self.by_key[(sup, mode, m)] = np.sort(near if len(near) >= 5 else g["lead_time_days"].to_numpy())
        self.by_mode = {m: np.sort(g["lead_time_days"].to_numpy()) for m, g in s.groupby("mode")}

    def draw(self, supplier: str, mode: str, month: int, u: float) -> int:
        pool = self.by_key.get((supplier, mode, month))
        if pool is None or len(pool) == 0:
            pool = self.by_mode.get(mode)
        if pool is None or len(pool) == 0:
            pool = np.array({"air": [12], "express": [6], "rail": [30], "truck": [8]}.get(mode, [45]))
        return int(pool[min(int(u * len(pool)), len(pool) - 1)])


def uniform(seed: int, sku_idx: int, week: int, mode: str) -> float:
    return float(np.random.default_rng([seed, sku_idx, week, MODES.index(mode)]).random())


def replay(name, decide, tables, truth, skus, weeks, seed, sampler, log_every=13, params=None, trace=None,
           forecaster=None):
    """Run one policy; ``decide(out) -> list of (sku_idx, mode, qty)``. Returns metrics and a daily log."""
    prod = tables["products"].set_index("sku").loc[skus].reset_index()
    n = len(skus)
    sku_pos = {s: i for i, s in enumerate(skus)}
    days = pd.date_range(START + pd.Timedelta(days=1), periods=7 * weeks, freq="D")
    D = len(days)
    dem = truth["demand"]
    dem = dem[(dem["date"] >= days[0]) & (dem["date"] <= days[-1])]
    demand = np.zeros((n, D))
    ii = pd.Index(skus).get_indexer(dem["sku"].astype(str))
    ok = ii >= 0
    np.add.at(demand, (ii[ok], (dem["date"] - days[0]).dt.days.to_numpy()[ok]), dem["demand"].to_numpy(float)[ok])

    # Starting state: the generator's stock on START and its shipments still on the water.
    inv = tables["inventory"]
    snap = inv[inv["as_of"] == START].groupby("sku")["on_hand"].sum().reindex(skus).fillna(0).to_numpy(float)
    ships = tables["shipments"].merge(truth["shipments"][["shipment_id", "true_received_date"]], on="shipment_id")
    ships = ships[ships["sku"].isin(set(skus))]
    hist_ships = ships[ships["order_date"] <= START].copy()
    arrivals = np.zeros((n, D + 400))
    pipe = hist_ships[hist_ships["true_received_date"] > START]
    for r in pipe.itertuples():
        arrivals[sku_pos[r.sku], (r.true_received_date - days[0]).days] += r.qty
    # ETA the supplier would quote: order date + the historical median lead time of the supplier × mode.
    med = hist_ships.dropna(subset=["received_date"]).assign(
        lt=lambda x: (x["received_date"] - x["order_date"]).dt.days).groupby(["supplier", "mode"])["lt"].median()

    sales_hist = tables["sales"]
    sales_hist = sales_hist[(sales_hist["date"] <= START) & sales_hist["sku"].astype(str).isin(set(skus))]
    sales_hist = sales_hist.assign(sku=sales_hist["sku"].astype(str))[["date", "sku", "channel", "units", "revenue", "in_stock"]]
    sales_hist["channel"] = sales_hist["channel"].astype(str)
    events = tables["events"]

    stock = snap.copy()
    sold_m = np.zeros((n, D)); lost_m = np.zeros((n, D)); stock_m = np.zeros((n, D))
    new_ships: list[dict] = []
    sim_sales: list[pd.DataFrame] = []
    snaps = [pd.DataFrame({"as_of": START, "sku": skus, "location": "SIM", "on_hand": snap.astype("int64"),
                           "reserved": np.zeros(n, dtype="int64")})]
    freight = 0.0
    n_orders = 0
    air_units = 0
    t_policy = 0.0
    unit_cost = prod["unit_cost"].to_numpy()
    for w in range(weeks):
        as_of = START + pd.Timedelta(days=7 * w)
        # --- inputs as the seller would see them on as_of
        ship_view = pd.concat([hist_ships, pd.DataFrame(new_ships)] if new_ships else [hist_ships], ignore_index=True)
        arrived = ship_view["true_received_date"] <= as_of
        ship_view["received_date"] = ship_view["true_received_date"].where(arrived)
        ship_view = ship_view.drop(columns="true_received_date")
        sales_view = pd.concat([sales_hist, *sim_sales], ignore_index=True)
        inv_view = pd.concat(snaps, ignore_index=True)
        fc = (forecaster or seasonal_naive_forecast)(sales_view, skus, as_of, 120)
        t0 = time.perf_counter()
        snap = build_snapshot({"products": prod, "inventory": inv_view, "shipments": ship_view, "sales": sales_view,
                               "events": events}, as_of, forecast=fc)
        out = RestockPolicy(**{"n_paths": 300, "seed": seed, **(params or {})}).recommend(snap)
        t_policy += time.perf_counter() - t0
        if trace is not None:
            trace.append(out.assign(week=w))
        for i, mode, qty in decide(out):
            if qty <= 0:
                continue
            u = uniform(seed, i, w, mode)
            lt = sampler.draw(prod["supplier"].iat[i], mode, as_of.month, u)
            arr_day = (as_of - days[0]).days + lt
            if arr_day < D + 400:
                arrivals[i, max(arr_day, 0)] += qty
            eta_lt = med.get((prod["supplier"].iat[i], mode), lt)
            new_ships.append(dict(shipment_id=f"SIM-{name}-{w}-{i}-{mode}", sku=skus[i], supplier=prod["supplier"].iat[i],
                                  mode=mode, qty=int(qty), order_date=as_of, ship_date=pd.NaT,
                                  eta=as_of + pd.Timedelta(days=float(eta_lt)), received_date=pd.NaT,
                                  location="SIM", true_received_date=as_of + pd.Timedelta(days=lt)))
            freight += qty * unit_cost[i] * FREIGHT_SHARE[mode]
            n_orders += 1
            air_units += qty if mode in ("air", "express") else 0
        # --- the week, day by day
        for k in range(7):
            d = 7 * w + k
            stock += arrivals[:, d]
            sold = np.minimum(demand[:, d], stock)
            lost = demand[:, d] - sold
            stock -= sold
            sold_m[:, d], lost_m[:, d], stock_m[:, d] = sold, lost, stock
        wk = slice(7 * w, 7 * w + 7)
        dates = np.repeat(days[wk].to_numpy()[None, :], n, axis=0)
        sim_sales.append(pd.DataFrame({
            "date": dates.ravel(), "sku": np.repeat(np.asarray(skus, dtype=object), 7), "channel": "all",
            "units": sold_m[:, wk].ravel().astype("int64"), "revenue": 0.0, "in_stock": (lost_m[:, wk] == 0).ravel()}))
        snaps.append(pd.DataFrame({"as_of": days[7 * w + 6], "sku": skus, "location": "SIM",
                                   "on_hand": stock.astype("int64"), "reserved": np.zeros(n, dtype="int64")}))
        if log_every and (w + 1) % log_every == 0:
            print(f"  {name}: week {w + 1}/{weeks}, fill so far {sold_m[:, :d + 1].sum() / max(demand[:, :d + 1].sum(), 1):.3f}",
                  flush=True)
    price = prod["price"].to_numpy()
    unit_margin = np.maximum(price * (1 - prod["fee_rate"].to_numpy()) - unit_cost, 0.0)
    avg_inv = float((stock_m * unit_cost[:, None]).sum(0).mean())
    lost_margin = float((lost_m.sum(1) * unit_margin).sum())
    carrying = CARRYING_RATE * avg_inv * weeks / 52
    return dict(
        policy=name,
        fill_rate=sold_m.sum() / demand.sum(),
        stockout_sku_days=int((lost_m > 0).sum()),
        lost_units=int(lost_m.sum()),
        lost_revenue_usd=float((lost_m.sum(1) * price).sum()),
        avg_inventory_value_usd=avg_inv,
        freight_usd=freight,
        lost_margin_usd=lost_margin,
        total_cost_usd=lost_margin + freight + carrying,
        orders=n_orders,
        air_share_units=air_units,
        policy_seconds=t_policy,
    ), stock_m


def split_modes(out):
    """(main mode, air qty, main qty) per row from ship_mode / air_qty / recommended_qty."""
    for i, r in enumerate(out.itertuples()):
        mode = r.ship_mode
        main = mode.split("+")[1] if "+" in mode else mode
        air = int(r.air_qty)
        yield i, ("air" if mode == "air" else main), air, int(r.recommended_qty) - air


def decide_workbench(out):
    orders = []
    for i, main, air, rest in split_modes(out):
        if air > 0:
            orders.append((i, "air", air))
        if rest > 0:
            orders.append((i, main, rest))
    return orders


def decide_rule_of_thumb(usual_modes):
    def decide(out):
        orders = []
        cover = np.where(out["rot_ads"] > 0, (out["available"] + out["inbound"]) / out["rot_ads"].where(out["rot_ads"] > 0, 1), 999)
        for i, (q, c) in enumerate(zip(out["rot_qty"].to_numpy(), cover)):
            if q <= 0:
                continue
            mode = usual_modes[i]
            orders.append((i, "air" if (c <= 20 and mode in ("sea", "rail")) else mode, int(q)))
        return orders
    return decide


def markdown_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = ["| " + " | ".join(str(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *rows])


VARIANTS = [  # (label, RestockPolicy params, forecaster): the sweep maps fill rate against inventory
    ("workbench, service 80% / key 90%", {"service_level": 0.80, "key_item_service_level": 0.90}, None),
    ("workbench, service 50% / key 60% (z = 0: no safety stock)", {"service_level": 0.50, "key_item_service_level": 0.60}, None),
    ("workbench, no air (urgent_mode='sea')", {"urgent_mode": "sea"}, None),
    ("workbench, no air, service 80% / key 90%", {"urgent_mode": "sea", "service_level": 0.80, "key_item_service_level": 0.90}, None),
    ("workbench on the ADS-blend forecast (rule-of-thumb information)", {}, "blend"),
    ("workbench on the ADS-blend forecast, no air, service 80% / key 90%",
     {"urgent_mode": "sea", "service_level": 0.80, "key_item_service_level": 0.90}, "blend"),
]


def fmt_row(label, r):
    return [label, f"{r['fill_rate'] * 100:.2f}%", f"{r['stockout_sku_days']:,}", f"{r['lost_units']:,}",
            f"{r['lost_revenue_usd']:,.0f}", f"{r['avg_inventory_value_usd']:,.0f}", f"{r['freight_usd']:,.0f}",
            f"{r['orders']:,}", f"{r['air_share_units']:,}", f"{r['lost_margin_usd']:,.0f}", f"{r['total_cost_usd']:,.0f}"]


def main() -> None:
    from restock_helpers import blend_forecast, engine_forecaster

    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=150)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sweep", action="store_true", help="also run the variants in VARIANTS")
    ap.add_argument("--engine", action="store_true",
                    help="also run the workbench on the forecast engine (refreshed every 4 weeks)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    t_start = time.perf_counter()
    tables, truth = generate_dataset(GeneratorConfig(n_skus=args.skus, years=2.5, seed=args.seed))
    prod = tables["products"]
    skus = prod.loc[prod["launch_date"] <= START - pd.Timedelta(days=60), "sku"].astype(str).tolist()
    sampler = LeadTimeSampler(tables["shipments"], truth["shipments"])
    hist = tables["shipments"][tables["shipments"]["order_date"] <= START]
    usual = (hist.groupby(["sku", "mode"]).size().rename("n").reset_index().sort_values(["sku", "n"], ascending=[True, False])
             .drop_duplicates("sku").set_index("sku")["mode"].reindex(skus).fillna("sea").tolist())
    print(f"{len(skus)} established SKUs, {args.weeks} weeks from {START.date()}")
    w, _ = replay("workbench", decide_workbench, tables, truth, skus, args.weeks, args.seed, sampler)
    r, _ = replay("rule_of_thumb", decide_rule_of_thumb(usual), tables, truth, skus, args.weeks, args.seed, sampler)
    rows = [fmt_row("**workbench (defaults)**", w), fmt_row("**rule of thumb** (ADS blend × L + 14 d)", r)]
    sweep = []
    if args.sweep:
        for label, params, fc in VARIANTS:
            v, _ = replay(label, decide_workbench, tables, truth, skus, args.weeks, args.seed, sampler, log_every=0,
                          params=params, forecaster=blend_forecast if fc == "blend" else None)
            sweep.append((label, v))
            rows.append(fmt_row(label, v))
            print(f"  {label}: fill {v['fill_rate']:.4f}, inventory {v['avg_inventory_value_usd']:,.0f}", flush=True)
    if args.engine:
        label = "workbench (defaults) on the forecast engine, refreshed every 4 weeks"
        v, _ = replay(label, decide_workbench, tables, truth, skus, args.weeks, args.seed, sampler, log_every=0,
                      forecaster=engine_forecaster(tables["events"]))
        sweep.append((label, v))
        rows.append(fmt_row(label, v))
        print(f"  {label}: fill {v['fill_rate']:.4f}, inventory {v['avg_inventory_value_usd']:,.0f}", flush=True)
    met = (w["fill_rate"] >= r["fill_rate"] - 1e-9) and (w["avg_inventory_value_usd"] < r["avg_inventory_value_usd"])
    dominating = [lab for lab, v in sweep if v["fill_rate"] >= r["fill_rate"] and v["avg_inventory_value_usd"] < r["avg_inventory_value_usd"]]
    head = ["policy", "fill rate", "stockout SKU-days", "lost units", "lost revenue USD", "avg inventory USD (cost)",
            "freight USD", "orders", "air/express units", "lost margin USD", "total cost USD"]
    lines = [
        "# Restock policy backtest: workbench vs rule of thumb",
        "",
        f"Run: `python benchmarks/restock_backtest.py --skus {args.skus} --weeks {args.weeks} --seed {args.seed}"
        f"{' --sweep' if args.sweep else ''}{' --engine' if args.engine else ''}` ({time.perf_counter() - t_start:.0f} s). "
        "Set-up: see the module docstring of `benchmarks/restock_backtest.py`.",
        f"{len(skus)} established SKUs of a generated dataset, replayed weekly for {args.weeks} weeks from "
        f"{START.date()} (pre-peak, Black Friday / Christmas, Chinese New Year, Prime Day). Same demand, same "
        "lead-time draws per order slot, same starting stock and pipeline for every policy.",
        "",
        markdown_table(pd.DataFrame(rows, columns=head)),
        "",
        f"Ratios workbench (defaults) / rule of thumb: fill rate {w['fill_rate'] / r['fill_rate']:.3f}, "
        f"average inventory value {w['avg_inventory_value_usd'] / r['avg_inventory_value_usd']:.3f}, "
        f"lost units {w['lost_units'] / max(r['lost_units'], 1):.3f}, lost revenue "
        f"{w['lost_revenue_usd'] / max(r['lost_revenue_usd'], 1):.3f}, freight {w['freight_usd'] / max(r['freight_usd'], 1):.3f}.",
        "",
        "Total cost = lost margin (lost units × (price × (1 − fee rate) − unit cost)) + freight + carrying cost "
        f"({CARRYING_RATE:.0%} a year of the average inventory value). Ratio workbench / rule of thumb: "
        f"{w['total_cost_usd'] / r['total_cost_usd']:.3f}.",
        "",
        f"Target (same or higher fill rate with less average inventory), workbench defaults: **{'met' if met else 'not met'}**."
        + (f" Variants that meet it: {', '.join(dominating) or 'none'}." if (args.sweep or args.engine) else ""),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()

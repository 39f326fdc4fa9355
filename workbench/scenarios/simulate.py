"""What-if Monte Carlo through the backtest's weekly replay: the real restock policy decides every simulated week.

One engine. A scenario's future is run by :func:`workbench.backtest.replay.replay`, the loop
``workbench backtest`` uses on history: each simulated week the policy sees the dataset before the
week plus the simulation's own sales, stock snapshots and orders (:mod:`workbench.backtest.view`),
and orders through the same adapter (:func:`workbench.backtest.adapters.workbench_orders`: stock
snapshot, then ``RestockPolicy.recommend``), so peak pre-builds, air bridges, the cost-optimal
service levels and turnover rules act in the simulation exactly as in the weekly run. Only the world
differs from the backtest: demand and lead times are drawn, not read from history.

Demand. Each day's forecast gives five quantiles (the 95% and 80% interval bounds and the point
forecast, read as the median) at standard-normal scores Z = (−1.96, −1.28, 0, 1.28, 1.96). A path
draws one score per SKU and day,

    z_{i,p,t} = sqrt(ρ)·u_{i,p} + sqrt(1 − ρ)·e_{i,p,t},   u, e ~ N(0, 1) independent,   ρ = 0.5,

so every day's marginal matches the forecast quantiles (piecewise-linear between them, linear beyond
the outer ones, floored at 0), while a path that starts high stays high: the level uncertainty that
makes peak-season stockouts cluster. This is a Gaussian copula over the forecast's quantile function
(e.g. Nelsen, An Introduction to Copulas, 2006, §2.10) with an equicorrelated day structure.

Lead times. Each order's lead time is the backtest's draw (:class:`workbench.backtest.world.LeadTimeSampler`:
the dataset's own received shipments per supplier × mode × season, inverse ECDF) at a uniform per
(path, SKU, week, mode), plus the scenario's ``extra_days`` on its modes (:class:`ShiftedLeadTimes`).
Shipments in transit at the start arrive on their recorded date or ETA (shifted likewise).

Common random numbers. The scores z and the lead-time uniforms depend on (seed, path) only, never on
the scenario, so two scenarios see the same demand luck (through their own quantiles) and the same
lead-time luck: differences come from the levers and from what the policy does about them.

The median path (z = 0: each day's median demand; uniforms 0.5: each pool's median lead time) is run
beside the drawn ones to show the order plan: what the policy would ship, when and by which mode.

Copies. The policy decides per SKU, so the median path and P drawn paths of n SKUs run as ONE replay
of (P + 1)·n SKUs named ``SKU~k`` (:func:`paths_setup`, :func:`stack_world`): one policy call per
simulated week for every path at once; :func:`summarize` splits the results back per path.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from workbench.backtest.metrics import URGENT
from workbench.backtest.replay import Setup, replay
from workbench.backtest.world import StartState
from workbench.data.load import Dataset
from workbench.leadtime import MODES

Z_KNOTS = np.array([-1.959964, -1.281552, 0.0, 1.281552, 1.959964], dtype=np.float32)
RHO = 0.5


def demand_at(q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Piecewise-linear quantile function through ``q`` (c, 5) at scores ``z`` (c, P), floored at 0."""
    seg = np.clip(np.searchsorted(Z_KNOTS[1:-1], z), 0, 3)
    rows = np.arange(q.shape[0])[:, None]
    ql, qr = q[rows, seg], q[rows, seg + 1]
    zl, zr = Z_KNOTS[seg], Z_KNOTS[seg + 1]
    return np.maximum(ql + (qr - ql) * ((z - zl) / (zr - zl)), 0.0)


def demand_scores(seed: int, path: int, n: int, days: int) -> np.ndarray:
    """The copula's scores z (n, days) of one path; they depend on (seed, path) only."""
    rng = np.random.default_rng([seed, path, 0])
    u = rng.standard_normal((n, 1), dtype=np.float32)
    e = rng.standard_normal((n, days), dtype=np.float32)
    return np.sqrt(RHO) * u + np.sqrt(1 - RHO) * e


def path_demand(q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Daily demand (n, days) of one path: the quantiles ``q`` (n, ≥ days, 5) read at the scores ``z``."""
    n, D = z.shape
    return demand_at(q[:, :D, :].reshape(n * D, 5), z.reshape(n * D, 1)).reshape(n, D).astype(float)


def lead_uniforms(seed: int, path: int, n: int, weeks: int) -> np.ndarray:
    """U(0, 1) per (SKU, week, mode) of one path: the lead-time draws every scenario shares."""
    return np.random.default_rng([seed, path, 1]).random((n, weeks, len(MODES)))


class ShiftedLeadTimes:
    """The backtest's lead-time sampler with ``extra_days`` added on ``modes`` (a scenario's delay)."""

    def __init__(self, sampler, extra_days: float = 0.0, modes: tuple = MODES):
        self.sampler, self.extra, self.modes = sampler, float(extra_days), tuple(modes)

    def _shift(self, mode: str) -> float:
        return self.extra if mode in self.modes else 0.0

    def draw(self, supplier: str, mode: str, month: int, u: float) -> int:
        return max(int(round(self.sampler.draw(supplier, mode, month, u) + self._shift(mode))), 1)

    def median(self, supplier: str, mode: str, month: int) -> float:
        return max(self.sampler.median(supplier, mode, month) + self._shift(mode), 1.0)


def order_kind(reason: str) -> str:
    """'air bridge', 'peak pre-build' or 'restock', from the adapter's reason for the order."""
    if reason.startswith("workbench air bridge"):
        return "air bridge"
    return "peak pre-build" if "peak pre-build" in reason else "restock"


@dataclass
class SimResult:
    """Per-SKU means over paths, per-path totals, daily stock quantiles and the median path's orders."""

    stockout_days: np.ndarray       # (n,) mean stockout days per SKU
    p_stockout: np.ndarray          # (n,) share of paths with at least one stockout day
    lost_units: np.ndarray          # (n,) mean
    demand_units: np.ndarray        # (n,) mean
    order_units_main: np.ndarray    # (n,) mean units ordered by a non-urgent mode
    order_units_urgent: np.ndarray  # (n,) mean units ordered by air / express
    freight_usd: np.ndarray         # (n,) mean freight of the orders placed
    bridge_units: np.ndarray        # (n,) mean units ordered as air bridges
    prebuild_units: np.ndarray      # (n,) mean units ordered as peak pre-builds (main mode)
    path_stockout_days: np.ndarray  # (P,) Σ over SKUs
    path_lost_revenue: np.ndarray   # (P,)
    path_peak_units: np.ndarray     # (P,) max over days of Σ on hand
    path_peak_cash: np.ndarray      # (P,) max over days of Σ (on hand + on order) · unit cost
    stock_q: np.ndarray             # (n, D, 3) on hand at the end of each day: p10, p50, p90 over paths
    total_stock_q: np.ndarray       # (D, 3) Σ on hand over SKUs: p10, p50, p90 over paths
    median_orders: pd.DataFrame     # the median path's orders (the replay's columns + kind)
    freight_by_mode: pd.Series = None  # mean freight per path, by mode
    decide_seconds: float = 0.0
    sold_units: np.ndarray = None   # (n,) mean units sold
    avg_stock: np.ndarray = None    # (n,) mean over days of on-hand units
    revenue: np.ndarray = None      # (n,) mean revenue at the charged prices (weekly prices; else the list price)
    ad_spend: np.ndarray = None     # (n,) mean ad spend (weekly budgets; zeros without a lever market)
    ad_sales: np.ndarray = None     # (n,) mean ad-attributed sales
    median_levers: pd.DataFrame = None  # the median path's weekly prices and budgets with their rules


def on_order_value(setup: Setup, orders: pd.DataFrame) -> np.ndarray:
    """Σ over SKUs of the value at cost on order at the end of each day: the pipeline at the start
    (arriving after the day) plus the orders placed on or before the day and not yet arrived."""
    D = len(setup.days)
    later = np.cumsum(setup.state.arrivals[:, ::-1], axis=1)[:, ::-1]  # units arriving on day d or later
    value = setup.unit_cost @ later[:, 1:D + 1]
    if len(orders):
        pos = pd.Index(setup.skus).get_indexer(orders["sku"])
        v = orders["qty"].to_numpy(float) * setup.unit_cost[pos]
        placed = 7 * (orders["week"].to_numpy(int) - 1)
        arrive = np.minimum(placed + orders["lead_time_days"].to_numpy(int), D)
        diff = np.zeros(D + 1)
        np.add.at(diff, placed, v)
        np.add.at(diff, arrive, -v)
        value = value + np.cumsum(diff)[:D]
    return value


def _per_sku(skus: list[str], orders: pd.DataFrame, column: str, mask) -> np.ndarray:
    return orders[mask].groupby("sku")[column].sum().reindex(skus).fillna(0.0).to_numpy(float)


def _path_totals(setup: Setup, sold, lost, stock, orders: pd.DataFrame, price: np.ndarray, levers=None) -> dict:
    """One path's per-SKU sums and totals (what :func:`summarize` averages over paths); ``levers``: the path's
    (revenue, ad spend, ad sales) per SKU and day when prices and budgets were decided weekly."""
    urgent = orders["mode"].isin(URGENT)
    revenue, spend, ad_sales = levers if levers is not None else (sold * price[:, None], 0 * sold, 0 * sold)
    out_days = (lost > 1e-3).sum(axis=1)
    cash = (setup.unit_cost @ stock) + on_order_value(setup, orders)
    every = np.ones(len(orders), bool)
    return {
        "stockout_days": out_days, "p_stockout": (out_days > 0).astype(float), "lost_units": lost.sum(axis=1),
        "demand_units": sold.sum(axis=1) + lost.sum(axis=1),
        "order_units_main": _per_sku(setup.skus, orders, "qty", ~urgent),
        "order_units_urgent": _per_sku(setup.skus, orders, "qty", urgent),
        "freight_usd": _per_sku(setup.skus, orders, "freight_cost", every),
        "bridge_units": _per_sku(setup.skus, orders, "qty", orders["kind"] == "air bridge"),
        "prebuild_units": _per_sku(setup.skus, orders, "qty", orders["kind"] == "peak pre-build"),
        "sold_units": sold.sum(axis=1), "avg_stock": stock.mean(axis=1), "revenue": revenue.sum(axis=1),
        "ad_spend": spend.sum(axis=1), "ad_sales": ad_sales.sum(axis=1),
        "_path": (float(out_days.sum()), float(lost.sum(axis=1) @ price), float(stock.sum(axis=0).max()),
                  float(cash.max())),
    }


# --- paths as copies of the catalog ---------------------------------------------------------------
# The policy decides per SKU, so P paths of n SKUs are one replay of P·n SKUs named "SKU~k" (k = 0 the
# median path, 1..P the drawn ones): one policy call per week for every path at once, instead of P.
SEP = "~"
STACKED_TABLES = ("products", "sales", "inventory", "shipments", "returns", "events", "ads")  # what the policies read
HISTORY_DAYS = 450  # history the copies keep before the start: the ADS blend's last-year window (424 d) and more


def copy_name(sku, k: int) -> str:
    return f"{sku}{SEP}{k}"


def stack_frame(frame: pd.DataFrame, column: str, copies: int, only=None) -> pd.DataFrame:
    """``copies`` copies of ``frame``, ``column`` renamed per copy (rows whose value is not in ``only``,
    when given, are kept once, unrenamed: e.g. events scoped to a category or the whole catalog)."""
    if only is not None:
        mine = frame[column].astype(str).isin(only)
        rest, frame = frame[~mine], frame[mine]
    parts = [frame.assign(**{column: frame[column].astype(str) + f"{SEP}{k}"}) for k in range(copies)]
    if only is not None:
        parts.append(rest)
    return pd.concat(parts, ignore_index=True)


def stack_world(world: Dataset, skus: list[str], copies: int, start: pd.Timestamp) -> Dataset:
    """The tables the restock policy reads, one copy per path, history cut to :data:`HISTORY_DAYS`."""
    from workbench.backtest.view import date_column

    tables = {}
    for name in STACKED_TABLES:
        f = world.tables.get(name)
        if f is None:
            continue
        col = date_column(name)
        if name in ("sales", "inventory", "returns", "ads") and col is not None:
            f = f[f[col] >= start - pd.Timedelta(days=HISTORY_DAYS)]
        if name == "events":
            tables[name] = stack_frame(f, "scope", copies, only=set(skus))
            continue
        f = stack_frame(f, "sku", copies)
        if name == "shipments":
            f = f.assign(shipment_id=f["shipment_id"].astype(str) + SEP + f["sku"].str.rsplit(SEP, n=1).str[1])
        if name == "ads":
            f = f.assign(campaign=f["campaign"].astype(str) + SEP + f["sku"].str.rsplit(SEP, n=1).str[1])
        tables[name] = f
    return Dataset(world.path, tables)


def paths_setup(setup: Setup, q: np.ndarray, n_paths: int, seed: int) -> Setup:
    """The replay of the median path and ``n_paths`` drawn ones as one catalog of copies (see above)."""
    n, D, copies = len(setup.skus), len(setup.days), int(n_paths) + 1
    demand = np.concatenate([path_demand(q, np.zeros((n, D), np.float32))]
                            + [path_demand(q, demand_scores(seed, p, n, D)) for p in range(n_paths)])
    uniforms = np.concatenate([np.full((n, setup.weeks, len(MODES)), 0.5)]
                              + [lead_uniforms(seed, p, n, setup.weeks) for p in range(n_paths)])
    skus = [copy_name(s, k) for k in range(copies) for s in setup.skus]
    st = setup.state
    state = StartState(stock=np.tile(st.stock, copies), arrivals=np.tile(st.arrivals, (copies, 1)),
                       snapshot_date=pd.Series(np.tile(st.snapshot_date.to_numpy(), copies), index=skus),
                       location=np.tile(st.location, copies))
    return replace(setup, base=stack_world(setup.base, setup.skus, copies, setup.start), skus=skus, demand=demand,
                   censored=np.zeros((n * copies, D), bool), state=state, uniforms=uniforms,
                   unit_cost=np.tile(setup.unit_cost, copies), unit_margin=np.tile(setup.unit_margin, copies),
                   price=np.tile(setup.price, copies), supplier=np.tile(setup.supplier, copies),
                   channel=np.tile(setup.channel, copies),
                   other_locations=stack_frame(setup.other_locations, "sku", copies),
                   market=stack_market(setup.market, skus, copies) if setup.market is not None else None)


def stack_market(m, skus: list[str], copies: int):
    """The lever market of one catalog, one copy per path (campaigns ``campaign~k`` on ``SKU~k``)."""
    n = len(m.skus)
    camp = stack_frame(m.campaigns, "sku", copies)
    k = np.repeat(np.arange(copies), len(m.campaigns))
    camp = camp.assign(campaign=camp["campaign"].astype(str) + SEP + k.astype(str), i=camp["i"].to_numpy() + k * n)
    tile = lambda a: np.tile(a, copies)  # noqa: E731
    return replace(m, skus=skus, ref_price=tile(m.ref_price), elasticity=tile(m.elasticity),
                   base_units=tile(m.base_units), decay=tile(m.decay), campaigns=camp,
                   start_budget=tile(m.start_budget))


def split_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """The replay's orders of the copies: ``sku`` back to the catalog's, ``path`` (0 = median), ``kind``."""
    parts = orders["sku"].astype(str).str.rsplit(SEP, n=1)
    reason = orders["reason"].astype(str).str.replace(rf"{SEP}\d+\b", "", regex=True)
    return orders.assign(sku=parts.str[0], path=parts.str[1].astype(int), reason=reason,
                         kind=[order_kind(r) for r in reason])


def summarize(setup: Setup, res, n_paths: int, price: np.ndarray) -> SimResult:
    """Per-SKU means over the drawn paths, per-path totals, stock quantiles, the median path's orders."""
    n, D = len(setup.skus), len(setup.days)
    sold, lost, stock = (a.reshape(n_paths + 1, n, D) for a in (res.sold, res.lost, res.stock))
    orders = split_orders(res.orders)
    led = res.levers
    lev = None if led is None else [a.reshape(n_paths + 1, n, D) for a in (led.revenue, led.ad_spend, led.ad_sales)]
    acc: dict = {}
    paths = []
    for k in range(1, n_paths + 1):
        tot = _path_totals(setup, sold[k], lost[k], stock[k], orders[orders["path"] == k], price,
                           None if lev is None else tuple(a[k] for a in lev))
        paths.append(tot.pop("_path"))
        for key, v in tot.items():
            acc[key] = acc.get(key, 0.0) + v
    p_tot = np.array(paths, dtype=float).reshape(-1, 4)
    drawn = stock[1:].astype(np.float32)
    return SimResult(**{k: v / n_paths for k, v in acc.items()},
                     path_stockout_days=p_tot[:, 0], path_lost_revenue=p_tot[:, 1], path_peak_units=p_tot[:, 2],
                     path_peak_cash=p_tot[:, 3],
                     stock_q=np.quantile(drawn, [0.1, 0.5, 0.9], axis=0).transpose(1, 2, 0),
                     total_stock_q=np.quantile(drawn.sum(axis=1), [0.1, 0.5, 0.9], axis=0).T,
                     median_orders=orders[orders["path"] == 0].drop(columns="path").reset_index(drop=True),
                     freight_by_mode=orders[orders["path"] >= 1].groupby("mode")["freight_cost"].sum() / n_paths,
                     decide_seconds=res.decide_seconds, median_levers=median_levers(led, n))


def median_levers(ledger, n: int) -> pd.DataFrame | None:
    """The median path's (copy 0) weekly prices, budgets and their rules, SKU names back to the catalog's."""
    if ledger is None or not ledger.rules:
        return None
    t = pd.concat([r.iloc[:n] for r in ledger.rules], ignore_index=True)
    t = t.assign(sku=t["sku"].astype(str).str.rsplit(SEP, n=1).str[0])
    t["reason"] = [f"week {w}: pricing rule {pr or 'none'} set the price to {p:.2f}; ads rules "
                   f"{ar or 'none (no campaigns)'} set the budget to {b:.2f} a day"
                   for w, pr, p, ar, b in zip(t["week"], t["price_rule"], t["price"], t["ads_rule"], t["ad_budget"])]
    return t


def simulate(setup: Setup, q: np.ndarray, decide_for, n_paths: int, seed: int, name: str = "scenario",
             price: np.ndarray | None = None) -> SimResult:
    """Replay the median path and ``n_paths`` drawn futures of one scenario (common random numbers).

    ``setup``: the scenario's replay world for one catalog; ``q``: its demand quantiles (n, ≥ days, 5);
    ``decide_for(stacked_setup)`` returns the weekly decision ``(view, day) -> orders`` for the copies;
    ``price``: revenue per unit for lost revenue (default ``setup.price``).
    """
    stacked = paths_setup(setup, q, int(n_paths), seed)
    res = replay(stacked, name, decide_for(stacked))
    return summarize(setup, res, int(n_paths), setup.price if price is None else price)

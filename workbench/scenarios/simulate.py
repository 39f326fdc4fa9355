"""Monte Carlo of the restock policy through the peak: SKUs × paths × days, vectorized with numpy.

Demand. Each day's forecast gives five quantiles (the 95% and 80% interval bounds and the point
forecast, read as the median) at standard-normal scores Z = (−1.96, −1.28, 0, 1.28, 1.96). A path
draws one score per SKU and day,

    z_{i,p,t} = sqrt(ρ)·u_{i,p} + sqrt(1 − ρ)·e_{i,p,t},   u, e ~ N(0, 1) independent,   ρ = 0.5,

so every day's marginal matches the forecast quantiles (piecewise-linear between them, linear beyond
the outer ones, floored at 0), while a path that starts high stays high: the level uncertainty that
makes peak-season stockouts cluster. This is a Gaussian copula over the forecast's quantile function
(e.g. Nelsen, An Introduction to Copulas, 2006, §2.10) with an equicorrelated day structure.

Lead times. A new order's lead time is lognormal with the policy's supplier × mode mean and std
(:func:`workbench.policies.restock.lognormal_params`); a shipment in transit arrives at its expected
day + N(0, arrival std). Both are drawn once per order and path.

Policy. Day 0 places the policy's recommendation (main-mode and urgent quantities). Every review
day t = R, 2R, … the policy orders the position up to

    S_t = Σ_{s=t+1}^{t+L+R} mean demand_s + SS_i,   IP = on hand + on order,   order = S_t − IP if IP < S_t,

rounded up to whole cases and the MOQ (Silver, Pyke & Thomas, periodic review (R, S)); SS_i is the
policy's safety stock for L + R. Unmet demand is lost (no backorders). A stockout day is a day with
unmet demand.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.policies.restock import lognormal_params

Z_KNOTS = np.array([-1.959964, -1.281552, 0.0, 1.281552, 1.959964], dtype=np.float32)
CHUNK_SKUS = 64
RHO = 0.5


@dataclass
class SimInputs:
    """Arrays aligned on SKUs (n) and days 1..H. Quantities in units, times in days, money in USD."""

    demand_q: np.ndarray        # (n, H, 5) demand quantiles at Z_KNOTS, already scenario-adjusted
    available: np.ndarray       # (n,)
    transit_day: np.ndarray     # (n, K) expected arrival day of each open shipment (0 = none)
    transit_sd: np.ndarray      # (n, K)
    transit_qty: np.ndarray     # (n, K)
    order0_main: np.ndarray     # (n,) day-0 order by the main mode
    order0_urgent: np.ndarray   # (n,) day-0 order by the urgent mode
    lt_main: np.ndarray         # (n,) mean lead time of the main mode (days)
    lt_main_sd: np.ndarray      # (n,)
    lt_urgent: np.ndarray       # (n,)
    lt_urgent_sd: np.ndarray    # (n,)
    safety_stock: np.ndarray    # (n,) for the L + R protection interval
    moq: np.ndarray             # (n,)
    case_pack: np.ndarray       # (n,)
    unit_cost: np.ndarray       # (n,)
    unit_price: np.ndarray      # (n,) revenue per unit sold in this scenario
    rate_main: np.ndarray       # (n,) freight USD per unit by the main mode
    rate_urgent: np.ndarray     # (n,)
    review_days: int = 7


@dataclass
class SimResult:
    """Per-SKU means over paths, per-path totals, daily stock quantiles and the median-path order plan."""

    stockout_days: np.ndarray       # (n,) mean stockout days per SKU
    p_stockout: np.ndarray          # (n,) share of paths with at least one stockout day
    lost_units: np.ndarray          # (n,) mean
    demand_units: np.ndarray        # (n,) mean
    order_units_main: np.ndarray    # (n,) mean units ordered by the main mode (day 0 included)
    order_units_urgent: np.ndarray  # (n,)
    path_stockout_days: np.ndarray  # (P,) Σ over SKUs
    path_lost_revenue: np.ndarray   # (P,)
    path_peak_units: np.ndarray     # (P,) max over days of Σ on hand
    path_peak_cash: np.ndarray      # (P,) max over days of Σ (on hand + on order) · unit cost
    stock_q: np.ndarray             # (n, H, 3) on hand at the end of each day: p10, p50, p90 over paths
    total_stock_q: np.ndarray       # (H, 3) Σ on hand over SKUs: p10, p50, p90 over paths


def demand_at(q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Piecewise-linear quantile function through ``q`` (c, 5) at scores ``z`` (c, P), floored at 0."""
    seg = np.clip(np.searchsorted(Z_KNOTS[1:-1], z), 0, 3)
    rows = np.arange(q.shape[0])[:, None]
    ql, qr = q[rows, seg], q[rows, seg + 1]
    zl, zr = Z_KNOTS[seg], Z_KNOTS[seg + 1]
    return np.maximum(ql + (qr - ql) * ((z - zl) / (zr - zl)), 0.0)


def _round_up(qty, moq, case):
    case = np.maximum(case, 1.0)
    q = np.ceil(np.round(qty / case, 6)) * case
    return np.where(qty > 0, np.maximum(q, np.ceil(moq / case) * case), 0.0)


def _lead_draw(rng, mean, sd, size_p, deterministic):
    if deterministic:
        return np.broadcast_to(mean[:, None], (len(mean), size_p)).astype(np.float32)
    mu, sig = lognormal_params(mean, sd)
    return np.exp(mu[:, None] + sig[:, None] * rng.standard_normal((len(mean), size_p), dtype=np.float32)).astype(np.float32)


def simulate(inp: SimInputs, n_paths: int = 1000, seed: int = 0, deterministic: bool = False,
             record_orders: bool = False):
    """Run the Monte Carlo (``deterministic``: one path at the median demand and mean lead times).

    SKUs are simulated in chunks of :data:`CHUNK_SKUS` (:func:`_simulate_chunk`), each with its own
    random generator, and the per-path totals are summed over chunks. Returns a :class:`SimResult`,
    and with ``record_orders`` also a list of orders ``(sku index, day, qty, 'main'|'urgent', arrival
    day)`` of the first path.
    """
    n, H, _ = inp.demand_q.shape
    P = 1 if deterministic else int(n_paths)
    res = {k: np.zeros(n) for k in SKU_RESULTS}
    totals = {"stockout_days": np.zeros(P), "lost_revenue": np.zeros(P), "onhand": np.zeros((P, H)),
              "cash": np.zeros((P, H))}
    stock_q = np.zeros((n, H, 3), dtype=np.float32)
    cum_mean = np.concatenate([np.zeros((n, 1)), np.cumsum(inp.demand_q[:, :, 2], axis=1)], axis=1)
    orders: list = []
    for c0 in range(0, n, CHUNK_SKUS):
        sl = slice(c0, min(n, c0 + CHUNK_SKUS))
        # one generator per chunk: results depend on the seed only, not on the machine
        rng = np.random.default_rng([seed, c0])
        per_sku = _simulate_chunk(inp, sl, P, rng, deterministic, cum_mean, totals, stock_q,
                                  orders if record_orders else None)
        for k, v in per_sku.items():
            res[k][sl] = v
    result = SimResult(**res, path_stockout_days=totals["stockout_days"], path_lost_revenue=totals["lost_revenue"],
                       path_peak_units=totals["onhand"].max(axis=1), path_peak_cash=totals["cash"].max(axis=1),
                       stock_q=stock_q, total_stock_q=np.quantile(totals["onhand"], [0.1, 0.5, 0.9], axis=0).T)
    return (result, orders) if record_orders else result


SKU_RESULTS = ("stockout_days", "p_stockout", "lost_units", "demand_units", "order_units_main", "order_units_urgent")


def _schedule_transit(inp: SimInputs, sl: slice, P: int, rng, deterministic: bool, arr: np.ndarray) -> np.ndarray:
    """Book the open shipments' arrivals (day drawn around the expected day) into ``arr``; returns the
    units on order per SKU and path."""
    c, H = sl.stop - sl.start, arr.shape[2] - 2
    on_order = np.zeros((c, P), np.float32)
    for k in range(inp.transit_day.shape[1]):
        qty = inp.transit_qty[sl, k].astype(np.float32)
        if not (qty > 0).any():
            continue
        noise = 0.0 if deterministic else rng.standard_normal((c, P), dtype=np.float32) * inp.transit_sd[sl, k, None]
        day = np.clip(np.rint(inp.transit_day[sl, k, None] + noise), 1, H + 1).astype(np.int64)
        _add_arrivals(arr, day, np.broadcast_to(qty[:, None], (c, P)))
        on_order += qty[:, None]
    return on_order


def _review_order(inp: SimInputs, sl: slice, t: int, stock, on_order, cum_mean: np.ndarray) -> np.ndarray:
    """Periodic review on day ``t``: order up to the mean demand of (t, t + L + R] plus safety stock,
    rounded up to MOQ and case packs."""
    H = cum_mean.shape[1] - 1
    L = np.maximum(inp.lt_main[sl], 1.0)
    hi = np.minimum(np.rint(t + L + inp.review_days).astype(int), H)
    target = cum_mean[sl][np.arange(sl.stop - sl.start), hi] - cum_mean[sl, t] + inp.safety_stock[sl]
    raw = np.maximum(target[:, None] - (stock + on_order), 0.0)
    return _round_up(raw, inp.moq[sl, None], inp.case_pack[sl, None]).astype(np.float32)


def _simulate_chunk(inp: SimInputs, sl: slice, P: int, rng, deterministic: bool, cum_mean: np.ndarray,
                    totals: dict, stock_q: np.ndarray, orders: list | None) -> dict:
    """Simulate the SKUs of ``sl`` day by day over ``P`` paths: arrivals, review orders, correlated
    demand, sales and shortfalls. Adds to ``totals`` (per path), fills ``stock_q[sl]``; returns the
    per-SKU means (:data:`SKU_RESULTS`)."""
    _, H, _ = inp.demand_q.shape
    c, R = sl.stop - sl.start, int(inp.review_days)
    q = inp.demand_q[sl].astype(np.float32)
    u = np.zeros((c, P), np.float32) if deterministic else rng.standard_normal((c, P), dtype=np.float32)
    arr = np.zeros((c, P, H + 2), np.float32)
    stock = np.repeat(inp.available[sl, None], P, axis=1).astype(np.float32)
    on_order = _schedule_transit(inp, sl, P, rng, deterministic, arr)
    acc = {k: np.zeros((c, P), np.float32) for k in ("lost_rev", "out_days", "lost", "dem", "ord_main", "ord_urg")}

    def place(t, qty, mode):
        mean, sd = (inp.lt_main, inp.lt_main_sd) if mode == "main" else (inp.lt_urgent, inp.lt_urgent_sd)
        lt = _lead_draw(rng, mean[sl], sd[sl], P, deterministic)
        day = np.clip(t + np.maximum(np.rint(lt), 1), 1, H + 1).astype(np.int64)
        _add_arrivals(arr, day, qty)
        if orders is not None:
            for i in np.flatnonzero(qty[:, 0] > 0):
                orders.append((sl.start + i, t, float(qty[i, 0]), mode, int(day[i, 0])))
        return qty

    on_order += place(0, np.repeat(inp.order0_main[sl, None], P, 1).astype(np.float32), "main")
    on_order += place(0, np.repeat(inp.order0_urgent[sl, None], P, 1).astype(np.float32), "urgent")
    acc["ord_main"] += inp.order0_main[sl, None]
    acc["ord_urg"] += inp.order0_urgent[sl, None]
    for t in range(1, H + 1):
        got = arr[:, :, t]
        stock += got
        on_order -= got
        if t % R == 0 and t < H:
            qty = _review_order(inp, sl, t, stock, on_order, cum_mean)
            if (qty > 0).any():
                on_order += place(t, qty, "main")
                acc["ord_main"] += qty
        z = u if deterministic else np.sqrt(RHO) * u + np.sqrt(1 - RHO) * rng.standard_normal((c, P), dtype=np.float32)
        d = demand_at(q[:, t - 1, :], z)
        sold = np.minimum(stock, d)
        short = d - sold
        stock -= sold
        acc["dem"] += d
        acc["lost"] += short
        acc["lost_rev"] += short * inp.unit_price[sl][:, None]
        acc["out_days"] += short > 1e-3
        totals["onhand"][:, t - 1] += stock.sum(axis=0)
        totals["cash"][:, t - 1] += inp.unit_cost[sl] @ (stock + on_order)
        stock_q[sl, t - 1, :] = np.quantile(stock, [0.1, 0.5, 0.9], axis=1).T
    totals["stockout_days"] += acc["out_days"].sum(axis=0)
    totals["lost_revenue"] += acc["lost_rev"].sum(axis=0)
    return {"stockout_days": acc["out_days"].mean(axis=1), "p_stockout": (acc["out_days"] > 0).mean(axis=1),
            "lost_units": acc["lost"].mean(axis=1), "demand_units": acc["dem"].mean(axis=1),
            "order_units_main": acc["ord_main"].mean(axis=1), "order_units_urgent": acc["ord_urg"].mean(axis=1)}


def _add_arrivals(arr: np.ndarray, day: np.ndarray, qty: np.ndarray) -> None:
    """arr[i, p, day[i, p]] += qty[i, p]: one arrival per SKU and path, so no index repeats."""
    c, P = day.shape
    ii = np.repeat(np.arange(c), P)
    pp = np.tile(np.arange(P), c)
    arr[ii, pp, day.ravel()] += qty.ravel()

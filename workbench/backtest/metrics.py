"""Backtest tables (summary, per week, per SKU) and charts, from replay results; formulas in replay.py."""
from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["policy", "fill_rate", "stockout_sku_days", "lost_units", "lost_margin", "avg_inventory_value",
                   "freight_cost", "carrying_cost", "total_cost", "orders", "air_units", "freight_paid"]
URGENT = ("air", "express")


def _totals(setup, sold, lost, stock, orders: pd.DataFrame, days: int, arrived: pd.DataFrame | None = None,
            freight_sold: np.ndarray | None = None) -> dict:
    """Totals over a slice of the replay. ``freight_sold``: the landed freight of the units sold in the slice
    (:func:`landed_freight`), the ``freight_cost`` of the total; ``freight_paid`` is the freight of the orders
    that arrive in the slice (``arrived``, default ``orders``), the cash paid for transport in it."""
    demand = sold.sum() + lost.sum()
    avg_inv = float((stock * setup.unit_cost[:, None]).sum(0).mean()) if stock.size else 0.0
    lost_margin = float((lost.sum(1) * setup.unit_margin).sum())
    arrived = orders if arrived is None else arrived
    paid = float(arrived["freight_cost"].sum()) if len(arrived) else 0.0
    freight = paid if freight_sold is None else float(np.sum(freight_sold))
    carrying = setup.carrying_rate * avg_inv * days / 365.0
    return dict(
        fill_rate=float(sold.sum() / demand) if demand > 0 else 1.0,
        stockout_sku_days=int((lost > 1e-9).sum()),
        lost_units=float(lost.sum()),
        lost_margin=lost_margin,
        avg_inventory_value=avg_inv,
        freight_cost=freight,
        carrying_cost=carrying,
        total_cost=lost_margin + freight + carrying,
        orders=int(len(orders)),
        air_units=int(orders.loc[orders["mode"].isin(URGENT), "qty"].sum()) if len(orders) else 0,
        freight_paid=paid,
    )


def landed_freight(setup, res) -> np.ndarray:
    """Freight of the units sold each SKU-day, (n, D), of a replay result: :func:`fifo_freight` with the
    setup's start stock and pipeline and the result's orders."""
    o = res.orders
    if not len(o):
        return np.zeros(res.sold.shape)
    day = (pd.to_datetime(o["arrival_date"]) - setup.days[0]).dt.days.to_numpy()
    return fifo_freight(res.sold, setup.state.stock, setup.state.arrivals,
                        pd.Index(setup.skus).get_indexer(o["sku"].astype(str)), day, o["qty"].to_numpy(float),
                        o["freight_cost"].to_numpy(float))


def fifo_freight(sold, start_stock, start_arrivals, order_sku, order_day, order_qty, order_freight) -> np.ndarray:
    """Freight of the units sold each SKU-day, (n, D): landed-cost accounting, first in, first out.

    Inbound freight is part of what a unit cost to put on the shelf and becomes a cost when the unit sells
    (as a seller's books expense it, with the goods). Per SKU the units on hand at the start
    (``start_stock``, (n,)) and those of the pipeline already on its way (``start_arrivals``, (n, ≥ D) units by
    day) came with their freight paid before the replay (0 here); each order (``order_sku`` row index,
    ``order_day`` arrival day in the replay, ``order_qty``, ``order_freight`` its whole freight) arriving in
    the replay adds its units at its freight a unit; the first X units sold carry the freight of the first X
    units in. So stock left at the end keeps its freight, as the stock at the start brought none in, and a
    policy is not charged for goods it will sell after the window. Example: 50 on hand, 100 arrive at 0.2 a
    unit, 140 sold → 90 × 0.2 = 18 (the freight paid on arrival was 20)."""
    n, D = sold.shape
    out = np.zeros((n, D))
    day, qty = np.asarray(order_day), np.asarray(order_qty, dtype=float)
    keep = (day >= 0) & (day < D) & (qty > 0)
    pos, day, qty = np.asarray(order_sku)[keep], day[keep], qty[keep]
    freight = np.asarray(order_freight, dtype=float)[keep]
    by_sku = np.argsort(pos, kind="stable")  # one sort, not a scan of every order per SKU
    for mine in (np.split(by_sku, np.flatnonzero(np.diff(pos[by_sku])) + 1) if len(pos) else []):
        i = pos[mine[0]]
        free_day = np.flatnonzero(start_arrivals[i, :D] > 0)
        # layers in arrival order, what came free first on a tie: the start stock (day −1), the start pipeline, orders
        d = np.concatenate([[-1], free_day, day[mine]])
        q = np.concatenate([[start_stock[i]], start_arrivals[i, free_day], qty[mine]])
        f = np.concatenate([np.zeros(1 + len(free_day)), freight[mine]])
        paid = np.concatenate([np.zeros(1 + len(free_day)), np.ones(len(mine))])
        order = np.lexsort((paid, d))
        units = np.concatenate([[0.0], np.cumsum(q[order])])
        cost = np.concatenate([[0.0], np.cumsum(f[order])])
        cum = np.interp(np.cumsum(sold[i]), units, cost)
        out[i] = np.diff(cum, prepend=0.0)
    return out


def _landed(setup, res) -> np.ndarray:
    """:func:`landed_freight` of a result, computed once for the three tables."""
    if getattr(res, "_landed_freight", None) is None:
        res._landed_freight = landed_freight(setup, res)
    return res._landed_freight


def summary_row(setup, res) -> dict:
    row = {"policy": res.policy, **_totals(setup, res.sold, res.lost, res.stock, res.orders, res.sold.shape[1],
                                           _arriving(res.orders, setup.days[0], setup.days[-1]),
                                           _landed(setup, res))}
    late = res.orders[res.orders["arrival_date"] > setup.days[-1]]
    row["reason"] = (f"{res.policy}: fill {row['fill_rate']:.1%} of {res.sold.sum() + res.lost.sum():,.0f} units demanded "
                     f"over {setup.weeks} weeks and {len(setup.skus)} SKUs; total cost {row['total_cost']:,.0f} = lost margin "
                     f"{row['lost_margin']:,.0f} + freight of the units sold {row['freight_cost']:,.0f} (first in, first "
                     f"out; freight paid on arrival {row['freight_paid']:,.0f}) + carrying "
                     f"{row['carrying_cost']:,.0f} ({setup.carrying_rate:.0%}/yr of {row['avg_inventory_value']:,.0f} "
                     f"average inventory); {late['qty'].sum():,.0f} units ordered still on their way at the end "
                     f"(their freight not counted)")
    return row


def _arriving(orders: pd.DataFrame, first, last) -> pd.DataFrame:
    return orders[(orders["arrival_date"] >= first) & (orders["arrival_date"] <= last)]


def summary_table(setup, results) -> pd.DataFrame:
    return pd.DataFrame([summary_row(setup, r) for r in results], columns=SUMMARY_COLUMNS + ["reason"])


def weekly_table(setup, results) -> pd.DataFrame:
    rows = []
    for r in results:
        for w in range(setup.weeks):
            wk = slice(7 * w, 7 * w + 7)
            o = r.orders[r.orders["week"] == w + 1]
            t = _totals(setup, r.sold[:, wk], r.lost[:, wk], r.stock[:, wk], o, 7,
                        _arriving(r.orders, setup.days[7 * w], setup.days[7 * w + 6]), _landed(setup, r)[:, wk])
            rows.append({"policy": r.policy, "week": w + 1, "week_start": setup.days[7 * w], **t,
                         "reason": f"week of {setup.days[7 * w].date()}: fill {t['fill_rate']:.1%}, "
                                   f"{t['stockout_sku_days']} stockout SKU-days, {t['orders']} orders placed "
                                   f"(freight: the units sold this week, first in, first out) "
                                   f"({t['air_units']} units by air/express), inventory {t['avg_inventory_value']:,.0f}"})
    return pd.DataFrame(rows)


def sku_table(setup, results) -> pd.DataFrame:
    rows = []
    for r in results:
        by_sku = dict(tuple(r.orders.groupby("sku", sort=False)))  # one pass, not a filter per SKU
        landed = _landed(setup, r)
        for i, sku in enumerate(setup.skus):
            o = by_sku.get(sku, r.orders.iloc[:0])
            t = _totals(_OneSku(setup, i), r.sold[i:i + 1], r.lost[i:i + 1], r.stock[i:i + 1], o, r.sold.shape[1],
                        _arriving(o, setup.days[0], setup.days[-1]), landed[i])
            imputed = int(setup.censored[i].sum())
            rows.append({"policy": r.policy, "sku": sku, "demand": float(r.sold[i].sum() + r.lost[i].sum()), **t,
                         "reason": f"{sku}: fill {t['fill_rate']:.1%}, lost {t['lost_units']:,.0f} units "
                                   f"(margin {t['lost_margin']:,.0f}), {t['orders']} orders, average inventory "
                                   f"{t['avg_inventory_value']:,.0f}"
                                   + (f"; demand on {imputed} recorded stockout day(s) imputed" if imputed else "")})
    return pd.DataFrame(rows)


class _OneSku:
    """The setup's per-SKU arrays cut to one SKU (for the per-SKU totals)."""

    def __init__(self, setup, i):
        self.unit_cost = setup.unit_cost[i:i + 1]
        self.unit_margin = setup.unit_margin[i:i + 1]
        self.carrying_rate = setup.carrying_rate


def chart_html(setup, results, weekly: pd.DataFrame) -> str:
    """Fill rate and inventory value per week for every policy (plotly, library inlined: works offline)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=("fill rate per week", "average inventory value (at cost)"))
    for name, g in weekly.groupby("policy", sort=False):
        fig.add_trace(go.Scatter(x=g["week_start"], y=g["fill_rate"], name=f"{name} fill", mode="lines+markers"), 1, 1)
        fig.add_trace(go.Scatter(x=g["week_start"], y=g["avg_inventory_value"], name=f"{name} inventory", mode="lines"), 2, 1)
    fig.update_layout(title=f"Backtest from {setup.start.date()}, {setup.weeks} weeks, {len(setup.skus)} SKUs",
                      template="plotly_white", height=650)
    return fig.to_html(include_plotlyjs=True, full_html=True)


def frontier_html(frontier: pd.DataFrame) -> str:
    """Fill rate against average inventory value, one curve per policy family (the efficient frontier)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for fam, g in frontier.groupby("family", sort=False):
        g = g.sort_values("avg_inventory_value")
        fig.add_trace(go.Scatter(x=g["avg_inventory_value"], y=g["fill_rate"], mode="lines+markers+text", name=fam,
                                 text=g["setting"], textposition="top center"))
    fig.update_layout(title="Fill rate vs average inventory value (higher and further left is better)",
                      xaxis_title="average inventory value (at cost)", yaxis_title="fill rate", template="plotly_white")
    return fig.to_html(include_plotlyjs=True, full_html=True)


def dominates(frontier: pd.DataFrame, a: str = "workbench", b: str = "rule_of_thumb") -> tuple[bool, str]:
    """Does family ``a``'s curve lie above ``b``'s? Each curve is the piecewise-linear line through its
    points, sorted by inventory value; where the two overlap in inventory value, compare a's points with
    b's line and b's points with a's line: ``a`` is above when every gap (a's fill − b's) is ≥ 0.
    Returns (verdict, one sentence)."""
    fa = frontier[frontier["family"] == a].sort_values("avg_inventory_value")
    fb = frontier[frontier["family"] == b].sort_values("avg_inventory_value")
    xa, ya = fa["avg_inventory_value"].to_numpy(float), fa["fill_rate"].to_numpy(float)
    xb, yb = fb["avg_inventory_value"].to_numpy(float), fb["fill_rate"].to_numpy(float)
    in_b = (xa >= xb.min()) & (xa <= xb.max()) if len(xb) else np.zeros(len(xa), bool)
    in_a = (xb >= xa.min()) & (xb <= xa.max()) if len(xa) else np.zeros(len(xb), bool)
    gaps = np.concatenate([ya[in_b] - np.interp(xa[in_b], xb, yb), np.interp(xb[in_a], xa, ya) - yb[in_a]])
    if not len(gaps):
        return False, (f"the curves do not overlap in inventory value ({a} {xa.min():,.0f}–{xa.max():,.0f}, "
                       f"{b} {xb.min():,.0f}–{xb.max():,.0f})")
    ok = bool((gaps >= -1e-9).all())
    return ok, (f"{a} {'above' if ok else 'not above'} {b} where they overlap in inventory value "
                f"({len(gaps)} comparisons, fill gap {gaps.min() * 100:+.2f} to {gaps.max() * 100:+.2f} pt)")

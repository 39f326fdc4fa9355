"""Backtest tables (summary, per week, per SKU) and charts, from replay results; formulas in replay.py."""
from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["policy", "fill_rate", "stockout_sku_days", "lost_units", "lost_margin", "avg_inventory_value",
                   "freight_cost", "carrying_cost", "total_cost", "orders", "air_units"]
URGENT = ("air", "express")


def _totals(setup, sold, lost, stock, orders: pd.DataFrame, days: int, arrived: pd.DataFrame | None = None) -> dict:
    """Totals over a slice of the replay; freight is charged on the orders that arrive in it (``arrived``,
    default ``orders``): goods still on their way at the end serve demand after the replay, as the
    pipeline at the start served demand in it without a freight charge."""
    demand = sold.sum() + lost.sum()
    avg_inv = float((stock * setup.unit_cost[:, None]).sum(0).mean()) if stock.size else 0.0
    lost_margin = float((lost.sum(1) * setup.unit_margin).sum())
    arrived = orders if arrived is None else arrived
    freight = float(arrived["freight_cost"].sum()) if len(arrived) else 0.0
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
    )


def summary_row(setup, res) -> dict:
    row = {"policy": res.policy, **_totals(setup, res.sold, res.lost, res.stock, res.orders, res.sold.shape[1],
                                           _arriving(res.orders, setup.days[0], setup.days[-1]))}
    late = res.orders[res.orders["arrival_date"] > setup.days[-1]]
    row["reason"] = (f"{res.policy}: fill {row['fill_rate']:.1%} of {res.sold.sum() + res.lost.sum():,.0f} units demanded "
                     f"over {setup.weeks} weeks and {len(setup.skus)} SKUs; total cost {row['total_cost']:,.0f} = lost margin "
                     f"{row['lost_margin']:,.0f} + freight {row['freight_cost']:,.0f} + carrying "
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
                        _arriving(r.orders, setup.days[7 * w], setup.days[7 * w + 6]))
            rows.append({"policy": r.policy, "week": w + 1, "week_start": setup.days[7 * w], **t,
                         "reason": f"week of {setup.days[7 * w].date()}: fill {t['fill_rate']:.1%}, "
                                   f"{t['stockout_sku_days']} stockout SKU-days, {t['orders']} orders placed "
                                   f"(freight counts the orders arriving this week) "
                                   f"({t['air_units']} units by air/express), inventory {t['avg_inventory_value']:,.0f}"})
    return pd.DataFrame(rows)


def sku_table(setup, results) -> pd.DataFrame:
    rows = []
    for r in results:
        by_sku = dict(tuple(r.orders.groupby("sku", sort=False)))  # one pass, not a filter per SKU
        for i, sku in enumerate(setup.skus):
            o = by_sku.get(sku, r.orders.iloc[:0])
            t = _totals(_OneSku(setup, i), r.sold[i:i + 1], r.lost[i:i + 1], r.stock[i:i + 1], o, r.sold.shape[1],
                        _arriving(o, setup.days[0], setup.days[-1]))
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

"""Plotly figures of a what-if run: stock fan charts, the scenario comparison, cash vs service level."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

COLORS = ["#424242", "#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41", "#3949ab"]


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, height=height, template="plotly_white", margin=dict(l=50, r=20, t=50, b=40),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def stock_fan(run, sku: str = "ALL") -> go.Figure:
    """Projected on-hand units per scenario: median line and 10–90% band over the simulated paths."""
    fig = go.Figure()
    for k, (name, r) in enumerate(run.results.items()):
        f = r.stock_fan[r.stock_fan["sku"] == sku]
        c = COLORS[k % len(COLORS)]
        fig.add_trace(go.Scatter(x=pd.concat([f["ds"], f["ds"][::-1]]), y=pd.concat([f["p90"], f["p10"][::-1]]),
                                 fill="toself", fillcolor=_rgba(c, 0.12), line=dict(width=0), hoverinfo="skip",
                                 showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(x=f["ds"], y=f["p50"], name=r.scenario.label, line=dict(color=c),
                                 legendgroup=name))
    what = "all SKUs" if sku == "ALL" else sku
    return _layout(fig, f"Projected stock on hand, {what} (median and 10–90% of paths)", 460)


def comparison_bars(comparison: pd.DataFrame) -> go.Figure:
    """Stockout SKU-days and lost revenue per scenario."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=comparison["title"], y=comparison["stockout_days"], name="stockout SKU-days",
                         marker_color="#e53935", text=comparison["stockout_days"].round(0), textposition="outside"))
    fig.add_trace(go.Bar(x=comparison["title"], y=comparison["lost_revenue_usd"] / 1000, name="lost revenue (k USD)",
                         marker_color="#fb8c00", yaxis="y2", opacity=0.6))
    fig.update_layout(barmode="group", yaxis=dict(title="stockout SKU-days"),
                      yaxis2=dict(title="lost revenue (k USD)", overlaying="y", side="right", showgrid=False))
    return _layout(fig, "Stockout days and lost revenue by scenario", 440)


def cash_vs_service(comparison: pd.DataFrame) -> go.Figure:
    """Each scenario as a point: peak cash tied up in stock against service level (fill rate)."""
    fig = go.Figure(go.Scatter(
        x=comparison["cash_tied_up_usd"], y=comparison["service_level"] * 100, mode="markers+text",
        text=comparison["title"], textposition="top center",
        marker=dict(size=10 + 30 * comparison["freight_usd"] / max(comparison["freight_usd"].max(), 1),
                    color=COLORS[1], opacity=0.7),
        hovertext=comparison["reason"], hoverinfo="text"))
    fig.update_layout(xaxis_title="peak cash tied up in stock and orders (USD)", yaxis_title="service level (%)")
    return _layout(fig, "Cash vs service level (marker size = freight cost)", 460)

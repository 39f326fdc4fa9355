"""Plotly figures for the report notebooks. Each takes a result frame and returns a figure.

A figure never embeds every SKU of the catalog: it draws the top ``top_n`` rows that need action (its
title says how many of how many) or an aggregate, so the report does not grow with the catalog."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

STATUS_COLORS = {
    "alert_under_7d": "#b71c1c", "order_now": "#e53935", "consider_air": "#fb8c00",
    "order_by_sea_soon": "#fdd835", "ok": "#43a047", "overstock": "#1e88e5",
}
PHASE_COLORS = {"normal": "#43a047", "pre_stockout": "#fb8c00", "stockout": "#e53935", "recovery": "#1e88e5"}
LEVEL_COLORS = {"high": "#e53935", "medium": "#fb8c00", "low": "#43a047"}


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    """Title on top, the legend in its own band under the title (never over tick labels), room for labels."""
    fig.update_layout(title=dict(text=title, y=0.98, yanchor="top"), height=height,
                      margin=dict(l=10, r=10, t=90, b=10), template="plotly_white",
                      legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom"))
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def restock_cover(restock: pd.DataFrame, top_n: int = 30) -> go.Figure:
    """Lowest sellable cover first: stock in transit does not sell today (hover shows cover with it)."""
    from workbench.report.summary import sellable_cover

    sellable = sellable_cover(restock)
    d = restock.assign(sellable_cover=sellable.fillna(999).round(1)).sort_values("sellable_cover").head(top_n)
    fig = px.bar(d, x="sku", y=d["sellable_cover"].clip(upper=365), color="status", color_discrete_map=STATUS_COLORS,
                 hover_data={"days_of_cover": True, "recommended_qty": True, "ship_mode": True, "order_by": True,
                             "reason": True},
                 labels={"sellable_cover": "days of sellable stock", "days_of_cover": "cover incl. in transit"})
    fig.add_hline(y=75, line_dash="dash", line_color="#fdd835", annotation_text="75 d: order by sea")
    fig.add_hline(y=20, line_dash="dash", line_color="#fb8c00", annotation_text="20 d: consider air")
    fig.add_hline(y=7, line_dash="dot", line_color="#b71c1c", annotation_text="7 d: restock now")
    return _layout(fig, f"Days of sellable stock, lowest {len(d)} SKUs (hover for the reason)")


def model_vs_rule(restock: pd.DataFrame, top_n: int = 30) -> go.Figure | None:
    """The model's order next to the rule of thumb's, where the restock table carries both."""
    rule_col = next((c for c in ("rule_of_thumb_qty", "rot_qty") if c in restock.columns), None)
    if rule_col is None:
        return None
    d = restock[(restock["recommended_qty"] > 0) | (restock[rule_col] > 0)].sort_values("days_of_cover").head(top_n)
    fig = go.Figure([go.Bar(name="model (service level, lead-time variance)", x=d["sku"], y=d["recommended_qty"]),
                     go.Bar(name="rule of thumb (ADS × cycle + 14 d)", x=d["sku"], y=d[rule_col])])
    fig.update_layout(barmode="group", yaxis_title="units to order")
    return _layout(fig, "Order quantity: model vs rule of thumb")


def pricing_changes(pricing: pd.DataFrame, top_n: int = 40) -> go.Figure | None:
    """Only the listings whose price changes (a chart of unchanged listings hides the changes), the
    ``top_n`` biggest changes."""
    from workbench.report import top

    changed = top.pricing_changes(pricing)
    if not len(changed):
        return None
    d = changed.head(top_n).sort_values("change_pct")
    fig = px.bar(d, x=d["sku"] + " · " + d["channel"], y="change_pct", color="phase", color_discrete_map=PHASE_COLORS,
                 hover_data={"current_price": True, "recommended_price": True, "rule": True, "reason": True},
                 labels={"x": "listing", "change_pct": "price change"})
    fig.update_yaxes(ticksuffix="%")
    shown = f"the {len(d)} biggest of {len(changed):,} price changes" if len(changed) > len(d) else "every listing"
    return _layout(fig, f"Recommended price change by stockout phase, {shown}")


def ads_budgets(ads: pd.DataFrame, top_n: int = 30) -> go.Figure | None:
    """The campaigns whose budget changes, biggest changes first."""
    d = ads.assign(delta=(ads["recommended_budget"] - ads["current_budget"]).abs())
    d = d[d["delta"] > 1e-9].sort_values("delta", ascending=False).head(top_n)
    if not len(d):
        return None
    label = d["sku"].astype(str) + " · " + d["campaign"].astype(str)
    fig = go.Figure([go.Bar(name="current", x=label, y=d["current_budget"], marker_color="#9e9e9e"),
                     go.Bar(name="recommended", x=label, y=d["recommended_budget"], marker_color="#1e88e5",
                            hovertext=d["reason"])])
    fig.update_layout(barmode="group", yaxis_title="daily budget")
    return _layout(fig, f"Daily ad budgets: the {len(d)} biggest changes")


def hijack_map(risk: pd.DataFrame, top_n: int = 150) -> go.Figure:
    """Hijack score vs stockout risk for the ``top_n`` SKUs most exposed on either (each SKU's worse rank)."""
    d = risk.assign(stockout=pd.to_numeric(risk["stockout_risk"], errors="coerce").fillna(0))
    exposed = pd.concat([d["hijack_score"].rank(ascending=False, method="first"),
                         d["stockout"].rank(ascending=False, method="first")], axis=1).min(axis=1)
    n = len(d)
    d = d[exposed <= top_n]
    fig = px.scatter(d, x="hijack_score", y="stockout", color="hijack_level", color_discrete_map=LEVEL_COLORS,
                     hover_name="sku", hover_data={"reason": True}, range_x=[0, 100],
                     labels={"hijack_score": "hijack score (0–100)", "stockout": "stockout risk"})
    fig.add_vline(x=30, line_dash="dot")
    fig.add_vline(x=60, line_dash="dot")
    which = f", the {len(d)} most exposed of {n:,} SKUs" if n > len(d) else ""
    return _layout(fig, f"Hijack score vs stockout risk (out of stock invites hijackers){which}")


def accuracy_by_model(accuracy: pd.DataFrame) -> go.Figure:
    """Horizontal bars per demand class and model, readable values beside the bars, seasonal naive marked."""
    d = accuracy.dropna(subset=["mase"]).sort_values(["demand_class", "mase"], ascending=[True, False])
    kind = d["model"].map(lambda m: "selected" if m.startswith("workbench") else
                          "seasonal naive" if m == "SeasonalNaive" else "other candidates")
    label = d["demand_class"] + " · " + d["model"]
    fig = px.bar(d, y=label, x="mase", color=kind, orientation="h",
                 text=d["mase"].map("{:.2f}".format), hover_data={"series": True, "reason": True},
                 color_discrete_map={"selected": "#1e88e5", "seasonal naive": "#e53935", "other candidates": "#9e9e9e"},
                 labels={"mase": "MASE (lower is better; 1 = seasonal-naive in-sample error)", "y": "", "color": ""})
    fig.update_traces(textposition="outside", textangle=0, cliponaxis=False)
    fig.update_yaxes(categoryorder="array", categoryarray=list(label))  # grouped by class, not by colour
    fig.add_vline(x=1, line_dash="dot")
    return _layout(fig, "Backtest accuracy by demand class and model", max(420, 22 * len(d) + 140))


def history_and_forecast(history: pd.DataFrame, forecast: pd.DataFrame, unique_id: str,
                         level: int = 80, last_days: int = 365) -> go.Figure:
    """Observed sales with stockout days shaded, the censored-demand estimate, and the forecast fan.

    ``history`` is the forecast engine's corrected history: ``y_observed`` (what sold), ``y`` (demand
    with stockout days imputed) and ``censored`` (the day was out of stock).
    """
    h = history[history["unique_id"] == unique_id].sort_values("ds")
    if last_days and len(h):
        h = h[h["ds"] > h["ds"].max() - pd.Timedelta(days=last_days)]
    f = forecast[forecast["unique_id"] == unique_id].sort_values("ds")
    fig = go.Figure()
    out = h[h["censored"].astype(bool)] if "censored" in h.columns else h.iloc[:0]
    if len(out):
        fig.add_trace(go.Bar(x=out["ds"], y=[h["y"].max() or 1] * len(out), name="out of stock",
                             marker_color="rgba(229,57,53,0.15)", hoverinfo="x"))
    observed = "y_observed" if "y_observed" in h.columns else "y"
    fig.add_trace(go.Scatter(x=h["ds"], y=h[observed], name="sales", line=dict(color="#424242", width=1)))
    if observed != "y" and len(out):
        fig.add_trace(go.Scatter(x=h["ds"], y=h["y"].where(h["censored"].astype(bool)), mode="markers",
                                 name="estimated demand on stockout days", marker=dict(color="#fb8c00", size=4)))
    lo, hi = f"yhat_lo_{level}", f"yhat_hi_{level}"
    if lo in f.columns:
        fig.add_trace(go.Scatter(x=pd.concat([f["ds"], f["ds"][::-1]]), y=pd.concat([f[hi], f[lo][::-1]]),
                                 fill="toself", fillcolor="rgba(30,136,229,0.18)", line=dict(width=0),
                                 name=f"{level}% interval"))
    model = f["model"].iloc[0] if len(f) and "model" in f.columns else "forecast"
    fig.add_trace(go.Scatter(x=f["ds"], y=f["yhat"], name=f"forecast ({model})", line=dict(color="#1e88e5")))
    fig.update_layout(bargap=0)
    return _layout(fig, f"{unique_id}: sales (red = out of stock), imputed demand and forecast", 380)

"""The Monday email: a short HTML summary (counts and top items per section, each with its reason),
small static charts inline as CID images, and the HTML reports and CSVs attached.

Everything taken from data is HTML-escaped; the body has no JavaScript (mail clients run none).
"""
from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.config import MailSettings
from workbench.io import read_frame
from workbench.report.mail import InlineImage, build_message
from workbench.report.email_monday import EMAIL_STYLE, email_monday, subject_counts
from workbench.report.fmt import display_frame

TOP_N = 8
# Attachments may take this many bytes once zipped and base64-encoded (× 4/3), so that the whole message,
# body and inline charts included, stays under 5 MB (many mail servers refuse 10 MB).
ATTACH_BUDGET_BYTES = 4_000_000
# Attached: the reports and the CSVs people act on; bulky intermediate tables stay in the report folder.
# forecast_quality.html (plotly embedded again) stays in the report folder so the email keeps under 5 MB.
# In order of need: when the size budget is short, what comes last stays in the report folder.
ATTACH = ("purchase_orders.csv", "purchase_orders_by_supplier.csv",
          "actions.csv", "money.csv", "changes.csv", "forecast_vs_actual.csv", "restock.csv", "restock_locations.csv",
          "pricing.csv", "ads.csv", "risk.csv",
          "risk_account_health.csv", "risk_alerts.csv", "risk_feed.csv", "risk_returns.csv",
          "risk_new_products.csv", "forecast_accuracy.csv", "rejects.csv", "weekly_report.html")


@dataclass
class Section:
    title: str
    headline: str
    table: pd.DataFrame | None = None
    chart_cid: str | None = None


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    p = folder / name
    return read_frame(p) if p.is_file() else None  # ids stay text ("00001", "NA")


def _fmt_pct(x: float) -> str:
    return f"{x:+.0%}" if abs(x) < 10 else f"{x:+.0f}%"


def restock_section(df: pd.DataFrame | None) -> Section:
    if df is None:
        return Section("Restock", "No restock results this week.")
    order = df[df["recommended_qty"] > 0]
    urgent = order["status"].isin(["alert_under_7d", "order_now", "consider_air"]).sum()
    air = order["ship_mode"].astype(str).str.contains("air").sum()
    head = (f"{len(order)} of {len(df)} SKUs to order ({urgent} urgent, {air} by air); "
            f"{int(order['recommended_qty'].sum()):,} units in total; every one is in the order sheet above.")
    return Section("Restock: what to order", head, None, "restock")


def sellable_cover(df: pd.DataFrame) -> pd.Series:
    """Days the sellable stock lasts (in-transit stock does not sell today)."""
    if "sellable_cover_days" in df.columns:
        return pd.to_numeric(df["sellable_cover_days"], errors="coerce")
    if {"available", "ads"} <= set(df.columns):
        return df["available"].clip(lower=0) / df["ads"].where(df["ads"] > 0)
    return pd.to_numeric(df["days_of_cover"], errors="coerce")


def pricing_section(df: pd.DataFrame | None) -> Section:
    if df is None:
        return Section("Pricing", "No pricing results this week.")
    change = df[df["change_pct"].abs() > 1e-9]
    phases = df["phase"].value_counts().to_dict()
    head = (f"{len(change)} of {len(df)} listings to re-price; phases: "
            + ", ".join(f"{k} {v}" for k, v in sorted(phases.items())) + ".")
    top = change.reindex(change["change_pct"].abs().sort_values(ascending=False).index)
    cols = ["sku", "channel", "phase", "current_price", "recommended_price", "change_pct", "reason"]
    return Section("Pricing: what to re-price", head, top[cols].head(TOP_N))


def ads_section(df: pd.DataFrame | None) -> Section:
    if df is None:
        return Section("Ad budgets", "No ads data this week (the dataset has no ads table).")
    change = df[(df["recommended_budget"] - df["current_budget"]).abs() > 1e-9]
    cur, rec = df["current_budget"].sum(), df["recommended_budget"].sum()
    head = (f"{len(change)} of {len(df)} campaigns to change; total daily budget "
            f"{cur:,.2f} → {rec:,.2f} ({(rec - cur) / cur:+.0%})." if cur else f"{len(change)} campaigns to change.")
    top = change.reindex((change["recommended_budget"] - change["current_budget"]).abs()
                         .sort_values(ascending=False).index)
    cols = ["sku", "campaign", "ad_type", "phase", "action", "current_budget", "recommended_budget", "reason"]
    return Section("Ad budgets: what to change", head, top[cols].head(TOP_N))


def risk_section(df: pd.DataFrame | None, health: pd.DataFrame | None) -> Section:
    if df is None:
        return Section("Risk", "No risk results this week.")
    levels = df["hijack_level"].value_counts()
    head = (f"Hijack risk: {levels.get('high', 0)} high, {levels.get('medium', 0)} medium, "
            f"{levels.get('low', 0)} low.")
    if health is not None and "breach" in health.columns:
        breaches = health[health["breach"].astype(str).str.lower().isin(["true", "1"])]
        head += f" Account health: {len(breaches)} breach(es)" + (
            " — " + "; ".join(breaches["reason"].astype(str).head(3)) if len(breaches) else "") + "."
    top = df.sort_values("hijack_score", ascending=False)
    cols = ["sku", "hijack_score", "hijack_level", "monitor_every_minutes", "stockout_risk", "reason"]
    return Section("Risk: hijack, stockout, account health", head, top[cols].head(TOP_N), "risk")


def forecast_section(df: pd.DataFrame | None) -> Section:
    if df is None or df.empty:
        return Section("Forecast quality", "No backtest results this week.")
    sel = df[df["model"] == "workbench (selected)"]
    head = "Backtest MASE of the selected models by demand class (1 = seasonal-naive in-sample error): " + \
        ", ".join(f"{r.demand_class} {r.mase:.2f} ({r.series} series)" if pd.notna(r.mase)
                  else f"{r.demand_class}: {r.series} series too short for a backtest" for r in sel.itertuples()) + "."
    return Section("Forecast quality", head, sel[["demand_class", "model", "mase", "series", "windows"]])


def _chart_restock(df: pd.DataFrame) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = df.assign(cover=sellable_cover(df).fillna(999)).sort_values("cover").head(12).iloc[::-1]
    colors = ["#c62828" if c <= 7 else "#f9a825" if c <= 20 else "#2e7d32" for c in d["cover"]]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.barh(d["sku"].astype(str), d["cover"].clip(upper=200), color=colors)
    ax.axvline(7, color="#c62828", lw=0.8, ls="--")
    ax.axvline(20, color="#f9a825", lw=0.8, ls="--")
    ax.set_xlabel("days of sellable stock (red ≤ 7, yellow ≤ 20; in transit not counted)")
    ax.set_title("Lowest sellable cover")
    return _png(fig)


def _chart_risk(df: pd.DataFrame) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = df.sort_values("hijack_score", ascending=False).head(12).iloc[::-1]
    colors = ["#c62828" if s > 60 else "#f9a825" if s >= 30 else "#2e7d32" for s in d["hijack_score"]]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.barh(d["sku"].astype(str), d["hijack_score"], color=colors)
    ax.set_xlim(0, 100)
    ax.set_xlabel("hijack score (0–100; > 60 high, 30–60 medium)")
    ax.set_title("Highest hijack risk")
    return _png(fig)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _table_html(df: pd.DataFrame) -> str:
    # to_html escapes every cell, so product titles and reasons cannot inject markup
    return display_frame(df).to_html(index=False, escape=True, border=0, classes="t")


def attachments_within_budget(files: list[Path], budget: int = ATTACH_BUDGET_BYTES) -> tuple[list[Path], list[Path]]:
    """(attached, left in the report folder): files in the given order while their zipped, base64 size fits.

    Each file is deflated once to estimate its share of the zip (a zip is about the sum of its members).
    A file that does not fit is left out and named in the email; later, smaller files may still fit.
    """
    import zlib

    kept, left, used = [], [], 0
    for p in files:
        cost = len(zlib.compress(p.read_bytes(), 6)) * 4 // 3 + 200
        if used + cost <= budget:
            kept.append(p)
            used += cost
        else:
            left.append(p)
    return kept, left


def weekly_email(settings: MailSettings, as_of: str, report_dir: Path):
    restock = _read(report_dir, "restock.csv")
    risk = _read(report_dir, "risk.csv")
    acts, po = _read(report_dir, "actions.csv"), _read(report_dir, "purchase_orders.csv")
    sections = [
        restock_section(restock),
        pricing_section(_read(report_dir, "pricing.csv")),
        ads_section(_read(report_dir, "ads.csv")),
        risk_section(risk, _read(report_dir, "risk_account_health.csv")),
        forecast_section(_read(report_dir, "forecast_accuracy.csv")),
    ]
    images = []
    if restock is not None and len(restock):
        images.append(InlineImage("restock", _chart_restock(restock)))
    if risk is not None and len(risk):
        images.append(InlineImage("risk", _chart_risk(risk)))
    have = {i.cid for i in images}
    attachments, left = attachments_within_budget([report_dir / name for name in ATTACH
                                                   if (report_dir / name).is_file()])
    names = ", ".join(p.name for p in attachments)
    monday = email_monday(report_dir, acts, po, names)

    parts = [f"<h1>Weekly workbench report — as of {html.escape(as_of)}</h1>"] + monday.html
    text = [f"Weekly workbench report - as of {as_of}", ""] + monday.text
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2><p>{html.escape(s.headline)}</p>")
        text += [s.title, "  " + s.headline, ""]
        if s.chart_cid in have:
            parts.append(f'<img src="cid:{s.chart_cid}" alt="{html.escape(s.title)} chart" width="600">')
        if s.table is not None and len(s.table):
            parts.append(_table_html(s.table))
    too_big = (", ".join(p.name for p in left) + " (too large to attach: the email stays under 5 MB), ") if left else ""
    parts.append("<p style='color:#666'>Attached: " + html.escape(names) + ". In the report folder "
                 + html.escape(str(report_dir)) + ": " + html.escape(too_big) + "forecast_quality.html and every "
                 "table in full (demand history, forecasts, backtests).</p>")
    if left:
        text += [f"Too large to attach (in the report folder): {', '.join(p.name for p in left)}", ""]
    body = f"<html><head><meta charset='utf-8'>{EMAIL_STYLE}</head><body>{''.join(parts)}</body></html>"
    subject = f"Weekly workbench report — as of {as_of} — {subject_counts(acts, po)}"
    return build_message(settings, subject, body, "\n".join(text),
                         images=images, attachments=attachments, zip_name=f"workbench-{as_of}.zip")

"""The Monday to-do list: one ranked list of actions across restock, pricing, ads and risk.

Each action says what to do, by when and the money at stake, and is ranked by urgency first
(``now`` before ``today`` before ``this week``), then by money. Built from the run's CSVs.
"""
from __future__ import annotations

import pandas as pd

URGENCY = {"now": 0, "today": 1, "this week": 2}
COLUMNS = ["rank", "urgency", "kind", "subject", "action", "due", "money_at_stake", "money_basis", "reason"]
RATE_METRICS = {"odr", "cancel_rate", "late_shipment_rate"}
HEALTH_FIX = {"odr": "work through the defective orders (A-to-z claims, negative feedback, chargebacks) and answer each",
              "cancel_rate": "find the cancelled orders' cause (stock sync, pricing errors) and fix it",
              "late_shipment_rate": "chase unshipped orders within 24 h and check carrier handover times",
              "rating": "answer negative reviews and fix the top return reasons"}


def _truthy(s: pd.Series) -> pd.Series:
    return s.astype(str).str.lower().isin(["true", "1", "yes"])


def metric_value(metric: str, value: float) -> str:
    """Rates as percentages (0.0080 → 0.80%), ratings as they are (4.61)."""
    return f"{value:.2%}" if metric in RATE_METRICS else f"{value:.2f}"


def _by(frame: pd.DataFrame, key, column: str) -> pd.Series:
    """``column`` looked up by ``key`` (a column or a list of columns); empty when the frame is."""
    return frame.set_index(key)[column] if len(frame) else pd.Series(dtype=float)


def _row(urgency, kind, subject, action, due, money, basis, reason) -> dict:
    return dict(urgency=urgency, kind=kind, subject=subject, action=action, due=pd.Timestamp(due),
                money_at_stake=round(float(money), 2) if pd.notna(money) else 0.0, money_basis=basis, reason=reason)


def health_actions(health: pd.DataFrame | None, revenue: pd.DataFrame, as_of) -> list[dict]:
    if health is None or not len(health):
        return []
    rev = revenue.groupby("channel")["revenue"].sum()
    out = []
    for h in health[_truthy(health["breach"])].itertuples():
        value = metric_value(h.metric, float(h.latest))
        out.append(_row("now", "account health breach", f"{h.channel} {h.metric}",
                        f"{h.channel} {h.metric} {value} breaches target {h.target} ({h.trend}): "
                        f"{HEALTH_FIX.get(h.metric, 'find the cause and fix it')}",
                        as_of, rev.get(h.channel, 0.0), "the channel's revenue in the last 7 days", h.reason))
    return out


def out_of_stock_actions(restock: pd.DataFrame | None, risk: pd.DataFrame, as_of) -> list[dict]:
    """SKUs with no sellable stock now; the money is the revenue the next 4 weeks put at risk."""
    if restock is None or not len(restock):
        return []
    stake = _by(risk, "sku", "revenue_at_risk")
    out = []
    for r in restock[restock["available"] <= 0].itertuples():
        qty = int(getattr(r, "recommended_qty", 0) or 0)
        todo = (f"no sellable stock: order {qty:,} units ({r.ship_mode}) now" if qty > 0 else
                f"no sellable stock: {int(r.inbound):,} units inbound; chase the shipment and hold ads/price per the "
                "stockout rules")
        out.append(_row("now", "out of sellable stock", r.sku, todo, as_of, stake.get(r.sku, 0.0),
                        "revenue at risk in the next 4 weeks", r.reason))
    return out


def buybox_actions(alerts: pd.DataFrame | None, revenue: pd.DataFrame, as_of) -> list[dict]:
    if alerts is None or not len(alerts):
        return []
    rev = _by(revenue, ["sku", "channel"], "revenue")
    high = alerts[alerts["severity"].astype(str) == "high"]
    if "date" in high.columns:  # one action per listing and alert type: the latest reading
        high = high.sort_values("date", kind="stable")
    high = high.drop_duplicates(["sku", "channel", "alert"], keep="last")
    out = []
    for a in high.itertuples():
        what = ("Buy Box lost: within 1 hour test-buy the other offer, file a complaint if it is a hijacker, check "
                "your price" if a.alert == "buybox_lost" else f"{str(a.alert).replace('_', ' ')}: check the listing")
        kind = "Buy Box lost" if a.alert == "buybox_lost" else "offers alert"
        out.append(_row("today", kind, f"{a.sku} {a.channel}", what, as_of, rev.get((a.sku, a.channel), 0.0),
                        "the listing's revenue in the last 7 days", a.reason))
    return out


def order_actions(po: pd.DataFrame | None, risk: pd.DataFrame, as_of) -> list[dict]:
    """One action per SKU whose purchase-order lines are due today (order-by passed) or this week."""
    if po is None or not len(po):
        return []
    as_of = pd.Timestamp(as_of)
    stake = _by(risk, "sku", "revenue_at_risk")
    per_sku = (po.assign(order_by=pd.to_datetime(po["order_by"]), line=po["qty"].astype(int).map("{:,}".format)
                         + " by " + po["mode"].astype(str))
               .groupby(["sku", "supplier"], as_index=False)
               .agg(lines=("line", " + ".join), qty=("qty", "sum"), amount=("amount", "sum"), order_by=("order_by", "min"),
                    reason=("reason", "first")))
    # one restock reason per SKU (every PO line of a SKU repeats it after "restock: ")
    per_sku["reason"] = per_sku["reason"].str.split("restock: ", n=1).str[-1]
    out = []
    for p in per_sku.itertuples():
        due = pd.Timestamp(p.order_by)
        if due > as_of + pd.Timedelta(days=7):
            continue
        late = f" (order-by {due:%Y-%m-%d} has passed)" if due < as_of else ""
        out.append(_row("today" if due <= as_of else "this week", "order due", p.sku,
                        f"order {p.lines} from {p.supplier}{late}: {p.amount:,.2f} goods",
                        max(due, as_of), max(stake.get(p.sku, 0.0), p.amount),
                        "revenue at risk in the next 4 weeks, or the order's value if larger", p.reason))
    return out


def feed_actions(feed: pd.DataFrame | None, revenue: pd.DataFrame, as_of) -> list[dict]:
    """Stale supplier feeds: the SKU's week of revenue sells on stock nobody has confirmed."""
    if feed is None or not len(feed) or "stale" not in feed.columns:
        return []
    rev = revenue.groupby("sku")["revenue"].sum() if len(revenue) else pd.Series(dtype=float)
    out = []
    for f in feed[_truthy(feed["stale"])].itertuples():
        out.append(_row("today", "stale supplier feed", f"{f.supplier} / {f.sku}",
                        f"supplier feed {f.hours_since_reading:.0f} h old: ask {f.supplier} for fresh stock; until then "
                        "list conservatively", as_of, rev.get(f.sku, 0.0),
                        "the SKU's revenue in the last 7 days, sold on unconfirmed supplier stock", f.reason))
    return out


def recovery_actions(pricing: pd.DataFrame | None, revenue: pd.DataFrame, as_of) -> list[dict]:
    if pricing is None or not len(pricing):
        return []
    rev = _by(revenue, ["sku", "channel"], "revenue")
    rec = pricing[(pricing["phase"] == "recovery") & (pricing["change_pct"].abs() > 1e-9)]
    return [_row("today", "recovery step due", f"{p.sku} {p.channel}",
                 f"recovery price step: {p.current_price:,.2f} → {p.recommended_price:,.2f} ({p.change_pct:+.1f}%); "
                 "raise core ad budgets per the ads table", as_of, rev.get((p.sku, p.channel), 0.0),
                 "the listing's revenue in the last 7 days", p.reason) for p in rec.itertuples()]


def rank(rows: list[dict]) -> pd.DataFrame:
    """Urgency first, then money at stake (largest first); ``rank`` 1 is the first thing to do."""
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.DataFrame(rows)
    df = df.assign(_u=df["urgency"].map(URGENCY)).sort_values(["_u", "money_at_stake"], ascending=[True, False],
                                                               kind="stable")
    df["rank"] = range(1, len(df) + 1)
    return df[COLUMNS].reset_index(drop=True)


def subject_counts(actions: pd.DataFrame, po: pd.DataFrame | None) -> str:
    """e.g. "3 urgent · 11 to order · 1 health breach · 15 Buy Box lost"."""
    urgent = int((actions["urgency"] == "now").sum()) if len(actions) else 0
    to_order = int(po["sku"].nunique()) if po is not None and len(po) else 0
    breaches = int((actions["kind"] == "account health breach").sum()) if len(actions) else 0
    parts = [f"{urgent} urgent", f"{to_order} to order", f"{breaches} health breach{'es' if breaches != 1 else ''}"]
    buybox = int((actions["kind"] == "Buy Box lost").sum()) if len(actions) else 0
    if buybox:
        parts.append(f"{buybox} Buy Box lost")
    return " · ".join(parts)

"""Money in the weekly report: revenue lost and at risk, overstock and its holding cost, ad spend, PO cash.

Every figure is computed from the run's CSVs (demand history, forecast, restock, ads, purchase
orders) and the input tables (list prices, unit costs, open shipments), and carries a reason.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Monthly cost of holding stock, as a share of its value (storage, capital, shrinkage). An assumption,
#: stated in every reason that uses it; sellers with their own figure pass it in.
HOLDING_RATE_PER_MONTH = 0.02
#: The restock policy calls a SKU overstocked above this cover (its ``overstock_cover_days`` default).
OVERSTOCK_COVER_DAYS = 180.0


def _prices(products: pd.DataFrame) -> pd.Series:
    return products.set_index("sku")["price"].astype(float)


def lost_last_week(history: pd.DataFrame | None, products: pd.DataFrame, as_of, days: int = 7) -> pd.DataFrame:
    """Demand the stockout days of the last ``days`` hid (estimated demand − units sold) × list price."""
    cols = ["sku", "stockout_days", "lost_units", "price", "revenue_lost", "reason"]
    if history is None or not len(history):
        return pd.DataFrame(columns=cols)
    end = pd.Timestamp(as_of)
    h = history[(pd.to_datetime(history["ds"]) > end - pd.Timedelta(days=days)) & (pd.to_datetime(history["ds"]) <= end)]
    h = h[h["censored"].astype(str).str.lower().isin(["true", "1"])]
    g = (h.assign(lost=(h["y"] - h["y_observed"]).clip(lower=0))
         .groupby("unique_id", as_index=False).agg(stockout_days=("ds", "nunique"), lost_units=("lost", "sum")))
    g = g.rename(columns={"unique_id": "sku"})
    g = g[g["lost_units"] > 0]
    g["price"] = g["sku"].map(_prices(products))
    g["revenue_lost"] = (g["lost_units"] * g["price"]).round(2)
    g["reason"] = [f"{d} stockout day(s) in the {days} days to {end:%Y-%m-%d}: {u:,.0f} units of estimated demand "
                   f"not sold × list price {p:,.2f} = {r:,.2f}"
                   for d, u, p, r in zip(g["stockout_days"], g["lost_units"], g["price"], g["revenue_lost"])]
    return g.sort_values("revenue_lost", ascending=False)[cols].reset_index(drop=True)


def _arrivals(shipments: pd.DataFrame | None, as_of: pd.Timestamp, days: int) -> pd.DataFrame:
    """Open shipments (not received) by SKU and arrival day 1..days after ``as_of`` (late ones on day 1)."""
    if shipments is None or not len(shipments):
        return pd.DataFrame(columns=["sku", "day", "qty"])
    s = shipments[shipments["received_date"].isna()] if "received_date" in shipments.columns else shipments
    eta = pd.to_datetime(s["eta"], errors="coerce")
    day = ((eta - as_of).dt.days).clip(lower=1)
    return pd.DataFrame({"sku": s["sku"], "day": day, "qty": s["qty"]}).query("day <= @days")


def at_risk(forecast: pd.DataFrame | None, restock: pd.DataFrame, products: pd.DataFrame,
            shipments: pd.DataFrame | None, as_of, days: int = 28) -> pd.DataFrame:
    """Revenue the forecast says will not be served in the next ``days``: day by day, sellable stock plus
    open shipments on their ETA meet forecast demand; unmet units (lost sales) × list price."""
    cols = ["sku", "demand_units", "available", "arriving_units", "short_units", "first_short_date", "price",
            "revenue_at_risk", "reason"]
    if forecast is None or restock is None or not len(forecast):
        return pd.DataFrame(columns=cols)
    as_of = pd.Timestamp(as_of)
    f = forecast.assign(day=(pd.to_datetime(forecast["ds"]) - as_of).dt.days)
    f = f[(f["day"] >= 1) & (f["day"] <= days)]
    demand = f.pivot_table(index="unique_id", columns="day", values="yhat", aggfunc="sum").reindex(
        columns=range(1, days + 1), fill_value=0).fillna(0).clip(lower=0)
    skus = restock["sku"].astype(str)
    demand = demand.reindex(skus, fill_value=0)
    arr = _arrivals(shipments, as_of, days)
    supply = arr.pivot_table(index="sku", columns="day", values="qty", aggfunc="sum").reindex(
        index=skus, columns=range(1, days + 1), fill_value=0).fillna(0) if len(arr) else demand * 0
    stock = restock.set_index("sku")["available"].reindex(skus).clip(lower=0).astype(float).to_numpy()
    short = np.zeros(len(skus))
    first = np.full(len(skus), np.nan)
    for d in range(days):
        stock = stock + supply.iloc[:, d].to_numpy()
        unmet = np.maximum(demand.iloc[:, d].to_numpy() - stock, 0)
        # the first day demand goes unmet at all: a "> 0.5 units that day" test missed small daily gaps that
        # add up to a listed shortfall, and left its reason without a date
        first = np.where(np.isnan(first) & (unmet > 1e-6), d + 1, first)
        short += unmet
        stock = np.maximum(stock - demand.iloc[:, d].to_numpy(), 0)
    out = pd.DataFrame({"sku": skus.to_numpy(), "demand_units": demand.sum(axis=1).to_numpy(),
                        "available": restock.set_index("sku")["available"].reindex(skus).to_numpy(),
                        "arriving_units": supply.sum(axis=1).to_numpy(), "short_units": short})
    out["first_short_date"] = [as_of + pd.Timedelta(days=int(x)) if not np.isnan(x) else pd.NaT for x in first]
    out["price"] = out["sku"].map(_prices(products))
    out["revenue_at_risk"] = (out["short_units"] * out["price"]).round(2)
    out = out[out["short_units"] >= 0.5]
    out["reason"] = [f"next {days} d: forecast demand {dm:,.0f} vs {av:,.0f} sellable + {ar:,.0f} arriving on their ETA; "
                     f"short {s:,.0f} units from {fd:%Y-%m-%d} × list price {p:,.2f} = {r:,.2f}"
                     for dm, av, ar, s, fd, p, r in zip(out["demand_units"], out["available"], out["arriving_units"],
                                                       out["short_units"], out["first_short_date"], out["price"],
                                                       out["revenue_at_risk"])]
    return out.sort_values("revenue_at_risk", ascending=False)[cols].reset_index(drop=True)


def overstock(restock: pd.DataFrame | None, products: pd.DataFrame, cover_days: float = OVERSTOCK_COVER_DAYS,
              holding_rate: float = HOLDING_RATE_PER_MONTH) -> pd.DataFrame:
    """Units above ``cover_days`` of average daily sales, their value at unit cost and monthly holding cost."""
    cols = ["sku", "excess_units", "unit_cost", "overstock_value", "holding_cost_month", "reason"]
    if restock is None or not len(restock):
        return pd.DataFrame(columns=cols)
    r = restock.merge(products[["sku", "unit_cost"]], on="sku", how="left", suffixes=("_r", ""))
    stock = r["available"].clip(lower=0) + r["inbound"].fillna(0)
    keep = (stock - r["ads"].fillna(0) * cover_days).clip(lower=0).round()
    r = r.assign(excess_units=keep)[keep > 0]
    r["overstock_value"] = (r["excess_units"] * r["unit_cost"]).round(2)
    r["holding_cost_month"] = (r["overstock_value"] * holding_rate).round(2)
    r["reason"] = [f"{a + i:,.0f} units (available + inbound) − {cover_days:.0f} d × {ads:,.1f}/d = {e:,.0f} excess "
                   f"× unit cost {c:,.2f} = {v:,.2f}; holding {holding_rate:.0%}/month (assumed) = {h:,.2f}/month"
                   for a, i, ads, e, c, v, h in zip(r["available"].clip(lower=0), r["inbound"].fillna(0), r["ads"].fillna(0),
                                                    r["excess_units"], r["unit_cost"], r["overstock_value"],
                                                    r["holding_cost_month"])]
    return r.sort_values("overstock_value", ascending=False)[cols].reset_index(drop=True)


def weekly_revenue(sales: pd.DataFrame | None, as_of, days: int = 7) -> pd.DataFrame:
    """Revenue per SKU and channel over the last ``days`` (what a lost listing or account puts at stake)."""
    if sales is None or not len(sales):
        return pd.DataFrame(columns=["sku", "channel", "revenue"])
    end = pd.Timestamp(as_of)
    d = pd.to_datetime(sales["date"])
    s = sales[(d > end - pd.Timedelta(days=days)) & (d <= end)]
    return s.groupby(["sku", "channel"], as_index=False)["revenue"].sum()


def summary(lost: pd.DataFrame, risk: pd.DataFrame, over: pd.DataFrame, ads: pd.DataFrame | None,
            po_totals: pd.DataFrame | None) -> pd.DataFrame:
    """One row per money figure of the week, each with the reason for its number."""
    rows = [
        ("revenue lost to stockouts last week", lost["revenue_lost"].sum(),
         f"{len(lost)} SKU(s) out of stock in the last 7 days: {lost['lost_units'].sum():,.0f} units of estimated "
         "demand not sold, at list price"),
        ("revenue at risk, next 4 weeks", risk["revenue_at_risk"].sum(),
         f"{len(risk)} SKU(s) whose forecast demand exceeds sellable stock plus arrivals on their ETA: "
         f"{risk['short_units'].sum():,.0f} units short, at list price"),
        ("overstock value", over["overstock_value"].sum(),
         f"{len(over)} SKU(s) with more than {OVERSTOCK_COVER_DAYS:.0f} days of sales in stock and in transit: "
         f"{over['excess_units'].sum():,.0f} excess units at unit cost"),
        ("overstock holding cost per month", over["holding_cost_month"].sum(),
         f"overstock value × {HOLDING_RATE_PER_MONTH:.0%}/month (assumed storage, capital and shrinkage)"),
    ]
    if ads is not None and len(ads):
        cur, rec = ads["current_budget"].sum(), ads["recommended_budget"].sum()
        rows.append(("ad spend change per week", round((rec - cur) * 7, 2),
                     f"daily budgets {cur:,.2f} → {rec:,.2f} over {len(ads)} campaigns, × 7 days"))
    if po_totals is not None and len(po_totals):
        t = po_totals[po_totals["supplier"] == "TOTAL"].iloc[0]
        rows.append(("purchase-order cash (goods + freight)", round(float(t["cash"]), 2),
                     f"{int(t['qty']):,} units from {len(po_totals) - 1} supplier/mode order(s): goods "
                     f"{t['amount']:,.2f} + estimated freight {t['freight']:,.2f}"))
    out = pd.DataFrame(rows, columns=["item", "amount", "reason"])
    out["amount"] = out["amount"].astype(float).round(2)
    return out

"""Draft purchase orders from the restock recommendations: one line per SKU and ship mode.

Reads the run's ``restock.csv`` (never the policy internals) plus the input ``products`` (unit cost)
and ``shipments`` (past freight per unit). A restock row shipped ``air+sea`` becomes two lines, the
air part (``air_qty``) and the rest by sea, so the units of the sheet always add up to restock's
``recommended_qty``.
"""
from __future__ import annotations

import pandas as pd

COLUMNS = ["supplier", "mode", "sku", "title", "qty", "unit_cost", "amount", "freight", "order_by",
           "stockout_probability", "reason"]


def freight_per_unit(shipments: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Median past freight cost per unit by (supplier, mode), and by mode across suppliers."""
    empty = pd.Series(dtype=float)
    if shipments is None or "freight_cost" not in shipments.columns:
        return empty, empty
    s = shipments.assign(qty=pd.to_numeric(shipments["qty"], errors="coerce"),
                         freight_cost=pd.to_numeric(shipments["freight_cost"], errors="coerce"))
    s = s[(s["qty"] > 0) & s["freight_cost"].notna()]
    s = s.assign(per_unit=s["freight_cost"] / s["qty"])
    return s.groupby(["supplier", "mode"])["per_unit"].median(), s.groupby("mode")["per_unit"].median()


def _lines(restock: pd.DataFrame) -> pd.DataFrame:
    """One row per SKU and mode: ``air+sea`` rows split into their air and sea parts."""
    order = restock[pd.to_numeric(restock["recommended_qty"], errors="coerce").fillna(0) > 0].copy()
    order["recommended_qty"] = order["recommended_qty"].astype(int)
    air = order["air_qty"].fillna(0).astype(int) if "air_qty" in order.columns else pd.Series(0, index=order.index)
    mode = order["ship_mode"].astype(str)
    split = mode.str.contains(r"\+") & (air > 0) & (air < order["recommended_qty"])
    combined = mode.str.contains(r"\+")
    single = mode.where(~combined, (air >= order["recommended_qty"]).map({True: "air", False: "sea"}))
    whole = order[~split].assign(qty=order["recommended_qty"][~split], mode=single[~split], part="")
    air_part = order[split].assign(qty=air[split], mode="air", part=" (air part of an air+sea order)")
    sea_part = order[split].assign(qty=order["recommended_qty"][split] - air[split], mode="sea",
                                   part=" (sea part of an air+sea order)")
    return pd.concat([whole, air_part, sea_part], ignore_index=True)


def purchase_orders(restock: pd.DataFrame, products: pd.DataFrame, shipments: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Draft PO lines grouped by supplier and mode: qty × unit cost = amount, estimated freight, order-by."""
    if restock is None or not len(restock):
        return pd.DataFrame(columns=COLUMNS)
    lines = _lines(restock)
    if "supplier" in lines.columns:
        lines = lines.drop(columns=[c for c in ("unit_cost",) if c in lines.columns])
    else:
        lines = lines.merge(products[["sku", "supplier"]], on="sku", how="left")
    lines = lines.merge(products[["sku", "unit_cost"]], on="sku", how="left")
    if "title" not in lines.columns:
        lines = lines.merge(products[["sku", "title"]], on="sku", how="left")
    lines["supplier"] = lines["supplier"].fillna("(no supplier on file)")
    lines["amount"] = (lines["qty"] * lines["unit_cost"]).round(2)
    by_pair, by_mode = freight_per_unit(shipments)
    rate, basis = [], []
    for sup, mode in zip(lines["supplier"], lines["mode"]):
        if (sup, mode) in by_pair.index:
            rate.append(by_pair[(sup, mode)]), basis.append(f"median past {mode} freight from {sup}")
        elif mode in by_mode.index:
            rate.append(by_mode[mode]), basis.append(f"median past {mode} freight, all suppliers")
        else:
            rate.append(0.0), basis.append(f"no past {mode} shipment to estimate freight from")
    lines["freight"] = (lines["qty"] * pd.Series(rate, index=lines.index, dtype=float)).round(2)
    lines["reason"] = [
        f"{q:,} units{part} × unit cost {c:,.2f} = {a:,.2f}; freight ≈ {f:,.2f} ({fr:.2f}/unit, {b}); "
        f"order by {pd.Timestamp(o):%Y-%m-%d}; restock: {r}"
        for q, part, c, a, f, fr, b, o, r in zip(lines["qty"], lines["part"], lines["unit_cost"], lines["amount"],
                                                 lines["freight"], rate, basis, lines["order_by"], lines["reason"])]
    out = lines.reindex(columns=COLUMNS)
    return out.sort_values(["supplier", "mode", "order_by", "sku"], kind="stable").reset_index(drop=True)


def supplier_totals(po: pd.DataFrame) -> pd.DataFrame:
    """Cash per supplier and mode (goods + estimated freight), the earliest order-by date, and the total."""
    if po is None or not len(po):
        return pd.DataFrame(columns=["supplier", "mode", "skus", "qty", "amount", "freight", "cash", "order_by"])
    g = (po.groupby(["supplier", "mode"], as_index=False)
         .agg(skus=("sku", "nunique"), qty=("qty", "sum"), amount=("amount", "sum"), freight=("freight", "sum"),
              order_by=("order_by", "min")))
    g["cash"] = (g["amount"] + g["freight"]).round(2)
    total = pd.DataFrame([{"supplier": "TOTAL", "mode": "all", "skus": po["sku"].nunique(), "qty": g["qty"].sum(),
                           "amount": g["amount"].sum(), "freight": g["freight"].sum(), "cash": g["cash"].sum(),
                           "order_by": g["order_by"].min()}])
    return pd.concat([g.sort_values("cash", ascending=False), total], ignore_index=True)

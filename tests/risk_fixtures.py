"""A real stock snapshot of small hand-written risk tables, for the risk rules' one verb ``recommend(snapshot)``.

The risk tests write only the tables a rule reads (offers, account_health, supplier_feed, returns,
sales); :func:`risk_snapshot` fills in what :func:`workbench.stock.build_snapshot` needs besides:
no shipments, no sales unless given, and (unless ``inventory`` is given) 1,000 units of each SKU at
one warehouse, so with no sales every SKU has the maximum cover and no low-cover points.
"""
from __future__ import annotations

import pandas as pd

from workbench.stock import build_snapshot


def empty_shipments() -> pd.DataFrame:
    ships = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]") for c in ("order_date", "ship_date", "eta", "received_date")})
    return ships.assign(shipment_id=pd.Series(dtype=str), sku=pd.Series(dtype=str), supplier=pd.Series(dtype=str),
                        mode=pd.Series(dtype=str), qty=pd.Series(dtype="int64"), location=pd.Series(dtype=str))


def risk_snapshot(as_of, products: pd.DataFrame, **tables):
    """``build_snapshot`` of ``products`` and ``tables`` (name -> frame; ``None`` leaves a table out)."""
    as_of = pd.Timestamp(as_of)
    skus = products["sku"].astype(str).tolist()
    ds = {"products": products,
          "inventory": pd.DataFrame({"as_of": as_of, "sku": skus, "location": "FBA-US-EAST", "on_hand": 1000,
                                     "reserved": 0}),
          "shipments": empty_shipments(),
          "sales": pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "sku": pd.Series(dtype=str),
                                 "channel": pd.Series(dtype=str), "units": pd.Series(dtype=float)})}
    ds.update({name: frame for name, frame in tables.items() if frame is not None})
    return build_snapshot(ds, as_of)

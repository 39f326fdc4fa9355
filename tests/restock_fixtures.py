"""Small hand-made frames for the lead-time and restock tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-03-01")


def products(**over) -> pd.DataFrame:
    base = dict(sku=["A"], title=["a"], brand=["b"], category=["kitchen"], product_type=["private_label"],
                brand_registered=[True], unit_cost=[5.0], price=[20.0], fee_rate=[0.15], supplier=["S1"],
                moq=[100], case_pack=[10], is_key_item=[False])
    base.update(over)
    n = len(base["sku"])
    base = {k: (v * n if len(v) == 1 and n > 1 else v) for k, v in base.items()}
    return pd.DataFrame(base)


def inventory(sku="A", on_hand=100, reserved=0, as_of=AS_OF, location="FBA-US") -> pd.DataFrame:
    skus = [sku] if isinstance(sku, str) else list(sku)
    oh = on_hand if isinstance(on_hand, list) else [on_hand] * len(skus)
    rs = reserved if isinstance(reserved, list) else [reserved] * len(skus)
    return pd.DataFrame({"as_of": pd.Timestamp(as_of), "sku": skus, "location": location,
                         "on_hand": np.array(oh, dtype="int64"), "reserved": np.array(rs, dtype="int64")})


def shipments(rows: list[dict] | None = None) -> pd.DataFrame:
    cols = ["shipment_id", "sku", "supplier", "mode", "qty", "order_date", "ship_date", "eta", "received_date", "location"]
    df = pd.DataFrame(rows or [], columns=cols)
    for c in ("order_date", "ship_date", "eta", "received_date"):
        df[c] = pd.to_datetime(df[c])
    df["qty"] = df["qty"].astype("int64")
    return df


def received(supplier, mode, lead_times, sku="A", start="2025-01-05", every_days=14, eta_offset=None):
    """Received shipments with the given order → received lead times."""
    rows = []
    for i, lt in enumerate(lead_times):
        od = pd.Timestamp(start) + pd.Timedelta(days=every_days * i)
        rows.append(dict(shipment_id=f"{supplier}-{mode}-{i}", sku=sku, supplier=supplier, mode=mode, qty=100,
                         order_date=od, ship_date=od + pd.Timedelta(days=3),
                         eta=None if eta_offset is None else od + pd.Timedelta(days=eta_offset),
                         received_date=od + pd.Timedelta(days=float(lt)), location="FBA-US"))
    return rows


def flat_forecast(skus, yhat, as_of=AS_OF, horizon=120, sigma=None, model="AutoETS") -> pd.DataFrame:
    """Flat daily forecast; intervals from a normal with std ``sigma`` (default sqrt(yhat))."""
    skus = [skus] if isinstance(skus, str) else list(skus)
    yh = yhat if isinstance(yhat, (list, np.ndarray)) else [yhat] * len(skus)
    frames = []
    for s, y in zip(skus, yh):
        sd = max(np.sqrt(y), 1e-6) if sigma is None else sigma
        ds = pd.date_range(pd.Timestamp(as_of) + pd.Timedelta(days=1), periods=horizon, freq="D")
        frames.append(pd.DataFrame({
            "unique_id": s, "ds": ds, "model": model, "yhat": float(y),
            "yhat_lo_80": y - 1.2816 * sd, "yhat_hi_80": y + 1.2816 * sd,
            "yhat_lo_95": y - 1.96 * sd, "yhat_hi_95": y + 1.96 * sd,
        }))
    return pd.concat(frames, ignore_index=True)


def recent_mean_forecast(sales: pd.DataFrame, skus, as_of, horizon=90, window=28) -> pd.DataFrame:
    """Flat forecast at the mean of in-stock days in the last ``window`` days (a stand-in for the engine)."""
    as_of = pd.Timestamp(as_of)
    s = sales[(sales["date"] > as_of - pd.Timedelta(days=window)) & (sales["date"] <= as_of)]
    daily = s.groupby([s["sku"].astype(str), "date"], observed=True).agg(units=("units", "sum"),
                                                                         in_stock=("in_stock", "all"))
    daily = daily[daily["in_stock"]]
    level = daily.groupby(level=0)["units"].mean().reindex(pd.Index(skus, dtype=str)).fillna(0.0)
    return flat_forecast(list(level.index), list(level.to_numpy()), as_of=as_of, horizon=horizon, sigma=None)


def snap(products, inventory, shipments, forecast, as_of, sales=None, events=None, lead_times=None):
    """The run's stock snapshot from hand-made frames (what the pipeline builds from a dataset)."""
    from workbench.stock import build_snapshot

    tables = {"products": products, "inventory": inventory, "shipments": shipments, "sales": sales, "events": events}
    return build_snapshot(tables, as_of, forecast=forecast, lead_times=lead_times)

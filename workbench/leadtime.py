"""Supplier lead-time distributions per supplier × mode, and arrival risk for in-transit shipments.

Lead time is measured from ``order_date`` to ``received_date`` (days), i.e. the full replenishment
cycle the playbook talks about (domain-rules.md §1), not just the transit leg.

The estimate per supplier × mode is a credibility-weighted blend of the supplier's own history and
the pooled history of every supplier using that mode:

    w      = n / (n + k)                         (k = ``prior_shipments``)
    mean   = w · mean_supplier + (1 − w) · mean_mode
    var    = w · var_supplier  + (1 − w) · var_mode
    q_p    = w · q_p,supplier  + (1 − w) · q_p,mode

(Bühlmann credibility; Klugman, Panjer & Willmot, *Loss Models*, ch. 17.) A mode with no history at
all uses :data:`DEFAULT_LEAD_TIMES`. Seasonal shifts (e.g. sea freight late before Chinese New Year
and before peak) are estimated per mode and order month as the mean residual of shipments ordered in
that month, shrunk towards 0 with ``prior_shipments`` pseudo-observations; they are returned as
columns ``shift_m01`` … ``shift_m12`` (days added to the mean for orders placed in that month).
With seasonal shifts on, mean, std and quantiles describe the deseasonalized lead time (each
shipment minus its order month's shift); :func:`lookup_lead_times` adds the shift back, so the
predictable part of the seasonal delay moves the mean instead of inflating the spread.
``raw_mean_days`` / ``raw_std_days`` are the supplier's plain history.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MODES = ("sea", "air", "rail", "truck", "express")

# Defaults when a mode has no received shipment at all: (mean days, std days), order → received.
DEFAULT_LEAD_TIMES: dict[str, tuple[float, float]] = {
    "sea": (45.0, 9.0),
    "rail": (30.0, 6.0),
    "truck": (10.0, 3.0),
    "air": (12.0, 3.0),
    "express": (6.0, 1.5),
}
# Default lateness against the ETA when nothing is known: (mean days, std days).
DEFAULT_LATENESS: dict[str, tuple[float, float]] = {
    "sea": (3.0, 5.0), "rail": (2.0, 3.0), "truck": (1.0, 1.5), "air": (1.0, 1.5), "express": (0.5, 1.0),
}
POOLED = "*"  # the supplier value of a mode's pooled row

LT_COLUMNS = [
    "supplier", "mode", "n_shipments", "lead_time_days", "lead_time_std", "p50_days", "p90_days",
    "p95_days", "raw_mean_days", "raw_std_days", "weight_own", "source", "lateness_mean_days",
    "lateness_std_days", "late_share", *[f"shift_m{m:02d}" for m in range(1, 13)],
]


def _check_positive(name: str, value, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not np.isfinite(value) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be a finite number {bound}, got {value!r}")


def received_lead_times(shipments: pd.DataFrame, as_of) -> pd.DataFrame:
    """Received shipments known at ``as_of``, with ``lead_time_days`` and ``lateness_days`` (received − ETA)."""
    as_of = pd.Timestamp(as_of)
    s = shipments
    done = s[s["received_date"].notna() & (s["received_date"] <= as_of)].copy()
    done["lead_time_days"] = (done["received_date"] - done["order_date"]).dt.days.astype(float)
    done["lateness_days"] = (done["received_date"] - done["eta"]).dt.days.astype(float)
    done["order_month"] = done["order_date"].dt.month
    return done


def lead_time_distributions(
    shipments: pd.DataFrame,
    as_of,
    *,
    prior_shipments: float = 5.0,
    seasonal: bool = True,
    defaults: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Lead-time distribution per supplier × mode from shipments received by ``as_of``.

    One row per (supplier, mode) seen in ``shipments`` plus one pooled row per mode
    (``supplier == "*"``, used for suppliers without history on that mode). Every mode in
    :data:`MODES` has a pooled row; a mode without history gets its default (``source == "default"``).

    Columns: see :data:`LT_COLUMNS`. ``source`` is ``supplier`` (weight on own history ≥ 0.8),
    ``shrunk`` (blended with the mode pool), ``mode_pool`` or ``default``. Steps:
    :func:`seasonal_shifts` → :func:`deseasonalize` → :func:`pooled_by_mode` → :func:`supplier_rows`.
    """
    _check_positive("prior_shipments", prior_shipments, allow_zero=True)
    defaults = {**DEFAULT_LEAD_TIMES, **(defaults or {})}
    done = received_lead_times(shipments, as_of)
    k = float(prior_shipments)
    shifts = seasonal_shifts(done, k) if seasonal else {mode: np.zeros(12) for mode in MODES}
    done = deseasonalize(done, shifts)
    pooled = pooled_by_mode(done, defaults)
    rows = [_pooled_row(mode, pooled[mode]) for mode in MODES] + supplier_rows(done, pooled, k)
    out = pd.DataFrame(rows)
    for m in range(12):
        out[f"shift_m{m + 1:02d}"] = [float(shifts[mode][m]) for mode in out["mode"]]
    out["n_shipments"] = out["n_shipments"].astype("int64")
    return out[LT_COLUMNS].reset_index(drop=True)


def seasonal_shifts(done: pd.DataFrame, k: float) -> dict[str, np.ndarray]:
    """Seasonal shift per mode × order month (12 values per mode): the mean residual against the
    supplier × mode mean, shrunk toward 0 by ``k`` pseudo-shipments."""
    shifts = {mode: np.zeros(12) for mode in MODES}
    if len(done):
        resid = done["lead_time_days"] - done.groupby(["supplier", "mode"])["lead_time_days"].transform("mean")
        tmp = done.assign(resid=resid).groupby(["mode", "order_month"])["resid"].agg(["sum", "count"])
        for (mode, month), row in tmp.iterrows():
            if mode in shifts:
                shifts[mode][int(month) - 1] = row["sum"] / (row["count"] + k)
    return shifts


def deseasonalize(done: pd.DataFrame, shifts: dict[str, np.ndarray]) -> pd.DataFrame:
    """``lead_time_days`` minus its order month's shift (the raw value kept as ``raw_lead_time_days``).

    Spread and quantiles are of the deseasonalized lead time: the order month's shift is
    predictable, so it moves the mean at lookup instead of widening the std (and safety stock).
    """
    if not len(done):
        return done.assign(raw_lead_time_days=done["lead_time_days"])
    month_shift = np.array([shifts.get(m, np.zeros(12))[mo - 1] for m, mo in zip(done["mode"], done["order_month"])])
    return done.assign(raw_lead_time_days=done["lead_time_days"], lead_time_days=done["lead_time_days"] - month_shift)


def pooled_by_mode(done: pd.DataFrame, defaults: dict) -> dict[str, dict]:
    """Per mode: the pooled lead time and lateness of every supplier (``mode_pool``), or the mode's
    default with fewer than two shipments (``default``)."""
    pooled: dict[str, dict] = {}
    for mode in MODES:
        g = done[done["mode"] == mode]
        if len(g) >= 2:
            lt = g["lead_time_days"].to_numpy()
            late = g["lateness_days"].dropna().to_numpy()
            lm, ls = (float(late.mean()), float(late.std(ddof=1))) if len(late) >= 2 else DEFAULT_LATENESS[mode]
            pooled[mode] = dict(
                n=len(g), mean=float(lt.mean()), std=float(max(lt.std(ddof=1), 0.5)),
                p50=float(np.quantile(lt, 0.5)), p90=float(np.quantile(lt, 0.9)), p95=float(np.quantile(lt, 0.95)),
                lm=lm, ls=max(ls, 0.5), late_share=float((late > 0).mean()) if len(late) else np.nan,
                source="mode_pool", raw_mean=float(g["raw_lead_time_days"].mean()),
                raw_std=float(g["raw_lead_time_days"].std(ddof=1)),
            )
        else:
            m, sd = defaults[mode]
            lm, ls = DEFAULT_LATENESS[mode]
            pooled[mode] = dict(
                n=len(g), mean=m, std=sd, p50=m, p90=m + 1.2816 * sd, p95=m + 1.6449 * sd,
                lm=lm, ls=ls, late_share=np.nan, source="default",
            )
    return pooled


def _pooled_row(mode: str, p: dict) -> dict:
    return dict(
        supplier=POOLED, mode=mode, n_shipments=p["n"], lead_time_days=p["mean"], lead_time_std=p["std"],
        p50_days=p["p50"], p90_days=p["p90"], p95_days=p["p95"], raw_mean_days=p.get("raw_mean", p["mean"]),
        raw_std_days=p.get("raw_std", p["std"]), weight_own=1.0 if p["source"] == "mode_pool" else 0.0,
        source=p["source"], lateness_mean_days=p["lm"], lateness_std_days=p["ls"], late_share=p["late_share"],
    )


def supplier_rows(done: pd.DataFrame, pooled: dict[str, dict], k: float) -> list[dict]:
    """One row per supplier × mode: its own history shrunk toward the mode pool with weight n / (n + k)."""
    rows = []
    for (supplier, mode), g in done.groupby(["supplier", "mode"], sort=True):
        p = pooled[mode]
        lt = g["lead_time_days"].to_numpy()
        n = len(lt)
        w = n / (n + k) if n + k > 0 else 1.0
        own_std = float(lt.std(ddof=1)) if n >= 2 else p["std"]
        late = g["lateness_days"].dropna().to_numpy()
        nl = len(late)
        wl = nl / (nl + k) if nl + k > 0 else 1.0
        own_lm = float(late.mean()) if nl else p["lm"]
        own_ls = float(late.std(ddof=1)) if nl >= 2 else p["ls"]
        rows.append(dict(
            supplier=supplier, mode=mode, n_shipments=n,
            lead_time_days=w * lt.mean() + (1 - w) * p["mean"],
            lead_time_std=float(np.sqrt(w * own_std**2 + (1 - w) * p["std"] ** 2)),
            p50_days=w * np.quantile(lt, 0.5) + (1 - w) * p["p50"],
            p90_days=w * np.quantile(lt, 0.9) + (1 - w) * p["p90"],
            p95_days=w * np.quantile(lt, 0.95) + (1 - w) * p["p95"],
            raw_mean_days=float(g["raw_lead_time_days"].mean()),
            raw_std_days=float(g["raw_lead_time_days"].std(ddof=1)) if n >= 2 else np.nan,
            weight_own=w, source="supplier" if w >= 0.8 else "shrunk",
            lateness_mean_days=wl * own_lm + (1 - wl) * p["lm"],
            lateness_std_days=float(np.sqrt(wl * own_ls**2 + (1 - wl) * p["ls"] ** 2)),
            late_share=float((late > 0).mean()) if nl else np.nan,
        ))
    return rows


def lookup_lead_times(lt_table: pd.DataFrame, supplier, mode, order_date=None) -> pd.DataFrame:
    """Lead time (mean, std, p90) for aligned arrays of supplier, mode and order date.

    Falls back to the mode's pooled row when the supplier has no history on that mode. With an
    ``order_date`` the seasonal shift of its order month is added to the mean and to p90.
    Returns a frame aligned with the inputs: ``lead_time_days``, ``lead_time_std``, ``p90_days``,
    ``lateness_mean_days``, ``lateness_std_days``, ``source``.
    """
    supplier = np.asarray(supplier, dtype=object)
    mode = np.asarray(mode, dtype=object)
    n = len(supplier)
    keys = pd.DataFrame({"supplier": supplier, "mode": mode})
    cols = ["lead_time_days", "lead_time_std", "p90_days", "lateness_mean_days", "lateness_std_days", "source"]
    shift_cols = [f"shift_m{m:02d}" for m in range(1, 13)]
    own = keys.merge(lt_table[["supplier", "mode", *cols, *shift_cols]], on=["supplier", "mode"], how="left")
    pool = keys[["mode"]].merge(
        lt_table.loc[lt_table["supplier"] == POOLED, ["mode", *cols, *shift_cols]], on="mode", how="left"
    )
    missing = own["lead_time_days"].isna().to_numpy()
    res = own.copy()
    res.loc[missing, cols + shift_cols] = pool.loc[missing, cols + shift_cols].to_numpy()
    res.loc[missing & res["source"].notna().to_numpy(), "source"] = "mode_pool"
    if order_date is not None:
        months = pd.DatetimeIndex(np.broadcast_to(np.asarray(order_date, dtype="datetime64[ns]"), (n,))).month
        sh = res[shift_cols].to_numpy(dtype=float)[np.arange(n), months - 1]
        res["seasonal_shift_days"] = sh
        res["lead_time_days"] = res["lead_time_days"].astype(float) + sh
        res["p90_days"] = res["p90_days"].astype(float) + sh
    else:
        res["seasonal_shift_days"] = 0.0
    for c in ["lead_time_days", "lead_time_std", "p90_days", "lateness_mean_days", "lateness_std_days"]:
        res[c] = res[c].astype(float)
    return res[[*cols, "seasonal_shift_days"]].reset_index(drop=True)


def in_transit_arrivals(shipments: pd.DataFrame, as_of, lt_table: pd.DataFrame) -> pd.DataFrame:
    """Arrival distribution for every shipment ordered by ``as_of`` and not received by then.

    Expected arrival = ETA + the supplier × mode's mean lateness (shrunk to the mode), or, without
    an ETA, order date + mean lead time (seasonally shifted). It is never before ``as_of + 1``: a
    shipment that is not in yet cannot arrive in the past. ``arrival_std_days`` is the lateness std
    (ETA known) or the lead-time std. A shipment whose ETA has passed is ``overdue`` (with
    ``days_overdue``); its reason asks to chase it (domain-rules.md §1: flag in-transit exceptions).
    """
    as_of = pd.Timestamp(as_of)
    s = shipments
    open_ = s[(s["order_date"] <= as_of) & (s["received_date"].isna() | (s["received_date"] > as_of))].copy()
    cols = ["shipment_id", "sku", "supplier", "mode", "qty", "location", "order_date", "eta",
            "expected_arrival", "arrival_std_days", "arrival_p90", "days_until_arrival", "overdue",
            "days_overdue", "reason"]
    if open_.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        for c in ("order_date", "eta", "expected_arrival", "arrival_p90"):
            out[c] = pd.Series(dtype="datetime64[ns]")
        for c in ("arrival_std_days", "days_until_arrival"):
            out[c] = pd.Series(dtype=float)
        out["qty"] = pd.Series(dtype="int64")
        out["days_overdue"] = pd.Series(dtype="int64")
        out["overdue"] = pd.Series(dtype=bool)
        return out
    lk = lookup_lead_times(lt_table, open_["supplier"], open_["mode"], open_["order_date"])
    has_eta = open_["eta"].notna().to_numpy()
    eta_days = ((open_["eta"] - as_of).dt.days).to_numpy(dtype=float)
    order_days = ((open_["order_date"] - as_of).dt.days).to_numpy(dtype=float)
    exp_eta = eta_days + lk["lateness_mean_days"].to_numpy()
    exp_lt = order_days + lk["lead_time_days"].to_numpy()
    expected = np.where(has_eta, exp_eta, exp_lt)
    std = np.where(has_eta, lk["lateness_std_days"].to_numpy(), lk["lead_time_std"].to_numpy())
    expected = np.maximum(expected, 1.0)
    p90 = np.maximum(expected + stats.norm.ppf(0.9) * std, expected)
    overdue = has_eta & (eta_days < 0)
    days_overdue = np.where(overdue, -eta_days, 0).astype("int64")
    open_ = open_.reset_index(drop=True)
    out = open_[["shipment_id", "sku", "supplier", "mode", "qty", "location", "order_date", "eta"]].copy()
    out["expected_arrival"] = as_of + pd.to_timedelta(np.round(expected), unit="D")
    out["arrival_std_days"] = std
    out["arrival_p90"] = as_of + pd.to_timedelta(np.ceil(p90), unit="D")
    out["days_until_arrival"] = expected
    out["overdue"] = overdue
    out["days_overdue"] = days_overdue
    reasons = []
    for i in range(len(out)):
        exp = out["expected_arrival"].iat[i].date()
        if overdue[i]:
            reasons.append(f"overdue {days_overdue[i]} d past ETA {out['eta'].iat[i].date()} ({out['mode'].iat[i]}): "
                           f"chase supplier; expected {exp} ± {std[i]:.1f} d")
        elif has_eta[i]:
            reasons.append(f"ETA {out['eta'].iat[i].date()} + usual lateness "
                           f"{lk['lateness_mean_days'].iat[i]:+.1f} d → expected {exp} ± {std[i]:.1f} d")
        else:
            reasons.append(f"no ETA: ordered {out['order_date'].iat[i].date()} + lead time "
                           f"{lk['lead_time_days'].iat[i]:.1f} d → expected {exp} ± {std[i]:.1f} d")
    out["reason"] = reasons
    return out[cols]


TRANSIT_SLOTS = 8  # open shipments kept per SKU for simulation (the earliest arrivals)


def transit_slots(transit: pd.DataFrame, skus: pd.Index, slots: int = TRANSIT_SLOTS):
    """Arrays (n_skus x slots) of days until arrival, its std and qty of the earliest open shipments.

    ``transit`` is :func:`in_transit_arrivals`' output; SKUs with fewer shipments get zero-qty slots,
    shipments beyond ``slots`` per SKU are left out (they arrive after the horizon that matters).
    """
    n = len(skus)
    day, std, qty = np.zeros((n, slots)), np.zeros((n, slots)), np.zeros((n, slots))
    if len(transit):
        t = transit.assign(_i=skus.get_indexer(transit["sku"]))
        t = t[t["_i"] >= 0].sort_values(["_i", "days_until_arrival"])
        t["_k"] = t.groupby("_i").cumcount()
        t = t[t["_k"] < slots]
        ii, kk = t["_i"].to_numpy(), t["_k"].to_numpy()
        day[ii, kk] = t["days_until_arrival"].to_numpy(float)
        std[ii, kk] = t["arrival_std_days"].to_numpy(float)
        qty[ii, kk] = t["qty"].to_numpy(float)
    return day, std, qty

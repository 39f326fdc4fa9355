"""The replay's world: what happens regardless of the policy (demand, lead times, prices, start state).

Everything here is read from the dataset itself, so the backtest runs on any valid dataset:

- demand: the censoring-corrected daily history of :mod:`workbench.forecast.history`
  (``demand_history`` then ``impute_censored`` over the whole dataset), so a day the seller was out
  of stock counts with the demand the level around it implies, not with zero;
- lead times: the dataset's own received shipments, order → received days, per supplier × mode ×
  order month (± 1 month), sampled by inverse ECDF at a uniform that depends only on (SKU, week,
  mode): every policy gets the same lead time for the same order slot (common random numbers);
- freight per unit as a share of unit cost per mode: the shipments' ``freight_cost`` when present,
  else the workbench default (:data:`workbench.policies.restock.DEFAULT_FREIGHT_SHARE`);
- start state: available stock (on hand − reserved) of the latest snapshot before the first replayed
  day, rolled forward to that day with the receipts and sales between, plus every shipment ordered
  before the start and not yet received, arriving on its recorded ``received_date`` (its ETA, or the
  order date plus the median lead time, when the dataset has it still in transit).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from workbench.errors import InputError
from workbench.leadtime import DEFAULT_LEAD_TIMES, MODES
from workbench.policies.restock import DEFAULT_FREIGHT_SHARE, lognormal_params, mode_freight_shares

MIN_POOL = 5  # shipments a supplier × mode × season pool needs before it is used
EXTRA_DAYS = 400  # arrivals tracked past the replay's end (a late order still counts as ordered)


def replay_skus(ds, start: pd.Timestamp) -> tuple[list[str], pd.DataFrame]:
    """SKUs with sales before ``start`` (established; the policies can reason about them) and the left-out ones."""
    sales = ds["sales"]
    first = sales.groupby(sales["sku"].astype(str))["date"].min()
    prod = ds["products"].assign(sku=lambda p: p["sku"].astype(str))
    seen = first[first < start]
    keep = prod.loc[prod["sku"].isin(seen.index), "sku"].tolist()
    gone = prod.loc[~prod["sku"].isin(seen.index), ["sku"]].assign(
        reason="left out of the replay: no sales before the start, so no policy has history to decide on")
    return sorted(keep), gone


def corrected_demand(ds, skus: list[str], days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Demand over the replay days, corrected over the whole history (the level around a gap uses both sides)."""
    from workbench.forecast.history import demand_history, impute_censored

    hist = demand_history(ds.tables, days[-1])
    hist = hist[hist["unique_id"].isin(set(skus))]
    corrected, _ = impute_censored(hist, "D")
    corrected = corrected[corrected["ds"] >= days[0]]
    demand = np.zeros((len(skus), len(days)))
    cens = np.zeros((len(skus), len(days)), dtype=bool)
    idx = pd.Index(skus).get_indexer(corrected["unique_id"])
    day = (corrected["ds"] - days[0]).dt.days.to_numpy()
    ok = (idx >= 0) & (day >= 0) & (day < len(days))
    demand[idx[ok], day[ok]] = corrected["y"].to_numpy(float)[ok]
    cens[idx[ok], day[ok]] = corrected["censored"].to_numpy(bool)[ok]
    return demand, cens


class LeadTimeSampler:
    """Empirical lead times (order → received, days) per supplier × mode × order month (± 1 month).

    Pools: the supplier × mode's shipments ordered in the same month ± 1 (so a Chinese New Year or
    pre-peak delay is drawn in its season) when there are at least :data:`MIN_POOL`; else the
    supplier × mode's whole history; else every supplier's on that mode; else the lognormal of
    :data:`workbench.leadtime.DEFAULT_LEAD_TIMES`. A draw is the pool's inverse ECDF at ``u``.
    """

    def __init__(self, shipments: pd.DataFrame):
        s = shipments[shipments["received_date"].notna()]
        lt = (s["received_date"] - s["order_date"]).dt.days.to_numpy(float)
        frame = pd.DataFrame({"supplier": s["supplier"].astype(str).to_numpy(), "mode": s["mode"].astype(str).to_numpy(),
                              "month": s["order_date"].dt.month.to_numpy(), "lt": np.maximum(lt, 1.0)})
        self.by_key: dict = {}
        self.by_supplier_mode: dict = {}
        for (sup, mode), g in frame.groupby(["supplier", "mode"]):
            self.by_supplier_mode[(sup, mode)] = np.sort(g["lt"].to_numpy())
            for m in range(1, 13):
                near = g.loc[g["month"].isin([(m - 2) % 12 + 1, m, m % 12 + 1]), "lt"].to_numpy()
                if len(near) >= MIN_POOL:
                    self.by_key[(sup, mode, m)] = np.sort(near)
        self.by_mode = {m: np.sort(g["lt"].to_numpy()) for m, g in frame.groupby("mode")}

    def pool(self, supplier: str, mode: str, month: int) -> tuple[np.ndarray | None, str]:
        for pool, src in ((self.by_key.get((supplier, mode, month)), "supplier × mode × season"),
                          (self.by_supplier_mode.get((supplier, mode)), "supplier × mode"),
                          (self.by_mode.get(mode), "mode pool")):
            if pool is not None and len(pool):
                return pool, src
        return None, "default"

    def draw(self, supplier: str, mode: str, month: int, u: float) -> int:
        pool, _ = self.pool(supplier, mode, month)
        if pool is None:
            mean, std = DEFAULT_LEAD_TIMES.get(mode, DEFAULT_LEAD_TIMES["sea"])
            mu, sig = lognormal_params(mean, std)
            return max(int(round(float(np.exp(mu + sig * stats.norm.ppf(min(max(u, 1e-6), 1 - 1e-6)))))), 1)
        return int(pool[min(int(u * len(pool)), len(pool) - 1)])

    def median(self, supplier: str, mode: str, month: int) -> float:
        pool, _ = self.pool(supplier, mode, month)
        return float(np.median(pool)) if pool is not None else DEFAULT_LEAD_TIMES.get(mode, (45.0, 0))[0]


def order_uniforms(seed: int, n_skus: int, weeks: int) -> np.ndarray:
    """U(0,1) per (SKU, week, mode): the common random numbers every policy's lead-time draws share."""
    return np.random.default_rng(seed).random((n_skus, weeks, len(MODES)))


def freight_shares(ds) -> dict[str, float]:
    """Freight per unit as a share of unit cost, per mode: the dataset's freight_cost where recorded
    (:func:`~workbench.policies.restock.mode_freight_shares`), else the workbench default."""
    cost = ds["products"].assign(sku=lambda p: p["sku"].astype(str)).drop_duplicates("sku").set_index("sku")["unit_cost"]
    return {**DEFAULT_FREIGHT_SHARE, **mode_freight_shares(ds["shipments"], cost)}


@dataclass
class StartState:
    stock: np.ndarray  # available units per SKU at the start of the first replayed day
    arrivals: np.ndarray  # (n_skus, n_days + EXTRA_DAYS) units arriving each day from orders placed before the start
    snapshot_date: pd.Series  # per SKU, the snapshot the stock was rolled forward from
    location: np.ndarray  # each SKU's main location (where simulated stock and orders go)


def start_state(ds, skus: list[str], start: pd.Timestamp, n_days: int, sampler: LeadTimeSampler) -> StartState:
    """Stock at the start of ``start`` and the pipeline already on its way (see the module docstring)."""
    n = len(skus)
    sku_idx = pd.Index(skus)
    inv = ds["inventory"]
    inv = inv[(inv["as_of"] < start) & inv["sku"].astype(str).isin(set(skus))]
    if inv.empty:
        raise InputError(f"{ds.path}: the backtest needs stock to start from",
                         [f"{ds.path / 'inventory.csv'}:-:as_of: no inventory snapshot before "
                          f"{start.date()} for any replayed SKU"])
    latest = inv.sort_values("as_of").drop_duplicates(["sku", "location"], keep="last")
    latest = latest.assign(sku=latest["sku"].astype(str),
                           avail=(latest["on_hand"] - latest["reserved"]).clip(lower=0).astype(float))
    snap_date = latest.groupby("sku")["as_of"].max().reindex(sku_idx)
    stock = latest.groupby("sku")["avail"].sum().reindex(sku_idx).fillna(0.0).to_numpy()
    loc = (latest.sort_values("avail", ascending=False).drop_duplicates("sku").set_index("sku")["location"]
           .reindex(sku_idx).fillna("MAIN").astype(str).to_numpy(dtype=object))
    snap_date = snap_date.fillna(start - pd.Timedelta(days=1))

    # Roll forward: receipts and sales after the snapshot and before the start.
    ships = ds["shipments"]
    ships = ships[ships["sku"].astype(str).isin(set(skus))].assign(sku=lambda s: s["sku"].astype(str))
    after = ships["received_date"] > ships["sku"].map(snap_date)
    got = ships[after & (ships["received_date"] < start)].groupby("sku")["qty"].sum()
    sales = ds["sales"]
    sales = sales[sales["sku"].astype(str).isin(set(skus)) & (sales["date"] < start)].assign(sku=lambda s: s["sku"].astype(str))
    sold = sales[sales["date"] > sales["sku"].map(snap_date)].groupby("sku")["units"].sum()
    stock = np.maximum(stock + got.reindex(sku_idx).fillna(0).to_numpy() - sold.reindex(sku_idx).fillna(0).to_numpy(), 0.0)

    arrivals = np.zeros((n, n_days + EXTRA_DAYS))
    pipe = ships[(ships["order_date"] < start) & (ships["received_date"].isna() | (ships["received_date"] >= start))]
    for r in pipe.itertuples(index=False):
        when = r.received_date
        if pd.isna(when):
            when = r.eta if pd.notna(r.eta) else r.order_date + pd.Timedelta(
                days=sampler.median(str(r.supplier), str(r.mode), r.order_date.month))
        day = max(int((when - start).days), 0)
        if day < arrivals.shape[1]:
            arrivals[sku_idx.get_loc(r.sku), day] += r.qty
    return StartState(stock, arrivals, snap_date, loc)


def sku_arrays(ds, skus: list[str], start: pd.Timestamp, location: np.ndarray) -> dict:
    """Per replayed SKU: ``unit_cost``, ``price``, ``unit_margin`` (price × (1 − fee rate) − unit cost,
    at least 0), ``supplier``, the ``channel`` that sold most before ``start``, and the
    ``other_locations`` (sku, location) pairs stocked before ``start`` besides the main ``location``."""
    prod = ds["products"].assign(sku=lambda p: p["sku"].astype(str)).drop_duplicates("sku").set_index("sku").loc[skus]
    unit_cost = prod["unit_cost"].to_numpy(float)
    price = prod["price"].to_numpy(float)
    margin = np.maximum(price * (1 - prod["fee_rate"].to_numpy(float)) - unit_cost, 0.0)
    sales = ds["sales"][ds["sales"]["date"] < start]
    channel = (sales.assign(sku=sales["sku"].astype(str), channel=sales["channel"].astype(str))
               .groupby(["sku", "channel"])["units"].sum().reset_index().sort_values("units", ascending=False)
               .drop_duplicates("sku").set_index("sku")["channel"].reindex(skus).fillna("all").to_numpy(dtype=object))
    inv = ds["inventory"][ds["inventory"]["as_of"] < start]
    pairs = inv.assign(sku=inv["sku"].astype(str), location=inv["location"].astype(str))[["sku", "location"]].drop_duplicates()
    main = pd.Series(location, index=skus)
    others = pairs[pairs["sku"].isin(main.index) & (pairs["location"] != pairs["sku"].map(main))].reset_index(drop=True)
    return dict(unit_cost=unit_cost, price=price, unit_margin=margin, supplier=prod["supplier"].astype(str).to_numpy(dtype=object),
                channel=channel, other_locations=others)

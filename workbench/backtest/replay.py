"""Weekly replay of ordering policies against a dataset's own demand, with common random numbers.

Each week (7 days from the decision day ``d``):

1. the policy sees the view before ``d`` (:mod:`workbench.backtest.view`) and returns orders
   (:mod:`workbench.backtest.adapters`); each order's lead time is drawn by
   :class:`~workbench.backtest.world.LeadTimeSampler` at the uniform of its (SKU, week, mode) slot,
   the same for every policy, and it arrives on ``d + lead time``;
2. day by day: arrivals are added at the start of the day, ``sold = min(demand, stock)``,
   ``lost = demand − sold``, stock falls by ``sold``.

Accounting (per SKU, summed over the replay):

- fill rate = Σ sold / Σ demand; a stockout SKU-day is a day with lost > 0;
- lost margin = lost units × unit margin, unit margin = max(price × (1 − fee rate) − unit cost, 0);
- average inventory value = mean over days of Σ_SKU end-of-day stock × unit cost;
- carrying cost = carrying rate (a year) × average inventory value × days / 365;
- freight = the landed freight of the units sold, first in, first out (:func:`metrics.landed_freight`): an
  order's freight is qty × unit cost × freight share of the mode (:func:`world.freight_shares`), a cost as its
  units sell; the start stock and pipeline came with theirs paid, the end stock keeps its own, an order still
  on its way at the end serves later demand. ``freight_paid``: the freight of the orders arriving in the replay;
- total cost = lost margin + freight + carrying cost.

Demand does not react to the policy (lost sales are lost; a stockout does not cost rank here),
unless the setup carries a :class:`~workbench.backtest.levers.LeverMarket` and the policy returns a
:class:`~workbench.backtest.levers.WeekDecision` with prices and budgets (the what-if engine): then the
week is played by :func:`workbench.backtest.levers.play_week` (price by elasticity, ad spend by the
response curves, stockouts cost rank) and the result carries its revenue and ad ledger. ``workbench
backtest`` runs without one, so its numbers are unchanged.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from workbench.backtest import levers as L
from workbench.backtest import world as W
from workbench.backtest.view import ReplayRecords, build_view
from workbench.leadtime import MODES

Decide = Callable[[object, pd.Timestamp], pd.DataFrame]  # (view, decision day) -> orders sku, qty, mode, reason


@dataclass
class Setup:
    """Everything the policies share: the world and the common random numbers."""

    base: object  # the dataset restricted to the replayed SKUs
    start: pd.Timestamp
    weeks: int
    skus: list[str]
    days: pd.DatetimeIndex
    demand: np.ndarray  # (n, D)
    censored: np.ndarray  # (n, D) demand imputed for a recorded stockout
    state: W.StartState
    sampler: W.LeadTimeSampler
    uniforms: np.ndarray  # (n, weeks, modes)
    unit_cost: np.ndarray
    unit_margin: np.ndarray
    price: np.ndarray
    supplier: np.ndarray
    channel: np.ndarray
    other_locations: pd.DataFrame
    freight_share: dict
    carrying_rate: float
    left_out: pd.DataFrame = field(default_factory=pd.DataFrame)
    # prices and budgets answered weekly (:class:`workbench.backtest.levers.LeverMarket`); None: demand is fixed
    market: object = None


@dataclass
class Result:
    policy: str
    sold: np.ndarray
    lost: np.ndarray
    stock: np.ndarray  # end-of-day stock (n, D)
    orders: pd.DataFrame  # one row per order placed
    decide_seconds: float = 0.0
    levers: object = None  # :class:`workbench.backtest.levers.LeverLedger` when the setup has a market


class Progress:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise (logs, CI, notebooks)."""

    def __init__(self, total: int, label: str, enabled: bool | None = None):
        self.total, self.label, self.done = total, label, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.t0 = time.perf_counter()

    def step(self, note: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        frac = self.done / max(self.total, 1)
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {self.done}/{self.total} "
                         f"{time.perf_counter() - self.t0:5.0f} s {note}")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def replay(setup: Setup, name: str, decide: Decide, progress: Progress | None = None) -> Result:
    """Run one policy through the replay (see the module docstring)."""
    s = setup
    n, D = s.demand.shape
    stock = s.state.stock.copy()
    arrivals = s.state.arrivals.copy()
    sold = np.zeros((n, D)); lost = np.zeros((n, D)); stock_m = np.zeros((n, D))
    records = ReplayRecords(s.skus, s.state.location, s.channel, s.price, s.other_locations)
    records.snapshot(s.start - pd.Timedelta(days=1), stock)
    rows: list[dict] = []
    t_decide = 0.0
    market = s.market
    ledger = L.LeverLedger.empty(n, D) if market is not None else None
    shift = np.zeros(n)
    for w in range(s.weeks):
        day = s.start + pd.Timedelta(days=7 * w)
        view = build_view(s.base, s.start, day, records)
        t0 = time.perf_counter()
        out = decide(view, day)
        t_decide += time.perf_counter() - t0
        dec = out if isinstance(out, L.WeekDecision) else L.WeekDecision(out)
        rows += _place(s, name, w, day, dec.orders, arrivals, records)
        wk = slice(7 * w, 7 * w + 7)
        if market is not None and dec.price is not None:
            sold[:, wk], lost[:, wk], stock_m[:, wk], ads_rows = L.play_week(
                market, dec, s.demand[:, wk], stock, arrivals, shift, 7 * w, ledger, s.days)
            records.price, records.with_price = np.asarray(dec.price, float), True  # the policy's own prices
            records.ads.append(ads_rows)
        else:
            for d in range(7 * w, 7 * w + 7):
                stock += arrivals[:, d]
                sold[:, d] = np.minimum(s.demand[:, d], stock)
                lost[:, d] = s.demand[:, d] - sold[:, d]
                stock -= sold[:, d]
                stock_m[:, d] = stock
        records.add_week(s.days[wk], sold[:, wk], lost[:, wk], stock)
        if progress is not None:
            progress.step(name)
    cols = ["policy", "week", "order_date", "sku", "supplier", "mode", "qty", "lead_time_days", "arrival_date",
            "freight_cost", "reason"]
    return Result(name, sold, lost, stock_m, pd.DataFrame(rows, columns=cols), t_decide, ledger)


def _place(s: Setup, name: str, w: int, day: pd.Timestamp, orders: pd.DataFrame, arrivals: np.ndarray,
           records: ReplayRecords) -> list[dict]:
    """Place the week's orders: each arrives after the common lead-time draw of its (SKU, week, mode) slot."""
    pos = pd.Index(s.skus)
    rows = []
    for o in orders.itertuples(index=False):
        i = pos.get_loc(o.sku)
        lt = s.sampler.draw(s.supplier[i], o.mode, day.month, s.uniforms[i, w, MODES.index(o.mode)])
        if 7 * w + lt < arrivals.shape[1]:
            arrivals[i, 7 * w + lt] += o.qty
        freight = float(o.qty * s.unit_cost[i] * s.freight_share.get(o.mode, 0.0))
        eta = day + pd.Timedelta(days=round(s.sampler.median(s.supplier[i], o.mode, day.month)))
        rows.append(dict(policy=name, week=w + 1, order_date=day, sku=o.sku, supplier=s.supplier[i], mode=o.mode,
                         qty=int(o.qty), lead_time_days=lt, arrival_date=day + pd.Timedelta(days=lt),
                         freight_cost=round(freight, 2), reason=o.reason))
        records.add_order(shipment_id=f"BT-{name}-{w + 1}-{o.sku}-{o.mode}", sku=o.sku, supplier=s.supplier[i],
                          mode=o.mode, qty=int(o.qty), order_date=day, ship_date=pd.NaT, eta=eta,
                          received_date=day + pd.Timedelta(days=lt), location=s.state.location[i],
                          freight_cost=freight)
    return rows

"""Restock recommendations: service-level safety stock, Monte Carlo stockout risk, orderable quantities.

One row per SKU (the seller's own locations summed). The model and the seller's rule of thumb
(domain-rules.md §1) are computed side by side; ``reason`` says which rule fired and why, built from
the row's own columns (:func:`restock_reason`).

Stock comes from the run's :class:`workbench.stock.StockSnapshot`: sellable ``available`` (supplier-held
dropship stock is ``supplier_held`` and never counted), ``inbound``, ``cover_days`` /
``sellable_cover_days``, ``ads`` (the snapshot's daily demand; ``days_of_cover`` = ``cover_days``),
the demand matrices and the stockout probability. :meth:`RestockPolicy.recommend` runs named steps:
stock → lead times → demand → targets → stockout → peak events → new products → turnover →
quantities → order_by → rule of thumb → status.

Demand model. The forecast frame (``unique_id, ds, model, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95,
yhat_hi_95``) gives, per SKU and day, a mean ``yhat`` and prediction intervals. Daily demand is taken
as normal with mean ``yhat`` and a standard deviation read off the intervals,
``σ_t = mean over levels L of (hi_L − lo_L) / (2 · z_{(1+L)/2})`` (a normal approximation; the
lower bound clipped at 0 makes σ a little small for slow movers), days independent. Without
intervals σ_t = sqrt(yhat) (Poisson). Lead time is lognormal with the mean and std of
:func:`workbench.leadtime.lead_time_distributions` (seasonally shifted for the order month).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from types import SimpleNamespace

from workbench.errors import ParameterError
from workbench.leadtime import lookup_lead_times
from workbench.policies.base import Policy, check_in_range, check_whole_number
from workbench.policies.service import (air_bridge_units, air_units_saved, air_vs_sea, cost_optimal_service_level,
                                       crossing_lead_time_std, lead_time_demand_sigma, stock_floor_units)
from workbench.stock import (MAX_COVER_DAYS, StockSnapshot, blended_ads, daily_sigma_from_intervals,  # noqa: F401
                             forecast_matrix, lognormal_params, plain_keys, simulate_stockout_probability)

RESTOCK_COLUMNS = [
    "sku", "on_hand", "inbound", "supplier_held", "ads", "days_of_cover", "cover_days", "sellable_cover_days", "lead_time_days", "lead_time_std", "safety_stock",
    "reorder_point", "recommended_qty", "ship_mode", "order_by", "stockout_probability", "status", "reason",
]
RESTOCK_NUMERIC = [
    "on_hand", "inbound", "supplier_held", "ads", "days_of_cover", "cover_days", "sellable_cover_days", "lead_time_days", "lead_time_std", "safety_stock",
    "reorder_point", "recommended_qty", "stockout_probability",
]
STATUSES = ("alert_under_7d", "consider_air", "order_now", "new_product", "order_by_sea_soon", "ok", "overstock")
PEAK_PATTERN = re.compile(r"black.?friday|cyber|christmas|xmas|prime.?day|peak|holiday|singles|11\.11|boxing", re.I)
# Freight per unit as a share of unit cost, when shipments carry no freight_cost (workbench default).
DEFAULT_FREIGHT_SHARE = {"sea": 0.05, "rail": 0.08, "truck": 0.06, "air": 0.30, "express": 0.45}


# ----------------------------------------------------------------------------------------------
# Formulas (each hand-checked in tests/test_restock_formulas.py)
# ----------------------------------------------------------------------------------------------

def service_z(service_level):
    """Safety factor z = Φ⁻¹(service_level) for a cycle service level (probability of no stockout
    in a replenishment cycle). Silver, Pyke & Thomas, *Inventory and Production Management in Supply
    Chains*, 4th ed., §6.7 (z = 1.645 for 95%)."""
    return stats.norm.ppf(service_level)


def normal_loss(z):
    """Unit normal loss function G(z) = φ(z) − z·(1 − Φ(z)): expected shortage of a N(0, 1) beyond z."""
    z = np.asarray(z, dtype=float)
    return stats.norm.pdf(z) - z * stats.norm.sf(z)


_Z_GRID = np.linspace(-4.0, 6.0, 4001)
_G_GRID = normal_loss(_Z_GRID)


def fill_rate_z(fill_rate, order_qty, sigma_lt, z_max: float = 4.0):
    """Safety factor k for a fill-rate target (P2: share of demand served from stock):

        G(k) = (1 − P2) · Q / σ_LT

    Q the order quantity (units per replenishment), σ_LT the std of demand over the protection
    interval, G the unit normal loss function. Silver, Pyke & Thomas, *Inventory and Production
    Management in Supply Chains*, §6.7 (P2 service). k is kept in [0, z_max] (never a negative
    safety stock). Example: P2 = 0.98, Q = 500, σ_LT = 100 → G(k) = 0.1 → k = 0.90.
    """
    g = (1 - np.asarray(fill_rate, dtype=float)) * np.asarray(order_qty, dtype=float) / np.maximum(
        np.asarray(sigma_lt, dtype=float), 1e-9)
    k = np.interp(-g, -_G_GRID, _Z_GRID)  # G decreases in z
    return np.clip(k, 0.0, z_max)


def safety_stock(z, lead_time_days, demand_mean, demand_std, lead_time_std, demand_correlation=0.0):
    """Safety stock with random demand and random lead time, units.

        SS = z · sqrt(L · σ_d² + d² · σ_L²)

    L mean lead time (days), σ_L its std (days), d mean daily demand (units/day), σ_d daily demand
    std (units/day), days independent. Silver, Pyke & Thomas, *Inventory and Production Management
    in Supply Chains*, §6.7 (variance of lead-time demand with random lead time; Hadley & Whitin 1963).
    Example: z=1.645, L=36, σ_d=5, d=20, σ_L=4 → 1.645·sqrt(900 + 6400) = 140.5.

    With ``demand_correlation`` ρ > 0 the daily forecast errors are equicorrelated (a forecast that is
    too low today tends to be too low all month): L·σ_d² becomes L·(1 + ρ(L − 1))·σ_d², the variance
    of a sum of L equicorrelated terms. ρ = 0 is the textbook formula.
    """
    L = np.asarray(lead_time_days, dtype=float)
    rho = np.asarray(demand_correlation, dtype=float)
    return np.asarray(z, dtype=float) * np.sqrt(
        L * (1 + rho * np.maximum(L - 1, 0)) * np.asarray(demand_std, dtype=float) ** 2
        + np.asarray(demand_mean, dtype=float) ** 2 * np.asarray(lead_time_std, dtype=float) ** 2
    )


def round_order_qty(qty, moq, case_pack):
    """Orderable quantity: 0 when ``qty`` ≤ 0, else ``ceil(max(qty, moq) / case_pack) · case_pack``.

    Always whole, ≥ MOQ and a whole number of case packs. Example: need 433, MOQ 500, case 48 →
    ceil(500/48)·48 = 528.
    """
    q = np.asarray(qty, dtype=float)
    moq = np.asarray(moq, dtype=float)
    case = np.maximum(np.asarray(case_pack, dtype=float), 1.0)
    raw = np.maximum(q, moq)
    out = np.ceil(np.round(raw / case, 9)) * case
    return np.where(q > 0, out, 0.0).astype("int64")


def first_order_after_test_qty(test_ads, transit_days, multiplier: float = 3.0):
    """First order after a successful test (domain-rules.md §1), units:

        initial stock = test ADS × 3 + test ADS × transit days

    Example from the playbook: ADS 5, sea transit 20 d → 5·3 + 5·20 = 115.
    """
    a = np.asarray(test_ads, dtype=float)
    return a * multiplier + a * np.asarray(transit_days, dtype=float)


# ----------------------------------------------------------------------------------------------
# Inputs → per-SKU arrays
# ----------------------------------------------------------------------------------------------

def projected_stock(demand_mean: np.ndarray, available: np.ndarray, arrivals: np.ndarray):
    """Deterministic stock path with lost sales, no new orders.

        s_0 = available;  s_t = max(s_{t−1} + a_t − d_t, 0);  unmet_t = max(d_t − s_{t−1} − a_t, 0)

    ``demand_mean`` (n, H) for days 1..H, ``arrivals`` (n, H+1) expected in-transit units by day
    (column 0 unused). Returns (stock (n, H+1), run-out day: first day with unmet demand, inf if none).
    """
    n, H = demand_mean.shape
    s = np.empty((n, H + 1))
    s[:, 0] = available
    runout = np.full(n, np.inf)
    for t in range(1, H + 1):
        x = s[:, t - 1] + arrivals[:, t] - demand_mean[:, t - 1]
        runout = np.where(np.isinf(runout) & (x < -1e-9), t, runout)
        s[:, t] = np.maximum(x, 0.0)
    return s, runout


def air_bridge_qty(demand_mean, stock, arrivals, air_days, main_days) -> np.ndarray:
    """Units an urgent shipment arriving on day k_a = ⌈L_air⌉ needs so that no demand goes unmet
    before a main-mode order placed today arrives (day L):

        q = max(0, max_{k_a ≤ t < L} [(C_t − C_{k_a−1}) − (A_t − A_{k_a−1})] − s_{k_a−1})

    C cumulative forecast demand, A cumulative expected in-transit arrivals, s the projected stock
    (:func:`projected_stock`). Example: 100 units, 10/day, air 12 d, sea 45 d, nothing in transit →
    s_11 = 0, q = 10·33 = 330 (days 12..44); with 500 units landing on day 20 → q = 80 (days 12..19).
    """
    n, H = demand_mean.shape
    C = np.concatenate([np.zeros((n, 1)), np.cumsum(demand_mean, axis=1)], axis=1)
    A = np.cumsum(arrivals, axis=1)
    X = C - A
    ka = np.clip(np.ceil(np.asarray(air_days, dtype=float)).astype(int), 1, H)
    kl = np.clip(np.ceil(np.asarray(main_days, dtype=float)).astype(int) - 1, 0, H)
    r = np.arange(n)
    t = np.arange(H + 1)[None, :]
    mask = (t >= ka[:, None]) & (t <= kl[:, None])
    peak = np.where(mask, X, -np.inf).max(axis=1)
    q = peak - X[r, ka - 1] - stock[r, ka - 1]
    return np.where(np.isfinite(q), np.maximum(q, 0.0), 0.0)


def _interp_cum(cum: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Cumulative demand at fractional day x (cum[:, 0] = 0, cum[:, t] = demand on days 1..t)."""
    H = cum.shape[1] - 1
    x = np.clip(x, 0, H)
    lo = np.floor(x).astype(int)
    hi = np.minimum(lo + 1, H)
    frac = x - lo
    r = np.arange(cum.shape[0])
    return cum[r, lo] * (1 - frac) + cum[r, hi] * frac


def _window_mean_sq(std: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Mean of σ_t² over days 1..ceil(days) per row."""
    H = std.shape[1]
    c2 = np.concatenate([np.zeros((std.shape[0], 1)), np.cumsum(std**2, axis=1)], axis=1)
    k = np.clip(np.ceil(days).astype(int), 1, H)
    return c2[np.arange(std.shape[0]), k] / k


def selling_prices(snapshot: StockSnapshot) -> np.ndarray:
    """Today's selling price per SKU: the mean over channels of the latest price on or before as-of
    (:func:`workbench.policies.pricing.current_prices`), else the list price. Margins (service level,
    air vs sea) are at the price the units sell for, not the list price."""
    from workbench.policies.pricing import current_prices

    prod, sales = snapshot.products, snapshot.get("sales")
    listed = prod["price"].to_numpy(float)
    if sales is None or len(sales) == 0:
        return listed
    cur = current_prices(plain_keys(sales), plain_keys(prod), snapshot.as_of)
    by_sku = cur.groupby(cur["sku"].astype(str))["current_price"].mean().reindex(snapshot.sku_index).to_numpy(float)
    return np.where(np.isfinite(by_sku) & (by_sku > 0), by_sku, listed)  # a zero revenue is no price


def order_today_lead_times(snapshot: StockSnapshot, default_mode: str = "sea"):
    """Each SKU's usual ship mode (its most frequent mode in past shipments, else ``default_mode``) and
    the lead time of an order placed on the as-of date at that mode (supplier × mode distribution,
    seasonally shifted). Returns (modes, lookup frame). The one rule restock and the phase's gap share.
    """
    ships = snapshot["shipments"]
    ships = ships[ships["order_date"] <= snapshot.as_of]
    usual = (ships.assign(sku=ships["sku"].astype(str), mode=ships["mode"].astype(str))
             .groupby(["sku", "mode"]).size().rename("k").reset_index()
             .sort_values(["sku", "k"], ascending=[True, False]).drop_duplicates("sku").set_index("sku")["mode"])
    modes = usual.reindex(snapshot.sku_index).fillna(default_mode).to_numpy(dtype=object)
    supplier = snapshot.products["supplier"].astype(str).to_numpy(dtype=object)
    return modes, lookup_lead_times(snapshot.lead_times, supplier, modes, snapshot.as_of)


class RestockPolicy(Policy):
    """Restock policy: weekly periodic review, order-up-to with service-level safety stock (model) beside
    the seller's rule of thumb (domain-rules.md §1). All thresholds are parameters with playbook defaults.

    Model, per SKU with main ship mode m (its usual mode, else ``default_mode``):

    - lead time L, σ_L: supplier × mode distribution (shrunk to the mode), shifted for the order month;
    - lead-time demand D(L) = Σ forecast over the next L days; d = D(L)/L; σ_d² = mean σ_t² over L;
    - safety stock SS = z·sqrt(L·σ_d² + d²·σ_L²) (Silver, Pyke & Thomas §6.7), z = Φ⁻¹(service level)
      (``service_measure="cycle"``) or from the fill-rate equation G(z) = (1 − P2)·Q/σ
      (``"fill_rate"``); key items keep an expected fill rate ≥ ``key_item_service_level`` (rule
      ``key_item_floor``, ``key_floor_measure="fill_rate"``; ``"cycle"``: a cycle service level floor);
    - σ_L in that spread: with an order every T days in flight and independent lead times, a late order is
      partly made up by the next, so σ_L counts as σ_L·sqrt(min(1, T/(√π·σ_L))) (rule ``lead_time_crossing``);
    - reorder point ROP = D(L) + SS: the latest safe position, used for ``order_by``;
    - order-up-to S = D(L+R) + z·sqrt((L+R)·σ_d² + d²·σ_L²), R = ``review_period_days`` (the weekly
      sheet): a periodic-review (R, S) system protects L + R, because the next chance to order is R
      days away (Silver, Pyke & Thomas, periodic review). With ``order_policy="order_up_to"`` (default)
      any position IP = on_hand − reserved + in transit below S is ordered up to S; with
      ``"reorder_point"`` only positions below ROP are. Quantities round up to MOQ and whole cases;
    - air bridge when the projected run-out comes before a main-mode order could arrive: the units
      short from the air arrival until the next review's air order can land (``air_bridge_horizon=
      "next_review"``; ``"main_arrival"``: until the main-mode arrival), N ~ Normal(point need, σ of
      demand over that horizon), are flown up to the newsvendor quantity need + z·σ, z = Φ⁻¹(1 − premium / net margin)
      (premium = air − main freight a unit + carrying of the earlier arrival), and only when the
      expected sales saved × net margin beat the premium (``air_only_if_it_pays``);
    - late inbound with no faster mode (``late_inbound_bridge``): the position counts stock in transit
      whatever its arrival day; when the usual mode is already the fastest and what is in transit lands
      after a main-mode order placed today could, the units short in [L, L + R) counting each arrival on
      its day (+ z·σ of demand over R days) are ordered by the main mode, at least;
    - costs as the replay charges them: freight a unit per SKU and mode (:func:`freight_rates`); the
      margin a stockout loses is net of the main mode's freight a sold unit pays
      (``margin_net_of_freight``), so the critical ratio and the air decision price a lost sale at what
      it really costs;
    - peak pre-build: for the next peak season (events) a main-mode order can still reach, ``order_by``
      moves to peak − p90 lead time − ``peak_advance_days``; in that review period one order raises the
      position to S + the season's expected extra demand (Σ events' expected_uplift × d), at most
      S·(1 + ``peak_stock_uplift``) (``peak_sizing="playbook"``: always S·(1 + ``peak_stock_uplift``));
    - turnover iteration: > ``turnover_fast_per_month`` → order +30%; < ``turnover_slow_per_month`` →
      −50% (never below the reorder point);
    - new products (launched within ``new_product_days``): the playbook's test-batch formula;
    - ``stockout_probability``: Monte Carlo P(run out before an order placed today could arrive).

    ``demand_correlation`` ρ makes daily forecast errors equicorrelated in the safety stock and the
    Monte Carlo (0 = independent days, the textbook assumption).
    """

    def __init__(
        self,
        service_level: float = 0.95,
        key_item_service_level: float = 0.98,
        key_floor_measure: str = "fill_rate",
        service_level_rule: str = "cost_optimal",
        carrying_rate: float = 0.25,
        key_stock_days: float = 30.0,
        regular_stock_days: float = 15.0,
        air_only_if_it_pays: bool = True,
        margin_net_of_freight: bool = True,
        air_bridge_horizon: str = "next_review",
        late_inbound_bridge: bool = True,
        overstock_keep_days: float = 90.0,
        removal_cover_days: float = 365.0,
        defect_rate_flag: float = 0.05,
        defect_min_units: float = 10.0,
        returns_window_days: int = 28,
        min_test_units: float = 100.0,
        service_measure: str = "cycle",
        demand_correlation: float = 0.0,
        demand_spread: str = "backtest_errors",
        safety_factor_rule: str = "normal",
        order_policy: str = "order_up_to",
        review_period_days: float = 7.0,
        service_period: str = "order_cycle",
        lead_time_crossing: bool = True,
        max_cycle_days: float = 365.0,
        default_mode: str = "sea",
        urgent_mode: str = "air",
        order_sea_cover_days: float = 75.0,
        consider_air_cover_days: float = 20.0,
        alert_cover_days: float = 7.0,
        overstock_cover_days: float = 180.0,
        rot_safety_days: float = 14.0,
        peak_window_days: float = 150.0,
        peak_advance_days: float = 60.0,
        peak_stock_uplift: float = 0.5,
        peak_sizing: str = "events",
        peak_min_event_uplift: float = 0.3,
        turnover_fast_per_month: float = 2.0,
        turnover_slow_per_month: float = 1.0,
        turnover_fast_raise: float = 0.3,
        turnover_slow_cut: float = 0.5,
        new_product_days: float = 60.0,
        test_batch_multiplier: float = 3.0,
        freight_cost_share: dict | None = None,
        n_paths: int = 1000,
        seed: int = 0,
        model: str | None = None,
    ):
        self.service_level = service_level
        self.key_item_service_level = key_item_service_level
        self.key_floor_measure = key_floor_measure
        self.service_level_rule = service_level_rule
        self.carrying_rate = carrying_rate
        self.key_stock_days = key_stock_days
        self.regular_stock_days = regular_stock_days
        self.air_only_if_it_pays = air_only_if_it_pays
        self.margin_net_of_freight = margin_net_of_freight
        self.air_bridge_horizon = air_bridge_horizon
        self.late_inbound_bridge = late_inbound_bridge
        self.overstock_keep_days = overstock_keep_days
        self.removal_cover_days = removal_cover_days
        self.defect_rate_flag = defect_rate_flag
        self.defect_min_units = defect_min_units
        self.returns_window_days = returns_window_days
        self.min_test_units = min_test_units
        self.service_measure = service_measure
        self.demand_correlation = demand_correlation
        self.demand_spread = demand_spread
        self.safety_factor_rule = safety_factor_rule
        self.order_policy = order_policy
        self.review_period_days = review_period_days
        self.service_period = service_period
        self.lead_time_crossing = lead_time_crossing
        self.max_cycle_days = max_cycle_days
        self.default_mode = default_mode
        self.urgent_mode = urgent_mode
        self.order_sea_cover_days = order_sea_cover_days
        self.consider_air_cover_days = consider_air_cover_days
        self.alert_cover_days = alert_cover_days
        self.overstock_cover_days = overstock_cover_days
        self.rot_safety_days = rot_safety_days
        self.peak_window_days = peak_window_days
        self.peak_advance_days = peak_advance_days
        self.peak_stock_uplift = peak_stock_uplift
        self.peak_sizing = peak_sizing
        self.peak_min_event_uplift = peak_min_event_uplift
        self.turnover_fast_per_month = turnover_fast_per_month
        self.turnover_slow_per_month = turnover_slow_per_month
        self.turnover_fast_raise = turnover_fast_raise
        self.turnover_slow_cut = turnover_slow_cut
        self.new_product_days = new_product_days
        self.test_batch_multiplier = test_batch_multiplier
        self.freight_cost_share = freight_cost_share
        self.n_paths = n_paths
        self.seed = seed
        self.model = model

    def _validate(self) -> None:
        from workbench.leadtime import MODES
        check_in_range("service_level", self.service_level, 0, 1)
        check_in_range("key_item_service_level", self.key_item_service_level, 0, 1)
        for name in ("review_period_days", "order_sea_cover_days", "consider_air_cover_days", "alert_cover_days",
                     "overstock_cover_days", "rot_safety_days", "peak_window_days", "peak_advance_days",
                     "new_product_days", "test_batch_multiplier", "turnover_fast_per_month",
                     "turnover_slow_per_month", "peak_stock_uplift", "turnover_fast_raise"):
            check_in_range(name, getattr(self, name), 0, np.inf, closed="left")
        check_in_range("turnover_slow_cut", self.turnover_slow_cut, 0, 1, closed="left")
        check_in_range("carrying_rate", self.carrying_rate, 0, 5, closed="right")
        check_in_range("defect_rate_flag", self.defect_rate_flag, 0, 1, closed="right")
        for name in ("key_stock_days", "regular_stock_days", "overstock_keep_days", "removal_cover_days",
                     "defect_min_units", "returns_window_days", "min_test_units"):
            check_in_range(name, getattr(self, name), 0, np.inf, closed="left")
        if self.service_level_rule not in ("cost_optimal", "fixed"):
            raise ParameterError(f"`service_level_rule` must be 'cost_optimal' or 'fixed', got {self.service_level_rule!r}")
        check_in_range("demand_correlation", self.demand_correlation, 0, 1, closed="both")
        if self.demand_spread not in ("backtest_errors", "intervals"):
            raise ParameterError(f"`demand_spread` must be 'backtest_errors' or 'intervals', got {self.demand_spread!r}")
        if self.peak_sizing not in ("events", "playbook"):
            raise ParameterError(f"`peak_sizing` must be 'events' or 'playbook', got {self.peak_sizing!r}")
        if self.air_bridge_horizon not in ("next_review", "main_arrival"):
            raise ParameterError(f"`air_bridge_horizon` must be 'next_review' or 'main_arrival', got {self.air_bridge_horizon!r}")
        if self.key_floor_measure not in ("fill_rate", "cycle"):
            raise ParameterError(f"`key_floor_measure` must be 'fill_rate' or 'cycle', got {self.key_floor_measure!r}")
        if self.service_period not in ("order_cycle", "review"):
            raise ParameterError(f"`service_period` must be 'order_cycle' or 'review', got {self.service_period!r}")
        check_in_range("max_cycle_days", self.max_cycle_days, 0, np.inf)
        if self.safety_factor_rule not in ("normal", "empirical"):
            raise ParameterError(f"`safety_factor_rule` must be 'normal' or 'empirical', got {self.safety_factor_rule!r}")
        check_in_range("peak_min_event_uplift", self.peak_min_event_uplift, -1, np.inf, closed="left")
        if self.order_policy not in ("order_up_to", "reorder_point"):
            raise ParameterError(f"`order_policy` must be 'order_up_to' or 'reorder_point', got {self.order_policy!r}")
        if self.service_measure not in ("cycle", "fill_rate"):
            raise ParameterError(f"`service_measure` must be 'cycle' or 'fill_rate', got {self.service_measure!r}")
        for name in ("default_mode", "urgent_mode"):
            if getattr(self, name) not in MODES:
                raise ParameterError(f"`{name}` must be one of {MODES}, got {getattr(self, name)!r}")
        check_whole_number("n_paths", self.n_paths)
        if self.alert_cover_days > self.consider_air_cover_days or self.consider_air_cover_days > self.order_sea_cover_days:
            raise ParameterError("cover thresholds must satisfy alert_cover_days <= consider_air_cover_days <= "
                             f"order_sea_cover_days, got {self.alert_cover_days}, {self.consider_air_cover_days}, "
                             f"{self.order_sea_cover_days}")

    # ------------------------------------------------------------------------------------------
    def recommend(self, snapshot: StockSnapshot, forecast_errors=None) -> pd.DataFrame:
        """One restock row per SKU of the snapshot (columns :data:`RESTOCK_COLUMNS` and more).

        ``forecast_errors``: the forecast's backtest errors by window
        (:func:`workbench.forecast.errors.lead_time_errors`); with them the lead-time demand spread is
        the errors summed over lead-time-long windows (``demand_spread="backtest_errors"``), without
        them the intervals' daily σ, days equicorrelated with ``demand_correlation``.
        Each step below is one named method; every number comes from the snapshot or an earlier step.
        """
        self._validate_all()
        w = SimpleNamespace(snap=snapshot, as_of=snapshot.as_of, prod=snapshot.products, n=len(snapshot.products),
                            errors=forecast_errors)
        for step in (self._stock, self._lead_times, self._demand, self._targets, self._stockout, self._peak_events,
                     self._new_products, self._product_checks, self._turnover, self._quantities, self._order_by, self._rule_of_thumb,
                     self._status, self._overstock):
            step(w)
        out = self._frame(w)
        out["reason"] = [restock_reason(r, self) for r in out.itertuples(index=False)]
        return out

    # --- stock: every quantity from the snapshot -------------------------------------------------
    def _stock(self, w) -> None:
        s = w.snap
        w.on_hand = s.column("on_hand").astype(float)
        w.available = s.column("available").astype(float)
        w.inbound = s.column("inbound").astype(float)
        w.ads_blend = s.column("ads_blend").astype(float)
        w.cover = s.column("cover_days").astype(float)
        w.ip = w.available + w.inbound  # inventory position: sellable stock + in transit

    # --- lead times: the SKU's usual mode, supplier × mode distribution ----------------------------
    def _lead_times(self, w) -> None:
        w.ships = w.snap["shipments"]
        w.ships = w.ships[w.ships["order_date"] <= w.as_of]
        w.main_mode, w.lt_main = order_today_lead_times(w.snap, self.default_mode)
        w.urgent = np.full(w.n, self.urgent_mode, dtype=object)
        supplier = w.prod["supplier"].astype(str).to_numpy(dtype=object)
        lt_urg = lookup_lead_times(w.snap.lead_times, supplier, w.urgent, w.as_of)
        w.L = np.maximum(w.lt_main["lead_time_days"].to_numpy(), 1.0)
        w.sL = w.lt_main["lead_time_std"].to_numpy()
        w.L90 = np.maximum(w.lt_main["p90_days"].to_numpy(), w.L)
        w.La = np.maximum(lt_urg["lead_time_days"].to_numpy(), 1.0)
        w.sLa = lt_urg["lead_time_std"].to_numpy()
        w.R = float(self.review_period_days)

    # --- demand over the lead time and the review period ----------------------------------------
    def _demand(self, w) -> None:
        H = int(np.ceil(max(np.max(w.L + 4 * w.sL, initial=1), np.max(w.L + w.R, initial=1), 90))) + 1
        fc = w.snap.forecast
        if fc is not None and len(fc):
            H = max(H, min(int((fc["ds"].max() - w.as_of).days), 400))
        w.H = H
        w.mean, w.std, w.has_fc, w.model_used = w.snap.demand(H)
        w.cum = np.concatenate([np.zeros((w.n, 1)), np.cumsum(w.mean, axis=1)], axis=1)
        w.DL = _interp_cum(w.cum, w.L)
        w.d = w.DL / w.L
        w.var_d = _window_mean_sq(w.std, w.L)
        w.DLR = _interp_cum(w.cum, w.L + w.R)
        w.var_dR = _window_mean_sq(w.std, w.L + w.R)

    # --- safety stock, reorder point, order-up-to ------------------------------------------------
    def _targets(self, w) -> None:
        key = w.prod["is_key_item"].astype(bool).to_numpy()
        w.key = key
        w.unit_cost = w.prod["unit_cost"].to_numpy(float)
        w.selling_price = selling_prices(w.snap)
        w.unit_margin = w.selling_price * (1 - w.prod["fee_rate"].to_numpy(float)) - w.unit_cost
        w.case = w.prod["case_pack"].to_numpy(float)
        w.moq = w.prod["moq"].to_numpy(float)
        # freight a unit as the shipments charged it, per SKU and mode; a lost sale saves the freight the unit
        # would have paid, so the underage cost is the margin net of the main mode's freight
        rates = freight_rates(w.ships, w.unit_cost, self.freight_cost_share, skus=w.snap.sku_index)
        w.rate_air, w.rate_main = rates(w.urgent), rates(w.main_mode)
        w.net_margin = (np.maximum(w.unit_margin - w.rate_main, 0.0) if self.margin_net_of_freight
                        else np.maximum(w.unit_margin, 0.0))
        # the order cycle: an order is at least the MOQ (whole cases), so a SKU whose MOQ lasts 60 days is
        # exposed to a stockout once every 60 days, not every review, and a unit more of stock is carried for
        # the whole cycle: T = max(R, max(MOQ, case, d·R) / d) (Silver, Pyke & Thomas §7: p = h·Q/(D·B2))
        q_cycle = np.maximum.reduce([round_order_qty(np.maximum(w.d * w.R, 1e-9), w.moq, w.case).astype(float),
                                     w.d * w.R, w.case])
        w.cycle_days = (np.clip(q_cycle / np.where(w.d > 0, w.d, np.nan), w.R, self.max_cycle_days)
                        if self.service_period == "order_cycle" else np.full(w.n, w.R))
        w.cycle_days = np.where(np.isfinite(w.cycle_days), w.cycle_days, w.R)
        w.q_cycle = q_cycle
        # the key-item floor as an expected fill rate (rule key_item_floor): checked on z below; as a cycle service
        # level (key_floor_measure="cycle", or when the measure is already a fill rate) it floors the level here
        fill_floor = (self.service_level_rule == "cost_optimal" and self.service_measure == "cycle"
                      and self.key_floor_measure == "fill_rate")
        if self.service_level_rule == "cost_optimal":
            # newsvendor critical ratio per order cycle (service.py), key items floored at their level
            w.sl = cost_optimal_service_level(w.net_margin, w.unit_cost, self.carrying_rate, w.cycle_days,
                                              key & (not fill_floor), key_floor=self.key_item_service_level)
        else:
            w.sl = np.where(key, self.key_item_service_level, self.service_level)
        w.sl_cost = w.sl
        w.sd_L, w.sd_LR = self._lead_time_demand_sd(w)
        w.key_floor_z = np.full(w.n, np.nan)
        w.key_floor_binds = np.zeros(w.n, dtype=bool)
        if self.service_measure == "cycle":
            w.z = service_z(w.sl)
            if w.errors is not None and self.safety_factor_rule == "empirical":
                # the service-level quantile of the backtest's standardized window errors, where it has enough
                k = w.errors.safety_factor(w.sl, w.L + w.R)
                w.z = np.where(np.isfinite(k) & w.err_used, k, w.z)
            if fill_floor:
                self._key_fill_floor(w, key)
            zR = w.z
        else:  # fill rate: the order size decides how often a cycle is exposed to a stockout
            q_cycle = w.q_cycle
            w.z = fill_rate_z(w.sl, q_cycle, w.sd_L)
            zR = fill_rate_z(w.sl, q_cycle, w.sd_LR)
        w.ss = w.z * w.sd_L
        w.rop = w.DL + w.ss
        w.order_up_to = w.DLR + zR * w.sd_LR
        # stock standard (playbook §1): key items keep ≥ 30 days of sales, regular ≥ 15 after the order lands
        w.stock_standard = w.DL + stock_floor_units(w.d, key, self.key_stock_days, self.regular_stock_days)
        w.standard_binds = w.stock_standard > w.order_up_to
        w.order_up_to = np.maximum(w.order_up_to, w.stock_standard)

    def _key_fill_floor(self, w, key) -> None:
        """Rule ``key_item_floor``: a key item's expected fill rate (share of demand served from stock) is at least
        ``key_item_service_level``: z ≥ k with G(k) = (1 − floor)·Q/σ_{L+R} (:func:`fill_rate_z`), Q the units one
        order cycle sells (the MOQ-forced order, at least a review period's demand). A floor on the cycle service
        level would ask a SKU that orders once in 60 days for 98% of its cycles without a stockout, far more than
        98% of its demand served; the fill rate is what the playbook's "better stocked" means to a buyer."""
        kf = fill_rate_z(self.key_item_service_level, w.q_cycle, w.sd_LR)
        w.key_floor_z = np.where(key, kf, np.nan)
        w.key_floor_binds = key & (kf > w.z + 1e-9)
        w.z = np.where(w.key_floor_binds, kf, w.z)
        w.sl = np.where(w.key_floor_binds, stats.norm.cdf(w.z), w.sl)

    def _lead_time_demand_sd(self, w):
        """Std of demand over L and over L + R, units. From the forecast's backtest errors summed over windows
        of that many days (correlation and bias kept; Prak, Teunter & Syntetos 2017) combined with the random
        lead time, σ = sqrt(σ_W² + d²·σ_L²) (:func:`service.lead_time_demand_sigma`), where the errors cover the
        SKU; else the intervals' daily σ over L days, equicorrelated with ``demand_correlation``."""
        rho = float(self.demand_correlation)
        # rule lead_time_crossing: with an order every T days in flight, lateness partly cancels across orders
        w.sL_eff = crossing_lead_time_std(w.sL, w.cycle_days) if self.lead_time_crossing else w.sL
        sL = w.sL_eff
        iid_L = safety_stock(1.0, w.L, w.d, np.sqrt(w.var_d), sL, rho)
        iid_LR = safety_stock(1.0, w.L + w.R, w.d, np.sqrt(w.var_dR), sL, rho)
        w.err_used = np.zeros(w.n, dtype=bool)
        w.err_weight = np.zeros(w.n)
        w.sigma_W = np.full(w.n, np.nan)
        if w.errors is None or self.demand_spread != "backtest_errors":
            return iid_L, iid_LR
        skus = w.snap.sku_index
        sw_L, w.err_weight = w.errors.sigma(skus, w.L, w.DL)
        sw_LR, _ = w.errors.sigma(skus, w.L + w.R, w.DLR)
        w.err_used = np.isfinite(sw_L) & np.isfinite(sw_LR) & np.asarray(w.has_fc, dtype=bool)
        w.sigma_W = np.where(w.err_used, sw_LR, np.nan)
        return (np.where(w.err_used, lead_time_demand_sigma(sw_L, w.d, sL), iid_L),
                np.where(w.err_used, lead_time_demand_sigma(sw_LR, w.d, sL), iid_LR))

    # --- stockout probability (the snapshot's one method) and the deterministic run-out day -------
    def _stockout(self, w) -> None:
        a_day, _, a_q = w.snap.transit_slots()
        K = a_q.shape[1]
        w.arrivals_by_day = np.zeros((w.n, w.H + 1))
        arr_idx = np.clip(np.rint(a_day), 1, w.H).astype(int)
        np.add.at(w.arrivals_by_day, (np.repeat(np.arange(w.n), K), arr_idx.ravel()), a_q.ravel())
        w.stock_path, w.runout = projected_stock(w.mean, w.available, w.arrivals_by_day)
        p = w.snap.stockout_probability(np.column_stack([w.L, w.La]), np.column_stack([w.sL, w.sLa]),
                                        horizon_days=w.H, n_paths=self.n_paths, seed=self.seed,
                                        demand_correlation=float(self.demand_correlation))
        w.p_main, w.p_urg = p[:, 0], p[:, 1]

    # --- events: next peak per SKU -----------------------------------------------------------------
    def _peak_events(self, w) -> None:
        w.peak_date, w.peak_name, w.peak_up, w.peak_extra_days = self._peaks(
            w.snap.get("events"), w.prod, w.snap.sku_index, w.as_of, min_days=w.L)
        w.has_peak = ~pd.isna(w.peak_date)
        peak_days = np.where(w.has_peak, (pd.DatetimeIndex(w.peak_date) - w.as_of).days.to_numpy(float), np.inf)
        w.peak_order_by_days = peak_days - np.ceil(w.L90) - self.peak_advance_days
        # One pre-build order per peak season, in the review period when it falls due (then the
        # normal policy sees the raised position); a weekly run always hits that window once.
        w.prebuild = (w.has_peak & (w.peak_order_by_days <= 0) & (w.peak_order_by_days > -max(w.R, 1.0))
                      & (peak_days > w.L))

    # --- new products: the playbook's test-batch formula -------------------------------------------
    def _new_products(self, w) -> None:
        w.is_new = np.zeros(w.n, dtype=bool)
        test_ads = np.zeros(w.n)
        sales = w.snap.get("sales")
        if "launch_date" in w.prod.columns:
            launch = pd.to_datetime(w.prod["launch_date"])
            age = (w.as_of - launch).dt.days.to_numpy(float)
            w.is_new = (age >= 0) & (age < self.new_product_days)
            if sales is not None and w.is_new.any():
                since = plain_keys(sales).merge(w.prod[["sku", "launch_date"]], on="sku")
                since = since[(since["date"] >= since["launch_date"]) & (since["date"] <= w.as_of)]
                sold = since.groupby("sku")["units"].sum().reindex(w.snap.sku_index).fillna(0).to_numpy(float)
                test_ads = np.where(w.is_new, sold / np.maximum(age + 1, 1), 0.0)
            else:
                test_ads = np.where(w.is_new, w.d, 0.0)
            w.is_new &= test_ads > 0
        w.test_target = first_order_after_test_qty(test_ads, w.L, self.test_batch_multiplier)

    # --- turnover (units sold per month / average stock) ------------------------------------------
    def _turnover(self, w) -> None:
        sales = w.snap.get("sales")
        if sales is not None:
            s = plain_keys(sales)
            s30 = s[(s["date"] > w.as_of - pd.Timedelta(days=30)) & (s["date"] <= w.as_of)]
            sold30 = s30.groupby("sku")["units"].sum().reindex(w.snap.sku_index).fillna(0).to_numpy(float)
        else:
            sold30 = 30 * w.d
        avg = w.snap.column("avg_on_hand_30d").astype(float)
        w.turnover = np.where(avg > 0, sold30 / np.where(avg > 0, avg, 1), np.nan)

    # --- product checks: a stopped test and a defect-return spike (returns table) ---------------------
    def _product_checks(self, w) -> None:
        """Rules ``test_stop_no_reorder`` (a new product whose test says stop is not reordered; the verdict
        needs ``min_test_units`` sold) and ``defect_returns_spike`` (quality returns over the last
        ``returns_window_days`` > ``defect_rate_flag`` of units sold and ≥ ``defect_min_units``: flagged)."""
        from workbench.risk.returns import DEFAULT_QUALITY, NewProductTestPolicy

        sales, returns, skus = w.snap.get("sales"), w.snap.get("returns"), w.snap.sku_index
        w.test_verdict = np.full(w.n, "", dtype=object)
        if sales is not None and "launch_date" in w.prod.columns:
            v = NewProductTestPolicy(min_units=self.min_test_units).recommend(w.snap)
            w.test_verdict = v.set_index("sku")["verdict"].reindex(skus).fillna("").to_numpy(dtype=object)
        w.stop = w.test_verdict == "stop"
        w.defect_units = np.zeros(w.n)
        w.defect_rate = np.full(w.n, np.nan)
        if returns is not None and sales is not None and len(returns):
            start = w.as_of - pd.Timedelta(days=int(self.returns_window_days) - 1)
            r = plain_keys(returns)
            r = r[(r["date"] >= start) & (r["date"] <= w.as_of)]
            q = r[r["reason"].astype(str).str.lower().str.replace("_", " ").str.contains(DEFAULT_QUALITY, regex=True)]
            w.defect_units = q.groupby("sku")["units"].sum().reindex(skus).fillna(0).to_numpy(float)
            s = plain_keys(sales)
            sold = s[(s["date"] >= start) & (s["date"] <= w.as_of)].groupby("sku")["units"].sum().reindex(skus)
            sold = sold.fillna(0).to_numpy(float)
            w.defect_rate = np.where(sold > 0, w.defect_units / np.where(sold > 0, sold, 1), np.nan)
        w.defect_spike = (np.nan_to_num(w.defect_rate) > self.defect_rate_flag) & (w.defect_units >= self.defect_min_units)

    # --- quantities: (R, S) order, peak pre-build, test batch, turnover, air bridge, MOQ ------------
    def _quantities(self, w) -> None:
        # Periodic review (R, S): the next chance to order is R days away, so the protection interval is
        # L + R and any position below S is ordered up to S. ROP (L only) is the latest safe point.
        w.need = (w.ip < w.order_up_to) if self.order_policy == "order_up_to" else (w.ip < w.rop)
        base_raw = np.where(w.need, w.order_up_to - w.ip, 0.0)
        # raise stock by the season's extra demand (events' expected uplift × days × d), at most the playbook's
        # 50–100% (peak_stock_uplift); without uplift figures (or peak_sizing="playbook") the playbook's raise
        playbook_raise = w.order_up_to * w.peak_up
        extra = np.asarray(w.peak_extra_days, dtype=float)
        by_events = np.minimum(playbook_raise, np.where(np.isfinite(extra), np.nan_to_num(extra) * w.d, np.inf))
        w.peak_raise = (np.where(np.isfinite(w.peak_extra_days), by_events, playbook_raise)
                        if self.peak_sizing == "events" else playbook_raise)
        peak_raw = np.where(w.prebuild, w.order_up_to + w.peak_raise - w.ip, 0.0)
        new_raw = np.where(w.is_new, w.test_target - w.ip, 0.0)
        w.raw_target = np.maximum.reduce([base_raw, peak_raw, new_raw, np.zeros(w.n)])
        raw = w.raw_target
        # Turnover iteration only for healthy SKUs (no run-out before an order placed today arrives): with
        # 36–43 d sea lead times turnover below 1×/month is normal for a SKU that is running out.
        sellable_days = w.snap.column("sellable_cover_days").astype(float)
        w.healthy = (w.runout >= w.L + w.R) & (sellable_days >= self.alert_cover_days)
        w.fast = (w.turnover > self.turnover_fast_per_month) & (raw > 0) & ~w.is_new & w.healthy
        w.slow = (w.turnover < self.turnover_slow_per_month) & (raw > 0) & ~w.is_new & ~w.prebuild & w.healthy
        raw = np.where(w.fast, raw * (1 + self.turnover_fast_raise), raw)
        raw = np.where(w.slow, np.maximum(raw * (1 - self.turnover_slow_cut), np.maximum(w.rop - w.ip, 0.0)), raw)
        raw = np.where(w.stop, 0.0, raw)  # test_stop_no_reorder
        # Air bridge: its own small order in case packs, only when sea cannot arrive before the run-out
        # and the margin it saves beats the freight premium (service.air_vs_sea).
        w.air_faster = w.La < w.L
        w.raw_after = raw = self._late_inbound(w, raw)
        sea_late = (w.air_faster & (w.runout < w.L) & ~w.stop
                    & ((w.cover <= self.consider_air_cover_days) | (w.p_main > 1 - w.sl)))
        # the days this order must carry: to the main-mode arrival, or (weekly review, the default) only those
        # next week's air order cannot reach, [L_air, L_air + R): next week decides again with what is then missing
        w.air_end = (np.minimum(w.L, np.ceil(w.La) + w.R) if self.air_bridge_horizon == "next_review" else w.L)
        w.air_need = np.where(sea_late, air_bridge_qty(w.mean, w.stock_path, w.arrivals_by_day, w.La, w.air_end), 0.0)
        self._air_bridge(w, sea_late)
        case = np.maximum(w.case, 1)
        # Main order: the rest of the target in case packs; the MOQ applies to the supplier order (air + main).
        main_raw = np.maximum(raw - w.air_qty, 0.0)
        w.main_case = np.where(main_raw > 0, np.ceil(np.round(main_raw / case, 9)) * case, 0.0)
        main = np.where(main_raw > 0, np.ceil(np.round(np.maximum(main_raw, w.moq - w.air_qty) / case, 9)) * case, 0.0)
        w.moq_extra = (main - w.main_case).astype("int64")
        w.main_qty = main.astype("int64")
        w.qty = (w.air_qty + w.main_qty).astype("int64")
        w.ship_mode = np.where(w.air_qty == 0, w.main_mode,
                               np.where(w.main_qty == 0, w.urgent, w.urgent + "+" + w.main_mode))
        w.extra_freight = np.round(w.air_qty * np.maximum(w.rate_air - w.rate_main, 0.0), 2)

    def _late_inbound(self, w, raw):
        """Rule ``late_inbound_bridge``: with no faster mode than the usual one, the units short in [L, L + R)
        with every arrival counted on its own day, + z·σ of demand over R days, are the least the main order
        carries (the position alone counts a shipment landing after the window as if it were here)."""
        R = np.full(w.n, float(w.R))
        gap = np.where(~w.air_faster & ~w.stop & bool(self.late_inbound_bridge),
                       air_bridge_qty(w.mean, w.stock_path, w.arrivals_by_day, w.L, w.L + R), 0.0)
        sd = np.where(gap > 0, self._demand_sd_until(w, R), 0.0)
        w.late_need = np.where(gap > 0, gap + np.maximum(np.asarray(w.z, dtype=float), 0.0) * sd, 0.0)
        w.late_gap = gap
        w.late_bridge = w.late_need > raw
        return np.where(w.late_bridge, w.late_need, raw)

    def _air_bridge(self, w, sea_late) -> None:
        """Air quantity by expected cost (service.air_bridge_units / air_units_saved / air_vs_sea): the units short
        in the gap are N ~ Normal(point need, σ of demand over L); fly the newsvendor quantity, in case packs,
        when the expected sales saved × net margin beat the premium (freight difference + carrying of the
        earlier arrival). ``air_only_if_it_pays=False``: fly the point need whatever it costs."""
        case = np.maximum(w.case, 1)
        w.air_need_std = np.where(w.air_need > 0, self._demand_sd_until(w, w.air_end), 0.0)
        w.air_holding = self.carrying_rate * w.unit_cost * np.maximum(w.L - w.La, 0.0) / 365.0
        w.air_unit_premium = np.maximum(w.rate_air - w.rate_main, 0.0) + w.air_holding
        q_opt, z = air_bridge_units(w.air_need, w.air_need_std, w.net_margin, w.air_unit_premium)
        w.air_sl = np.where(np.isfinite(z), stats.norm.cdf(z), 0.0)
        # the quantity judged: the newsvendor one, or the point need when flying does not pay at any quantity
        q = np.where(self.air_only_if_it_pays & (q_opt > 0), q_opt, w.air_need)
        air_case = np.where(sea_late & (q > 0), np.ceil(np.round(q / case, 9)) * case, 0.0)
        w.air_saved = np.where(air_case > 0, air_units_saved(air_case, w.air_need, w.air_need_std), 0.0)
        cost = np.where(w.unit_cost > 0, w.unit_cost, 1.0)
        w.air_benefit, pays = air_vs_sea(w.air_saved, 0.0, w.net_margin, air_case, cost, w.rate_air / cost,
                                         w.rate_main / cost, holding_per_unit=w.air_holding)
        w.air_premium = air_case * w.air_unit_premium
        w.air_rejected = (air_case > 0) & ~pays & bool(self.air_only_if_it_pays)
        w.air_qty = np.where((air_case > 0) & ~w.air_rejected, air_case, 0.0).astype("int64")

    def _demand_sd_until(self, w, days):
        """σ of demand over the next ``days`` days (the air bridge's horizon): the forecast's backtest errors summed
        over windows that long where they cover the SKU, else the intervals' σ (days equicorrelated with
        ``demand_correlation``); plus the lead-time term d²·σ_L² where the horizon ends at the main-mode arrival
        (its lateness lengthens the gap), not where it ends at the next review."""
        lt_std = np.where(days >= w.L - 1e-9, w.sL, 0.0)
        iid = safety_stock(1.0, days, w.d, np.sqrt(_window_mean_sq(w.std, days)), lt_std, float(self.demand_correlation))
        if w.errors is None or self.demand_spread != "backtest_errors" or not w.err_used.any():
            return iid
        sw, _ = w.errors.sigma(w.snap.sku_index, days, _interp_cum(w.cum, days))
        own = w.err_used & np.isfinite(sw)
        return np.where(own, lead_time_demand_sigma(np.nan_to_num(sw), w.d, lt_std), iid)

    # --- order_by: first day the projected position drops below the reorder point -----------------
    def _order_by(self, w) -> None:
        proj = w.ip[:, None] - w.cum  # (n, H+1), index = day
        below = proj < w.rop[:, None]
        t_rop = np.where(below.any(axis=1), below.argmax(axis=1), w.H).astype(float)
        t_order = np.where(w.qty > 0, 0.0, t_rop)
        t_order = np.where(w.has_peak & ~w.prebuild, np.minimum(t_order, np.maximum(w.peak_order_by_days, 0)), t_order)
        w.t_order = t_order
        w.order_by = w.as_of + pd.to_timedelta(t_order, unit="D")

    # --- rule of thumb (domain-rules.md §1) --------------------------------------------------------
    def _rule_of_thumb(self, w) -> None:
        w.rot_ss = self.rot_safety_days * w.ads_blend
        w.rot_qty = round_order_qty(w.ads_blend * w.L + w.rot_ss - w.available - w.inbound, w.moq, w.case)

    # --- status: the playbook's cover bands, exactly as stated -----------------------------------------
    def _status(self, w) -> None:
        """Rule ``cover_bands``: alert_under_7d when SELLABLE cover < ``alert_cover_days`` (restock now);
        consider_air when cover (sellable + in transit) ≤ ``consider_air_cover_days``; order_now /
        new_product when an order is placed; order_by_sea_soon when cover ≤ ``order_sea_cover_days``;
        overstock when cover > ``overstock_cover_days``; ok otherwise. Checked in that order (first wins)."""
        d, cover = w.snap.column("daily_demand").astype(float), w.cover
        sellable = w.snap.column("sellable_cover_days").astype(float)
        status = np.full(w.n, "ok", dtype=object)
        status[(cover > self.overstock_cover_days) & (w.available + w.inbound > 0)] = "overstock"
        status[(cover <= self.order_sea_cover_days) & (d > 0)] = "order_by_sea_soon"
        status[w.qty > 0] = np.where(w.is_new[w.qty > 0], "new_product", "order_now")
        status[(cover <= self.consider_air_cover_days) & (d > 0)] = "consider_air"
        status[(sellable < self.alert_cover_days) & (d > 0)] = "alert_under_7d"
        w.status = status
        flags = {"service_level_rop": w.need, "key_item_floor": w.key_floor_binds, "stock_standard": w.need & w.standard_binds,
                 "peak_prebuild": w.prebuild, "test_batch": w.is_new,
                 "turnover_fast": w.fast, "turnover_slow": w.slow, "late_inbound_bridge": w.late_bridge & (w.qty > 0),
                 "air_bridge": w.air_qty > 0,
                 "air_not_worth_it": w.air_rejected, "moq_above_target": w.moq_extra > 0,
                 "test_stop_no_reorder": w.stop, "defect_returns_spike": w.defect_spike,
                 "overstock_clearance": status == "overstock"}
        w.rules = [",".join(k for k, v in flags.items() if v[i]) or "none" for i in range(w.n)]

    # --- overstock: money tied up and what to do about it -------------------------------------------
    def _overstock(self, w) -> None:
        """Rule ``overstock_clearance``: cover > ``overstock_cover_days`` → the units above
        ``overstock_keep_days`` of demand are excess; stock value at cost, its monthly holding cost at
        ``carrying_rate``/12, and clearance (coupon, bundle, outlet deal) or, above ``removal_cover_days``,
        removal / liquidation."""
        d = w.snap.column("daily_demand").astype(float)
        over = w.status == "overstock"
        stock = w.available + w.inbound
        w.excess_units = np.where(over, np.maximum(stock - d * self.overstock_keep_days, 0.0), 0.0).round()
        w.stock_value = np.round(stock * w.unit_cost, 2)
        w.excess_value = np.round(w.excess_units * w.unit_cost, 2)
        w.holding_month = np.round(np.where(over, w.stock_value * self.carrying_rate / 12, 0.0), 2)
        w.overstock_action = np.where(~over, "", np.where(w.cover > self.removal_cover_days,
                                                          "removal / liquidation", "clearance: coupon, bundle or outlet deal"))

    def _frame(self, w) -> pd.DataFrame:
        s = w.snap.skus
        return pd.DataFrame({
            "sku": s["sku"].to_numpy(), "supplier": w.prod["supplier"].astype(str).to_numpy(dtype=object),
            "n_locations": s["n_locations"].to_numpy(), "on_hand": s["on_hand"].to_numpy(),
            "reserved": s["reserved"].to_numpy(), "available": s["available"].to_numpy(),
            "supplier_held": s["supplier_held"].to_numpy(), "inbound": s["inbound"].to_numpy(),
            "inbound_overdue": s["inbound_overdue"].to_numpy(), "next_arrival": s["next_arrival"].to_numpy(),
            "ads": s["daily_demand"].to_numpy(), "ads_blend": s["ads_blend"].to_numpy(),
            "demand_source": s["demand_source"].to_numpy(),
            "forecast_model": np.where(w.has_fc, w.model_used, "ads_blend (no forecast)"),
            "days_of_cover": s["cover_days"].to_numpy(), "cover_days": s["cover_days"].to_numpy(),
            "sellable_cover_days": s["sellable_cover_days"].to_numpy(),
            "lead_time_days": np.round(w.L, 1), "lead_time_std": np.round(w.sL, 2), "lead_time_std_effective": np.round(w.sL_eff, 2),
            "lead_time_p90": np.round(w.L90, 1), "lead_time_source": w.lt_main["source"].to_numpy(dtype=object),
            "main_mode": w.main_mode, "urgent_mode": w.urgent, "urgent_lead_time_days": np.round(w.La, 1),
            "moq": w.moq, "case_pack": w.case, "service_level": w.sl, "cost_optimal_service_level": w.sl_cost,
            "key_floor_z": np.round(w.key_floor_z, 3), "order_cycle_days": np.round(w.cycle_days, 1), "order_cycle_units": np.round(w.q_cycle, 1), "safety_factor_z": np.round(w.z, 3),
            "lead_time_demand": np.round(w.DL, 1), "safety_stock": np.round(w.ss, 1),
            "demand_std_lr": np.round(w.sd_LR, 1),
            "demand_spread": np.where(w.err_used, "backtest_errors", "intervals"),
            "error_weight_own": np.round(w.err_weight, 2),
            "reorder_point": np.round(w.rop, 1), "order_up_to": np.round(w.order_up_to, 1),
            "review_demand": np.round(w.DLR, 1), "inventory_position": w.ip.astype("int64"),
            "recommended_qty": w.qty, "air_qty": w.air_qty, "main_qty": w.main_qty, "ship_mode": w.ship_mode,
            "target_qty": np.round(w.raw_target, 1), "adjusted_qty": np.round(w.raw_after, 1),
            "air_need": np.round(w.air_need, 1), "air_benefit_usd": np.round(w.air_benefit, 2),
            "air_premium_usd": np.round(w.air_premium, 2), "air_need_std": np.round(w.air_need_std, 1),
            "air_bridge_end_days": np.round(w.air_end, 1),
            "late_inbound_gap": np.round(w.late_gap, 1), "late_inbound_need": np.round(w.late_need, 1),
            "air_service_level": np.round(w.air_sl, 4), "air_premium_per_unit": np.round(w.air_unit_premium, 4),
            "air_lost_units_saved": np.round(w.air_saved, 1), "net_unit_margin": np.round(w.net_margin, 2),
            "main_case_qty": w.main_case.astype("int64"),
            "moq_extra": w.moq_extra, "selling_price": np.round(w.selling_price, 2),
            "unit_margin": np.round(w.unit_margin, 2),
            "stock_standard": np.round(w.stock_standard, 1), "key_item": w.key,
            "test_verdict": w.test_verdict, "defect_units": w.defect_units, "defect_rate": np.round(w.defect_rate, 3),
            "excess_units": w.excess_units, "stock_value_usd": w.stock_value, "excess_value_usd": w.excess_value,
            "holding_cost_month_usd": w.holding_month, "overstock_action": w.overstock_action,
            "extra_freight_usd": w.extra_freight, "order_by": w.order_by.normalize(), "days_until_order": w.t_order.astype(int),
            "planning_horizon_days": np.full(w.n, w.H),
            "stockout_probability": np.round(w.p_main, 4), "stockout_probability_air": np.round(w.p_urg, 4),
            "runout_days": np.where(np.isfinite(w.runout), w.runout, np.nan),
            "turnover_per_month": np.round(w.turnover, 2), "peak_event": w.peak_name,
            "peak_date": pd.DatetimeIndex(w.peak_date), "peak_extra_days": np.round(w.peak_extra_days, 2),
            "peak_raise": np.round(w.peak_raise, 1), "status": w.status, "rule": w.rules,
            "rot_ads": np.round(w.ads_blend, 3), "rot_safety_stock": np.round(w.rot_ss, 1), "rot_qty": w.rot_qty,
            "qty_vs_rule": w.qty - w.rot_qty,
        })

    # ------------------------------------------------------------------------------------------
    def _peaks(self, events, prod, skus, as_of, min_days):
        """Next peak season per SKU that a main-mode order could still reach (start − as_of > min_days).

        Peak events (names like Black Friday / Prime Day / Christmas, or expected_uplift ≥
        ``peak_min_event_uplift``) are grouped into seasons: consecutive peak days with gaps of at
        most 14 days. A season is dated by its first day and named after its first event, so a
        month of daily "Christmas run-up" rows is one peak, not thirty. Returns (date, name, the playbook's
        uplift, the season's extra demand in days of sales: Σ expected_uplift over its event days, NaN when
        an event has no uplift figure).
        """
        n = len(skus)
        peak_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        peak_name = np.full(n, "", dtype=object)
        peak_up = np.zeros(n)
        season_days = np.full(n, np.nan)  # Σ expected_uplift over the season's days (extra days of demand)
        if events is None or len(events) == 0:
            return peak_date, peak_name, peak_up, season_days
        ev = events
        up = (pd.to_numeric(ev["expected_uplift"], errors="coerce") if "expected_uplift" in ev.columns
              else pd.Series(np.nan, index=ev.index))
        is_peak = ev["event"].astype(str).str.contains(PEAK_PATTERN) | (up >= self.peak_min_event_uplift)
        ev = ev[is_peak].sort_values("date", kind="stable")
        if ev.empty:
            return peak_date, peak_name, peak_up, season_days
        ev = ev.assign(_up=up.reindex(ev.index))
        cats = prod["category"].astype(str).to_numpy() if "category" in prod.columns else np.full(n, "")
        known = set(skus) | set(cats)
        sku_arr = skus.to_numpy()
        scopes = ev["scope"].astype(str)
        for scope, g in ev.groupby(scopes, sort=False):
            dates = g["date"].to_numpy()
            new_season = np.r_[True, np.diff(dates) > np.timedelta64(14, "D")]
            # a season's extra demand in days of normal sales: Σ expected_uplift over its event days (NaN if unknown)
            season_id = np.cumsum(new_season)
            extra = pd.Series(g["_up"].to_numpy(float)).groupby(season_id).agg(lambda u: u.sum() if u.notna().all() else np.nan)
            g = g.assign(_extra=extra.reindex(season_id).to_numpy())
            starts = g[new_season]
            starts = starts[(starts["date"] > as_of) &
                            (starts["date"] <= as_of + pd.Timedelta(days=self.peak_window_days))]
            if starts.empty:
                continue
            if scope == "all" or scope not in known:  # channel scopes apply to every SKU
                applies = np.ones(n, dtype=bool)
            else:
                applies = (sku_arr == scope) | (cats == scope)
            for _, e in starts.iterrows():
                days = (e["date"] - as_of).days
                hit = applies & (days > min_days) & (np.isnat(peak_date) | (peak_date > np.datetime64(e["date"])))
                peak_date[hit] = np.datetime64(e["date"])
                peak_name[hit] = str(e["event"])
                season_days[hit] = e["_extra"]
                # The forecast carries the event's demand effect; the pre-build uplift is the playbook's
                # stock raise (50–100%), a parameter, not the event's expected_uplift (no double count).
                peak_up[hit] = self.peak_stock_uplift
        return peak_date, peak_name, peak_up, season_days


def mode_freight_shares(ships: pd.DataFrame, unit_cost: pd.Series) -> dict[str, float]:
    """Freight as a share of goods value per mode, Σ freight_cost / Σ (qty × unit cost), over the shipments
    with freight recorded and a known unit cost (``unit_cost`` indexed by SKU). Modes without such a
    shipment are absent: callers fall back to :data:`DEFAULT_FREIGHT_SHARE`. The one definition the
    restock policy and the backtest's world share."""
    if "freight_cost" not in ships.columns:
        return {}
    f = ships[ships["freight_cost"].notna() & (ships["qty"] > 0)]
    if not len(f):
        return {}
    value = f["qty"].to_numpy(float) * f["sku"].astype(str).map(unit_cost).to_numpy(float)
    g = pd.DataFrame({"mode": f["mode"].astype(str).to_numpy(), "freight": f["freight_cost"].to_numpy(float),
                      "value": value})
    per = g[g["value"] > 0].groupby("mode")[["freight", "value"]].sum()
    return (per["freight"] / per["value"]).to_dict()


def freight_rates(ships: pd.DataFrame, unit_cost, share: dict | None = None, skus=None):
    """Freight USD per unit by mode: ``rates(modes) -> array`` aligned with ``unit_cost`` (and ``skus``).

    With ``skus``: the SKU's own Σ freight_cost / Σ qty for the mode where it has shipped by it, else the
    mode's share of goods value over the shipments with freight (Σ freight / Σ qty × unit cost) times the
    SKU's unit cost, else the mode's default share of unit cost (:data:`DEFAULT_FREIGHT_SHARE`, updated
    by ``share``). Freight follows the goods (a $50 unit pays more than a $5 one), as the replay charges
    it, so one median per mode would price air far too cheap for dear SKUs and too dear for cheap ones.
    Without ``skus``: the mode's median freight_cost / qty (the old rule, kept for callers without SKUs).
    The one freight-rate rule (restock, what-if).
    """
    shares = {**DEFAULT_FREIGHT_SHARE, **(share or {})}
    cost = np.asarray(unit_cost, dtype=float)
    f = ships[ships["freight_cost"].notna() & (ships["qty"] > 0)] if "freight_cost" in ships.columns else ships.iloc[:0]
    if skus is None:
        per_unit = (f["freight_cost"] / f["qty"]).groupby(f["mode"].astype(str)).median().to_dict() if len(f) else {}

        def rates(modes) -> np.ndarray:
            return np.array([per_unit.get(m, shares.get(m, 0.1) * c) for m, c in zip(modes, cost)])
        return rates
    keys = [str(k) for k in skus]
    own = {}
    c = pd.Series(cost, index=keys)
    mode_share = mode_freight_shares(f, c[~c.index.duplicated()])
    if len(f):
        g = f.assign(sku=f["sku"].astype(str), mode=f["mode"].astype(str))
        sums = g.groupby(["sku", "mode"])[["freight_cost", "qty"]].sum()
        own = (sums["freight_cost"] / sums["qty"]).to_dict()

    def rates(modes) -> np.ndarray:
        return np.array([own.get((k, str(m)), mode_share.get(str(m), shares.get(str(m), 0.1)) * c)
                         for k, m, c in zip(keys, modes, cost)])
    return rates


def _rule_of_thumb_text(r, p: RestockPolicy) -> str:
    """The seller's rule of thumb beside the model, and why they differ."""
    diff = r.qty_vs_rule
    rot_demand = r.rot_ads * r.lead_time_days
    rot_target = rot_demand + r.rot_safety_stock
    txt = (f"rule of thumb {r.rot_qty} (ADS {r.rot_ads:.1f} × {r.lead_time_days:.0f} d + "
           f"{p.rot_safety_days:g} d safety {r.rot_safety_stock:.0f} − {r.available} available − "
           f"{r.inbound} in transit)")
    if diff == 0:
        return txt + ", same as model"
    if r.recommended_qty == 0:
        return txt + (f"; model orders nothing: position {r.inventory_position} ≥ reorder point "
                      f"{r.reorder_point:.0f} (lead-time demand {r.lead_time_demand:.0f} vs {rot_demand:.0f}, "
                      f"safety stock {r.safety_stock:.0f} vs {r.rot_safety_stock:.0f})")
    txt += (f"; model {diff:+d}: target {r.order_up_to:.0f} (demand over {r.lead_time_days:.0f}+"
            f"{p.review_period_days:g} d {r.review_demand:.0f} + safety {r.order_up_to - r.review_demand:.0f}"
            f") vs {rot_target:.0f} (demand {rot_demand:.0f} + safety {r.rot_safety_stock:.0f})")
    extra = [x for x in ("peak_prebuild", "test_batch", "turnover_fast", "turnover_slow", "late_inbound_bridge", "air_bridge")
             if x in r.rule]
    if extra:
        txt += f", plus {', '.join(extra)}"
    return txt + "; both rounded to MOQ and case packs"


def _quantity_text(r, p: RestockPolicy) -> str:
    """Every unit of the order: target − position, adjustments, air bridge, case packs, MOQ."""
    parts = [f"need {r.target_qty:.0f} = order-up-to {r.order_up_to:.0f} − position {r.inventory_position}"
             if "service_level_rop" in r.rule else f"need {r.target_qty:.0f}"]
    if "stock_standard" in r.rule:
        parts.append(f"order-up-to raised to the stock standard ({p.key_stock_days if r.key_item else p.regular_stock_days:g} d "
                     f"of sales after arrival for a {'key' if r.key_item else 'regular'} item)")
    if "peak_prebuild" in r.rule:
        if np.isfinite(r.peak_extra_days) and p.peak_sizing == "events":
            parts.append(f"peak pre-build for {r.peak_event}: order-up-to {r.order_up_to:.0f} + {r.peak_raise:.0f} "
                         f"(the season's expected extra demand, {r.peak_extra_days:.1f} days of sales by the events' uplift, "
                         f"at most +{p.peak_stock_uplift:.0%})")
        else:
            parts.append(f"peak pre-build {r.order_up_to:.0f}×{1 + p.peak_stock_uplift:g} for {r.peak_event}")
    if "test_batch" in r.rule:
        parts.append("new product: test ADS×3 + ADS×transit")
    if "turnover_fast" in r.rule:
        parts.append(f"turnover_fast {r.turnover_per_month:.1f}×/month > {p.turnover_fast_per_month:g}: "
                     f"+{p.turnover_fast_raise:.0%} → {r.adjusted_qty:.0f}")
    if "turnover_slow" in r.rule:
        parts.append(f"turnover_slow {r.turnover_per_month:.1f}×/month < {p.turnover_slow_per_month:g} on a healthy SKU: "
                     f"−{p.turnover_slow_cut:.0%}, not below the reorder point → {r.adjusted_qty:.0f}")
    if "late_inbound_bridge" in r.rule:
        parts.append(f"late_inbound_bridge: no mode faster than {r.main_mode}, and what is in transit lands after "
                     f"day {r.lead_time_days + p.review_period_days:.0f}: {r.late_inbound_gap:.0f} units short between "
                     f"day {r.lead_time_days:.0f} and day {r.lead_time_days + p.review_period_days:.0f} counting each "
                     f"arrival on its day, + safety = {r.late_inbound_need:.0f} ordered by {r.main_mode} at least")
    if r.air_qty > 0:
        until = (f"the {r.main_mode} arrival on day {r.lead_time_days:.0f}" if r.air_bridge_end_days >= r.lead_time_days
                 else f"day {r.air_bridge_end_days:.0f}, until the next review's air order can land")
        parts.append(f"air_bridge {r.air_qty} by {r.urgent_mode} ({r.urgent_lead_time_days:.0f} d): {r.air_need:.0f} ± "
                     f"{r.air_need_std:.0f} units short between day {r.urgent_lead_time_days:.0f} and {until}, flown up to the {r.air_service_level:.0%} quantile "
                     f"(premium ${r.air_premium_per_unit:.2f}/unit vs net margin ${r.net_unit_margin:.2f}), rounded to "
                     f"cases of {r.case_pack:.0f}; saves {r.air_lost_units_saved:.0f} expected sales = "
                     f"${r.air_lost_units_saved * r.net_unit_margin:,.0f} net margin vs ${r.air_premium_usd:,.0f} extra "
                     f"freight and carrying")
    if "air_not_worth_it" in r.rule:
        parts.append(f"air_not_worth_it: {r.air_need:.0f} ± {r.air_need_std:.0f} units short before {r.main_mode} "
                     f"arrives, but air would cost ${r.air_premium_usd:,.0f} extra freight and carrying "
                     f"(${r.air_premium_per_unit:.2f}/unit) for {r.air_lost_units_saved:.0f} expected sales = "
                     f"${r.air_lost_units_saved * r.net_unit_margin:,.0f} of margin (${r.net_unit_margin:.2f}/unit net "
                     f"of {r.main_mode} freight): no air, those sales are lost")
    if r.main_qty > 0:
        rest = max(r.adjusted_qty - r.air_qty, 0)
        txt = f"{r.main_mode} {r.main_qty} = {rest:.0f}" + (f" − {r.air_qty} by air" if r.air_qty else "")
        txt += f" rounded up to cases of {r.case_pack:.0f} ({r.main_case_qty})"
        if r.moq_extra > 0:
            txt += (f"; moq_above_target: MOQ {r.moq:.0f} for the supplier order forces {r.moq_extra} more than "
                    f"the target")
        parts.append(txt)
    elif r.air_qty > 0:
        parts.append(f"position already ≥ target: only the air bridge is ordered (its own small order in case packs; "
                     f"the MOQ {r.moq:.0f} applies to the supplier's regular order)")
    return ": ".join([f"order {r.recommended_qty} by {r.order_by.date()}", "; ".join(parts)])


def _order_text(r, p: RestockPolicy) -> str:
    if "test_stop_no_reorder" in r.rule:
        return (f"test_stop_no_reorder: the new-product test says stop (≥ {p.min_test_units:g} units judged), "
                f"no reorder")
    if r.recommended_qty > 0:
        return _quantity_text(r, p)
    if r.days_until_order >= r.planning_horizon_days:
        return f"no order needed within {r.planning_horizon_days} d (order by {r.order_by.date()} at the latest)"
    return f"no order now; order by {r.order_by.date()}"


def _status_text(r, p: RestockPolicy) -> str:
    """The cover band the status comes from, with its threshold (rule ``cover_bands``)."""
    if r.status == "alert_under_7d":
        txt = f"alert_under_7d: sellable cover {r.sellable_cover_days:.1f} d < {p.alert_cover_days:g} d, restock now"
        if r.inbound > 0:
            txt += f" ({r.inbound} in transit, next arrival {pd.Timestamp(r.next_arrival).date() if pd.notna(r.next_arrival) else '?'})"
        return txt
    if r.status == "consider_air":
        txt = f"consider_air: cover {r.cover_days:.1f} d ≤ {p.consider_air_cover_days:g} d"
        if r.lead_time_days <= r.sellable_cover_days:
            txt += f" ({r.main_mode} arrives in {r.lead_time_days:.0f} d, within the cover: no air needed)"
        return txt
    if r.status == "overstock":
        return (f"overstock_clearance: cover {r.cover_days:.0f} d > {p.overstock_cover_days:g} d; {r.excess_units:.0f} units "
                f"above {p.overstock_keep_days:g} d of demand (${r.excess_value_usd:,.0f} at cost), ${r.stock_value_usd:,.0f} "
                f"tied up costing ${r.holding_cost_month_usd:,.0f}/month at {p.carrying_rate:.0%}/yr → {r.overstock_action}")
    if r.status == "order_by_sea_soon":
        return f"order_by_sea_soon: cover {r.cover_days:.1f} d ≤ {p.order_sea_cover_days:g} d"
    if r.status in ("order_now", "new_product"):
        if r.main_qty == 0 and r.air_qty > 0:
            return (f"{r.status}: position {r.inventory_position} covers the order-up-to {r.order_up_to:.0f}, but stock "
                    f"runs out on day {r.runout_days:.0f} before the next arrival")
        return f"{r.status}: position {r.inventory_position} < order-up-to {r.order_up_to:.0f}"
    return f"ok: cover {r.cover_days:.1f} d"


def _key_floor_text(r, p: RestockPolicy) -> str:
    """The key-item floor (rule ``key_item_floor``): as an expected fill rate, whether it raised z; as a cycle level."""
    if not r.key_item:
        return ""
    if not np.isfinite(r.key_floor_z):
        return f", key-item floor {p.key_item_service_level:.0%}"
    txt = (f", key-item floor: expected fill rate ≥ {p.key_item_service_level:.0%} needs z ≥ {r.key_floor_z:.2f} with "
           f"{r.order_cycle_units:.0f} units an order cycle and σ {r.demand_std_lr:.0f}")
    return txt + (f", which raised the cost-optimal {r.cost_optimal_service_level:.1%} (key_item_floor)"
                  if "key_item_floor" in r.rule else ", met by the cost-optimal level")


def restock_reason(r, p: RestockPolicy) -> str:
    """One plain sentence per restock row, built from the row's own columns."""
    parts = []
    if r.ads <= 0:
        parts.append("no demand forecast (ads 0)")
    else:
        cmp = "<" if r.cover_days < r.lead_time_days else "≥"
        parts.append(f"cover {r.cover_days:.1f} d ({r.available} sellable + {r.inbound} in transit at "
                     f"{r.ads:.2f}/d; sellable alone {r.sellable_cover_days:.1f} d) {cmp} lead time "
                     f"{r.lead_time_days:.0f} d ({r.main_mode}, p90 {r.lead_time_p90:.0f} d, std {r.lead_time_std:.1f} d)")
    if r.supplier_held > 0:
        parts.append(f"{r.supplier_held} held by the supplier (dropship) not counted as sellable")
    parts.insert(0, _status_text(r, p))
    measure = "fill rate" if p.service_measure == "fill_rate" else "service"
    how = (f" (cost-optimal: margin ${r.unit_margin:.2f} at {r.selling_price:.2f} vs {p.carrying_rate:.0%}/yr carrying"
           f" over a {r.order_cycle_days:.0f}-day order cycle" + _key_floor_text(r, p) + ")"
           if p.service_level_rule == "cost_optimal" else "")
    window = r.lead_time_days + p.review_period_days
    spread = (f"σ {r.demand_std_lr:.0f} over {window:.0f} d from the forecast's backtest errors summed over "
              f"{window:.0f}-day windows ({r.error_weight_own:.0%} this SKU's, the rest its demand class's) and the "
              f"lead-time std" if r.demand_spread == "backtest_errors" else
              f"σ {r.demand_std_lr:.0f} over {window:.0f} d from the forecast intervals (days "
              + ("independent)" if p.demand_correlation == 0 else f"correlated {p.demand_correlation:g})"))
    if r.lead_time_std_effective < r.lead_time_std - 0.005:
        spread += (f" (lead_time_crossing: std {r.lead_time_std:.1f} d counted as {r.lead_time_std_effective:.1f} d, an order "
                   f"every {r.order_cycle_days:.0f} d in flight, a late one partly made up by the next)")
    parts.append(f"{measure} {r.service_level:.1%}{how}: {spread}; safety stock {r.safety_stock:.0f}, reorder point "
                 f"{r.reorder_point:.0f}, order-up-to {r.order_up_to:.0f} vs position {r.inventory_position}")
    if r.inbound > 0:
        parts.append(f"{r.inbound} in transit" + (f" ({r.inbound_overdue} overdue: chase)" if r.inbound_overdue else ""))
    parts.append(_order_text(r, p))
    if r.peak_event and "peak_prebuild" not in r.rule:
        parts.append(f"{r.peak_event} {r.peak_date.date()} ahead: order_by moved earlier")
    if "defect_returns_spike" in r.rule:
        parts.append(f"defect_returns_spike: {r.defect_units:.0f} defect/quality returns = {r.defect_rate:.0%} of units "
                     f"sold in {p.returns_window_days} d (> {p.defect_rate_flag:.0%}): confirm the supplier fix before "
                     f"this stock ships")
    parts.append(f"P(stockout before {r.main_mode} arrival) {r.stockout_probability:.2f}")
    parts.append(_rule_of_thumb_text(r, p))
    return "; ".join(parts)

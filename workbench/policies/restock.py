"""Restock recommendations: service-level safety stock, Monte Carlo stockout risk, orderable quantities.

One row per SKU (all locations summed). The model and the seller's rule of thumb
(domain-rules.md §1) are computed side by side; ``reason`` says which rule fired and why.

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

from workbench.io import write_frame
from workbench.leadtime import in_transit_arrivals, lead_time_distributions, lookup_lead_times, transit_slots
from workbench.policies.base import check_in_range

RESTOCK_COLUMNS = [
    "sku", "on_hand", "inbound", "ads", "days_of_cover", "lead_time_days", "lead_time_std", "safety_stock",
    "reorder_point", "recommended_qty", "ship_mode", "order_by", "stockout_probability", "status", "reason",
]
RESTOCK_NUMERIC = [
    "on_hand", "inbound", "ads", "days_of_cover", "lead_time_days", "lead_time_std", "safety_stock",
    "reorder_point", "recommended_qty", "stockout_probability",
]
STATUSES = ("alert_under_7d", "consider_air", "order_now", "new_product", "order_by_sea_soon", "ok", "overstock")
MAX_COVER_DAYS = 999.0  # days_of_cover when nothing is expected to sell
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


def daily_sigma_from_intervals(forecast: pd.DataFrame) -> np.ndarray:
    """Daily demand std from the forecast's prediction intervals (normal approximation).

        σ = mean over levels L of (hi_L − lo_L) / (2 · z_{(1 + L/100)/2})

    e.g. an 80% interval [6, 14] → 8 / (2·1.2816) = 3.12; a 95% interval [2, 18] → 16/3.92 = 4.08.
    Where the lower bound is clipped at 0 the upper half-width is used: σ = (hi_L − yhat) / z.
    Falls back to sqrt(max(yhat, 0)) (Poisson) when the frame has no interval columns.
    """
    sig = []
    for col in forecast.columns:
        m = re.fullmatch(r"yhat_lo_(\d+(?:\.\d+)?)", col)
        if m and f"yhat_hi_{m.group(1)}" in forecast.columns:
            level = float(m.group(1)) / 100.0
            z = stats.norm.ppf(0.5 + level / 2)
            hi = forecast[f"yhat_hi_{m.group(1)}"].to_numpy(float)
            lo = forecast[col].to_numpy(float)
            yhat = forecast["yhat"].to_numpy(float)
            # A lower bound clipped at 0 would shrink the width: use the upper half-width there.
            sig.append(np.where(lo <= 0, np.maximum(hi - yhat, 0.0) / z, np.maximum(hi - lo, 0.0) / (2 * z)))
    if not sig:
        return np.sqrt(np.maximum(forecast["yhat"].to_numpy(float), 0.0))
    return np.nanmean(np.vstack(sig), axis=0)


def first_order_after_test_qty(test_ads, transit_days, multiplier: float = 3.0):
    """First order after a successful test (domain-rules.md §1), units:

        initial stock = test ADS × 3 + test ADS × transit days

    Example from the playbook: ADS 5, sea transit 20 d → 5·3 + 5·20 = 115.
    """
    a = np.asarray(test_ads, dtype=float)
    return a * multiplier + a * np.asarray(transit_days, dtype=float)


def lognormal_params(mean, std):
    """(μ, σ) of a lognormal with the given mean and std: σ² = ln(1 + s²/m²), μ = ln m − σ²/2."""
    m = np.maximum(np.asarray(mean, dtype=float), 1e-6)
    s = np.maximum(np.asarray(std, dtype=float), 1e-6)
    sig2 = np.log1p((s / m) ** 2)
    return np.log(m) - sig2 / 2, np.sqrt(sig2)


def simulate_stockout_probability(
    demand_mean: np.ndarray,
    demand_std: np.ndarray,
    available: np.ndarray,
    lead_time_mean: np.ndarray,
    lead_time_std: np.ndarray,
    arrival_day: np.ndarray | None = None,
    arrival_std: np.ndarray | None = None,
    arrival_qty: np.ndarray | None = None,
    *,
    n_paths: int = 1000,
    seed: int = 0,
    chunk_size: int = 128,
    demand_correlation: float = 0.0,
) -> np.ndarray:
    """P(stock runs out before an order placed today arrives), per SKU and per lead time, by Monte Carlo.

    Shapes: ``demand_mean``/``demand_std`` (n, H) for days 1..H after as-of; ``available`` (n,);
    ``lead_time_mean``/``lead_time_std`` (n, M), one column per candidate ship mode; in-transit
    shipments ``arrival_day``/``arrival_std``/``arrival_qty`` (n, K), qty 0 for padding. Returns (n, M).

    Per path: daily demand D_t ~ max(N(μ_t, σ_t), 0), days equicorrelated with ``demand_correlation``
    ρ (D_t = μ_t + σ_t(√(1−ρ)·ε_t + √ρ·η), η shared by the path; ρ = 0: independent days); in-transit shipment k arrives
    on day round(N(a_k, s_k)) ≥ 1; lead time L ~ lognormal(mean, std). A stockout is a day t < L with
    ``available + Σ_k q_k·1[arrived by t] − Σ_{u≤t} D_u < 0`` (some demand unmet). The probability is
    the share of paths with one. Vectorized over SKUs × paths × days in chunks of SKUs; float32;
    deterministic for a seed. Days past H are not simulated (a lead time beyond H counts as H).
    """
    mu = np.asarray(demand_mean, dtype=np.float32)
    sd = np.asarray(demand_std, dtype=np.float32)
    n, H = mu.shape
    avail = np.asarray(available, dtype=np.float32).reshape(n)
    ltm = np.asarray(lead_time_mean, dtype=float).reshape(n, -1)
    lts = np.asarray(lead_time_std, dtype=float).reshape(n, -1)
    M = ltm.shape[1]
    if arrival_qty is None or np.size(arrival_qty) == 0:
        arrival_day = np.zeros((n, 0)); arrival_std = np.zeros((n, 0)); arrival_qty = np.zeros((n, 0))
    a_day = np.asarray(arrival_day, dtype=float).reshape(n, -1)
    a_sd = np.asarray(arrival_std, dtype=float).reshape(n, -1)
    a_q = np.asarray(arrival_qty, dtype=np.float32).reshape(n, -1)
    K = a_q.shape[1]
    rng = np.random.default_rng(seed)
    mu_l, sig_l = lognormal_params(ltm, lts)
    out = np.zeros((n, M))
    for start in range(0, n, chunk_size):
        sl = slice(start, min(start + chunk_size, n))
        c = sl.stop - sl.start
        # Lead-time samples decide how many days need simulating in this chunk.
        L = np.exp(mu_l[sl][:, None, :] + sig_l[sl][:, None, :] * rng.standard_normal((c, n_paths, M)))
        h = int(min(H, max(1, np.ceil(L.max()))))
        z = rng.standard_normal((c, n_paths, h), dtype=np.float32)
        if demand_correlation > 0:  # a shared level error per path (equicorrelated days)
            common = rng.standard_normal((c, n_paths, 1), dtype=np.float32)
            z *= np.float32(np.sqrt(1 - demand_correlation))
            z += np.float32(np.sqrt(demand_correlation)) * common
        z *= sd[sl, None, :h]
        z += mu[sl, None, :h]
        np.maximum(z, 0.0, out=z)
        np.cumsum(z, axis=2, out=z)  # z is now cumulative demand
        z -= avail[sl, None, None]
        for k in range(K):
            q = a_q[sl, k]
            if not np.any(q > 0):
                continue
            day = np.rint(a_day[sl, k][:, None] + a_sd[sl, k][:, None] * rng.standard_normal((c, n_paths)))
            day = np.clip(day, 1, h + 1).astype(np.int32)  # day h+1 = after the simulated window
            arrived = np.arange(1, h + 1, dtype=np.int32)[None, None, :] >= day[:, :, None]
            z -= arrived * q[:, None, None]
        short = z > 1e-4
        any_short = short.any(axis=2)
        first = np.where(any_short, short.argmax(axis=2) + 1, np.inf)  # first day with unmet demand
        out[sl] = (first[:, :, None] < L).mean(axis=1)
    return out


# ----------------------------------------------------------------------------------------------
# Inputs → per-SKU arrays
# ----------------------------------------------------------------------------------------------

def blended_ads(sales: pd.DataFrame, skus, as_of, weights=(0.2, 0.3, 0.3, 0.2), growth_clip=(0.5, 2.0)) -> pd.DataFrame:
    """The seller's ADS blend (domain-rules.md §1): last 7, 14, 30 days and last year's next 30 days.

        ADS = w7·a7 + w14·a14 + w30·a30 + wLY·aLY·g,   g = clip(a30 / a30 a year ago, 0.5, 2)

    aLY is the mean of the 30 days starting one year (364 d, same weekday) after as-of − 1 year, i.e.
    what sold a year ago in the coming month; g is year-over-year growth. When a SKU has no sales a
    year ago the LY term is dropped and the weights renormalized. Days without a sales row count as 0.
    Channels are summed. Returns sku, ads_7, ads_14, ads_30, ads_ly, yoy_growth, ads_blend.
    """
    as_of = pd.Timestamp(as_of)
    skus = pd.Index(skus)
    start = as_of - pd.Timedelta(days=364 + 60)
    s = sales[(sales["date"] > start) & (sales["date"] <= as_of)]
    s = s[s["sku"].isin(skus)]
    n_days = 364 + 60 + 1
    mat = np.zeros((len(skus), n_days))
    if len(s):
        idx = skus.get_indexer(s["sku"])
        day = (s["date"] - start).dt.days.to_numpy()
        ok = (day >= 0) & (day < n_days) & (idx >= 0)
        np.add.at(mat, (idx[ok], day[ok]), s["units"].to_numpy(float)[ok])
    t = (as_of - start).days  # column of as_of
    a7 = mat[:, t - 6:t + 1].mean(1)
    a14 = mat[:, t - 13:t + 1].mean(1)
    a30 = mat[:, t - 29:t + 1].mean(1)
    ly_t = t - 364
    ly_next = mat[:, ly_t + 1:ly_t + 31].mean(1)
    ly_prev = mat[:, ly_t - 29:ly_t + 1].mean(1)
    first_sale = s.groupby("sku")["date"].min().reindex(skus)
    has_ly = (first_sale <= as_of - pd.Timedelta(days=364 + 29)).to_numpy() & (ly_prev > 0)
    growth = np.clip(np.divide(a30, ly_prev, out=np.ones_like(a30), where=ly_prev > 0), *growth_clip)
    w7, w14, w30, wly = weights
    wly_eff = np.where(has_ly, wly, 0.0)
    blend = (w7 * a7 + w14 * a14 + w30 * a30 + wly_eff * ly_next * growth) / (w7 + w14 + w30 + wly_eff)
    return pd.DataFrame({"sku": skus, "ads_7": a7, "ads_14": a14, "ads_30": a30,
                         "ads_ly": np.where(has_ly, ly_next, np.nan), "yoy_growth": np.where(has_ly, growth, np.nan),
                         "ads_blend": blend})


def forecast_matrix(forecast: pd.DataFrame, skus, as_of, horizon_days: int, model: str | None = None):
    """Daily mean and std of demand, (n_skus, horizon_days), for days as_of+1 … as_of+horizon.

    Model choice: ``model`` if given; else rows with a true ``selected`` / ``is_selected`` column if
    present; else the first model listed for each SKU. Days beyond the forecast's horizon repeat the
    mean of its last 28 days (sigma too). Returns (mean, std, has_forecast (n,), model_used (n,)).
    """
    as_of = pd.Timestamp(as_of)
    skus = pd.Index(skus)
    n = len(skus)
    f = forecast
    if model is not None and "model" in f.columns:
        f = f[f["model"] == model]
    elif "model" in f.columns:
        sel = next((c for c in ("selected", "is_selected") if c in f.columns), None)
        if sel is not None:
            f = f[f[sel].astype(bool)]
        elif f["model"].nunique() > 1:
            first = f.drop_duplicates("unique_id")[["unique_id", "model"]]
            f = f.merge(first, on=["unique_id", "model"], how="inner")
    f = f[f["ds"] > as_of]
    mean = np.full((n, horizon_days), np.nan)
    std = np.full((n, horizon_days), np.nan)
    idx = skus.get_indexer(f["unique_id"].astype(str))
    day = (f["ds"] - as_of).dt.days.to_numpy() - 1
    ok = (idx >= 0) & (day >= 0) & (day < horizon_days)
    yhat = np.maximum(f["yhat"].to_numpy(float), 0.0)
    sig = daily_sigma_from_intervals(f)
    mean[idx[ok], day[ok]] = yhat[ok]
    std[idx[ok], day[ok]] = sig[ok]
    has = ~np.isnan(mean).all(axis=1)
    # Fill gaps past the forecast's last day with the mean of its last 28 days.
    last = np.where(~np.isnan(mean), np.arange(horizon_days)[None, :], -1).max(axis=1)
    for i in np.flatnonzero(has & (last < horizon_days - 1)):
        lo = max(0, last[i] - 27)
        mean[i, last[i] + 1:] = np.nanmean(mean[i, lo:last[i] + 1])
        std[i, last[i] + 1:] = np.nanmean(std[i, lo:last[i] + 1])
    model_used = np.full(n, "", dtype=object)
    if "model" in f.columns and len(f):
        mu = f.drop_duplicates("unique_id").set_index("unique_id")["model"]
        model_used = mu.reindex(skus).fillna("").to_numpy(dtype=object)
    # Interior gaps (missing days) are filled with the row mean.
    if np.isnan(mean[has]).any():
        rows = np.flatnonzero(has)
        rm = np.nanmean(mean[rows], axis=1, keepdims=True)
        rs = np.nanmean(std[rows], axis=1, keepdims=True)
        mean[rows] = np.where(np.isnan(mean[rows]), rm, mean[rows])
        std[rows] = np.where(np.isnan(std[rows]), rs, std[rows])
    return mean, np.nan_to_num(std), has, model_used


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


def _plain_keys(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """Categorical key columns (the generator writes some) become plain strings: groupbys stay observed."""
    if df is None:
        return None
    cat = [c for c in ("sku", "unique_id", "mode", "supplier", "location") if c in df.columns
           and isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.assign(**{c: df[c].astype(str) for c in cat}) if cat else df


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


class RestockPolicy:
    """Restock policy: weekly periodic review, order-up-to with service-level safety stock (model) beside
    the seller's rule of thumb (domain-rules.md §1). All thresholds are parameters with playbook defaults.

    Model, per SKU with main ship mode m (its usual mode, else ``default_mode``):

    - lead time L, σ_L: supplier × mode distribution (shrunk to the mode), shifted for the order month;
    - lead-time demand D(L) = Σ forecast over the next L days; d = D(L)/L; σ_d² = mean σ_t² over L;
    - safety stock SS = z·sqrt(L·σ_d² + d²·σ_L²) (Silver, Pyke & Thomas §6.7), z = Φ⁻¹(service level)
      (``service_measure="cycle"``) or from the fill-rate equation G(z) = (1 − P2)·Q/σ
      (``"fill_rate"``); key items use ``key_item_service_level``;
    - reorder point ROP = D(L) + SS: the latest safe position, used for ``order_by``;
    - order-up-to S = D(L+R) + z·sqrt((L+R)·σ_d² + d²·σ_L²), R = ``review_period_days`` (the weekly
      sheet): a periodic-review (R, S) system protects L + R, because the next chance to order is R
      days away (Silver, Pyke & Thomas, periodic review). With ``order_policy="order_up_to"`` (default)
      any position IP = on_hand − reserved + in transit below S is ordered up to S; with
      ``"reorder_point"`` only positions below ROP are. Quantities round up to MOQ and whole cases;
    - air bridge when the projected run-out comes before a main-mode order could arrive: the units
      needed between the air arrival and the main-mode arrival go by ``urgent_mode``, extra freight
      stated;
    - peak pre-build: for the next peak season (events) a main-mode order can still reach, ``order_by``
      moves to peak − p90 lead time − ``peak_advance_days``; in that review period one order raises the
      position to S·(1 + ``peak_stock_uplift``);
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
        service_measure: str = "cycle",
        demand_correlation: float = 0.0,
        order_policy: str = "order_up_to",
        review_period_days: float = 7.0,
        default_mode: str = "sea",
        urgent_mode: str = "air",
        order_sea_cover_days: float = 75.0,
        consider_air_cover_days: float = 20.0,
        alert_cover_days: float = 7.0,
        overstock_cover_days: float = 180.0,
        rot_safety_days: float = 14.0,
        ads_weights: tuple = (0.2, 0.3, 0.3, 0.2),
        peak_window_days: float = 150.0,
        peak_advance_days: float = 60.0,
        peak_stock_uplift: float = 0.5,
        peak_min_event_uplift: float = 0.3,
        turnover_fast_per_month: float = 2.0,
        turnover_slow_per_month: float = 1.0,
        turnover_fast_raise: float = 0.3,
        turnover_slow_cut: float = 0.5,
        new_product_days: float = 60.0,
        test_batch_multiplier: float = 3.0,
        freight_cost_share: dict | None = None,
        lt_prior_shipments: float = 5.0,
        n_paths: int = 1000,
        seed: int = 0,
        model: str | None = None,
    ):
        self.service_level = service_level
        self.key_item_service_level = key_item_service_level
        self.service_measure = service_measure
        self.demand_correlation = demand_correlation
        self.order_policy = order_policy
        self.review_period_days = review_period_days
        self.default_mode = default_mode
        self.urgent_mode = urgent_mode
        self.order_sea_cover_days = order_sea_cover_days
        self.consider_air_cover_days = consider_air_cover_days
        self.alert_cover_days = alert_cover_days
        self.overstock_cover_days = overstock_cover_days
        self.rot_safety_days = rot_safety_days
        self.ads_weights = ads_weights
        self.peak_window_days = peak_window_days
        self.peak_advance_days = peak_advance_days
        self.peak_stock_uplift = peak_stock_uplift
        self.peak_min_event_uplift = peak_min_event_uplift
        self.turnover_fast_per_month = turnover_fast_per_month
        self.turnover_slow_per_month = turnover_slow_per_month
        self.turnover_fast_raise = turnover_fast_raise
        self.turnover_slow_cut = turnover_slow_cut
        self.new_product_days = new_product_days
        self.test_batch_multiplier = test_batch_multiplier
        self.freight_cost_share = freight_cost_share
        self.lt_prior_shipments = lt_prior_shipments
        self.n_paths = n_paths
        self.seed = seed
        self.model = model

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in self.__init__.__code__.co_varnames[1:self.__init__.__code__.co_argcount]}

    def _validate(self) -> None:
        from workbench.leadtime import MODES
        check_in_range("service_level", self.service_level, 0, 1)
        check_in_range("key_item_service_level", self.key_item_service_level, 0, 1)
        for name in ("review_period_days", "order_sea_cover_days", "consider_air_cover_days", "alert_cover_days",
                     "overstock_cover_days", "rot_safety_days", "peak_window_days", "peak_advance_days",
                     "new_product_days", "test_batch_multiplier", "turnover_fast_per_month",
                     "turnover_slow_per_month", "peak_stock_uplift", "turnover_fast_raise", "lt_prior_shipments"):
            check_in_range(name, getattr(self, name), 0, np.inf, closed="left")
        check_in_range("turnover_slow_cut", self.turnover_slow_cut, 0, 1, closed="left")
        check_in_range("demand_correlation", self.demand_correlation, 0, 1, closed="both")
        check_in_range("peak_min_event_uplift", self.peak_min_event_uplift, -1, np.inf, closed="left")
        if self.order_policy not in ("order_up_to", "reorder_point"):
            raise ValueError(f"`order_policy` must be 'order_up_to' or 'reorder_point', got {self.order_policy!r}")
        if self.service_measure not in ("cycle", "fill_rate"):
            raise ValueError(f"`service_measure` must be 'cycle' or 'fill_rate', got {self.service_measure!r}")
        for name in ("default_mode", "urgent_mode"):
            if getattr(self, name) not in MODES:
                raise ValueError(f"`{name}` must be one of {MODES}, got {getattr(self, name)!r}")
        if not (isinstance(self.n_paths, (int, np.integer)) and self.n_paths >= 1):
            raise ValueError(f"`n_paths` must be a whole number >= 1, got {self.n_paths!r}")
        w = np.asarray(self.ads_weights, dtype=float)
        if w.shape != (4,) or (w < 0).any() or w[:3].sum() <= 0:
            raise ValueError(f"`ads_weights` must be 4 non-negative weights (7 d, 14 d, 30 d, last year) "
                             f"with some weight on the recent windows, got {self.ads_weights!r}")
        if self.alert_cover_days > self.consider_air_cover_days or self.consider_air_cover_days > self.order_sea_cover_days:
            raise ValueError("cover thresholds must satisfy alert_cover_days <= consider_air_cover_days <= "
                             f"order_sea_cover_days, got {self.alert_cover_days}, {self.consider_air_cover_days}, "
                             f"{self.order_sea_cover_days}")

    # ------------------------------------------------------------------------------------------
    def recommend(
        self,
        products: pd.DataFrame,
        inventory: pd.DataFrame,
        shipments: pd.DataFrame,
        forecast: pd.DataFrame,
        as_of,
        sales: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        lead_times: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """One restock row per SKU in ``products`` (columns :data:`RESTOCK_COLUMNS` and more)."""
        self._validate()
        as_of = pd.Timestamp(as_of).normalize()
        inventory, shipments, sales, forecast = (_plain_keys(f) for f in (inventory, shipments, sales, forecast))
        prod = products.drop_duplicates("sku").reset_index(drop=True)
        skus = pd.Index(prod["sku"].astype(str))
        n = len(skus)

        # --- stock: latest snapshot per SKU × location at or before as_of ---------------------
        inv = inventory[inventory["as_of"] <= as_of]
        latest = inv.sort_values("as_of").drop_duplicates(["sku", "location"], keep="last")
        per_sku = latest.groupby("sku")[["on_hand", "reserved"]].sum()
        on_hand = per_sku["on_hand"].reindex(skus).fillna(0).to_numpy(float)
        reserved = per_sku["reserved"].reindex(skus).fillna(0).to_numpy(float)
        n_locations = latest.groupby("sku")["location"].nunique().reindex(skus).fillna(0).astype(int).to_numpy()
        available = np.maximum(on_hand - reserved, 0.0)
        recent = inv[inv["as_of"] > as_of - pd.Timedelta(days=30)]
        avg_on_hand = (recent.groupby(["sku", "as_of"])["on_hand"].sum().groupby("sku").mean()
                       .reindex(skus).to_numpy(float))
        avg_on_hand = np.where(np.isnan(avg_on_hand), on_hand, avg_on_hand)

        # --- lead times & in transit ----------------------------------------------------------
        ships = shipments[shipments["order_date"] <= as_of]
        lt_table = lead_times if lead_times is not None else lead_time_distributions(
            ships, as_of, prior_shipments=self.lt_prior_shipments)
        transit = in_transit_arrivals(ships, as_of, lt_table)
        transit = transit[transit["sku"].isin(skus)]
        inbound = transit.groupby("sku")["qty"].sum().reindex(skus).fillna(0).to_numpy(float)
        n_overdue = transit.groupby("sku")["overdue"].sum().reindex(skus).fillna(0).astype(int).to_numpy()

        usual = (ships.groupby(["sku", "mode"]).size().rename("n").reset_index()
                 .sort_values(["sku", "n"], ascending=[True, False]).drop_duplicates("sku")
                 .set_index("sku")["mode"])
        main_mode = usual.reindex(skus).fillna(self.default_mode).to_numpy(dtype=object)
        urgent = np.full(n, self.urgent_mode, dtype=object)
        supplier = prod["supplier"].astype(str).to_numpy(dtype=object)
        lt_main = lookup_lead_times(lt_table, supplier, main_mode, as_of)
        lt_urg = lookup_lead_times(lt_table, supplier, urgent, as_of)
        L = np.maximum(lt_main["lead_time_days"].to_numpy(), 1.0)
        sL = lt_main["lead_time_std"].to_numpy()
        L90 = np.maximum(lt_main["p90_days"].to_numpy(), L)
        La = np.maximum(lt_urg["lead_time_days"].to_numpy(), 1.0)
        sLa = lt_urg["lead_time_std"].to_numpy()
        R = float(self.review_period_days)

        # --- demand ---------------------------------------------------------------------------
        H = int(np.ceil(max(np.max(L + 4 * sL, initial=1), np.max(L + R, initial=1), 90))) + 1
        if len(forecast):
            fc_horizon = int((forecast["ds"].max() - as_of).days)
            H = max(H, min(fc_horizon, 400))
        mean, std, has_fc, model_used = forecast_matrix(forecast, skus, as_of, H, self.model)
        if sales is not None:
            blend = blended_ads(sales, skus, as_of, self.ads_weights)
            ads_blend = blend["ads_blend"].to_numpy()
        else:
            blend = None
            ads_blend = np.where(has_fc, np.nanmean(np.where(has_fc[:, None], mean[:, :30], 0.0), axis=1), 0.0)
        # SKUs without a forecast: flat ADS blend, Poisson noise.
        mean[~has_fc] = ads_blend[~has_fc, None]
        std[~has_fc] = np.sqrt(ads_blend[~has_fc, None])
        cum = np.concatenate([np.zeros((n, 1)), np.cumsum(mean, axis=1)], axis=1)

        DL = _interp_cum(cum, L)
        d = DL / L
        var_d = _window_mean_sq(std, L)
        DLR = _interp_cum(cum, L + R)
        var_dR = _window_mean_sq(std, L + R)
        key = prod["is_key_item"].astype(bool).to_numpy()
        sl = np.where(key, self.key_item_service_level, self.service_level)
        case = prod["case_pack"].to_numpy(float)
        moq = prod["moq"].to_numpy(float)
        rho = float(self.demand_correlation)
        if self.service_measure == "cycle":
            z = service_z(sl)
            zR = z
        else:  # fill rate: the order size decides how often a cycle is exposed to a stockout
            q_cycle = np.maximum.reduce([round_order_qty(np.maximum(d * R, 1e-9), moq, case).astype(float), d * R, case])
            z = fill_rate_z(sl, q_cycle, safety_stock(1.0, L, d, np.sqrt(var_d), sL, rho))
            zR = fill_rate_z(sl, q_cycle, safety_stock(1.0, L + R, d, np.sqrt(var_dR), sL, rho))
        ss = safety_stock(z, L, d, np.sqrt(var_d), sL, rho)
        rop = DL + ss
        order_up_to = DLR + safety_stock(zR, L + R, d, np.sqrt(var_dR), sL, rho)
        ip = available + inbound
        ads_out = np.round(d, 3)  # cover is computed from the ADS as shown, so the identity holds in the output
        cover = np.where(ads_out > 0, (on_hand + inbound) / np.where(ads_out > 0, ads_out, 1), MAX_COVER_DAYS)
        cover = np.minimum(cover, MAX_COVER_DAYS)

        # --- in-transit arrival arrays; deterministic run-out day ----------------------------
        a_day, a_sd, a_q = transit_slots(transit, skus)
        K = a_q.shape[1]
        arrivals_by_day = np.zeros((n, H + 1))
        arr_idx = np.clip(np.rint(a_day), 1, H).astype(int)
        np.add.at(arrivals_by_day, (np.repeat(np.arange(n), K), arr_idx.ravel()), a_q.ravel())
        stock_path, runout = projected_stock(mean, available, arrivals_by_day)

        # --- Monte Carlo ----------------------------------------------------------------------
        p = simulate_stockout_probability(mean, std, available, np.column_stack([L, La]), np.column_stack([sL, sLa]),
                                          a_day, a_sd, a_q, n_paths=self.n_paths, seed=self.seed,
                                          demand_correlation=float(self.demand_correlation))
        p_main, p_urg = np.clip(p[:, 0], 0, 1), np.clip(p[:, 1], 0, 1)

        # --- events: next peak per SKU --------------------------------------------------------
        peak_date, peak_name, peak_up = self._peaks(events, prod, skus, as_of, min_days=L)
        has_peak = ~pd.isna(peak_date)
        peak_days = np.where(has_peak, (pd.DatetimeIndex(peak_date) - as_of).days.to_numpy(float), np.inf)
        peak_order_by_days = peak_days - np.ceil(L90) - self.peak_advance_days
        # One pre-build order per peak season, in the review period when it falls due (then the
        # normal policy sees the raised position); a weekly run always hits that window once.
        prebuild = has_peak & (peak_order_by_days <= 0) & (peak_order_by_days > -max(R, 1.0)) & (peak_days > L)

        # --- new products ---------------------------------------------------------------------
        is_new = np.zeros(n, dtype=bool)
        test_ads = np.zeros(n)
        if "launch_date" in prod.columns:
            launch = pd.to_datetime(prod["launch_date"])
            age = (as_of - launch).dt.days.to_numpy(float)
            is_new = (age >= 0) & (age < self.new_product_days)
            if sales is not None and is_new.any():
                since = sales.merge(prod[["sku", "launch_date"]], on="sku")
                since = since[(since["date"] >= since["launch_date"]) & (since["date"] <= as_of)]
                sold = since.groupby("sku")["units"].sum().reindex(skus).fillna(0).to_numpy(float)
                test_ads = np.where(is_new, sold / np.maximum(age + 1, 1), 0.0)
            else:
                test_ads = np.where(is_new, d, 0.0)
            is_new &= test_ads > 0
        test_target = first_order_after_test_qty(test_ads, L, self.test_batch_multiplier)

        # --- turnover (units sold per month / average stock) ----------------------------------
        if sales is not None:
            s30 = sales[(sales["date"] > as_of - pd.Timedelta(days=30)) & (sales["date"] <= as_of)]
            sold30 = s30.groupby("sku")["units"].sum().reindex(skus).fillna(0).to_numpy(float)
        else:
            sold30 = 30 * d
        turnover = np.where(avg_on_hand > 0, sold30 / np.where(avg_on_hand > 0, avg_on_hand, 1), np.nan)

        # --- quantities -----------------------------------------------------------------------
        # Periodic review (R, S): the next chance to order is R days away, so the protection interval is
        # L + R and any position below S is ordered up to S. ROP (L only) is the latest safe point.
        need = (ip < order_up_to) if self.order_policy == "order_up_to" else (ip < rop)
        base_raw = np.where(need, order_up_to - ip, 0.0)
        peak_target = order_up_to * (1 + peak_up)  # playbook: raise stock 50–100% before a peak
        peak_raw = np.where(prebuild, peak_target - ip, 0.0)
        new_raw = np.where(is_new, test_target - ip, 0.0)
        raw = np.maximum.reduce([base_raw, peak_raw, new_raw, np.zeros(n)])
        fast = (turnover > self.turnover_fast_per_month) & (raw > 0) & ~is_new
        slow = (turnover < self.turnover_slow_per_month) & (raw > 0) & ~is_new & ~prebuild
        raw = np.where(fast, raw * (1 + self.turnover_fast_raise), raw)
        floor_rop = np.maximum(rop - ip, 0.0)
        raw = np.where(slow, np.maximum(raw * (1 - self.turnover_slow_cut), floor_rop), raw)

        # Air bridge: sea cannot arrive before the projected run-out.
        air_faster = La < L
        sea_late = air_faster & (runout < L) & ((cover <= self.consider_air_cover_days) | (p_main > 1 - sl))
        air_raw = np.where(sea_late, air_bridge_qty(mean, stock_path, arrivals_by_day, La, L), 0.0)
        air_qty = np.where(air_raw > 0, np.ceil(np.round(air_raw / np.maximum(case, 1), 9)) * np.maximum(case, 1), 0.0)
        total_raw = np.maximum(raw, air_qty)
        qty = round_order_qty(total_raw, moq, case)
        air_qty = np.minimum(air_qty, qty).astype("int64")
        main_qty = qty - air_qty
        ship_mode = np.where(air_qty == 0, main_mode, np.where(main_qty == 0, urgent, urgent + "+" + main_mode))
        unit_cost = prod["unit_cost"].to_numpy(float)
        rate_main, rate_urg = self._freight_rates(ships, main_mode, urgent, unit_cost)
        extra_freight = np.round(air_qty * np.maximum(rate_urg - rate_main, 0.0), 2)

        # --- order_by ---------------------------------------------------------------------------
        # First day the projected inventory position (no new orders) drops below the reorder point.
        proj = ip[:, None] - cum  # (n, H+1), index = day
        below = proj < rop[:, None]
        t_rop = np.where(below.any(axis=1), below.argmax(axis=1), H).astype(float)
        t_order = np.where(qty > 0, 0.0, t_rop)
        t_order = np.where(has_peak & ~prebuild, np.minimum(t_order, np.maximum(peak_order_by_days, 0)), t_order)
        order_by = as_of + pd.to_timedelta(t_order, unit="D")
        horizon_end = as_of + pd.Timedelta(days=H)

        # --- rule of thumb --------------------------------------------------------------------
        rot_ads = ads_blend
        rot_cycle = L
        rot_ss = self.rot_safety_days * rot_ads
        rot_raw = rot_ads * rot_cycle + rot_ss - available - inbound
        rot_qty = round_order_qty(rot_raw, moq, case)

        # --- status -----------------------------------------------------------------------------
        status = np.full(n, "ok", dtype=object)
        status[(cover > self.overstock_cover_days) & (on_hand + inbound > 0)] = "overstock"
        status[(cover <= self.order_sea_cover_days) & (d > 0)] = "order_by_sea_soon"
        status[qty > 0] = np.where(is_new[qty > 0], "new_product", "order_now")
        # The playbook's yellow band is about sea freight: only where the urgent mode is faster and
        # the main mode cannot make it within the cover.
        yellow = (cover <= self.consider_air_cover_days) & (d > 0) & air_faster & (cover < L)
        status[yellow | (air_qty > 0)] = "consider_air"
        status[(cover < self.alert_cover_days) & (d > 0)] = "alert_under_7d"

        rules = []
        for i in range(n):
            r = []
            if need[i]:
                r.append("service_level_rop")
            if prebuild[i]:
                r.append("peak_prebuild")
            if is_new[i]:
                r.append("test_batch")
            if fast[i]:
                r.append("turnover_fast")
            if slow[i]:
                r.append("turnover_slow")
            if air_qty[i] > 0:
                r.append("air_bridge")
            rules.append(",".join(r) or "none")

        out = pd.DataFrame({
            "sku": skus.to_numpy(),
            "supplier": supplier,
            "n_locations": n_locations,
            "on_hand": on_hand.astype("int64"),
            "reserved": reserved.astype("int64"),
            "available": available.astype("int64"),
            "inbound": inbound.astype("int64"),
            "inbound_overdue": n_overdue,
            "ads": ads_out,
            "ads_blend": np.round(ads_blend, 3),
            "forecast_model": np.where(has_fc, model_used, "ads_blend (no forecast)"),
            "days_of_cover": np.round(cover, 2),
            "lead_time_days": np.round(L, 1),
            "lead_time_std": np.round(sL, 2),
            "lead_time_p90": np.round(L90, 1),
            "lead_time_source": lt_main["source"].to_numpy(dtype=object),
            "service_level": sl,
            "safety_factor_z": np.round(z, 3),
            "lead_time_demand": np.round(DL, 1),
            "safety_stock": np.round(ss, 1),
            "reorder_point": np.round(rop, 1),
            "order_up_to": np.round(order_up_to, 1),
            "review_demand": np.round(DLR, 1),
            "inventory_position": ip.astype("int64"),
            "recommended_qty": qty,
            "air_qty": air_qty,
            "ship_mode": ship_mode,
            "extra_freight_usd": extra_freight,
            "order_by": order_by.normalize(),
            "stockout_probability": np.round(p_main, 4),
            "stockout_probability_air": np.round(p_urg, 4),
            "runout_days": np.where(np.isfinite(runout), runout, np.nan),
            "turnover_per_month": np.round(turnover, 2),
            "peak_event": peak_name,
            "peak_date": pd.DatetimeIndex(peak_date),
            "status": status,
            "rule": rules,
            "rot_ads": np.round(rot_ads, 3),
            "rot_safety_stock": np.round(rot_ss, 1),
            "rot_qty": rot_qty,
            "qty_vs_rule": qty - rot_qty,
        })
        out["reason"] = [self._reason(out, i, main_mode[i], urgent[i], moq[i], case[i], La[i], sL[i], H, horizon_end)
                         for i in range(n)]
        return out

    # ------------------------------------------------------------------------------------------
    def _peaks(self, events, prod, skus, as_of, min_days):
        """Next peak season per SKU that a main-mode order could still reach (start − as_of > min_days).

        Peak events (names like Black Friday / Prime Day / Christmas, or expected_uplift ≥
        ``peak_min_event_uplift``) are grouped into seasons: consecutive peak days with gaps of at
        most 14 days. A season is dated by its first day and named after its first event, so a
        month of daily "Christmas run-up" rows is one peak, not thirty.
        """
        n = len(skus)
        peak_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        peak_name = np.full(n, "", dtype=object)
        peak_up = np.zeros(n)
        if events is None or len(events) == 0:
            return peak_date, peak_name, peak_up
        ev = events
        up = (pd.to_numeric(ev["expected_uplift"], errors="coerce") if "expected_uplift" in ev.columns
              else pd.Series(np.nan, index=ev.index))
        is_peak = ev["event"].astype(str).str.contains(PEAK_PATTERN) | (up >= self.peak_min_event_uplift)
        ev = ev[is_peak].sort_values("date", kind="stable")
        if ev.empty:
            return peak_date, peak_name, peak_up
        cats = prod["category"].astype(str).to_numpy() if "category" in prod.columns else np.full(n, "")
        known = set(skus) | set(cats)
        sku_arr = skus.to_numpy()
        scopes = ev["scope"].astype(str)
        for scope, g in ev.groupby(scopes, sort=False):
            dates = g["date"].to_numpy()
            new_season = np.r_[True, np.diff(dates) > np.timedelta64(14, "D")]
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
                # The forecast carries the event's demand effect; the pre-build uplift is the playbook's
                # stock raise (50–100%), a parameter, not the event's expected_uplift (no double count).
                peak_up[hit] = self.peak_stock_uplift
        return peak_date, peak_name, peak_up

    def _freight_rates(self, ships, main_mode, urgent, unit_cost):
        """Freight USD per unit by mode: median of freight_cost / qty in shipments, else a share of unit cost."""
        share = {**DEFAULT_FREIGHT_SHARE, **(self.freight_cost_share or {})}
        per_unit = {}
        if "freight_cost" in ships.columns:
            f = ships[ships["freight_cost"].notna() & (ships["qty"] > 0)]
            per_unit = (f["freight_cost"] / f["qty"]).groupby(f["mode"]).median().to_dict()

        def rate(modes):
            return np.array([per_unit.get(m, share.get(m, 0.1) * c) for m, c in zip(modes, unit_cost)])
        return rate(main_mode), rate(urgent)

    def _reason(self, out, i, mode, urgent, moq, case, La, sL, horizon_days, horizon_end) -> str:
        r = out.iloc[i]
        parts = []
        if r["ads"] <= 0:
            parts.append("no demand forecast (ads 0)")
        else:
            cmp = "<" if r["days_of_cover"] < r["lead_time_days"] else "≥"
            parts.append(f"cover {r['days_of_cover']:.1f} d {cmp} lead time {r['lead_time_days']:.0f} d "
                         f"({mode}, p90 {r['lead_time_p90']:.0f} d, std {sL:.1f} d)")
        measure = "fill rate" if self.service_measure == "fill_rate" else "service"
        parts.append(f"{measure} {r['service_level']:.0%}: safety stock {r['safety_stock']:.0f}, "
                     f"reorder point {r['reorder_point']:.0f}, order-up-to {r['order_up_to']:.0f} "
                     f"vs position {r['inventory_position']}")
        if r["inbound"] > 0:
            parts.append(f"{r['inbound']} in transit" + (f" ({r['inbound_overdue']} overdue: chase)"
                                                        if r["inbound_overdue"] else ""))
        if r["recommended_qty"] > 0:
            txt = f"order {r['recommended_qty']} (MOQ {moq:.0f}, case {case:.0f}) by {r['order_by'].date()}"
            if r["air_qty"] > 0:
                txt += (f"; {r['air_qty']} by {urgent} ({La:.0f} d) to bridge the run-out on day "
                        f"{r['runout_days']:.0f} before {mode} arrives, +${r['extra_freight_usd']:,.0f} freight")
            parts.append(txt)
        else:
            if r["order_by"] >= horizon_end:
                parts.append(f"no order needed within {horizon_days} d (order by {r['order_by'].date()} at the latest)")
            else:
                parts.append(f"no order now; order by {r['order_by'].date()}")
        if "peak_prebuild" in r["rule"]:
            parts.append(f"peak pre-build for {r['peak_event']} {r['peak_date'].date()}")
        elif r["peak_event"]:
            parts.append(f"{r['peak_event']} {r['peak_date'].date()} ahead: order_by moved earlier")
        if "test_batch" in r["rule"]:
            parts.append("new product: test ADS×3 + ADS×transit")
        if "turnover_fast" in r["rule"]:
            parts.append(f"turnover {r['turnover_per_month']:.1f}×/month > {self.turnover_fast_per_month:g}: "
                         f"+{self.turnover_fast_raise:.0%}")
        if "turnover_slow" in r["rule"]:
            parts.append(f"turnover {r['turnover_per_month']:.1f}×/month < {self.turnover_slow_per_month:g}: "
                         f"−{self.turnover_slow_cut:.0%} (not below reorder point)")
        parts.append(f"P(stockout before {mode} arrival) {r['stockout_probability']:.2f}")
        diff = r["qty_vs_rule"]
        rot_demand = r["rot_ads"] * r["lead_time_days"]
        rot_target = rot_demand + r["rot_safety_stock"]
        txt = (f"rule of thumb {r['rot_qty']} (ADS {r['rot_ads']:.1f} × {r['lead_time_days']:.0f} d + "
               f"{self.rot_safety_days:g} d safety {r['rot_safety_stock']:.0f} − {r['available']} available − "
               f"{r['inbound']} in transit)")
        if diff == 0:
            txt += ", same as model"
        elif r["recommended_qty"] == 0:
            txt += (f"; model orders nothing: position {r['inventory_position']} ≥ reorder point "
                    f"{r['reorder_point']:.0f} (lead-time demand {r['lead_time_demand']:.0f} vs {rot_demand:.0f}, "
                    f"safety stock {r['safety_stock']:.0f} vs {r['rot_safety_stock']:.0f})")
        else:
            txt += (f"; model {diff:+d}: target {r['order_up_to']:.0f} (demand over {r['lead_time_days']:.0f}+"
                    f"{self.review_period_days:g} d {r['review_demand']:.0f} + safety {r['order_up_to'] - r['review_demand']:.0f}"
                    f") vs {rot_target:.0f} (demand {rot_demand:.0f} + safety {r['rot_safety_stock']:.0f})")
            extra = [x for x in ("peak_prebuild", "test_batch", "turnover_fast", "turnover_slow", "air_bridge")
                     if x in r["rule"]]
            if extra:
                txt += f", plus {', '.join(extra)}"
            if r["rot_qty"] > 0 or r["recommended_qty"] > 0:
                txt += "; both rounded to MOQ and case packs"
        parts.append(txt)
        return "; ".join(parts)


def run_restock(data_dir, as_of, output_path, forecast: pd.DataFrame, policy: RestockPolicy | None = None) -> pd.DataFrame:
    """Load the dataset, run the restock policy on ``forecast`` and write ``output_path`` atomically."""
    from workbench.data.load import load_dataset

    ds = load_dataset(data_dir)
    policy = policy or RestockPolicy()
    out = policy.recommend(ds["products"], ds["inventory"], ds["shipments"], forecast, as_of,
                           sales=ds["sales"], events=ds.get("events"))
    write_frame(out, output_path)
    return out

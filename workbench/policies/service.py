"""Cost-optimal service levels, air versus sea by expected cost, lead-time demand spread from forecast errors.

Pure functions on arrays (one value per SKU), each hand-checked in tests/test_service.py. They replace
fixed targets (a 95% cycle service level for every SKU, air whenever cover is short, independent
daily errors) by the economics of each SKU:

- :func:`critical_ratio` / :func:`cost_optimal_service_level`: the newsvendor fractile per review
  period, bounded below by the playbook's floor for key items;
- :func:`expected_shortfall` / :func:`air_bridge_units` / :func:`air_units_saved` / :func:`air_vs_sea`:
  fly the newsvendor quantity of the gap, and only when the expected sales it saves (net margin) beat
  its freight premium;
- :func:`window_error_rms` / :func:`implied_correlation` / :func:`lead_time_demand_sigma`: the spread
  of demand over the lead time from the forecast's own errors summed over lead-time-long windows.
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def critical_ratio(unit_margin, unit_cost, carrying_rate, review_days):
    """Newsvendor critical ratio per review period, lost sales:

        CR = c_u / (c_u + c_o),   c_u = unit margin lost on a unit short,
                                  c_o = carrying_rate · unit_cost · review_days / 365

    c_o is the cost of holding one more unit for one review period (it can be sold next period,
    so only holding is lost, not the unit). Order up to the CR-quantile of demand over the
    protection interval. Nahmias & Olsen, *Production and Operations Analysis*, 7th ed., §5.3
    (critical ratio p/(p + h)); Silver, Pyke & Thomas, *Inventory and Production Management in
    Supply Chains*, 4th ed., §7.3 (periodic review, (R, S), shortage cost per unit B2).
    Example: margin 10, cost 20, 25%/yr, R = 7 d → c_o = 20·0.25·7/365 = 0.0959, CR = 10/10.0959 = 0.9905.
    A unit with no margin gets CR = 0.
    """
    cu = np.maximum(np.asarray(unit_margin, dtype=float), 0.0)
    co = np.maximum(np.asarray(carrying_rate, dtype=float) * np.asarray(unit_cost, dtype=float)
                    * np.asarray(review_days, dtype=float) / 365.0, 1e-12)
    return cu / (cu + co)


def cost_optimal_service_level(unit_margin, unit_cost, carrying_rate, review_days, is_key_item=False,
                               key_floor: float = 0.98, floor: float = 0.5, cap: float = 0.995):
    """Per-SKU cycle service level: the critical ratio, clipped to [floor, cap], and ≥ ``key_floor`` for key items.

        SL = max(clip(CR, floor, cap), key_floor · 1[key item])

    ``floor`` 0.5 (z = 0: no negative safety stock), ``cap`` 0.995 (z = 2.58: past it the normal
    tail is not trusted), ``key_floor`` the workbench's key-item level (the playbook keeps key items
    better stocked, domain-rules.md §1 stock standards). Example: margin 10, cost 20, 25%/yr, 7 d →
    CR 0.9905 → 0.9905; margin 0.05 on cost 20 → CR 0.343 → 0.5 (0.98 if key).
    """
    sl = np.clip(critical_ratio(unit_margin, unit_cost, carrying_rate, review_days), floor, cap)
    key = np.asarray(is_key_item, dtype=bool)
    return np.where(key, np.maximum(sl, key_floor), sl)


def stock_floor_units(ads, is_key_item, key_days: float = 30.0, regular_days: float = 15.0):
    """The playbook's stock standard as a floor on the order-up-to level, units (domain-rules.md §1):
    key items keep ≥ 30 days of sales, regular items ≥ 15. Example: ADS 4, key → 120; regular → 60."""
    days = np.where(np.asarray(is_key_item, dtype=bool), key_days, regular_days)
    return np.maximum(np.asarray(ads, dtype=float), 0.0) * days


def expected_shortfall(stock, demand_mean, demand_std):
    """Expected units short, E[(D − stock)⁺], for demand D ~ N(mean, std):

        E = σ · G((stock − μ)/σ),   G(z) = φ(z) − z·(1 − Φ(z))   (unit normal loss)

    Silver, Pyke & Thomas §6.7 / appendix (unit normal loss function). With σ = 0 it is
    max(μ − stock, 0). Example: stock 100, μ 100, σ 20 → 20·0.3989 = 7.98.
    """
    s = np.asarray(stock, dtype=float)
    mu = np.asarray(demand_mean, dtype=float)
    sd = np.asarray(demand_std, dtype=float)
    safe = np.where(sd > 0, sd, 1.0)
    z = (s - mu) / safe
    g = stats.norm.pdf(z) - z * stats.norm.sf(z)
    return np.where(sd > 0, sd * g, np.maximum(mu - s, 0.0))


def air_vs_sea(lost_units_sea, lost_units_air, unit_margin, qty, unit_cost, air_share, sea_share,
               holding_per_unit=0.0):
    """Ship ``qty`` by air rather than sea when the margin it saves beats the freight premium:

        benefit = (E[lost | sea] − E[lost | air]) · unit margin − qty · (unit cost · (air share − sea share) + h)

    E[lost | mode] the expected units short before that mode's shipment arrives (e.g. from
    :func:`air_units_saved`), shares the freight per unit as a share of unit cost, ``h``
    (``holding_per_unit``) the carrying cost of a unit landing by air earlier than by sea.
    Pass the margin net of the freight a sold unit pays anyway (a sale saved by air is one more unit
    shipped). Returns (benefit, use_air = benefit > 0). Example: lost 40 by sea, 5 by air, margin 8,
    100 units of cost 10, air 30% vs sea 5% → 35·8 − 100·10·0.25 = 280 − 250 = +30 → air.
    """
    saved = (np.asarray(lost_units_sea, dtype=float) - np.asarray(lost_units_air, dtype=float)) * np.asarray(unit_margin, dtype=float)
    premium = np.asarray(qty, dtype=float) * (np.asarray(unit_cost, dtype=float) * (
        np.asarray(air_share, dtype=float) - np.asarray(sea_share, dtype=float)) + np.asarray(holding_per_unit, dtype=float))
    benefit = saved - premium
    return benefit, benefit > 0


def air_bridge_units(need_mean, need_std, net_margin, premium_per_unit, z_max: float = 4.0):
    """How many units to fly: the newsvendor quantity of the gap before the main shipment lands.

    The units short between the air arrival and the main-mode arrival are N ~ Normal(need_mean,
    need_std) (the point need of :func:`~workbench.policies.restock.air_bridge_qty`, with the spread of
    demand over the lead time). The k-th air unit earns the net margin m if N ≥ k (a sale saved) and
    costs its premium p (air − main freight + holding of the earlier arrival) either way (an unneeded
    unit sells later in place of a main-mode unit), so fly while P(N ≥ k) > p / m:

        z* = Φ⁻¹(1 − p/m),   q* = (need_mean + z*·need_std)⁺;   q* = 0 when p ≥ m

    Nahmias & Olsen §5.3 (critical ratio c_u/(c_u + c_o) with c_u = m − p, c_o = p). Example: need
    100 ± 40, m 8, p 2 → fractile 0.75, z 0.674, q 127; m 3 → fractile 0.333, z −0.431, q 83.
    Returns (q*, z*), z* clipped to ±``z_max`` (−inf → no air).
    """
    m = np.asarray(net_margin, dtype=float)
    p = np.asarray(premium_per_unit, dtype=float)
    ok = m > p
    frac = np.where(ok, 1.0 - p / np.where(m > 0, m, 1.0), 0.5)
    z = np.clip(stats.norm.ppf(np.clip(frac, 1e-12, 1 - 1e-12)), -z_max, z_max)
    q = np.maximum(np.asarray(need_mean, dtype=float) + z * np.asarray(need_std, dtype=float), 0.0)
    return np.where(ok, q, 0.0), np.where(ok, z, -np.inf)


def air_units_saved(qty, need_mean, need_std):
    """Expected sales an air order of ``qty`` saves in the gap: E[N⁺] − E[(N − qty)⁺], N ~ Normal(need_mean,
    need_std) (:func:`expected_shortfall` with stock 0 and ``qty``). Less than ``qty`` whenever the need may be
    smaller. Example: N 100 ± 40, qty 127 → 100.1 − 6.0 = 94.1 (not 127, nor the point need 100)."""
    return expected_shortfall(0.0, need_mean, need_std) - expected_shortfall(qty, need_mean, need_std)


def window_error_rms(errors, window: int):
    """Root mean square of forecast errors summed over every ``window``-day window, per series.

    ``errors``: (n_series, T) daily errors (actual − forecast) of the forecast's own backtest, NaN
    where unknown (windows touching a NaN are skipped). Summing before squaring keeps the
    correlation between days (a forecast too low today is too low all month), which L · σ_d²
    ignores; bias accumulates too, as it does over a real lead time. Prak, Teunter & Syntetos
    (2017), "On the calculation of safety stocks when demand is forecasted", *EJOR* 256(2): use
    lead-time forecast errors, not one-step errors × √L. Example: errors 1, 1, −1, −1, 1, 1, −1, −1,
    window 2 → sums 2, 0, −2, 0, 2, 0, −2 → RMS √(16/7) = 1.512 (√2 = 1.414 if days were independent).
    Returns NaN for a series with no complete window.
    """
    e = np.atleast_2d(np.asarray(errors, dtype=float))
    n, T = e.shape
    w = int(window)
    if w < 1:
        raise ValueError(f"`window` must be >= 1, got {window!r}")
    if T < w:
        return np.full(n, np.nan)
    c = np.concatenate([np.zeros((n, 1)), np.cumsum(np.nan_to_num(e), axis=1)], axis=1)
    bad = np.concatenate([np.zeros((n, 1)), np.cumsum(np.isnan(e), axis=1)], axis=1)
    sums = c[:, w:] - c[:, :-w]
    ok = (bad[:, w:] - bad[:, :-w]) == 0
    sq = np.where(ok, sums ** 2, 0.0).sum(1)
    k = ok.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, np.sqrt(sq / np.maximum(k, 1)), np.nan)


def implied_correlation(window_rms, daily_rms, window):
    """The equicorrelation ρ between daily errors that makes L independent-looking days add up to the
    observed window spread:  σ_W² = L·σ_d²·(1 + ρ(L − 1))  →  ρ = (σ_W²/(L·σ_d²) − 1)/(L − 1), clipped to [0, 1].

    This is the ``demand_correlation`` parameter of :class:`~workbench.policies.restock.RestockPolicy`
    calibrated from data (variance of a sum of L equicorrelated terms). Example: σ_W 1.512, σ_d 1,
    L 2 → (2.286/2 − 1)/1 = 0.143. L = 1 gives 0.
    """
    L = np.asarray(window, dtype=float)
    sw = np.asarray(window_rms, dtype=float)
    sd = np.maximum(np.asarray(daily_rms, dtype=float), 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (sw ** 2 / (L * sd ** 2) - 1) / np.maximum(L - 1, 1e-12)
    return np.where(L > 1, np.clip(np.nan_to_num(rho, nan=0.0), 0.0, 1.0), 0.0)


def crossing_lead_time_std(lead_time_std, order_cycle_days):
    """Lead-time std that matters when orders go out every ``T`` days with independent lead times (order crossing):

        σ_L,eff = σ_L · sqrt(min(1, T / (√π · σ_L)))

    The order-up-to position counts every order in transit; what is short at a given day is the orders not yet
    arrived. With one order in flight all of it is late together (variance d²·σ_L², the textbook term); with an
    order every T days, each of size d·T, the count of units not yet arrived is a sum over orders of independent
    Bernoullis P(L > age): variance (d·T)²·Σ_k p_k(1 − p_k) ≈ d²·T·∫F(1 − F) = d²·T·σ_L/√π for normal lead times,
    so a late order is partly made up by the next one landing early. Robinson, Bradley & Thomas (2001),
    "Consequences of order crossover under order-up-to inventory policies", *M&SOM* 3(3); Hayya, Bagchi, Kim & Sun
    (2008), *IJPE* 114. Example: σ_L 8 d, weekly orders → 8·sqrt(7/14.18) = 5.62 d; an order every 60 d → 8 d.
    """
    sl = np.asarray(lead_time_std, dtype=float)
    T = np.asarray(order_cycle_days, dtype=float)
    frac = np.where(sl > 0, np.minimum(1.0, T / (np.sqrt(np.pi) * np.where(sl > 0, sl, 1.0))), 1.0)
    return sl * np.sqrt(frac)


def lead_time_demand_sigma(window_rms, demand_mean, lead_time_std):
    """Std of demand over a random lead time, with the demand part from windowed forecast errors:

        σ_LTD = sqrt(σ_W(L)² + d² · σ_L²)

    σ_W(L) from :func:`window_error_rms` at window = mean lead time L (days), d mean daily demand,
    σ_L lead-time std (days); the random-lead-time term as in Silver, Pyke & Thomas §6.7 (Hadley &
    Whitin). Example: σ_W 60, d 20, σ_L 4 → sqrt(3600 + 6400) = 100.
    """
    sw = np.asarray(window_rms, dtype=float)
    d = np.asarray(demand_mean, dtype=float)
    sl = np.asarray(lead_time_std, dtype=float)
    return np.sqrt(sw ** 2 + d ** 2 * sl ** 2)

"""Prices and ad budgets decided every replayed week, and how demand answers them.

The replay (:mod:`workbench.backtest.replay`) plays a week of demand against the stock. When the
policy also returns prices and budgets (a :class:`WeekDecision`) and the setup carries a
:class:`LeverMarket`, that week's demand answers them with the closed-loop market's rules
(:mod:`workbench.backtest.market`, the generator's world):

- **price**: demand × (p / p_ref)^β, β the SKU's elasticity, p_ref the price the baseline demand
  was forecast at (:func:`price_factor`);
- **ads**: each campaign's spend → ad sales curve a · (1 − e^(−s/b)) USD a day (:func:`ad_sales_usd`);
  the change against the spend the baseline demand was forecast at, in units at p_ref, is
  added as a share of the SKU's baseline daily units, the factor bounded to
  :data:`AD_FACTOR_BOUNDS` (the what-if's fixed ad lever does the same);
- **stockouts cost rank**: while in stock demand is thinned by e^(−γ·shift)
  (:func:`rank_penalty`); ``shift`` grows 0.2 a day out of stock (at most 2) and decays by
  e^(−1/τ) a day in stock (:func:`rank_step`): the generator's recursion;
- **spend**: a campaign spends its daily budget × its utilisation; a Sponsored Products campaign
  spends :data:`SP_OOS_SPEND` of it on a day out of stock (it pauses itself), Sponsored Brands /
  Display spend in full on clicks that cannot convert. Ad sales are the curve's units at the charged
  price, thinned by rank, never more than the units sold.

The closed-loop benchmark runs these rules with the generator's TRUE elasticities and curves; the
what-if runs them with the FITTED ones (:class:`workbench.policies.elasticity.ElasticityEstimator`,
:func:`workbench.policies.ads.fit_response_curves`), the same numbers the policies decide with.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.data.generate import GAMMA_RANK_DEMAND, SHIFT_MAX, SHIFT_PER_OOS_DAY

SP_OOS_SPEND = 0.02  # share of its budget a Sponsored Products campaign spends while out of stock
AD_FACTOR_BOUNDS = (0.2, 3.0)
RECOVERY_TAU_DAYS = 7.5  # rank recovery time when the dataset does not say (the generator draws U(5, 10))
ADS_ROW_COLUMNS = ["date", "sku", "channel", "campaign", "ad_type", "impressions", "clicks", "spend", "ad_orders",
                   "ad_sales", "daily_budget", "targeting", "bid"]


def price_factor(price, ref_price, elasticity) -> np.ndarray:
    """Demand multiplier of a price move, constant elasticity: (p / p_ref)^β."""
    return (np.asarray(price, float) / np.asarray(ref_price, float)) ** np.asarray(elasticity, float)


def ad_sales_usd(spend, a, b) -> np.ndarray:
    """Ad sales in USD a day at ``spend``: the saturating curve a · (1 − e^(−s/b))."""
    return np.asarray(a, float) * (1 - np.exp(-np.asarray(spend, float) / np.asarray(b, float)))


def rank_penalty(shift) -> np.ndarray:
    """Share of demand that still finds the listing after stockouts: e^(−γ·shift)."""
    return np.exp(-GAMMA_RANK_DEMAND * np.asarray(shift, float))


def rank_step(shift, out_of_stock, decay) -> np.ndarray:
    """One day of the rank shift: +0.2 out of stock (at most 2), × e^(−1/τ) in stock."""
    return np.where(out_of_stock, np.minimum(shift + SHIFT_PER_OOS_DAY, SHIFT_MAX), shift * decay)


@dataclass
class WeekDecision:
    """What a policy decides on a replayed Monday: orders, and (optionally) prices and budgets.

    ``price`` (n,) the price the policy sets per SKU; ``budget`` (C,) daily budget per campaign of the
    setup's :class:`LeverMarket`; ``price_rule`` / ``ads_rule``: the rule behind each (for the record)."""

    orders: pd.DataFrame
    price: np.ndarray | None = None
    budget: np.ndarray | None = None
    price_rule: np.ndarray | None = None
    ads_rule: np.ndarray | None = None


@dataclass
class LeverMarket:
    """The demand response to weekly prices and budgets (module docstring), for n SKUs and C campaigns.

    ``price_lever`` / ``budget_lever`` multiply what the policy sets (a scenario's "price −10%" or
    "ad budget +50%": the policy decides as usual, the seller charges its price × 0.9)."""

    skus: list                   # the replayed SKUs, the row order of every (n,) array
    ref_price: np.ndarray        # (n,) price the baseline demand is at
    elasticity: np.ndarray       # (n,)
    base_units: np.ndarray       # (n,) baseline units a day (the ad effect is a share of it)
    decay: np.ndarray            # (n,) rank decay a day in stock, e^(−1/τ)
    campaigns: pd.DataFrame      # campaign, sku, i (SKU row), ad_type, targeting, bid, channel, a, b, util, ref_spend
    start_budget: np.ndarray     # (C,) daily budget before the first week
    price_lever: float = 1.0
    budget_lever: float = 1.0
    _ci: np.ndarray = field(default=None, repr=False)

    def __post_init__(self):
        self._ci = self.campaigns["i"].to_numpy(int)

    @property
    def n(self) -> int:
        return len(self.ref_price)

    def spend(self, budget: np.ndarray, out_of_stock: np.ndarray) -> np.ndarray:
        """(C,) a day's spend at the charged budgets; SP campaigns of out-of-stock SKUs nearly pause."""
        c = self.campaigns
        sp = (c["ad_type"].astype(str) == "SP").to_numpy()
        charged = np.asarray(budget, float) * self.budget_lever
        return charged * c["util"].to_numpy(float) * np.where(sp & out_of_stock[self._ci], SP_OOS_SPEND, 1.0)

    def ad_units(self, spend: np.ndarray) -> np.ndarray:
        """(C,) ad-driven units a day at the reference price for a day's spend per campaign."""
        c = self.campaigns
        return ad_sales_usd(spend, c["a"].to_numpy(float), c["b"].to_numpy(float)) / self.ref_price[self._ci]

    def demand_factor(self, price: np.ndarray, spend: np.ndarray) -> np.ndarray:
        """(n,) demand multiplier (before the rank penalty) at the charged prices and a day's spend."""
        c = self.campaigns
        ref = self.ad_units(c["ref_spend"].to_numpy(float))
        delta = np.bincount(self._ci, self.ad_units(spend) - ref, minlength=self.n)
        with np.errstate(divide="ignore", invalid="ignore"):
            ads = np.where(self.base_units > 0, 1 + delta / np.where(self.base_units > 0, self.base_units, 1), 1.0)
        return np.clip(ads, *AD_FACTOR_BOUNDS) * price_factor(price, self.ref_price, self.elasticity)


@dataclass
class LeverLedger:
    """Per SKU and day: revenue, ad spend, ad sales, the charged price; per week: the rules; the ads rows."""

    revenue: np.ndarray
    ad_spend: np.ndarray
    ad_sales: np.ndarray
    price: np.ndarray
    rules: list = field(default_factory=list)  # per week: DataFrame week, sku, price, price_rule, ad_budget, ads_rule

    @classmethod
    def empty(cls, n: int, days: int) -> "LeverLedger":
        return cls(*(np.zeros((n, days)) for _ in range(4)))


def play_week(m: LeverMarket, dec: WeekDecision, base_demand: np.ndarray, stock: np.ndarray, arrivals: np.ndarray,
              shift: np.ndarray, d0: int, ledger: LeverLedger, days: pd.DatetimeIndex) -> tuple:
    """Seven days at the week's prices and budgets; returns (sold, lost, stock at the end of each day,
    the replay's records' ads rows). ``stock`` and ``shift`` are updated in place."""
    k = base_demand.shape[1]
    price = np.asarray(dec.price, float) * m.price_lever
    sold, lost, stock_m, rows = np.zeros((m.n, k)), np.zeros((m.n, k)), np.zeros((m.n, k)), []
    c = m.campaigns
    for j in range(k):
        d = d0 + j
        stock += arrivals[:, d]
        oos = stock <= 1e-9
        spend = m.spend(dec.budget, oos)
        pen = rank_penalty(shift)
        # demand at the budgets as set (as the closed-loop market: a paused SP campaign still had its shoppers)
        dem = base_demand[:, j] * m.demand_factor(price, m.spend(dec.budget, np.zeros(m.n, bool))) * np.where(oos, 1.0, pen)
        sold[:, j] = np.minimum(dem, stock)
        lost[:, j] = dem - sold[:, j]
        stock -= sold[:, j]
        stock_m[:, j] = stock
        shift[:] = rank_step(shift, oos, m.decay)
        units = m.ad_units(spend) * price_factor(price, m.ref_price, m.elasticity)[m._ci] * pen[m._ci]
        units = np.where(oos[m._ci], 0.0, units)
        tot = np.bincount(m._ci, units, minlength=m.n)
        units = units * np.where(tot > sold[:, j], sold[:, j] / np.maximum(tot, 1e-9), 1.0)[m._ci]
        ledger.revenue[:, d] = sold[:, j] * price
        ledger.ad_spend[:, d] = np.bincount(m._ci, spend, minlength=m.n)
        ledger.ad_sales[:, d] = np.bincount(m._ci, units * price[m._ci], minlength=m.n)
        ledger.price[:, d] = price
        clicks = np.floor(spend / np.maximum(c["bid"].to_numpy(float), 0.05)).astype(np.int64)
        rows.append(pd.DataFrame({
            "date": days[d], "sku": c["sku"].to_numpy(), "channel": c["channel"].to_numpy(),
            "campaign": c["campaign"].to_numpy(), "ad_type": c["ad_type"].to_numpy(), "impressions": clicks * 250,
            "clicks": clicks, "spend": np.round(spend, 2), "ad_orders": np.round(units).astype(np.int64),
            "ad_sales": np.round(units * price[m._ci], 2), "daily_budget": np.round(np.asarray(dec.budget, float), 2),
            "targeting": c["targeting"].to_numpy(), "bid": c["bid"].to_numpy()}))
    ledger.rules.append(pd.DataFrame({
        "week": d0 // 7 + 1, "sku": np.asarray(m.skus, dtype=object), "price": np.round(price, 2),
        "price_rule": dec.price_rule if dec.price_rule is not None else "",
        "ad_budget": np.bincount(m._ci, np.asarray(dec.budget, float) * m.budget_lever, minlength=m.n).round(2),
        "ads_rule": _sku_rules(m, dec.ads_rule)}))
    return sold, lost, stock_m, pd.concat(rows, ignore_index=True)


def _sku_rules(m: LeverMarket, ads_rule) -> np.ndarray:
    """Per SKU, its campaigns' ads rules joined ('' without campaigns)."""
    out = np.full(m.n, "", dtype=object)
    if ads_rule is None or not len(m.campaigns):
        return out
    frame = pd.DataFrame({"i": m._ci, "rule": np.asarray(ads_rule, dtype=object).astype(str)})
    joined = frame.groupby("i")["rule"].agg(lambda r: "; ".join(sorted(set(r))))
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out

"""Prices and ad budgets decided every simulated week (issue 14, one engine): the lever market and the what-if."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.backtest.levers import (SP_OOS_SPEND, LeverLedger, LeverMarket, WeekDecision, play_week,
                                       rank_penalty)
from workbench.backtest.view import restrict
from workbench.data import load_dataset
from workbench.scenarios import Scenario, prepare, run_scenario

from test_scenarios import AS_OF, SAMPLES, quick_forecast


def market(elasticity=-2.0, ad_type="SP") -> LeverMarket:
    camp = pd.DataFrame({"campaign": ["c1"], "sku": ["A"], "i": [0], "ad_type": [ad_type], "targeting": ["exact"],
                         "bid": [1.0], "channel": ["amazon_us"], "a": [100.0], "b": [20.0], "util": [1.0],
                         "ref_spend": [10.0]})
    return LeverMarket(skus=["A"], ref_price=np.array([10.0]), elasticity=np.array([elasticity]),
                       base_units=np.array([10.0]), decay=np.array([np.exp(-1 / 7.5)]), campaigns=camp,
                       start_budget=np.array([10.0]))


def week(m, price, budget, stock, demand=10.0, days=7):
    ledger = LeverLedger.empty(1, days)
    dec = WeekDecision(pd.DataFrame(), np.array([price]), np.array([budget]))
    st, shift = np.array([float(stock)]), np.zeros(1)
    sold, lost, _, ads = play_week(m, dec, np.full((1, days), demand), st, np.zeros((1, days + 10)), shift, 0,
                                   ledger, pd.date_range("2026-01-05", periods=days))
    return sold, lost, ledger, ads, shift


def test_a_price_raise_moves_demand_by_the_elasticity_and_ads_by_their_curve():
    m = market()
    sold, lost, _, _, _ = week(m, 10.0, 10.0, 1e6)
    assert np.allclose(sold, 10.0) and not lost.any()  # today's price and spend: the baseline demand
    up, _, led, _, _ = week(m, 12.0, 10.0, 1e6)
    assert np.allclose(up, 10.0 * 1.2 ** -2.0)
    assert np.allclose(led.revenue, up * 12.0)
    more, _, _, _, _ = week(m, 10.0, 20.0, 1e6)
    extra = 100 * (np.exp(-10 / 20) - np.exp(-20 / 20)) / 10.0  # units at p_ref the extra spend buys
    assert np.allclose(more, 10.0 + extra)


def test_running_dry_pauses_sponsored_products_and_costs_rank_afterwards():
    m = market()
    sold, lost, led, ads, shift = week(m, 10.0, 10.0, 25.0)
    assert sold[0, :2].sum() == pytest.approx(20.0) and lost[0, 3:].sum() == pytest.approx(40.0)
    assert led.ad_spend[0, 0] == pytest.approx(10.0) and led.ad_spend[0, 4] == pytest.approx(10.0 * SP_OOS_SPEND)
    assert (ads["spend"].to_numpy()[3:] < 1).all() and (ads["ad_sales"].to_numpy()[3:] == 0).all()
    assert shift[0] > 0  # four days out of stock: the listing has lost rank
    assert rank_penalty(shift)[0] < 1


@pytest.fixture(scope="module")
def dry():
    """One SKU whose stock runs out mid-horizon (demand ×3, every mode 60 days late): 3 weeks, 2 paths."""
    ds = restrict(load_dataset(SAMPLES), ["SKU-0021"])
    base = prepare(ds, AS_OF, forecast=quick_forecast(ds), horizon_days=21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return base, run_scenario(base, Scenario("dry", demand_multiplier=3.0, extra_lead_days=60), n_paths=2, seed=1)


def test_ads_pause_and_pricing_holds_in_the_week_the_stock_runs_out(dry):
    _, r = dry
    lev = r.levers
    assert list(lev["week"]) == [1, 2, 3]  # one decision per simulated week
    first = lev.iloc[0]
    assert not any(rule.startswith("stockout") for rule in first["ads_rule"].split("; "))  # still in stock
    assert first["price_rule"] != "stockout_hold"
    out = lev[lev["ads_rule"].str.contains("stockout_pause_sb_sd")]
    assert len(out) and out["week"].min() > 1, lev  # paused in a later week, when the stock is gone
    assert (out["ad_budget"] < first["ad_budget"]).all()
    assert (out["price_rule"] == "stockout_hold").all()
    # every row of levers.csv says which rules set its price and budget, with the numbers
    assert lev["reason"].str.len().gt(0).all()
    assert all(f"{row.price:.2f}" in row.reason and row.price_rule in row.reason for row in lev.itertuples())


def test_the_comparison_row_carries_units_money_and_the_rules_that_decided(dry):
    _, r = dry
    s = r.summary
    assert s["units_sold"] > 0 and s["lost_units"] > 0 and s["stockout_days"] > 0
    assert s["ad_spend_usd"] > 0 and s["revenue_usd"] > s["profit_usd"]
    assert "stockout_pause_sb_sd" in s["ads_rules"] and "stockout_hold" in s["price_rules"]


def test_path_copies_get_their_sku_s_elasticity(dry):
    from workbench.backtest.adapters import CopiesElasticity

    base, _ = dry
    est = base._cache["elasticity_est"]
    pairs = pd.DataFrame({"sku": ["SKU-0021", "SKU-0021~0", "SKU-0021~7"], "channel": "amazon_us"})
    products = pd.concat([base.products.assign(sku=lambda p: p["sku"].astype(str) + s) for s in ("", "~0", "~7")])
    got = CopiesElasticity(est).lookup(pairs, products)
    assert list(got["sku"]) == list(pairs["sku"])
    assert got["elasticity"].nunique() == 1
    assert got["elasticity"].iloc[0] == pytest.approx(est.lookup(pairs.iloc[:1], base.products)["elasticity"].iloc[0])

"""Ad budgets across the stockout cycle: the four hand-made cases, the rules, the response-curve allocation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pricing_ads_dataset import AS_OF, four_sku_tables, write_four_sku_dataset

from workbench.data import load_dataset
from workbench.stock import build_snapshot
from workbench.policies.ads import (ADS_COLUMNS, AdBudgetPolicy, allocate_spend, fit_response_curves,
                                    saturating_sales)
from workbench.policies.base import check_policy_output


@pytest.fixture(scope="module")
def budgets(four):
    return AdBudgetPolicy().recommend(build_snapshot(four, AS_OF))


def _sku(budgets, sku):
    return budgets.loc[budgets["sku"] == sku].set_index("campaign")


def test_every_row_meets_the_policy_contract(budgets):
    check_policy_output(budgets, ADS_COLUMNS, numeric_columns=["current_budget", "recommended_budget",
                                                               "change_pct", "bid_change_pct"])
    assert len(budgets) == 20  # 4 SKUs × 5 campaigns


def test_gap_sku_cuts_the_total_35_percent_but_not_everything(budgets):
    g = _sku(budgets, "GAP-10D")
    cut = 1 - g["recommended_budget"].sum() / g["current_budget"].sum()
    assert 0.30 <= cut <= 0.40  # 85.00 → 55.25 a day
    assert g.loc["GAP-10D SP broad", "action"] == "pause"  # ACoS ≈ 66 % > break-even 57 %
    core = g.loc["GAP-10D SP exact core"]
    assert core["recommended_budget"] == core["current_budget"] and core["bid_change_pct"] == -7.5
    assert (g["recommended_budget"] > 0).sum() == 4
    assert "SKU budget 85.00 → 55.25/d (-35%" in core["reason"]


def test_out_of_stock_sku_pauses_sponsored_brands_and_display(budgets):
    g = _sku(budgets, "OOS")
    sbsd = g["ad_type"].isin(["SB", "SD"])
    assert (g.loc[sbsd, "recommended_budget"] == 0).all() and (g.loc[sbsd, "action"] == "pause").all()
    # Sponsored Products stop by themselves: left alone
    assert (g.loc[~sbsd, "recommended_budget"] == g.loc[~sbsd, "current_budget"]).all()


def test_a_token_brand_budget_can_be_kept_during_a_stockout(four):
    out = AdBudgetPolicy(stockout_token_budget_usd=2.0).recommend(build_snapshot(four, AS_OF))
    g = _sku(out, "OOS")
    assert g.loc["OOS SB brand", "recommended_budget"] == 2.0
    assert g.loc["OOS SD retargeting", "recommended_budget"] == 0.0


def test_recovery_sku_runs_at_1_to_2x_its_pre_stockout_budget(budgets):
    g = _sku(budgets, "RESTOCKED")
    pre = g["pre_stockout_budget"].sum()  # 85.00 a day in the 14 days before the stockout
    assert pre == 85.0 and 1.0 <= g["recommended_budget"].sum() / pre <= 2.0
    assert g.loc["RESTOCKED SP exact core", "recommended_budget"] == 45.0  # 1.5 × 30
    assert g.loc["RESTOCKED SP auto", "bid_change_pct"] == -20.0  # harvest keywords at low bids
    # SB was paused during the stockout: resumed at its pre-stockout budget, shown as +100 %
    assert (g.loc["RESTOCKED SB brand", "recommended_budget"], g.loc["RESTOCKED SB brand", "change_pct"]) == (10.0,
                                                                                                             100.0)


def test_healthy_sku_moves_budget_by_response_curves_within_the_weekly_cap(budgets):
    g = _sku(budgets, "HEALTHY")
    assert (g["change_pct"].abs() <= 20.0 + 1e-9).all()
    assert (g["phase"] == "normal").all() and (g["action"] != "pause").all()
    # the broad campaign's marginal ACoS is above break-even: it loses budget, the efficient ones gain
    assert g.loc["HEALTHY SP broad", "change_pct"] < 0 < g.loc["HEALTHY SP exact core", "change_pct"]
    assert "break-even 58%" in g.loc["HEALTHY SP broad", "reason"]


def test_never_switch_all_ads_off(tmp_path):
    t = four_sku_tables()
    ads = t["ads"]
    gap = ads["sku"] == "GAP-10D"
    ads = ads.loc[~gap | ads["campaign"].str.contains("auto|broad")].copy()
    ads.loc[ads["sku"] == "GAP-10D", "ad_sales"] = 1.0  # both left are hopeless: ACoS far above break-even
    folder = write_four_sku_dataset(tmp_path / "d")
    ads.to_csv(folder / "ads.csv", index=False, date_format="%Y-%m-%d")
    g = _sku(AdBudgetPolicy().recommend(build_snapshot(load_dataset(folder), AS_OF)), "GAP-10D")
    assert g["recommended_budget"].sum() > 0
    assert "never switch all ads off" in " ".join(g["reason"])


def test_a_bad_parameter_is_named_with_its_value(four):
    with pytest.raises(ValueError, match=r"`pre_stockout_cut` must be in \[0.3, 0.4\], got 0.5"):
        AdBudgetPolicy(pre_stockout_cut=0.5).recommend(build_snapshot(four, AS_OF))


def test_equal_curves_split_equally():
    s = allocate_spend([100.0, 100.0], [20.0, 20.0], 30.0)
    assert np.allclose(s, [15.0, 15.0])


def test_response_curves_are_recovered_and_their_allocation_beats_an_equal_split():
    # three campaigns with known curves A·(1 − e^(−s/B)); budgets moved over the year
    rng = np.random.default_rng(6)
    truth = pd.DataFrame({"campaign": ["a", "b", "c"], "a": [400.0, 150.0, 60.0], "b": [60.0, 25.0, 30.0]})
    rows = []
    for c, a, b in truth.itertuples(index=False):
        spend = b * rng.lognormal(0, 0.5, 365)
        sales = saturating_sales(spend, a, b) * rng.normal(1, 0.15, 365)
        rows.append(pd.DataFrame({"campaign": c, "ad_type": "SP", "spend": spend, "ad_sales": sales}))
    fits = fit_response_curves(pd.concat(rows)).set_index("campaign")
    assert np.allclose(fits["b_spend_usd"], truth["b"], rtol=0.25)
    total = 90.0
    fitted = allocate_spend(fits["a_sales_usd"], fits["b_spend_usd"], total)
    equal = np.full(3, total / 3)
    score = lambda s: saturating_sales(s, truth["a"], truth["b"]).sum()  # noqa: E731
    assert score(fitted) > 1.05 * score(equal)


def test_the_same_input_gives_the_same_budgets(four, budgets):
    pd.testing.assert_frame_equal(AdBudgetPolicy().recommend(build_snapshot(four, AS_OF)), budgets)


def test_last_weeks_cut_is_not_cut_again(tmp_path):
    t = four_sku_tables()
    ads = t["ads"]
    first = AdBudgetPolicy().recommend(build_snapshot(load_dataset(write_four_sku_dataset(tmp_path / "a")), AS_OF))
    cut = first.loc[first["sku"] == "GAP-10D"].set_index("campaign")["recommended_budget"]
    # last week's run was applied on 03-25: budgets since then are the cut ones
    since = (ads["sku"] == "GAP-10D") & (ads["date"] >= "2026-03-25")
    ads.loc[since, "daily_budget"] = ads.loc[since, "campaign"].map(cut)
    folder = write_four_sku_dataset(tmp_path / "b")
    ads.to_csv(folder / "ads.csv", index=False, date_format="%Y-%m-%d")
    g = _sku(AdBudgetPolicy().recommend(build_snapshot(load_dataset(folder), AS_OF)), "GAP-10D")
    assert g["recommended_budget"].sum() == pytest.approx(55.25, abs=0.02)  # still 35 % below 85, not 35 % below 55
    assert "28-day high" in g["reason"].iloc[0]


def test_campaigns_fitted_together_get_the_curves_they_get_alone():
    """fit_response_curves fits every campaign of one length in one batch: each campaign's A and B are
    exactly those of fitting it on its own (same grid, same sums)."""
    rng = np.random.default_rng(7)
    rows = []
    for i, (n, ad_type) in enumerate([(40, "SP"), (40, "SP"), (25, "SB"), (10, "SP"), (40, "SD")]):
        spend = rng.uniform(2, 30, n)
        rows.append(pd.DataFrame({"campaign": f"C{i}", "ad_type": ad_type, "spend": spend,
                                  "ad_sales": 80 * (1 - np.exp(-spend / 12)) * rng.normal(1, 0.2, n)}))
    daily = pd.concat(rows).sample(frac=1.0, random_state=1)  # days of campaigns interleaved
    together = fit_response_curves(daily).set_index("campaign")
    assert together.loc["C3", "fit"] == "too few days with spend" and np.isnan(together.loc["C3", "a_sales_usd"])
    for camp, g in daily.groupby("campaign"):
        # alone, the ad type's pooled prior is a different one: compare the unpooled parts, and the whole
        # fit where the campaign is the only one of its type
        alone = fit_response_curves(g).set_index("campaign").loc[camp]
        assert alone["n_days"] == together.loc[camp, "n_days"]
        assert alone["mean_spend"] == together.loc[camp, "mean_spend"]
        if camp in ("C2", "C4"):  # the only SB / SD campaign: the same prior either way
            assert alone["a_sales_usd"] == together.loc[camp, "a_sales_usd"]
            assert alone["b_spend_usd"] == together.loc[camp, "b_spend_usd"]

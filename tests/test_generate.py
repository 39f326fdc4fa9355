"""The sample-data generator: contract, determinism, and the phenomena it plants (small configs, fast)."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from workbench.data import gen_calendar as cal
from workbench.data.generate import GeneratorConfig, generate_dataset, write_sample_dataset
from workbench.data.schema import TABLES
from workbench.errors import InputError

END = pd.Timestamp("2026-11-22")


@pytest.fixture(scope="module")
def small():
    """16 SKUs x 1.5 years (covers Black Friday 2025 and a Chinese New Year)."""
    return generate_dataset(GeneratorConfig(n_skus=16, years=1.5, seed=3))


@pytest.fixture(scope="module")
def medium():
    """60 SKUs x 1 year: enough campaigns, shipments and listings for rates to be stable."""
    return generate_dataset(GeneratorConfig(n_skus=60, years=1.0, seed=11))


@pytest.fixture(scope="module")
def default_sample():
    return generate_dataset(GeneratorConfig())


def test_same_seed_gives_identical_tables_and_another_seed_does_not():
    cfg = GeneratorConfig(n_skus=12, years=0.5, seed=5)
    a, ta = generate_dataset(cfg)
    b, tb = generate_dataset(GeneratorConfig(n_skus=12, years=0.5, seed=5))
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name])
    c, _ = generate_dataset(GeneratorConfig(n_skus=12, years=0.5, seed=6))
    assert not a["sales"]["units"].equals(c["sales"]["units"])


def test_written_files_are_byte_identical_for_the_same_seed(tmp_path):
    cfg = GeneratorConfig(n_skus=12, years=0.5, seed=5)

    def digest(d):
        return {p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(d.rglob("*")) if p.is_file()}

    for fmt in ("csv", "parquet"):
        a = write_sample_dataset(tmp_path / f"a_{fmt}", cfg, file_format=fmt)
        b = write_sample_dataset(tmp_path / f"b_{fmt}", cfg, file_format=fmt)
        da, db = digest(a), digest(b)
        assert da == db
        assert {f"{name}.{fmt}" for name in TABLES} <= set(da)
        assert f"truth/demand.{fmt}" in da
        assert not any(".tmp" in k for k in da)  # atomic writes leave no temp files behind


def test_every_table_of_the_contract_is_present_with_its_columns(small):
    tables, _ = small
    assert set(tables) == set(TABLES)
    for name, table in TABLES.items():
        df = tables[name]
        assert len(df) > 0, name
        missing = set(table.required_columns) - set(df.columns)
        assert not missing, f"{name} lacks {missing}"
        unknown = set(df.columns) - {c.name for c in table.columns}
        assert not unknown, f"{name} has columns outside the contract: {unknown}"
        if table.key:
            assert not df.duplicated(list(table.key)).any(), f"{name} key {table.key} not unique"
    assert tables["sales"]["date"].max() == END


def test_written_sample_passes_the_validator(tmp_path):
    validate = pytest.importorskip("workbench.data.validate")
    out = write_sample_dataset(tmp_path / "s", GeneratorConfig(n_skus=12, years=0.5, seed=2))
    report = validate.validate_dataset(out)
    assert report.ok, "\n".join(report.lines()[:20])


def test_parameters_are_checked_with_a_message_naming_them():
    with pytest.raises(InputError, match=r"n_skus must be .* got 0"):
        GeneratorConfig(n_skus=0)
    with pytest.raises(InputError, match=r"years must be .* got 0.1"):
        GeneratorConfig(years=0.1)
    with pytest.raises(InputError, match=r"end_date must be an ISO date .* got '22/11/2026'"):
        GeneratorConfig(end_date="22/11/2026")
    assert GeneratorConfig().end_date == "2026-11-22"


def test_stockout_days_sell_nothing_although_customers_wanted_to_buy(small):
    tables, truth = small
    sales, demand = tables["sales"], truth["demand"]
    out = ~sales["in_stock"].to_numpy()
    assert out.sum() > 0
    assert (sales["units"].to_numpy()[out] == 0).all()
    assert (demand["demand"].to_numpy()[out] > 0).mean() > 0.5
    assert demand["censored"].to_numpy()[out & (demand["demand"].to_numpy() > 0)].all()


def test_sales_recover_slowly_and_ranks_worsen_after_a_stockout(medium):
    tables, truth = medium
    sales = tables["sales"]
    a = sales[sales["channel"] == "amazon_us"]
    ratios, rank_ratios = [], []
    ranks = tables["keyword_ranks"].groupby(["sku", "date"], observed=True)["organic_rank"].mean()
    exp = truth["demand"].loc[a.index, "expected_demand"]
    for sku, g in a.assign(exp=exp).groupby("sku", observed=True):
        oos = ~g["in_stock"].to_numpy()
        ends = np.flatnonzero(oos[:-1] & ~oos[1:]) + 1  # first day back in stock
        starts = np.flatnonzero(~oos[:-1] & oos[1:]) + 1
        for e in ends:
            # a stockout of at least 5 days, after a month in stock, followed by three weeks in stock
            if e < 35 or e + 21 > len(g) or not oos[e - 5:e].all() or oos[e - 35:e - 10].any() or oos[e:e + 21].any():
                continue
            first = g["units"].iloc[e:e + 7].sum() / g["exp"].iloc[e:e + 7].sum()
            later = g["units"].iloc[e + 14:e + 21].sum() / g["exp"].iloc[e + 14:e + 21].sum()
            ratios.append(first / max(later, 1e-9))
        for s0 in starts:
            before = ranks.get((sku, g["date"].iloc[s0 - 1]))
            for k in range(7, 20):
                if s0 + k < len(g) and oos[s0:s0 + k + 1].all():
                    during = ranks.get((sku, g["date"].iloc[s0 + k]))
                    if before is not None and during is not None and not pd.isna(during):
                        rank_ratios.append(during / before)
                        break
    assert len(ratios) >= 3
    assert np.median(ratios) < 0.95  # the first week back sells less than two weeks later
    assert len(rank_ratios) >= 3 and np.median(rank_ratios) > 1.5  # rank number grows while out of stock


def test_intermittent_products_have_many_zero_days(small):
    tables, truth = small
    params = truth["sku_params"].set_index("sku")
    sales = tables["sales"]
    sold = sales[sales["in_stock"]].groupby("sku", observed=True)["units"].apply(lambda u: (u == 0).mean())
    slow = params.index[params["demand_class"].isin(["intermittent", "lumpy"])]
    fast = params.index[params["demand_class"] == "smooth"]
    assert len(slow) and len(fast)
    assert sold[slow].min() > 0.25
    assert sold[fast].median() < 0.1
    assert set(params["demand_class"]) == {"smooth", "erratic", "intermittent", "lumpy"} or len(params) < 20


def test_new_products_have_no_sales_before_launch(default_sample):
    tables, _ = default_sample
    first_sale = tables["sales"].groupby("sku", observed=True)["date"].min()
    launch = tables["products"].set_index("sku")["launch_date"]
    new = launch[launch > first_sale.min()].index
    assert len(new) >= 1
    assert (first_sale[new] == launch[new]).all()


def test_black_friday_sells_far_more_than_an_ordinary_friday(small):
    tables, _ = small
    daily = tables["sales"].groupby("date")["units"].sum()
    bf = pd.Timestamp(str(cal.black_friday(2025)))
    ordinary = daily[[bf - pd.Timedelta(days=7 * k) for k in (2, 3, 4)]].mean()
    assert daily[bf] > 1.6 * ordinary
    ev = tables["events"]
    assert {"Prime Day", "Black Friday", "Cyber Monday", "Christmas run-up"} <= set(ev["event"])
    assert (ev.loc[ev["event"] == "Chinese New Year", "scope"] == "supply").all()
    assert ev["date"].max() > END  # future events are known for the forecast horizon


def test_price_elasticity_can_be_recovered_from_sales(medium):
    tables, truth = medium
    params = truth["sku_params"].set_index("sku")
    s = tables["sales"]
    s = s[s["in_stock"] & (s["units"] > 0) & (s["channel"] == "amazon_us")]
    est, true = [], []
    for sku, g in s.groupby("sku", observed=True):
        p = params.loc[sku]
        if p["demand_class"] != "smooth" or p["base_level"] < 5 or g["price"].nunique() < 4:
            continue
        est.append(np.polyfit(np.log(g["price"]), np.log(g["units"]), 1)[0])
        true.append(p["elasticity"])
    est, true = np.array(est), np.array(true)
    assert len(est) >= 5
    assert (est < 0).mean() >= 0.8
    assert abs(np.median(est - true)) < 0.35
    assert ((-2.5 <= params["elasticity"]) & (params["elasticity"] <= -0.8)).all()
    rev = tables["sales"]
    assert np.allclose(rev["revenue"], (rev["units"] * rev["price"]).round(2))


def test_extra_ad_spend_brings_less_and_less(medium):
    tables, truth = medium
    ads = tables["ads"]
    ads = ads[ads["spend"] > 0]
    falling = []
    for _, g in ads.groupby("campaign", observed=True):
        if g["ad_orders"].sum() < 30:
            continue
        q = pd.qcut(g["spend"], 4, labels=False, duplicates="drop")
        sums = g.groupby(q)[["ad_sales", "spend"]].sum()
        roas = sums["ad_sales"] / sums["spend"]
        falling.append(roas.iloc[-1] < roas.iloc[0])
    assert len(falling) >= 10
    assert np.mean(falling) > 0.75
    assert set(ads["ad_type"]) == {"SP", "SB", "SD"}
    per_sku = truth["ad_params"].groupby("sku").size()
    assert per_sku.between(1, 4).all() and len(per_sku) < len(tables["products"])


def test_sea_freight_is_slower_before_chinese_new_year_and_peak_than_in_spring(medium):
    tables, truth = medium
    sh = tables["shipments"].merge(truth["shipments"], on="shipment_id")
    sea = sh[sh["mode"] == "sea"]
    month = sea["order_date"].dt.month
    cny = pd.Timestamp(cal.CNY_DATES[2026])
    before_cny = (sea["order_date"] > cny - pd.Timedelta(days=40)) & (sea["order_date"] <= cny)
    slow = sea.loc[month.isin([9, 10]) | before_cny, "lead_time_days"]
    spring = sea.loc[month.isin([3, 4, 5]), "lead_time_days"]
    assert len(slow) >= 5 and len(spring) >= 5
    assert slow.median() >= spring.median() + 4
    lt = truth["lead_time"]
    assert lt.loc[lt["mode"] == "sea", "lead_time_mean_days"].between(30, 45).all()
    assert lt.loc[lt["mode"] == "air", "lead_time_mean_days"].between(7, 12).all()


def test_some_shipments_are_in_transit_and_some_are_late(default_sample):
    tables, _ = default_sample
    sh = tables["shipments"]
    open_ = sh["received_date"].isna()
    assert open_.sum() >= 3
    assert (open_ & (sh["eta"] < END)).sum() >= 1
    received = sh[~open_]
    assert (received["received_date"] <= END).all()
    assert (sh["qty"] >= 1).all() and ((sh["qty"] % sh["sku"].map(
        tables["products"].set_index("sku")["case_pack"])) == 0).mean() > 0.95


def test_attractive_unprotected_listings_get_hijacked_more(medium):
    tables, truth = medium
    params = truth["sku_params"].set_index("sku")
    prod = tables["products"].set_index("sku")
    offers = tables["offers"]
    offers = offers[offers["channel"] == "amazon_us"]
    lost = offers.groupby("sku", observed=True)["buybox_winner"].apply(lambda w: (w == "other").mean())
    attractive = prod.index[(prod["product_type"] == "standard") & ~prod["brand_registered"]
                            & (params["margin"] > 0.40)]
    protected = prod.index[prod["product_type"].isin(["private_label", "custom"]) & prod["brand_registered"]]
    assert len(attractive) >= 2 and len(protected) >= 2
    assert lost[attractive].mean() > 2 * lost[protected].mean()
    assert set(params["hijack_level_ref"]) == {"low", "medium", "high"}


def test_the_demo_shows_an_odr_breach_in_the_final_week(default_sample):
    tables, _ = default_sample
    ah = tables["account_health"]
    last = ah[ah["date"] == ah["date"].max()]
    assert last["date"].iloc[0] == END
    breached = last[last["odr"] >= 0.005]
    assert list(breached["channel"]) == ["amazon_us"]
    assert breached["odr"].iloc[0] == pytest.approx(0.008)


def test_the_demo_has_each_planted_data_problem(default_sample):
    tables, truth = default_sample
    prod = tables["products"]
    assert prod["title"].str.contains('<').any() and prod["title"].str.contains('&').any()
    assert 4 <= prod["supplier"].nunique() <= 8 and 5 <= prod["category"].nunique() <= 8
    inv = tables["inventory"]
    assert (inv["reserved"] <= inv["on_hand"]).all()
    assert (inv["as_of"] == END).any() and inv.groupby("sku")["location"].nunique().max() >= 2
    feed = tables["supplier_feed"]
    last = feed.groupby("supplier")["timestamp"].max()
    assert (last < END + pd.Timedelta(days=1) - pd.Timedelta(hours=48)).sum() == 1  # one stale feed
    issues = set(truth["supplier_feed"]["planted_issue"])
    assert {"stale feed", "oversell", "supplier sku changed"} <= issues
    over = truth["supplier_feed"].query("planted_issue == 'oversell'").iloc[0]
    assert over["listed_on_hand"] > over["latest_supplier_stock"]
    changed = truth["supplier_feed"].query("planted_issue == 'supplier sku changed'")["sku"].iloc[0]
    assert feed.loc[feed["sku"] == changed, "supplier_sku"].nunique() == 2
    assert {"amazon_us"} < set(tables["sales"]["channel"])
    ret = tables["returns"]
    top = ret.groupby(["sku", "reason"])["units"].sum().groupby(level=0).idxmax().map(lambda x: x[1])
    dom = truth["sku_params"].set_index("sku")["dominant_return_reason"]
    assert (top == dom.reindex(top.index)).mean() > 0.6

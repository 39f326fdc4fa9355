"""Issue 5 acceptance checks on a generated dataset (workbench.data.generate)."""
import numpy as np
import pandas as pd
import pytest

from restock_fixtures import recent_mean_forecast, snap
from workbench.leadtime import in_transit_arrivals, lead_time_distributions
from workbench.policies.base import check_policy_output
from workbench.policies.restock import RESTOCK_COLUMNS, RESTOCK_NUMERIC, RestockPolicy

generate = pytest.importorskip("workbench.data.generate")


@pytest.fixture(scope="module")
def generated():
    tables, truth = generate.generate_dataset(generate.GeneratorConfig(n_skus=120, years=2, seed=11))
    return tables, truth


@pytest.fixture(scope="module", params=["2026-11-22", "2026-07-06"])
def result(request, generated):
    t, _ = generated
    as_of = pd.Timestamp(request.param)
    fc = recent_mean_forecast(t["sales"], t["products"]["sku"], as_of)
    out = RestockPolicy(n_paths=500).recommend(snap(t["products"], t["inventory"], t["shipments"], fc, as_of,
                                               sales=t["sales"], events=t["events"]))
    return t, as_of, out


def test_every_sku_has_one_row_meeting_the_contract(result):
    t, _, out = result
    assert sorted(out["sku"]) == sorted(t["products"]["sku"])
    check_policy_output(out, RESTOCK_COLUMNS, RESTOCK_NUMERIC)


def test_quantities_are_whole_at_least_moq_and_in_case_packs(result):
    t, _, out = result
    p = t["products"].set_index("sku").loc[out["sku"]]
    q = out["recommended_qty"].to_numpy()
    assert out["recommended_qty"].dtype == np.int64
    ordered = q > 0
    assert ordered.any()
    # Issue 13: the MOQ binds the supplier order (air + main); an air bridge alone is its own small
    # order in case packs, so only orders with a main part must reach the MOQ.
    main = ordered & (out["main_qty"].to_numpy() > 0)
    assert (q[main] >= p["moq"].to_numpy()[main]).all()
    assert (q[ordered] % p["case_pack"].to_numpy()[ordered] == 0).all()
    assert (out["air_qty"].to_numpy() % p["case_pack"].to_numpy() == 0).all()


def test_in_transit_is_counted_as_inbound_and_cover_follows_the_definition(result):
    t, as_of, out = result
    s = t["shipments"]
    open_ = s[(s["order_date"] <= as_of) & (s["received_date"].isna() | (s["received_date"] > as_of))]
    expected = open_.groupby("sku")["qty"].sum().reindex(out["sku"]).fillna(0).to_numpy()
    assert (out["inbound"].to_numpy() == expected).all()
    assert expected.sum() > 0
    pos = out["ads"] > 0
    cover = (out["available"] + out["inbound"]) / out["ads"]  # sellable + in transit (supplier-held left out)
    assert np.allclose(out.loc[pos, "days_of_cover"], np.minimum(cover[pos], 999), atol=0.006)


def test_every_sku_under_its_reorder_point_gets_an_order(result):
    _, _, out = result
    under = out["inventory_position"] < out["reorder_point"]
    assert under.any()
    assert (out.loc[under, "recommended_qty"] > 0).all()


def test_statuses_differ_by_situation_and_probabilities_are_probabilities(result):
    _, _, out = result
    assert out["status"].nunique() >= 4
    assert out["stockout_probability"].between(0, 1).all()
    assert out["stockout_probability_air"].between(0, 1).all()
    # Low sellable cover means more risk, on average (the probability is about the sellable stock
    # running out before an order arrives; inbound that lands late does not protect it).
    low = out["sellable_cover_days"] < 45
    high = out["sellable_cover_days"] > 90
    assert low.any() and high.any()
    assert out.loc[low, "stockout_probability"].mean() > out.loc[high, "stockout_probability"].mean()


def test_lead_times_recover_the_generators_seasonal_sea_delays(generated):
    t, truth = generated
    lt = lead_time_distributions(t["shipments"], "2026-11-22")
    sea = lt[(lt["mode"] == "sea") & (lt["supplier"] != "*")]
    assert (sea["lead_time_days"] > 30).all() and (sea["lead_time_std"] > 0).all()
    pool = lt[(lt["mode"] == "sea") & (lt["supplier"] == "*")].iloc[0]
    # Orders in Dec-Jan ship into the Chinese New Year closure, orders in Mar-Apr do not.
    assert pool[["shift_m12", "shift_m01"]].mean() > pool[["shift_m03", "shift_m04"]].mean()
    arr = in_transit_arrivals(t["shipments"], "2026-11-22", lt)
    assert len(arr) and (arr["expected_arrival"] > pd.Timestamp("2026-11-22")).all()

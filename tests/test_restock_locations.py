"""Per-location restock plan (issue 5: restock per SKU and per location): hand-checkable examples."""
import numpy as np
import pandas as pd
import pytest

from restock_fixtures import AS_OF, products, recent_mean_forecast, shipments
from workbench.policies.base import check_policy_output
from workbench.policies.locations import LOCATION_COLUMNS, LOCATION_NUMERIC, LocationPolicy, location_plan

WEEKS = [AS_OF - pd.Timedelta(days=d) for d in (28, 21, 14, 7, 0)]


def history(sku="A", **by_location) -> pd.DataFrame:
    """Weekly snapshots over the last 28 days: location=[on_hand at −28, −21, −14, −7, 0 d]."""
    rows = [dict(as_of=d, sku=sku, location=loc, on_hand=q, reserved=0)
            for loc, qs in by_location.items() for d, q in zip(WEEKS[-len(qs):], qs)]
    return pd.DataFrame(rows)


def restock_row(sku="A", ads=10.0, qty=0) -> pd.DataFrame:
    return pd.DataFrame({"sku": [sku], "ads": [ads], "recommended_qty": [qty]})


def row(out, location):
    return out.set_index("location").loc[location]


def test_low_location_gets_a_transfer_in_case_packs_from_the_surplus_location():
    # EAST sells 42/week, WEST 28/week → shares 60% / 40% of ads 10 → 6/d and 4/d.
    inv = history(EAST=[768, 726, 684, 642, 600], WEST=[136, 108, 80, 52, 24])
    out = location_plan(restock_row(), inv, shipments(), AS_OF, products=products(case_pack=[10]))
    east, west = row(out, "EAST"), row(out, "WEST")
    assert (east["days_of_cover"], west["days_of_cover"]) == (100.0, 6.0)  # 600/6, 24/4
    # WEST needs 30 d × 4 − 24 = 96 → 100 in whole cases of 10.
    assert (west["transfer_in"], east["transfer_out"]) == (100, 100)
    assert west["action"] == "transfer in 100 from EAST"
    assert east["action"] == "transfer out 100 to WEST"
    assert ("cover 6.0 d < 14 d while EAST holds 100 d: transfer 100 in (multi-warehouse rebalance rule)"
            in west["reason"])
    assert (east["role"], west["role"]) == ("main", "satellite")
    check_policy_output(out, LOCATION_COLUMNS, LOCATION_NUMERIC)


def test_a_tight_source_gives_only_whole_cases_and_keeps_its_target_cover():
    # EAST 285 at 6/d = 47.5 d: it can spare 285 − 30 × 6 = 105 → 100 (10 cases);
    # WEST 4 at 4/d = 1 d wants 30 × 4 − 4 = 116 → 120, and gets the 100 there is.
    inv = history(EAST=[453, 411, 369, 327, 285], WEST=[116, 88, 60, 32, 4])
    out = location_plan(restock_row(), inv, shipments(), AS_OF, products=products(case_pack=[10]))
    east, west = row(out, "EAST"), row(out, "WEST")
    assert (west["transfer_in"], east["transfer_out"]) == (100, 100)
    left_cover = (285 - 100) / 6  # 30.8 d
    assert left_cover >= 30 >= LocationPolicy().min_cover_days
    assert east["projected_cover_days"] == pytest.approx(left_cover, abs=0.01)


def test_a_low_location_without_surplus_elsewhere_is_flagged_not_moved():
    inv = history(EAST=[378, 336, 294, 252, 210], WEST=[136, 108, 80, 52, 24])  # EAST 35 d: not surplus
    out = location_plan(restock_row(), inv, shipments(), AS_OF)
    west = row(out, "WEST")
    assert out["transfer_in"].sum() == 0 and out["transfer_out"].sum() == 0
    assert west["action"] == "short: nothing to transfer"
    assert "cover 6.0 d < 14 d but no other location can spare stock" in west["reason"]


@pytest.mark.parametrize("qty, east_qty, west_qty", [
    # Both lifted to (600 + 240 + 120) / 10 = 96 d: EAST 96×6 − 240 = 336, WEST 96×4 − 120 = 264;
    # in cases of 10 (33.6, 26.4) the spare case goes to the larger remainder → 340 / 260.
    (600, 340, 260),
    # 60 units: WEST (30 d) is lifted first; both end at (60 + 360) / 10 = 42 d → 12 / 48 → 10 / 50.
    (60, 10, 50),
])
def test_the_new_order_is_split_to_even_out_cover_and_sums_to_the_order(qty, east_qty, west_qty):
    inv = history(EAST=[408, 366, 324, 282, 240], WEST=[232, 204, 176, 148, 120])  # 40 d and 30 d
    out = location_plan(restock_row(qty=qty), inv, shipments(), AS_OF, products=products(case_pack=[10]))
    assert (row(out, "EAST")["allocated_qty"], row(out, "WEST")["allocated_qty"]) == (east_qty, west_qty)
    assert out["allocated_qty"].sum() == qty
    assert f"receives {west_qty} of the {qty} ordered" in row(out, "WEST")["reason"]
    assert row(out, "WEST")["action"] == f"receive {west_qty} of the new order"


def test_demand_share_adds_back_units_received_between_snapshots():
    # WEST: 100 → 72 → (+100 received on day −17) 144 → 116 → 88: 4 × 28 = 112 sold, not 84.
    # EAST: 4 × 42 = 168 sold. Share WEST = 112 / 280 = 40%.
    inv = history(EAST=[768, 726, 684, 642, 600], WEST=[100, 72, 144, 116, 88])
    ships = shipments([dict(shipment_id="P1", sku="A", supplier="S1", mode="sea", qty=100,
                            order_date="2026-01-01", ship_date="2026-01-05", eta="2026-02-10",
                            received_date=AS_OF - pd.Timedelta(days=17), location="WEST")])
    out = location_plan(restock_row(ads=10.0), inv, ships, AS_OF)
    west = row(out, "WEST")
    assert west["demand_share"] == 0.4 and west["ads_location"] == 4.0
    assert west["share_source"] == "inventory_history"
    assert "40% of demand (from on_hand drops over the last 28 d with receipts added back)" in west["reason"]


def test_receipts_line_up_with_snapshots_whatever_the_datetime_resolution():
    # Parquet files may load as datetime64[us] or [s]; the share is the same 40% as above.
    inv = history(EAST=[768, 726, 684, 642, 600], WEST=[100, 72, 144, 116, 88])
    inv["as_of"] = inv["as_of"].astype("datetime64[us]")
    ships = shipments([dict(shipment_id="P1", sku="A", supplier="S1", mode="sea", qty=100,
                            order_date="2026-01-01", ship_date="2026-01-05", eta="2026-02-10",
                            received_date=AS_OF - pd.Timedelta(days=17), location="WEST")])
    ships["received_date"] = ships["received_date"].astype("datetime64[s]")
    out = location_plan(restock_row(ads=10.0), inv, ships, AS_OF)
    assert row(out, "WEST")["demand_share"] == 0.4


def test_without_history_the_share_falls_back_to_on_hand_and_says_so():
    inv = history(EAST=[300], WEST=[100])  # one snapshot: no consecutive pair to read demand from
    out = location_plan(restock_row(ads=8.0), inv, shipments(), AS_OF)
    assert list(out["demand_share"]) == [0.75, 0.25]
    assert list(out["ads_location"]) == [6.0, 2.0]
    assert (out["share_source"] == "on_hand_fallback").all()
    assert out["reason"].str.contains("on_hand share: no usable inventory history in the last 28 d").all()


def test_in_transit_counts_toward_the_location_it_is_shipped_to():
    inv = history(EAST=[768, 726, 684, 642, 600], WEST=[136, 108, 80, 52, 24])
    ships = shipments([dict(shipment_id="P2", sku="A", supplier="S1", mode="sea", qty=96, order_date="2026-02-01",
                            ship_date="2026-02-03", eta="2026-03-10", received_date=None, location="WEST")])
    out = location_plan(restock_row(), inv, ships, AS_OF)
    west = row(out, "WEST")
    assert (west["inbound"], west["days_of_cover"]) == (96, 30.0)  # (24 + 96) / 4: no transfer needed
    assert west["transfer_in"] == 0 and west["action"] == "ok"


def test_skus_with_a_single_location_get_no_rows():
    inv = pd.concat([history("A", EAST=[768, 726, 684, 642, 600], WEST=[136, 108, 80, 52, 24]),
                     history("B", EAST=[500, 480, 460, 440, 420])])
    rs = pd.concat([restock_row("A"), restock_row("B", ads=3.0, qty=100)])
    out = location_plan(rs, inv, shipments(), AS_OF)
    assert set(out["sku"]) == {"A"}
    only_b = location_plan(restock_row("B", ads=3.0), history("B", EAST=[500, 480]), shipments(), AS_OF)
    assert only_b.empty and list(only_b.columns) == LOCATION_COLUMNS


@pytest.mark.parametrize("params, message", [
    (dict(min_cover_days=-1), "`min_cover_days` must be in [0, inf), got -1"),
    (dict(target_cover_days=60), "min_cover_days <= target_cover_days <= surplus_cover_days, got 14.0, 60, 45.0"),
    (dict(demand_window_days=0), "`demand_window_days` must be a whole number of days >= 1, got 0"),
])
def test_parameters_are_validated_with_a_message_naming_them(params, message):
    inv = history(EAST=[300], WEST=[100])
    with pytest.raises(ValueError) as err:
        location_plan(restock_row(), inv, shipments(), AS_OF, policy=LocationPolicy(**params))
    assert message in str(err.value)


def test_generated_dataset_plan_meets_the_contract():
    from workbench.data.generate import GeneratorConfig, generate_dataset
    from workbench.policies.restock import RestockPolicy

    t, _ = generate_dataset(GeneratorConfig(n_skus=20, years=1, seed=3))
    as_of = pd.Timestamp("2026-07-05")  # a date on which one SKU of this dataset gets a transfer
    fc = recent_mean_forecast(t["sales"], t["products"]["sku"], as_of)
    from restock_fixtures import snap

    s = snap(t["products"], t["inventory"], t["shipments"], fc, as_of, sales=t["sales"], events=t["events"])
    rs = RestockPolicy(n_paths=200).recommend(s)
    policy = LocationPolicy()
    out = policy.recommend(s, rs)
    check_policy_output(out, LOCATION_COLUMNS, LOCATION_NUMERIC)

    inv = t["inventory"][(t["inventory"]["as_of"] <= as_of) & (t["inventory"]["location"] != "SUPPLIER-DROPSHIP")]
    latest = inv.sort_values("as_of").drop_duplicates(["sku", "location"], keep="last")
    multi = latest.groupby("sku")["location"].nunique()
    assert set(out["sku"]) == set(multi[multi > 1].index) and len(out) == multi[multi > 1].sum()
    per_sku = out.groupby("sku")
    assert (per_sku["role"].apply(lambda r: (r == "main").sum()) == 1).all()
    assert np.allclose(per_sku["demand_share"].sum(), 1.0, atol=1e-3)
    ordered = rs.set_index("sku")["recommended_qty"].reindex(per_sku.size().index)
    assert (per_sku["allocated_qty"].sum() == ordered).all()
    assert (per_sku["transfer_in"].sum() == per_sku["transfer_out"].sum()).all()
    moved = out[out["transfer_in"] > 0]
    assert len(moved) >= 1
    cases = t["products"].set_index("sku")["case_pack"].reindex(moved["sku"]).to_numpy()
    assert ((moved["transfer_in"].to_numpy() % cases == 0) | moved["reason"].str.contains("loose units")).all()
    # A source keeps min cover on its shelf, and it had surplus to give.
    src = out[out["transfer_out"] > 0]
    shelf_after = (src["available"] - src["transfer_out"]) / src["ads_location"].where(src["ads_location"] > 0)
    assert (shelf_after.fillna(np.inf) >= policy.min_cover_days).all()
    assert (src["days_of_cover"] > policy.surplus_cover_days).all()


def test_the_named_steps_location_rows_shares_and_split():
    from workbench.policies.locations import demand_shares, location_rows, main_location, split_order
    from workbench.stock import location_stock

    inv = history(EAST=[768, 726, 684, 642, 600], WEST=[136, 108, 80, 52, 24])
    inv = pd.concat([inv, history(DROP=[700])], ignore_index=True)
    stock = location_stock(inv, AS_OF)
    open_ = pd.DataFrame({"sku": ["A"], "location": ["WEST"], "qty": [30]})
    rows = location_rows(stock, open_, pd.Index(["A"]), exclude={"DROP"})
    assert list(rows["location"]) == ["EAST", "WEST"] and list(rows["inbound"]) == [0, 30]
    flow = pd.DataFrame({"sku": ["A", "A"], "location": ["EAST", "WEST"], "outflow": [168.0, 112.0], "n_pairs": [4, 4]})
    shares = demand_shares(rows, flow, np.array([10.0, 10.0]))
    assert list(shares["demand_share"]) == [0.6, 0.4] and list(shares["days_of_cover"]) == [100.0, 13.5]
    main = main_location(shares)
    assert list(main) == [True, False]
    # 100 units ordered: WEST (54 units, 13.5 d) is lifted first; both end near a common cover
    alloc, proj = split_order(shares, np.array([100.0, 100.0]), np.ones(2), main, np.zeros(2))
    assert alloc.sum() == 100 and alloc[1] == 100 and proj[1] == pytest.approx(154 / 4, abs=0.01)


def test_the_policy_reads_per_location_stock_and_inbound_from_the_snapshot():
    from workbench.stock import location_stock

    inv = history(EAST=[768, 726, 684, 642, 600], WEST=[136, 108, 80, 52, 24])
    raw = location_plan(restock_row(), inv, shipments(), AS_OF, products=products(case_pack=[10]))
    # the same plan from a stock picture given in (as LocationPolicy.recommend passes the snapshot's)
    given = location_plan(restock_row(), inv, shipments(), AS_OF, products=products(case_pack=[10]),
                          stock=location_stock(inv, AS_OF), open_shipments=shipments().iloc[:0])
    pd.testing.assert_frame_equal(raw, given)

"""Lead-time distributions per supplier × mode and in-transit arrival risk, with hand-checkable numbers."""
import numpy as np
import pandas as pd
import pytest

from restock_fixtures import AS_OF, received, shipments
from workbench.leadtime import (DEFAULT_LEAD_TIMES, POOLED, in_transit_arrivals, lead_time_distributions,
                                lookup_lead_times)


def row(lt, supplier, mode):
    return lt[(lt["supplier"] == supplier) & (lt["mode"] == mode)].iloc[0]


def test_supplier_mean_is_shrunk_towards_the_mode_pool_by_credibility_weight():
    # S1: 5 shipments, mean 44; S2: 5 shipments of 50. Pool mean = 47. k = 5 → w = 5/10 → 0.5·44 + 0.5·47.
    s = shipments(received("S1", "sea", [40, 42, 44, 46, 48]) + received("S2", "sea", [50] * 5))
    lt = lead_time_distributions(s, AS_OF, prior_shipments=5, seasonal=False)
    s1 = row(lt, "S1", "sea")
    assert s1["weight_own"] == pytest.approx(0.5)
    assert s1["lead_time_days"] == pytest.approx(45.5)
    assert s1["raw_mean_days"] == pytest.approx(44.0)
    assert s1["source"] == "shrunk"
    pool = row(lt, POOLED, "sea")
    assert pool["lead_time_days"] == pytest.approx(47.0)
    assert pool["n_shipments"] == 10


def test_many_shipments_keep_the_suppliers_own_distribution():
    s = shipments(received("S1", "sea", [30] * 45 + [40] * 5, every_days=3) + received("S2", "sea", [60] * 5))
    lt = lead_time_distributions(s, AS_OF, prior_shipments=5, seasonal=False)
    s1 = row(lt, "S1", "sea")
    assert s1["source"] == "supplier" and s1["weight_own"] == pytest.approx(50 / 55)
    assert s1["lead_time_days"] == pytest.approx((50 * 31 + 5 * pool_mean(lt)) / 55)
    assert s1["p90_days"] >= s1["p50_days"]


def pool_mean(lt):
    return row(lt, POOLED, "sea")["lead_time_days"]


def test_modes_without_history_get_defaults_and_unknown_suppliers_fall_back_to_the_pool():
    s = shipments(received("S1", "sea", [40, 44]))
    lt = lead_time_distributions(s, AS_OF, seasonal=False)
    air = row(lt, POOLED, "air")
    assert air["source"] == "default"
    assert (air["lead_time_days"], air["lead_time_std"]) == DEFAULT_LEAD_TIMES["air"]
    got = lookup_lead_times(lt, ["NEW", "S1"], ["air", "sea"])
    assert got["lead_time_days"].iloc[0] == DEFAULT_LEAD_TIMES["air"][0]
    assert got["source"].iloc[0] == "mode_pool"
    assert got["lead_time_days"].iloc[1] == pytest.approx(42.0)  # own = pool when one supplier


def test_shipments_received_after_as_of_are_not_used():
    s = shipments(received("S1", "sea", [40] * 3, start="2026-02-01", every_days=1))
    lt = lead_time_distributions(s, AS_OF)
    assert row(lt, POOLED, "sea")["source"] == "default"


def test_seasonal_shift_is_mean_residual_of_the_order_month_shrunk_to_zero():
    # 5 orders in January take 50 d, 5 in June take 40 d: supplier mean 45, residuals ±5.
    # Shift = sum(residuals) / (count + k) = 25 / (5 + 5) = 2.5 days.
    rows = received("S1", "sea", [50] * 5, start="2025-01-01", every_days=5) + \
        received("S1", "sea", [40] * 5, start="2025-06-01", every_days=5)
    for i, r in enumerate(rows):
        r["shipment_id"] = f"X{i}"
    lt = lead_time_distributions(shipments(rows), AS_OF, prior_shipments=5)
    s1 = row(lt, "S1", "sea")
    assert s1["shift_m01"] == pytest.approx(2.5)
    assert s1["shift_m06"] == pytest.approx(-2.5)
    assert s1["shift_m03"] == 0.0
    jan = lookup_lead_times(lt, ["S1"], ["sea"], pd.Timestamp("2026-01-10"))
    assert jan["lead_time_days"].iloc[0] == pytest.approx(s1["lead_time_days"] + 2.5)


def test_in_transit_arrival_is_eta_plus_usual_lateness_and_overdue_is_flagged():
    # S1 historically arrives 4 days after its ETA (ETA = order + 36, received = order + 40).
    hist = received("S1", "sea", [40] * 10, eta_offset=36)
    open_rows = [
        dict(shipment_id="ON-TIME", sku="A", supplier="S1", mode="sea", qty=300, order_date=pd.Timestamp("2026-02-10"),
             ship_date=None, eta=pd.Timestamp("2026-03-18"), received_date=None, location="FBA-US"),
        dict(shipment_id="LATE", sku="A", supplier="S1", mode="sea", qty=200, order_date=pd.Timestamp("2026-01-05"),
             ship_date=None, eta=pd.Timestamp("2026-02-20"), received_date=None, location="FBA-US"),
        dict(shipment_id="NO-ETA", sku="A", supplier="S1", mode="sea", qty=100, order_date=pd.Timestamp("2026-02-20"),
             ship_date=None, eta=None, received_date=None, location="FBA-US"),
    ]
    s = shipments(hist + open_rows)
    lt = lead_time_distributions(s, AS_OF, seasonal=False)
    arr = in_transit_arrivals(s, AS_OF, lt).set_index("shipment_id")
    assert len(arr) == 3
    assert arr.loc["ON-TIME", "expected_arrival"] == pd.Timestamp("2026-03-22")  # ETA + 4
    assert not arr.loc["ON-TIME", "overdue"]
    assert arr.loc["LATE", "overdue"] and arr.loc["LATE", "days_overdue"] == 9
    assert arr.loc["LATE", "expected_arrival"] > AS_OF  # never in the past
    assert "chase" in arr.loc["LATE", "reason"]
    assert arr.loc["NO-ETA", "expected_arrival"] == pd.Timestamp("2026-02-20") + pd.Timedelta(days=40)
    assert (arr["arrival_p90"] >= arr["expected_arrival"]).all()


def test_no_open_shipments_gives_an_empty_typed_frame():
    s = shipments(received("S1", "sea", [40, 41]))
    arr = in_transit_arrivals(s, AS_OF, lead_time_distributions(s, AS_OF))
    assert arr.empty and "expected_arrival" in arr.columns


def test_negative_prior_is_rejected_with_a_message_naming_it():
    with pytest.raises(ValueError, match="`prior_shipments` must be"):
        lead_time_distributions(shipments([]), AS_OF, prior_shipments=-1)


def test_the_named_steps_of_lead_time_distributions():
    from workbench.leadtime import (MODES, deseasonalize, pooled_by_mode, received_lead_times, seasonal_shifts,
                                    supplier_rows)

    rows = []
    for i, lt in enumerate([30, 34, 38, 30, 34, 38]):
        order = pd.Timestamp("2025-01-05") + pd.Timedelta(days=30 * i)
        rows.append(dict(shipment_id=f"S{i}", sku="A", supplier="ACME", mode="sea", qty=10, order_date=order,
                         ship_date=order, eta=order + pd.Timedelta(days=32), received_date=order + pd.Timedelta(days=lt),
                         location="WH"))
    ships = pd.DataFrame(rows)
    done = received_lead_times(ships, "2025-12-31")
    shifts = seasonal_shifts(done, k=5.0)
    assert set(shifts) == set(MODES) and all(len(v) == 12 for v in shifts.values())
    assert np.allclose(shifts["air"], 0.0)  # no air shipments: no shift
    flat = deseasonalize(done, {m: np.zeros(12) for m in MODES})
    assert (flat["lead_time_days"] == flat["raw_lead_time_days"]).all()
    pooled = pooled_by_mode(flat, {m: (10.0, 2.0) for m in MODES})
    assert pooled["sea"]["source"] == "mode_pool" and pooled["sea"]["mean"] == pytest.approx(34.0)
    assert pooled["air"]["source"] == "default" and pooled["air"]["mean"] == 10.0
    (acme,) = supplier_rows(flat, pooled, k=5.0)
    # six own shipments against five pseudo-shipments of the pool: weight 6/11; own mean = pool mean here
    assert acme["weight_own"] == pytest.approx(6 / 11) and acme["lead_time_days"] == pytest.approx(34.0)

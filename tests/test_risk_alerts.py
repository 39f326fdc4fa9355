"""Offers alerts: a new seller, Buy Box lost, abnormal price, each with its date."""
import pandas as pd
import pytest

from risk_fixtures import risk_snapshot

from workbench.errors import InputError
from workbench.risk import OffersAlerts

PRODUCTS = pd.DataFrame({"sku": ["A"], "unit_cost": [6.0]})


def snap(date, sellers, winner, bb=10.0, low=9.5, median=10.0):
    return {"date": pd.Timestamp(date), "sku": "A", "channel": "amazon", "seller_count": sellers,
            "buybox_winner": winner, "buybox_price": bb, "lowest_competitor_price": low, "market_median_price": median}


OFFERS = pd.DataFrame([
    snap("2026-04-20", 3, "self"),
    snap("2026-04-21", 4, "self"),                  # new seller, but outside a 7-day lookback from 05-10
    snap("2026-05-05", 4, "self"),
    snap("2026-05-06", 5, "other", bb=9.0),         # new seller takes the Buy Box
    snap("2026-05-07", 5, "other", bb=5.5, low=5.5),  # below our unit cost 6.0, 45% below median
    snap("2026-05-08", 5, "self"),
])


def alerts(offers=OFFERS, as_of="2026-05-10", **params):
    """``OffersAlerts(**params).recommend`` on a snapshot holding ``offers``."""
    return OffersAlerts(**params).recommend(risk_snapshot(as_of, PRODUCTS, offers=offers))


def test_new_seller_buybox_lost_and_abnormal_prices_are_dated():
    a = alerts()
    got = set(zip(a["date"].dt.strftime("%Y-%m-%d"), a["alert"]))
    assert got == {("2026-05-06", "new_seller"), ("2026-05-06", "buybox_lost"),
                   ("2026-05-07", "price_below_cost"), ("2026-05-07", "price_far_from_median")}
    row = a.set_index("alert").loc["new_seller"]
    assert row.reason == "new seller on the listing: 4 -> 5 sellers since 2026-05-05"
    assert "competitor price 5.5 below our unit cost 6" in a.set_index("alert").loc["price_below_cost", "reason"]
    assert "45% below the market median 10" in a.set_index("alert").loc["price_far_from_median", "reason"]
    assert a["reason"].str.len().gt(0).all()


def test_lookback_window_is_a_parameter():
    a = alerts(lookback_days=30)
    assert ("2026-04-21", "new_seller") in set(zip(a["date"].dt.strftime("%Y-%m-%d"), a["alert"]))


def test_no_alerts_gives_an_empty_frame_with_columns():
    a = alerts(OFFERS.iloc[:1])
    assert a.empty and "reason" in a.columns


def test_bad_parameter():
    with pytest.raises(InputError, match="`lookback_days` must be a whole number >= 1, got 0"):
        alerts(lookback_days=0)

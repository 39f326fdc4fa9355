"""Account health (domain-rules.md §4): weekly breaches and 4-week trends per channel."""
import pandas as pd
import pytest

from risk_fixtures import risk_snapshot

from workbench.risk import AccountHealthPolicy
from workbench.risk.health import absent_health

AS_OF = pd.Timestamp("2026-05-10")
PRODUCTS = pd.DataFrame({"sku": ["A"]})


def check(ah, as_of=AS_OF, **params):
    """``AccountHealthPolicy(**params).recommend`` on a snapshot holding the account_health table ``ah``."""
    return AccountHealthPolicy(**params).recommend(risk_snapshot(as_of, PRODUCTS, account_health=ah))


def weekly_rows(channel, odrs, cancel=0.002, late=0.01, rating=4.8):
    """One row per week, oldest first, the last one dated AS_OF."""
    n = len(odrs)
    return pd.DataFrame({"date": [AS_OF - pd.Timedelta(days=7 * (n - 1 - i)) for i in range(n)], "channel": channel,
                         "odr": odrs, "cancel_rate": cancel, "late_shipment_rate": late, "rating": rating})


def test_odr_of_0_8pct_in_latest_week_is_a_breach_with_trend():
    ah = pd.concat([weekly_rows("amazon", [0.003, 0.004, 0.004, 0.008]), weekly_rows("walmart", [0.002] * 4)])
    h = check(ah).set_index(["channel", "metric"])
    odr = h.loc[("amazon", "odr")]
    assert odr.breach and odr.status == "breach" and odr.latest == pytest.approx(0.008)
    assert odr.weeks_in_breach == 1 and odr.trend == "worsening"
    assert odr.reason.startswith("amazon ODR 0.80% in the week ending 2026-05-10: BREACH (target < 0.5%)")
    assert "0.30% -> 0.40% -> 0.40% -> 0.80%" in odr.reason
    assert not h.loc[("walmart", "odr")].breach and h.loc[("walmart", "odr")].trend == "stable"
    assert len(h) == 8  # 2 channels x 4 metrics


def test_daily_rows_are_averaged_into_trailing_weeks():
    days = pd.date_range(AS_OF - pd.Timedelta(days=27), AS_OF, freq="D")
    ah = pd.DataFrame({"date": days, "channel": "amazon", "odr": 0.001, "cancel_rate": 0.012,
                       "late_shipment_rate": 0.01, "rating": 4.9})
    ah.loc[ah["date"] > AS_OF - pd.Timedelta(days=7), "rating"] = 4.6
    h = check(ah).set_index("metric")
    assert h.loc["cancel_rate", "breach"] and h.loc["cancel_rate", "weeks_in_breach"] == 4  # 1.2% >= 1%
    assert h.loc["rating", "breach"] and h.loc["rating", "trend"] == "worsening"  # 4.6 < 4.7
    assert not h.loc["odr", "breach"]


def test_thresholds_are_parameters():
    ah = weekly_rows("amazon", [0.004])
    h = check(ah, max_odr=0.003).set_index("metric")
    assert h.loc["odr", "breach"]


def test_missing_latest_week_says_so():
    ah = weekly_rows("amazon", [0.004, 0.004])
    h = check(ah, AS_OF + pd.Timedelta(days=7)).set_index("metric")
    assert h.loc["odr", "status"] == "no data" and "no reading in the week ending" in h.loc["odr", "reason"]


def test_absent_table_is_one_row_that_says_so():
    h = absent_health()
    assert len(h) == 1 and h.loc[0, "status"] == "absent" and "account_health table absent" in h.loc[0, "reason"]
    pd.testing.assert_frame_equal(check(None), h)  # a snapshot without the table gives that row

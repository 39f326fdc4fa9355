"""Returns (top-3 reasons with actions) and new-product test verdicts (domain-rules.md §5, §6)."""
import pandas as pd
import pytest

from risk_fixtures import risk_snapshot

from workbench.risk import NewProductTestPolicy, ReturnsPolicy, suggested_action

AS_OF = pd.Timestamp("2026-05-10")


def test_top_three_reasons_with_actions():
    r = pd.DataFrame({"date": AS_OF - pd.Timedelta(days=3), "sku": "A", "channel": "amazon",
                      "units": [5, 3, 2, 1, 4],
                      "reason": ["too small", "arrived damaged", "defective", "changed mind", "too small"]})
    sales = pd.DataFrame({"date": AS_OF, "sku": ["A"], "channel": "amazon", "units": [150], "revenue": [1500.0]})
    t = ReturnsPolicy().recommend(risk_snapshot(AS_OF, pd.DataFrame({"sku": ["A"]}), returns=r, sales=sales))
    assert t["return_reason"].tolist() == ["too small", "arrived damaged", "defective"]
    assert t["action"].tolist() == ["update the size chart / fit notes", "improve packaging",
                                    "raise a quality fix with the supplier"]
    assert t.loc[0, "units"] == 9 and t.loc[0, "share_of_returns"] == pytest.approx(0.6)
    assert t.loc[0, "return_rate"] == pytest.approx(0.1)  # 15 returned / 150 sold
    assert t.loc[0, "reason"] == ("return reason #1 for A over 28 d: 'too small' 9 of 15 returned units (60%), "
                                  "return rate 10.0% of 150 sold -> update the size chart / fit notes")


def test_unknown_reason_gets_a_review_action():
    assert suggested_action("SOMETHING_ELSE") == "read the return comments and classify"
    assert suggested_action("NOT_AS_DESCRIBED") == "fix listing copy and images"


def _new_product_data(units, sessions, quality_returns):
    launch = AS_OF - pd.Timedelta(days=40)
    products = pd.DataFrame({"sku": ["N"], "launch_date": [launch]})
    days = pd.date_range(launch, periods=28, freq="D")
    sales = pd.DataFrame({"date": days, "sku": "N", "channel": "amazon", "units": 0, "revenue": 0.0, "sessions": 0})
    sales.loc[0, ["units", "sessions"]] = [units, sessions]
    returns = pd.DataFrame({"date": [launch + pd.Timedelta(days=5)], "sku": ["N"], "channel": ["amazon"],
                            "units": [quality_returns], "reason": ["defective"]})
    return products, sales, returns


def verdicts(products, sales, returns, as_of=AS_OF):
    """``NewProductTestPolicy().recommend`` on a snapshot of these tables (``returns`` None: no returns table)."""
    return NewProductTestPolicy().recommend(risk_snapshot(as_of, products, sales=sales, returns=returns))


# Issue 13: a verdict needs the playbook's test batch (min_units 100 sold; a conversion stop needs
# min_sessions 500): the old cases passed or stopped a product on 30 units.
@pytest.mark.parametrize("units, sessions, bad, verdict", [
    (120, 4000, 4, "pass"),          # conversion 3.0%, bad 3.3%
    (60, 4000, 1, "keep testing"),   # conversion 1.5%
    (8, 1000, 0, "stop"),            # conversion 0.8% < 1% over 1000 sessions
    (120, 4000, 16, "stop"),         # bad 13% > 10%
    (30, 1000, 1, "keep testing"),   # conversion 3.0%, bad 3.3%, but only 30 units: no pass yet
    (30, 1000, 4, "keep testing"),   # bad 13% on 30 units: too few to stop
    (8, 300, 0, "keep testing"),     # conversion 2.7%... of 300 sessions, 8 units: too few either way
])
def test_new_product_verdicts(units, sessions, bad, verdict):
    products, sales, returns = _new_product_data(units, sessions, bad)
    v = verdicts(products, sales, returns)
    assert v.loc[0, "verdict"] == verdict
    assert "returns stand in for reviews" in v.loc[0, "reason"]
    if units < 100 and verdict == "keep testing" and sessions >= 1000:
        assert "test_min_sample: only" in v.loc[0, "reason"]


def test_without_sessions_or_returns_the_verdict_is_insufficient_data():
    products, sales, _ = _new_product_data(30, 1000, 0)
    v = verdicts(products, sales.drop(columns="sessions"), None)
    assert v.loc[0, "verdict"] == "insufficient data"
    assert "no sessions column in sales" in v.loc[0, "reason"]
    v = verdicts(products, sales, None)
    assert v.loc[0, "verdict"] == "insufficient data" and "no returns table" in v.loc[0, "reason"]


def test_no_verdict_in_the_first_days():
    products, sales, returns = _new_product_data(0, 500, 0)
    v = verdicts(products, sales, returns, products.loc[0, "launch_date"] + pd.Timedelta(days=3))
    assert v.loc[0, "verdict"] == "insufficient data" and "only 4 d of data (< 7 d)" in v.loc[0, "reason"]

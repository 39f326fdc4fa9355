"""Hijack score (domain-rules.md §3): the playbook's worked cases, levels, parameters, reasons."""
import pandas as pd
import pytest

from risk_fixtures import risk_snapshot

from workbench.errors import InputError
from workbench.risk import HijackScorer, margin_fraction

AS_OF = pd.Timestamp("2026-05-10")


def products(**over):
    base = {
        # standard, unregistered, margin (10 - 3 - 1.2) / 10 = 58%
        "A": dict(product_type="standard", brand_registered=False, unit_cost=3.0, price=10.0, fee_rate=0.12),
        # standard, registered, margin (10 - 5.6 - 1.4) / 10 = 30%
        "B": dict(product_type="standard", brand_registered=True, unit_cost=5.6, price=10.0, fee_rate=0.14),
        # custom, registered, margin (10 - 7.2 - 1.0) / 10 = 18%
        "C": dict(product_type="custom", brand_registered=True, unit_cost=7.2, price=10.0, fee_rate=0.10),
    }
    rows = [{"sku": k, **v, **over.get(k, {})} for k, v in base.items()]
    return pd.DataFrame(rows)


def offers(date="2026-05-09", sellers=(25, 10, 2), medians=(9.25, 10.0, 10.0), skus=("A", "B", "C"), channel="amazon"):
    return pd.DataFrame({"date": pd.Timestamp(date), "sku": list(skus), "channel": channel,
                         "seller_count": list(sellers), "buybox_winner": "self", "buybox_price": 10.0,
                         "lowest_competitor_price": 9.5, "market_median_price": list(medians)})


def score(prod=None, off=None, *, no_offers=False, inventory=None, sales=None, **params):
    """``HijackScorer(**params).recommend`` on a snapshot of these products and offers (default: the three
    SKUs above, 1,000 units each and no sales, so no low-cover points), indexed by SKU."""
    off = None if no_offers else offers() if off is None else off
    snap = risk_snapshot(AS_OF, products() if prod is None else prod, offers=off, inventory=inventory, sales=sales)
    return HijackScorer(**params).recommend(snap).set_index("sku")


def test_margin_is_price_minus_cost_minus_fees_over_price():
    assert margin_fraction([10.0], [3.0], [0.12])[0] == pytest.approx(0.58)
    assert pd.isna(margin_fraction([0.0], [3.0], [0.12])[0])


def test_standard_unregistered_high_margin_crowded_listing_above_median_is_high():
    a = score().loc["A"]
    # 30 + 25 + 20 + 15 + price 8.1% above median: (0.081 - 0.02) / 0.08 * 10 = 7.6
    assert a.score_product_type == 30 and a.score_margin == 25 and a.score_competition == 20 and a.score_brand == 15
    assert a.score_price == pytest.approx(7.6, abs=0.1)
    assert a.hijack_score > 60 and a.hijack_level == "high" and a.monitor_every_minutes <= 15
    assert a.hijack_reason.startswith("hijack 97.6/100 (high on amazon): standard type 30/30, margin 58% 25/25, "
                                      "25 sellers 20/20, no brand registry 15/15, price 8% above median 7.6/10")
    assert a.hijack_reason.endswith("scan every 15 min")
    assert "brand registration strongly advised" in a.recommended_action
    assert bool(a.extra_protection)  # margin > 40%


def test_registered_30pct_margin_ten_sellers_at_median_is_medium():
    b = score().loc["B"]
    # 30 + 25 * 0.4 + 20 * (10 - 5) / 15 + 0 + 0 = 46.7
    assert b.hijack_score == pytest.approx(46.7)
    assert b.hijack_level == "medium" and b.monitor_every_minutes == 30
    assert "prepare complaint templates" in b.recommended_action


def test_custom_registered_low_margin_two_sellers_is_low():
    c = score().loc["C"]
    assert c.hijack_score < 30 and c.hijack_level == "low" and c.monitor_every_minutes >= 60
    assert "margin 18% 0/25" in c.hijack_reason and "2 sellers 0/20" in c.hijack_reason


@pytest.mark.parametrize("points, level", [(29.9, "low"), (30.0, "medium"), (60.0, "medium"), (60.1, "high")])
def test_level_boundaries_follow_the_playbook(points, level):
    # only the product-type dimension carries weight here, so the score equals `points`
    w = {"product_type": 100.0, "margin": 0.0, "competition": 0.0, "brand": 0.0, "price": 0.0}
    s = score(weights=w, type_risk={"standard": points / 100, "custom": 0, "private_label": 0, "bundle": 0})
    assert s.loc["A", "hijack_level"] == level


def test_margin_bands():
    # price 100, fees 0 -> margin = 1 - cost / 100
    prod = pd.DataFrame({"sku": list("PQRS"), "product_type": "custom", "brand_registered": True,
                         "unit_cost": [45.0, 60.0, 70.0, 80.0], "price": 100.0, "fee_rate": 0.0})
    s = score(prod, no_offers=True)["score_margin"]
    assert s.to_dict() == {"P": 25.0, "Q": 17.5, "R": 10.0, "S": 0.0}  # 55%, 40%, 30%, 20%


def test_low_cover_raises_exposure():
    # B: 30 units sellable, 10 sold a day over the last 30 days -> sellable cover 3 d
    inv = pd.DataFrame({"as_of": AS_OF, "sku": ["A", "B", "C"], "location": "FBA-US-EAST",
                        "on_hand": [1000, 30, 1000], "reserved": 0})
    sales = pd.DataFrame({"date": pd.date_range(end=AS_OF, periods=30), "sku": "B", "channel": "amazon",
                          "units": 10.0})
    b = score(inventory=inv, sales=sales).loc["B"]
    assert b.sellable_cover_days == 3.0
    assert b.hijack_score == pytest.approx(56.7)  # 46.7 + 10
    assert "sellable cover 3 d < 7 d +10" in b.reason
    assert score().loc["B", "hijack_score"] == pytest.approx(46.7)  # 1,000 units and no sales: no low-cover points


def test_unknown_inputs_count_half_and_say_so():
    c = score(no_offers=True).loc["C"]
    assert c.score_competition == 10 and c.score_price == 5
    assert "sellers unknown (no offers snapshot)" in c.hijack_reason


def test_uses_latest_snapshot_at_or_before_as_of_and_the_worst_channel():
    off = pd.concat([offers("2026-05-01", sellers=(2, 2, 2)),                   # older
                     offers("2026-05-09", sellers=(3, 3, 3)),                   # latest visible
                     offers("2026-05-20", sellers=(30, 30, 30)),                # after as_of: ignored
                     offers("2026-05-08", sellers=(25, 25, 25), channel="walmart")])
    s = score(off=off)
    assert s.loc["B", "seller_count"] == 25 and s.loc["B", "channel"] == "walmart"


def test_weights_are_parameters():
    w = {"product_type": 10.0, "margin": 25.0, "competition": 20.0, "brand": 15.0, "price": 30.0}
    a = score(weights=w).loc["A"]
    assert a.score_product_type == 10 and a.score_price == pytest.approx(22.9, abs=0.1)


@pytest.mark.parametrize("params, message", [
    ({"weights": {"product_type": 30, "margin": 25, "competition": 20, "brand": 15, "price": 5}},
     "`weights` must sum to 100, got 95"),
    ({"weights": {"type": 100}}, "`weights` must have exactly the keys"),
    ({"level_thresholds": (70, 60)}, "`level_thresholds` must be (low, high)"),
    ({"sellers_low": 20, "sellers_high": 5}, "`sellers_low` must be >= 0 and < `sellers_high`"),
    ({"margin_band_risk": (0, 1)}, "`margin_band_risk` must have 4 values"),
])
def test_bad_parameters_name_the_parameter_and_value(params, message):
    with pytest.raises(InputError) as e:
        score(**params)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)

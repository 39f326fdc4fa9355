"""Learned hijack model beside the rule: events, labels, time-based holdout."""
import numpy as np
import pandas as pd
import pytest

from workbench.risk import hijack_events, holdout_compare, label_within, training_rows
from workbench.risk.learned import METRIC_COLUMNS, verdict
from workbench.risk.simulate import random_products, simulate_offers


def test_a_hijack_event_is_a_new_seller_taking_the_buy_box():
    o = pd.DataFrame({"date": pd.date_range("2026-05-01", periods=5), "sku": "A", "channel": "amazon",
                      "seller_count": [3, 3, 4, 4, 4], "buybox_winner": ["self", "other", "other", "self", "other"]})
    ev = hijack_events(o)
    # day 2: Buy Box lost without a new seller (not an event); day 3: already "other"; day 5: no new seller
    assert ev["hijack_event"].tolist() == [False, False, False, False, False]
    o.loc[1, "seller_count"] = 4
    assert hijack_events(o)["hijack_event"].tolist() == [False, True, False, False, False]


def test_labels_look_ahead_horizon_days_and_censor_the_tail():
    o = pd.DataFrame({"date": pd.date_range("2026-05-01", periods=10), "sku": "A", "channel": "amazon",
                      "seller_count": 3, "buybox_winner": "self"})
    o.loc[6, ["seller_count", "buybox_winner"]] = [4, "other"]  # event on 05-07
    lab = label_within(hijack_events(o), horizon_days=3, last_day="2026-05-10")
    # rows dated 05-04 .. 05-06 see the 05-07 event within 3 days; the event day itself does not
    assert lab["label"].tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    assert lab["labelled"].tolist() == [True] * 7 + [False] * 3


def _labels_by_loop(e, horizon_days):
    """The definition, one SKU x channel at a time: 1 when the first event strictly after d is within the horizon."""
    label = np.zeros(len(e), dtype=int)
    for _, idx in e.groupby(["sku", "channel"], sort=False).indices.items():
        d = e["date"].to_numpy("datetime64[ns]")[idx]
        ev = np.sort(d[e["hijack_event"].to_numpy()[idx]])
        for j, day in zip(idx, d):
            after = ev[ev > day]
            label[j] = int(len(after) > 0 and after[0] - day <= np.timedelta64(horizon_days, "D"))
    return label


def test_vectorised_labels_match_the_definition_for_many_skus_and_channels():
    products = random_products(60, seed=5)
    offers, _ = simulate_offers(products, "2025-01-01", 120, seed=5, daily_base=0.02)
    other = offers.assign(channel="walmart_us", buybox_winner=np.roll(offers["buybox_winner"].to_numpy(), 7))
    dup = offers.sample(50, random_state=1)  # a repeated snapshot day must not count as "after" itself
    e = hijack_events(pd.concat([offers, other, dup], ignore_index=True))
    assert e["hijack_event"].sum() > 20 and e["channel"].nunique() > 1
    for h in (1, 7, 14):
        lab = label_within(e, h, "2025-05-01")
        assert lab["label"].tolist() == _labels_by_loop(e, h).tolist()


@pytest.fixture(scope="module")
def simulated_rows():
    products = random_products(40, seed=3)
    offers, _ = simulate_offers(products, "2025-01-01", 240, seed=3, daily_base=0.003)
    return training_rows(products, offers, "2025-08-28", horizon_days=14)


def test_holdout_reports_model_and_rule_side_by_side(simulated_rows):
    m = holdout_compare(simulated_rows)
    assert list(m.columns) == METRIC_COLUMNS
    assert m["scorer"].tolist() == ["learned model (calibrated gradient boosting)", "rule score / 100",
                                    "rule score, isotonic-calibrated", "base rate (no skill)"]
    assert m["auc"].between(0, 1).all() and m["brier"].between(0, 1).all()
    # the split is by time and training labels end before the test period starts
    assert (pd.to_datetime(m["train_end"]) + pd.Timedelta(days=14) < pd.to_datetime(m["test_start"])).all()
    # both scorers carry real signal on the simulated truth
    assert m.loc[0, "auc"] > 0.6 and m.loc[1, "auc"] > 0.6
    assert "holdout" in verdict(m) and "AUC model" in verdict(m)


def test_too_few_events_says_so_instead_of_failing(simulated_rows):
    rows = simulated_rows.assign(label=0)
    m = holdout_compare(rows)
    assert m["scorer"].tolist() == ["none"] and "too few hijack events" in m.loc[0, "reason"]
    assert np.isnan(m.loc[0, "auc"])

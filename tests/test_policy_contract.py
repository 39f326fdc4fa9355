"""One contract for every policy: sklearn parameters, one error type, one verb, a reason on every row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pricing_ads_dataset import AS_OF, four_sku_tables, load_four_sku_dataset
from sklearn.base import clone

from workbench.errors import ParameterError
from workbench.policies.ads import ADS_COLUMNS, AdBudgetPolicy
from workbench.policies.base import Policy, check_policy_output
from workbench.policies.locations import LOCATION_COLUMNS, LOCATION_NUMERIC, LocationPolicy
from workbench.policies.phase import StockoutPhase
from workbench.policies.pricing import PRICING_COLUMNS, PricingPolicy
from workbench.policies.restock import RESTOCK_COLUMNS, RESTOCK_NUMERIC, RestockPolicy
from workbench.stock import build_snapshot

# policy factory, a bad parameter (name, value), the columns promised, the numbers promised (no NaN)
CASES = {
    "restock": (lambda: RestockPolicy(n_paths=100), ("service_level", 1.5), RESTOCK_COLUMNS, RESTOCK_NUMERIC),
    "phase": (StockoutPhase, ("medium_gap_max_days", 5), ["sku", "channel", "phase", "cover_days",
                                                           "sellable_cover_days", "reason"], ["cover_days"]),
    "pricing": (PricingPolicy, ("recovery_first_discount", 0.5), PRICING_COLUMNS,
                ["current_price", "recommended_price", "change_pct", "cover_days", "sellable_cover_days"]),
    "ads": (AdBudgetPolicy, ("pre_stockout_cut", 0.9), ADS_COLUMNS,
            ["current_budget", "recommended_budget", "change_pct"]),
    "locations": (LocationPolicy, ("min_cover_days", -1.0), LOCATION_COLUMNS, LOCATION_NUMERIC),
}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    inv = four_sku_tables()["inventory"]
    second = inv[inv["sku"] == "HEALTHY"].assign(location="3PL-NJ", on_hand=200, reserved=0)  # a 2nd warehouse
    return build_snapshot(load_four_sku_dataset(tmp_path_factory.mktemp("four") / "d",
                                                inventory=pd.concat([inv, second], ignore_index=True)), AS_OF)


def _recommend(name, policy, snap):
    if name == "locations":  # the per-location plan splits this run's restock order
        return policy.recommend(snap, RestockPolicy(n_paths=100).recommend(snap))
    return policy.recommend(snap)


@pytest.mark.parametrize("name", list(CASES))
def test_params_round_trip_through_get_set_and_clone(name):
    make, (param, _), _, _ = CASES[name]
    policy = make()
    assert isinstance(policy, Policy)
    params = policy.get_params()
    again = clone(policy)
    assert type(again) is type(policy) and again.get_params().keys() == params.keys()
    value = params[param]
    policy.set_params(**{param: value})
    assert policy.get_params()[param] == value


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_parameter_names_itself(name, snapshot):
    make, (param, value), _, _ = CASES[name]
    with pytest.raises(ParameterError, match=f"`{param}`"):
        _recommend(name, clone(make()).set_params(**{param: value}), snapshot)
    assert issubclass(ParameterError, ValueError)


@pytest.mark.parametrize("name", list(CASES))
def test_output_columns_reason_and_numbers(name, snapshot):
    make, _, columns, numeric = CASES[name]
    out = _recommend(name, make(), snapshot)
    assert len(out) > 0
    check_policy_output(out, columns, numeric)


@pytest.mark.parametrize("name", list(CASES))
def test_deterministic_for_a_seed(name, snapshot):
    make, _, _, _ = CASES[name]
    a = _recommend(name, make(), snapshot)
    b = _recommend(name, make(), snapshot)
    pd.testing.assert_frame_equal(a, b)


def test_sub_policies_are_parameters_tuned_by_nested_names(snapshot):
    pricing = PricingPolicy(phase=StockoutPhase(medium_gap_max_days=30))
    assert pricing.get_params()["phase__medium_gap_max_days"] == 30
    pricing.set_params(phase__medium_gap_max_days=12.0)
    assert pricing.phase.medium_gap_max_days == 12.0
    # GAP-10D's 13-day gap is medium at the default and long with a 12-day medium limit
    out = pricing.recommend(snapshot).set_index("sku")
    assert out.loc["GAP-10D", "gap_class"] == "long"
    assert AdBudgetPolicy().get_params()["phase__short_gap_max_days"] == 7.0
    with pytest.raises(ParameterError, match="`medium_gap_max_days`"):
        PricingPolicy(phase=StockoutPhase(medium_gap_max_days=5)).recommend(snapshot)
    assert np.isfinite(clone(pricing).get_params()["phase__medium_gap_max_days"])

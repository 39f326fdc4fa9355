"""One contract for every policy: sklearn parameters, one error type, one verb, a reason on every row.

Every subclass of :class:`workbench.policies.base.Policy` is found by importing every module of
``workbench.policies`` and ``workbench.risk`` and walking ``Policy.__subclasses__()``; CASES must name
each of them (a new policy without a case fails :func:`test_every_policy_has_a_contract_case`).
The estimators beside the policies (ElasticityEstimator) meet the same parameter contract with
``fit`` / ``predict`` instead of ``recommend``.
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pandas as pd
import pytest
from pricing_ads_dataset import AS_OF, CHANNEL, PRODUCTS, START, four_sku_tables, load_four_sku_dataset
from sklearn.base import BaseEstimator, clone

import workbench.policies
import workbench.risk
from workbench.errors import ParameterError
from workbench.policies.ads import ADS_COLUMNS, AdBudgetPolicy
from workbench.policies.base import Policy, check_policy_output, check_whole_number
from workbench.policies.elasticity import ElasticityEstimator
from workbench.policies.locations import LOCATION_COLUMNS, LOCATION_NUMERIC, LocationPolicy
from workbench.policies.phase import StockoutPhase
from workbench.policies.pricing import PRICING_COLUMNS, PricingPolicy
from workbench.policies.restock import RESTOCK_COLUMNS, RESTOCK_NUMERIC, RestockPolicy
from workbench.risk import (AccountHealthPolicy, HijackModel, HijackScorer, NewProductTestPolicy, OffersAlerts,
                            ReturnsPolicy, SupplierFeedPolicy)
from workbench.risk.alerts import ALERT_COLUMNS
from workbench.risk.feed import FEED_COLUMNS
from workbench.risk.health import HEALTH_COLUMNS
from workbench.risk.learned import MODEL_COLUMNS
from workbench.risk.returns import NEW_PRODUCT_COLUMNS, RETURNS_COLUMNS
from workbench.risk.simulate import simulate_offers
from workbench.stock import build_snapshot

SCORES = ["score_product_type", "score_margin", "score_competition", "score_brand", "score_price"]

# class: (factory, a bad parameter (name, value), columns promised, numbers promised (no NaN), snapshot)
CASES = {
    RestockPolicy: (lambda: RestockPolicy(n_paths=100), ("service_level", 1.5), RESTOCK_COLUMNS, RESTOCK_NUMERIC,
                    "stock"),
    StockoutPhase: (StockoutPhase, ("medium_gap_max_days", 5), ["sku", "channel", "phase", "cover_days",
                                                                "sellable_cover_days", "reason"], ["cover_days"],
                    "stock"),
    PricingPolicy: (PricingPolicy, ("recovery_first_discount", 0.5), PRICING_COLUMNS,
                    ["current_price", "recommended_price", "change_pct", "cover_days", "sellable_cover_days"], "stock"),
    AdBudgetPolicy: (AdBudgetPolicy, ("pre_stockout_cut", 0.9), ADS_COLUMNS,
                     ["current_budget", "recommended_budget", "change_pct"], "stock"),
    LocationPolicy: (LocationPolicy, ("min_cover_days", -1.0), LOCATION_COLUMNS, LOCATION_NUMERIC, "stock"),
    HijackScorer: (HijackScorer, ("unknown_share", 1.5),
                   ["sku", "hijack_score", "hijack_level", "monitor_every_minutes", "recommended_action"],
                   ["hijack_score", *SCORES, "monitor_every_minutes", "low_cover_points", "cover_days",
                    "sellable_cover_days"], "risk"),
    HijackModel: (lambda: HijackModel(max_iter=30), ("learning_rate", 0.0), MODEL_COLUMNS,
                  ["hijack_model_prob", "model_horizon_days"], "risk"),
    OffersAlerts: (lambda: OffersAlerts(lookback_days=60), ("lookback_days", 0), ALERT_COLUMNS, [], "risk"),
    AccountHealthPolicy: (AccountHealthPolicy, ("max_odr", 2.0), HEALTH_COLUMNS,
                          ["latest", "weeks_in_breach", "weeks_seen", "value_w0"], "risk"),
    SupplierFeedPolicy: (SupplierFeedPolicy, ("max_staleness_hours", 0), FEED_COLUMNS,
                         ["hours_since_reading", "supplier_stock", "listed_stock", "oversell_units"], "risk"),
    ReturnsPolicy: (ReturnsPolicy, ("top_n", 0), RETURNS_COLUMNS,
                    ["rank", "units", "share_of_returns", "returned_units", "sold_units", "return_rate"], "risk"),
    NewProductTestPolicy: (NewProductTestPolicy, ("min_days", 0), NEW_PRODUCT_COLUMNS,
                           ["days_observed", "units", "sessions", "conversion", "quality_returns", "bad_rate"], "risk"),
}
IDS = [c.__name__ for c in CASES]


def all_policy_classes() -> set[type]:
    """Every concrete Policy subclass defined in workbench.policies and workbench.risk."""
    for pkg in (workbench.policies, workbench.risk):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod.name)
    found, todo = set(), [Policy]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return {c for c in found if c.__module__.startswith("workbench.")}


def test_every_policy_has_a_contract_case():
    found = all_policy_classes()
    assert found - set(CASES) == set(), f"policies without a contract case: {sorted(c.__name__ for c in found - set(CASES))}"
    assert set(CASES) - found == set(), "CASES names a class that is not a Policy"
    assert len(found) >= 12


@pytest.fixture(scope="module")
def stock_snapshot(tmp_path_factory):
    inv = four_sku_tables()["inventory"]
    second = inv[inv["sku"] == "HEALTHY"].assign(location="3PL-NJ", on_hand=200, reserved=0)  # a 2nd warehouse
    return build_snapshot(load_four_sku_dataset(tmp_path_factory.mktemp("four") / "d",
                                                inventory=pd.concat([inv, second], ignore_index=True)), AS_OF)


def risk_tables() -> dict[str, pd.DataFrame]:
    """The four-SKU dataset with every risk table: simulated offers with hijacks (known truth, seeded),
    four weeks of account health, a supplier feed, returns and one product launched inside the test window."""
    as_of = pd.Timestamp(AS_OF)
    days = (as_of - START).days + 1
    offers, _ = simulate_offers(PRODUCTS.assign(product_type="standard", brand_registered=False), START, days,
                                channels=(CHANNEL,), seed=3, daily_base=0.0003)
    dates = pd.date_range(as_of - pd.Timedelta(days=27), as_of, freq="D")
    health = pd.DataFrame({"date": dates, "channel": CHANNEL, "odr": np.linspace(0.003, 0.007, len(dates)),
                           "cancel_rate": 0.004, "late_shipment_rate": 0.01, "rating": 4.8})
    feed = pd.DataFrame({"timestamp": [as_of - pd.Timedelta(hours=30), as_of + pd.Timedelta(hours=20)] * 2,
                         "sku": ["GAP-10D", "GAP-10D", "HEALTHY", "HEALTHY"], "supplier": "SUP-A",
                         "supplier_stock": [500, 20, 900, 950]}).assign(
        timestamp=lambda f: f["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    returns = pd.DataFrame({"date": as_of - pd.to_timedelta([1, 2, 3, 4, 5], unit="D"),
                            "sku": ["GAP-10D", "GAP-10D", "HEALTHY", "RESTOCKED", "GAP-10D"], "channel": CHANNEL,
                            "units": [2, 1, 1, 3, 1], "reason": ["too small", "arrived damaged", "changed mind",
                                                                 "stopped working", "too small"]})
    products = PRODUCTS.assign(launch_date=["2026-02-20", "2024-01-01", "2024-01-01", "2024-01-01"])
    sales = four_sku_tables()["sales"]
    sales["sessions"] = (sales["units"] * 12 + 5).astype(int)
    return {"offers": offers, "account_health": health, "supplier_feed": feed, "returns": returns,
            "products": products, "sales": sales}


@pytest.fixture(scope="module")
def risk_snapshot(tmp_path_factory):
    return build_snapshot(load_four_sku_dataset(tmp_path_factory.mktemp("risk") / "d", **risk_tables()), AS_OF)


@pytest.fixture(scope="module")
def snapshots(stock_snapshot, risk_snapshot):
    return {"stock": stock_snapshot, "risk": risk_snapshot}


def _recommend(cls, policy, snapshots):
    snap = snapshots[CASES[cls][4]]
    if cls is LocationPolicy:  # the per-location plan splits this run's restock order
        return policy.recommend(snap, RestockPolicy(n_paths=100).recommend(snap))
    return policy.recommend(snap)


# Public methods a policy has besides ``recommend`` (sklearn's own excluded), each with its reason. A
# rule on raw tables is a private ``_from_tables`` that ``recommend`` calls, never a second verb.
OTHER_PUBLIC = {
    HijackScorer: {"score_features"},  # scores offers-history feature rows (no snapshot) for HijackModel's holdout
    HijackModel: {"fit", "predict_proba", "set_fit_request", "set_predict_proba_request"},  # the estimator underneath
}


@pytest.mark.parametrize("cls", list(CASES), ids=IDS)
def test_recommend_is_the_one_public_verb(cls):
    sklearn_own = set(dir(BaseEstimator))
    public = {n for n in dir(cls) if not n.startswith("_") and n not in sklearn_own and callable(getattr(cls, n))}
    assert public - {"recommend"} == OTHER_PUBLIC.get(cls, set()), f"{cls.__name__} public methods: {sorted(public)}"
    assert not {"score", "evaluate", "detect"} & public


@pytest.mark.parametrize("cls", list(CASES), ids=IDS)
def test_params_round_trip_through_get_set_and_clone(cls):
    make, (param, _), _, _, _ = CASES[cls]
    policy = make()
    assert isinstance(policy, Policy) and type(policy) is cls
    params = policy.get_params()
    again = clone(policy)
    assert type(again) is type(policy) and again.get_params().keys() == params.keys()
    value = params[param]
    policy.set_params(**{param: value})
    assert policy.get_params()[param] == value


@pytest.mark.parametrize("cls", list(CASES), ids=IDS)
def test_a_bad_parameter_names_itself(cls, snapshots):
    make, (param, value), _, _, _ = CASES[cls]
    with pytest.raises(ParameterError, match=f"`{param}`"):
        _recommend(cls, clone(make()).set_params(**{param: value}), snapshots)
    assert issubclass(ParameterError, ValueError)


@pytest.mark.parametrize("cls", list(CASES), ids=IDS)
def test_output_columns_reason_and_numbers(cls, snapshots):
    make, _, columns, numeric, _ = CASES[cls]
    out = _recommend(cls, make(), snapshots)
    assert len(out) > 0
    check_policy_output(out, columns, numeric)


@pytest.mark.parametrize("cls", list(CASES), ids=IDS)
def test_deterministic_for_a_seed(cls, snapshots):
    make = CASES[cls][0]
    a = _recommend(cls, make(), snapshots)
    b = _recommend(cls, make(), snapshots)
    pd.testing.assert_frame_equal(a, b)


def test_risk_rules_read_the_snapshot_covers_and_stock(risk_snapshot):
    """The hijack rule's low-cover points use the snapshot's sellable cover; the feed's listed stock is the
    snapshot's per-location available."""
    covers = risk_snapshot.covers().set_index("sku")
    h = HijackScorer().recommend(risk_snapshot).set_index("sku")
    pd.testing.assert_series_equal(h["sellable_cover_days"], covers.loc[h.index, "sellable_cover_days"])
    assert h.loc["OOS", "low_cover_points"] == 10 and "sellable cover 0 d" in h.loc["OOS", "reason"]
    assert h.loc["HEALTHY", "low_cover_points"] == 0
    f = SupplierFeedPolicy().recommend(risk_snapshot).set_index("sku")
    avail = risk_snapshot.locations.groupby("sku")["available"].sum()
    assert f.loc["GAP-10D", "listed_stock"] == avail["GAP-10D"] == 40
    assert bool(f.loc["GAP-10D", "oversell_risk"])  # 40 listed > 20 at the supplier


def test_sub_policies_are_parameters_tuned_by_nested_names(stock_snapshot):
    pricing = PricingPolicy(phase=StockoutPhase(medium_gap_max_days=30))
    assert pricing.get_params()["phase__medium_gap_max_days"] == 30
    pricing.set_params(phase__medium_gap_max_days=12.0)
    assert pricing.phase.medium_gap_max_days == 12.0
    # GAP-10D's 13-day gap is medium at the default and long with a 12-day medium limit
    out = pricing.recommend(stock_snapshot).set_index("sku")
    assert out.loc["GAP-10D", "gap_class"] == "long"
    assert AdBudgetPolicy().get_params()["phase__short_gap_max_days"] == 7.0
    with pytest.raises(ParameterError, match="`medium_gap_max_days`"):
        PricingPolicy(phase=StockoutPhase(medium_gap_max_days=5)).recommend(stock_snapshot)
    assert np.isfinite(clone(pricing).get_params()["phase__medium_gap_max_days"])


def test_whole_number_parameters_share_one_check(risk_snapshot):
    """check_whole_number is the one test for day counts, sizes and iterations: ints only (a bool is not
    a count), the range and the parameter named."""
    check_whole_number("top_n", 3)
    check_whole_number("n_threads", None, allow_none=True)
    for value, low, high, kw, message in [
        (0, 1, None, {}, "`x` must be a whole number >= 1, got 0"),
        (True, 1, None, {}, "`x` must be a whole number >= 1, got True"),
        (2.0, 1, None, {}, "`x` must be a whole number >= 1, got 2.0"),
        (5, 2, 4, {}, "`x` must be a whole number from 2 to 4, got 5"),
        (0, 1, None, {"unit": "days"}, "`x` must be a whole number of days >= 1, got 0"),
        (0, 1, None, {"allow_none": True}, "`x` must be a whole number >= 1 or None, got 0"),
    ]:
        with pytest.raises(ParameterError) as e:
            check_whole_number("x", value, low, high, **kw)
        assert str(e.value) == message
    with pytest.raises(ParameterError, match="`lookback_days` must be a whole number >= 1, got True"):
        OffersAlerts(lookback_days=True).recommend(risk_snapshot)  # accepted as 1 day before the shared check


# -- estimators: the same parameter contract, fit / predict instead of recommend ------------------------
def test_elasticity_estimator_meets_the_parameter_contract(four):
    est = ElasticityEstimator(seed=1)
    params = est.get_params()
    assert clone(est).get_params() == params
    est.set_params(prior_sd=0.4)
    assert est.prior_sd == 0.4
    with pytest.raises(ParameterError, match="`prior_sd`"):
        clone(est).set_params(prior_sd=-1).fit(four["sales"], four["products"], AS_OF)
    pairs = four["sales"][["sku", "channel"]].drop_duplicates()
    a = ElasticityEstimator(seed=1).fit(four["sales"], four["products"], AS_OF).predict(pairs, four["products"])
    b = ElasticityEstimator(seed=1).fit(four["sales"], four["products"], AS_OF).predict(pairs, four["products"])
    assert len(a) == len(pairs) and not np.isnan(a).any()
    np.testing.assert_array_equal(a, b)

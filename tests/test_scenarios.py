"""What-if scenarios: file validation, the Monte Carlo engine, and the `workbench what-if` run on the sample data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.errors import InputError
from workbench.scenarios import Scenario, compare_reviews, load_scenario_set, prepare, run_scenario, what_if
from workbench.scenarios.simulate import Z_KNOTS, demand_at

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
SHIPPED = ROOT / "scenarios" / "peak-2026"
AS_OF = pd.Timestamp("2026-11-23")


def quick_forecast(ds, as_of=AS_OF, horizon=120) -> pd.DataFrame:
    """A cheap stand-in for the forecaster: each SKU's last-28-day mean with Poisson-like intervals."""
    s = ds["sales"]
    s = s[(s["date"] > as_of - pd.Timedelta(days=28)) & (s["date"] <= as_of)]
    mean = s.groupby("sku")["units"].sum() / 28.0
    skus = ds["products"]["sku"].astype(str)
    mean = mean.reindex(skus).fillna(0.0).to_numpy()
    days = as_of + pd.to_timedelta(np.arange(1, horizon + 1), unit="D")
    f = pd.DataFrame({"unique_id": np.repeat(skus.to_numpy(), horizon), "ds": np.tile(days, len(skus)),
                      "model": "WindowAverage", "yhat": np.repeat(mean, horizon)})
    sd = np.sqrt(f["yhat"]) + 0.3 * f["yhat"]
    for L, z in ((80, 1.2816), (95, 1.96)):
        f[f"yhat_lo_{L}"] = np.maximum(f["yhat"] - z * sd, 0)
        f[f"yhat_hi_{L}"] = f["yhat"] + z * sd
    return f


@pytest.fixture(scope="module")
def base():
    ds = load_dataset(SAMPLES)
    return prepare(ds, AS_OF, forecast=quick_forecast(ds))


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text)
    return p


# --- the quantile function -----------------------------------------------------------------------
def test_demand_at_returns_the_forecast_quantiles_at_their_scores_and_interpolates_between():
    q = np.array([[2.0, 6.0, 10.0, 14.0, 18.0]], dtype=np.float32)  # lo95, lo80, median, hi80, hi95
    z = Z_KNOTS[None, :].astype(np.float32)
    assert np.allclose(demand_at(q, z), q, atol=1e-4)
    half = np.array([[Z_KNOTS[2] / 2 + Z_KNOTS[3] / 2]], dtype=np.float32)  # halfway median → hi80
    assert demand_at(q, half)[0, 0] == pytest.approx(12.0, abs=1e-4)
    assert demand_at(q, np.array([[-9.0]], dtype=np.float32))[0, 0] == 0.0  # floored at zero


# --- scenario files ------------------------------------------------------------------------------
def test_the_shipped_scenario_set_loads_with_the_baseline_first():
    scs = load_scenario_set(SHIPPED)
    names = [s.name for s in scs]
    assert names[0] == "baseline" and scs[0].is_baseline()
    assert {"q4-demand-60", "sea-late-15", "price-minus-10", "ads-plus-50", "air-top-20", "surge-and-late"} <= set(names)


def test_a_bad_value_names_the_file_and_the_key(tmp_path):
    folder = tmp_path / "scenarios" / "peak"
    path = write(folder, "q4.yaml", "demand:\n  multiplier: lots\n")
    with pytest.raises(InputError) as e:
        load_scenario_set(folder)
    assert e.value.exit_code == 2
    assert f'{path}:demand.multiplier: expected a number > 0 and <= 100, got "lots"' in e.value.problems


def test_every_problem_of_every_file_is_listed(tmp_path):
    folder = tmp_path / "set"
    write(folder, "a.yaml", "demand:\n  multiplier: -1\n  start: soon\nprice:\n  change_pct: -150\n")
    write(folder, "b.yaml", "lead_time:\n  extra_days: 15\n  modes: [boat]\nfreigt: {}\n")
    write(folder, "c.yaml", "demand: [1.6\n")
    with pytest.raises(InputError) as e:
        load_scenario_set(folder)
    text = "\n".join(e.value.problems)
    assert f"{folder / 'a.yaml'}:demand.multiplier: expected a number > 0 and <= 100, got -1" in text
    assert f'{folder / "a.yaml"}:demand.start: expected a date YYYY-MM-DD, got "soon"' in text
    assert f"{folder / 'a.yaml'}:price.change_pct: expected a number > -100 and <= 1000, got -150" in text
    assert f"{folder / 'b.yaml'}:lead_time.modes: expected names from sea" in text
    assert f"{folder / 'b.yaml'}:freigt: unknown key" in text
    assert f"{folder / 'c.yaml'}:line 2: not valid YAML" in text


def test_combine_must_name_a_scenario_of_the_set(tmp_path):
    folder = tmp_path / "set"
    path = write(folder, "both.yaml", "combine: [surge, nope]\n")
    write(folder, "surge.yaml", "demand: {multiplier: 1.5}\n")
    with pytest.raises(InputError) as e:
        load_scenario_set(folder)
    assert any(p.startswith(f"{path}:combine:") and "'nope'" not in p and '"nope"' in p for p in e.value.problems)


def test_combined_scenarios_multiply_demand_and_add_lead_days(tmp_path):
    folder = tmp_path / "set"
    write(folder, "surge.yaml", "demand: {multiplier: 1.5}\nprice: {change_pct: -10}\n")
    write(folder, "late.yaml", "lead_time: {extra_days: 10, modes: [sea]}\n")
    write(folder, "worse.yaml", "combine: [surge, late]\ndemand: {multiplier: 1.2}\nlead_time: {extra_days: 5}\n"
                                "price: {change_pct: -10}\n")
    sc = {s.name: s for s in load_scenario_set(folder)}["worse"]
    assert sc.demand_multiplier == pytest.approx(1.8)
    assert sc.extra_lead_days == 15
    assert sc.price_change == pytest.approx(0.9 * 0.9 - 1)


def test_an_empty_or_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no scenario files"):
        load_scenario_set(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_scenario_set(tmp_path / "nope")


# --- the engine ----------------------------------------------------------------------------------
def test_a_demand_surge_raises_stockout_days_and_the_recommended_order(base):
    b = run_scenario(base, Scenario("baseline"), n_paths=200, seed=1)
    s = run_scenario(base, Scenario("surge", demand_multiplier=1.6), n_paths=200, seed=1)
    assert s.summary["stockout_days"] > b.summary["stockout_days"]
    assert s.summary["lost_units"] > b.summary["lost_units"]
    assert s.summary["recommended_qty_today"] > b.summary["recommended_qty_today"]
    assert (s.skus["recommended_qty"] >= b.skus["recommended_qty"]).all()


def test_fifteen_more_days_at_sea_move_order_by_earlier(base):
    b = run_scenario(base, Scenario("baseline"), n_paths=200, seed=1)
    late = run_scenario(base, Scenario("late", extra_lead_days=15, lead_modes=("sea",)), n_paths=200, seed=1)
    sea = (b.skus["main_mode"] == "sea").to_numpy()
    assert np.allclose(late.skus["lead_time_days"][sea], b.skus["lead_time_days"][sea] + 15, atol=0.11)
    assert (late.skus["order_by"][sea] <= b.skus["order_by"][sea]).all()
    assert (late.skus["order_by"][sea] < b.skus["order_by"][sea]).any()
    assert late.summary["stockout_days"] > b.summary["stockout_days"]


def test_the_demand_window_only_scales_days_inside_it(base):
    sc = Scenario("dec", demand_multiplier=2.0, demand_start=pd.Timestamp("2026-12-01"),
                  demand_end=pd.Timestamp("2026-12-31"))
    r = run_scenario(base, sc, n_paths=50, seed=0)
    days_in = 31
    expected = (days_in * 2 + (base.quantiles.shape[1] - days_in)) / base.quantiles.shape[1]
    active = base.quantiles[:, :, 2].sum(axis=1) > 0
    assert np.allclose(r.skus["demand_factor_mean"][active], expected, atol=1e-3)


def test_a_price_cut_and_more_ad_budget_raise_demand(base):
    b = run_scenario(base, Scenario("baseline"), n_paths=100, seed=0)
    cut = run_scenario(base, Scenario("cut", price_change=-0.10), n_paths=100, seed=0)
    ads = run_scenario(base, Scenario("ads", ad_budget_change=0.5), n_paths=100, seed=0)
    assert cut.summary["demand_units"] > b.summary["demand_units"]
    assert ads.summary["demand_units"] > b.summary["demand_units"]
    assert ads.summary["extra_ad_spend_usd"] > 0


def test_air_for_the_top_skus_ships_more_by_air_and_costs_more_freight(base):
    b = run_scenario(base, Scenario("baseline"), n_paths=100, seed=0)
    air = run_scenario(base, Scenario("air", air_for_top=10), n_paths=100, seed=0)
    assert air.summary["order_units_air"] > b.summary["order_units_air"]
    assert air.summary["freight_usd"] > b.summary["freight_usd"]
    assert (air.skus["main_mode"] == "air").sum() >= 10


def test_results_are_deterministic_for_a_seed(base):
    scs = [Scenario("baseline"), Scenario("surge", demand_multiplier=1.6)]
    a = what_if(base.ds, AS_OF, scs, n_paths=100, seed=7, forecast=base.forecast).comparison
    b = what_if(base.ds, AS_OF, scs, n_paths=100, seed=7, forecast=base.forecast).comparison
    c = what_if(base.ds, AS_OF, scs, n_paths=100, seed=8, forecast=base.forecast).comparison
    pd.testing.assert_frame_equal(a, b)
    assert not a["lost_units"].equals(c["lost_units"])


def test_every_row_says_why_with_its_numbers(base):
    run = what_if(base.ds, AS_OF, [Scenario("baseline"), Scenario("surge", title="Q4 +60%", demand_multiplier=1.6)],
                  n_paths=50, seed=0, forecast=base.forecast)
    reason = run.comparison.set_index("scenario").loc["surge", "reason"]
    assert reason.startswith("Q4 +60% [demand ×1.60]") and "(baseline" in reason and "service level" in reason
    assert run.results["surge"].skus["reason"].str.len().gt(0).all()
    plan = run.results["surge"].order_plan
    assert {"sku", "order_date", "mode", "qty", "expected_arrival", "freight_usd"} <= set(plan.columns)
    assert (plan["qty"] > 0).all() and (plan["expected_arrival"] > plan["order_date"]).all()


# --- the command ---------------------------------------------------------------------------------
def test_what_if_on_the_samples_with_the_shipped_scenarios(tmp_path):
    """`workbench what-if` end to end: the surge and late-freight scenarios run out more than the baseline."""
    from workbench.scenarios import run_what_if

    out = tmp_path / "what-if"
    comp = run_what_if(SAMPLES, "2026-11-23", SHIPPED, out, n_paths=200, seed=0)
    by = comp.set_index("scenario")
    assert by.loc["q4-demand-60", "stockout_days"] > by.loc["baseline", "stockout_days"]
    assert by.loc["sea-late-15", "stockout_days"] > by.loc["baseline", "stockout_days"]
    assert by.loc["surge-and-late", "stockout_days"] > by.loc["q4-demand-60", "stockout_days"]
    saved = pd.read_csv(out / "comparison.csv")
    assert list(saved["scenario"]) == list(comp["scenario"]) and saved["reason"].str.len().gt(0).all()
    for name in comp["scenario"]:
        for f in ("skus.csv", "order_plan.csv", "stock_fan.csv"):
            assert (out / name / f).exists()
    assert (out / "scenarios" / "q4-demand-60.yaml").exists() and (out / "run.json").exists()
    assert not list(out.rglob("*.tmp"))
    diff = compare_reviews(out, out)
    assert (diff["stockout_days_change"] == 0).all()


def test_bad_scenarios_fail_before_anything_is_written(tmp_path):
    from workbench.scenarios import run_what_if

    folder = tmp_path / "peak"
    write(folder, "q4.yaml", "demand:\n  multiplier: lots\n")
    with pytest.raises(InputError):
        run_what_if(SAMPLES, "2026-11-23", folder, tmp_path / "out", n_paths=10)
    assert not (tmp_path / "out").exists()


def test_the_simulation_steps_transit_arrivals_and_the_review_order():
    from workbench.scenarios.simulate import SimInputs, _review_order, _schedule_transit

    n, H = 1, 30
    one = np.ones(n)
    inp = SimInputs(demand_q=np.full((n, H, 5), 2.0), available=one * 10, transit_day=np.array([[5.0]]),
                    transit_sd=np.array([[0.0]]), transit_qty=np.array([[40.0]]), order0_main=one * 0,
                    order0_urgent=one * 0, lt_main=one * 10, lt_main_sd=one, lt_urgent=one * 3, lt_urgent_sd=one,
                    safety_stock=one * 6, moq=one * 25, case_pack=one * 12, unit_cost=one, unit_price=one * 3,
                    rate_main=one, rate_urgent=one)
    arr = np.zeros((n, 1, H + 2), np.float32)
    on_order = _schedule_transit(inp, slice(0, 1), 1, np.random.default_rng(0), True, arr)
    assert on_order[0, 0] == 40 and arr[0, 0, 5] == 40 and arr.sum() == 40
    cum_mean = np.concatenate([np.zeros((n, 1)), np.cumsum(inp.demand_q[:, :, 2], axis=1)], axis=1)
    # day 7: cover (7, 7 + 10 + 7] at 2/d = 34 + safety 6 = 40 against 10 on hand + 0 on order → 30,
    # rounded up to whole cases of 12 (36) and at least the MOQ of 25
    qty = _review_order(inp, slice(0, 1), 7, np.array([[10.0]]), np.array([[0.0]]), cum_mean)
    assert qty[0, 0] == 36


def test_run_scenario_steps_plan_inputs_and_tables(base):
    from workbench.scenarios.run import order_plan_table, plan_under, sim_inputs, stock_fan_table
    from workbench.scenarios.simulate import simulate

    sc = load_scenario_set(SHIPPED)[0]
    plan = plan_under(base, sc)
    assert plan["q"].shape == base.quantiles.shape and list(plan["rec"]["sku"]) == list(base.skus)
    inp, modes = sim_inputs(base, sc, plan)
    assert (inp.order0_main + inp.order0_urgent == plan["rec"]["recommended_qty"].to_numpy()).all()
    sim, orders = simulate(inp, deterministic=True, record_orders=True)
    fan = stock_fan_table(base, sim)
    assert (fan["sku"] == "ALL").sum() == base.quantiles.shape[1] and (fan["p10"] <= fan["p90"]).all()
    plan_tbl = order_plan_table(base, orders, modes)
    today = plan_tbl[plan_tbl["order_date"] == base.as_of]
    assert today["qty"].sum() == plan["rec"]["recommended_qty"].sum()

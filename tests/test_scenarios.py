"""What-if scenarios: file validation, the Monte Carlo engine, and the `workbench what-if` run on the sample data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.errors import InputError
from workbench.scenarios import Scenario, compare_reviews, load_scenario_set, prepare, run_scenario
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
    return prepare(ds, AS_OF, forecast=quick_forecast(ds), horizon_days=28)


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
# The replay runs the real restock policy every simulated week: the tests use 4 weeks and 2-3 paths.
def test_paths_share_their_random_numbers_across_scenarios_and_differ_between_paths():
    from workbench.scenarios.simulate import demand_scores, lead_uniforms, path_demand

    z = demand_scores(0, 1, 3, 10)
    assert np.array_equal(z, demand_scores(0, 1, 3, 10)) and not np.array_equal(z, demand_scores(0, 2, 3, 10))
    assert np.array_equal(lead_uniforms(5, 0, 3, 4), lead_uniforms(5, 0, 3, 4))
    q = np.sort(np.random.default_rng(0).gamma(2.0, 3.0, (3, 10, 5)), axis=2)
    # the same scores read through a surge's quantiles: every day's demand is at least the baseline's
    assert (path_demand(q * 1.6, z) >= path_demand(q, z) - 1e-6).all()
    assert np.allclose(path_demand(q, np.zeros((3, 10), np.float32)), q[:, :, 2])  # z = 0: the median path


def test_a_delay_shifts_every_draw_of_its_modes_only(base):
    from workbench.scenarios.simulate import ShiftedLeadTimes

    ds, sampler = base.ds, base.sampler
    late = ShiftedLeadTimes(sampler, 15, ("sea",))
    sup = str(ds["products"]["supplier"].iloc[0])
    for u in (0.1, 0.5, 0.9):
        assert late.draw(sup, "sea", 11, u) == sampler.draw(sup, "sea", 11, u) + 15
        assert late.draw(sup, "air", 11, u) == sampler.draw(sup, "air", 11, u)


def test_on_order_counts_the_pipeline_and_each_order_until_it_arrives(base):
    from workbench.scenarios.run import scenario_setup, scenario_world
    from workbench.scenarios.simulate import on_order_value

    setup = scenario_setup(base, Scenario("baseline"), scenario_world(base, Scenario("baseline")))
    pipeline = on_order_value(setup, pd.DataFrame(columns=["sku", "qty", "week", "lead_time_days"]))
    sku = setup.skus[0]
    order = pd.DataFrame({"sku": [sku], "qty": [10], "week": [2], "lead_time_days": [5]})
    extra = on_order_value(setup, order) - pipeline
    want = np.zeros(len(setup.days))
    want[7:12] = 10 * setup.unit_cost[0]  # placed on day 7 (week 2), arrives on day 12
    assert np.allclose(extra, want)


@pytest.fixture(scope="module")
def short(base):
    return prepare(base.ds, AS_OF, forecast=base.forecast, horizon_days=21)


@pytest.fixture(scope="module")
def runs(short):
    """Four scenarios replayed once (1 drawn path and the median one, 3 weeks), shared by the engine tests.
    Prices and budgets fixed (``weekly_levers=False``): these tests are about the restock side; the weekly
    pricing and ads decisions have their own tests (tests/test_whatif_levers.py)."""
    scs = [Scenario("baseline"), Scenario("surge", title="Q4 +60%", demand_multiplier=1.6),
           Scenario("late", extra_lead_days=15, lead_modes=("sea",)),
           Scenario("crunch", demand_multiplier=2.5, extra_lead_days=30, lead_modes=("sea",))]
    return {sc.name: run_scenario(short, sc, n_paths=1, seed=1, weekly_levers=False) for sc in scs}


def test_a_demand_surge_raises_stockouts_and_what_the_policy_orders(runs):
    b, s = runs["baseline"], runs["surge"]
    assert s.summary["demand_units"] > b.summary["demand_units"]
    assert s.summary["lost_units"] > b.summary["lost_units"]
    assert s.summary["recommended_qty_today"] > b.summary["recommended_qty_today"]
    assert s.summary["order_units"] > b.summary["order_units"]  # every simulated week orders for the surge


def test_the_policy_decides_every_simulated_week(runs, base):
    plan = runs["surge"].order_plan
    weeks = set(((plan["order_date"] - base.as_of).dt.days - 1) // 7)
    assert len(weeks) >= 2, weeks  # orders after the first week: the replay asks the policy again
    assert (plan["expected_arrival"] > plan["order_date"]).all() and (plan["qty"] > 0).all()
    assert plan["reason"].str.startswith("workbench").all() and set(plan["kind"]) <= {"restock", "air bridge",
                                                                                       "peak pre-build"}


def test_a_demand_crunch_with_late_ships_brings_air_bridges(runs):
    b, c = runs["baseline"], runs["crunch"]
    assert c.summary["air_bridge_units"] > b.summary["air_bridge_units"]
    assert c.summary["order_units_air"] >= c.summary["air_bridge_units"] > 0
    bridges = c.order_plan[c.order_plan["kind"] == "air bridge"]
    assert len(bridges) and (bridges["mode"] == "air").all()
    assert bridges["reason"].str.contains("air bridge").all()


def test_in_the_summer_the_replay_shows_the_peak_pre_build(base):
    """Mid-August the restock policy pre-builds for Black Friday (sea lead time + p90 + 60 days ahead):
    the replay must show those orders as the weekly run would place them."""
    as_of = pd.Timestamp("2026-08-16")
    summer = prepare(base.ds, as_of, forecast=quick_forecast(base.ds, as_of), horizon_days=14)
    r = run_scenario(summer, Scenario("baseline"), n_paths=1, seed=0, weekly_levers=False)
    pre = r.order_plan[r.order_plan["kind"] == "peak pre-build"]
    assert len(pre) and r.summary["prebuild_units"] > 0
    assert pre["reason"].str.contains("peak pre-build").all() and (pre["mode"] != "air").all()


def test_fifteen_more_days_at_sea_move_order_by_earlier(runs):
    b, late = runs["baseline"], runs["late"]
    sea = (b.skus["main_mode"] == "sea").to_numpy()
    assert np.allclose(late.skus["lead_time_days"][sea], b.skus["lead_time_days"][sea] + 15, atol=0.11)
    assert (late.skus["order_by"][sea] <= b.skus["order_by"][sea]).all()
    assert (late.skus["order_by"][sea] < b.skus["order_by"][sea]).any()
    sea_orders = late.order_plan[late.order_plan["mode"] == "sea"]
    base_sea = b.order_plan[b.order_plan["mode"] == "sea"]
    assert ((sea_orders["expected_arrival"] - sea_orders["order_date"]).dt.days.median()
            >= (base_sea["expected_arrival"] - base_sea["order_date"]).dt.days.median() + 14)


def test_the_demand_window_only_scales_days_inside_it(base):
    from workbench.scenarios.run import demand_factor

    sc = Scenario("dec", demand_multiplier=2.0, demand_start=pd.Timestamp("2026-12-01"),
                  demand_end=pd.Timestamp("2026-12-31"))
    factor = demand_factor(base, sc)[0]
    H = base.quantiles.shape[1]
    days_in = len(pd.date_range("2026-12-01", min(pd.Timestamp("2026-12-31"), AS_OF + pd.Timedelta(days=H))))
    assert np.allclose(factor.mean(axis=1), (days_in * 2 + (H - days_in)) / H)


def test_a_price_cut_and_more_ad_budget_raise_demand_through_their_response(base):
    from workbench.scenarios.run import _ad_curves, demand_factor

    cut, _, _, _ = demand_factor(base, Scenario("cut", price_change=-0.10))
    ads, ad_factor, spend, sales = demand_factor(base, Scenario("ads", ad_budget_change=0.5))
    assert (cut >= 1).all() and (cut > 1).any()
    assert (ad_factor >= 1).all() and (ad_factor > 1).any() and spend > 0 and sales > 0
    cur = _ad_curves(base)
    # +50% spend on concave curves: less than +50% ad sales, and the spend is +50% of today's
    assert spend == pytest.approx(0.5 * cur["spend"].sum())
    a, b, s = cur["a_sales_usd"], cur["b_spend_usd"], cur["spend"]
    assert sales < 0.5 * float((a * (1 - np.exp(-s / b))).sum())


def test_air_for_the_top_skus_makes_air_their_usual_mode(base):
    from workbench.scenarios.run import plan_under

    plan = plan_under(base, Scenario("air", air_for_top=10))
    assert (plan["rec"]["main_mode"] == "air").sum() >= 10


def test_results_are_deterministic_for_a_seed(short, runs):
    again, other = (run_scenario(short, Scenario("baseline"), n_paths=1, seed=s, weekly_levers=False).skus
                    for s in (1, 2))
    pd.testing.assert_frame_equal(again, runs["baseline"].skus)
    assert not again["demand_units"].equals(other["demand_units"])


def test_every_row_says_why_with_its_numbers(runs):
    from workbench.scenarios.run import compare

    comp = compare(list(runs.values()), 21).set_index("scenario")
    reason = comp.loc["surge", "reason"]
    assert reason.startswith("Q4 +60% [demand ×1.60]") and "(baseline" in reason and "service level" in reason
    assert "deciding every week" in reason and "air bridges" in reason
    for r in runs.values():
        assert r.skus["reason"].str.len().gt(0).all() and r.order_plan["reason"].str.len().gt(0).all()
    plan = runs["surge"].order_plan
    assert {"sku", "order_date", "mode", "kind", "qty", "expected_arrival", "freight_usd", "reason"} <= set(plan.columns)


def test_a_run_is_written_atomically_and_two_reviews_compare(runs, tmp_path):
    from workbench.scenarios.run import WhatIfRun, compare, write_run

    run = WhatIfRun(comparison=compare(list(runs.values()), 21), results=runs, scenario_set="t", as_of=AS_OF)
    out = write_run(run, tmp_path / "review", SHIPPED)
    saved = pd.read_csv(out / "comparison.csv")
    assert list(saved["scenario"]) == list(runs) and saved["reason"].str.len().gt(0).all()
    for name in runs:
        plan = pd.read_csv(out / name / "order_plan.csv")
        assert plan["reason"].str.len().gt(0).all() and (out / name / "stock_fan.csv").exists()
    assert (out / "scenarios" / "q4-demand-60.yaml").exists() and (out / "run.json").exists()
    assert not list(out.rglob("*.tmp"))
    assert (compare_reviews(out, out)["stockout_days_change"] == 0).all()


# --- the command ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_what_if_on_the_samples_with_the_shipped_scenarios(tmp_path):
    """`workbench what-if` end to end: the surge and late-freight scenarios run out more than the baseline."""
    from workbench.scenarios import run_what_if

    out = tmp_path / "what-if"
    comp = run_what_if(SAMPLES, "2026-11-23", SHIPPED, out, n_paths=2, seed=0, weeks=4)
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


@pytest.mark.parametrize("weeks", ["1", "18", "soon"])
def test_what_if_weeks_are_bounded(weeks, tmp_path, capsys):
    from workbench.cli import main

    with pytest.raises(SystemExit) as e:
        main(["what-if", "--data", str(SAMPLES), "--as-of", "2026-11-23", "--scenarios", str(SHIPPED),
              "--output", str(tmp_path / "o"), "--weeks", weeks])
    assert e.value.code == 2
    assert "--weeks: expected a whole number from 2 to 17" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

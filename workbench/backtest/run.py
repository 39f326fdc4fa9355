"""`workbench backtest`: set the replay up from a dataset, run the policies, write the tables and charts."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.backtest import adapters
from workbench.backtest import world as W
from workbench.backtest.metrics import (chart_html, dominates, frontier_html, sku_table, summary_table,
                                        weekly_table)
from workbench.backtest.replay import Progress, Setup, replay
from workbench.backtest.view import restrict
from workbench.errors import InputError
from workbench.io import write_frame, write_text

POLICIES = ("workbench", "rule_of_thumb")
MIN_HISTORY_DAYS = 56  # sales history before the start a policy needs (the ADS blend's windows, with room)
# The forecast engine backtests each series over one horizon after 2 weeks of training; it cannot run
# when no series is that long (forecast_frame: min_train 14 + horizon days), so the workbench needs it.
ENGINE_HISTORY_DAYS = 14 + adapters.FORECAST_HORIZON_DAYS
CARRYING_RATE = 0.25  # a year, share of inventory value (capital, storage, insurance, obsolescence)
SWEEP_SERVICE = (0.5, 0.8, 0.9, 0.95, 0.98)  # fixed service targets (a family with service_level_rule="fixed")
# The workbench's own knob on the frontier: the carrying rate of its newsvendor service level (a dearer
# unit-year of stock asks for less service); 0.25 is the default.
SWEEP_CARRYING = (1.0, 4.0, 0.25, 0.06)
SWEEP_SAFETY_DAYS = (0.0, 7.0, 14.0, 21.0, 30.0, 45.0)


@dataclass
class Options:
    policies: tuple = POLICIES
    seed: int = 0
    carrying_rate: float = CARRYING_RATE
    forecast_every: int = 1  # weeks between forecast refreshes (1 = as the weekly run)
    fast_forecast: bool = False
    # weeks between full model selections (backtest of every candidate); the refreshes in between refit the
    # chosen models on the newest history (adapters.WeeklyForecaster). 1 = a full run at every refresh. The
    # library default keeps that; the CLI's default is a selection every 13 weeks (workbench.cli.SELECT_EVERY)
    select_every: int = 1
    global_refit_every: int | None = None  # weeks between global model fits (None: a fit at every refresh)
    min_history_days: int = MIN_HISTORY_DAYS
    workbench_params: dict = field(default_factory=dict)
    rule_safety_days: float = 14.0
    progress: bool | None = None  # None: a bar only when stderr is a terminal
    sweep_service: tuple = SWEEP_SERVICE  # fixed service targets, for families with service_level_rule="fixed"
    sweep_carrying: tuple = SWEEP_CARRYING  # the workbench's carrying rates on the frontier (cost-optimal service)
    sweep_safety_days: tuple = SWEEP_SAFETY_DAYS  # the rule of thumb's safety days on the frontier
    sweep_families: dict = field(default_factory=dict)  # more workbench curves: {family: RestockPolicy params}


def _fail(ds, table: str, column: str, message: str) -> InputError:
    return InputError(f"{ds.path}: cannot backtest", [f"{ds.path / (table + '.csv')}:-:{column}: {message}"])


def check_history(ds, start: pd.Timestamp, weeks: int, min_history_days: int, policies=POLICIES) -> None:
    """Clear errors (exit 2) when the dataset cannot carry the replay asked for."""
    if weeks < 1:
        raise InputError(f"--weeks must be at least 1, got {weeks}")
    sales = ds["sales"]
    if sales.empty:
        raise _fail(ds, "sales", "date", "no sales rows")
    first, last = sales["date"].min(), sales["date"].max()
    have = (start - first).days
    if have < min_history_days:
        raise _fail(ds, "sales", "date", f"only {max(have, 0)} day(s) of sales before --start {start.date()} "
                    f"(first sale {first.date()}); the backtest needs at least {min_history_days} so the policies "
                    f"have history to decide on: pick a start on or after {(first + pd.Timedelta(days=min_history_days)).date()}")
    if "workbench" in policies and have < ENGINE_HISTORY_DAYS:
        raise _fail(ds, "sales", "date", f"only {have} day(s) of sales before --start {start.date()}; the workbench's "
                    f"forecast engine needs {ENGINE_HISTORY_DAYS} (a backtest over its {adapters.FORECAST_HORIZON_DAYS}-day "
                    f"horizon): start on or after {(first + pd.Timedelta(days=ENGINE_HISTORY_DAYS)).date()}, or run "
                    "--policies rule_of_thumb")
    end = start + pd.Timedelta(days=7 * weeks - 1)
    if last < end:
        raise _fail(ds, "sales", "date", f"sales end on {last.date()}, but {weeks} week(s) from {start.date()} need "
                    f"demand up to {end.date()}: use at most {max((last - start).days + 1, 0) // 7} week(s)")


def make_setup(ds, start, weeks: int, opts: Options) -> Setup:
    start = pd.Timestamp(start).normalize()
    check_history(ds, start, weeks, opts.min_history_days, opts.policies)
    skus, left_out = W.replay_skus(ds, start)
    if not skus:
        raise _fail(ds, "sales", "sku", f"no SKU has sales before {start.date()}")
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    demand, censored = W.corrected_demand(ds, skus, days)
    sampler = W.LeadTimeSampler(ds["shipments"])
    state = W.start_state(ds, skus, start, len(days), sampler)
    arrays = W.sku_arrays(ds, skus, start, state.location)
    return Setup(
        base=restrict(ds, skus), start=start, weeks=weeks, skus=skus, days=days, demand=demand, censored=censored,
        state=state, sampler=sampler, uniforms=W.order_uniforms(opts.seed, len(skus), weeks),
        freight_share=W.freight_shares(ds), carrying_rate=opts.carrying_rate, left_out=left_out, **arrays)


def workbench_decider(opts: Options, params: dict | None = None):
    """The workbench adapter with the forecast refreshed every ``opts.forecast_every`` weeks on the policy's own
    view, its models selected every ``opts.select_every`` weeks (:class:`adapters.WeeklyForecaster`)."""
    forecaster = adapters.WeeklyForecaster(opts.forecast_every, opts.select_every, opts.global_refit_every,
                                           fast=opts.fast_forecast)

    def decide(view, day):
        fc, errors = forecaster(view, day)
        return adapters.workbench_orders(view, day, fc, {"carrying_rate": opts.carrying_rate,
                                                         **opts.workbench_params, **(params or {})}, errors)
    decide.forecaster = forecaster
    return decide


def rule_decider(safety_days: float):
    return lambda view, day: adapters.rule_of_thumb_orders(view, day, safety_days)


def run_policies(setup: Setup, named_deciders: list[tuple[str, object]], progress: bool | None = None):
    bar = Progress(setup.weeks * len(named_deciders), "backtest", progress)
    return [replay(setup, name, decide, bar) for name, decide in named_deciders]


def sweep(setup: Setup, opts: Options) -> pd.DataFrame:
    """The frontier: the workbench over carrying rates (its cost-optimal service level moves with them), any
    extra family (``opts.sweep_families``; with ``service_level_rule="fixed"`` over ``opts.sweep_service``, else
    over the carrying rates), the rule of thumb over safety days; one row per run."""
    safety_days = opts.sweep_safety_days
    runs = []
    for fam, extra in {"workbench": {}, **opts.sweep_families}.items():
        if extra.get("service_level_rule") == "fixed":
            runs += [(f"{fam} service {s:.0%}", fam, f"{s:.0%}", workbench_decider(opts, dict(
                extra, service_level=s, key_item_service_level=max(s, min(s + 0.03, 0.995))))) for s in opts.sweep_service]
        else:
            runs += [(f"{fam} carrying {c:g}", fam, f"carrying {c:g}/yr", workbench_decider(opts, dict(extra, carrying_rate=c)))
                     for c in opts.sweep_carrying]
    runs += [(f"rule_of_thumb {d:g} d", "rule_of_thumb", f"{d:g} d", rule_decider(d)) for d in safety_days]
    results = run_policies(setup, [(name, dec) for name, _, _, dec in runs], opts.progress)
    table = summary_table(setup, results)
    table.insert(1, "family", [fam for _, fam, _, _ in runs])
    table.insert(2, "setting", [st for _, _, st, _ in runs])
    return table


def run_backtest(data, start, weeks: int, output, opts: Options | None = None, do_sweep: bool = False) -> dict:
    """Run the backtest and write ``summary.csv``, ``weekly.csv``, ``skus.csv``, ``orders.csv``,
    ``chart.html`` (and ``frontier.csv`` / ``frontier.html`` with ``do_sweep``) into ``output``."""
    from workbench.data import load_dataset

    opts = opts or Options()
    unknown = [p for p in opts.policies if p not in POLICIES]
    if unknown:
        raise InputError(f"--policies: unknown {', '.join(unknown)} (known: {', '.join(POLICIES)})")
    ds = load_dataset(Path(data)) if not hasattr(data, "tables") else data
    out = Path(output)
    setup = make_setup(ds, start, weeks, opts)
    deciders = {"workbench": workbench_decider(opts), "rule_of_thumb": rule_decider(opts.rule_safety_days)}
    results = run_policies(setup, [(p, deciders[p]) for p in opts.policies], opts.progress)
    summary = summary_table(setup, results)
    weekly = weekly_table(setup, results)
    paths = {
        "summary": write_frame(summary, out / "summary.csv"),
        "weekly": write_frame(weekly, out / "weekly.csv"),
        "skus": write_frame(sku_table(setup, results), out / "skus.csv"),
        "orders": write_frame(pd.concat([r.orders for r in results], ignore_index=True), out / "orders.csv"),
        "chart": write_text(out / "chart.html", chart_html(setup, results, weekly)),
    }
    if ds.n_rejected:
        paths["rejects"] = ds.write_rejects(out / "rejects.csv")
    if len(setup.left_out):
        paths["left_out"] = write_frame(setup.left_out, out / "left_out.csv")
    res = dict(summary=summary, paths=paths, setup=setup, results=results,
               decide_seconds={r.policy: r.decide_seconds for r in results})
    if "workbench" in opts.policies:
        f = deciders["workbench"].forecaster
        res["forecast_runs"] = {"full": f.full_runs, "refit": f.refits}
    if do_sweep:
        frontier = sweep(setup, opts)
        ok, sentence = dominates(frontier)
        for fam in opts.sweep_families:
            sentence += f"; {fam}: " + dominates(frontier, fam)[1]
        frontier["reason"] = frontier["reason"] + f"; frontier: {sentence}"
        paths["frontier"] = write_frame(frontier, out / "frontier.csv")
        paths["frontier_chart"] = write_text(out / "frontier.html", frontier_html(frontier))
        res.update(frontier=frontier, frontier_above=ok, frontier_sentence=sentence)
    return res

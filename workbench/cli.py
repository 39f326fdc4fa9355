"""The `workbench` command line: parse arguments, call one function per command, map errors to exit codes.

Exit codes: 0 success; 1 a run failed (see the message); 2 invalid input or arguments.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from workbench.errors import InputError, WorkbenchError


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from workbench.data.generate import GeneratorConfig, write_sample_dataset

    cfg = GeneratorConfig(n_skus=args.skus, years=args.years, seed=args.seed, end_date=args.end)
    out = write_sample_dataset(Path(args.out), cfg, file_format=args.format, include_truth=not args.no_truth)
    print(f"wrote sample dataset ({cfg.n_skus} SKUs, {cfg.years} years, seed {cfg.seed}) to {out}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from workbench.data.validate import validate_dataset

    report = validate_dataset(Path(args.data_dir), max_per_column=args.max_problems)
    for line in report.lines():
        print(line)
    if report.ok:
        print(f"{args.data_dir}: valid ({report.summary()})", file=sys.stderr)
        return 0
    print(f"{args.data_dir}: {report.problem_count} problem(s) ({report.summary()})", file=sys.stderr)
    return 2


def _cmd_forecast(args: argparse.Namespace) -> int:
    from workbench.forecast.api import forecast_file

    forecast_file(
        input_path=Path(args.input),
        horizon=args.horizon,
        freq=args.freq,
        levels=args.level,
        output_path=Path(args.output),
        engine=args.engine,
        overrides_path=Path(args.overrides) if args.overrides else None,
        min_obs=args.min_obs,
        future_path=Path(args.future) if args.future else None,
    )
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_weekly(args: argparse.Namespace) -> int:
    import logging

    from workbench.report.pipeline import run_weekly

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    _guard_output(args.data, args.reports, "--reports", folder=True, probe=False)
    outcome = run_weekly(Path(args.data), args.as_of, Path(args.reports), force=args.force)
    print(outcome.describe())
    return 0


def _guard_output(data: str, output: str, flag: str = "--output", folder: bool = False, probe: bool = True) -> None:
    """Refuse an output the workbench must not or cannot write, before any work (exit 2):
    inside the data directory (input is never written), not .csv/.parquet, or not writable."""
    from workbench.io import check_writable

    out, data_dir = Path(output).resolve(), Path(data).resolve()
    if out == data_dir or data_dir in out.parents:
        raise InputError(f"{flag} {output} is inside the data directory {data}: input data is never written; "
                         "choose a folder outside it")
    if not folder and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"{flag} {output}: expected a .csv or .parquet file name (a .csv opens in Excel), "
                         f"got {out.suffix or 'no extension'!r}")
    target = out if folder else out.parent
    if not probe:  # the weekly run alerts an unwritable reports folder itself (by mail when it can)
        return
    try:
        check_writable(target)
    except OSError as e:
        raise InputError(f"{flag} {output}: cannot write there ({type(e).__name__}: {e.strerror or e})") from None


def _load(args: argparse.Namespace):
    """Load the dataset; rejected rows go beside the output as <stem>_rejects.csv, and are counted."""
    from workbench.data import load_dataset

    _guard_output(args.data, args.output)
    ds = load_dataset(Path(args.data))
    stale = ds.check_as_of(_as_of(args))
    if stale:
        print(stale, file=sys.stderr)
    if ds.n_rejected:
        out = Path(args.output)
        path = ds.write_rejects(out.with_name(f"{out.stem}_rejects.csv"))
        print(f"{ds.rejects_summary()}: see {path}", file=sys.stderr)
    return ds


def _write(frame, args: argparse.Namespace, what: str) -> int:
    from workbench.io import write_frame

    write_frame(frame, Path(args.output))
    print(f"wrote {args.output} ({len(frame)} {what})", file=sys.stderr)
    return 0


def _pipeline(args: argparse.Namespace, steps: tuple):
    """Load the dataset and run the one pipeline up to ``steps`` (overrides read once, here)."""
    from workbench.config import default_overrides
    from workbench.pipeline import run_pipeline

    ds = _load(args)
    res = run_pipeline(ds, _as_of(args), overrides=default_overrides(), steps=steps)
    if res.missing_days:
        print(f"note: {res.data_note()}", file=sys.stderr)
    return res


def _cmd_restock(args: argparse.Namespace) -> int:
    from workbench.io import write_frame

    res = _pipeline(args, ("restock",))
    out = Path(args.output)
    side = write_frame(res.locations, out.with_name(f"{out.stem}_locations.csv"))
    print(f"wrote {side} ({len(res.locations)} SKU x location rows for SKUs held in several locations)",
          file=sys.stderr)
    return _write(res.restock, args, "SKUs")


def _cmd_pricing(args: argparse.Namespace) -> int:
    return _write(_pipeline(args, ("pricing",)).pricing, args, "listings")


def _cmd_ads(args: argparse.Namespace) -> int:
    from workbench.policies.ads import ADS_COLUMNS, EXTRA_COLUMNS

    ads = _pipeline(args, ("ads",)).ads
    if ads is None:  # no ads table: an empty file with the columns
        import pandas as pd
        ads = pd.DataFrame(columns=ADS_COLUMNS + EXTRA_COLUMNS)
    return _write(ads, args, "campaigns")


def _as_of(args: argparse.Namespace):
    import pandas as pd

    try:
        return pd.Timestamp(date.fromisoformat(args.as_of))
    except ValueError:
        raise InputError(f"--as-of must be an ISO date YYYY-MM-DD, got {args.as_of!r}") from None


def _cmd_what_if(args: argparse.Namespace) -> int:
    from workbench.config import default_overrides
    from workbench.scenarios import run_what_if

    _guard_output(args.data, args.output, folder=True)
    comparison = run_what_if(Path(args.data), args.as_of, Path(args.scenarios), Path(args.output),
                             n_paths=args.paths, seed=args.seed, overrides=default_overrides(), weeks=args.weeks)
    for reason in comparison["reason"]:
        print(reason)
    print(f"wrote {Path(args.output) / 'comparison.csv'}", file=sys.stderr)
    return 0


def _cmd_risk(args: argparse.Namespace) -> int:
    from workbench.config import default_overrides
    from workbench.risk import run_risk

    _guard_output(args.data, args.output)
    res = run_risk(Path(args.data), args.as_of, Path(args.output), overrides=default_overrides())
    for name, path in res["paths"].items():
        print(f"wrote {path} ({res['counts'][name]} rows)", file=sys.stderr)
    print(res["model_verdict"], file=sys.stderr)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from workbench.importers import run_import

    result = run_import(args.source, Path(args.reports), Path(args.catalog) if args.catalog else None,
                        Path(args.out) if args.out else None, marketplace=args.marketplace, as_of=args.as_of,
                        template=Path(args.catalog_template) if args.catalog_template else None)
    print(result.describe(), file=sys.stderr)
    return 0


def _weeks(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 2 to 17, got {text!r}") from None
    if not 2 <= n <= 17:
        raise argparse.ArgumentTypeError(f"expected a whole number from 2 to 17 (the forecast covers 120 days), got {n}")
    return n


def _paths(text: str) -> int:
    from workbench.scenarios.spec import MAX_PATHS

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_PATHS:,}, got {text!r}") from None
    if not 1 <= n <= MAX_PATHS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_PATHS:,} (memory grows with "
                                         f"the paths), got {n:,}")
    return n


# `workbench backtest`'s default forecast schedule: models selected every quarter, the global model fitted
# every 4 weeks, refit weekly in between (docs/backtest.md "Forecast schedule"; benchmarks/results/
# backtest_faithfulness.md). workbench.backtest.Options keeps a full run every week (1, None).
SELECT_EVERY = 13
GLOBAL_REFIT_EVERY = 4


def _positive_weeks(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of weeks >= 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of weeks >= 1, got {n}")
    return n


def _cmd_backtest(args: argparse.Namespace) -> int:
    from workbench.backtest import Options, run_backtest

    start = _as_of(argparse.Namespace(as_of=args.start))
    policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    opts = Options(policies=policies, seed=args.seed, carrying_rate=args.carrying_rate,
                   forecast_every=args.forecast_every, fast_forecast=args.fast_forecast,
                   select_every=args.select_every, global_refit_every=args.global_refit_every if args.global_refit_every > 1 else None)
    res = run_backtest(Path(args.data), start, args.weeks, Path(args.output), opts, do_sweep=args.sweep)
    for reason in res["summary"]["reason"]:
        print(reason)
    if "frontier_sentence" in res:
        print(f"frontier: {res['frontier_sentence']}")
    print(f"wrote {', '.join(p.name for p in res['paths'].values())} to {args.output}", file=sys.stderr)
    return 0


def _data_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--data", required=True, help="dataset directory")
    s.add_argument("--as-of", required=True, help="decision date, YYYY-MM-DD")
    s.add_argument("--output", required=True, help="output file (.csv or .parquet)")


def _add_sample_data(sub) -> None:
    s = sub.add_parser("sample-data", help="write a realistic synthetic dataset (every table of the contract)")
    s.add_argument("--out", required=True, help="output directory (created; existing tables are replaced)")
    s.add_argument("--skus", type=int, default=40)
    s.add_argument("--years", type=float, default=2.0)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--end", default=None, help="last day of history, YYYY-MM-DD (default: the generator's fixed date)")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv")
    s.add_argument("--no-truth", action="store_true", help="leave out the truth/ folder (the generator's ground truth)")
    s.set_defaults(func=_cmd_sample_data)


def _add_validate(sub) -> None:
    s = sub.add_parser("validate", help="check a dataset directory against the contract")
    s.add_argument("data_dir")
    s.add_argument("--max-problems", type=int, default=50, help="problems listed per file and column (default 50)")
    s.set_defaults(func=_cmd_validate)


def _add_forecast(sub) -> None:
    s = sub.add_parser("forecast", help="forecast a long-format file unique_id, ds, y")
    s.add_argument("--input", required=True)
    s.add_argument("--horizon", type=int, required=True)
    s.add_argument("--freq", choices=("D", "W"), required=True)
    s.add_argument("--level", type=int, nargs="+", default=[80, 95])
    s.add_argument("--output", required=True)
    s.add_argument("--engine", choices=("local", "dask", "spark", "ray"), default="local")
    s.add_argument("--overrides", default=None, help="analyst overrides file (default: overrides.yaml beside the input, if any)")
    s.add_argument("--min-obs", type=int, default=1,
                   help="rows each series needs, fewer is an input error (default 1: a new SKU gets the "
                        "short-history fallback and its reason says so)")
    s.add_argument("--future", default=None,
                   help="known future regressors: unique_id, ds and the input's extra numeric columns (e.g. promo) "
                        "for the forecast dates")
    s.set_defaults(func=_cmd_forecast)


def _add_policy_commands(sub) -> None:
    """restock, pricing, ads and risk: one table from a dataset and an as-of date."""
    for name, func, what in (
            ("restock", _cmd_restock, "restock recommendations, one row per SKU (forecasts made on the way)"),
            ("pricing", _cmd_pricing, "price recommendations, one row per SKU x channel"),
            ("ads", _cmd_ads, "ad-budget recommendations, one row per campaign"),
            ("risk", _cmd_risk, "SKU risk table (hijack, stockout) with account health, alerts, feed, returns beside it")):
        s = sub.add_parser(name, help=what)
        _data_args(s)
        s.set_defaults(func=func)


def _add_what_if(sub) -> None:
    s = sub.add_parser("what-if", help="replay every scenario file week by week with the policies deciding; one "
                                       "comparison row each")
    s.add_argument("--data", required=True, help="dataset directory")
    s.add_argument("--as-of", required=True, help="decision date, YYYY-MM-DD")
    s.add_argument("--scenarios", required=True, help="folder of scenario YAML files (e.g. scenarios/peak-2026)")
    s.add_argument("--output", required=True, help="output folder (e.g. reports/what-if/peak-2026/2026-11-23)")
    s.add_argument("--paths", type=_paths, default=20, help="Monte Carlo paths per scenario, each replayed week by "
                   "week with the restock policy deciding (default 20, at most 10,000)")
    s.add_argument("--weeks", type=_weeks, default=None, help="simulated weeks (default: the forecast's 120 days, 17 weeks)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=_cmd_what_if)


def _add_backtest(sub) -> None:
    s = sub.add_parser("backtest", help="replay weekly decisions over the dataset's own history: workbench vs rule of thumb")
    s.add_argument("--data", required=True, help="dataset directory")
    s.add_argument("--start", required=True, help="first replayed day, YYYY-MM-DD (the policies see data before it)")
    s.add_argument("--weeks", type=int, required=True, help="weeks to replay")
    s.add_argument("--output", required=True, help="output folder (summary.csv, weekly.csv, skus.csv, orders.csv, chart.html)")
    s.add_argument("--policies", default="workbench,rule_of_thumb", help="comma-separated (default: workbench,rule_of_thumb)")
    s.add_argument("--seed", type=int, default=0, help="seed of the common lead-time draws (default 0)")
    s.add_argument("--sweep", action="store_true", help="also trace fill rate vs inventory for both (frontier.csv/.html)")
    s.add_argument("--carrying-rate", type=float, default=0.25, help="yearly carrying cost, share of inventory value (default 0.25)")
    s.add_argument("--forecast-every", type=_positive_weeks, default=1,
                   help="weeks between forecast refreshes (default 1, as the weekly run)")
    s.add_argument("--select-every", type=_positive_weeks, default=SELECT_EVERY,
                   help=f"weeks between full model selections (rolling-origin backtest of every candidate); the "
                        f"forecasts in between refit the chosen models on the newest history (default {SELECT_EVERY}; "
                        "1: a full engine run every week, exactly as the weekly run)")
    s.add_argument("--global-refit-every", type=_positive_weeks, default=GLOBAL_REFIT_EVERY,
                   help=f"weeks between fits of the global model; in between its last fit forecasts from the newest "
                        f"history (default {GLOBAL_REFIT_EVERY}; 1: a new fit at every forecast)")
    s.add_argument("--fast-forecast", action="store_true", help="forecast engine without its global model, one backtest window")
    s.set_defaults(func=_cmd_backtest)


def _add_weekly(sub) -> None:
    s = sub.add_parser("weekly", help="run the weekly notebooks, write reports/<as-of>/, send or save the email",
                       description="Exit codes: 0 delivered (or already delivered this week); 1 a step failed "
                                   "(an alert was sent or written); 2 the input data is unusable; 3 another run "
                                   "is in progress.")
    s.add_argument("--data", required=True, help="dataset directory")
    s.add_argument("--as-of", required=True, help="report date, YYYY-MM-DD (usually the Monday of the run)")
    s.add_argument("--reports", default="reports", help="reports folder (default: reports)")
    s.add_argument("--force", action="store_true", help="build and send again even if this week was delivered")
    s.set_defaults(func=_cmd_weekly)


def _add_import(sub) -> None:
    s = sub.add_parser("import", help="turn marketplace reports + your catalog sheet into a dataset (see docs/import.md)",
                       description="Files in --reports are recognised by their header. Merges into an existing "
                                   "dataset: new days are added, overlapping days replaced. Exit 2 on unusable input.")
    s.add_argument("source", choices=("amazon", "shopify"))
    s.add_argument("--reports", required=True, help="folder of downloaded reports (only read)")
    s.add_argument("--catalog", default=None, help="your catalog sheet (CSV, products columns)")
    s.add_argument("--out", default=None, help="dataset directory to create or merge into")
    s.add_argument("--marketplace", default=None, help="Amazon marketplace, e.g. amazon_us (default), amazon_uk")
    s.add_argument("--as-of", default=None, help="day of the inventory snapshots, which carry no date "
                                                 "(default: the last day of the imported orders)")
    s.add_argument("--catalog-template", default=None, metavar="FILE",
                   help="write a catalog template pre-filled from the reports instead of importing")
    s.set_defaults(func=_cmd_import)


# one adder per command, in the order `workbench --help` lists them
_COMMANDS = (_add_sample_data, _add_validate, _add_forecast, _add_policy_commands, _add_what_if, _add_backtest,
             _add_weekly, _add_import)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except WorkbenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())

"""Forecast a long frame or file: censored history -> classes -> backtest -> choice -> intervals.

The pipeline (``docs/forecasting.md`` has the why):

1. validate ``unique_id, ds, y[, in_stock]``, put each series on a regular grid;
2. impute demand on stockout periods (:mod:`.history`), report lost units;
3. classify demand (:mod:`.classify`, Syntetos-Boylan) and pick candidates per class (:mod:`.models`);
4. rolling-origin backtest (statsforecast ``cross_validation``, step = horizon) of every candidate plus
   the global event-aware model (:mod:`.gbm`) and an ensemble; choose by mean MASE (:mod:`.select`);
5. analyst overrides win (:mod:`.overrides`); series too short for a backtest get a fallback;
6. conformal intervals from the chosen model's backtest errors; one ``reason`` sentence per row.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from workbench.errors import InputError
from workbench.forecast._panel import SEASON, YEAR, freq_alias, group_bounds, step, window_mean
from workbench.forecast.classify import classify_demand
from workbench.forecast.engine import ENGINES, global_model_class, run_models
from workbench.forecast.gbm import ALIAS as GBM
from workbench.forecast.gbm import GlobalGBM
from workbench.forecast.history import WINDOW, impute_censored
from workbench.forecast.models import ANNUAL_AWARE, CLASS_GROUP, candidate_names, make_model
from workbench.forecast.overrides import load_overrides
from workbench.forecast.select import (add_ensemble, backtest_table, choose, combination_weights,
                                       conformal_quantiles, mase_scale, step_factors)
from workbench.config import overrides_path as config_overrides_path
from workbench.forecast.validation import exog_columns, read_long, regularize, validate_long
from workbench.io import write_frame


@dataclass
class ForecastResult:
    """Outputs of one forecast run (all long frames).

    - ``forecast``: unique_id, ds, model, yhat, yhat_lo_<L>, yhat_hi_<L>, reason
    - ``backtest``: unique_id, model, cutoff, mae, mase, bias, n_points (every candidate, every window)
    - ``classification``: unique_id, demand_class, adi, cv2, n_obs, nonzero_share, mean_demand
    - ``lost_units``: unique_id, stockout_periods, lost_units, observed_units
    - ``choices``: unique_id, demand_class, model, mase, mase_seasonal_naive, n_windows, source
    - ``history``: the corrected history (y, y_observed, censored) the models saw
    - ``ensembles``: {class group: [member models]}
    - ``cv``: the backtest predictions: unique_id, ds, cutoff, step, y, censored and every candidate
    - ``weights``: unique_id, model, weight: each series' ``Ensemble`` combination weights (from the backtest)
    - ``candidates``: unique_id, ds and the future forecast of every candidate (for the tuning notebook)
    - ``timings``: seconds per stage
    - ``errors``: the chosen models' backtest errors (:func:`.errors.backtest_errors`), kept when ``cv`` is
      dropped (a catalog forecast in SKU chunks keeps these, not every candidate's predictions)
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    classification: pd.DataFrame
    lost_units: pd.DataFrame
    choices: pd.DataFrame
    history: pd.DataFrame
    ensembles: dict = field(default_factory=dict)
    candidates: pd.DataFrame | None = None
    timings: dict = field(default_factory=dict)
    weights: pd.DataFrame | None = None
    cv: pd.DataFrame | None = None
    errors: pd.DataFrame | None = None
    selection: "KeptSelection | None" = None  # with forecast_frame(keep_selection=True): for refresh_forecast


def _check_params(horizon, freq, levels, engine, n_windows, selection):
    if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 1:
        raise InputError(f"horizon must be an integer >= 1, got {horizon!r}")
    if freq not in ("D", "W"):
        raise InputError(f"freq must be one of 'D', 'W', got {freq!r}")
    for L in levels:
        if not (isinstance(L, (int, np.integer)) and 0 < L < 100):
            raise InputError(f"level must be an integer in (0, 100), got {L!r}")
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not isinstance(n_windows, (int, np.integer)) or n_windows < 1:
        raise InputError(f"n_windows must be an integer >= 1, got {n_windows!r}")
    if selection not in ("series", "class"):
        raise InputError(f"selection must be one of 'series', 'class', got {selection!r}")


def _short_forecast(hist: pd.DataFrame, ids: list[str], horizon: int, freq: str, levels: list[int]) -> pd.DataFrame:
    """Fallback for new products: mean of the last 28 days / 8 weeks; normal interval from the observed spread.

        yhat = mean(y_last), sd = std(y_last) (sqrt(yhat) if fewer than 3 points, Poisson-like),
        interval = yhat ± z_L · sd · sqrt(1 + 1/n), floored at 0.
    """
    if not ids:
        return pd.DataFrame()
    w = WINDOW[freq]
    d = hist[hist["unique_id"].isin(ids)].groupby("unique_id").tail(w)
    g = d.groupby("unique_id")["y"]
    stats = pd.DataFrame({"yhat": g.mean(), "sd": g.std(ddof=1), "n": g.size(), "last": d.groupby("unique_id")["ds"].max()})
    stats["sd"] = np.where((stats["n"] >= 3) & stats["sd"].notna(), stats["sd"], np.sqrt(stats["yhat"]))
    st = pd.Timedelta(days=1 if freq == "D" else 7)
    out = pd.DataFrame({
        "unique_id": np.repeat(stats.index.to_numpy(), horizon),
        "ds": np.repeat(stats["last"].to_numpy(), horizon) + np.tile(np.arange(1, horizon + 1), len(stats)) * st,
        "yhat": np.repeat(stats["yhat"].to_numpy(), horizon),
    })
    width = np.repeat((stats["sd"] * np.sqrt(1 + 1 / stats["n"])).to_numpy(), horizon)
    for L in levels:
        z = norm.ppf(0.5 + L / 200)
        out[f"yhat_lo_{L}"] = np.maximum(out["yhat"] - z * width, 0)
        out[f"yhat_hi_{L}"] = out["yhat"] + z * width
    out["model"] = "ShortHistoryAverage"
    return out


def forecast_frame(df: pd.DataFrame, horizon: int, freq: str, levels=(80, 95), engine: str = "local",
                   overrides: dict | Path | None = None, events: pd.DataFrame | None = None,
                   n_windows: int = 3, selection: str = "class", use_global_model: bool = True,
                   seed: int = 0, n_jobs: int = -1, prime_days: dict | None = None,
                   source: str = "frame", validated: bool = False, min_obs: int = 1, margin: float = 0.0,
                   annual_guard: bool = True, future: pd.DataFrame | None = None,
                   global_model=None, keep_selection: bool = False) -> ForecastResult:
    """Forecast every series of ``df`` (long: ``unique_id, ds, y``, optional ``in_stock``).

    Parameters: ``horizon`` periods ahead; ``freq`` 'D' or 'W'; ``levels`` interval levels in (0, 100);
    ``engine`` one of local/dask/spark/ray (statsforecast models; the global model runs on the Dask
    cluster for 'dask' (:mod:`.distributed`), else in-process on a sample of rows);
    ``overrides`` {unique_id: {model, params, ...}} or a YAML path;
    ``events`` the dataset's events table; ``n_windows`` backtest windows (reduced automatically
    for short panels); ``selection`` 'series' (best model per series) or 'class' (best per demand class);
    ``use_global_model`` include :class:`GlobalGBM`; ``seed`` for the global model's row sample;
    ``min_obs`` rows a series needs, fewer is an input error (default 1: brand-new SKUs get the
    short-history fallback, as in ``forecast_file``, the CLI, unless ``--min-obs`` asks for more); ``margin`` how much better (fraction of MASE) a single
    model must backtest than the ensemble to be chosen over it; ``annual_guard`` restrict series whose
    horizon departed from its lead-in a year ago to models that know last year (see ``_annual_guard``);
    ``future`` known-in-advance regressors for the forecast dates (``unique_id, ds`` and the same extra
    numeric columns as ``df``, e.g. ``promo``, ``price``): the global model uses the extra columns of
    ``df`` only when ``future`` gives their values (backtest windows use the recorded ones).
    ``global_model``: an object with the :class:`GlobalGBM` ``forecast`` method to use instead of a new
    one (e.g. :class:`.chunks.SharedGlobalModel`, fitted once and applied to every SKU chunk).
    ``keep_selection``: keep what the selection decided (plan, choices, weights, backtest) in
    ``ForecastResult.selection``, so that :func:`refresh_forecast` can refit the chosen models on later
    history without backtesting again (default False: nothing more is kept).

    The steps, each a function below: :func:`prepare_history` -> :func:`plan_backtest` ->
    :func:`backtest_candidates` -> :func:`select_models` -> :func:`apply_overrides` ->
    :func:`chosen_forecast` (point + intervals) -> :func:`fallback_forecast` -> :func:`explain`.
    """
    levels = sorted({int(L) for L in levels}) if levels is not None else []
    _check_params(horizon, freq, levels, engine, n_windows, selection)
    if isinstance(overrides, (str, Path)):
        overrides = load_overrides(Path(overrides))
    overrides = overrides or {}
    clock = _Clock()
    grid, hist, lost, filled = prepare_history(df, freq, source=source, validated=validated, min_obs=min_obs,
                                               clock=clock)
    plan = plan_backtest(hist, freq, horizon, n_windows)
    clock.lap("classify")
    gbm = (global_model or global_model_class(engine)(freq, horizon, seed=seed, events=events, prime_days=prime_days)
           ) if use_global_model else None
    if future is not None:
        future = future.assign(unique_id=future["unique_id"].astype(str), ds=pd.to_datetime(future["ds"]))
    exog = exog_names(hist) if future is not None else []
    cv, fc, cand = backtest_candidates(grid, hist, plan, engine=engine, n_jobs=n_jobs, global_model=gbm, clock=clock,
                                       exog=exog, future=future)
    sel = Selection()
    if cv is not None:
        sel = select_models(cv, fc, cand, hist, plan, selection=selection, margin=margin,
                            annual_guard=annual_guard and use_global_model)
        sel = apply_overrides(sel, overrides, hist, plan, engine_jobs=1)
    parts = [chosen_forecast(sel, plan, levels)] if cv is not None else []
    parts += fallback_forecast(hist, plan, levels)
    forecast = pd.concat(parts, ignore_index=True).sort_values(["unique_id", "ds"]).reset_index(drop=True)
    clock.lap("select_intervals")
    choices = explain(plan, sel, lost, filled, overrides, freq)
    forecast = forecast.merge(choices[["unique_id", "reason"]], on="unique_id", how="left")
    clock.lap("reasons")
    kept = None
    if keep_selection and cv is not None and not overrides:
        kept = KeptSelection(plan=plan, sel=sel, cand=cand, levels=levels, n_windows=n_windows, engine=engine,
                             global_model=gbm, as_of=hist["ds"].max(),
                             selection=selection, margin=margin)
    return ForecastResult(forecast=forecast, backtest=sel.backtest.reset_index(drop=True),
                          classification=plan.classes, lost_units=lost, choices=choices, history=hist,
                          ensembles=sel.ensembles, candidates=sel.fc, timings=clock.timings, weights=sel.weights,
                          cv=sel.cv, selection=kept)


class _Clock:
    """Seconds per named stage (``ForecastResult.timings``)."""

    def __init__(self):
        self.t = time.perf_counter()
        self.timings: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self.t
        self.t = now


def prepare_history(df: pd.DataFrame, freq: str, source: str = "frame", validated: bool = False,
                    min_obs: int = 1, clock: _Clock | None = None):
    """Validate, put on a regular grid, impute censored periods from both sides of each gap.

    Returns (grid: the regular grid before imputation, hist: the corrected history, lost units per
    series, filled periods per series). Backtests re-impute from ``grid`` window by window.
    """
    clock = clock or _Clock()
    clean = df if validated else validate_long(df, freq, source=source, min_obs=min_obs)
    grid, filled = regularize(clean, freq)
    clock.lap("validate")
    hist, lost = impute_censored(grid, freq)
    clock.lap("censored_demand")
    return grid, hist, lost, filled


@dataclass
class BacktestPlan:
    """What the backtest runs: windows, the history a series needs, classes and candidate groups."""

    freq: str
    horizon: int
    n_win: int
    need: int
    classes: pd.DataFrame
    cls_of: pd.Series
    group_of: pd.Series
    scale: pd.Series

    @property
    def m(self) -> int:
        return SEASON[self.freq]


def plan_backtest(hist: pd.DataFrame, freq: str, horizon: int, n_windows: int) -> BacktestPlan:
    """As many windows as the typical series allows (at most ``n_windows``); a seasonal model needs
    m (weekly) or 2m (daily) points to train; series shorter than that plus the windows are ``short``."""
    m = SEASON[freq]
    min_train = m if freq == "W" else 2 * m
    lengths = hist.groupby("unique_id").size()
    n_win = int(min(n_windows, max(1, (int(lengths.median()) - min_train) // horizon)))
    need = min_train + n_win * horizon
    classes = classify_demand(hist, freq, min_obs=need)
    cls_of = classes.set_index("unique_id")["demand_class"]
    return BacktestPlan(freq=freq, horizon=horizon, n_win=n_win, need=need, classes=classes, cls_of=cls_of,
                        group_of=cls_of.map(CLASS_GROUP), scale=mase_scale(hist, m))


BASE_COLUMNS = ("unique_id", "ds", "y", "in_stock", "y_observed", "censored", "closed")


def exog_names(hist: pd.DataFrame) -> list[str]:
    """The input's extra numeric columns (known-in-advance regressors, see ``validation.exog_columns``)."""
    return [c for c in hist.columns if c not in BASE_COLUMNS and pd.api.types.is_numeric_dtype(hist[c])]


def _forecast_candidates(hist: pd.DataFrame, plan: BacktestPlan, cand: dict, engine: str, n_jobs: int,
                         global_model, exog=(), future: pd.DataFrame | None = None) -> pd.DataFrame:
    """Wide future forecast (``unique_id, ds, <model>...``) of every candidate from ``hist``."""
    alias = freq_alias(plan.freq, hist["ds"])
    parts = []
    for grp, names in cand.items():
        sub = hist[hist["unique_id"].map(plan.group_of).eq(grp).to_numpy()]
        if len(sub) == 0:
            continue
        models = [make_model(n, plan.m, plan.horizon) for n in names if n != GBM]
        _, fc = run_models(sub, models, alias, plan.horizon, 0, engine=engine, n_jobs=n_jobs)
        parts.append(fc)
    fc = pd.concat(parts, ignore_index=True)
    if global_model is not None:
        panel = hist[hist["unique_id"].map(plan.group_of).notna().to_numpy()][["unique_id", "ds", "y", "censored", *exog]]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            gfc = global_model.forecast(panel, future=future, exog=exog)
        fc = fc.merge(gfc, on=["unique_id", "ds"], how="left")
        # a series the global model could not score falls back to its group's first model
        first = fc["unique_id"].map(plan.group_of).map({g: n[0] for g, n in cand.items()})
        fc[GBM] = fc[GBM].fillna(pd.Series(_pick(fc.assign(model=first), list(dict.fromkeys(first))), index=fc.index))
    return fc


def backtest_candidates(grid: pd.DataFrame, hist: pd.DataFrame, plan: BacktestPlan, engine: str = "local",
                        n_jobs: int = -1, global_model=None, clock: _Clock | None = None, exog=(),
                        future: pd.DataFrame | None = None):
    """Rolling-origin backtest (step = horizon) and the future forecast of every candidate.

    Each window's training history is the series cut at its cutoff and imputed again from that cut
    only (:func:`impute_censored` looks at both sides of a gap, so the full-history imputation would
    let a window see sales after its cutoff). Known-in-advance regressors ``exog`` of a window's
    horizon are the recorded ones; of the future, ``future``'s. Returns (cv: ``unique_id, ds, cutoff, step, y,
    censored, <model>...`` or None when no series is backtestable, fc: wide future forecast, cand:
    {class group: [candidate names]}).
    """
    clock = clock or _Clock()
    cand = {}
    for grp in ("continuous", "intermittent"):
        if plan.group_of.eq(grp).any():
            cand[grp] = list(candidate_names(grp, plan.freq)) + ([GBM] if global_model is not None else [])
    if not cand:
        return None, None, cand
    ids = plan.group_of.index[plan.group_of.notna()]
    sub = grid[grid["unique_id"].isin(ids)]
    rev = sub.groupby("unique_id", sort=False).cumcount(ascending=False).to_numpy()
    truth = hist[["unique_id", "ds", "y", "censored"]]
    st = step(plan.freq)
    cv_parts = []
    for k in range(plan.n_win, 0, -1):
        train, _ = impute_censored(sub[rev >= k * plan.horizon], plan.freq)
        ahead = sub[(rev < k * plan.horizon) & (rev >= (k - 1) * plan.horizon)][["unique_id", "ds", *exog]]
        fc_k = _forecast_candidates(train, plan, cand, engine, n_jobs, global_model, exog, ahead)
        cut = train.groupby("unique_id", sort=False)["ds"].max().rename("cutoff")
        fc_k = fc_k.merge(cut, left_on="unique_id", right_index=True)
        fc_k["step"] = ((fc_k["ds"] - fc_k["cutoff"]) / st).round().astype(int)
        cv_parts.append(fc_k.merge(truth, on=["unique_id", "ds"], how="inner"))
    clock.lap("backtest")
    fc = _forecast_candidates(hist[hist["unique_id"].isin(ids)], plan, cand, engine, n_jobs, global_model, exog,
                              future)
    clock.lap("forecast")
    cv = pd.concat(cv_parts, ignore_index=True)
    cv["censored"] = cv["censored"].fillna(False).astype(bool)
    return cv, fc, cand


@dataclass
class Selection:
    """The backtest table, the chosen model per series, the candidate frames and the ensembles."""

    backtest: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["unique_id", "model", "cutoff", "mae", "bias", "n_points", "mase", "eligible"]))
    # no series long enough for a backtest (new seller, or a run long after the data): every series
    # takes the short-history or zero fallback, and the choices table keeps its columns
    chosen: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["unique_id", "model", "mase", "n_windows", "source", "annual_guard"]))
    cv: pd.DataFrame | None = None
    fc: pd.DataFrame | None = None
    ensembles: dict = field(default_factory=dict)
    all_models: list = field(default_factory=list)
    weights: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["unique_id", "model", "weight"]))


def select_models(cv: pd.DataFrame, fc: pd.DataFrame, cand: dict, hist: pd.DataFrame, plan: BacktestPlan,
                  selection: str = "class", margin: float = 0.0, annual_guard: bool = True) -> Selection:
    """Score every candidate per window, add the ensembles, apply the annual guard, choose per series/class."""
    all_models = sorted({n for v in cand.values() for n in v})
    for c in all_models:
        if c not in cv:
            cv[c] = np.nan
            fc[c] = np.nan
    table = backtest_table(cv, all_models, plan.scale).dropna(subset=["mase"])
    weights = combination_weights(table, plan.group_of, cand)
    add_ensemble(cv, fc, weights)
    ensembles = {g: sorted(weights.loc[weights["unique_id"].map(plan.group_of).eq(g), "model"].unique())
                 for g in cand}
    annual = [c for c in ANNUAL_AWARE[plan.freq] if c in all_models] if annual_guard else []
    if len(annual) < 2 or GBM not in all_models:
        annual = []
    if annual:
        cv["AnnualEnsemble"] = cv[annual].mean(axis=1)
        fc["AnnualEnsemble"] = fc[annual].mean(axis=1)
        ensembles["annual"] = annual
    extra = ["Ensemble"] + (["AnnualEnsemble"] if annual else [])
    table = pd.concat([table, backtest_table(cv, extra, plan.scale)], ignore_index=True)
    # only a group's own candidates are eligible for its series; a series whose horizon held a peak
    # last year (annual guard) may only use models that know last year's pattern
    guarded = _guard_set(hist, plan) if annual else set()
    backtest, chosen = _choose_pools(table.reset_index(drop=True), plan, cand, annual, guarded, selection, margin)
    return Selection(backtest=backtest, chosen=chosen, cv=cv, fc=fc, ensembles=ensembles, all_models=all_models,
                     weights=weights)


def _choose_pools(table: pd.DataFrame, plan: BacktestPlan, cand: dict, annual: list, guarded: set, selection: str,
                  margin: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mark each backtest row eligible or not (a group's own candidates and the ensemble; for a series the
    annual guard restricts, ``guarded``, only the models that know last year) and choose per series or
    pool. Returns (backtest with ``eligible``, chosen)."""
    is_guarded = np.isin(table["unique_id"].to_numpy(), list(guarded))
    own = np.array([m_ in cand.get(g, []) for m_, g in zip(table["model"], table["unique_id"].map(plan.group_of))],
                   dtype=bool)
    own |= table["model"].eq("Ensemble").to_numpy()
    backtest = table.drop(columns="eligible", errors="ignore")
    backtest["eligible"] = np.where(is_guarded, table["model"].isin(annual + ["AnnualEnsemble"]).to_numpy(), own)
    # guarded series form their own pool so that per-class selection stays within their eligible models
    pool = plan.group_of.where(~plan.group_of.index.isin(list(guarded)), plan.group_of + "/annual")
    chosen = choose(backtest[backtest["eligible"]], pool, selection, margin=margin)
    chosen["source"] = "backtest"
    chosen["annual_guard"] = chosen["unique_id"].isin(guarded)
    return backtest, chosen


def _guard_set(hist: pd.DataFrame, plan: BacktestPlan) -> set:
    """The continuous series the annual guard restricts to models that know last year (``_annual_guard``)."""
    guard = (_annual_guard(hist, plan.horizon, plan.freq, **GUARD[plan.freq])
             & plan.group_of.reindex(plan.cls_of.index).eq("continuous"))
    return set(guard.index[guard])


@dataclass
class KeptSelection:
    """What one full run decided, kept for :func:`refresh_forecast`: the plan (classes, MASE scales,
    windows), the selection (choices, combination weights, backtest predictions), the candidate names per
    class group, the interval levels, the global model object, the history's last day and the choice rule."""

    plan: BacktestPlan
    sel: Selection
    cand: dict
    levels: list
    n_windows: int
    engine: str
    global_model: object
    as_of: pd.Timestamp
    selection: str = "class"
    margin: float = 0.0


def refresh_forecast(prev: ForecastResult, df: pd.DataFrame, n_jobs: int = -1, future: pd.DataFrame | None = None,
                     source: str = "frame", validated: bool = False, min_obs: int = 1) -> ForecastResult | None:
    """Refit the models a full run chose on new history, without backtesting again ("select periodically,
    refit often", as production forecasting systems commonly run).

    ``prev``: a :func:`forecast_frame` result made with ``keep_selection=True`` (or an earlier refresh);
    ``df``: the new history of the same series (same long format). Kept from ``prev``'s full run: the
    demand classes and class groups, the backtest (so the backtest errors, ``cv``, are ``prev``'s), the
    ensemble weights and the conformal interval widths. Done again on ``df``: the censored-demand
    correction, the annual guard (it looks at last year's horizon, which moves every day) and so each
    pool's choice from the kept backtest, then every candidate of each class group (and the global model,
    through the object the full run used) fitted on ``df`` and forecast. Short and inactive series keep
    their fallback. Returns None when a full run is needed: ``prev`` kept no selection (no backtestable
    series, or analyst overrides) or ``df`` holds other series. Each reason names the selection's date.
    """
    kept = getattr(prev, "selection", None)
    if kept is None:
        return None
    plan, freq, clock = kept.plan, kept.plan.freq, _Clock()
    grid, hist, lost, filled = prepare_history(df, freq, source=source, validated=validated, min_obs=min_obs,
                                               clock=clock)
    if set(hist["unique_id"].unique()) != set(plan.cls_of.index):
        return None
    old = kept.sel
    annual = old.ensembles.get("annual") or []
    guarded = _guard_set(hist, plan) if annual else set()
    backtest, chosen = _choose_pools(old.backtest, plan, kept.cand, annual, guarded, kept.selection, kept.margin)
    clock.lap("classify")
    if future is not None:
        future = future.assign(unique_id=future["unique_id"].astype(str), ds=pd.to_datetime(future["ds"]))
    exog = exog_names(hist) if future is not None else []
    ids = plan.group_of.index[plan.group_of.notna()]
    fc = _forecast_candidates(hist[hist["unique_id"].isin(ids)], plan, kept.cand, kept.engine, n_jobs,
                              kept.global_model, exog, future)
    for c in old.all_models:
        if c not in fc:
            fc[c] = np.nan
    add_ensemble(fc.iloc[:0].copy(), fc, old.weights)
    if annual:
        fc["AnnualEnsemble"] = fc[annual].mean(axis=1)
    clock.lap("forecast")
    sel = Selection(backtest=backtest, chosen=chosen, cv=old.cv, fc=fc, ensembles=old.ensembles,
                    all_models=old.all_models, weights=old.weights)
    parts = [chosen_forecast(sel, plan, kept.levels)] + fallback_forecast(hist, plan, kept.levels)
    forecast = pd.concat(parts, ignore_index=True).sort_values(["unique_id", "ds"]).reset_index(drop=True)
    clock.lap("select_intervals")
    choices = explain(plan, sel, lost, filled, {}, freq)
    refit = choices["source"].eq("backtest")  # the source stays "backtest": the errors are that backtest's
    choices.loc[refit, "reason"] += (f"; selection of {kept.as_of:%Y-%m-%d} kept, model refit on history to "
                                     f"{hist['ds'].max():%Y-%m-%d}")
    forecast = forecast.merge(choices[["unique_id", "reason"]], on="unique_id", how="left")
    clock.lap("reasons")
    return ForecastResult(forecast=forecast, backtest=backtest, classification=plan.classes, lost_units=lost,
                          choices=choices, history=hist, ensembles=sel.ensembles, candidates=fc,
                          timings=clock.timings, weights=sel.weights, cv=sel.cv, selection=kept)


def apply_overrides(sel: Selection, overrides: dict, hist: pd.DataFrame, plan: BacktestPlan,
                    engine_jobs: int = 1) -> Selection:
    """Analyst overrides win; a model outside the candidate set (or with other parameters) is
    backtested (same cutoffs, on the corrected history) and forecast for its series only."""
    cv, fc, backtest = sel.cv, sel.fc, sel.backtest
    ov = {k: v for k, v in overrides.items() if k in set(cv["unique_id"])}
    if not ov:
        return sel
    alias = freq_alias(plan.freq, hist["ds"])
    extra_runs: dict = {}
    for uid, entry in ov.items():
        name = entry["model"]
        if name in ("GlobalGBM", "Ensemble", "AnnualEnsemble") or (name in sel.all_models and not entry.get("params")):
            continue
        key = (name, tuple(sorted(entry["params"].items())))
        extra_runs.setdefault(key, []).append(uid)
    for (name, params), uids in extra_runs.items():
        sub = hist[hist["unique_id"].isin(uids)]
        col = f"override:{name}"
        ecv, efc = run_models(sub, [make_model(name, plan.m, plan.horizon, **dict(params))], alias, plan.horizon,
                              plan.n_win, engine="local", n_jobs=engine_jobs)
        cv = cv.merge(ecv[["unique_id", "ds", "cutoff", name]].rename(columns={name: col}),
                      on=["unique_id", "ds", "cutoff"], how="left")
        fc = fc.merge(efc[["unique_id", "ds", name]].rename(columns={name: col}), on=["unique_id", "ds"], how="left")
        for uid in uids:
            ov[uid] = {**ov[uid], "_column": col}
        backtest = pd.concat([backtest, backtest_table(cv[cv["unique_id"].isin(uids)], [col], plan.scale)],
                             ignore_index=True)
    per = backtest.groupby(["unique_id", "model"])["mase"].mean()
    chosen = sel.chosen.set_index("unique_id")
    for uid, entry in ov.items():
        col = entry.get("_column", entry["model"])
        if col not in fc.columns or fc.loc[fc["unique_id"] == uid, col].isna().all():
            continue  # e.g. AnnualEnsemble when no series needs it: the backtest choice stands
        chosen.loc[uid, ["model", "mase", "source"]] = [col, per.get((uid, col), np.nan), "override"]
    return Selection(backtest=backtest, chosen=chosen.reset_index(), cv=cv, fc=fc, ensembles=sel.ensembles,
                     all_models=sel.all_models, weights=sel.weights)


def chosen_forecast(sel: Selection, plan: BacktestPlan, levels: list[int]) -> pd.DataFrame:
    """Point forecast of each series' chosen model and split-conformal intervals calibrated per
    horizon step (:func:`.select.conformal_quantiles`, :func:`.select.step_factors`)."""
    col_of = sel.chosen.set_index("unique_id")["model"]
    cols = list(dict.fromkeys(col_of.tolist()))
    fc_sel = sel.fc[sel.fc["unique_id"].isin(col_of.index)].copy()
    fc_sel["model"] = fc_sel["unique_id"].map(col_of)
    fc_sel["yhat"] = np.maximum(_pick(fc_sel, cols), 0.0)
    cv_sel = sel.cv[~sel.cv["censored"] & sel.cv["unique_id"].isin(col_of.index)].copy()
    cv_sel["model"] = cv_sel["unique_id"].map(col_of)
    cv_sel["yhat"] = _pick(cv_sel, cols)
    # errors relative to max(forecast, scale): proportional for busy series, scale-based for slow movers
    scale = cv_sel["unique_id"].map(plan.scale)
    cv_sel["score"] = (cv_sel["y"] - cv_sel["yhat"]).abs() / np.maximum(cv_sel["yhat"].clip(lower=0), scale)
    cv_sel = cv_sel.dropna(subset=["score"])
    last = fc_sel.groupby("unique_id")["ds"].transform("min") - step(plan.freq)
    fc_sel["step"] = ((fc_sel["ds"] - last) / step(plan.freq)).round().astype(int)
    sc = np.maximum(fc_sel["yhat"].to_numpy(), fc_sel["unique_id"].map(plan.scale).to_numpy())
    if levels:
        q = conformal_quantiles(cv_sel[["unique_id", "score"]], levels, plan.cls_of)
        f = step_factors(cv_sel[["unique_id", "step", "score"]], levels, plan.cls_of, plan.horizon)
        key = pd.MultiIndex.from_arrays([fc_sel["unique_id"].map(plan.cls_of), fc_sel["step"]])
        q_prev = np.zeros(len(fc_sel))
        for L in levels:  # ascending: a wider level never gets a narrower interval
            qL = fc_sel["unique_id"].map(q[f"q_{L}"]).fillna(q[f"q_{L}"].median()).to_numpy()
            qL = np.maximum(qL * f[f"f_{L}"].reindex(key).fillna(1.0).to_numpy(), q_prev)
            q_prev = qL
            fc_sel[f"yhat_lo_{L}"] = np.maximum(fc_sel["yhat"] - qL * sc, 0.0)
            fc_sel[f"yhat_hi_{L}"] = fc_sel["yhat"] + qL * sc
    shown = pd.Series(cols, index=cols).str.replace("override:", "", regex=False)  # per model, not per row
    fc_sel["model"] = fc_sel["model"].map(shown)
    return fc_sel[["unique_id", "ds", "model", "yhat"] + [f"yhat_{s}_{L}" for L in levels for s in ("lo", "hi")]]


def fallback_forecast(hist: pd.DataFrame, plan: BacktestPlan, levels: list[int]) -> list[pd.DataFrame]:
    """Short series get :func:`_short_forecast`; inactive series (no demand in the lookback) a zero."""
    out = []
    short_ids = plan.cls_of.index[plan.cls_of == "short"].tolist()
    sf = _short_forecast(hist, short_ids, plan.horizon, plan.freq, levels)
    if len(sf):
        out.append(sf)
    inactive = plan.cls_of.index[plan.cls_of == "inactive"].tolist()
    if inactive:
        last = hist[hist["unique_id"].isin(inactive)].groupby("unique_id")["ds"].max()
        h = plan.horizon
        z = pd.DataFrame({"unique_id": np.repeat(last.index.to_numpy(), h),
                          "ds": np.repeat(last.to_numpy(), h) + np.tile(np.arange(1, h + 1), len(last)) * step(plan.freq),
                          "model": "Zero", "yhat": 0.0})
        for L in levels:
            z[f"yhat_lo_{L}"] = 0.0
            z[f"yhat_hi_{L}"] = 0.0
        out.append(z)
    return out


def explain(plan: BacktestPlan, sel: Selection, lost: pd.DataFrame, filled, overrides: dict, freq: str) -> pd.DataFrame:
    """The choices table: class, chosen model, its MASE and seasonal naive's, source, one reason per series."""
    backtest = sel.backtest
    snaive = (backtest[backtest["model"] == "SeasonalNaive"].groupby("unique_id")["mase"].mean()
              if len(backtest) else pd.Series(dtype=float))
    ch = plan.classes[["unique_id", "demand_class", "n_obs"]].merge(sel.chosen, on="unique_id", how="left")
    ch["model"] = ch["model"].fillna(ch["demand_class"].map({"short": "ShortHistoryAverage", "inactive": "Zero"}))
    ch["model"] = ch["model"].str.replace("override:", "", regex=False)
    ch["source"] = ch["source"].fillna("fallback")
    ch["mase_seasonal_naive"] = ch["unique_id"].map(snaive)
    ch = ch.merge(lost, on="unique_id", how="left")
    ch["filled_periods"] = ch["unique_id"].map(filled).fillna(0).astype(int) if filled is not None else 0
    w = sel.weights.sort_values(["unique_id", "weight"], ascending=[True, False])
    w_txt = (w["model"] + " " + w["weight"].map("{:.2f}".format)).groupby(w["unique_id"]).agg(", ".join)
    ch["weights"] = ch["unique_id"].map(w_txt)
    ch["reason"] = [_reason(r, sel.ensembles, overrides, plan.need, freq) for r in ch.itertuples(index=False)]
    return ch


# Daily series are noisier and have more periods in a horizon: demand a larger departure.
GUARD = {"W": {"peak": 1.5, "shift": 1.25}, "D": {"peak": 2.0, "shift": 1.5}}


def _annual_guard(hist: pd.DataFrame, horizon: int, freq: str, peak: float = 1.5, shift: float = 1.25) -> pd.Series:
    """True for series whose same horizon one year ago departed from its lead-in level.

    With a = y over [T+1-Y, T+h-Y] (last year's horizon) and b = mean y over [T-Y-h+1, T-Y] (its lead-in),
    the guard fires when max(rolling-mean(a, 7 days / 1 week)) >= peak·b or mean(a)/b is outside
    [1/shift, shift] (weekly 1.5 and 1.25, daily 2.0 and 1.5: ``GUARD``), in each case only if the difference is at least 3 Poisson standard errors
    (sqrt(b/7) for a 7-day mean, sqrt(2b/h) for the horizon mean), so noise in slow movers does not fire it. Backtest windows before a peak season contain no peak, so they cannot tell which
    models will miss it; last year can. Y = 364 days / 52 weeks.
    """
    Y = YEAR[freq]
    y = hist["y"].to_numpy(dtype=float)
    start, end = group_bounds(hist["unique_id"].to_numpy())
    last = end - 1
    S = 7 if freq == "D" else 1
    # evaluate at each series' last row only
    rows = np.unique(last)
    rel_ok = (rows - start[rows]) >= Y + horizon
    lead = window_mean(y, start, end, -Y - horizon + 1, -Y)[rows]
    ahead = window_mean(y, start, end, -Y + 1, -Y + horizon)[rows]
    roll = window_mean(y, start, end, -S + 1, 0)  # rolling mean ending at each row
    idx = rows[:, None] + np.arange(-Y + S, -Y + horizon + 1)[None, :]
    idx = np.clip(idx, 0, len(y) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: series too short, masked below
        peak_val = np.nanmax(roll[idx], axis=1) if horizon >= S else ahead
    with np.errstate(invalid="ignore", divide="ignore"):
        # a departure must also stand out of Poisson noise: 3 standard errors of the compared means
        z_peak = (peak_val - lead) / np.sqrt(lead / S)
        z_mean = np.abs(ahead - lead) / np.sqrt(2 * lead / horizon)
        fire = (((peak_val >= peak * lead) & (z_peak >= 3))
                | (((ahead / lead > shift) | (ahead / lead < 1 / shift)) & (z_mean >= 3)))
    fire = fire & rel_ok & (lead > 0)
    return pd.Series(fire, index=hist["unique_id"].to_numpy()[rows])


def _pick(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """frame[frame.model][row] for each row, without a Python loop over rows."""
    values = frame[cols].to_numpy(dtype=float)
    idx = pd.Index(cols).get_indexer(frame["model"])
    return values[np.arange(len(frame)), idx]


def _reason(r, ensembles: dict, overrides: dict, need: int, freq: str) -> str:
    unit = "days" if freq == "D" else "weeks"
    tail = ""
    if getattr(r, "stockout_periods", 0):
        tail = f"; {int(r.stockout_periods)} stockout {unit} imputed ({r.lost_units:.0f} lost units estimated)"
    if getattr(r, "filled_periods", 0):
        tail += f"; {int(r.filled_periods)} missing {unit} read as zero sales"
    if getattr(r, "closed_periods", 0):
        tail += f"; {int(r.closed_periods)} closed {unit} (missing from every series) not read as demand or zero"
    cls = r.demand_class
    if r.source == "fallback":
        if cls == "inactive":
            return f"Zero forecast: no demand in the last {365 if freq == 'D' else 104} {unit}{tail}"
        return (f"ShortHistoryAverage fallback for a new or short series ({int(r.n_obs)} {unit} of history, "
                f"{need} needed for a backtest){tail}")
    name = r.model
    if name == "Ensemble":
        name = f"Ensemble (backtest-weighted: {getattr(r, 'weights', '')})"
    elif name == "AnnualEnsemble":
        name = f"AnnualEnsemble (mean of {', '.join(ensembles.get('annual', []))})"
    if getattr(r, "annual_guard", False) is True:
        tail = ("; limited to models that know last year's pattern because this period last year "
                "departed from its lead-in level") + tail
    sn = "" if pd.isna(r.mase_seasonal_naive) else f" vs seasonal naive {r.mase_seasonal_naive:.2f}"
    score = "n/a" if pd.isna(r.mase) else f"{r.mase:.2f}"
    nw = 0 if pd.isna(r.n_windows) else int(r.n_windows)
    if r.source == "override":
        o = overrides.get(r.unique_id, {})
        return (f"{name} set by analyst override ({o.get('who', '?')}, {str(o.get('when', '?'))[:10]}: "
                f"{o.get('why', '')!s}); backtest MASE {score}{sn} ({nw} windows){tail}")
    return f"{name} chosen for {cls} series by backtest MASE {score}{sn} ({nw} windows){tail}"


def forecast_file(input_path: Path, horizon: int, freq: str, levels: list[int], output_path: Path,
                  engine: str = "local", overrides_path: Path | None = None, min_obs: int = 1,
                  future_path: Path | None = None) -> ForecastResult:
    """The ``workbench forecast`` command: read CSV/Parquet, forecast, write CSV/Parquet atomically.

    ``min_obs``: rows a series needs; fewer is a ``file:row:column`` input error. The default 1 gives a
    new SKU the short-history fallback (its reason says so) instead of refusing the whole file.
    ``future_path``: CSV/Parquet ``unique_id, ds`` plus the input's extra numeric columns (promotion
    flags, planned prices) for the forecast dates: known-in-advance regressors of the global model.

    Without ``overrides_path``, ``overrides.yaml`` beside the input is used when it exists, else the
    project's overrides file (:func:`workbench.config.overrides_path`) when it exists.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"output must end in .csv or .parquet, got {output_path.name!r}")
    raw = read_long(input_path)
    if not isinstance(min_obs, (int, np.integer)) or isinstance(min_obs, bool) or min_obs < 1:
        raise InputError(f"min_obs must be an integer >= 1, got {min_obs!r}")
    clean = validate_long(raw, freq, source=str(input_path), min_obs=min_obs)
    if overrides_path is None and (input_path.parent / "overrides.yaml").exists():
        overrides_path = input_path.parent / "overrides.yaml"
    if overrides_path is None and config_overrides_path().is_file():
        overrides_path = config_overrides_path()
    future = read_future(Path(future_path), freq, regressors=list(exog_columns(raw))) if future_path else None
    result = forecast_frame(clean, horizon, freq, levels or [], engine=engine,
                            overrides=load_overrides(overrides_path) if overrides_path else None,
                            source=str(input_path), validated=True, future=future)
    out = result.forecast.copy()
    out["ds"] = out["ds"].dt.strftime("%Y-%m-%d")
    write_frame(out, output_path)
    return result


def read_future(path: Path, freq: str, regressors: list[str] | None = None) -> pd.DataFrame:
    """The ``--future`` file: ``unique_id, ds`` and numeric regressor columns, checked like the input.

    ``regressors``: the input's regressor columns; each must be in the file with a number (or an empty
    cell, read as 0) on every row, else a ``file:row:column`` error (a regressor silently read as 0 on
    the forecast dates would forecast every planned promotion as an ordinary day). A repeated
    ``unique_id, ds`` is an error too.
    """
    raw = read_long(path)
    missing = [c for c in ("unique_id", "ds", *(regressors or [])) if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: missing required column(s) {', '.join(missing)}",
                         [f"{path}:1:{c}: required column is missing"
                          + (" (a regressor of the input)" if c in (regressors or []) else "") for c in missing])
    ds = pd.to_datetime(raw["ds"], errors="coerce", format="mixed") if raw["ds"].dtype == object else pd.to_datetime(raw["ds"], errors="coerce")
    problems = [f"{path}:{i + 2}:ds: expected a date YYYY-MM-DD, got {str(raw['ds'].iloc[i])!r}"
                for i in np.flatnonzero(ds.isna().to_numpy())[:20]]
    for c in regressors or []:
        col = raw[c]
        blank = col.isna() | col.astype(str).str.strip().isin(["", "nan", "None", "<NA>"])
        bad = np.flatnonzero((pd.to_numeric(col.where(~blank), errors="coerce").isna() & ~blank).to_numpy())
        problems += [f"{path}:{i + 2}:{c}: expected a number (a known future value of the regressor), "
                     f"got {str(col.iloc[i])!r}" for i in bad[:20]]
    out = pd.DataFrame({"unique_id": raw["unique_id"].astype(str).str.strip(), "ds": ds})
    dup = np.flatnonzero(out.duplicated(["unique_id", "ds"]).to_numpy() & ds.notna().to_numpy())
    problems += [f"{path}:{i + 2}:unique_id,ds: duplicate row for ({out['unique_id'].iloc[i]}, "
                 f"{out['ds'].iloc[i]:%Y-%m-%d})" for i in dup[:20]]
    if problems:
        raise InputError(f"{path}: {len(problems)} problem(s) in the future regressors file", problems)
    for c, values in exog_columns(raw).items():
        out[c] = values.to_numpy()
    return out

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
from workbench.forecast._panel import SEASON, YEAR, freq_alias, group_bounds, window_mean
from workbench.forecast.classify import classify_demand
from workbench.forecast.engine import ENGINES, run_models
from workbench.forecast.gbm import ALIAS as GBM
from workbench.forecast.gbm import GlobalGBM
from workbench.forecast.history import WINDOW, impute_censored
from workbench.forecast.models import ANNUAL_AWARE, CLASS_GROUP, candidate_names, make_model
from workbench.forecast.overrides import load_overrides
from workbench.forecast.select import (add_ensemble, backtest_table, choose, conformal_quantiles,
                                       mase_scale)
from workbench.config import overrides_path as config_overrides_path
from workbench.forecast.validation import read_long, regularize, validate_long
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
    - ``candidates``: unique_id, ds and the future forecast of every candidate (for the tuning notebook)
    - ``timings``: seconds per stage
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
                   annual_guard: bool = True) -> ForecastResult:
    """Forecast every series of ``df`` (long: ``unique_id, ds, y``, optional ``in_stock``).

    Parameters: ``horizon`` periods ahead; ``freq`` 'D' or 'W'; ``levels`` interval levels in (0, 100);
    ``engine`` one of local/dask/spark/ray (statsforecast models; the global model always runs
    in-process on a sample of rows); ``overrides`` {unique_id: {model, params, ...}} or a YAML path;
    ``events`` the dataset's events table; ``n_windows`` backtest windows (reduced automatically
    for short panels); ``selection`` 'series' (best model per series) or 'class' (best per demand class);
    ``use_global_model`` include :class:`GlobalGBM`; ``seed`` for the global model's row sample;
    ``min_obs`` rows a series needs, fewer is an input error (default 1: brand-new SKUs get the
    short-history fallback; ``forecast_file``, the CLI, asks for 3); ``margin`` how much better (fraction of MASE) a single
    model must backtest than the ensemble to be chosen over it; ``annual_guard`` restrict series whose
    horizon departed from its lead-in a year ago to models that know last year (see ``_annual_guard``).
    """
    levels = sorted({int(L) for L in levels}) if levels is not None else []
    _check_params(horizon, freq, levels, engine, n_windows, selection)
    if isinstance(overrides, (str, Path)):
        overrides = load_overrides(Path(overrides))
    overrides = overrides or {}
    clock = {"t": time.perf_counter()}
    timings: dict[str, float] = {}

    def lap(stage: str) -> None:
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock["t"]
        clock["t"] = now

    clean = df if validated else validate_long(df, freq, source=source, min_obs=min_obs)
    grid, filled = regularize(clean, freq)
    lap("validate")
    hist, lost = impute_censored(grid, freq)
    lap("censored_demand")
    m = SEASON[freq]
    alias = freq_alias(freq, hist["ds"])

    # windows: as many as the typical series allows, at most n_windows; a seasonal model needs m points to train
    min_train = m if freq == "W" else 2 * m
    lengths = hist.groupby("unique_id").size()
    n_win = int(min(n_windows, max(1, (int(lengths.median()) - min_train) // horizon)))
    need = min_train + n_win * horizon
    classes = classify_demand(hist, freq, min_obs=need)
    cls_of = classes.set_index("unique_id")["demand_class"]
    group_of = cls_of.map(CLASS_GROUP)

    scale = mase_scale(hist, m)
    lap("classify")
    cv_parts, fc_parts, cand = [], [], {}
    for grp in ("continuous", "intermittent"):
        ids = group_of.index[group_of == grp]
        if len(ids) == 0:
            continue
        names = list(candidate_names(grp, freq))
        cand[grp] = names
        sub = hist[hist["unique_id"].isin(ids)]
        models = [make_model(n, m, horizon) for n in names]
        cv, fc = run_models(sub, models, alias, horizon, n_win, engine=engine, n_jobs=n_jobs)
        del sub
        cv_parts.append((grp, cv, fc))
    # the global model learns from every backtestable series at once
    lap("statsforecast_backtest_forecast")
    if use_global_model and cv_parts:
        panel = hist[hist["unique_id"].map(group_of).notna().to_numpy()][["unique_id", "ds", "y", "censored"]]
        gbm = GlobalGBM(freq, horizon, seed=seed, events=events, prime_days=prime_days)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            gcv, gfc = gbm.backtest_forecast(panel, [-(n_win - w) * horizon for w in range(n_win)])
        for grp in cand:
            cand[grp] = cand[grp] + [GBM]
    lap("global_model")
    cv_all, fc_all = [], []
    for grp, cv, fc in cv_parts:
        if use_global_model:
            cv = cv.merge(gcv, on=["unique_id", "ds", "cutoff"], how="left")
            fc = fc.merge(gfc, on=["unique_id", "ds"], how="left")
            # a series the global model could not score falls back to the class's first model
            cv[GBM] = cv[GBM].fillna(cv[cand[grp][0]])
            fc[GBM] = fc[GBM].fillna(fc[cand[grp][0]])
        cv_all.append(cv)
        fc_all.append(fc)

    ensembles: dict = {}
    backtest = pd.DataFrame(columns=["unique_id", "model", "cutoff", "mae", "bias", "n_points", "mase"])
    chosen = pd.DataFrame(columns=["unique_id", "model", "mase", "n_windows"])
    out_parts = []
    fc = None
    if cv_all:
        cv = pd.concat(cv_all, ignore_index=True)
        fc = pd.concat(fc_all, ignore_index=True)
        cens = hist[["unique_id", "ds", "censored"]]
        cv = cv.merge(cens, on=["unique_id", "ds"], how="left")
        cv["censored"] = cv["censored"].fillna(False).astype(bool)
        all_models = sorted({n for v in cand.values() for n in v})
        for c in all_models:
            if c not in cv:
                cv[c] = np.nan
                fc[c] = np.nan
        table = backtest_table(cv, all_models, scale)
        table = table.dropna(subset=["mase"])
        ensembles = add_ensemble(cv, fc, table, group_of, all_models)
        annual = [c for c in ANNUAL_AWARE[freq] if c in all_models]
        if use_global_model is False or len(annual) < 2 or not annual_guard:
            annual = []
        if annual:
            cv["AnnualEnsemble"] = cv[annual].mean(axis=1)
            fc["AnnualEnsemble"] = fc[annual].mean(axis=1)
            ensembles["annual"] = annual
        extra = ["Ensemble"] + (["AnnualEnsemble"] if annual else [])
        table = pd.concat([table, backtest_table(cv, extra, scale)], ignore_index=True)
        # only a group's own candidates are eligible for its series; a series whose horizon held a peak
        # last year (annual guard) may only use models that know last year's pattern
        guard = _annual_guard(hist, horizon, freq, **GUARD[freq]) & group_of.reindex(cls_of.index).eq("continuous")
        guarded = set(guard.index[guard]) if annual else set()
        g_uid = table["unique_id"].to_numpy()
        is_guarded = np.isin(g_uid, list(guarded))
        own = np.array([m_ in cand.get(g, []) for m_, g in zip(table["model"], table["unique_id"].map(group_of))], dtype=bool)
        own |= table["model"].eq("Ensemble").to_numpy()
        elig = np.where(is_guarded, table["model"].isin(annual + ["AnnualEnsemble"]).to_numpy(), own)
        backtest = table.reset_index(drop=True)
        backtest["eligible"] = elig
        # guarded series form their own pool so that per-class selection stays within their eligible models
        pool = group_of.where(~group_of.index.isin(list(guarded)), group_of + "/annual")
        chosen = choose(backtest[backtest["eligible"]], pool, selection, margin=margin)
        chosen["source"] = "backtest"
        chosen["annual_guard"] = chosen["unique_id"].isin(guarded)

        # analyst overrides win; models outside the candidate set are run for those series only
        ov = {k: v for k, v in overrides.items() if k in set(cv["unique_id"])}
        extra_runs = {}
        for uid, entry in ov.items():
            name = entry["model"]
            if name in ("GlobalGBM", "Ensemble", "AnnualEnsemble") or (name in all_models and not entry.get("params")):
                continue
            key = (name, tuple(sorted(entry["params"].items())))
            extra_runs.setdefault(key, []).append(uid)
        for (name, params), uids in extra_runs.items():
            sub = hist[hist["unique_id"].isin(uids)]
            col = f"override:{name}"
            ecv, efc = run_models(sub, [make_model(name, m, horizon, **dict(params))], alias, horizon, n_win,
                                  engine="local", n_jobs=1)
            ecv = ecv.rename(columns={name: col})
            efc = efc.rename(columns={name: col})
            cv = cv.merge(ecv[["unique_id", "ds", "cutoff", col]], on=["unique_id", "ds", "cutoff"], how="left")
            fc = fc.merge(efc[["unique_id", "ds", col]], on=["unique_id", "ds"], how="left")
            for uid in uids:
                ov[uid] = {**ov[uid], "_column": col}
            backtest = pd.concat([backtest, backtest_table(cv[cv["unique_id"].isin(uids)], [col], scale)], ignore_index=True)
        if ov:
            per = backtest.groupby(["unique_id", "model"])["mase"].mean()
            chosen = chosen.set_index("unique_id")
            for uid, entry in ov.items():
                col = entry.get("_column", entry["model"])
                if col not in fc.columns or fc.loc[fc["unique_id"] == uid, col].isna().all():
                    continue  # e.g. AnnualEnsemble when no series needs it: the backtest choice stands
                chosen.loc[uid, ["model", "mase", "source"]] = [col, per.get((uid, col), np.nan), "override"]
            chosen = chosen.reset_index()

        # point forecast and backtest errors of the chosen model, vectorized with a column lookup
        col_of = chosen.set_index("unique_id")["model"]
        cols = list(dict.fromkeys(col_of.tolist()))
        fc_sel = fc[fc["unique_id"].isin(col_of.index)].copy()
        fc_sel["model"] = fc_sel["unique_id"].map(col_of)
        fc_sel["yhat"] = _pick(fc_sel, cols)
        cv_sel = cv[~cv["censored"] & cv["unique_id"].isin(col_of.index)].copy()
        cv_sel["model"] = cv_sel["unique_id"].map(col_of)
        cv_sel["yhat"] = _pick(cv_sel, cols)
        # errors relative to max(forecast, scale): proportional for busy series, scale-based for slow movers
        cv_sel["score"] = (cv_sel["y"] - cv_sel["yhat"]).abs() / np.maximum(cv_sel["yhat"].clip(lower=0), cv_sel["unique_id"].map(scale))
        cv_sel = cv_sel.dropna(subset=["score"])
        q = conformal_quantiles(cv_sel[["unique_id", "score"]], levels, cls_of) if levels else pd.DataFrame(index=col_of.index)
        fc_sel["yhat"] = np.maximum(fc_sel["yhat"].to_numpy(), 0.0)
        sc = np.maximum(fc_sel["yhat"].to_numpy(), fc_sel["unique_id"].map(scale).to_numpy())
        for L in levels:
            qL = fc_sel["unique_id"].map(q[f"q_{L}"]).fillna(q[f"q_{L}"].median()).to_numpy()
            fc_sel[f"yhat_lo_{L}"] = np.maximum(fc_sel["yhat"] - qL * sc, 0.0)
            fc_sel[f"yhat_hi_{L}"] = fc_sel["yhat"] + qL * sc
        fc_sel["model"] = fc_sel["model"].str.replace("override:", "", regex=False)
        out_parts.append(fc_sel[["unique_id", "ds", "model", "yhat"] + [f"yhat_{s}_{L}" for L in levels for s in ("lo", "hi")]])

    # short histories and inactive series
    short_ids = cls_of.index[cls_of == "short"].tolist()
    sf = _short_forecast(hist, short_ids, horizon, freq, levels)
    if len(sf):
        out_parts.append(sf)
    inactive = cls_of.index[cls_of == "inactive"].tolist()
    if inactive:
        last = hist[hist["unique_id"].isin(inactive)].groupby("unique_id")["ds"].max()
        st = pd.Timedelta(days=1 if freq == "D" else 7)
        z = pd.DataFrame({"unique_id": np.repeat(last.index.to_numpy(), horizon),
                          "ds": np.repeat(last.to_numpy(), horizon) + np.tile(np.arange(1, horizon + 1), len(last)) * st,
                          "model": "Zero", "yhat": 0.0})
        for L in levels:
            z[f"yhat_lo_{L}"] = 0.0
            z[f"yhat_hi_{L}"] = 0.0
        out_parts.append(z)
    forecast = pd.concat(out_parts, ignore_index=True).sort_values(["unique_id", "ds"]).reset_index(drop=True)

    # the choices table and one reason sentence per series
    lap("select_intervals")
    snaive = (backtest[backtest["model"] == "SeasonalNaive"].groupby("unique_id")["mase"].mean()
              if len(backtest) else pd.Series(dtype=float))
    ch = classes[["unique_id", "demand_class", "n_obs"]].merge(chosen, on="unique_id", how="left")
    ch["model"] = ch["model"].fillna(ch["demand_class"].map({"short": "ShortHistoryAverage", "inactive": "Zero"}))
    ch["model"] = ch["model"].str.replace("override:", "", regex=False)
    ch["source"] = ch["source"].fillna("fallback")
    ch["mase_seasonal_naive"] = ch["unique_id"].map(snaive)
    ch = ch.merge(lost, on="unique_id", how="left")
    ch["filled_periods"] = ch["unique_id"].map(filled).fillna(0).astype(int) if filled is not None else 0
    ch["reason"] = [_reason(r, ensembles, overrides, need, freq) for r in ch.itertuples(index=False)]
    forecast = forecast.merge(ch[["unique_id", "reason"]], on="unique_id", how="left")
    choices = ch.drop(columns=["reason"]).assign(reason=ch["reason"])
    return ForecastResult(forecast=forecast, backtest=backtest.reset_index(drop=True), classification=classes,
                          lost_units=lost, choices=choices, history=hist, ensembles=ensembles,
                          candidates=fc, timings={**timings, "reasons": time.perf_counter() - clock["t"]})


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
    cls = r.demand_class
    if r.source == "fallback":
        if cls == "inactive":
            return f"Zero forecast: no demand in the last {365 if freq == 'D' else 104} {unit}{tail}"
        return (f"ShortHistoryAverage fallback for a new or short series ({int(r.n_obs)} {unit} of history, "
                f"{need} needed for a backtest){tail}")
    name = r.model
    if name == "Ensemble":
        members = ensembles.get(CLASS_GROUP.get(cls, ""), [])
        name = f"Ensemble (mean of {', '.join(members)})"
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
                  engine: str = "local", overrides_path: Path | None = None) -> ForecastResult:
    """The ``workbench forecast`` command: read CSV/Parquet, forecast, write CSV/Parquet atomically.

    Without ``overrides_path``, ``overrides.yaml`` beside the input is used when it exists, else the
    project's overrides file (:func:`workbench.config.overrides_path`) when it exists.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"output must end in .csv or .parquet, got {output_path.name!r}")
    raw = read_long(input_path)
    clean = validate_long(raw, freq, source=str(input_path))
    if overrides_path is None and (input_path.parent / "overrides.yaml").exists():
        overrides_path = input_path.parent / "overrides.yaml"
    if overrides_path is None and config_overrides_path().is_file():
        overrides_path = config_overrides_path()
    result = forecast_frame(clean, horizon, freq, levels or [], engine=engine,
                            overrides=load_overrides(overrides_path) if overrides_path else None,
                            source=str(input_path), validated=True)
    out = result.forecast.copy()
    out["ds"] = out["ds"].dt.strftime("%Y-%m-%d")
    write_frame(out, output_path)
    return result

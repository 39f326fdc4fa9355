"""Forecast tuning for one SKU: the production forecast engine's view of it, compare, save an override.

``backtest_sku`` runs (or reuses) the same :func:`workbench.forecast.forecast_frame` as the weekly run
on the whole history, so the SKU is scored with the same candidates, the global model, the
backtest-weighted ensemble and the annual guard, on the same windows, and shows which model
production chose. Extra models (``models``, or an override's model with its parameters) are
backtested for this SKU only, on the same cutoffs.

The override file is the forecast package's (:mod:`workbench.forecast.overrides`): versioned, with
who / when / why and the previous value kept; every forecast run reads it.

Metrics per model and backtest window (censored stockout days left out), errors from
``utilsforecast.losses``:

    MASE  = MAE / s1,     s1 = the production scale (:func:`workbench.forecast.select.mase_scale`, m = 7)
    RMSSE = RMSE / s2,    s2 = sqrt(mean (y_t − y_{t−7})²) (M5 competition, Makridakis et al. 2022)
    bias  = mean(yhat_t − y_t)      (units per day; > 0 = over-forecast)
    coverage_L = share of y_t inside yhat_t ± q_L · max(yhat_t, s1), with q_L the split-conformal
                 quantile (:func:`workbench.forecast.select.conformal_q`) of |e| / max(yhat, s1) over
                 the *other* windows (each window is scored out of sample).
"""
from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from utilsforecast import losses

from workbench.errors import InputError
from workbench.forecast._panel import SEASON, freq_alias
from workbench.forecast.api import forecast_frame
from workbench.forecast.classify import classify_demand
from workbench.forecast.engine import run_models
from workbench.forecast.models import MODEL_NAMES, make_model
from workbench.forecast.overrides import load_overrides, set_override
from workbench.forecast.select import conformal_q, mase_scale

# models the one-SKU loop can fit (the global model and ensembles need the whole panel)
FITTABLE = tuple(m for m in MODEL_NAMES if m not in ("GlobalGBM", "Ensemble", "AnnualEnsemble"))


@dataclass
class SkuTuning:
    """One SKU's tuning view (all frames long)."""

    unique_id: str
    demand_class: str
    history: pd.DataFrame      # ds, y (demand, stockouts imputed), y_observed, censored
    backtest: pd.DataFrame     # model, cutoff, mase, rmsse, bias, coverage_<L>, n_points
    summary: pd.DataFrame      # model, mean over windows + rank; the best first
    forecasts: pd.DataFrame    # unique_id, model, ds, yhat, yhat_lo_<L>, yhat_hi_<L>
    best_model: str
    override: dict | None
    seconds: float
    production_model: str = ""  # what the weekly run chose for this SKU
    production_reason: str = ""
    weights: pd.DataFrame | None = None  # the SKU's Ensemble weights (model, weight)

    def forecast_of(self, model: str | None = None) -> pd.DataFrame:
        """Future forecast of one model (default: the override, else the backtest's best)."""
        name = model or (self.override or {}).get("model") or self.best_model
        if name not in set(self.forecasts["model"]):
            name = self.best_model
        return self.forecasts[self.forecasts["model"] == name].reset_index(drop=True)

    def history_frame(self) -> pd.DataFrame:
        return self.history.assign(unique_id=self.unique_id)


def build_model(name: str, params: dict | None = None, season_length: int = SEASON["D"], horizon: int = 28):
    """A candidate model by name; unknown parameter names are an error, not silently ignored."""
    params = dict(params or {})
    try:
        model = make_model(name, season_length, horizon, **params)
    except (TypeError, ValueError) as e:
        raise InputError(f"bad parameters for {name}: {params!r} ({e})") from None
    unknown = [k for k in params if not hasattr(model, k)]
    if unknown:
        raise InputError(f"bad parameters for {name}: {params!r} (unknown parameter {unknown[0]!r})")
    return model


def resolve_overrides_path(overrides_path: str | Path | None) -> Path:
    """``""`` / ``None`` means a fresh temporary file, so a default (headless) run never touches the real one."""
    if overrides_path:
        return Path(overrides_path)
    return Path(tempfile.mkdtemp(prefix="wb-tuning-")) / "overrides.yaml"


def skus_in_class(history: pd.DataFrame, demand_class: str) -> list[str]:
    """SKUs of a demand class (smooth / erratic / intermittent / lumpy / short / inactive), by id."""
    classes = classify_demand(history.sort_values(["unique_id", "ds"]), "D")
    return sorted(classes.loc[classes["demand_class"] == demand_class, "unique_id"].astype(str))


_PRODUCTION: dict = {}


def production_run(history: pd.DataFrame, horizon: int = 28, n_windows: int = 3, levels=(80, 95),
                   overrides: dict | None = None, future: pd.DataFrame | None = None):
    """The weekly run's forecast of the whole ``history`` (cached per history object and settings);
    ``future``: known future regressors (planned promotions), as the weekly run passes them."""
    key = (id(history), len(history), horizon, n_windows, tuple(levels), repr(sorted((overrides or {}).items())),
           id(future))
    if key not in _PRODUCTION:
        _PRODUCTION.clear()  # one history at a time
        _PRODUCTION[key] = forecast_frame(history, horizon, "D", list(levels), n_windows=n_windows,
                                          overrides=overrides or None, min_obs=1, future=future)
    return _PRODUCTION[key]


def _extra_models(hist: pd.DataFrame, unique_id: str, names: list[str], params: dict, horizon: int,
                  cutoffs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest (same number of windows, step = horizon) and forecast of models outside production's set."""
    fitted = [build_model(n, params.get(n), SEASON["D"], horizon) for n in names]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv, fc = run_models(hist.assign(unique_id=unique_id), fitted, freq_alias("D", hist["ds"]), horizon,
                            cutoffs, n_jobs=1)
    return cv, fc


def _window_metrics(cv: pd.DataFrame, names: list[str], s1: float, s2: float, levels) -> pd.DataFrame:
    """One row per model and window: mase, rmsse, bias, coverage_<L>, n_points."""
    cv = cv.assign(unique_id=cv["cutoff"].astype(str))  # utilsforecast scores per id: one id per window
    mae = losses.mae(cv, names).set_index("unique_id")
    rmse = losses.rmse(cv, names).set_index("unique_id")
    bias = losses.bias(cv, names).set_index("unique_id")
    rows = []
    for name in names:
        e = cv[name].to_numpy(float) - cv["y"].to_numpy(float)
        sc = np.abs(e) / np.maximum(np.maximum(cv[name].to_numpy(float), 0.0), s1)
        for w in mae.index:
            inside = (cv["unique_id"] == w).to_numpy()
            row = {"model": name, "cutoff": pd.Timestamp(w), "mase": mae.loc[w, name] / s1,
                   "rmsse": rmse.loc[w, name] / s2, "bias": bias.loc[w, name], "n_points": int(inside.sum())}
            for L in levels:
                q = conformal_q(sc[~inside], L / 100) if (~inside).any() else conformal_q(sc, L / 100)
                row[f"coverage_{L}"] = float(np.mean(sc[inside] <= q)) if np.isfinite(q) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def backtest_sku(history: pd.DataFrame, unique_id: str, horizon: int = 28, n_windows: int = 3,
                 levels=(80, 95), models=None, params: dict | None = None,
                 overrides: dict | str | Path | None = None, production=None,
                 future: pd.DataFrame | None = None) -> SkuTuning:
    """One series of ``history`` (long ``unique_id, ds, y[, in_stock]``, daily) as production sees it:
    every candidate production backtested for it (global model and Ensemble included), plus ``models``
    (and an override's model); ``params`` = {model: {param: value}} for a re-fit with other settings.
    ``production``: a :class:`ForecastResult` of the whole history to reuse (default: run or reuse
    :func:`production_run`). ``future``: the planned promotions
    (:func:`workbench.forecast.history.promotion_regressors`), as the weekly run passes them.
    """
    t0 = time.perf_counter()
    unique_id = str(unique_id)
    if not (history["unique_id"].astype(str) == unique_id).any():
        raise InputError(f"unknown SKU {unique_id!r}", [f"history:-:unique_id: no rows for {unique_id!r}"])
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise InputError(f"horizon must be an integer >= 1, got {horizon!r}")
    params = dict(params or {})
    if isinstance(overrides, (str, Path)):
        overrides = load_overrides(Path(overrides))
    override = (overrides or {}).get(unique_id)
    res = production or production_run(history, horizon, n_windows, levels, future=future)
    hist = res.history[res.history["unique_id"] == unique_id].reset_index(drop=True)
    choice = res.choices.set_index("unique_id").loc[unique_id]
    cv = res.cv[res.cv["unique_id"] == unique_id] if res.cv is not None else pd.DataFrame()
    fc = res.candidates[res.candidates["unique_id"] == unique_id] if res.candidates is not None else pd.DataFrame()
    names = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "step", "y", "censored")
             and cv[c].notna().any()] if len(cv) else []
    extra = [n for n in (models or []) if n] + ([override["model"]] if override and override["model"] in FITTABLE else [])
    if override and override["model"] in FITTABLE:
        params.setdefault(override["model"], override.get("params") or {})
    extra = [n for n in dict.fromkeys(extra) if n not in names or params.get(n)]
    bad = [n for n in extra if n not in FITTABLE]
    if bad:
        raise InputError(f"model must be one of {', '.join(FITTABLE)}, got {bad[0]!r}")
    if len(cv) == 0:
        raise InputError(f"{unique_id} has too little history for a backtest ({int(choice['n_obs'])} days); "
                         f"production uses {choice['model']}: {choice['reason']}")
    if extra:
        ecv, efc = _extra_models(hist, unique_id, extra, params, horizon, int(cv["cutoff"].nunique()))
        cv = cv.drop(columns=[c for c in extra if c in cv]).merge(ecv[["ds", "cutoff", *extra]], on=["ds", "cutoff"], how="left")
        fc = fc.drop(columns=[c for c in extra if c in fc]).merge(efc[["ds", *extra]], on="ds", how="left")
        names += [n for n in extra if n not in names]
    cv = cv[~cv["censored"]]
    s1 = float(mase_scale(hist, SEASON["D"]).iloc[0])
    d = hist["y"].to_numpy(float)
    s2 = float(np.sqrt(np.mean((d[7:] - d[:-7]) ** 2))) if len(d) > 7 else 1.0
    bt = _window_metrics(cv, names, s1, s2 if s2 > 0 else 1.0, levels)
    summ = (bt.drop(columns=["cutoff"]).groupby("model").mean(numeric_only=True)
            .assign(n_windows=bt.groupby("model")["cutoff"].nunique()).sort_values(["mase", "rmsse"]).reset_index())
    summ["rank"] = np.arange(1, len(summ) + 1)
    summ["production"] = summ["model"].eq(choice["model"])
    weights = res.weights[res.weights["unique_id"] == unique_id] if res.weights is not None else None
    summ["ensemble_weight"] = summ["model"].map(weights.set_index("model")["weight"]).fillna(0.0) if weights is not None else 0.0
    return SkuTuning(unique_id=unique_id, demand_class=str(choice["demand_class"]),
                     history=hist[["ds", "y", "y_observed", "censored"]],
                     backtest=bt, summary=summ, forecasts=_forecasts(fc, cv, names, unique_id, s1, levels),
                     best_model=str(summ["model"].iloc[0]), override=override, seconds=time.perf_counter() - t0,
                     production_model=str(choice["model"]), production_reason=str(choice["reason"]),
                     weights=weights)


def _forecasts(fc: pd.DataFrame, cv: pd.DataFrame, names: list[str], unique_id: str, s1: float, levels) -> pd.DataFrame:
    """Future forecast of every model with a split-conformal interval from all its backtest windows."""
    parts = []
    for name in names:
        y = np.maximum(fc[name].to_numpy(float), 0.0)
        sc = (cv["y"] - cv[name]).abs().to_numpy(float) / np.maximum(cv[name].clip(lower=0).to_numpy(float), s1)
        f = pd.DataFrame({"unique_id": unique_id, "model": name, "ds": fc["ds"].to_numpy(), "yhat": y})
        width = np.maximum(y, s1)
        for L in levels:
            q = conformal_q(sc[np.isfinite(sc)], L / 100)
            q = q if np.isfinite(q) else 0.0
            f[f"yhat_lo_{L}"] = np.maximum(y - q * width, 0.0)
            f[f"yhat_hi_{L}"] = y + q * width
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def save_override(path, unique_id: str, model: str, who: str, why: str, params: dict | None = None,
                  when=None) -> dict:
    """Record an analyst override (``model='auto'`` clears it), checking that the model builds with ``params``.

    Thin wrapper over :func:`workbench.forecast.overrides.set_override` (atomic, versioned, previous kept).
    """
    if model != "auto":
        if model not in MODEL_NAMES:
            raise InputError(f"model must be one of {', '.join(MODEL_NAMES)} or 'auto', got {model!r}")
        if params and model in FITTABLE:
            build_model(model, params)
    try:
        return set_override(Path(path), str(unique_id), model, who, why, params=params, when=when)
    except ValueError as e:
        raise InputError(str(e)) from None


def overrides_table(path) -> pd.DataFrame:
    """Active overrides of a file, one row per series: unique_id, model, params, who, when, why, previous_model."""
    cols = ["unique_id", "model", "params", "who", "when", "why", "previous_model"]
    ov = load_overrides(Path(path)) if path else {}
    rows = [{"unique_id": uid, "model": e["model"], "params": e.get("params") or {}, "who": e.get("who"),
             "when": e.get("when"), "why": e.get("why"), "previous_model": (e.get("previous") or {}).get("model")}
            for uid, e in ov.items()]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------------------------------------
# figures (plotly)
def backtest_figure(t: SkuTuning, metric: str = "mase"):
    """Per-window metric of every candidate (bars grouped by window)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, g in t.backtest.groupby("model", sort=False):
        fig.add_trace(go.Bar(x=g["cutoff"].dt.strftime("%Y-%m-%d"), y=g[metric], name=name))
    fig.update_layout(barmode="group", height=360, margin=dict(l=40, r=20, t=50, b=40),
                      title=f"{t.unique_id}: backtest {metric.upper()} per window (lower is better)",
                      xaxis_title="window cutoff", template="plotly_white")
    return fig


def candidates_figure(t: SkuTuning, level: int = 80, last_days: int = 180, top: int = 4):
    """Recent demand and the future forecasts of the ``top`` models (by MASE) with their intervals."""
    import plotly.graph_objects as go

    h = t.history[t.history["ds"] > t.history["ds"].max() - pd.Timedelta(days=last_days)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=h["ds"], y=h["y_observed"], name="sales", line=dict(color="#424242", width=1)))
    shown = list(t.summary["model"].head(top))
    if t.override and t.override["model"] in set(t.forecasts["model"]) and t.override["model"] not in shown:
        shown.append(t.override["model"])
    colors = ["#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#e53935", "#00897b"]
    for k, name in enumerate(shown):
        f = t.forecasts[t.forecasts["model"] == name]
        c = colors[k % len(colors)]
        lo, hi = f"yhat_lo_{level}", f"yhat_hi_{level}"
        if lo in f:
            fig.add_trace(go.Scatter(x=pd.concat([f["ds"], f["ds"][::-1]]), y=pd.concat([f[hi], f[lo][::-1]]),
                                     fill="toself", opacity=0.15, line=dict(width=0), fillcolor=c,
                                     name=f"{name} {level}%", showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=f["ds"], y=f["yhat"], name=name, line=dict(color=c)))
    fig.update_layout(height=400, margin=dict(l=40, r=20, t=50, b=40), template="plotly_white",
                      title=f"{t.unique_id}: candidate forecasts with {level}% intervals")
    return fig


# ------------------------------------------------------------------------------------------------
def tuner(history: pd.DataFrame, overrides_path, skus=None, horizon: int = 28):
    """An ipywidgets panel: pick a SKU and a model, see the backtest, save the override (JupyterLab only).

    Under papermill the panel is built but nothing is clicked, so nothing is saved.
    """
    import ipywidgets as w
    from IPython.display import display

    from workbench.report import nb

    ids = list(skus) if skus is not None else sorted(history["unique_id"].astype(str).unique())
    sku = w.Dropdown(options=ids, description="SKU")
    model = w.Dropdown(options=("auto",) + FITTABLE, value="auto", description="model")
    who = w.Text(description="who")
    why = w.Text(description="why", layout=w.Layout(width="60%"))
    save = w.Button(description="Save override", button_style="warning")
    out = w.Output()

    def refresh(*_):
        out.clear_output()
        with out:
            extra = [] if model.value == "auto" else [model.value]
            t = backtest_sku(history, sku.value, horizon=horizon, models=extra, overrides=overrides_path)
            nb.table(t.summary.round(3), caption=f"{t.unique_id} ({t.demand_class}), {t.seconds:.1f} s")
            nb.figure(candidates_figure(t))

    def on_save(_):
        with out:
            try:
                e = save_override(overrides_path, sku.value, model.value, who.value, why.value)
                nb.note(f"saved {sku.value} → {e['model']} in {overrides_path}")
            except InputError as err:
                nb.note(str(err))

    sku.observe(refresh, "value")
    model.observe(refresh, "value")
    save.on_click(on_save)
    panel = w.VBox([w.HBox([sku, model]), w.HBox([who, why, save]), out])
    display(panel)
    refresh()
    return panel


def pick_sku(history: pd.DataFrame, sku: str = "", demand_class: str = "") -> str:
    """``sku`` if given, else the first SKU of ``demand_class``, else the first SKU."""
    if sku:
        if sku not in set(history["unique_id"].astype(str)):
            raise InputError(f"unknown SKU {sku!r}", [f"history:-:unique_id: no rows for {sku!r}"])
        return sku
    ids = skus_in_class(history, demand_class) if demand_class else sorted(history["unique_id"].astype(str).unique())
    if not ids:
        raise InputError(f"no SKU in demand class {demand_class!r}")
    return ids[0]


def kpis(t: SkuTuning) -> dict:
    return {"SKU": t.unique_id, "demand class": t.demand_class, "production chose": t.production_model,
            "best by backtest": t.best_model,
            "override": (t.override or {}).get("model", "none"), "stockout days": int(t.history["censored"].sum()),
            "re-fit seconds": f"{t.seconds:.2f}"}


def maybe_save(save: bool, path, unique_id: str, model: str, who: str, why: str, params: dict | None = None) -> str:
    """The notebook's save step: writes only when ``save`` is true; returns a sentence saying what happened."""
    if not save:
        return f"save = False: nothing written. Set save = True (with who and why) to write {path}."
    e = save_override(path, unique_id, model, who, why, params=params)
    prev = (e.get("previous") or {}).get("model", "none")
    return f"Saved {unique_id} → {e['model']} ({e['who']}, {e['when']}: {e['why']}); previous: {prev}; file {path}."

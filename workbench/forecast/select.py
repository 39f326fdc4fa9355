"""Backtest metrics, ensembles, model choice and conformal intervals.

MASE (Hyndman & Koehler 2006, "Another look at measures of forecast accuracy", IJF 22(4)):

    MASE = mean|y_t - yhat_t| / scale,   scale = mean_{t>m} |y_t - y_{t-m}| over the training history

with m = 7 (daily) or 52 (weekly): the in-sample seasonal-naive error. Series too short for m use
m = 1; a scale of 0 (constant series) falls back to the mean |y|, then to 1.

Intervals are split-conformal (Vovk et al. 2005; Angelopoulos & Bates 2021 tutorial) on the
normalized absolute backtest errors of the chosen model, |e| / d with d = max(yhat, scale)
(proportional to the forecast for busy series, to the series' scale for slow movers), pooled with
the same quantity for its demand class so that three windows per series are not over-trusted:

    q_L = (n · Q_series(L) + K · Q_class(L)) / (n + K),   K = 20,   Q(L) = the ceil((n+1)·L)/n quantile
    yhat_lo = max(yhat - q_L · d, 0),  yhat_hi = yhat + q_L · d

Intervals widen (or not) with the horizon as the backtest says: the scores are also pooled per demand
class and horizon step s (steps within ±3 of s pooled for a 28-step horizon, so each step has enough scores):

    q_L(series, s) = q_L(series) · Q_class(L, s) / Q_class(L)

The same formula applies to every model (ETS, Croston, the global model, ensembles), so coverage is
comparable across classes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

POOL_K = 20.0


def mase_scale(df: pd.DataFrame, m: int) -> pd.Series:
    """Per-series in-sample seasonal-naive MAE (index ``unique_id``)."""
    d = df[["unique_id", "y"]]
    g = d.groupby("unique_id", sort=True)["y"]
    err_m = (d["y"] - g.shift(m)).abs()
    s = err_m.groupby(d["unique_id"]).mean()
    err_1 = (d["y"] - g.shift(1)).abs().groupby(d["unique_id"]).mean()
    mean_abs = d["y"].abs().groupby(d["unique_id"]).mean()
    s = s.where(s.notna() & (s > 0), err_1)
    s = s.where(s.notna() & (s > 0), mean_abs)
    return s.where(s.notna() & (s > 0), 1.0).rename("scale")


def backtest_table(cv: pd.DataFrame, models: list[str], scale: pd.Series) -> pd.DataFrame:
    """Long table: one row per series × model × window with ``mae, mase, bias, n_points``.

    Censored periods (``censored`` column, if present) are left out of the metrics.
    """
    d = cv if "censored" not in cv else cv[~cv["censored"]]
    long = d.melt(id_vars=["unique_id", "cutoff", "y"], value_vars=models, var_name="model", value_name="yhat")
    long["abs_err"] = (long["y"] - long["yhat"]).abs()
    long["err"] = long["yhat"] - long["y"]
    t = long.groupby(["unique_id", "model", "cutoff"], sort=True).agg(
        mae=("abs_err", "mean"), bias=("err", "mean"), n_points=("abs_err", "size")).reset_index()
    t["mase"] = t["mae"] / t["unique_id"].map(scale).to_numpy()
    return t


def add_ensemble(cv: pd.DataFrame, fc: pd.DataFrame, table: pd.DataFrame, groups: pd.Series,
                 models: list[str], top: int = 3) -> dict[str, list[str]]:
    """Add an ``Ensemble`` column (mean of the class group's ``top`` models by mean MASE) in place.

    ``groups``: class group per series. Returns {group: [member models]}. Averaging a few good
    forecasts is the most reliable gain in forecasting competitions (Makridakis et al. 2020, M4, IJF 36(1)).
    """
    members: dict[str, list[str]] = {}
    g_of = table["unique_id"].map(groups)
    ranked = table.assign(group=g_of).groupby(["group", "model"])["mase"].mean().reset_index()
    cv["Ensemble"] = np.nan
    fc["Ensemble"] = np.nan
    for grp, sub in ranked.groupby("group"):
        best = sub[sub["model"].isin(models)].nsmallest(top, "mase")["model"].tolist()
        members[grp] = best
        for frame in (cv, fc):
            rows = frame["unique_id"].map(groups).to_numpy() == grp
            frame.loc[rows, "Ensemble"] = frame.loc[rows, best].mean(axis=1).to_numpy()
    return members


def choose(table: pd.DataFrame, groups: pd.Series, how: str = "series", margin: float = 0.0,
           prefer: tuple[str, ...] = ("Ensemble", "AnnualEnsemble")) -> pd.DataFrame:
    """Per series: ``model`` with the lowest mean MASE over windows (``how='series'``), or the model
    with the lowest mean MASE over its class group (``how='class'``). Returns
    ``unique_id, model, mase, n_windows``.

    ``margin``: a single model replaces the best of the ``prefer`` combinations only when its
    backtest MASE is lower by more than this fraction (a few windows are a noisy judge; combinations
    are the safer default, Makridakis et al. 2020).
    """
    if how not in ("series", "class"):
        raise ValueError(f"selection must be one of 'series', 'class', got {how!r}")
    if not 0 <= margin < 1:
        raise ValueError(f"margin must be in [0, 1), got {margin!r}")
    per = table.groupby(["unique_id", "model"], sort=True).agg(
        mase=("mase", "mean"), n_windows=("cutoff", "nunique")).reset_index()
    if how == "series":
        adj = per["mase"] * np.where(per["model"].isin(prefer), 1.0 - margin, 1.0)
        best = per.assign(_adj=adj).sort_values(["unique_id", "_adj", "model"]).drop_duplicates("unique_id")
        return best.drop(columns="_adj").reset_index(drop=True)
    per["group"] = per["unique_id"].map(groups)
    by_class = per.groupby(["group", "model"])["mase"].mean().reset_index()
    win = by_class.sort_values(["group", "mase", "model"]).drop_duplicates("group").set_index("group")["model"]
    per["chosen"] = per["group"].map(win)
    return per[per["model"] == per["chosen"]][["unique_id", "model", "mase", "n_windows"]].reset_index(drop=True)


def conformal_q(x: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ceil((n+1)·level)/n empirical quantile of the scores ``x``."""
    n = len(x)
    if n == 0:
        return np.nan
    qq = min(1.0, np.ceil((n + 1) * level) / n)
    return float(np.quantile(x, qq))


def conformal_quantiles(cv_long: pd.DataFrame, levels: list[int], class_of: pd.Series) -> pd.DataFrame:
    """Scaled |error| quantiles per series for each level, shrunk to the class pool.

    ``cv_long``: ``unique_id, score`` (= |y - yhat| / d of the chosen model). Returns a frame
    indexed by ``unique_id`` with columns ``q_<L>``.
    """
    out = {}
    g = cv_long.groupby("unique_id")["score"]
    n = g.size()
    cls = cv_long["unique_id"].map(class_of)
    for L in levels:
        a = L / 100.0
        q_s = g.apply(lambda v: conformal_q(v.to_numpy(), a))
        q_c = cv_long.groupby(cls)["score"].apply(lambda v: conformal_q(v.to_numpy(), a))
        qc_series = n.index.map(class_of).map(q_c).to_numpy(dtype=float)
        out[f"q_{L}"] = (n * q_s + POOL_K * qc_series) / (n + POOL_K)
    res = pd.DataFrame(out)
    res.index.name = "unique_id"
    return res



def step_factors(cv_long: pd.DataFrame, levels: list[int], class_of: pd.Series, horizon: int,
                 band: int | None = None) -> pd.DataFrame:
    """Q_class(L, step) / Q_class(L): how much wider the interval is at each horizon step.

    ``cv_long``: ``unique_id, step, score``. Scores of steps within ±``band`` (default: 3 for a
    28-step horizon, scaled with it, at least 1) are pooled for each step. Returns a frame indexed by
    (demand class, step) with columns ``f_<L>``.
    """
    band = band if band is not None else max(1, round(3 * horizon / 28))
    cls = cv_long["unique_id"].map(class_of).to_numpy()
    steps = cv_long["step"].to_numpy()
    score = cv_long["score"].to_numpy(dtype=float)
    rows = []
    for c in pd.unique(cls):
        sc, st = score[cls == c], steps[cls == c]
        for s in range(1, horizon + 1):
            x = sc[np.abs(st - s) <= band]
            rows.append({"class": c, "step": s,
                         **{f"f_{L}": conformal_q(x, L / 100) / conformal_q(sc, L / 100) for L in levels}})
    out = pd.DataFrame(rows).set_index(["class", "step"])
    return out.replace([np.inf, -np.inf], np.nan).fillna(1.0)

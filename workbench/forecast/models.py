"""Candidate models per demand class, in statsforecast style (small classes with an ``alias``).

Everything here is cheap to fit (well under a millisecond per series, except Theta) so the backtest
of all candidates costs less than fitting AutoETS once; see ``benchmarks/forecast_speed.py``.
"""
from __future__ import annotations

import numpy as np
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoETS,
    AutoTheta,
    CrostonSBA,
    HistoricAverage,
    Naive,
    SeasonalNaive,
    SeasonalWindowAverage,
    SimpleExponentialSmoothingOptimized,
    Theta,
    WindowAverage,
    _TS,
)


class SeasonalNaiveLevel(_TS):
    """Seasonal naive rescaled by the recent year-over-year level ratio.

        yhat(T+k) = y(T+k-m·ceil(k/m)) · r,   r = clip( sum(y[T-w+1..T]) / sum(y[T-w+1-m..T-m]), 0.5, 2 )

    A ratio-adjusted seasonal naive (e.g. Hyndman & Athanasopoulos, FPP3 §5.2 "simple forecasting
    methods" with a growth correction). It keeps last year's peaks (Black Friday, Christmas) where they
    were, which smooth ETS/Theta models cannot, while following this year's level. Falls back to plain
    seasonal naive when the series is shorter than ``m + window``.
    """

    uses_exog = False

    def __init__(self, season_length: int, window: int = 13, alias: str = "SeasonalNaiveLevel"):
        self.season_length = season_length
        self.window = window
        self.alias = alias
        self.prediction_intervals = None

    def _ratio(self, y: np.ndarray) -> float:
        m, w = self.season_length, self.window
        if y.size < m + w:
            return 1.0
        den = y[-w - m: -m].sum()
        num = y[-w:].sum()
        if den <= 0:
            return 1.0
        return float(np.clip(num / den, 0.5, 2.0))

    def _mean(self, y: np.ndarray, h: int) -> np.ndarray:
        m = self.season_length
        last = y[-m:] if y.size >= m else np.resize(y[-1:], m)
        return np.tile(last, int(np.ceil(h / m)))[:h] * self._ratio(y)

    def fit(self, y, X=None):
        self.y_ = np.asarray(y, dtype=float)
        return self

    def predict(self, h, X=None, level=None):
        return {"mean": self._mean(self.y_, h)}

    def predict_in_sample(self, level=None):
        return {"fitted": np.full(self.y_.size, np.nan)}

    def forecast(self, y, h, X=None, X_future=None, level=None, fitted=False):
        y = np.asarray(y, dtype=float)
        res = {"mean": self._mean(y, h)}
        if fitted:
            res["fitted"] = np.full(y.size, np.nan)
        return res


# name -> factory(season_length, horizon, **params); every name an analyst may put in overrides
def _registry():
    return {
        "SeasonalNaive": lambda m, h, **p: SeasonalNaive(season_length=p.get("season_length", m)),
        "SeasonalNaiveLevel": lambda m, h, **p: SeasonalNaiveLevel(season_length=p.get("season_length", m),
                                                                   window=p.get("window", 13 if m >= 52 else 28)),
        "YearNaiveLevel": lambda m, h, **p: SeasonalNaiveLevel(season_length=p.get("season_length", 364),
                                                               window=p.get("window", 28)),
        "SeasWA": lambda m, h, **p: SeasonalWindowAverage(season_length=p.get("season_length", m),
                                                          window_size=p.get("window_size", 4 if m < 52 else 2)),
        "SESOpt": lambda m, h, **p: SimpleExponentialSmoothingOptimized(),
        "Theta": lambda m, h, **p: Theta(season_length=p.get("season_length", m if m < 52 else 1)),
        "AutoETS": lambda m, h, **p: AutoETS(season_length=p.get("season_length", m if m <= 24 else 1),
                                             model=p.get("model", "ZZZ")),
        "AutoTheta": lambda m, h, **p: AutoTheta(season_length=p.get("season_length", m)),
        "CrostonSBA": lambda m, h, **p: CrostonSBA(),
        "TSB": lambda m, h, **p: TSB(alpha_d=p.get("alpha_d", 0.1), alpha_p=p.get("alpha_p", 0.1)),
        "IMAPA": lambda m, h, **p: IMAPA(),
        "ADIDA": lambda m, h, **p: ADIDA(),
        "WindowAverage": lambda m, h, **p: WindowAverage(window_size=p.get("window_size", 28 if m < 52 else 8)),
        "HistoricAverage": lambda m, h, **p: HistoricAverage(),
        "Naive": lambda m, h, **p: Naive(),
    }


MODEL_NAMES = tuple(_registry()) + ("GlobalGBM", "Ensemble", "AnnualEnsemble")

# Candidate sets per class group. "continuous" = smooth + erratic, "intermittent" = intermittent + lumpy.
CANDIDATES = {
    ("continuous", "D"): ("SeasonalNaive", "SeasWA", "SESOpt", "WindowAverage", "YearNaiveLevel", "CrostonSBA",
                          "HistoricAverage"),
    ("continuous", "W"): ("SeasonalNaive", "SeasonalNaiveLevel", "SESOpt", "Theta"),
    ("intermittent", "D"): ("CrostonSBA", "TSB", "IMAPA", "ADIDA", "WindowAverage", "SeasWA", "HistoricAverage"),
    ("intermittent", "W"): ("CrostonSBA", "TSB", "IMAPA", "ADIDA", "WindowAverage"),
}
# Models that carry last year's pattern (peaks, holidays): the only ones eligible when the horizon
# is expected to differ from the recent level the way it did a year ago (see api._annual_guard).
ANNUAL_AWARE = {"W": ("SeasonalNaive", "SeasonalNaiveLevel", "GlobalGBM"), "D": ("YearNaiveLevel", "GlobalGBM")}
CLASS_GROUP = {"smooth": "continuous", "erratic": "continuous", "intermittent": "intermittent", "lumpy": "intermittent"}


def make_model(name: str, season_length: int, horizon: int, **params):
    """Build a statsforecast-style model by name (``MODEL_NAMES``), e.g. for an analyst override."""
    reg = _registry()
    if name not in reg:
        raise ValueError(f"model must be one of {sorted(reg)}, got {name!r}")
    model = reg[name](season_length, horizon, **params)
    model.alias = name
    return model


def candidate_names(group: str, freq: str) -> tuple[str, ...]:
    if (group, freq) not in CANDIDATES:
        raise ValueError(f"(group, freq) must be one of {sorted(CANDIDATES)}, got {(group, freq)!r}")
    return CANDIDATES[(group, freq)]

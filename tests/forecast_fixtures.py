"""Small synthetic panels with known true demand, for the forecast tests (seeded, fast)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def daily_panel(n_series: int = 12, n_days: int = 400, seed: int = 0, start: str = "2024-01-01") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, truth) where truth has the expected demand ``lam`` and a draw ``y`` for every day.

    A third of the series are smooth with a weekday profile, a third intermittent, a third
    smooth with a slow trend. ``y`` is Poisson(lam) (intermittent: Bernoulli x Poisson sizes).
    """
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=n_days, freq="D")
    t = np.arange(n_days)
    dow = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.2])[ds.dayofweek]
    rows = []
    for i in range(n_series):
        kind = i % 3
        if kind == 0:
            lam = rng.uniform(10, 40) * dow
            y = rng.poisson(lam)
        elif kind == 1:
            p = rng.uniform(0.1, 0.4)
            size = rng.uniform(1, 4)
            lam = p * size * np.ones(n_days)
            y = rng.binomial(1, p, n_days) * (1 + rng.poisson(size - 1, n_days))
        else:
            lam = rng.uniform(5, 20) * (1 + 0.5 * t / n_days) * dow
            y = rng.poisson(lam)
        rows.append(pd.DataFrame({"unique_id": f"S{i:02d}", "ds": ds, "y": y.astype(float), "lam": lam}))
    truth = pd.concat(rows, ignore_index=True)
    return truth[["unique_id", "ds", "y"]].copy(), truth

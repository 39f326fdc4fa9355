"""Demand classification by ADI and CV² (Syntetos, Boylan & Croston 2005).

Syntetos, A.A., Boylan, J.E. & Croston, J.D. (2005), "On the categorization of demand patterns",
Journal of the Operational Research Society 56(5), 495-503. Cut-offs ADI = 1.32, CV² = 0.49:

    ADI  = periods / periods with demand > 0          (average inter-demand interval)
    CV²  = (std / mean)² of the non-zero demand sizes

    smooth: ADI < 1.32, CV² < 0.49     erratic: ADI < 1.32, CV² >= 0.49
    intermittent: ADI >= 1.32, CV² < 0.49     lumpy: ADI >= 1.32, CV² >= 0.49

Two extra classes: ``short`` (fewer observations than a backtest needs: new products get a fallback
model) and ``inactive`` (no demand in the lookback window).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

ADI_CUT = 1.32
CV2_CUT = 0.49
LOOKBACK = {"D": 365, "W": 104}
CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "short", "inactive")


def classify_demand(df: pd.DataFrame, freq: str = "D", min_obs: int | None = None) -> pd.DataFrame:
    """One row per series: ``unique_id, demand_class, adi, cv2, n_obs, nonzero_share, mean_demand``.

    Uses the last ``LOOKBACK[freq]`` periods (365 days / 104 weeks). ``min_obs``: series with fewer
    observations are classed ``short`` whatever their pattern.
    """
    if freq not in LOOKBACK:
        raise ValueError(f"freq must be one of {tuple(LOOKBACK)}, got {freq!r}")
    d = df[["unique_id", "ds", "y"]]
    n_obs = d.groupby("unique_id", sort=True)["y"].size()
    recent = d.groupby("unique_id", sort=True).tail(LOOKBACK[freq])
    g = recent.groupby("unique_id", sort=True)["y"]
    n = g.size()
    nz = recent[recent["y"] > 0].groupby("unique_id", sort=True)["y"]
    n_nz = nz.size().reindex(n.index, fill_value=0)
    mean_nz = nz.mean().reindex(n.index)
    std_nz = nz.std(ddof=0).reindex(n.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = n / n_nz.replace(0, np.nan)
        cv2 = (std_nz / mean_nz) ** 2
    cls = np.where(adi < ADI_CUT, np.where(cv2 < CV2_CUT, "smooth", "erratic"),
                   np.where(cv2 < CV2_CUT, "intermittent", "lumpy")).astype(object)
    cls[(n_nz == 0).to_numpy()] = "inactive"
    if min_obs is not None:
        cls[(n_obs < min_obs).to_numpy() & (n_nz > 0).to_numpy()] = "short"
    return pd.DataFrame({
        "unique_id": n.index,
        "demand_class": cls,
        "adi": adi.to_numpy(),
        "cv2": cv2.fillna(0.0).to_numpy(),
        "n_obs": n_obs.to_numpy(),
        "nonzero_share": (n_nz / n).to_numpy(),
        "mean_demand": g.mean().to_numpy(),
    })

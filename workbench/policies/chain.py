"""Data → forecast → restock for a loaded dataset: the chain `workbench restock` and the weekly run share."""
from __future__ import annotations

import pandas as pd

# Daily horizon: the longest sea lead time (~60 d with lateness) + review period + a peak-season margin.
FORECAST_HORIZON_DAYS = 120
FORECAST_LEVELS = (80, 95)


def forecast_for_restock(ds, as_of, horizon_days: int = FORECAST_HORIZON_DAYS, levels=FORECAST_LEVELS,
                         overrides=None):
    """Daily demand forecasts per SKU (censored days imputed, events used) from the dataset's sales.

    ``overrides``: a dict or file of analyst overrides; by default the project's overrides file
    (:func:`workbench.config.overrides_path`) when it exists.
    """
    from workbench.config import overrides_path
    from workbench.forecast.api import forecast_frame
    from workbench.forecast.history import demand_history

    if overrides is None and overrides_path().is_file():
        overrides = overrides_path()
    history = demand_history(ds.tables, pd.Timestamp(as_of))
    return forecast_frame(history, horizon=horizon_days, freq="D", levels=list(levels), events=ds.get("events"),
                          overrides=overrides)


def restock_for_dataset(ds, as_of, forecast: pd.DataFrame | None = None, policy=None) -> pd.DataFrame:
    """Restock recommendations for every SKU; forecasts are made here unless given."""
    from workbench.policies.restock import RestockPolicy

    if forecast is None:
        forecast = forecast_for_restock(ds, as_of).forecast
    return (policy or RestockPolicy()).recommend(ds["products"], ds["inventory"], ds["shipments"], forecast,
                                                 pd.Timestamp(as_of), sales=ds["sales"], events=ds.get("events"))

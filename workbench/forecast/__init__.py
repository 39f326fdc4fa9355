"""Demand forecasting: censored-demand history, demand classes, backtested model choice, intervals, engines.

Public entry points (see ``docs/forecasting.md``):

- :func:`workbench.forecast.api.forecast_frame` - long frame in, :class:`ForecastResult` out.
- :func:`workbench.forecast.api.forecast_file` - the ``workbench forecast`` command.
- :func:`workbench.forecast.history.demand_history` - dataset tables -> long ``unique_id, ds, y, in_stock``.
"""
from workbench.forecast.api import ForecastResult, forecast_file, forecast_frame
from workbench.forecast.classify import classify_demand
from workbench.forecast.history import demand_history, impute_censored

__all__ = [
    "ForecastResult",
    "forecast_frame",
    "forecast_file",
    "demand_history",
    "impute_censored",
    "classify_demand",
]

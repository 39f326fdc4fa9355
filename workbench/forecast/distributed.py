"""The global model on a Dask cluster: mlforecast's ``DistributedMLForecast`` with LightGBM's Dask learner.

``engine="dask"`` runs the whole method on the cluster: the statistical candidates through
statsforecast's Fugue backend (:mod:`.engine`) and the global model here. The training frame is the
same one :class:`.gbm.GlobalGBM` builds (per-series scaling, weights 0 on censored periods, calendar and
event columns, known regressors); mlforecast computes the lag and rolling features on each partition
(every series lives whole in one partition) and ``DaskLGBMForecast`` (``lightgbm.dask.DaskLGBMRegressor``)
trains one model across the workers, LightGBM's data-parallel learner talking over sockets between
them. The forecast is recursive on the workers, then unscaled exactly as locally.

Differences from the local fit, by design of distributed LightGBM, so the global model's numbers are
close to but not identical with ``engine="local"``: histogram bin boundaries are found from each
worker's share of the data, bagging (``subsample=0.8``) draws rows per worker, and every row with a
positive weight trains (the local fit samples at most ``max_rows`` rows; on a cluster the point is
to train on all of them).
"""
from __future__ import annotations

import warnings

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.forecast.gbm import ALIAS, GlobalGBM

_CLIENT = None  # the client this module started when none was running


class DaskGlobalGBM(GlobalGBM):
    """:class:`GlobalGBM` trained and applied on the current Dask client (``dask.distributed.Client``).

    ``npartitions``: partitions of the training frame (default: one per worker, at least 2 rows of
    series per partition); each worker must hold data, so there are never more partitions than series.
    """

    def __init__(self, *args, npartitions: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.npartitions = npartitions

    def _client(self):
        """The running Dask client; without one, ``Client()``: it connects to ``DASK_SCHEDULER_ADDRESS``
        when set, else starts a LocalCluster on this machine (kept for the rest of the process)."""
        global _CLIENT
        try:
            from dask.distributed import Client, default_client
        except ImportError as e:  # pragma: no cover - depends on the install
            raise WorkbenchError("engine 'dask' needs dask: pip install 'dask[dataframe,distributed]' "
                                 "'fugue[dask]'") from e
        try:
            return default_client()
        except ValueError:
            _CLIENT = Client()
            return _CLIENT

    def _dask_regressor(self):
        from mlforecast.distributed.models.dask.lgb import DaskLGBMForecast

        return DaskLGBMForecast(**self._regressor().get_params())

    def _partitions(self, client, n_series: int) -> int:
        workers = max(1, len(client.scheduler_info()["workers"]))
        return int(max(1, min(self.npartitions or workers, n_series)))

    def forecast(self, panel: pd.DataFrame, future: pd.DataFrame | None = None, exog=()) -> pd.DataFrame:
        """As :meth:`GlobalGBM.forecast`, with the feature building, training and recursive forecast on
        the cluster. Returns ``unique_id, ds, GlobalGBM`` (a pandas frame in the driver)."""
        import dask.dataframe as dd
        from mlforecast.distributed import DistributedMLForecast

        client = self._client()
        frame = self.training_frame(panel, exog, future)
        data = frame.data
        ids = data["unique_id"].unique()
        nparts = self._partitions(client, len(ids))
        # whole series per partition: split at series boundaries, roughly equal numbers of series
        data["unique_id"] = data["unique_id"].astype(str)
        ddf = dd.from_pandas(data.set_index("unique_id"), npartitions=nparts, sort=True).reset_index()
        fcst = DistributedMLForecast(models={ALIAS: self._dask_regressor()}, engine=client,
                                     **self.mlforecast_kwargs(data))
        X_df = frame.X_df
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fcst.fit(ddf, static_features=[], dropna=False, weight_col="w")
            pred = fcst.predict(self.horizon, X_df=dd.from_pandas(X_df, npartitions=nparts)).compute()
        pred["ds"] = pd.to_datetime(pred["ds"])
        pred = pred.sort_values(["unique_id", "ds"]).reset_index(drop=True)
        return self.unscale(pred, frame.scale)

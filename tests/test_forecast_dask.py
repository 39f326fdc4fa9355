"""The same forecast on a real Dask LocalCluster (statsforecast's Fugue backend) matches the local engine."""
import numpy as np
import pandas as pd
import pytest

from forecast_fixtures import daily_panel
from workbench.forecast import forecast_frame

distributed = pytest.importorskip("dask.distributed")
pytest.importorskip("fugue_dask")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit="1GB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_engine_matches_local(client):
    hist, _ = daily_panel(n_series=8, n_days=300, seed=9)
    hist["in_stock"] = True
    hist.loc[(hist["unique_id"] == "S03") & hist["ds"].between("2024-07-01", "2024-07-05"), ["y", "in_stock"]] = [0.0, False]
    local = forecast_frame(hist, 14, "D", [80, 95], engine="local", seed=0)
    with distributed.get_task_stream(client) as stream:
        dist = forecast_frame(hist, 14, "D", [80, 95], engine="dask", seed=0)
    a = local.forecast.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    b = dist.forecast.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    assert (a["model"] == b["model"]).all()
    num = ["yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]
    np.testing.assert_allclose(a[num].to_numpy(), b[num].to_numpy(), rtol=1e-5, atol=1e-6)
    pd.testing.assert_frame_equal(local.backtest.sort_values(["unique_id", "model", "cutoff"]).reset_index(drop=True),
                                  dist.backtest.sort_values(["unique_id", "model", "cutoff"]).reset_index(drop=True),
                                  check_exact=False, rtol=1e-4, atol=1e-4)  # fugue returns float32 model output
    # the work really ran on the cluster's workers
    assert len(stream.data) > 0

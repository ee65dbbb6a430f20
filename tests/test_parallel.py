from __future__ import annotations

import joblib
import pytest

from biomarkers._parallel import dask_client, parallel_backend
from biomarkers.exceptions import ConfigError


def _square(x: int) -> int:
    return x * x


def test_local_backend_is_a_no_op():
    with parallel_backend({"kind": "local", "n_jobs": 1}) as client:
        assert client is None
        assert joblib.Parallel(n_jobs=1)(joblib.delayed(_square)(i) for i in range(4)) == [
            0,
            1,
            4,
            9,
        ]


def test_unknown_backend_is_refused():
    with (
        pytest.raises(
            ConfigError,
            match=r"backend\.kind='spark' is not supported; use one of: 'local', 'dask'",
        ),
        parallel_backend({"kind": "spark"}),
    ):
        pass


def test_unreachable_scheduler_is_a_clear_error():
    with (
        pytest.raises(ConfigError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'"),
        dask_client(scheduler="tcp://127.0.0.1:1", timeout="1s"),
    ):
        pass


@pytest.mark.slow
def test_dask_local_cluster_runs_joblib_tasks_on_workers():
    with parallel_backend({"kind": "dask", "n_jobs": 2}) as client:
        out = joblib.Parallel(n_jobs=-1)(joblib.delayed(_square)(i) for i in range(6))
        assert len(client.scheduler_info()["workers"]) == 2
    assert out == [0, 1, 4, 9, 16, 25]

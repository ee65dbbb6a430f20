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


def _blas_threads_here(_: int) -> int:
    from threadpoolctl import threadpool_info

    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


def test_blas_threads_never_oversubscribe_the_cores():
    from biomarkers._parallel import _cores, blas_threads

    for n_jobs in (1, 2, 3, 64):
        assert blas_threads(n_jobs) * min(n_jobs, _cores()) <= max(_cores(), n_jobs)
        assert blas_threads(n_jobs) >= 1
    assert blas_threads(1) == _cores()
    assert blas_threads(4, small=True) == 1


def test_limit_blas_caps_threads_in_this_process():
    from biomarkers._parallel import limit_blas

    with limit_blas(1, small=True) as cap:
        assert cap == 1
        assert _blas_threads_here(0) == 1


def test_parallel_map_tasks_see_the_blas_cap():
    from biomarkers._parallel import blas_threads
    from biomarkers.models._cv import parallel_map

    inline = parallel_map(_blas_threads_here, [(0,)], n_jobs=1, description="t")
    assert inline == [blas_threads(1)]
    workers = parallel_map(_blas_threads_here, [(i,) for i in range(2)], n_jobs=2, description="t")
    assert workers == [blas_threads(2)] * 2


def test_de_stage_runs_with_one_blas_thread(monkeypatch):
    from biomarkers.mechanism import _de

    seen = []
    real = _de._run_pydeseq2

    def spy(*args, **kwargs):
        seen.append(_blas_threads_here(0))
        return real(*args, **kwargs)

    monkeypatch.setattr(_de, "_run_pydeseq2", spy)
    counts, design = _de_case()
    _de.pseudobulk_de(
        counts, design=" ~ subject + visit", contrast=("visit", "D7", "D0"),
        design_table=design, method="pydeseq2",
    )  # fmt: skip
    assert seen == [1]


def _de_case():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n_sub, n_genes = 6, 30
    subj = np.repeat([f"S{i}" for i in range(n_sub)], 2)
    visit = np.tile(["D0", "D7"], n_sub)
    mu = rng.gamma(2, 50, n_genes)[None, :] * rng.lognormal(0, 0.3, (n_sub, 1)).repeat(2, 0)
    counts = rng.negative_binomial(5, 5 / (5 + mu))
    idx = [f"{s}_{v}" for s, v in zip(subj, visit, strict=True)]
    design = pd.DataFrame({"subject_id": subj, "visit": visit, "arm": "A"}, index=idx)
    return pd.DataFrame(counts, index=idx, columns=[f"g{i}" for i in range(n_genes)]), design


def test_trajectory_mixed_models_run_with_one_blas_thread(monkeypatch):
    import numpy as np
    import pandas as pd

    from biomarkers.mechanism import _trajectories

    seen = []
    real = _trajectories.fit_arm_visit

    def spy(*args, **kwargs):
        seen.append(_blas_threads_here(0))
        return real(*args, **kwargs)

    monkeypatch.setattr(_trajectories, "fit_arm_visit", spy)
    rng = np.random.default_rng(0)
    subjects = np.repeat([f"S{i}" for i in range(12)], 2)
    wide = pd.DataFrame(
        {
            "subject_id": subjects,
            "visit": np.tile(["D0", "D7"], 12),
            "arm": np.where(np.repeat(np.arange(12) % 2, 2) == 0, "ucMSC+SMT", "SMT"),
            "IL6": rng.normal(size=24),
            "TNF": rng.normal(size=24),
        }
    )
    _trajectories.trajectories(wide, features=["IL6", "TNF"])
    assert seen == [1, 1]


@pytest.mark.slow
def test_dask_workers_run_blas_single_threaded():
    with parallel_backend({"kind": "dask", "n_jobs": 2}):
        out = joblib.Parallel(n_jobs=-1)(joblib.delayed(_blas_threads_here)(i) for i in range(2))
    assert out == [1, 1]

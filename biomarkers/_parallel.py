"""Where parallel work runs: joblib processes here, or a Dask cluster through joblib's Dask backend.

The library parallelises with ``joblib.Parallel``; :func:`parallel_backend` only decides where
those tasks execute, so results are identical whatever the backend (seeds are derived per task,
never from worker state).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from biomarkers._logging import logger
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError

__all__ = ["blas_threads", "dask_client", "limit_blas", "parallel_backend", "resolve_n_jobs"]

# environment of Dask worker processes: their BLAS runs single-threaded, one worker per core
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Number of processes for ``n_jobs``: ``None`` uses ``settings.n_jobs`` (1 if unset), -1 all cores."""
    import os

    from biomarkers._settings import settings

    if n_jobs is None:
        n_jobs = settings.n_jobs
    if n_jobs is None:
        return 1
    if n_jobs == -1:
        return os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        msg = f"n_jobs={n_jobs!r} must be None (settings.n_jobs), -1 (all cores) or an int >= 1"
        raise ConfigError(msg)
    return n_jobs


def _cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - macOS / Windows
        return os.cpu_count() or 1


def blas_threads(n_jobs: int | None = None, *, small: bool = False) -> int:
    """BLAS threads each of ``n_jobs`` workers may use, so that workers × threads ≤ cores.

    This is the one place that decides BLAS threads: DE, discovery/predictive joblib maps and
    Dask workers all ask it.

    Parameters
    ----------
    n_jobs
        Parallel workers (``None``: ``settings.n_jobs``, ``-1``: all cores).
    small
        The work is many small matrix operations (one gene, one fold): a single BLAS thread,
        since threading a 77 × 77 factorisation costs more than it saves (pydeseq2 with free
        BLAS on 2 shared cores: 395 ms per gene instead of 8.6 ms).

    Returns
    -------
    At least 1; ``cores // n_jobs`` unless ``small``.
    """
    if small:
        return 1
    return max(1, _cores() // resolve_n_jobs(n_jobs))


@contextmanager
def limit_blas(n_jobs: int | None = None, *, small: bool = False) -> Iterator[int]:
    """Cap the BLAS threads of this process (threadpoolctl) to :func:`blas_threads`.

    joblib's loky workers already get ``cores // n_jobs`` threads each (joblib's
    ``inner_max_num_threads`` default), the same rule.

    Parameters
    ----------
    n_jobs
        Parallel workers of the block; see :func:`blas_threads`.
    small
        Many small matrix operations; see :func:`blas_threads`.

    Yields
    ------
    The cap, :func:`blas_threads` of the arguments.
    """
    from threadpoolctl import threadpool_limits

    threads = blas_threads(n_jobs, small=small)
    with threadpool_limits(limits=threads, user_api="blas"):
        yield threads


def _require_distributed():
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - the dask extra is part of the default install
        msg = "backend 'dask' needs the dask extra: pip install 'biomarkers[dask]'"
        raise ConfigError(msg) from err
    return distributed


@contextmanager
def dask_client(
    *, scheduler: str | None = None, n_workers: int | None = None, timeout: str = "20s"
) -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler``, or to a LocalCluster started here.

    A LocalCluster started here is closed on exit; an existing cluster is left running.

    Parameters
    ----------
    scheduler
        Address such as ``tcp://host:8786``; ``None`` starts a LocalCluster.
    n_workers
        Workers of the LocalCluster (one thread each, BLAS single-threaded); default the
        number of cores.
    timeout
        How long to try reaching ``scheduler``.
    """
    distributed = _require_distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except OSError as err:
            msg = f"cannot reach the Dask scheduler at {scheduler!r} ({err}); is it running?"
            raise ConfigError(msg) from None
        logger.info("connected to Dask scheduler %s", scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env=_WORKER_ENV,
    )
    client = distributed.Client(cluster)
    logger.info("started a Dask LocalCluster with %d workers", len(cluster.workers))
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@contextmanager
def parallel_backend(backend: dict[str, Any] | None) -> Iterator[Any]:
    """Run the joblib work inside the block locally or on Dask, as a config's ``backend:`` says.

    Parameters
    ----------
    backend
        ``{"kind": "local"|"dask", "n_jobs": int, "scheduler": str | None}``; ``None`` = local.

    Yields
    ------
    The Dask client, or ``None`` for the local backend.
    """
    backend = backend or {}
    kind = backend.get("kind", "local")
    if kind == "local":
        with nullcontext():
            yield None
        return
    check_choice("backend.kind", kind, ("local", "dask"))
    import joblib

    n_jobs = backend.get("n_jobs")
    with (
        dask_client(
            scheduler=backend.get("scheduler"), n_workers=n_jobs if n_jobs and n_jobs > 0 else None
        ) as client,
        joblib.parallel_backend("dask"),
    ):
        yield client

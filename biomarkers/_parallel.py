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

__all__ = ["dask_client", "parallel_backend", "resolve_n_jobs"]


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
        Workers of the LocalCluster (one thread each); default the number of cores.
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
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
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

"""Pseudobulk on a Dask cluster: one task per block of rows of an ``.h5ad`` file.

Each task opens the file itself, streams its rows through the same compiled kernel as the local
backend and returns a partial sum over only the sample × cell type profiles its rows touch; the
client adds the partial sums into the output in task order. Imported only when
``pseudobulk(..., backend="dask")`` is called (distributed is a heavy import).
"""

from __future__ import annotations

from collections import deque
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from biomarkers._logging import logger
from biomarkers._progress import progress
from biomarkers.features._accumulate import _NotCounts, accumulate_h5

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["accumulate_dask", "partial_sum", "task_bounds"]


def task_bounds(n_rows: int, rows_per_task: int) -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` of the tasks, in order."""
    starts = range(0, n_rows, rows_per_task)
    return [(s, min(s + rows_per_task, n_rows)) for s in starts]


def partial_sum(
    path: str | Path,
    element: str,
    row_start: int,
    row_group: np.ndarray,
    *,
    n_rows: int,
    n_cols: int,
    dtype: Any,
    nonzero: bool,
    check: bool,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """One task: aggregate rows ``row_start : row_start + len(row_group)`` of ``path:element``.

    Parameters
    ----------
    path, element
        The ``.h5ad`` file and the matrix inside it (``X`` or ``layers/<name>``).
    row_start
        First row of the block.
    row_group
        Output profile of each row of the block (−1 = skip).
    n_rows, n_cols
        Shape of the whole matrix (checked against the file).
    dtype, nonzero, check, chunk_size
        As in the local accumulation.

    Returns
    -------
    ids
        Sorted output profiles touched by the block.
    block
        ``(len(ids), n_cols)`` partial sums of those profiles.
    ok
        False when ``check`` found a value that is not a count (float32 would not be exact).
    """
    keep = row_group >= 0
    ids = np.unique(row_group[keep]).astype(np.int64)
    local = np.full(row_group.shape, -1, dtype=np.int32)
    local[keep] = np.searchsorted(ids, row_group[keep]).astype(np.int32)
    block = np.zeros((ids.size, n_cols), dtype=dtype)
    try:
        accumulate_h5(
            path,
            element,
            local,
            block,
            nonzero=nonzero,
            check=check,
            chunk_size=chunk_size,
            n_rows=n_rows,
            row_start=row_start,
            show_progress=False,
        )
    except _NotCounts:
        return ids, block, False
    return ids, block, True


def _add_rows(out: np.ndarray, ids: np.ndarray, block: np.ndarray) -> None:
    """``out[ids] += block`` in place, without a temporary copy of ``out[ids]`` of block size."""
    if ids.size == 0:
        return
    lo, hi = int(ids[0]), int(ids[-1]) + 1
    if hi - lo == ids.size:  # sorted, unique ids: a contiguous run of profiles (cells sorted)
        np.add(out[lo:hi], block, out=out[lo:hi])
        return
    step = max(1, (1 << 22) // max(out.shape[1] * out.itemsize, 1))  # ~4 MB temporaries
    for a in range(0, ids.size, step):
        out[ids[a : a + step]] += block[a : a + step]


@contextmanager
def _client(client: Any) -> Iterator[Any]:
    """The given client, else the active global one, else a LocalCluster for this call."""
    if client is not None:
        yield client
        return
    from biomarkers._parallel import _require_distributed, dask_client

    distributed = _require_distributed()
    try:
        active = distributed.Client.current(allow_global=True)
    except ValueError:
        active = None
    if active is not None:
        yield active
        return
    logger.info("pseudobulk: no Dask client given or active; starting a LocalCluster")
    with dask_client() as started:
        yield started


def accumulate_dask(
    path: str | Path,
    element: str,
    row_group: np.ndarray,
    out: np.ndarray,
    *,
    nonzero: bool,
    check: bool,
    chunk_size: int,
    rows_per_task: int,
    client: Any = None,
) -> None:
    """Add every row of ``path:element`` into ``out[row_group[r]]`` with one Dask task per block.

    At most two tasks per worker thread are in flight, so finished partial sums never pile up on the
    cluster (bounded memory even when a block touches every profile). Raises ``_NotCounts``
    when ``check`` is set and a task saw a non-count value.
    """
    n_rows = row_group.shape[0]
    bounds = [(a, b) for a, b in task_bounds(n_rows, rows_per_task) if (row_group[a:b] >= 0).any()]
    common = {
        "n_rows": n_rows,
        "n_cols": out.shape[1],
        "dtype": out.dtype,
        "nonzero": nonzero,
        "check": check,
        "chunk_size": chunk_size,
    }
    with _client(client) as c:
        window = max(2 * sum(c.nthreads().values()), 2)  # two tasks per worker thread
        logger.info(
            "pseudobulk on Dask: %d tasks of %d rows, %d in flight",
            len(bounds),
            rows_per_task,
            window,
        )
        todo = iter(bounds)
        pending: deque = deque()

        def submit_next() -> None:
            nxt = next(todo, None)
            if nxt is not None:
                a, b = nxt
                pending.append(
                    c.submit(
                        partial_sum,
                        str(path),
                        element,
                        a,
                        row_group[a:b],
                        pure=False,
                        **common,
                    )
                )

        for _ in range(window):
            submit_next()
        all_ok = True
        for _ in progress(range(len(bounds)), description="pseudobulk (dask)"):
            fut = pending.popleft()
            ids, block, ok = fut.result()
            fut.release()
            submit_next()
            if not ok:
                all_ok = False
                break
            _add_rows(out, ids, block)
            del block
        for fut in pending:
            fut.cancel()
    if not all_ok:
        raise _NotCounts

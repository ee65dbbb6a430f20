"""Compiled scatter-add kernels for pseudobulk (imported lazily: numba is slow to import)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["all_counts", "scatter_csr", "scatter_dense"]


@numba.njit(cache=True, nogil=True)
def scatter_csr(data, indices, indptr, offset, row_group, out, nonzero):  # pragma: no cover
    """Add CSR rows into ``out[row_group[r]]`` (rows with group −1 are skipped).

    ``data``/``indices`` hold the chunk's non-zeros starting at global position ``offset``;
    with ``nonzero`` each non-zero adds 1 instead of its value. Values are checked separately,
    by :func:`all_counts`.
    """
    for r in range(indptr.shape[0] - 1):
        g = row_group[r]
        if g < 0:
            continue
        row = out[g]
        for k in range(indptr[r] - offset, indptr[r + 1] - offset):
            v = data[k]
            if nonzero:
                if v != 0:
                    row[indices[k]] += 1
            else:
                row[indices[k]] += v


@numba.njit(cache=True, nogil=True)
def scatter_dense(x, row_group, out, nonzero):  # pragma: no cover
    """Add dense rows ``x[r]`` into ``out[row_group[r]]``."""
    n_cols = x.shape[1]
    for r in range(x.shape[0]):
        g = row_group[r]
        if g < 0:
            continue
        row = out[g]
        for j in range(n_cols):
            v = x[r, j]
            if nonzero:
                if v != 0:
                    row[j] += 1
            else:
                row[j] += v


@numba.njit(cache=True, nogil=True)
def all_counts(data):  # pragma: no cover
    """True when every value of the 1-d ``data`` is a finite, non-negative integer ≤ 2**24.

    Float32 sums of such values are exact. The one count check of pseudobulk (pass
    ``x.ravel()`` for a dense block): one branch-free (SIMD) pass, about 0.3 ns per value
    against ~0.8 ns for the same check inside the scatter loop.
    """
    bad = False
    for k in range(data.shape[0]):
        v = data[k]
        bad |= (v < 0) | (v > 16777216) | (v != np.trunc(v))  # NaN != NaN: flagged
    return not bad

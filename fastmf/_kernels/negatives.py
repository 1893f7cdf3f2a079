"""Negative items drawn over a CSR matrix of positives, the same at any thread count.

A user's positives are the sorted column indices of its CSR row. :func:`nth_absent` maps an
index ``q`` in ``[0, n_cols - n_positives)`` to the ``q``-th column that is *not* a positive
by one binary search in the row, so a uniform ``q`` is a uniform draw over the user's
non-positive items: exact, with no rejection loop (a user with nearly every item as a
positive costs no more than any other).

Randomness is counter-based: the stream of a unit of work (one training instance, one test
entry) starts at :func:`fastmf._kernels.rng.keyed_stream` of ``(seed, epoch, unit)``, so a
draw depends on its key alone, not on which thread runs it or in what order.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .rng import keyed_stream, random_index, splitmix64


@numba.njit(**JIT)
def nth_absent(present, q):
    """The ``q``-th (0-based) non-negative integer not in ``present`` (strictly increasing).

    ``present[m] - m`` counts the absent integers below ``present[m]`` and never decreases,
    so the answer is ``q`` plus the number of ``m`` with ``present[m] - m <= q``.
    """
    lo = 0
    hi = present.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if present[mid] - mid <= q:
            lo = mid + 1
        else:
            hi = mid
    return np.int64(q) + lo


@numba.njit(**JIT)
def draw_negative(indptr, indices, u, n_cols, exclude, state):
    """A negative column for row ``u`` from the stream at ``state``: uniform over the columns
    the row does not store (``exclude``; the row must not be full), or over all ``n_cols``.
    Returns ``(new state, column)``."""
    state, bits = splitmix64(state)
    if not exclude:
        return state, random_index(bits, n_cols)
    row = indices[indptr[u]:indptr[u + 1]]
    return state, nth_absent(row, random_index(bits, n_cols - row.shape[0]))


@numba.njit(**JIT)
def _merge(a, b, out):
    """Merge two sorted, disjoint index arrays into ``out`` (of their total length)."""
    i = 0
    j = 0
    for o in range(out.shape[0]):
        if j >= b.shape[0] or (i < a.shape[0] and a[i] < b[j]):
            out[o] = a[i]
            i += 1
        else:
            out[o] = b[j]
            j += 1


@numba.njit(**JIT)
def _insert(table, key):
    """Insert ``key`` (>= 0) into an open-addressing set (power-of-two size, -1 = empty);
    returns False when it was already there."""
    mask = table.shape[0] - 1
    h = np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask
    while table[h] != -1:
        if table[h] == key:
            return False
        h = (h + 1) & mask
    table[h] = key
    return True


@numba.njit(**PARALLEL_JIT)
def sample_distinct_negatives(tr_indptr, tr_indices, te_indptr, te_indices, entry_rows, key,
                              out):
    """For each entry ``e``, ``out.shape[1]`` distinct columns that row ``entry_rows[e]``
    stores in neither CSR matrix, in increasing order (``out`` of shape (n_entries, n)).

    ``key = (n_cols, seed)``. Entry ``e`` draws from the stream keyed ``(seed, 0, e)``: Floyd's
    algorithm picks ``n`` distinct ranks among the row's ``A`` absent columns (``A >= n``, the
    caller checks; the two rows must be disjoint), each rank becomes its column through
    :func:`nth_absent` over the merged rows. Parallel over entries.
    """
    n_cols, seed = key
    n = out.shape[1]
    size = 2
    while size < 2 * n:
        size *= 2
    for e in prange(out.shape[0]):
        u = entry_rows[e]
        a = tr_indices[tr_indptr[u]:tr_indptr[u + 1]]
        b = te_indices[te_indptr[u]:te_indptr[u + 1]]
        present = np.empty(a.shape[0] + b.shape[0], np.int64)
        _merge(a, b, present)
        n_absent = n_cols - present.shape[0]
        table = np.full(size, -1, np.int64)
        ranks = out[e]
        state = keyed_stream(seed, 0, e)
        c = 0
        for j in range(n_absent - n, n_absent):  # Floyd: a uniform n-subset of [0, n_absent)
            state, bits = splitmix64(state)
            t = random_index(bits, j + 1)
            if not _insert(table, t):
                t = j
                _insert(table, t)
            ranks[c] = t
            c += 1
        ranks.sort()
        for c in range(n):
            ranks[c] = nth_absent(present, ranks[c])

"""Bayesian personalised ranking: one SGD epoch over sampled (user, positive, negative) triples.

Randomness is explicit: the epoch is cut into ``len(seeds)`` chunks of consecutive samples,
chunk ``c`` drawing from its own splitmix64 stream started at ``seeds[c]``; chunks run in
parallel, Hogwild style (updates of shared rows may race, as in every parallel BPR). With one
thread the chunks run in order and the epoch is deterministic.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .topk import _contains

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(**JIT)
def splitmix64(state):
    """Advance a splitmix64 stream: returns ``(new_state, 64 random bits)``."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return state, z ^ (z >> np.uint64(31))


@numba.njit(**JIT)
def random_index(bits, n):
    """An index in ``[0, n)`` from 64 random bits (top 40 bits, modulo n)."""
    return np.int64((bits >> np.uint64(24)) % np.uint64(n))


@numba.njit(**JIT)
def bpr_triple(w, h_pos, h_neg, item_bias, i, j, learning_rate, reg, update_items):
    """One SGD step on ``L = -log sigmoid(x) + reg/2 (|w|^2 + |h_i|^2 + |h_j|^2 + b_i^2 + b_j^2)``
    with ``x = w . (h_i - h_j) + b_i - b_j``; updates the rows in place and returns ``-log
    sigmoid(x)`` before the step (float64). With ``update_items=False`` only ``w`` moves.
    """
    k = w.shape[0]
    x = item_bias[i] - item_bias[j]
    for a in range(k):
        x += w[a] * (h_pos[a] - h_neg[a])
    z = 1.0 / (1.0 + np.exp(np.float64(x)))  # sigmoid(-x) = -dL/dx
    loss = np.log1p(np.exp(-abs(np.float64(x)))) + max(-np.float64(x), 0.0)
    lr = w.dtype.type(learning_rate)
    g = w.dtype.type(z)
    rg = w.dtype.type(reg)
    for a in range(k):
        wa = w[a]
        hi, hj = h_pos[a], h_neg[a]
        w[a] = wa + lr * (g * (hi - hj) - rg * wa)
        if update_items:
            h_pos[a] = hi + lr * (g * wa - rg * hi)
            h_neg[a] = h_neg[a] + lr * (-g * wa - rg * hj)
    if update_items:
        bi, bj = item_bias[i], item_bias[j]
        item_bias[i] = bi + lr * (g - rg * bi)
        item_bias[j] = item_bias[j] + lr * (-g - rg * bj)
    return loss


@numba.njit(**JIT)
def _bpr_chunk(indptr, indices, row_of_entry, W, H, item_bias, lo, hi, state, learning_rate,
               reg, verify_negative, popularity_negatives, update_items):
    """Samples ``lo:hi`` of an epoch from the stream at ``state``: ``(loss sum, skipped)``."""
    nnz = indices.shape[0]
    n_items = H.shape[0]
    total = 0.0
    n_skip = 0
    for _ in range(lo, hi):
        state, bits = splitmix64(state)
        p = random_index(bits, nnz)
        u = row_of_entry[p]
        i = indices[p]
        state, bits = splitmix64(state)
        if popularity_negatives:
            j = indices[random_index(bits, nnz)]
        else:
            j = random_index(bits, n_items)
        if verify_negative and _contains(indices, indptr[u], indptr[u + 1], j):
            n_skip += 1
            continue
        total += bpr_triple(W[u], H[i], H[j], item_bias, i, j, learning_rate, reg,
                            update_items)
    return total, n_skip


@numba.njit(**PARALLEL_JIT)
def bpr_epoch(indptr, indices, row_of_entry, W, H, item_bias, n_samples, seeds, learning_rate,
              reg, verify_negative, popularity_negatives, update_items):
    """``n_samples`` SGD steps on random triples (see the module docstring for the streams).

    Each sample draws a stored entry ``(u, i)`` uniformly (``row_of_entry`` gives its row),
    then a negative item ``j``: uniform over items, or the item of another uniformly drawn
    entry when ``popularity_negatives`` (sampling proportional to popularity). With
    ``verify_negative`` a ``j`` in the user's row (sorted CSR indices) skips the sample.

    Returns
    -------
    (float, int)
        Sum of ``-log sigmoid(x_uij)`` over the samples taken, and the number skipped.
    """
    n_chunks = seeds.shape[0]
    per = (n_samples + n_chunks - 1) // n_chunks
    total = 0.0
    skipped = 0
    for c in prange(n_chunks):
        part, n_skip = _bpr_chunk(indptr, indices, row_of_entry, W, H, item_bias, c * per,
                                  min(n_samples, (c + 1) * per), seeds[c], learning_rate, reg,
                                  verify_negative, popularity_negatives, update_items)
        total += part
        skipped += n_skip
    return total, skipped

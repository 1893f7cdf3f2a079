"""WARP and k-OS WARP (Weston, Bengio & Usunier 2011; Weston, Yee & Weiss 2013): one SGD epoch.

A sample draws a stored entry ``(u, i)`` uniformly; for k-OS WARP the positive is then
replaced by the ``os_k``-th best scored of ``os_n`` positives drawn (with replacement) from
``u``'s row. Negatives ``j`` are drawn (as BPR draws them) until one violates the margin,
``x_uj > x_ui - 1``, at most ``max_trials`` times. A violator found at trial ``t`` estimates
the positive's rank as ``floor((n_items - 1) / t)``, and the step (:func:`~fastmf._kernels.bpr.
pair_step`, BPR's) raises ``x_ui - x_uj`` with the weight ``min(log(rank), MAX_WEIGHT)``: the
gradient of the rank-weighted hinge ``w(rank) (1 - x_ui + x_uj)``. A sampled ``j`` that is one
of ``u``'s positives uses up its trial and is not stepped on. Without a violator within the
cap the sample makes no step.

Streams and threads as in :mod:`fastmf._kernels.bpr`: chunk ``c`` of the epoch draws from the
SplitMix64 stream started at ``seeds[c]``; chunks run in parallel, Hogwild style, and with one
thread the epoch is deterministic.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .bpr import pair_in_set, pair_step
from .rng import random_index, splitmix64

#: The rank weight's cap (LightFM's clip): log of a rank estimate of about 22,000.
MAX_WEIGHT = 10.0


@numba.njit(**JIT)
def _score(model, u, i):
    """``w_u . h_i + b_i`` in float64."""
    W, H, item_bias = model
    x = np.float64(item_bias[i])
    for a in range(W.shape[1]):
        x += np.float64(W[u, a]) * np.float64(H[i, a])
    return x


@numba.njit(**JIT)
def _kth_positive(model, u, rows, os, state):
    """k-OS: the ``os_k``-th best scored of ``os_n`` positives drawn from row ``u``."""
    indptr, indices = rows
    os_k, os_n = os
    start, n_row = indptr[u], indptr[u + 1] - indptr[u]
    drawn = np.empty(os_n, dtype=np.int64)
    scores = np.empty(os_n, dtype=np.float64)
    for q in range(os_n):
        state, bits = splitmix64(state)
        drawn[q] = indices[start + random_index(bits, n_row)]
        scores[q] = _score(model, u, drawn[q])
    order = np.argsort(-scores, kind="mergesort")
    return drawn[order[min(os_k, os_n) - 1]], state


@numba.njit(**JIT)
def _adagrad_rates(model, u, i, j, g, hyper):
    """Per-row AdaGrad: each row's accumulator (starting at 1, as LightFM's) gains the mean
    square of the row's gradient in this step; its step size is ``lr / sqrt(accumulator)``."""
    W, H, _ = model
    learning_rate, reg, acc_user, acc_item = hyper
    su = si = sj = 0.0
    for a in range(W.shape[1]):
        wa, hi, hj = np.float64(W[u, a]), np.float64(H[i, a]), np.float64(H[j, a])
        su += (g * (hi - hj) - reg * wa) ** 2
        si += (g * wa - reg * hi) ** 2
        sj += (g * wa + reg * hj) ** 2
    k = W.shape[1]
    acc_user[u] += su / k
    acc_item[i] += si / k
    acc_item[j] += sj / k
    return (learning_rate / np.sqrt(acc_user[u]), learning_rate / np.sqrt(acc_item[i]),
            learning_rate / np.sqrt(acc_item[j]), reg)


@numba.njit(**JIT)
def _warp_chunk(entries, model, lo, hi, state, hyper, negatives, search):
    """Samples ``lo:hi`` of an epoch from the stream at ``state`` (arguments as
    :func:`warp_epoch`'s). Returns ``(weighted hinge sum, steps taken, skipped trials)``."""
    indptr, indices, row_of_entry = entries
    positives, popularity_negatives, n_negatives = negatives
    max_trials, os_k, os_n, mode = search
    nnz = indices.shape[0]
    verify = positives.shape[0] > 0
    total = 0.0
    n_steps = 0
    n_skip = 0
    for _ in range(lo, hi):
        state, bits = splitmix64(state)
        p = random_index(bits, nnz)
        u = row_of_entry[p]
        i = indices[p]
        if os_n > 1:
            i, state = _kth_positive(model, u, (indptr, indices), (os_k, os_n), state)
        x_i = _score(model, u, i)
        for t in range(1, max_trials + 1):
            state, bits = splitmix64(state)
            if popularity_negatives:
                j = indices[random_index(bits, nnz)]
            else:
                j = random_index(bits, n_negatives)
            x_j = _score(model, u, j)
            if x_j <= x_i - 1.0:
                continue
            if j == i or (verify and pair_in_set(positives, u * n_negatives + j)):
                n_skip += 1
                continue
            weight = min(np.log(max(1.0, np.floor((n_negatives - 1) / t))), MAX_WEIGHT)
            total += weight * (1.0 - x_i + x_j)
            n_steps += 1
            learning_rate, reg = hyper[0], hyper[1]
            if hyper[2].shape[0] > 0:
                rates = _adagrad_rates(model, u, i, j, weight, hyper)
            else:
                rates = (learning_rate, learning_rate, learning_rate, reg)
            pair_step(model, u, i, j, model[0].dtype.type(weight), rates, mode)
            break
    return total, n_steps, n_skip


@numba.njit(**PARALLEL_JIT)
def warp_epoch(entries, model, n_samples, seeds, hyper, negatives, search):
    """``n_samples`` WARP samples (see the module docstring).

    Parameters
    ----------
    entries : (indptr, indices, row_of_entry)
        The positives' CSR structure (``indptr`` read by k-OS only) and the row of every
        stored entry.
    model : (W, H, item_bias)
        User factors, item factors and item biases, updated in place.
    n_samples : int
        Samples to draw.
    seeds : ndarray of uint64
        Start state of each chunk's stream; one chunk per seed.
    hyper : (learning_rate, reg)
        As :func:`~fastmf._kernels.bpr.pair_step`'s.
    negatives : (positives, popularity_negatives, n_negatives)
        As :func:`~fastmf._kernels.bpr.bpr_epoch`'s; ``n_negatives`` is also the item count
        of the rank estimate.
    search : (max_trials, os_k, os_n, mode)
        The cap on negative draws per sample, k-OS's order statistic (``os_n = 1``: plain
        WARP) and which rows a step moves (:data:`~fastmf._kernels.bpr.UPDATE_ALL`, ...).

    Returns
    -------
    (float, int, int)
        The sum of the rank-weighted hinge losses stepped on, the number of steps, and the
        trials whose negative was a positive.
    """
    n_chunks = seeds.shape[0]
    per = (n_samples + n_chunks - 1) // n_chunks
    total = 0.0
    steps = 0
    skipped = 0
    for c in prange(n_chunks):
        part, n_steps, n_skip = _warp_chunk(entries, model, c * per,
                                            min(n_samples, (c + 1) * per), seeds[c], hyper,
                                            negatives, search)
        total += part
        steps += n_steps
        skipped += n_skip
    return total, steps, skipped

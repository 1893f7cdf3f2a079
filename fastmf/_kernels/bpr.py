"""Bayesian personalised ranking: one SGD epoch over sampled (user, positive, negative) triples.

Randomness is explicit: the epoch is cut into ``len(seeds)`` chunks of consecutive samples,
chunk ``c`` drawing from its own SplitMix64 stream (:mod:`fastmf._kernels.rng`) started at
``seeds[c]``; chunks run in parallel, Hogwild style (updates of shared rows may race, as in
every parallel BPR). With one thread the chunks run in order and the epoch is deterministic.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .rng import GOLDEN, random_index, splitmix64

#: What an SGD step on a triple moves: everything, only the user's row (user fold-in), or only
#: the positive item's row and bias (item fold-in).
UPDATE_ALL, UPDATE_USER, UPDATE_POSITIVE = 0, 1, 2


@numba.njit(**JIT)
def pair_margin(model, u, i, j):
    """``x = w_u . (h_i - h_j) + b_i - b_j`` of ``model = (W, H, item_bias)``, in its dtype."""
    W, H, item_bias = model
    x = item_bias[i] - item_bias[j]
    for a in range(W.shape[1]):
        x += W[u, a] * (H[i, a] - H[j, a])
    return x


@numba.njit(inline="always", **JIT)
def _step_all_rows(W, H, u, i, j, g, rates):
    """:func:`pair_step`'s factor rows in :data:`UPDATE_ALL` mode (``rates`` in the model's
    dtype); the negative row's update reads ``H[j]`` after the positive's, so a ``j == i``
    step lands on the updated row."""
    lu, li, lj, rg = rates
    for a in range(W.shape[1]):
        wa, hi, hj = W[u, a], H[i, a], H[j, a]
        W[u, a] = wa + lu * (g * (hi - hj) - rg * wa)
        H[i, a] = hi + li * (g * wa - rg * hi)
        H[j, a] = H[j, a] + lj * (-g * wa - rg * hj)


@numba.njit(**JIT)
def pair_step(model, u, i, j, g, rates, mode):
    """One SGD step that raises the margin ``x`` of :func:`pair_margin` with weight ``g`` (the
    loss's ``-dL/dx``) and shrinks the rows it moves by the L2 term ``reg/2 |theta|^2``.

    ``rates`` is ``(lr_user, lr_positive, lr_negative, reg)``: the step size of each row (and
    of its item's bias); ``mode`` (:data:`UPDATE_ALL`, :data:`UPDATE_USER`,
    :data:`UPDATE_POSITIVE`) says which rows move. Rows are addressed by index, not passed as
    views: a view per call would touch the shared arrays' reference counts, which threads then
    fight over. BPR (``g = sigmoid(-x)``) and WARP (``g`` its rank weight) share it.
    """
    W, H, item_bias = model
    lr_u, lr_i, lr_j, reg = rates
    k = W.shape[1]
    t = W.dtype.type
    lu, li, lj, rg = t(lr_u), t(lr_i), t(lr_j), t(reg)
    if mode == UPDATE_ALL:
        # BPR's one rate, passed as one value: the loop then keeps one multiplier live and
        # runs as fast as a single-rate loop (three distinct rates cost BPR 5-10 % an epoch)
        if lu == li and li == lj:
            _step_all_rows(W, H, u, i, j, g, (lu, lu, lu, rg))
        else:
            _step_all_rows(W, H, u, i, j, g, (lu, li, lj, rg))
        bi, bj = item_bias[i], item_bias[j]
        item_bias[i] = bi + li * (g - rg * bi)
        item_bias[j] = item_bias[j] + lj * (-g - rg * bj)
    elif mode == UPDATE_USER:
        for a in range(k):
            wa = W[u, a]
            W[u, a] = wa + lu * (g * (H[i, a] - H[j, a]) - rg * wa)
    else:
        for a in range(k):
            hi = H[i, a]
            H[i, a] = hi + li * (g * W[u, a] - rg * hi)
        item_bias[i] = item_bias[i] + li * (g - rg * item_bias[i])


@numba.njit(**JIT)
def bpr_triple(model, u, i, j, hyper, mode, with_loss):
    """One SGD step on ``L = -log sigmoid(x) + reg/2 (|w|^2 + |h_i|^2 + |h_j|^2 + b_i^2 + b_j^2)``
    with ``w = W[u]``, ``h = H[.]`` and ``x`` the :func:`pair_margin`; updates the rows in
    place (:func:`pair_step`) and returns ``-log sigmoid(x)`` before the step (float64; 0
    unless ``with_loss``). ``hyper`` is ``(learning_rate, reg)``; ``model`` and ``mode`` are
    :func:`pair_step`'s."""
    x = pair_margin(model, u, i, j)
    one = model[0].dtype.type(1)
    # one exp for both sigmoid(-x) = -dL/dx and -log sigmoid(x) = log1p(e^-|x|) + max(-x, 0)
    e = np.exp(-abs(x))
    g = e / (one + e) if x >= 0 else one / (one + e)
    loss = np.float64(np.log1p(e)) + max(-np.float64(x), 0.0) if with_loss else 0.0
    learning_rate, reg = hyper
    pair_step(model, u, i, j, g, (learning_rate, learning_rate, learning_rate, reg), mode)
    return loss


@numba.njit(**JIT)
def _slot(key, mask):
    """Home slot of a key in a power-of-two table: a multiplicative hash's mixed bits."""
    h = np.uint64(key) * GOLDEN
    return np.int64(h ^ (h >> np.uint64(29))) & mask


@numba.njit(**JIT)
def pair_set(indptr, indices, n_cols):
    """Hash set of the stored (row, column) pairs of a CSR matrix, for the negative check.

    Keys ``row * n_cols + col`` in an open-addressing table (linear probing, a power of two
    at least twice the pair count, ``-1`` = empty): a membership test costs about one cache
    miss, where a binary search in the row costs one per halving. O(nnz) memory.
    """
    nnz = indices.shape[0]
    size = 2
    while size < 2 * nnz:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    mask = size - 1
    for u in range(indptr.shape[0] - 1):
        for p in range(indptr[u], indptr[u + 1]):
            key = np.int64(u) * n_cols + indices[p]
            h = _slot(key, mask)
            while table[h] != -1 and table[h] != key:
                h = (h + 1) & mask
            table[h] = key
    return table


@numba.njit(**JIT)
def pair_in_set(table, key):
    """Is ``key`` in a table built by :func:`pair_set`?"""
    mask = table.shape[0] - 1
    h = _slot(key, mask)
    while True:
        v = table[h]
        if v == key:
            return True
        if v == -1:
            return False
        h = (h + 1) & mask


#: The epoch's loss is estimated on every LOSS_EVERY-th sample.
LOSS_EVERY = 16

#: Samples drawn (and their rows looked up) before any is applied: independent loads that the
#: CPU overlaps, instead of one cache miss after another.
BATCH = 64


@numba.njit(**JIT)
def _bpr_chunk(entries, model, lo, hi, state, hyper, negatives, mode):
    """Samples ``lo:hi`` of an epoch from the stream at ``state`` (arguments as
    :func:`bpr_epoch`'s).

    Returns ``(loss sum, losses summed, skipped)``: the loss is evaluated on the samples whose
    epoch index is a multiple of :data:`LOSS_EVERY` (a log and an exp less on the others).
    """
    indices, row_of_entry = entries
    positives, popularity_negatives, n_negatives = negatives
    nnz = indices.shape[0]
    verify = positives.shape[0] > 0
    us = np.empty(BATCH, dtype=np.int64)
    pos = np.empty(BATCH, dtype=np.int64)
    neg = np.empty(BATCH, dtype=np.int64)
    clash = np.zeros(BATCH, dtype=np.bool_)
    total = 0.0
    n_loss = 0
    n_skip = 0
    for b0 in range(lo, hi, BATCH):
        nb = min(BATCH, hi - b0)
        for q in range(nb):
            state, bits = splitmix64(state)
            p = random_index(bits, nnz)
            us[q] = row_of_entry[p]
            pos[q] = indices[p]
            state, bits = splitmix64(state)
            if popularity_negatives:
                neg[q] = indices[random_index(bits, nnz)]
            else:
                neg[q] = random_index(bits, n_negatives)
        if verify:  # the batch's lookups back to back: their cache misses overlap
            for q in range(nb):
                clash[q] = pair_in_set(positives, us[q] * n_negatives + neg[q])
        for q in range(nb):
            u, i, j = us[q], pos[q], neg[q]
            if clash[q]:
                n_skip += 1
                continue
            with_loss = (b0 + q) % LOSS_EVERY == 0
            total += bpr_triple(model, u, i, j, hyper, mode, with_loss)
            n_loss += with_loss
    return total, n_loss, n_skip


@numba.njit(**PARALLEL_JIT)
def bpr_epoch(entries, model, n_samples, seeds, hyper, negatives, mode):
    """``n_samples`` SGD steps on random triples (see the module docstring for the streams).

    Parameters
    ----------
    entries : (indices, row_of_entry)
        Column and row of every stored (positive) entry.
    model : (W, H, item_bias)
        User factors (n_users, k), item factors (n_items, k) and item biases, updated in place.
    n_samples : int
        Triples to draw.
    seeds : ndarray of uint64
        Start state of each chunk's stream; one chunk per seed.
    hyper : (learning_rate, reg)
        Step size and L2 weight of :func:`bpr_triple`.
    negatives : (positives, popularity_negatives, n_negatives)
        Each sample draws a stored entry ``(u, i)`` uniformly, then a negative item ``j``:
        uniform over items ``0 .. n_negatives - 1``, or the item of another uniformly drawn
        entry when ``popularity_negatives`` (sampling proportional to popularity).
        ``positives`` is the :func:`pair_set` of the matrix (keys ``u * n_negatives + j``), and
        a ``j`` the user has skips the sample; a zero-length ``positives`` takes every ``j``
        unchecked.
    mode : int
        Which rows a step moves (see :func:`bpr_triple`).

    Returns
    -------
    (float, int, int)
        Sum of ``-log sigmoid(x_uij)`` over the samples taken whose index is a multiple of
        :data:`LOSS_EVERY`, how many those are, and the number of samples skipped.
    """
    n_chunks = seeds.shape[0]
    per = (n_samples + n_chunks - 1) // n_chunks
    total = 0.0
    counted = 0
    skipped = 0
    for c in prange(n_chunks):
        part, n_loss, n_skip = _bpr_chunk(entries, model, c * per,
                                          min(n_samples, (c + 1) * per), seeds[c], hyper,
                                          negatives, mode)
        total += part
        counted += n_loss
        skipped += n_skip
    return total, counted, skipped

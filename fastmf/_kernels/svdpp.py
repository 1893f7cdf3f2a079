"""SVD++ epoch kernels: implicit sums, a block-stratified SGD pass, and the implicit-factor update.

The model is ``r = mu + b_u + c_i + h_i . (w_u + z_u)``, with
``z_u = |N(u)|^-1/2 sum_{j in N(u)} y_j``.
One epoch is three parallel, deterministic passes:

1. :func:`implicit_sums` — ``z_u`` for every user from the current ``y`` (parallel over users).
2. :func:`svdpp_epoch` — SGD over the ratings, block-stratified exactly like
   :func:`fastmf._kernels.sgd.sgd_epoch` (P disjoint blocks at once), with ``z_u`` held fixed:
   ``w_u``, ``h_i`` and the biases move per rating, and ``g_u += e h_i`` accumulates the
   gradient every ``y_j`` of the user shares (the standard per-user trick: O(nnz k), not
   Surprise's O(sum_u |N(u)|^2 k)).
3. :func:`implicit_update` — each ``y_j`` takes its summed step from every user that has ``j``
   in ``N(u)`` (parallel over items through the transposed ``N``).
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT


@numba.njit(**PARALLEL_JIT)
def implicit_sums(indptr, indices, Y, Z):
    """``Z[u] = |N(u)|^-1/2 * sum_{j in N(u)} Y[j]`` for the rows of a CSR ``N``; 0 if empty."""
    m, k = Z.shape
    for u in prange(m):
        z = Z[u]
        for f in range(k):
            z[f] = 0.0
        start, end = indptr[u], indptr[u + 1]
        for p in range(start, end):
            y = Y[indices[p]]
            for f in range(k):
                z[f] += y[f]
        if end > start:
            s = 1.0 / np.sqrt(end - start)
            for f in range(k):
                z[f] *= s


@numba.njit(**JIT)
def _svdpp_block(start, end, users, items, values, W, Z, H, bu, bi, mu, lr, reg, reg_bias, G):
    k = W.shape[1]
    has_bias = bu.shape[0] > 0
    loss = 0.0
    for p in range(start, end):
        u = users[p]
        i = items[p]
        w = W[u]
        z = Z[u]
        h = H[i]
        g = G[u]
        pred = mu
        if has_bias:
            pred += bu[u] + bi[i]
        for f in range(k):
            pred += (w[f] + z[f]) * h[f]
        e = values[p] - pred
        loss += e * e
        if has_bias:
            bu[u] += lr * (e - reg_bias * bu[u])
            bi[i] += lr * (e - reg_bias * bi[i])
        for f in range(k):
            wf = w[f]
            hf = h[f]
            g[f] += e * hf
            w[f] = wf + lr * (e * hf - reg * wf)
            h[f] = hf + lr * (e * (wf + z[f]) - reg * hf)
    return loss


@numba.njit(**PARALLEL_JIT)
def svdpp_epoch(block_order, block_ptr, users, items, values, W, Z, H, bu, bi, mu, lr, reg,
                reg_bias, G):
    """One block-stratified SGD pass with ``Z`` fixed; returns the sum of squared errors.

    Per rating, ``e = r - mu - b_u - c_i - h_i . (w_u + z_u)`` and, from the old values,
    ``w_u += lr (e h_i - reg w_u)``, ``h_i += lr (e (w_u + z_u) - reg h_i)``, the biases as
    in plain SGD, and ``G[u] += e h_i`` (``G`` is zeroed by the caller).
    """
    n_sub, n_par = block_order.shape
    total = 0.0
    for s in range(n_sub):
        for q in prange(n_par):
            b = block_order[s, q]
            total += _svdpp_block(block_ptr[b], block_ptr[b + 1], users, items, values, W, Z, H,
                                  bu, bi, mu, lr, reg, reg_bias, G)
    return total


@numba.njit(**PARALLEL_JIT)
def implicit_update(indptr_t, indices_t, G, Y, lr, reg):
    """One preconditioned gradient step per ``y_j`` on the epoch's summed implicit gradient.

    With ``c = |U(j)|`` (``indptr_t``/``indices_t``: the CSC of ``N``, for item ``j`` the users
    with ``j`` in ``N(u)``) and ``G`` already scaled by ``|N(u)|^-1/2``, the gradient of the
    objective is ``-(sum_{u in U(j)} G[u]) + reg c y_j``; the step is that times
    ``lr / sqrt(c)``, with the L2 part applied multiplicatively::

        y_j <- (1 - lr reg)^sqrt(c) y_j + lr / sqrt(c) sum_{u in U(j)} G[u]

    The ``1 / sqrt(c)`` keeps the summed step of a popular item stable: all of an epoch's
    implicit steps are applied at once, not one rating at a time as in Surprise.
    """
    n, k = Y.shape
    keep = 1.0 - lr * reg
    for j in prange(n):
        start, end = indptr_t[j], indptr_t[j + 1]
        if end == start:
            continue
        y = Y[j]
        root = np.sqrt(end - start)
        decay = keep ** root
        step = lr / root
        for f in range(k):
            y[f] *= decay
        for p in range(start, end):
            g = G[indices_t[p]]
            for f in range(k):
                y[f] += step * g[f]

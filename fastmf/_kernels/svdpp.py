"""SVD++ epoch kernels: implicit sums, a block-stratified SGD pass, and the implicit-factor update.

The model is ``r = mu + b_u + c_i + h_i . (w_u + z_u)``, with
``z_u = |N(u)|^-1/2 sum_{j in N(u)} y_j``.
One epoch is three parallel, deterministic passes:

1. :func:`implicit_sums` — ``z_u`` for every user from the current ``y`` (parallel over users).
2. :func:`svdpp_block` run by the block-SGD driver :func:`fastmf._kernels.block_sgd.sgd_epoch`
   — SGD over the ratings, block-stratified (P disjoint blocks at once), with ``z_u`` held fixed:
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
def implicit_sums(pattern, Y, Z):
    """``Z[u] = |N(u)|^-1/2 * sum_{j in N(u)} Y[j]`` for the rows of a CSR ``N``; 0 if empty.

    ``pattern`` is ``(indptr, indices)``, the structure of ``N`` (its values are not read).
    """
    indptr, indices = pattern
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
def svdpp_block(start, end, entries, model, hyper, implicit):
    """The SVD++ ratings pass over the entries ``start:end`` with ``Z`` fixed; returns the sum
    of squared errors.

    Arguments as :func:`fastmf._kernels.sgd.sgd_block`'s (``hyper`` uses mu, lr, reg and
    reg_bias), plus ``implicit = (Z, G)``: the implicit sums ``z_u`` (n_users, k) and the
    gradient accumulators. Per rating, ``e = r - mu - b_u - c_i - h_i . (w_u + z_u)`` and, from
    the old values, ``w_u += lr (e h_i - reg w_u)``, ``h_i += lr (e (w_u + z_u) - reg h_i)``,
    the biases as in plain SGD, and ``G[u] += e h_i`` (``G`` is zeroed by the caller).
    """
    users, items, values = entries
    W, H, bu, bi = model
    mu, lr, reg, reg_bias = hyper[0], hyper[1], hyper[2], hyper[3]
    Z, G = implicit
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
def implicit_update(pattern_t, G, Y, lr, reg):
    """One preconditioned gradient step per ``y_j`` on the epoch's summed implicit gradient.

    With ``c = |U(j)|`` (``pattern_t = (indptr_t, indices_t)``: the CSC structure of ``N``, for
    item ``j`` the users with ``j`` in ``N(u)``) and ``G`` already scaled by ``|N(u)|^-1/2``,
    the gradient of the objective is ``-(sum_{u in U(j)} G[u]) + reg c y_j``; the step is that times
    ``lr / sqrt(c)``, with the L2 part applied multiplicatively::

        y_j <- (1 - lr reg)^sqrt(c) y_j + lr / sqrt(c) sum_{u in U(j)} G[u]

    The ``1 / sqrt(c)`` keeps the summed step of a popular item stable: all of an epoch's
    implicit steps are applied at once, not one rating at a time as in Surprise.
    """
    indptr_t, indices_t = pattern_t
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

"""Residual MF: biased matrix factorization plus an MLP over the same embeddings.

::

    rhat_ui = mu + b_u + c_i + p_u . q_i + g([p_u, q_i])

``P`` (n_users, k), ``Q`` (n_items, k), biases ``bu``, ``bi``; ``g`` an MLP (flat parameters
``theta``, ``sizes = (2k, h_1, ..., 1)``, activation ``codes``; see :mod:`~fastmf._kernels.nn`)
whose input is the concatenation of the user's and the item's embeddings. Training fits
``y = r - mu`` by minibatches over a permutation of the ratings; a batch ``B`` minimises::

    1/|B| sum_{(u,i) in B} [ 1/2 e_ui^2 + reg/2 (|p_u|^2 + |q_i|^2) + reg_bias/2 (b_u^2 + c_i^2) ]
        + reg_weights/2 |theta|^2,      e_ui = b_u + c_i + p_u . q_i + g([p_u, q_i]) - y_ui

so an embedding row is penalised once per occurrence, as in the SGD of
:mod:`~fastmf._kernels.sgd`, and the MLP weights (biases included) once per batch. Embedding
rows get lazy row-sparse steps, ``theta`` dense steps (see :mod:`~fastmf._kernels.nn`); all
gradients are taken at the batch's starting point. The epoch is the same at any thread count:
the MLP runs through the core's sample- and parameter-parallel phases, the O(batch k)
factorization part serially in sample order.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .nn import (
    activate,
    mlp_backward_batch,
    mlp_forward,
    mlp_forward_batch,
    mlp_grad,
    opt_step_flat,
    opt_step_rows,
    touch_row,
)

_ITEMS = 256  # items per scoring task


@numba.njit(**JIT)
def _embedding_grads(idx, data, params, reg, A, D, E, grads, touched, stamp):
    """Add each sample's gradient of its user and item rows (scaled by ``1 / len(idx)``) into
    ``GU``/``GI`` (bias in the last column), serially in sample order; returns how many user
    and item rows the batch touched (listed in ``touched``)."""
    users, items, _ = data
    P, Q, bu, bi, _ = params
    GU, GI = grads
    mark_u, rows_u, mark_i, rows_i = touched
    m = idx.shape[0]
    k = P.shape[1]
    T = P.dtype.type
    sc = T(1.0 / m)
    rg = T(reg[0])
    rb = T(reg[1])
    nu = 0
    ni = 0
    for s in range(m):
        u = users[idx[s]]
        i = items[idx[s]]
        e = E[s]
        nu = touch_row(u, mark_u, stamp, rows_u, nu)
        ni = touch_row(i, mark_i, stamp, rows_i, ni)
        for f in range(k):
            GU[u, f] += sc * (e * Q[i, f] + D[s, f] + rg * P[u, f])
            GI[i, f] += sc * (e * P[u, f] + D[s, k + f] + rg * Q[i, f])
        GU[u, k] += sc * (e + rb * bu[u])
        GI[i, k] += sc * (e + rb * bi[i])
    return nu, ni


@numba.njit(**JIT)
def residual_mf_epoch(order, data, params, state, net, opt, reg, batch):
    """One minibatch epoch; returns the sum of squared errors, each before its batch's step.

    ``order`` is a permutation of the ratings (drawn by the caller); ``data = (users, items,
    y)`` with ``y = r - mu``; ``params = (P, Q, bu, bi, theta)``, updated in place;
    ``state = (s1, s2)``, each a tuple shaped like ``params`` (zero-length arrays where absent:
    plain SGD has neither, momentum SGD only ``s1``); ``net = (sizes, codes)`` with
    ``sizes[0] == 2 k`` and ``sizes[-1] == 1``; ``opt`` as in :mod:`~fastmf._kernels.nn`;
    ``reg = (reg, reg_bias, reg_weights)``; ``batch = (batch_size, t0)``, ``t0`` the number of
    steps before this epoch (the caller adds ``ceil(len(order) / batch_size)`` per epoch).
    """
    users, items, y = data
    P, Q, bu, bi, theta = params
    sizes, codes = net
    (s1P, s1Q, s1bu, s1bi, s1t), (s2P, s2Q, s2bu, s2bi, s2t) = state
    batch_size, t0 = batch
    n = order.shape[0]
    n_users, k = P.shape
    n_items = Q.shape[0]
    size = max(min(batch_size, n), 1)
    width = 0
    for layer in range(sizes.shape[0]):
        width += sizes[layer]
    last = width - 1
    dt = P.dtype
    A = np.zeros((size, width), dt)
    D = np.zeros((size, width), dt)
    E = np.empty(size, dt)
    gtheta = np.empty_like(theta)
    GU = np.zeros((n_users, k + 1), dt)
    GI = np.zeros((n_items, k + 1), dt)
    touched = (np.full(n_users, -1, np.int64), np.empty(size, np.int64),
               np.full(n_items, -1, np.int64), np.empty(size, np.int64))
    rows_u, rows_i = touched[1], touched[3]
    bu2, bi2 = bu.reshape((n_users, 1)), bi.reshape((n_items, 1))
    s1bu2, s2bu2 = s1bu.reshape((s1bu.shape[0], 1)), s2bu.reshape((s2bu.shape[0], 1))
    s1bi2, s2bi2 = s1bi.reshape((s1bi.shape[0], 1)), s2bi.reshape((s2bi.shape[0], 1))
    sse = 0.0
    t = t0
    for b0 in range(0, n, batch_size):
        idx = order[b0:min(b0 + batch_size, n)]
        m = idx.shape[0]
        t += 1
        for s in range(m):
            u = users[idx[s]]
            i = items[idx[s]]
            for f in range(k):
                A[s, f] = P[u, f]
                A[s, k + f] = Q[i, f]
        mlp_forward_batch(theta, sizes, codes, A, m)
        for s in range(m):
            p = idx[s]
            u = users[p]
            i = items[p]
            e = bu[u] + bi[i] + A[s, last] - y[p]
            for f in range(k):
                e += P[u, f] * Q[i, f]
            E[s] = e
            D[s, last] = e
            sse += e * e
        mlp_backward_batch(theta, sizes, codes, A, D, m, True)
        mlp_grad(sizes, A, D, m, gtheta, 1.0 / m)
        nu, ni = _embedding_grads(idx, data, params, reg, A, D, E, (GU, GI), touched, b0)
        opt_step_flat(theta, gtheta, s1t, s2t, opt, t, reg[2])
        opt_step_rows(P, GU[:, :k], s1P, s2P, rows_u, nu, opt, t)
        opt_step_rows(bu2, GU[:, k:], s1bu2, s2bu2, rows_u, nu, opt, t)
        opt_step_rows(Q, GI[:, :k], s1Q, s2Q, rows_i, ni, opt, t)
        opt_step_rows(bi2, GI[:, k:], s1bi2, s2bi2, rows_i, ni, opt, t)
    return sse


@numba.njit(**PARALLEL_JIT)
def residual_mf_item_half(Q, theta, sizes, out):
    """The item half of the MLP's first layer, once for all items: ``out[i] = b_0 +
    q_i @ W_0[k:]`` (pre-activation), ``out`` (n_items, sizes[1])."""
    k = Q.shape[1]
    h = sizes[1]
    W0 = theta[:2 * k * h].reshape((2 * k, h))
    b0 = theta[2 * k * h:2 * k * h + h]
    for i in prange(Q.shape[0]):
        for j in range(h):
            out[i, j] = b0[j]
        for f in range(k):
            q = Q[i, f]
            for j in range(h):
                out[i, j] += q * W0[k + f, j]


@numba.njit(**PARALLEL_JIT)
def residual_mf_scores(users, P, Q, bu, bi, theta, sizes, codes, item_half, out):
    """Scores of users ``users`` against every item, without the global mean: ``out``
    (len(users), n_items).

    ``out[r, i] = b_u + c_i + p_u . q_i + g([p_u, q_i])`` for ``u = users[r]``, with the first
    layer's item half taken from ``item_half`` (:func:`residual_mf_item_half`): per user the
    user half ``p_u @ W_0[:k]`` once, then per item one vector add, the first activation and
    the remaining (small) layers. Parallel over (user, block of items) pairs; the caller bounds
    ``len(users)`` so that ``out`` stays small (it takes the top k of each block).
    """
    n_items, k = Q.shape
    h = sizes[1]
    width = 0
    for layer in range(sizes.shape[0]):
        width += sizes[layer]
    W0 = theta[:2 * k * h].reshape((2 * k, h))
    n_blocks = (n_items + _ITEMS - 1) // _ITEMS
    for task in prange(users.shape[0] * n_blocks):
        r = task // n_blocks
        lo = (task % n_blocks) * _ITEMS
        u = users[r]
        a = np.empty(width, P.dtype)
        uh = np.zeros(h, P.dtype)
        for f in range(k):
            pf = P[u, f]
            for j in range(h):
                uh[j] += pf * W0[f, j]
        z = a[2 * k:2 * k + h]
        for i in range(lo, min(lo + _ITEMS, n_items)):
            for j in range(h):
                z[j] = uh[j] + item_half[i, j]
            activate(z, codes[0])
            mlp_forward(theta, sizes, codes, a, 1)
            s = bu[u] + bi[i] + a[width - 1]
            for f in range(k):
                s += P[u, f] * Q[i, f]
            out[r, i] = s

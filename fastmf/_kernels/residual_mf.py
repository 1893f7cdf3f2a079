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
gradients are taken at the batch's starting point. The MLP runs layer by layer over the batch
(one gemm per layer and pass, :mod:`~fastmf._kernels.mlp_gemm`), in :data:`PARTS` fixed parts
at once, the O(batch k) factorization part in the calling thread in sample order: the epoch is
the same bit for bit at any thread count. Scoring, prediction and fold-in are parallel over
users, pairs or rows.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .mlp_gemm import backward_parts, block, forward_parts, part_size
from .nn import activate, mlp_backward, mlp_forward, opt_step, opt_step_rows, touch_row

_ITEMS = 256  # items per scoring task
#: Parts of a training batch whose MLP passes run in parallel. Fixed, not the thread count:
#: the parts' gradients are summed in part order, so the epoch is the same at any thread count.
PARTS = 2


@numba.njit(**JIT)
def _gather(idx, data, params, sizes, A, cap):
    """The MLP inputs ``[p_u, q_i]`` of the batch's samples into the first block of each
    part's buffer ``A[c]`` (see :func:`~fastmf._kernels.mlp_gemm.forward_parts`)."""
    users, items, _ = data
    P, Q, _, _, _ = params
    k = P.shape[1]
    m = idx.shape[0]
    n_parts = A.shape[0]
    size = (m + n_parts - 1) // n_parts
    for c in range(n_parts):
        mc = part_size(m, n_parts, c)
        X = block(A[c], cap, sizes, 0, mc)
        for r in range(mc):
            j = idx[c * size + r]
            p = P[users[j]]
            q = Q[items[j]]
            x = X[r]
            for f in range(k):
                x[f] = p[f]
                x[k + f] = q[f]


@numba.njit(**JIT)
def _errors(idx, data, params, sizes, A, D, cap, E):
    """``E[s] = e_s`` from the MLP's outputs (the last block of each part of ``A``), also
    into the last block of ``D`` (``dL/d(output)``); returns the batch's squared errors."""
    users, items, y = data
    P, Q, bu, bi, _ = params
    k = P.shape[1]
    m = idx.shape[0]
    last = sizes.shape[0] - 1
    n_parts = A.shape[0]
    size = (m + n_parts - 1) // n_parts
    sse = 0.0
    for c in range(n_parts):
        mc = part_size(m, n_parts, c)
        out = block(A[c], cap, sizes, last, mc)
        dout = block(D[c], cap, sizes, last, mc)
        for r in range(mc):
            s = c * size + r
            j = idx[s]
            u = users[j]
            i = items[j]
            p = P[u]
            q = Q[i]
            e = bu[u] + bi[i] + out[r, 0] - y[j]
            for f in range(k):
                e += p[f] * q[f]
            E[s] = e
            dout[r, 0] = e
            sse += e * e
    return sse


@numba.njit(**JIT)
def _embedding_grads(idx, data, params, reg, sizes, D, cap, E, grads, touched, stamp):
    """Add each sample's gradient of its user and item rows (scaled by ``1 / len(idx)``) into
    ``GU``/``GI`` (bias in the last column), serially in sample order; returns how many user
    and item rows the batch touched (listed in ``touched``). The first block of each part of
    ``D`` holds the gradients of ``e_s g`` with respect to the MLP's inputs."""
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
    n_parts = D.shape[0]
    size = (m + n_parts - 1) // n_parts
    nu = 0
    ni = 0
    for c in range(n_parts):
        mc = part_size(m, n_parts, c)
        dX = block(D[c], cap, sizes, 0, mc)
        for r in range(mc):
            s = c * size + r
            u = users[idx[s]]
            i = items[idx[s]]
            e = E[s]
            nu = touch_row(u, mark_u, stamp, rows_u, nu)
            ni = touch_row(i, mark_i, stamp, rows_i, ni)
            gu = GU[u]
            gi = GI[i]
            p = P[u]
            q = Q[i]
            d = dX[r]
            for f in range(k):
                gu[f] += sc * (e * q[f] + d[f] + rg * p[f])
                gi[f] += sc * (e * p[f] + d[k + f] + rg * q[f])
            gu[k] += sc * (e + rb * bu[u])
            gi[k] += sc * (e + rb * bi[i])
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

    The MLP runs layer by layer over the batch, split into :data:`PARTS` parts whose passes
    run in parallel (:func:`~fastmf._kernels.mlp_gemm.forward_parts`; run it with the BLAS
    pool at one thread); everything else runs in the calling thread, in sample order. Per
    batch the work is O(batch (k + n_params)): only the touched rows of the gradient tables
    ``GU``, ``GI`` (allocated once per epoch) are written, stepped and cleared.
    """
    P, Q, bu, bi, theta = params
    sizes, codes = net
    (s1P, s1Q, s1bu, s1bi, s1t), (s2P, s2Q, s2bu, s2bi, s2t) = state
    batch_size, t0 = batch
    n = order.shape[0]
    n_users, k = P.shape
    n_items = Q.shape[0]
    size = max(min(batch_size, n), 1)
    cap = (size + PARTS - 1) // PARTS
    width = 0
    for layer in range(sizes.shape[0]):
        width += sizes[layer]
    dt = P.dtype
    A = np.zeros((PARTS, cap * width), dt)
    D = np.zeros((PARTS, cap * width), dt)
    E = np.empty(size, dt)
    G = np.empty((PARTS, theta.shape[0]), dt)
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
        _gather(idx, data, params, sizes, A, cap)
        forward_parts(theta, sizes, codes, A, cap, m)
        sse += _errors(idx, data, params, sizes, A, D, cap, E)
        backward_parts(theta, sizes, codes, A, D, cap, m, G, gtheta, 1.0 / m, True)
        nu, ni = _embedding_grads(idx, data, params, reg, sizes, D, cap, E, (GU, GI), touched,
                                  b0)
        opt_step(theta, gtheta, s1t, s2t, opt, t, reg[2])
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


@numba.njit(**PARALLEL_JIT)
def residual_mf_predict(users, items, P, Q, bu, bi, theta, sizes, codes, out):
    """``out[s] = b_u + c_i + p_u . q_i + g([p_u, q_i])`` (without the global mean) for the
    pairs ``(users[s], items[s])``, in parallel over pairs: the whole MLP per pair."""
    k = P.shape[1]
    width = 0
    for layer in range(sizes.shape[0]):
        width += sizes[layer]
    for s in prange(users.shape[0]):
        u = users[s]
        i = items[s]
        a = np.empty(width, P.dtype)
        p = P[u]
        q = Q[i]
        dot = P.dtype.type(0)
        for f in range(k):
            a[f] = p[f]
            a[k + f] = q[f]
            dot += p[f] * q[f]
        mlp_forward(theta, sizes, codes, a, 0)
        out[s] = bu[u] + bi[i] + dot + a[width - 1]



@numba.njit(**PARALLEL_JIT)
def residual_mf_fold_in(indptr, indices, y, other, other_bias, other_half, W_own, theta,
                        sizes, codes, reg, reg_bias, lr, momentum, n_steps, X, b):
    """Fit the embeddings ``X[r]`` and biases ``b[r]`` of new rows, everything else frozen.

    Row ``r`` (a new user; for a new item the same with the roles swapped) has entries
    ``indices[indptr[r]:indptr[r + 1]]`` (columns of the other side, targets ``y`` = r - mu)
    and minimises the training objective restricted to it::

        1/n_r sum_j [1/2 e_j^2] + reg/2 |x|^2 + reg_bias/2 b^2,
        e_j = b + c_j + x . o_j + g(z) - y_j,   z_0 = x @ W_own + other_half[j]

    (``other`` / ``other_bias``: the other side's embeddings and biases; ``other_half[j]``: the
    first MLP layer's pre-activation from ``o_j`` and the layer's bias; ``W_own``: the rows of
    the first layer's weights that multiply this side's embedding). ``n_steps`` full-batch
    gradient steps with heavy-ball momentum from the given ``X[r]``, ``b[r]``; the iterate
    with the lowest objective seen is kept. Rows without entries are left as they are.
    Parallel over rows; each row's arithmetic is serial, so the result does not depend on the
    thread count.
    """
    k, h = W_own.shape
    T = X.dtype.type
    width = 0
    for layer in range(sizes.shape[0]):
        width += sizes[layer]
    top = width - 1
    off = sizes[0]
    for r in prange(X.shape[0]):
        lo = indptr[r]
        hi = indptr[r + 1]
        if hi == lo:
            continue
        inv = 1.0 / (hi - lo)
        a = np.empty(width, X.dtype)
        d = np.empty(width, X.dtype)
        uh = np.empty(h, X.dtype)
        gz = np.empty(h, X.dtype)
        gx = np.empty(k, X.dtype)
        vx = np.zeros(k, X.dtype)
        x = X[r].copy()
        best_x = x.copy()
        bias = b[r]
        best_b = bias
        vb = 0.0
        best = np.inf
        for step in range(n_steps + 1):
            for j in range(h):
                uh[j] = 0
                gz[j] = 0
            for f in range(k):
                gx[f] = 0
                xf = x[f]
                w = W_own[f]
                for j in range(h):
                    uh[j] += xf * w[j]
            sse = 0.0
            gb = 0.0
            for p in range(lo, hi):
                c = indices[p]
                o = other[c]
                oh = other_half[c]
                z = a[off:off + h]
                for j in range(h):
                    z[j] = uh[j] + oh[j]
                activate(z, codes[0])
                mlp_forward(theta, sizes, codes, a, 1)
                e = bias + other_bias[c] + a[top] - y[p]
                for f in range(k):
                    e += x[f] * o[f]
                sse += e * e
                gb += e
                d[top] = e
                mlp_backward(theta, sizes, codes, a, d, False)
                dz = d[off:off + h]
                for j in range(h):
                    gz[j] += dz[j]
                for f in range(k):
                    gx[f] += e * o[f]
            norm = 0.0
            for f in range(k):
                norm += x[f] * x[f]
            J = 0.5 * sse * inv + 0.5 * reg * norm + 0.5 * reg_bias * bias * bias
            if J < best:
                best = J
                best_b = bias
                for f in range(k):
                    best_x[f] = x[f]
            if step == n_steps or not np.isfinite(J):
                break
            for f in range(k):
                w = W_own[f]
                s = gx[f]
                for j in range(h):
                    s += w[j] * gz[j]
                g = T(s * inv + reg * x[f])
                vx[f] = T(momentum) * vx[f] + g
                x[f] -= T(lr) * vx[f]
            vb = momentum * vb + gb * inv + reg_bias * bias
            bias = T(bias - lr * vb)
        for f in range(k):
            X[r, f] = best_x[f]
        b[r] = best_b

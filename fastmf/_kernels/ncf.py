"""Neural collaborative filtering (He et al. 2017): GMF, MLP and NeuMF in one kernel set.

Layout
------
User row ``U[u] = [p_u | p'_u]`` and item row ``V[i] = [q_i | q'_i]``: the first ``kg``
columns are the GMF embeddings, the other ``km`` the MLP's. The logit is::

    x_ui = h . [p_u * q_i, g([p'_u, q'_i])] + b

with ``g`` the MLP tower (sizes ``(2 km, l_1, ..., l_L)``, one activation code per layer; see
:mod:`~fastmf._kernels.nn`) and the output layer ``h`` (``kg + l_L``), ``b``. All dense
parameters live in one flat vector ``w = [theta (the tower) | h | b]``. GMF is ``km = 0`` (no
tower: ``sizes = [0]``), MLP ``kg = 0``.

Training
--------
An epoch visits every positive ``(u, i)`` of the CSR matrix in the order ``order`` with its
``n_neg`` negatives right after it: instance ``q`` is positive ``order[q // (n_neg + 1)]``
when ``q % (n_neg + 1) == 0`` (label 1), else a negative item of the same user (label 0)
drawn from the stream keyed ``(seed, epoch, q)`` (:mod:`~fastmf._kernels.negatives`): new
negatives every epoch, the same at any thread count. The objective over an epoch's instances
``S`` is::

    J = sum_{(u, i, y) in S} [ l(x_ui, y) + reg (|U[u]|^2 + |V[i]|^2 + |w|^2) ]

``l(x, y) = log(1 + e^x) - y x`` (log loss on the logit). Each batch ``B`` of ``batch_size``
consecutive instances steps on ``1/|B|`` times its part of ``J``: every parameter a sample
uses is penalised by that sample, so ``w`` gets a weight decay of ``2 reg`` and an embedding
row ``2 reg / |B|`` per occurrence; the output layer is penalised like everything else
(GMF's ``x`` is invariant to scaling ``p, q`` down and ``h`` up, so an L2 on the embeddings
alone would only move weight into ``h``). Embedding rows get lazy row-sparse steps, ``w``
dense ones. The tower runs layer by layer over the whole batch
(:mod:`~fastmf._kernels.mlp_gemm`), everything else is summed in sample order, and the epoch
runs in one thread: it is the same bit for bit whatever the thread count. Fold-in and scoring
are parallel over rows, pairs or blocks of items.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .mlp_gemm import backward, block, forward
from .negatives import draw_negative
from .nn import (
    LOG,
    activate,
    loss_grad,
    mlp_backward,
    mlp_forward,
    n_params,
    opt_step,
    opt_step_rows,
    touch_row,
)
from .rng import keyed_stream, splitmix64

_PAIRS = 256  # pairs per scoring task
_ITEMS = 256  # items per task of the block scores


@numba.njit(**JIT)
def net_shape(sizes, kg):
    """``(n_theta, n_head, width)``: the tower's parameter count, the output layer's inputs
    and the length of a sample's activation vector (0 without a tower)."""
    if sizes.shape[0] < 2:
        return 0, kg, 0
    width = 0
    for layer in range(sizes.shape[0]):
        width += sizes[layer]
    return n_params(sizes), kg + sizes[sizes.shape[0] - 1], width


@numba.njit(**JIT)
def logit(U, u, V, i, w, sizes, codes, kg, a, f):
    """Forward pass of one (user, item) pair: returns ``x_ui`` (float64) and leaves the
    tower's activations in ``a`` and the output layer's input in ``f``. A negative ``u`` or
    ``i`` reads a row of zeros (an unknown user or item)."""
    n_theta, nf, width = net_shape(sizes, kg)
    k = U.shape[1]
    km = k - kg
    zero = U.dtype.type(0)
    if width > 0:
        for c in range(km):
            a[c] = U[u, kg + c] if u >= 0 else zero
            a[km + c] = V[i, kg + c] if i >= 0 else zero
        mlp_forward(w[:n_theta], sizes, codes, a, 0)
    for c in range(kg):
        f[c] = U[u, c] * V[i, c] if u >= 0 and i >= 0 else zero
    for c in range(kg, nf):
        f[c] = a[width - nf + c]
    x = np.float64(w[n_theta + nf])
    h = w[n_theta:n_theta + nf]
    s = zero
    for c in range(nf):
        s += h[c] * f[c]
    return x + s


@numba.njit(**JIT)
def sample_pass(U, u, V, i, y, w, net, a, d, f):
    """Forward and backward pass of one sample with label ``y``: returns ``(loss, e)`` with
    ``e = dl/dx`` (float64); ``d[:2 km]`` then holds ``dl/d[p'_u, q'_i]`` (with a tower)."""
    sizes, codes, kg = net
    x = logit(U, u, V, i, w, sizes, codes, kg, a, f)
    loss, e = loss_grad(x, y, LOG)
    n_theta, nf, width = net_shape(sizes, kg)
    if width > 0:
        et = a.dtype.type(e)
        n_out = nf - kg
        for c in range(n_out):
            d[width - n_out + c] = et * w[n_theta + kg + c]
        mlp_backward(w[:n_theta], sizes, codes, a, d, True)
    return loss, e


@numba.njit(**JIT)
def _draw_batch(order, q0, m, positives, hyper, pairs):
    """The instances ``q0 .. q0 + m - 1`` of the epoch as (user, item, label) rows of
    ``pairs`` (see the module docstring)."""
    indptr, indices, rows = positives
    n_neg, exclude, n_cols, seed, epoch = hyper
    for s in range(m):
        q = q0 + s
        p = order[q // (n_neg + 1)]
        u = rows[p]
        pairs[s, 0] = u
        if q % (n_neg + 1) == 0:
            pairs[s, 1] = indices[p]
            pairs[s, 2] = 1
        else:
            _, j = draw_negative(indptr, indices, u, n_cols, exclude,
                                 keyed_stream(seed, epoch, q))
            pairs[s, 1] = j
            pairs[s, 2] = 0


@numba.njit(**JIT)
def _forward(pairs, m, params, net, A, cap, F, E):
    """The batch's forward pass: the tower's inputs gathered into ``A``'s first block, the
    tower (one gemm per layer), the output layer's inputs in ``F``, ``E[s] = (e, loss)``."""
    U, V, w = params
    sizes, codes, kg = net
    n_theta, nf, width = net_shape(sizes, kg)
    km = U.shape[1] - kg
    for s in range(m):
        u = pairs[s, 0]
        i = pairs[s, 1]
        for c in range(kg):
            F[s, c] = U[u, c] * V[i, c]
    if width > 0:
        X = block(A, cap, sizes, 0, m)
        for s in range(m):
            x = X[s]
            pu = U[pairs[s, 0]]
            qi = V[pairs[s, 1]]
            for c in range(km):
                x[c] = pu[kg + c]
                x[km + c] = qi[kg + c]
        forward(w[:n_theta], sizes, codes, A, cap, m)
        out = block(A, cap, sizes, sizes.shape[0] - 1, m)
        for s in range(m):
            for c in range(kg, nf):
                F[s, c] = out[s, c - kg]
    h = w[n_theta:n_theta + nf]
    for s in range(m):
        f = F[s]
        x = np.float64(w[n_theta + nf])
        z = U.dtype.type(0)
        for c in range(nf):
            z += h[c] * f[c]
        loss, e = loss_grad(x + z, pairs[s, 2], LOG)
        E[s, 0] = e
        E[s, 1] = loss


@numba.njit(**JIT)
def _backward(m, params, net, A, D, cap, F, E, gw):
    """The dense gradient ``gw`` (the tower's by gemm, the output layer's) of the batch's mean
    log loss; with a tower, ``D``'s first block then holds ``dl/d[p', q']`` of each sample."""
    _, _, w = params
    sizes, codes, kg = net
    n_theta, nf, width = net_shape(sizes, kg)
    T = w.dtype.type
    sc = T(1.0 / m)
    if width > 0:
        n_out = nf - kg
        dout = block(D, cap, sizes, sizes.shape[0] - 1, m)
        for s in range(m):
            e = E[s, 0]
            for c in range(n_out):
                dout[s, c] = e * w[n_theta + kg + c]
        backward(w[:n_theta], sizes, codes, A, D, cap, m, gw[:n_theta], 1.0 / m, True)
    for c in range(nf + 1):
        gw[n_theta + c] = 0
    for s in range(m):
        e = E[s, 0]
        f = F[s]
        for c in range(nf):
            gw[n_theta + c] += e * f[c]
        gw[n_theta + nf] += e
    for c in range(nf + 1):
        gw[n_theta + c] *= sc


@numba.njit(**JIT)
def _embedding_grads(pairs, m, params, kg, dX, E, reg, grads, touched, stamp):
    """Add each sample's gradient of its user and item rows (scaled by ``1 / m``) into
    ``GU`` / ``GV``, serially in sample order; returns ``(rows of U, rows of V, the batch's
    embedding penalty)``. ``dX``: the tower's input gradients (unused without a tower)."""
    U, V, w, n_theta = params
    GU, GV = grads
    mark_u, rows_u, mark_i, rows_i = touched
    k = U.shape[1]
    km = k - kg
    T = U.dtype.type
    sc = T(1.0 / m)
    r2 = T(2 * reg)
    h = w[n_theta:n_theta + kg]
    nu = 0
    ni = 0
    penalty = 0.0
    for s in range(m):
        u = pairs[s, 0]
        i = pairs[s, 1]
        e = T(E[s, 0])
        nu = touch_row(u, mark_u, stamp, rows_u, nu)
        ni = touch_row(i, mark_i, stamp, rows_i, ni)
        gu = GU[u]
        gi = GV[i]
        pu = U[u]
        qi = V[i]
        norm = T(0)
        for c in range(kg):
            gu[c] += sc * (e * h[c] * qi[c] + r2 * pu[c])
            gi[c] += sc * (e * h[c] * pu[c] + r2 * qi[c])
        for c in range(km):
            gu[kg + c] += sc * (dX[s, c] + r2 * pu[kg + c])
            gi[kg + c] += sc * (dX[s, km + c] + r2 * qi[kg + c])
        for c in range(k):
            norm += pu[c] * pu[c] + qi[c] * qi[c]
        penalty += reg * np.float64(norm)
    return nu, ni, penalty


@numba.njit(**JIT)
def ncf_epoch(order, positives, params, state, net, opt, hyper, batch):
    """One epoch; returns ``(J, log loss sum)``, every term taken before its batch's step.

    ``order``: a permutation of the positives (drawn by the caller); ``positives = (indptr,
    indices, rows)``: the CSR positives (sorted rows) and each entry's row; ``params = (U, V,
    w)`` updated in place; ``state = ((s1U, s1V, s1w), (s2U, s2V, s2w))`` shaped like the
    parameters (zero-length where absent: plain SGD has neither); ``net = (sizes, codes,
    kg)``; ``opt`` as in :mod:`~fastmf._kernels.nn`; ``hyper = (reg, n_neg, exclude, seed,
    epoch)``; ``batch = (batch_size, t0)``, ``t0`` the number of steps before this epoch (the
    caller adds ``ceil(n_instances / batch_size)`` per epoch).

    The epoch runs in the calling thread: a batch of a few hundred instances is about 0.1 ms
    of work, less than what handing it to a thread team and back costs on a busy machine.
    The tower's products are BLAS calls (see :mod:`~fastmf._kernels.mlp_gemm`): run it with
    the BLAS pool at one thread.
    """
    U, V, w = params
    (s1U, s1V, s1w), (s2U, s2V, s2w) = state
    sizes, codes, kg = net
    reg, n_neg, exclude, seed, epoch = hyper
    batch_size, t0 = batch
    n = order.shape[0] * (n_neg + 1)
    n_users, k = U.shape
    n_items = V.shape[0]
    n_theta, nf, width = net_shape(sizes, kg)
    cap = max(min(batch_size, n), 1)
    dt = U.dtype
    A = np.zeros(cap * width, dt)
    D = np.zeros(cap * width, dt)
    F = np.zeros((cap, nf), dt)
    E = np.zeros((cap, 2), dt)
    pairs = np.empty((cap, 3), np.int64)
    gw = np.zeros_like(w)
    GU = np.zeros((n_users, k), dt)
    GV = np.zeros((n_items, k), dt)
    touched = (np.full(n_users, -1, np.int64), np.empty(cap, np.int64),
               np.full(n_items, -1, np.int64), np.empty(cap, np.int64))
    rows_u, rows_i = touched[1], touched[3]
    draw = (n_neg, exclude, n_items, seed, epoch)
    no_tower = np.zeros((cap, 0), dt)
    total = 0.0
    data = 0.0
    t = t0
    for q0 in range(0, n, batch_size):
        m = min(batch_size, n - q0)
        t += 1
        _draw_batch(order, q0, m, positives, draw, pairs)
        _forward(pairs, m, params, net, A, cap, F, E)
        for s in range(m):
            data += np.float64(E[s, 1])
        _backward(m, params, net, A, D, cap, F, E, gw)
        dX = block(D, cap, sizes, 0, m) if width > 0 else no_tower
        nu, ni, penalty = _embedding_grads(pairs, m, (U, V, w, n_theta), kg, dX, E, reg,
                                           (GU, GV), touched, q0)
        norm = 0.0
        for j in range(w.shape[0]):
            norm += np.float64(w[j]) * np.float64(w[j])
        total += penalty + reg * m * norm
        opt_step(w, gw, s1w, s2w, opt, t, 2 * reg)
        opt_step_rows(U, GU, s1U, s2U, rows_u, nu, opt, t)
        opt_step_rows(V, GV, s1V, s2V, rows_i, ni, opt, t)
    return total + data, data


@numba.njit(**JIT)
def _shuffle(x, state):
    """Fisher-Yates shuffle of ``x`` in place from the stream at ``state``."""
    for j in range(x.shape[0] - 1, 0, -1):
        state, bits = splitmix64(state)
        r = np.int64(((bits >> np.uint64(32)) * np.uint64(j + 1)) >> np.uint64(32))
        x[j], x[r] = x[r], x[j]
    return state


@numba.njit(**PARALLEL_JIT)
def ncf_fold_in(indptr, indices, R, Y, w, net, opt, hyper):
    """Fit the rows ``R`` (in place; zeros to start) of new users (``side = 0``: ``Y`` is the
    item table) or new items (``side = 1``: ``Y`` is the user table) from their CSR rows of
    positives over the other side, everything else frozen.

    Each row, independently and in parallel, runs ``n_iter`` epochs over its positives (in an
    order shuffled per epoch), each followed by ``n_neg`` negatives of the other side, one
    optimiser step per sample with the gradient a training batch of ``batch_size`` gives a
    row seen once in it: the log loss's, plus ``2 reg`` times the row, over ``batch_size``.
    Row ``r`` draws from the streams keyed ``(seed, epoch, r)``. ``net = (sizes, codes, kg)``,
    ``opt`` as in :mod:`~fastmf._kernels.nn` (momentum unused), ``hyper = (n_iter, n_neg,
    exclude, reg, batch_size, side, seed)``.
    """
    n_iter, n_neg, exclude, reg, batch_size, side, seed = hyper
    sizes, codes, kg = net
    n_theta, nf, width = net_shape(sizes, kg)
    n_rows, k = R.shape
    km = k - kg
    n_other = Y.shape[0]
    T = R.dtype.type
    sc = T(1.0 / batch_size)
    r2 = T(2 * reg)
    adam = opt[0] == 1
    for r in prange(n_rows):
        lo = indptr[r]
        deg = indptr[r + 1] - lo
        if deg == 0:
            continue
        a = np.zeros(width, R.dtype)
        d = np.zeros(width, R.dtype)
        f = np.zeros(nf, R.dtype)
        g = np.zeros(k, R.dtype)
        s1 = np.zeros(k if adam else 0, R.dtype)
        s2 = np.zeros(k if adam else 0, R.dtype)
        perm = np.arange(deg)
        row = R[r]
        t = 0
        for epoch in range(n_iter):
            state = _shuffle(perm, keyed_stream(seed, epoch, r))
            for q in range(deg * (n_neg + 1)):
                if q % (n_neg + 1) == 0:
                    c = indices[lo + perm[q // (n_neg + 1)]]
                    y = 1
                else:
                    state, c = draw_negative(indptr, indices, r, n_other, exclude, state)
                    y = 0
                if side == 0:
                    _, e = sample_pass(R, r, Y, c, y, w, net, a, d, f)
                else:
                    _, e = sample_pass(Y, c, R, r, y, w, net, a, d, f)
                et = T(e)
                for j in range(kg):
                    g[j] = sc * (et * w[n_theta + j] * Y[c, j] + r2 * row[j])
                off = 0 if side == 0 else km
                for j in range(km):
                    g[kg + j] = sc * (d[off + j] + r2 * row[kg + j])
                t += 1
                opt_step(row, g, s1, s2, opt, t, 0.0)


@numba.njit(**PARALLEL_JIT)
def ncf_pair_scores(users, items, U, V, w, sizes, codes, kg, out):
    """Logits of the pairs ``(users[s], items[s])`` into ``out`` (a negative index reads a
    row of zeros), in parallel over blocks of pairs."""
    n_theta, nf, width = net_shape(sizes, kg)
    n = users.shape[0]
    for blk in prange((n + _PAIRS - 1) // _PAIRS):
        a = np.zeros(width, U.dtype)
        f = np.zeros(nf, U.dtype)
        for s in range(blk * _PAIRS, min(n, (blk + 1) * _PAIRS)):
            out[s] = logit(U, users[s], V, items[s], w, sizes, codes, kg, a, f)


@numba.njit(**PARALLEL_JIT)
def ncf_item_half(V, w, sizes, kg, out):
    """The item half of the tower's first layer, once for all items: ``out[i] = b_0 +
    q'_i @ W_0[km:]`` (pre-activation), ``out`` of shape (n_items, sizes[1])."""
    km = V.shape[1] - kg
    h = sizes[1]
    W0 = w[:2 * km * h].reshape((2 * km, h))
    b0 = w[2 * km * h:2 * km * h + h]
    for i in prange(V.shape[0]):
        o = out[i]
        for j in range(h):
            o[j] = b0[j]
        for c in range(km):
            q = V[i, kg + c]
            wr = W0[km + c]
            for j in range(h):
                o[j] += q * wr[j]


@numba.njit(**PARALLEL_JIT)
def ncf_block_scores(Q, V, w, sizes, codes, kg, item_half, out):
    """Logits without ``b`` of the query rows ``Q`` (user rows, (n, kg + km)) against every
    item: ``out`` of shape (n, n_items).

    The tower's first layer is split (:func:`ncf_item_half`): per query the user half
    ``p'_u @ W_0[:km]`` once, then per item one vector add, the first activation and the
    remaining small layers, plus the GMF part. Parallel over (query, block of items); the
    caller bounds ``n`` so that ``out`` stays small.
    """
    n_theta, nf, width = net_shape(sizes, kg)
    n_items, k = V.shape
    km = k - kg
    h = sizes[1]
    W0 = w[:2 * km * h].reshape((2 * km, h))
    head = w[n_theta:n_theta + nf]
    n_blocks = (n_items + _ITEMS - 1) // _ITEMS
    for task in prange(Q.shape[0] * n_blocks):
        r = task // n_blocks
        lo = (task % n_blocks) * _ITEMS
        qr = Q[r]
        a = np.zeros(width, Q.dtype)
        uh = np.zeros(h, Q.dtype)
        for c in range(km):
            pc = qr[kg + c]
            wr = W0[c]
            for j in range(h):
                uh[j] += pc * wr[j]
        z = a[2 * km:2 * km + h]
        for i in range(lo, min(lo + _ITEMS, n_items)):
            ih = item_half[i]
            for j in range(h):
                z[j] = uh[j] + ih[j]
            activate(z, codes[0])
            mlp_forward(w[:n_theta], sizes, codes, a, 1)
            vi = V[i]
            s = Q.dtype.type(0)
            for c in range(kg):
                s += head[c] * qr[c] * vi[c]
            for c in range(kg, nf):
                s += head[c] * a[width - nf + c]
            out[r, i] = s


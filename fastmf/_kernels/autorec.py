"""AutoRec with one hidden layer (Sedhain, Menon, Sanner & Xie, WWW 2015), sparse in and out.

The encoded vectors are the rows of a CSR matrix ``X`` (n_rows, n_cols): the items x users
matrix for I-AutoRec (each item's vector of user ratings), users x items for U-AutoRec. Row
``i`` is encoded from its observed entries only and reconstructed only at them::

    h_i = f(mu + sum_{u in obs(i)} x_iu V[u])        V (n_cols, h), mu (h,)      O(nnz_i h)
    xhat_iu = b[u] + W[u] . h_i,  u in obs(i)        W (n_cols, h), b (n_cols,)  O(nnz_i h)

with ``f`` the hidden activation (an :mod:`~fastmf._kernels.nn` code; sigmoid in the paper) and
an identity output. The objective over all rows is::

    J = 1/2 sum_{observed (i, u)} (xhat_iu - x_iu)^2 + reg/2 (|W|_F^2 + |V|_F^2)

(the paper's ``sum |r - h(r)|_O^2 + lambda/2 (|W|^2 + |V|^2)`` is ``2 J`` with
``reg = lambda / 2``; the biases are not penalised). Its gradient::

    e_iu = xhat_iu - x_iu
    dJ/dW[u] = sum_i e_iu h_i + reg W[u]          dJ/db[u] = sum_i e_iu
    delta_i = f'(.) * sum_u e_iu W[u]              dJ/dmu = sum_i delta_i
    dJ/dV[u] = sum_i x_iu delta_i + reg V[u]

is computed in parallel passes over rows (codes; errors at the observed entries and deltas),
then over columns: each column's gradient rows are summed over its entries in row order (the
entries are grouped by column with a counting sort, O(nnz + n_cols)). Every sum runs in an
order fixed by the data, so the result is the same at any thread count, and no per-thread copy
of the (n_cols, h) gradients is needed. An evaluation costs O(nnz h + n_cols h), never
O(n_rows n_cols).

At prediction time AutoRec is an inner-product model: the codes ``h_i``
(:func:`autorec_encode`) are one side's factors and the decoder rows ``W[u]`` with bias ``b[u]``
the other side's (for I-AutoRec: item factors ``h_i``, user factors ``W``, user bias ``b``).
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .nn import activate, activation_backward, grad_row, opt_step, opt_step_flat

#: Rows of a parallel pass are dealt to this many interleaved chunks (chunk ``c`` takes rows
#: ``c, c + CHUNKS, ...``), which balances skewed row lengths under numba's static schedule.
CHUNKS = 256


def param_views(theta, n_cols, n_hidden):
    """``(V, mu, W, b)`` as views into one flat vector ``theta`` (e.g. L-BFGS's
    vector) of ``2 n_cols n_hidden + n_hidden + n_cols`` elements, stored in that order."""
    nv = n_cols * n_hidden
    V = theta[:nv].reshape(n_cols, n_hidden)
    mu = theta[nv:nv + n_hidden]
    W = theta[nv + n_hidden:2 * nv + n_hidden].reshape(n_cols, n_hidden)
    b = theta[2 * nv + n_hidden:2 * nv + n_hidden + n_cols]
    return V, mu, W, b


@numba.njit(**JIT)
def _add_rows(acc, Y, rows, weights, lo, hi, scale):
    """``acc += scale sum_{lo <= q < hi} weights[q] Y[rows[q]]``, in order, four entries per
    pass over ``acc`` (a quarter of its memory traffic)."""
    k = acc.shape[0]
    q = lo
    while q + 4 <= hi:
        w0, w1 = scale * weights[q], scale * weights[q + 1]
        w2, w3 = scale * weights[q + 2], scale * weights[q + 3]
        y0, y1, y2, y3 = Y[rows[q]], Y[rows[q + 1]], Y[rows[q + 2]], Y[rows[q + 3]]
        for f in range(k):
            acc[f] += w0 * y0[f] + w1 * y1[f] + w2 * y2[f] + w3 * y3[f]
        q += 4
    for p in range(q, hi):
        w = scale * weights[p]
        y = Y[rows[p]]
        for f in range(k):
            acc[f] += w * y[f]


@numba.njit(**PARALLEL_JIT)
def autorec_encode(indptr, indices, data, rows, V, mu, code, out):
    """Hidden codes ``out[j] = f(mu + sum_u x_iu V[u])`` of rows ``i = rows[j]``, from their
    observed entries: O(nnz_i h) each. With ``rows = arange(n_rows)`` and rows = items (I-AutoRec)
    these are the item factors."""
    k = V.shape[1]
    one = V.dtype.type(1)
    n = rows.shape[0]
    n_chunks = min(n, CHUNKS)
    for c in prange(n_chunks):
        for j in range(c, n, n_chunks):
            i = rows[j]
            h = out[j]
            for f in range(k):
                h[f] = mu[f]
            _add_rows(h, V, indices, data, indptr[i], indptr[i + 1], one)
            activate(h, code)


@numba.njit(**PARALLEL_JIT)
def _decode_backward(indptr, indices, data, rows, W, b, code, H, D, E):
    """Decoder at the observed entries and backward to the hidden layer, for the rows of a
    batch: errors ``E[p] = xhat - x`` at their CSR positions, ``D[j] = dJ/dz`` of row
    ``rows[j]`` from its code ``H[j]``."""
    k = W.shape[1]
    n = rows.shape[0]
    n_chunks = min(n, CHUNKS)
    for c in prange(n_chunks):
        for j in range(c, n, n_chunks):
            i = rows[j]
            h = H[j]
            d = D[j]
            for f in range(k):
                d[f] = 0
            p, end = indptr[i], indptr[i + 1]
            while p + 4 <= end:  # four entries per pass over h and d
                u0, u1, u2, u3 = indices[p], indices[p + 1], indices[p + 2], indices[p + 3]
                w0, w1, w2, w3 = W[u0], W[u1], W[u2], W[u3]
                e0, e1, e2, e3 = b[u0], b[u1], b[u2], b[u3]
                for f in range(k):
                    hf = h[f]
                    e0 += w0[f] * hf
                    e1 += w1[f] * hf
                    e2 += w2[f] * hf
                    e3 += w3[f] * hf
                e0 -= data[p]
                e1 -= data[p + 1]
                e2 -= data[p + 2]
                e3 -= data[p + 3]
                E[p], E[p + 1], E[p + 2], E[p + 3] = e0, e1, e2, e3
                for f in range(k):
                    d[f] += e0 * w0[f] + e1 * w1[f] + e2 * w2[f] + e3 * w3[f]
                p += 4
            for q in range(p, end):
                u = indices[q]
                w = W[u]
                e = b[u]
                for f in range(k):
                    e += w[f] * h[f]
                e -= data[q]
                E[q] = e
                for f in range(k):
                    d[f] += e * w[f]
            activation_backward(h, d, code)


@numba.njit(**JIT)
def _column_index(indptr, indices, rows, col):
    """Group the entries of rows ``rows`` by column (counting sort, stable): column ``u``'s are
    ``cent[cptr[u]:cptr[u + 1]]`` (CSR positions), from batch slots ``crow[...]``."""
    cptr, cnext, cent, crow = col
    n_cols = cnext.shape[0]
    for u in range(n_cols + 1):
        cptr[u] = 0
    for j in range(rows.shape[0]):
        i = rows[j]
        for p in range(indptr[i], indptr[i + 1]):
            cptr[indices[p] + 1] += 1
    for u in range(n_cols):
        cptr[u + 1] += cptr[u]
        cnext[u] = cptr[u]
    for j in range(rows.shape[0]):
        i = rows[j]
        for p in range(indptr[i], indptr[i + 1]):
            u = indices[p]
            q = cnext[u]
            cent[q] = p
            crow[q] = j
            cnext[u] = q + 1


@numba.njit(**PARALLEL_JIT)
def _column_sums(cptr, crow, c, Y, X, reg, scale, G):
    """``G[u] = reg X[u] + scale sum_q c[q] Y[crow[q]]`` over column ``u``'s entries ``q`` (in
    column order, ``c`` gathered into it), in order, for every column in parallel: ``dJ/dW``
    with ``(c, Y, X) = (E, H, W)``, ``dJ/dV`` with ``(data, D, V)``."""
    k = X.shape[1]
    T = X.dtype.type
    rg = T(reg)
    sc = T(scale)
    n = X.shape[0]
    n_chunks = min(n, CHUNKS)
    for t in prange(n_chunks):
        for u in range(t, n, n_chunks):
            g = G[u]
            x = X[u]
            for f in range(k):
                g[f] = rg * x[f]
            _add_rows(g, Y, crow, c, cptr[u], cptr[u + 1], sc)


@numba.njit(**JIT)
def _gather(values, cent, m, out):
    """``out[q] = values[cent[q]]`` for the first ``m`` entries of the column order."""
    for q in range(m):
        out[q] = values[cent[q]]


@numba.njit(**JIT)
def _batch_grad(X, rows, params, grads, code, reg, scale, work, col):
    """Gradient of ``scale * sum_{i in rows} 1/2 |e_i|^2 + reg/2 (|W|^2 + |V|^2)`` into
    ``grads``; returns the rows' sum of squared errors."""
    indptr, indices, data = X
    V, mu, W, b = params
    gV, gmu, gW, gb = grads
    H, D, E, C = work
    n = rows.shape[0]
    autorec_encode(indptr, indices, data, rows, V, mu, code, H)
    _decode_backward(indptr, indices, data, rows, W, b, code, H, D, E)
    _column_index(indptr, indices, rows, col)
    cptr, _, cent, crow = col
    m = cptr[cptr.shape[0] - 1]
    T = V.dtype.type
    _gather(E, cent, m, C)
    _column_sums(cptr, crow, C, H, W, reg, scale, gW)
    for u in range(gb.shape[0]):
        s = T(0)
        for q in range(cptr[u], cptr[u + 1]):
            s += C[q]
        gb[u] = T(scale) * s
    _gather(data, cent, m, C)
    _column_sums(cptr, crow, C, D, V, reg, scale, gV)
    grad_row(D, -1, D, 0, n, T(scale), gmu)
    sse = 0.0
    for j in range(n):
        i = rows[j]
        for p in range(indptr[i], indptr[i + 1]):
            sse += E[p] * E[p]
    return sse


@numba.njit(**JIT)
def _workspace(X, n_cols, batch_rows, k, like):
    """Scratch for batches of up to ``batch_rows`` rows: ``(H, D, E, C)`` (``C``: values in
    column order) and the column index."""
    indptr, _, data = X
    nnz = data.shape[0]
    work = (np.empty((batch_rows, k), like.dtype), np.empty((batch_rows, k), like.dtype),
            np.empty(nnz, like.dtype), np.empty(nnz, like.dtype))
    col = (np.empty(n_cols + 1, indptr.dtype), np.empty(n_cols, indptr.dtype),
           np.empty(nnz, indptr.dtype), np.empty(nnz, indptr.dtype))
    return work, col


@numba.njit(**JIT)
def autorec_loss_grad(indptr, indices, data, params, grads, code, reg):
    """The full objective ``J`` (float64) and its gradient over all rows, for L-BFGS.

    ``params = (V, mu, W, b)`` and ``grads`` (same shapes, overwritten) may be views into flat
    vectors (:func:`param_views`). ``code`` is the hidden activation, ``reg`` the L2 on ``W``
    and ``V``. Parallel over rows, then over columns; the same result at any thread count.
    """
    X = (indptr, indices, data)
    V, _, W, _ = params
    n_rows = indptr.shape[0] - 1
    n_cols, k = V.shape
    work, col = _workspace(X, n_cols, n_rows, k, V)
    sse = _batch_grad(X, np.arange(n_rows), params, grads, code, reg, 1.0, work, col)
    norm = 0.0
    for u in range(n_cols):
        for f in range(k):
            norm += W[u, f] * W[u, f] + V[u, f] * V[u, f]
    return 0.5 * sse + 0.5 * reg * norm


@numba.njit(**JIT)
def autorec_epoch(indptr, indices, data, order, params, state, opt, code, reg, batch):
    """One minibatch epoch (SGD with momentum or Adam, :mod:`~fastmf._kernels.nn`'s steps).

    Rows are visited in the order of the permutation ``order`` (drawn by the caller), in
    batches of ``batch = (batch_size, t0)`` rows; ``t0`` is the number of steps taken before
    this epoch (the caller adds ``ceil(n_rows / batch_size)`` per epoch). A batch's step
    follows the gradient of ``J / n_rows`` estimated on the batch: the mean over its rows of
    ``1/2 |e_i|^2`` plus ``reg / n_rows`` times the weights, so ``reg`` means what it means for
    :func:`autorec_loss_grad`. All parameters get dense steps (every column of ``W`` and ``V``
    moves each batch, by its weight decay at least). ``state = (s1, s2)``, each a tuple shaped
    like ``params`` (zero-length arrays where a state is absent: plain SGD has neither,
    momentum SGD only ``s1``). Returns the sum of squared errors over all entries, each
    measured before its batch's step.
    """
    X = (indptr, indices, data)
    V, mu, W, b = params
    (s1V, s1mu, s1W, s1b), (s2V, s2mu, s2W, s2b) = state
    n_rows = indptr.shape[0] - 1
    n_cols, k = V.shape
    batch_size, t0 = batch
    work, col = _workspace(X, n_cols, max(min(batch_size, n_rows), 1), k, V)
    grads = (np.empty_like(V), np.empty_like(mu), np.empty_like(W), np.empty_like(b))
    gV, gmu, gW, gb = grads
    reg_s = reg / max(n_rows, 1)
    sse = 0.0
    t = t0
    for b0 in range(0, n_rows, batch_size):
        rows = order[b0:min(b0 + batch_size, n_rows)]
        t += 1
        sse += _batch_grad(X, rows, params, grads, code, reg_s, 1.0 / rows.shape[0], work, col)
        opt_step_flat(W.reshape(W.size), gW.reshape(gW.size), s1W.reshape(s1W.size),
                      s2W.reshape(s2W.size), opt, t, 0.0)
        opt_step_flat(V.reshape(V.size), gV.reshape(gV.size), s1V.reshape(s1V.size),
                      s2V.reshape(s2V.size), opt, t, 0.0)
        opt_step_flat(b, gb, s1b, s2b, opt, t, 0.0)
        opt_step(mu, gmu, s1mu, s2mu, opt, t, 0.0)
    return sse

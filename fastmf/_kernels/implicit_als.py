"""Implicit-feedback ALS (Hu, Koren & Volinsky): row updates by Cholesky or conjugate gradient.

Every stored entry ``(u, i)`` of the CSR arrays is a positive interaction (preference
``p_ui = 1``) with confidence ``c_ui = conf[p]``; every other cell has ``p_ui = 0`` and
``c_ui = 1``. With the other side's factors ``Y`` fixed, row ``u`` solves

    (G + Y_u^T (C_u - I) Y_u) x_u = Y_u^T C_u p_u,      G = Y^T Y + reg I,

where ``Y_u`` are the rows of ``Y`` the row touches. ``G`` is computed once per half-sweep with
NumPy (BLAS, outside any parallel region) and passed in, so a row costs O(n_u k^2 + k^3)
(Cholesky) or O(cg_steps (n_u k + k^2)) (conjugate gradient) instead of O(n_items k^2).

The kernels call no BLAS: rows are processed in parallel in ``n_chunks`` interleaved chunks
(chunk ``t`` takes rows ``t, t + n_chunks, ...``, which balances skewed row lengths under
numba's static schedule), each chunk with its own scratch arrays. The result does not depend
on the thread count.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .linalg import cholesky_solve


@numba.njit(**JIT)
def n_row_chunks(m):
    """Number of interleaved chunks the row kernels split ``m`` rows into."""
    return max(1, min(m, 256))


@numba.njit(**PARALLEL_JIT)
def implicit_cholesky_sweep(indptr, indices, conf, X, Y, gram):
    """Solve every row of ``X`` exactly with ``Y`` fixed (see the module docstring).

    Parameters
    ----------
    indptr, indices, conf : CSR arrays of the rows of ``X`` over the rows of ``Y``; ``conf``
        holds the confidences ``c_ui`` (>= 0) of the stored (positive) entries.
    X : ndarray of shape (m, k), overwritten with the solution.
    Y : ndarray of shape (n, k).
    gram : ndarray of shape (k, k), ``Y^T Y + reg I`` (only its upper triangle is read).
    """
    m, k = X.shape
    n_chunks = n_row_chunks(m)
    zero, one = X.dtype.type(0), X.dtype.type(1)
    for t in prange(n_chunks):
        A = np.empty((k, k), dtype=X.dtype)
        b = np.empty(k, dtype=X.dtype)
        for u in range(t, m, n_chunks):
            start, end = indptr[u], indptr[u + 1]
            if start == end:  # no positives: b = 0, so x = 0
                for a in range(k):
                    X[u, a] = zero
                continue
            for a in range(k):
                b[a] = zero
                for c in range(a, k):
                    A[a, c] = gram[a, c]
            p = start
            while p + 4 <= end:  # four rank-1 updates per pass over A
                y0, y1, y2, y3 = Y[indices[p]], Y[indices[p + 1]], Y[indices[p + 2]], \
                    Y[indices[p + 3]]
                c0, c1, c2, c3 = conf[p], conf[p + 1], conf[p + 2], conf[p + 3]
                w0, w1, w2, w3 = c0 - one, c1 - one, c2 - one, c3 - one
                for a in range(k):
                    a0, a1, a2, a3 = y0[a], y1[a], y2[a], y3[a]
                    b[a] += c0 * a0 + c1 * a1 + c2 * a2 + c3 * a3
                    a0 *= w0
                    a1 *= w1
                    a2 *= w2
                    a3 *= w3
                    for c in range(a, k):
                        A[a, c] += a0 * y0[c] + a1 * y1[c] + a2 * y2[c] + a3 * y3[c]
                p += 4
            while p < end:
                y = Y[indices[p]]
                cp = conf[p]
                w = cp - one
                for a in range(k):
                    ya = y[a]
                    b[a] += cp * ya
                    ya *= w
                    for c in range(a, k):
                        A[a, c] += ya * y[c]
                p += 1
            cholesky_solve(A, b)
            for a in range(k):
                X[u, a] = b[a]


@numba.njit(**PARALLEL_JIT)
def implicit_cg_sweep(indptr, indices, conf, X, Y, gram, cg_steps):
    """Improve every row of ``X`` by ``cg_steps`` conjugate-gradient steps, warm-started.

    Same system as :func:`implicit_cholesky_sweep`, solved approximately from the current
    ``X`` (Takacs, Pilaszy & Tikk 2011): each step multiplies by the row's matrix without
    forming it, ``A v = G v + sum_i (c_ui - 1) (y_i . v) y_i``, in O(n_u k + k^2). A row whose
    residual is already below 1e-20 (squared norm) is left as is.

    Parameters are those of :func:`implicit_cholesky_sweep`, plus ``cg_steps`` (>= 1). ``gram``
    must be the full symmetric matrix here.
    """
    m, k = X.shape
    n_chunks = n_row_chunks(m)
    zero, one = X.dtype.type(0), X.dtype.type(1)
    for t in prange(n_chunks):
        r = np.empty(k, dtype=X.dtype)
        d = np.empty(k, dtype=X.dtype)
        Ad = np.empty(k, dtype=X.dtype)
        for u in range(t, m, n_chunks):
            start, end = indptr[u], indptr[u + 1]
            x = X[u]
            # r = b - A x = -G x + sum_i (c_i - (c_i - 1) y_i.x) y_i
            for a in range(k):
                s = zero
                for c in range(k):
                    s += gram[a, c] * x[c]
                r[a] = -s
            for p in range(start, end):
                y = Y[indices[p]]
                cp = conf[p]
                s = zero
                for a in range(k):
                    s += y[a] * x[a]
                s = cp - (cp - one) * s
                for a in range(k):
                    r[a] += s * y[a]
            rs_old = zero
            for a in range(k):
                d[a] = r[a]
                rs_old += r[a] * r[a]
            if rs_old < 1e-20:
                continue
            for _ in range(cg_steps):
                for a in range(k):
                    s = zero
                    for c in range(k):
                        s += gram[a, c] * d[c]
                    Ad[a] = s
                for p in range(start, end):
                    y = Y[indices[p]]
                    s = zero
                    for a in range(k):
                        s += y[a] * d[a]
                    s *= conf[p] - one
                    for a in range(k):
                        Ad[a] += s * y[a]
                dAd = zero
                for a in range(k):
                    dAd += d[a] * Ad[a]
                if dAd <= 0.0:  # d = 0 to working precision
                    break
                step = rs_old / dAd
                rs_new = zero
                for a in range(k):
                    x[a] += step * d[a]
                    r[a] -= step * Ad[a]
                    rs_new += r[a] * r[a]
                if rs_new < 1e-20:
                    break
                beta = rs_new / rs_old
                for a in range(k):
                    d[a] = r[a] + beta * d[a]
                rs_old = rs_new


@numba.njit(**PARALLEL_JIT)
def implicit_loss(indptr, indices, conf, X, Y, YtY):
    """Weighted squared error over every cell, without a dense matrix (no penalty term).

    ``sum_{u,i} c_ui (p_ui - x_u . y_i)^2`` equals
    ``sum_u x_u^T (Y^T Y) x_u + sum_{stored} [c_ui (1 - s_ui)^2 - s_ui^2]`` with
    ``s_ui = x_u . y_i``: O(nnz k + m k^2). ``YtY`` is the plain Gram matrix ``Y^T Y``.
    Accumulates in float64.
    """
    m, k = X.shape
    total = 0.0
    for u in prange(m):
        x = X[u]
        row = 0.0
        for a in range(k):
            s = 0.0
            for c in range(k):
                s += YtY[a, c] * x[c]
            row += np.float64(x[a]) * s
        for p in range(indptr[u], indptr[u + 1]):
            y = Y[indices[p]]
            s = 0.0
            for a in range(k):
                s += np.float64(y[a]) * x[a]
            e = 1.0 - s
            row += conf[p] * e * e - s * s
        total += row
    return total

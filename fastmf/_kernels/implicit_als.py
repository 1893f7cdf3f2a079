"""Implicit-feedback ALS (Hu, Koren & Volinsky): row updates by Cholesky or conjugate gradient.

Every stored entry ``(u, i)`` of the CSR arrays is a positive interaction (preference
``p_ui = 1``) with confidence ``c_ui = conf[p]``; every other cell has ``p_ui = 0`` and
``c_ui = 1``. With the other side's factors ``Y`` fixed, row ``u`` solves

    (G + reg_u I + Y_u^T (C_u - I) Y_u) x_u = Y_u^T C_u p_u,      G = Y^T Y,

where ``Y_u`` are the rows of ``Y`` the row touches and ``reg_u`` the row's own L2 weight (one
array of them: the same value everywhere, or frequency-scaled ones). ``G`` is computed once
per half-sweep with NumPy (BLAS, outside any parallel region) and passed in with the weights
as ``system = (G, reg)``, so a row costs O(n_u k^2 + k^3) (Cholesky) or
O(cg_steps (n_u k + k^2)) (conjugate gradient) instead of O(n_items k^2).

Rows are processed in parallel in ``n_chunks`` interleaved chunks
(chunk ``t`` takes rows ``t, t + n_chunks, ...``, which balances skewed row lengths under
numba's static schedule), each chunk with its own scratch arrays. The result does not depend
on the thread count. Both sweeps return the objective's share of the rows they update, for
free, so ``history_`` records the exact objective without another pass over the data.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .linalg import GATHER_ROWS, add_gathered_rows, cholesky_solve, spd_solve


@numba.njit(**JIT)
def n_row_chunks(m):
    """Number of interleaved chunks the row kernels split ``m`` rows into."""
    return max(1, min(m, 256))


@numba.njit(**PARALLEL_JIT)
def implicit_cholesky_sweep(csr, X, Y, system, lapack=False):
    """Solve every row of ``X`` exactly with ``Y`` fixed (see the module docstring).

    The row's matrix ``G + reg_u I + Y_u^T (C_u - I) Y_u`` is built as ``G + reg_u I + Z^T Z``
    with ``Z = sqrt(C_u - I) Y_u`` by :func:`~fastmf._kernels.linalg.add_gathered_rows` (blocks
    of :data:`~fastmf._kernels.linalg.GATHER_ROWS` rows, each one BLAS gemm inside the parallel
    loop, so BLAS must run single-threaded here; the estimator sees to it); then a Cholesky
    solve: LAPACK's with ``lapack=True`` (:func:`~fastmf._kernels.linalg.spd_solve`, faster;
    only for matrices known to be positive definite, i.e. every ``reg_u > 0``), else
    :func:`~fastmf._kernels.linalg.cholesky_solve`, which also copes with singular rows.

    Parameters
    ----------
    csr : (indptr, indices, conf)
        CSR arrays of the rows of ``X`` over the rows of ``Y``; ``conf`` holds the
        confidences ``c_ui`` (>= 1) of the stored (positive) entries.
    X : ndarray of shape (m, k), overwritten with the solution.
    Y : ndarray of shape (n, k), C-contiguous, same dtype.
    system : (gram, reg)
        ``gram``: ndarray of shape (k, k), ``Y^T Y``; ``reg``: ndarray of shape (m,), the
        L2 weight ``reg_u >= 0`` of each row of ``X``.
    lapack : bool, default=False
        Factor with LAPACK (see above).

    Returns
    -------
    float
        ``sum_u [f_u(x_u)]`` at the new rows, ``f_u(x) = sum_i c_ui (p_ui - x . y_i)^2 +
        reg_u ||x||^2`` over all ``i`` (the row's share of the objective), computed for free as
        ``sum_i c_ui - b_u . x_u`` since ``A_u x_u = b_u``.
    """
    indptr, indices, conf = csr
    gram, reg = system
    m, k = X.shape
    n_chunks = n_row_chunks(m)
    zero, one = X.dtype.type(0), X.dtype.type(1)
    total = 0.0
    for t in prange(n_chunks):
        Z = np.empty((GATHER_ROWS, k), dtype=X.dtype)
        zw = np.empty(GATHER_ROWS, dtype=X.dtype)
        bw = np.empty(GATHER_ROWS, dtype=X.dtype)
        A = np.empty((k, k), dtype=X.dtype)
        b = np.empty(k, dtype=X.dtype)
        b0 = np.empty(k, dtype=X.dtype)
        part = 0.0
        for u in range(t, m, n_chunks):
            start, end = indptr[u], indptr[u + 1]
            if start == end:  # no positives: b = 0, so x = 0 and f_u = 0
                for a in range(k):
                    X[u, a] = zero
                continue
            A[:, :] = gram
            for a in range(k):
                A[a, a] += reg[u]
                b[a] = zero
            csum = 0.0
            for p0 in range(start, end, GATHER_ROWS):
                n = min(GATHER_ROWS, end - p0)
                for q in range(n):
                    cp = conf[p0 + q]
                    csum += cp
                    zw[q] = np.sqrt(cp - one)
                    bw[q] = cp
                add_gathered_rows(Y, indices, p0, n, (zw, bw), False, Z, (A, b))
            b0[:] = b
            if lapack:
                spd_solve(A, b)
            else:
                cholesky_solve(A, b)
            bx = 0.0
            for a in range(k):
                X[u, a] = b[a]
                bx += np.float64(b0[a]) * b[a]
            part += csum - bx
        total += part
    return total


@numba.njit(**JIT)
def _gram_times(gram, shift, v, out):
    """``out = (gram + shift I) @ v`` for a small dense ``gram``."""
    k = v.shape[0]
    for a in range(k):
        s = shift * v[a]
        for c in range(k):
            s += gram[a, c] * v[c]
        out[a] = s


@numba.njit(**JIT)
def _accumulate(start, end, indices, conf, Y, v, out, bias, sign):
    """``out += sum_p (bias c_p + sign (c_p - 1) (y_p . v)) y_p`` over entries ``start:end``.

    Items go four at a time: four independent dot products, then one pass over ``out``.
    Returns ``sum_p c_p (y_p . v)`` (float64), which the CG sweep uses for the loss.
    """
    k = v.shape[0]
    zero, one = v.dtype.type(0), v.dtype.type(1)
    cs = 0.0
    p = start
    while p + 4 <= end:
        y0, y1, y2, y3 = Y[indices[p]], Y[indices[p + 1]], Y[indices[p + 2]], \
            Y[indices[p + 3]]
        s0, s1, s2, s3 = zero, zero, zero, zero
        for a in range(k):
            va = v[a]
            s0 += y0[a] * va
            s1 += y1[a] * va
            s2 += y2[a] * va
            s3 += y3[a] * va
        c0, c1, c2, c3 = conf[p], conf[p + 1], conf[p + 2], conf[p + 3]
        cs += np.float64(c0 * s0 + c1 * s1 + c2 * s2 + c3 * s3)
        t0 = bias * c0 + sign * (c0 - one) * s0
        t1 = bias * c1 + sign * (c1 - one) * s1
        t2 = bias * c2 + sign * (c2 - one) * s2
        t3 = bias * c3 + sign * (c3 - one) * s3
        for a in range(k):
            out[a] += t0 * y0[a] + t1 * y1[a] + t2 * y2[a] + t3 * y3[a]
        p += 4
    while p < end:
        y = Y[indices[p]]
        s = zero
        for a in range(k):
            s += y[a] * v[a]
        cp = conf[p]
        cs += np.float64(cp * s)
        t = bias * cp + sign * (cp - one) * s
        for a in range(k):
            out[a] += t * y[a]
        p += 1
    return cs


@numba.njit(**PARALLEL_JIT)
def implicit_cg_sweep(csr, X, Y, system, cg_steps):
    """Improve every row of ``X`` by ``cg_steps`` conjugate-gradient steps, warm-started.

    Same system as :func:`implicit_cholesky_sweep`, solved approximately from the current
    ``X`` (Takacs, Pilaszy & Tikk 2011): each step multiplies by the row's matrix without
    forming it, ``A v = (G + reg_u I) v + sum_i (c_ui - 1) (y_i . v) y_i``, in O(n_u k + k^2).
    A row whose residual is already below 1e-20 (squared norm) is left as is. No BLAS is
    called.

    Parameters are those of :func:`implicit_cholesky_sweep`, plus ``cg_steps`` (>= 1).

    Returns
    -------
    float
        The rows' share of the objective at the new rows, ``sum_u f_u(x_u)``, computed for
        free from the tracked residual ``r_u = b_u - A_u x_u`` as
        ``sum_i c_ui - b_u . x_u - r_u . x_u`` (``b_u . x_u`` is updated with each step).
    """
    indptr, indices, conf = csr
    gram, reg = system
    m, k = X.shape
    n_chunks = n_row_chunks(m)
    zero, one = X.dtype.type(0), X.dtype.type(1)
    total = 0.0
    for t in prange(n_chunks):
        r = np.empty(k, dtype=X.dtype)
        d = np.empty(k, dtype=X.dtype)
        Ad = np.empty(k, dtype=X.dtype)
        part = 0.0
        for u in range(t, m, n_chunks):
            start, end = indptr[u], indptr[u + 1]
            x = X[u]
            # r = b - A x = -(G + reg_u I) x + sum_i (c_i - (c_i - 1) y_i . x) y_i
            _gram_times(gram, reg[u], x, r)
            for a in range(k):
                r[a] = -r[a]
            bx = _accumulate(start, end, indices, conf, Y, x, r, one, -one)
            csum = 0.0
            for p in range(start, end):
                csum += conf[p]
            rs_old = zero
            for a in range(k):
                d[a] = r[a]
                rs_old += r[a] * r[a]
            if rs_old >= 1e-20:
                for _ in range(cg_steps):
                    _gram_times(gram, reg[u], d, Ad)
                    bd = _accumulate(start, end, indices, conf, Y, d, Ad, zero, one)
                    dAd = zero
                    for a in range(k):
                        dAd += d[a] * Ad[a]
                    if dAd <= 0.0:  # d = 0 to working precision
                        break
                    step = rs_old / dAd
                    bx += step * bd
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
            xr = 0.0
            for a in range(k):
                xr += np.float64(x[a]) * r[a]
            part += csum - bx - xr
        total += part
    return total

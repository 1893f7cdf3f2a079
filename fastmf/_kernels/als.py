"""Explicit-feedback ALS half-sweeps over the rows of one side: exact (Cholesky) or by CG."""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT
from .linalg import GATHER_ROWS, add_gathered_rows, cholesky_solve, dual_ridge_solve


@numba.njit(**JIT)
def _clear_row(X, x_bias, u):
    """A row without entries: zero factors (and bias, when ``x_bias`` is not zero-length)."""
    X[u, :] = 0.0
    if x_bias.shape[0] > 0:
        x_bias[u] = 0.0


@numba.njit(**PARALLEL_JIT)
def als_half_sweep(csr, solve, fixed, hyper):
    """Solve every row of ``X`` (and ``x_bias``) exactly with ``Y`` and ``y_bias`` fixed.

    Parameters
    ----------
    csr : (indptr, indices, data)
        The ratings by row of ``X``, over the rows of ``Y``.
    solve : (X, x_bias)
        Factors (m, k) and biases of the rows, overwritten; a zero-length ``x_bias`` fits no
        bias for this side.
    fixed : (Y, y_bias)
        The other side's factors (n, k), C-contiguous, and biases (zero-length: none).
    hyper : (offset, reg, reg_bias, exponent)
        The global offset and the L2 weights, each times the row's count to the power
        ``exponent`` (a float: 1 is ALS-WR, 0 the same weight for every row).

    Notes
    -----
    Row ``u`` minimises, over its stored entries ``i``,

        sum_i (r_ui - offset - y_bias[i] - b_u - X[u] . Y[i])^2 + l ||X[u]||^2 + l_b b_u^2

    with ``l = reg * n_u ** exponent`` and ``l_b = reg_bias * n_u ** exponent`` (``n_u`` the
    row's count; ALS-WR when ``exponent`` is 1). The bias is solved jointly with the factors
    by augmenting the system with a constant column. Rows without entries get zeros.

    The row's matrix ``Z^T Z + diag(l, .., l_b)`` is built by
    :func:`~fastmf._kernels.linalg.add_gathered_rows` (blocks of
    :data:`~fastmf._kernels.linalg.GATHER_ROWS` rows, each one BLAS gemm inside the parallel
    loop, so BLAS must run single-threaded here; the estimator sees to it); then a Cholesky
    solve. A row with fewer entries ``n`` than unknowns (most item rows of a long-tailed
    catalogue) is solved through its n x n dual system instead
    (:func:`~fastmf._kernels.linalg.dual_ridge_solve`, the same solution without the
    O(k^3) factorisation; not when a weight is 0, where the primal copes with a singular
    system). Rows are taken in 256 interleaved chunks, each with its own scratch arrays.
    """
    indptr, indices, data = csr
    X = solve[0]
    x_bias = solve[1]
    Y, y_bias = fixed
    offset, reg, reg_bias, exponent = hyper
    m, k = X.shape
    fit_bias = x_bias.shape[0] > 0
    d = k + 1 if fit_bias else k
    n_chunks = max(1, min(m, 256))
    for c in prange(n_chunks):
        Z = np.empty((GATHER_ROWS, d), dtype=X.dtype)
        ones = np.ones(GATHER_ROWS, dtype=X.dtype)
        targets = np.empty(GATHER_ROWS, dtype=np.float64)
        A = np.empty((d, d), dtype=X.dtype)
        b = np.empty(d, dtype=X.dtype)
        for u in range(c, m, n_chunks):
            start, end = indptr[u], indptr[u + 1]
            n = end - start
            if n == 0:
                _clear_row(X, x_bias, u)
                continue
            scale = n ** exponent
            lam, lam_b = reg * scale, reg_bias * scale if fit_bias else 1.0
            if n < d and n <= GATHER_ROWS and lam > 0 and lam_b > 0:  # a short row: dual
                _targets(csr, start, n, offset, y_bias, targets)
                dual_ridge_solve(Y, (indices, start, n), targets,
                                 (1 / np.sqrt(lam), 1 / np.sqrt(lam_b)), Z, (A, b))
            else:
                A[:, :] = 0.0
                b[:] = 0.0
                for p0 in range(start, end, GATHER_ROWS):
                    nb = min(GATHER_ROWS, end - p0)
                    _targets(csr, p0, nb, offset, y_bias, targets)
                    add_gathered_rows(Y, indices, p0, nb, (ones, targets), fit_bias, Z,
                                      (A, b))
                if fit_bias:
                    A[k, k] += lam_b
                for a in range(k):
                    A[a, a] += lam
                cholesky_solve(A, b)
            for a in range(k):
                X[u, a] = b[a]
            if fit_bias:
                x_bias[u] = b[k]


@numba.njit(**JIT)
def _targets(csr, p0, n, offset, y_bias, out):
    """``out[q] = r - offset - y_bias[i]`` for the entries ``p0 .. p0 + n`` of ``csr``."""
    indices, data = csr[1], csr[2]
    has_yb = y_bias.shape[0] > 0
    for q in range(n):
        t = data[p0 + q] - offset
        if has_yb:
            t -= y_bias[indices[p0 + q]]
        out[q] = t


@numba.njit(**PARALLEL_JIT)
def als_cg_half_sweep(csr, solve, fixed, hyper, cg_steps):
    """Move every row of ``X`` (and ``x_bias``) by ``cg_steps`` conjugate-gradient steps on the
    row objective of :func:`als_half_sweep`, starting from its current value.

    The arguments are :func:`als_half_sweep`'s, ``solve = (X, x_bias)`` read as the start.

    The row's system ``A x = b`` is never formed: ``A p`` is applied as
    ``sum_i y_i (y_i . p) + l p`` over the row's entries, so a step costs O(n_u k) instead of
    the O(n_u k^2 + k^3) of the exact solve (Takacs, Pilaszy & Tikk 2011; cmfrec's default).
    Every step lowers the row objective, so ALS with this inner solver still never increases
    the total objective; ``cg_steps >= k + 1`` solves exactly (in exact arithmetic). Rows
    without entries get zeros. Rows are taken in 256 interleaved chunks, each with its own
    scratch vectors.
    """
    X = solve[0]
    m, k = X.shape
    d = k + 1 if solve[1].shape[0] > 0 else k
    n_chunks = max(1, min(m, 256))
    for c in prange(n_chunks):
        scratch = (np.empty(d, dtype=X.dtype), np.empty(d, dtype=X.dtype),
                   np.empty(d, dtype=X.dtype), np.empty(d, dtype=X.dtype))
        for u in range(c, m, n_chunks):
            _cg_row(u, csr, solve, fixed, hyper, cg_steps, scratch)


@numba.njit(**JIT)
def _cg_row(u, csr, solve, fixed, hyper, cg_steps, scratch):
    """Row ``u`` of :func:`als_cg_half_sweep`; ``scratch`` holds four vectors of the system's
    size (the iterate, residual, search direction and its product)."""
    indptr, indices, data = csr
    X, x_bias = solve
    Y, y_bias = fixed
    offset, reg, reg_bias, exponent = hyper
    x, r, s, q = scratch
    k = X.shape[1]
    fit_bias = x_bias.shape[0] > 0
    has_yb = y_bias.shape[0] > 0
    d = k + 1 if fit_bias else k
    start, end = indptr[u], indptr[u + 1]
    n = end - start
    if n == 0:
        _clear_row(X, x_bias, u)
        return
    scale = n ** exponent
    lam = X.dtype.type(reg * scale)
    lam_b = X.dtype.type(reg_bias * scale)
    for a in range(k):
        x[a] = X[u, a]
        r[a] = -lam * x[a]
    if fit_bias:
        x[k] = x_bias[u]
        r[k] = -lam_b * x[k]
    for p in range(start, end):  # r = b - A x: the residuals of the row's ratings
        i = indices[p]
        e = data[p] - offset
        if has_yb:
            e -= y_bias[i]
        if fit_bias:
            e -= x[k]
        for a in range(k):
            e -= Y[i, a] * x[a]
        for a in range(k):
            r[a] += e * Y[i, a]
        if fit_bias:
            r[k] += e
    s[:] = r  # search direction
    rr = 0.0
    for a in range(d):
        rr += np.float64(r[a]) * r[a]
    for _ in range(cg_steps):
        if rr <= 0.0:
            break
        for a in range(k):  # q = A s
            q[a] = lam * s[a]
        if fit_bias:
            q[k] = lam_b * s[k]
        for p in range(start, end):
            i = indices[p]
            t = s[k] if fit_bias else X.dtype.type(0.0)
            for a in range(k):
                t += Y[i, a] * s[a]
            for a in range(k):
                q[a] += t * Y[i, a]
            if fit_bias:
                q[k] += t
        sq = 0.0
        for a in range(d):
            sq += np.float64(s[a]) * q[a]
        if sq <= 0.0:
            break
        alpha = X.dtype.type(rr / sq)
        rr_new = 0.0
        for a in range(d):
            x[a] += alpha * s[a]
            r[a] -= alpha * q[a]
            rr_new += np.float64(r[a]) * r[a]
        beta = X.dtype.type(rr_new / rr)
        for a in range(d):
            s[a] = r[a] + beta * s[a]
        rr = rr_new
    for a in range(k):
        X[u, a] = x[a]
    if fit_bias:
        x_bias[u] = x[k]

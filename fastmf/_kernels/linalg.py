"""Small dense linear algebra shared by the row-solving kernels, and the MF residual.

* :func:`cholesky_solve` (loops; copes with singular systems) and :func:`spd_solve` (LAPACK's
  blocked Cholesky) factor a row's system; both finish with :func:`triangular_solve`.
* :func:`add_gathered_rows` builds a row's normal equations ``A x = b`` from the other side's
  factor rows gathered into a scratch block of :data:`GATHER_ROWS` rows, one BLAS gemm a block.
* :func:`dual_ridge_solve` solves a row with fewer entries than unknowns through its small
  n x n dual system instead.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT

#: Entries of a row gathered into one scratch block ``Z`` before one BLAS product ``Z^T Z``.
GATHER_ROWS = 128


@numba.njit(**JIT)
def triangular_solve(L, b):
    """Solve ``L L^T x = b`` in place (``b`` becomes ``x``), reading only the lower triangle of
    ``L``: forward substitution ``L y = b``, then backward ``L^T x = y``."""
    d = b.shape[0]
    for i in range(d):
        t = b[i]
        for p in range(i):
            t -= L[i, p] * b[p]
        b[i] = t / L[i, i]
    for i in range(d - 1, -1, -1):
        t = b[i]
        for p in range(i + 1, d):
            t -= L[p, i] * b[p]
        b[i] = t / L[i, i]


@numba.njit(**JIT)
def cholesky_solve(A, b):
    """Solve ``A x = b`` for symmetric positive definite ``A``, in place: ``b`` becomes ``x``.

    Only the upper triangle of ``A`` is read; its lower triangle is overwritten with the
    Cholesky factor. A non-positive pivot (a singular system, e.g. no regularisation and fewer
    observations than factors) is replaced by a tiny positive one, giving a minimum-norm-like
    solution instead of NaN.
    """
    d = A.shape[0]
    for j in range(d):
        s = A[j, j]
        for p in range(j):
            s -= A[j, p] * A[j, p]
        if s <= 1e-12:
            s = 1e-12
        ljj = np.sqrt(s)
        A[j, j] = ljj
        for i in range(j + 1, d):
            t = A[j, i]  # upper triangle holds the original matrix
            for p in range(j):
                t -= A[i, p] * A[j, p]
            A[i, j] = t / ljj
    triangular_solve(A, b)


@numba.njit(**JIT)
def spd_solve(A, b):
    """Solve ``A x = b`` for a symmetric positive definite ``A`` (full, both triangles) into
    ``b``: LAPACK's blocked Cholesky (``np.linalg.cholesky``, twice as fast as
    :func:`cholesky_solve` at k = 128, but it raises on a matrix that is not positive
    definite), then :func:`triangular_solve`."""
    triangular_solve(np.linalg.cholesky(A), b)


@numba.njit(**JIT)
def add_gathered_rows(Y, indices, p0, n, weights, with_one, Z, system):
    """Add ``n`` entries of a row to its normal equations ``system = (A, b)``.

    For ``q < n``, with ``y = Y[indices[p0 + q]]`` followed by a constant 1 when ``with_one``
    (a bias solved jointly with the factors) and ``weights = (zw, bw)``:
    ``Z[q] = zw[q] y`` and ``b += bw[q] y``; then ``A += Z[:n]^T Z[:n]``, one BLAS gemm
    (``np.dot``), so BLAS must run single-threaded under a parallel caller. ``Z`` is the
    caller's scratch of at least ``n`` rows (:data:`GATHER_ROWS`) and ``len(y)`` columns, in
    the dtype of ``Y``; ``bw`` may be wider (float64) than ``b``.
    """
    zw, bw = weights
    A, b = system
    k = Y.shape[1]
    for q in range(n):
        i = indices[p0 + q]
        w = zw[q]
        t = bw[q]
        for a in range(k):
            ya = Y[i, a]
            Z[q, a] = w * ya
            b[a] += t * ya
        if with_one:
            Z[q, k] = w
            b[k] += t
    Zn = Z[:n]
    A += np.dot(Zn.T, Zn)


@numba.njit(**JIT)
def dual_ridge_solve(Y, entries, targets, scales, Z, system):
    """Solve a ridge row ``(D + V^T V) x = V^T t`` with ``n`` entries, fewer than unknowns,
    through its n x n dual: ``(I + V D^-1 V^T) alpha = t``, ``x = D^-1 V^T alpha``.

    ``entries = (indices, p0, n)``: the rows ``V[q] = Y[indices[p0 + q]]``, followed by a
    constant 1 when ``Z`` has one column more than ``Y`` (a bias solved jointly), with
    targets ``t = targets[:n]`` (float64; overwritten by ``alpha``). ``D`` is diagonal with
    ``1 / scales[0]^2`` on the factors and ``1 / scales[1]^2`` on the bias (both scales
    positive: the dual needs a positive definite ``D``). ``Z`` (at least ``n`` rows, in the
    dtype of ``Y``) receives ``V D^-1/2``; ``system = (G, x)``: ``G``, at least n x n, is
    scratch, ``x`` receives the solution. O(n^2 d + n^3) instead of the primal O(n d^2 + d^3):
    no Cholesky of the d x d matrix, which dominates a row with a few entries (the
    push-through identity ``(D + V^T V)^-1 V^T = D^-1 V^T (I + V D^-1 V^T)^-1`` involves no
    subtraction, so it is as accurate as the primal solve).
    """
    indices, p0, n = entries
    s, s_b = scales
    G, x = system
    k = Y.shape[1]
    d = Z.shape[1]
    for q in range(n):
        i = indices[p0 + q]
        for a in range(k):
            Z[q, a] = s * Y[i, a]
        if d > k:
            Z[q, k] = s_b
    for p in range(n):
        for q in range(p, n):
            t = Z.dtype.type(1.0) if p == q else Z.dtype.type(0.0)
            for a in range(d):
                t += Z[p, a] * Z[q, a]
            G[p, q] = t
    alpha = targets[:n]
    cholesky_solve(G[:n, :n], alpha)
    for a in range(d):
        t = 0.0
        for q in range(n):
            t += Z[q, a] * alpha[q]
        x[a] = t * (s if a < k else s_b)


@numba.njit(**PARALLEL_JIT)
def residual(csr, rows, cols, offset, out):
    """Errors ``e = r_ui - offset - x_bias[u] - y_bias[i] - X[u] . Y[i]`` on the stored entries.

    ``csr = (indptr, indices, data)`` holds the ratings ``r_ui``; ``rows = (X, x_bias)`` and
    ``cols = (Y, y_bias)`` the factors and biases of its rows and columns (a zero-length bias
    array means no bias on that side). Writes ``out[p] = e`` in the entries' order when
    ``out`` is non-empty (pass a zero-length ``out`` for the objective alone) and returns the
    sum of ``e^2``, accumulated in float64.
    """
    indptr, indices, data = csr
    X, x_bias = rows
    Y, y_bias = cols
    m, k = X.shape
    has_xb, has_yb = x_bias.shape[0] > 0, y_bias.shape[0] > 0
    store = out.shape[0] > 0
    total = 0.0
    for u in prange(m):
        row = 0.0
        xb = x_bias[u] if has_xb else 0.0
        for p in range(indptr[u], indptr[u + 1]):
            i = indices[p]
            e = data[p] - offset - xb
            if has_yb:
                e -= y_bias[i]
            for f in range(k):
                e -= X[u, f] * Y[i, f]
            if store:
                out[p] = e
            row += e * e
        total += row
    return total

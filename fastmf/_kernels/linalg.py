"""Small dense linear algebra and objective pieces shared by several kernels."""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT


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
    for i in range(d):  # forward: L y = b
        t = b[i]
        for p in range(i):
            t -= A[i, p] * b[p]
        b[i] = t / A[i, i]
    for i in range(d - 1, -1, -1):  # backward: L^T x = y
        t = b[i]
        for p in range(i + 1, d):
            t -= A[p, i] * b[p]
        b[i] = t / A[i, i]


@numba.njit(**PARALLEL_JIT)
def residual(indptr, indices, data, X, x_bias, Y, y_bias, offset, out):
    """Errors ``e = r_ui - offset - x_bias[u] - y_bias[i] - X[u] . Y[i]`` on the stored entries.

    Writes ``out[p] = e`` in the entries' order when ``out`` is non-empty (pass a zero-length
    ``out`` for the objective alone) and returns the sum of ``e^2``, accumulated in float64.
    Zero-length bias arrays mean no bias on that side.
    """
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

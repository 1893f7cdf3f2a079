"""Explicit-feedback ALS: one closed-form half-sweep over the rows of one side."""

import numba
import numpy as np
from numba import prange

from .._config import PARALLEL_JIT
from .linalg import cholesky_solve


@numba.njit(**PARALLEL_JIT)
def als_half_sweep(indptr, indices, data, X, x_bias, Y, y_bias, offset, reg, reg_bias,
                   scale_reg):
    """Solve every row of ``X`` (and ``x_bias``) exactly with ``Y`` and ``y_bias`` fixed.

    Row ``u`` minimises, over its stored entries ``i``,

        sum_i (r_ui - offset - y_bias[i] - b_u - X[u] . Y[i])^2 + l ||X[u]||^2 + l_b b_u^2

    with ``l = reg`` and ``l_b = reg_bias``, both times the row's count when ``scale_reg``
    (ALS-WR). The bias is solved jointly with the factors by augmenting the system with a
    constant column; pass zero-length ``x_bias`` to fit no bias for this side and zero-length
    ``y_bias`` when the other side has none. Rows without entries get zeros.
    """
    m, k = X.shape
    fit_bias = x_bias.shape[0] > 0
    has_yb = y_bias.shape[0] > 0
    d = k + 1 if fit_bias else k
    for u in prange(m):
        start, end = indptr[u], indptr[u + 1]
        A = np.zeros((d, d), dtype=X.dtype)
        b = np.zeros(d, dtype=X.dtype)
        p = start
        while p + 4 <= end:  # four rank-1 updates at once: a quarter of the traffic on A
            i0, i1, i2, i3 = indices[p], indices[p + 1], indices[p + 2], indices[p + 3]
            t0 = data[p] - offset
            t1 = data[p + 1] - offset
            t2 = data[p + 2] - offset
            t3 = data[p + 3] - offset
            if has_yb:
                t0 -= y_bias[i0]
                t1 -= y_bias[i1]
                t2 -= y_bias[i2]
                t3 -= y_bias[i3]
            y0, y1, y2, y3 = Y[i0], Y[i1], Y[i2], Y[i3]
            for a in range(k):
                a0, a1, a2, a3 = y0[a], y1[a], y2[a], y3[a]
                b[a] += t0 * a0 + t1 * a1 + t2 * a2 + t3 * a3
                for c in range(a, k):
                    A[a, c] += a0 * y0[c] + a1 * y1[c] + a2 * y2[c] + a3 * y3[c]
            if fit_bias:
                for a in range(k):
                    A[a, k] += y0[a] + y1[a] + y2[a] + y3[a]
                b[k] += t0 + t1 + t2 + t3
            p += 4
        while p < end:
            i = indices[p]
            t = data[p] - offset
            if has_yb:
                t -= y_bias[i]
            y = Y[i]
            for a in range(k):
                ya = y[a]
                b[a] += t * ya
                for c in range(a, k):
                    A[a, c] += ya * y[c]
            if fit_bias:
                for a in range(k):
                    A[a, k] += y[a]
                b[k] += t
            p += 1
        n = end - start
        scale = n if scale_reg else 1
        if fit_bias:
            A[k, k] = n + reg_bias * scale
        for a in range(k):
            A[a, a] += reg * scale
        if n == 0:
            for a in range(d):
                b[a] = 0.0
        else:
            cholesky_solve(A, b)
        for a in range(k):
            X[u, a] = b[a]
        if fit_bias:
            x_bias[u] = b[k]

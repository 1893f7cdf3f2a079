"""Explicit-feedback ALS on the GPU: conjugate-gradient row updates with the bias folded in,
and the squared error on the stored entries.

:func:`als_cg_rows` is the device twin of :func:`fastmf._kernels.als.als_cg_half_sweep` (same
row objective, same CG recursion and stopping rules); :func:`als_sse_rows` that of
:func:`fastmf._kernels.linalg.residual` without stored errors. One thread block per row, the
k-vectors and the chunk tile of :func:`~fastmf._kernels.cuda.block.row_pass` in dynamic shared
memory (``shared_elements(k, chunk, 4)`` and ``shared_elements(k, chunk, 1)`` elements). The
bias component is a scalar every thread of the block holds (and updates) identically.
"""

from numba import cuda, float64

from ..._config import CUDA_JIT
from .block import ALS_RESID, ALS_STEP, RED2, block_sum, row_pass


@cuda.jit(**CUDA_JIT)
def als_cg_rows(indptr, indices, data, X, x_bias, Y, y_bias, offset, reg, reg_bias, exponent,
                cg_steps, chunk):
    """Move every row of ``X`` (and ``x_bias``) by ``cg_steps`` CG steps on its row objective

        sum_i (r_ui - offset - y_bias[i] - b_u - X[u] . Y[i])^2 + l ||X[u]||^2 + l_b b_u^2,

    ``l = reg``, ``l_b = reg_bias``, both times the row's count to the power ``exponent`` (a
    float64); starting
    from the current values. Zero-length ``x_bias`` fits no bias for this side, zero-length
    ``y_bias`` means the other side has none. Rows without entries get zeros. ``offset`` is a
    float64 scalar (the residuals are taken in float64, as on the CPU), ``reg`` and
    ``reg_bias`` scalars of the factors' dtype; ``chunk`` as in
    :func:`~fastmf._kernels.cuda.implicit_cg.implicit_cg_rows`.
    """
    m, k = X.shape
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    fit_bias = x_bias.shape[0] > 0
    sh = cuda.shared.array(0, dtype=X.dtype)
    red = cuda.shared.array(RED2, dtype=float64)
    x = sh[0:k]
    r = sh[k:2 * k]
    s = sh[2 * k:3 * k]
    q = sh[3 * k:4 * k]
    tile = sh[4 * k:4 * k + chunk * (k + 1)]
    coef = sh[4 * k + chunk * (k + 1):4 * k + chunk * (k + 2)]
    zero = X.dtype.type(0)
    for u in range(cuda.blockIdx.x, m, cuda.gridDim.x):
        start = indptr[u]
        end = indptr[u + 1]
        if start == end:
            for a in range(t, k, nt):
                X[u, a] = zero
            if fit_bias and t == 0:
                x_bias[u] = zero
            continue
        scale = float64(end - start) ** exponent
        lam = X.dtype.type(reg * scale)
        lam_b = X.dtype.type(reg_bias * scale)
        xb = x_bias[u] if fit_bias else zero
        for a in range(t, k, nt):
            x[a] = X[u, a]
            r[a] = -lam * x[a]
        cuda.syncthreads()
        # r = b - A x: the residuals of the row's ratings, times their item rows
        esum, _unused = row_pass(ALS_RESID, start, end, indices, data, Y, y_bias, x,
                                 offset + float64(xb), r, True, tile, coef, red)
        rb = X.dtype.type(esum - lam_b * xb) if fit_bias else zero
        part = 0.0
        for a in range(t, k, nt):
            s[a] = r[a]
            part += r[a] * r[a]
        rr = block_sum(red, part) + float64(rb) * rb
        sb = rb
        for _ in range(cg_steps):
            if rr <= 0.0:
                break
            for a in range(t, k, nt):  # q = A s
                q[a] = lam * s[a]
            tsum, _unused = row_pass(ALS_STEP, start, end, indices, data, Y, y_bias, s, sb, q,
                                     True, tile, coef, red)
            qb = X.dtype.type(lam_b * sb + tsum) if fit_bias else zero
            part = 0.0
            for a in range(t, k, nt):
                part += s[a] * q[a]
            sq = block_sum(red, part) + float64(sb) * qb
            if sq <= 0.0:
                break
            alpha = X.dtype.type(rr / sq)
            part = 0.0
            for a in range(t, k, nt):
                x[a] += alpha * s[a]
                r[a] -= alpha * q[a]
                part += r[a] * r[a]
            xb += alpha * sb
            rb -= alpha * qb
            rr_new = block_sum(red, part) + float64(rb) * rb
            beta = X.dtype.type(rr_new / rr)
            for a in range(t, k, nt):
                s[a] = r[a] + beta * s[a]
            sb = rb + beta * sb
            cuda.syncthreads()
            rr = rr_new
        for a in range(t, k, nt):
            X[u, a] = x[a]
        if fit_bias and t == 0:
            x_bias[u] = xb


@cuda.jit(**CUDA_JIT)
def als_sse_rows(indptr, indices, data, X, x_bias, Y, y_bias, offset, chunk, partial):
    """Each block's share of ``sum e^2`` over the stored entries, with
    ``e = r_ui - offset - x_bias[u] - y_bias[i] - X[u] . Y[i]``, into ``partial[blockIdx.x]``
    (zero-length bias arrays: no bias on that side; ``offset`` a float64 scalar)."""
    m, k = X.shape
    t = cuda.threadIdx.x
    has_xb = x_bias.shape[0] > 0
    sh = cuda.shared.array(0, dtype=X.dtype)
    red = cuda.shared.array(RED2, dtype=float64)
    x = sh[0:k]
    tile = sh[k:k + chunk * (k + 1)]
    coef = sh[k + chunk * (k + 1):k + chunk * (k + 2)]
    total = 0.0
    for u in range(cuda.blockIdx.x, m, cuda.gridDim.x):
        for a in range(t, k, cuda.blockDim.x):
            x[a] = X[u, a]
        cuda.syncthreads()
        shift = offset + float64(x_bias[u]) if has_xb else offset
        _unused, sse = row_pass(ALS_RESID, indptr[u], indptr[u + 1], indices, data, Y, y_bias, x,
                                shift, x, False, tile, coef, red)
        total += sse
    if t == 0:
        partial[cuda.blockIdx.x] = total

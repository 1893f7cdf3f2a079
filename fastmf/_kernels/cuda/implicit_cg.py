"""Implicit-feedback ALS on the GPU: warm-started conjugate-gradient row updates.

The device twin of :func:`fastmf._kernels.implicit_als.implicit_cg_sweep` (same system, same
steps, same stopping rules, same returned objective share); see that docstring for the maths.
One thread block per row; the row's four k-vectors (x, r, d, A d) and the chunk tile of
:func:`~fastmf._kernels.cuda.block.row_pass` live in dynamic shared memory of
``shared_elements(k, chunk, 4)`` elements of the factors' dtype.
"""

from numba import cuda, float64

from ..._config import CUDA_JIT
from .block import IMPLICIT_INIT, IMPLICIT_STEP, RED2, block_sum, gram_times, row_pass


@cuda.jit(**CUDA_JIT)
def implicit_cg_rows(indptr, indices, conf, X, Y, gram, cg_steps, chunk, partial):
    """Improve every row of ``X`` by ``cg_steps`` CG steps, warm-started, ``Y`` fixed.

    Parameters
    ----------
    indptr, indices, conf : CSR arrays of the rows of ``X`` over the rows of ``Y``; ``conf``
        holds the confidences ``c_ui >= 1`` of the stored (positive) entries.
    X : device array of shape (m, k), updated in place.
    Y : device array of shape (n, k), same dtype.
    gram : device array of shape (k, k), ``Y^T Y + reg I``.
    cg_steps : int, >= 1.
    chunk : int, entries staged at once (the dynamic shared memory must hold
        ``shared_elements(k, chunk, 4)`` elements).
    partial : float64 device array of shape (gridDim.x,)
        Receives each block's share of ``sum_u f_u(x_u)`` (the objective share of the rows,
        as :func:`~fastmf._kernels.implicit_als.implicit_cg_sweep` returns it).
    """
    m, k = X.shape
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    sh = cuda.shared.array(0, dtype=X.dtype)
    red = cuda.shared.array(RED2, dtype=float64)
    x = sh[0:k]
    r = sh[k:2 * k]
    d = sh[2 * k:3 * k]
    ad = sh[3 * k:4 * k]
    tile = sh[4 * k:4 * k + chunk * (k + 1)]
    coef = sh[4 * k + chunk * (k + 1):4 * k + chunk * (k + 2)]
    zero = X.dtype.type(0)
    one = X.dtype.type(1)
    no_bias = conf[0:0]
    total = 0.0
    for u in range(cuda.blockIdx.x, m, cuda.gridDim.x):
        start = indptr[u]
        end = indptr[u + 1]
        for a in range(t, k, nt):
            x[a] = X[u, a]
        cuda.syncthreads()
        # r = b - A x = -G x + sum_i (c_i - (c_i - 1) y_i . x) y_i
        gram_times(gram, x, r, -one)
        bx, csum = row_pass(IMPLICIT_INIT, start, end, indices, conf, Y, no_bias, x, zero, r,
                            True, tile, coef, red)
        part = 0.0
        for a in range(t, k, nt):
            d[a] = r[a]
            part += r[a] * r[a]
        rs_old = block_sum(red, part)  # also publishes d to the whole block
        if rs_old >= 1e-20:
            for _ in range(cg_steps):
                gram_times(gram, d, ad, one)
                bd, _unused = row_pass(IMPLICIT_STEP, start, end, indices, conf, Y, no_bias, d,
                                       zero, ad, True, tile, coef, red)
                part = 0.0
                for a in range(t, k, nt):
                    part += d[a] * ad[a]
                dad = block_sum(red, part)
                if dad <= 0.0:  # d = 0 to working precision
                    break
                step = X.dtype.type(rs_old / dad)
                bx += step * bd
                part = 0.0
                for a in range(t, k, nt):
                    x[a] += step * d[a]
                    r[a] -= step * ad[a]
                    part += r[a] * r[a]
                rs_new = block_sum(red, part)
                if rs_new < 1e-20:
                    break
                beta = X.dtype.type(rs_new / rs_old)
                for a in range(t, k, nt):
                    d[a] = r[a] + beta * d[a]
                cuda.syncthreads()
                rs_old = rs_new
        part = 0.0
        for a in range(t, k, nt):
            X[u, a] = x[a]
            part += x[a] * r[a]
        total += csum - bx - block_sum(red, part)
    if t == 0:
        partial[cuda.blockIdx.x] = total

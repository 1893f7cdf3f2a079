"""L-BFGS's vector work, parallel over the elements of the flat parameter vector, in its dtype.

The vectors are as long as the model (two weight matrices for AutoRec: millions of elements),
so the work is memory traffic. The solver (:mod:`fastmf._solvers.lbfgs`) runs the two-loop
recursion on the Gram matrix of its stored vectors ("vector-free" L-BFGS, Chen, Wang, Zhou &
Yuan, NeurIPS 2014), so an iteration costs one :func:`gram_rows` pass and one :func:`combine`
pass over them instead of four passes per stored pair. Every dot product is summed in float64
over blocks of :data:`BLOCK` elements whose partial sums are added in block order: the same
result at any thread count.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT

#: Elements per partial sum of :func:`gram_rows` (fixed: the sums do not depend on threads).
BLOCK = 1 << 12


@numba.njit(**JIT)
def _dot(x, y):
    s = 0.0
    for p in range(x.shape[0]):
        s += np.float64(x[p]) * np.float64(y[p])
    return s


@numba.njit(**JIT)
def _dot3(x0, x1, x2, y):
    s0 = s1 = s2 = 0.0
    for p in range(y.shape[0]):
        v = np.float64(y[p])
        s0 += np.float64(x0[p]) * v
        s1 += np.float64(x1[p]) * v
        s2 += np.float64(x2[p]) * v
    return s0, s1, s2


@numba.njit(**JIT)
def _axpy(a, x, y):
    for p in range(x.shape[0]):
        y[p] += a * x[p]


# The block loops below work on slices handed to serial helpers: numba (0.68) vectorises the
# helpers' loops, but not the same loops written over index ranges inside the prange body.
@numba.njit(**PARALLEL_JIT)
def gram_rows(B, rows, out):
    """``out[a, c] = B[rows[a]] . B[c]`` for every row ``c`` of ``B``, in float64: one pass
    over ``B`` (each block of every row is read once, while the blocks of ``rows`` stay in
    cache), the same at any thread count."""
    n_rows, n = B.shape
    r = rows.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    part = np.zeros((n_blocks, r, n_rows))
    for j in prange(n_blocks):
        lo, hi = j * BLOCK, min(n, (j + 1) * BLOCK)
        for c in range(n_rows):
            y = B[c, lo:hi]
            if r == 3:  # the three new vectors of an iteration in one pass over y
                part[j, 0, c], part[j, 1, c], part[j, 2, c] = _dot3(
                    B[rows[0], lo:hi], B[rows[1], lo:hi], B[rows[2], lo:hi], y)
            else:
                for a in range(r):
                    part[j, a, c] = _dot(B[rows[a], lo:hi], y)
    for a in range(r):
        for c in range(n_rows):
            total = 0.0
            for j in range(n_blocks):
                total += part[j, a, c]
            out[a, c] = total


@numba.njit(**PARALLEL_JIT)
def combine(B, coef, out):
    """``out = sum_c coef[c] B[c]`` over the rows with a nonzero coefficient, block by block
    (the block of ``out`` stays in cache while the rows stream past)."""
    n_rows, n = B.shape
    T = out.dtype.type
    n_blocks = (n + BLOCK - 1) // BLOCK
    for j in prange(n_blocks):
        lo, hi = j * BLOCK, min(n, (j + 1) * BLOCK)
        o = out[lo:hi]
        o[:] = 0
        for c in range(n_rows):
            if coef[c] != 0:
                _axpy(T(coef[c]), B[c, lo:hi], o)


@numba.njit(**PARALLEL_JIT)
def step_to(x, t, d, out):
    """``out = x + t d``."""
    a = out.dtype.type(t)
    for p in prange(out.shape[0]):
        out[p] = x[p] + a * d[p]


@numba.njit(**PARALLEL_JIT)
def difference(a, b, out):
    """``out = a - b``."""
    for p in prange(out.shape[0]):
        out[p] = a[p] - b[p]

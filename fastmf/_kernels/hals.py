"""Coordinate descent, one factor at a time: CCD++ on observed entries and Gram-matrix HALS.

Two families share this file:

* CCD++ (Yu et al., 2012) for losses over the *observed* entries. The residual
  ``res = r - prediction`` is kept for every stored entry; updating factor ``f`` of row ``u`` is
  the scalar least-squares problem
  ``x_uf = sum_i (res_ui + x_uf y_if) y_if / (l2 s_u + sum_i y_if^2)``, after which the residual
  is corrected by ``(x_old - x_new) y_if``. Rows touch disjoint stored entries, so they run in
  parallel; the same kernel updates the columns through a CSC view whose ``perm`` maps each CSC
  position to the residual's CSR position.
* HALS (Cichocki & Phan, 2009) for the Frobenius loss over the *whole* matrix (zeros count), as
  scikit-learn's ``_update_cdnmf_fast``: given ``HHt = H^T H (+ l2 I)`` and ``XHt = X H (- l1)``,
  one sweep updates every entry of ``W`` in closed form, projected to ``>= 0`` (here fused with
  the sparse product ``X H``, row by row). The same kernel updates ``H`` on the transposed
  problem.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT


@numba.njit(**PARALLEL_JIT)
def residual(indptr, indices, data, X, x_bias, Y, y_bias, offset, out):
    """``out[p] = data[p] - offset - x_bias[u] - y_bias[i] - X[u] . Y[i]`` for stored entries.

    Zero-length bias arrays mean no bias on that side.
    """
    m, k = X.shape
    has_xb, has_yb = x_bias.shape[0] > 0, y_bias.shape[0] > 0
    for u in prange(m):
        xb = x_bias[u] if has_xb else 0.0
        for p in range(indptr[u], indptr[u + 1]):
            i = indices[p]
            e = data[p] - offset - xb
            if has_yb:
                e -= y_bias[i]
            for f in range(k):
                e -= X[u, f] * Y[i, f]
            out[p] = e


@numba.njit(**PARALLEL_JIT)
def ccd_update(indptr, indices, perm, res, x, y, l1, l2, scale_reg, nonneg):
    """Update one factor ``x`` (length n_rows) with ``y`` fixed, keeping ``res`` exact.

    Row ``u`` minimises ``sum_i (res_ui + x_old y_i - x_u y_i)^2 + l2 s_u x_u^2 + 2 l1 |x_u|``
    over its stored entries (``s_u`` = its count when ``scale_reg``, else 1), projected to
    ``x_u >= 0`` when ``nonneg`` (then the L1 term is linear). ``perm`` maps the positions of
    ``indptr``/``indices`` into ``res``; pass a zero-length ``perm`` for the identity (CSR).
    A bias is a factor whose ``y`` is all ones. Rows without entries get 0.
    """
    n_rows = indptr.shape[0] - 1
    direct = perm.shape[0] == 0
    for u in prange(n_rows):
        start, end = indptr[u], indptr[u + 1]
        if start == end:
            x[u] = 0.0
            continue
        old = x[u]
        num = 0.0
        den = 0.0
        if direct:
            for p in range(start, end):
                yi = y[indices[p]]
                num += res[p] * yi
                den += yi * yi
        else:
            for p in range(start, end):
                yi = y[indices[p]]
                num += res[perm[p]] * yi
                den += yi * yi
        num += old * den
        den += l2 * ((end - start) if scale_reg else 1.0)
        if nonneg:
            new = (num - l1) / den if num > l1 and den > 0 else 0.0
        elif num > l1:
            new = (num - l1) / den
        elif num < -l1:
            new = (num + l1) / den
        else:
            new = 0.0
        x[u] = new
        delta = old - new
        if delta == 0.0:
            continue
        if direct:
            for p in range(start, end):
                res[p] += delta * y[indices[p]]
        else:
            for p in range(start, end):
                res[perm[p]] += delta * y[indices[p]]


@numba.njit(**PARALLEL_JIT)
def hals_rows(indptr, indices, data, A, B, BtB, l1):
    """One HALS sweep of every row of ``A`` fused with its sparse product; returns a cross term.

    For row ``u``: ``xb = X[u] @ B`` (the row of ``X B``, accumulated in float64, never
    stored), then for ``t = 1..k``
    ``A[u, t] = max(0, A[u, t] - (BtB[t] . A[u] - xb[t] + l1) / BtB[t, t])`` (skipped when
    ``BtB[t, t] == 0``). One parallel pass instead of a product then a sweep. Returns
    ``sum_u xb . A[u]`` with the updated rows, i.e. ``sum over stored entries of
    x_ui (A B^T)_ui``, the cross term of the Frobenius objective.

    ``BtB`` must be symmetric: the sweep keeps the gradient ``BtB A[u] - xb + l1`` current by
    a rank-1 update per changed coordinate (no dot product per coordinate); the row is swept
    in float64 and stored back once.
    """
    m, k = A.shape
    n_chunks = min(m, 256)
    cross = 0.0
    for c in prange(n_chunks):  # chunk c: rows c, c + n_chunks, ... (skewed rows balance)
        xb = np.empty(k, dtype=np.float64)
        row = np.empty(k, dtype=np.float64)
        grad = np.empty(k, dtype=np.float64)
        part = 0.0
        for u in range(c, m, n_chunks):
            xb[:] = 0.0
            p, end = indptr[u], indptr[u + 1]
            while p + 4 <= end:  # four entries per pass: a quarter of the traffic on xb
                a0, a1 = np.float64(data[p]), np.float64(data[p + 1])
                a2, a3 = np.float64(data[p + 2]), np.float64(data[p + 3])
                i0, i1, i2, i3 = indices[p], indices[p + 1], indices[p + 2], indices[p + 3]
                for f in range(k):
                    xb[f] += a0 * B[i0, f] + a1 * B[i1, f] + a2 * B[i2, f] + a3 * B[i3, f]
                p += 4
            while p < end:
                a = np.float64(data[p])
                i = indices[p]
                for f in range(k):
                    xb[f] += a * B[i, f]
                p += 1
            for f in range(k):
                row[f] = A[u, f]
                grad[f] = l1 - xb[f]
            for r in range(k):  # grad = BtB row - xb + l1, then kept current by rank-1 updates
                ar = row[r]
                for f in range(k):
                    grad[f] += BtB[r, f] * ar
            for t in range(k):
                hess = BtB[t, t]
                if hess != 0.0:
                    new = row[t] - grad[t] / hess
                    if new < 0.0:
                        new = 0.0
                    step = new - row[t]
                    if step != 0.0:
                        row[t] = new
                        for f in range(k):
                            grad[f] += step * BtB[t, f]
            for f in range(k):
                A[u, f] = row[f]
                part += xb[f] * row[f]
        cross += part
    return cross


@numba.njit(**PARALLEL_JIT)
def csr_matmul(indptr, indices, data, B, out):
    """``out = A @ B`` for a CSR matrix ``A`` and a dense ``B``, rows in parallel.

    Each row is accumulated in float64 (objectives built from these products subtract large,
    nearly equal terms, so float32 accumulation would show in them).
    """
    m = indptr.shape[0] - 1
    k = B.shape[1]
    for u in prange(m):
        acc = np.zeros(k, dtype=np.float64)
        for p in range(indptr[u], indptr[u + 1]):
            a = np.float64(data[p])
            i = indices[p]
            for f in range(k):
                acc[f] += a * B[i, f]
        for f in range(k):
            out[u, f] = acc[f]


@numba.njit(**JIT)
def csc_to_csr_positions(csc_indptr, csc_indices, csr_indptr):
    """For each CSC position the CSR position of the same entry (both with sorted indices)."""
    n = csc_indptr.shape[0] - 1
    nxt = csr_indptr[:-1].copy()
    perm = np.empty(csc_indices.shape[0], dtype=np.int64)
    for j in range(n):  # columns in increasing order fill each CSR row left to right
        for p in range(csc_indptr[j], csc_indptr[j + 1]):
            u = csc_indices[p]
            perm[p] = nxt[u]
            nxt[u] += 1
    return perm

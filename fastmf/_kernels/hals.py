"""Coordinate descent, one factor at a time: CCD++ on observed entries and Gram-matrix HALS.

Two families share this file:

* CCD++ (Yu et al., 2012) for losses over the *observed* entries. The residual
  ``res = r - prediction`` is kept for every stored entry; updating factor ``f`` of row ``u`` is
  the scalar least-squares problem
  ``x_uf = sum_i (res_ui + x_uf y_if) y_if / (l2 s_u + sum_i y_if^2)``, after which the residual
  is corrected by ``(x_old - x_new) y_if``. Rows touch disjoint stored entries, so they run in
  parallel. The columns' sums are gathered in the same CSR-order stream (per chunk of rows,
  while the rows' corrections are applied), so one factor costs one pass over the entries and
  the residual is never reached through a CSC permutation.
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


@numba.njit(**JIT)
def _coordinate(num, den, l1, nonneg):
    """argmin_x of ``den x^2 / 2 - num x + l1 |x|`` (over ``x >= 0`` when ``nonneg``)."""
    if nonneg:
        return (num - l1) / den if num > l1 and den > 0 else 0.0
    if num > l1:
        return (num - l1) / den
    if num < -l1:
        return (num + l1) / den
    return 0.0


@numba.njit(**PARALLEL_JIT)
def ccd_sweep(csr, factors, per_factor, layout, hyper):
    """One CCD++ pass: for each factor ``f``, factor ``f`` of every row, then of every column.

    Parameters
    ----------
    csr : (indptr, indices, res)
        The CSR structure of the stored entries and their residual in that order, exact on
        return.
    factors : (Xt, Yt)
        The factors transposed, (K, n_rows) and (K, n_cols), updated in place.
    per_factor : (update_x, update_y, l2)
        Arrays (K,): which sides of factor ``f`` move (booleans; a bias is a factor whose
        other side is all ones and stays fixed) and its L2 weight.
    layout : (chunk_ptr, col_counts)
        Contiguous row ranges (:func:`ccd_chunks`) and the stored entries per column.
    hyper : (l1, exponent, nonneg)
        The L1 weight, the exponent of the count scaling and the switch below.

    Notes
    -----
    Row ``u`` minimises
    ``sum_i (res_ui + x_old y_i - x_u y_i)^2 + l2[f] s_u x_u^2 + 2 l1 |x_u|`` over its stored
    entries (``s_u`` = its count to the power ``exponent``: 1 is ALS-WR, 0 no scaling),
    projected to ``x_u >= 0`` when ``nonneg`` (then the L1 term is linear); columns likewise.
    Rows and columns without entries get 0.

    Everything streams through the entries in CSR order, once per factor. The column update
    needs column sums, which each chunk of rows (``chunk_ptr``: contiguous row ranges)
    accumulates into its own float64 arrays while it corrects the residual for its rows' new
    values; the chunks' sums are added in chunk order, so the result does not depend on the
    number of threads. The columns' residual correction is applied lazily, on the next factor's
    first read of each entry (and by a final pass after the last factor).
    """
    indptr = csr[0]
    indices = csr[1]
    res = csr[2]
    Xt = factors[0]
    Yt = factors[1]
    update_x, update_y, l2 = per_factor
    chunk_ptr, col_counts = layout
    l1, exponent, nonneg = hyper
    K = Xt.shape[0]
    n_cols = Yt.shape[1]
    n_chunks = chunk_ptr.shape[0] - 1
    any_y = False
    for f in range(K):
        any_y = any_y or update_y[f]
    acc = np.zeros((n_chunks if any_y else 0, n_cols, 2))
    delta_y = np.zeros(n_cols, Yt.dtype)
    pending = -1  # factor whose column update is not yet in res
    for f in range(K):
        prev = Xt[pending] if pending >= 0 else Xt[f]
        for c in prange(n_chunks):
            _ccd_rows(chunk_ptr[c], chunk_ptr[c + 1], csr, (Xt[f], Yt[f], prev, delta_y),
                      (pending >= 0, update_x[f]), acc[c] if update_y[f] else acc[:0, 0],
                      (l2[f], l1, exponent, nonneg))
        pending = -1
        if update_y[f]:
            y = Yt[f]
            for i in prange(n_cols):
                old = y[i]
                new = 0.0
                if col_counts[i] > 0:
                    num = 0.0
                    den = 0.0
                    for c in range(n_chunks):
                        num += acc[c, i, 0]
                        den += acc[c, i, 1]
                    reg = l2[f] * col_counts[i] ** exponent
                    new = _coordinate(num + old * den, den + reg, l1, nonneg)
                y[i] = new
                delta_y[i] = old - new
            pending = f
    if pending >= 0:
        x = Xt[pending]
        for c in prange(n_chunks):
            for u in range(chunk_ptr[c], chunk_ptr[c + 1]):
                xu = x[u]
                for p in range(indptr[u], indptr[u + 1]):
                    res[p] += delta_y[indices[p]] * xu


@numba.njit(**JIT)
def _ccd_rows(r0, r1, csr, vectors, flags, acc, hyper):
    """Rows ``r0:r1`` of :func:`ccd_sweep` for one factor.

    ``vectors = (x, y, prev, delta_y)``: the factor's row and column values, the previous
    factor's row values and its pending column change; ``flags = (pending, update_x)``;
    ``hyper = (l2, l1, exponent, nonneg)`` with this factor's ``l2``. First the previous
    factor's column correction ``delta_y[i] * prev[u]`` goes into each entry (when
    ``pending``), then row ``u``'s update (when ``update_x``), then (when ``acc`` has rows) the
    column sums ``acc[i] += (res_ui x_u, x_u^2)`` with the corrected residual.
    """
    indptr, indices, res = csr
    x, y, prev, delta_y = vectors
    pending, update_x = flags
    l2, l1, exponent, nonneg = hyper
    has_acc = acc.shape[0] > 0
    if has_acc:
        acc[:, :] = 0.0
    for u in range(r0, r1):
        start, end = indptr[u], indptr[u + 1]
        if start == end:
            if update_x:
                x[u] = 0.0
            continue
        xp = prev[u]
        if update_x:
            num = 0.0
            den = 0.0
            if pending:
                for p in range(start, end):
                    i = indices[p]
                    r = res[p] + delta_y[i] * xp
                    res[p] = r
                    yi = y[i]
                    num += r * yi
                    den += yi * yi
            else:
                for p in range(start, end):
                    yi = y[indices[p]]
                    num += res[p] * yi
                    den += yi * yi
            old = x[u]
            reg = l2 * float(end - start) ** exponent
            new = _coordinate(num + old * den, den + reg, l1, nonneg)
            x[u] = new
            delta = old - new
            if has_acc:
                sq = new * new
                for p in range(start, end):
                    i = indices[p]
                    r = res[p] + delta * y[i]
                    res[p] = r
                    acc[i, 0] += r * new
                    acc[i, 1] += sq
            elif delta != 0.0:
                for p in range(start, end):
                    res[p] += delta * y[indices[p]]
        elif pending or has_acc:
            xu = x[u]
            sq = xu * xu
            for p in range(start, end):
                i = indices[p]
                r = res[p]
                if pending:
                    r += delta_y[i] * xp
                    res[p] = r
                if has_acc:
                    acc[i, 0] += r * xu
                    acc[i, 1] += sq


def ccd_chunks(indptr, n_cols):
    """Row ranges for :func:`ccd_sweep`: about equal numbers of entries, a count set by the data.

    Up to 64 chunks, fewer when the per-chunk column sums (16 bytes per column) would outweigh
    the entries (at least 8 entries per column per chunk), so their memory stays O(nnz). The
    count depends on the data only, never on the thread count.
    """
    n_rows = len(indptr) - 1
    nnz = int(indptr[-1])
    n_chunks = max(1, min(64, n_rows, nnz // max(8 * n_cols, 1)))
    targets = np.arange(n_chunks + 1) * (nnz / n_chunks)
    chunk_ptr = np.searchsorted(indptr, targets).astype(np.int64)
    chunk_ptr[0], chunk_ptr[-1] = 0, n_rows
    return chunk_ptr


@numba.njit(**PARALLEL_JIT)
def hals_rows(csr, A, B, BtB, l1):
    """One HALS sweep of every row of ``A`` fused with its sparse product; returns a cross term.

    ``csr = (indptr, indices, data)`` holds the matrix ``X`` by rows of ``A``. For row ``u``:
    ``xb = X[u] @ B`` (the row of ``X B``, accumulated in float64, never stored), then for
    ``t = 1..k``
    ``A[u, t] = max(0, A[u, t] - (BtB[t] . A[u] - xb[t] + l1) / BtB[t, t])`` (skipped when
    ``BtB[t, t] == 0``). One parallel pass instead of a product then a sweep. Returns
    ``sum_u xb . A[u]`` with the updated rows, i.e. ``sum over stored entries of
    x_ui (A B^T)_ui``, the cross term of the Frobenius objective.

    ``BtB`` must be symmetric: the sweep keeps the gradient ``BtB A[u] - xb + l1`` current by
    a rank-1 update per changed coordinate (no dot product per coordinate); the row is swept
    in float64 and stored back once.
    """
    indptr, indices, data = csr
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
def csr_matmul(csr, B, out):
    """``out = A @ B`` for a CSR matrix ``A = (indptr, indices, data)`` and a dense ``B``, rows
    in parallel.

    Each row is accumulated in float64 (objectives built from these products subtract large,
    nearly equal terms, so float32 accumulation would show in them).
    """
    indptr, indices, data = csr
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

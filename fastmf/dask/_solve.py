"""The half-step tasks: one block's rows solved from the other side's rows it references
(the single-node kernels, through :mod:`fastmf._solvers.mf_als` and
:mod:`fastmf._solvers.implicit_als`), or from partial normal equations reduced to it.

``hp`` is the dict of hyper-parameters a task needs: ``kind`` ("explicit" or "implicit"),
``mu``, ``reg``, ``reg_bias``, ``count_exponent`` (1: ALS-WR), ``cg_steps``, ``n_threads``,
implicit ALS's ``reg_scaling``, ``reg_exponent``, ``unobserved_weight`` and ``n_other`` (the other
side's size, for :func:`fastmf._solvers.implicit_als.row_reg`), and ``data_loss`` (whether
the block returns its rows' whole objective share, data term included, or only their L2
terms: the first half-step of an iteration, whose data term the second one counts).
"""

import numpy as np

from .._config import threads
from ._tasks import gather_pieces, rows_of

#: Entries (times factors squared) handled at once when forming normal equations.
CHUNK = 2**22


def solve_rows(block, prev, pieces, G, hp):
    """New ``(X, x_bias, loss)`` of a block from the referenced rows ``pieces`` of the other
    side (in ``ref`` order), starting from ``prev`` (CG warm starts)."""
    from .._solvers import implicit_als, mf_als

    X, xb = prev[0].copy(), prev[1].copy()
    Y, yb = gather_pieces(pieces)
    if Y is None:  # the block references nothing: every row is empty
        Y, yb = np.zeros((0, X.shape[1]), X.dtype), np.zeros(0, X.dtype)
    rows = rows_of(block)
    with threads(hp["n_threads"], blas=1):
        if hp["kind"] == "implicit":
            reg = implicit_als.row_reg(block["counts"], hp["n_other"], hp, X.dtype)
            loss = implicit_als.half_sweep(rows, X, Y, reg, hp["cg_steps"], G)
            if not hp["data_loss"]:
                loss = implicit_als.penalty(reg, X)
            return X, xb, float(loss)
        hpt = (hp["mu"], hp["reg"], hp["reg_bias"], hp["count_exponent"])
        mf_als.half_sweep(rows, X, xb, Y, yb, hpt, hp["cg_steps"])
        weights = mf_als.count_weights(block["counts"], hp["count_exponent"])
        loss = mf_als.penalty(weights, X, xb, hp["reg"], hp["reg_bias"])
        if hp["data_loss"]:
            loss += mf_als.squared_error(rows, X, xb, Y, yb, hp["mu"])
    return X, xb, float(loss)


# ---------------------------------------------------------------------- normal equations
def ne_block(block, b):
    """The entries of this block whose other-side row lies in that side's block ``b``,
    grouped by that row: (indptr over those rows, this block's local rows, data)."""
    lo, hi = block["ref_ptr"][b], block["ref_ptr"][b + 1]
    indptr, cols, data = rows_of(block)
    local = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    sel = np.flatnonzero((cols >= lo) & (cols < hi))
    other = cols[sel] - lo
    order = np.argsort(other, kind="stable")
    ptr = np.zeros(hi - lo + 1, dtype=np.int64)
    np.cumsum(np.bincount(other, minlength=hi - lo), out=ptr[1:])
    return ptr, local[sel][order], data[sel][order]


def ne_rows(block, b, start_b):
    """The rows of the other side's block ``b`` that :func:`ne_block` covers, local to it."""
    lo, hi = block["ref_ptr"][b], block["ref_ptr"][b + 1]
    return (block["ref"][lo:hi] - start_b).astype(np.intp)


def ne_piece(neb, state, hp, fit_bias):
    """Partial normal equations of the other side's rows from this block's rows ``state``:
    the packed upper triangles of ``sum z z^T`` (implicit: weighted by ``c - 1``), the
    right-hand sides and ``sum t^2`` (implicit: ``sum c``), in the factors' dtype."""
    ptr, local, data = neb
    Y, yb = state[0], state[1]
    k = Y.shape[1]
    d = k + 1 if fit_bias else k
    iu, ju = np.triu_indices(d)
    m = len(ptr) - 1
    A = np.empty((m, len(iu)), dtype=Y.dtype)
    rhs = np.empty((m, d), dtype=Y.dtype)
    s = np.empty(m, dtype=np.float64)
    per_row = max(1, CHUNK // (len(iu) + d))
    r0 = 0
    while r0 < m:
        r1 = int(np.searchsorted(ptr, ptr[r0] + per_row, side="right")) - 1
        r1 = min(m, max(r1, r0 + 1))
        p0, p1 = ptr[r0], ptr[r1]
        Z = np.empty((p1 - p0, d))
        Z[:, :k] = Y[local[p0:p1]]
        v = data[p0:p1].astype(np.float64)
        if hp["kind"] == "implicit":
            w, t, sq = v - 1.0, v, v
        else:
            if fit_bias:
                Z[:, k] = 1.0
            t = v - hp["mu"] - (yb[local[p0:p1]] if len(yb) else 0.0)
            w, sq = None, t * t
        starts = ptr[r0:r1] - p0
        outer = Z[:, iu] * (Z[:, ju] if w is None else w[:, None] * Z[:, ju])
        A[r0:r1] = np.add.reduceat(outer, starts, axis=0)
        rhs[r0:r1] = np.add.reduceat(t[:, None] * Z, starts, axis=0)
        s[r0:r1] = np.add.reduceat(sq, starts)
        r0 = r1
    return A, rhs, s


def solve_ne(block, prev, ulocs, pieces, G, hp):
    """New ``(X, x_bias, loss)`` of a block from the partial normal equations ``pieces``
    (one per block of the other side, for the rows ``ulocs``), solved exactly."""
    from .._solvers.mf_als import count_weights, penalty

    X0, xb0 = prev[0], prev[1]
    n, k = X0.shape
    fit_bias = len(xb0) > 0
    d = k + 1 if fit_bias else k
    iu, ju = np.triu_indices(d)
    A = np.zeros((n, len(iu)))
    rhs = np.zeros((n, d))
    s = np.zeros(n)
    for rows, (Ap, rp, sp) in zip(ulocs, pieces, strict=True):
        A[rows] += Ap
        rhs[rows] += rp
        s[rows] += sp
    counts = block["counts"]
    if hp["kind"] == "implicit":
        from .._solvers import implicit_als

        reg = implicit_als.row_reg(counts, hp["n_other"], hp, np.float64)
    has = np.flatnonzero(counts > 0)
    x = np.zeros((n, d))
    scale = count_weights(counts, hp["count_exponent"])
    per = max(1, CHUNK // (d * d))
    with threads(hp["n_threads"], blas=1):
        for c0 in range(0, len(has), per):
            sel = has[c0:c0 + per]
            M = np.empty((len(sel), d, d))
            M[:, iu, ju] = A[sel]
            M[:, ju, iu] = A[sel]
            if hp["kind"] == "implicit":
                M += G
                M[:, np.arange(k), np.arange(k)] += reg[sel][:, None]
            else:
                M[:, np.arange(k), np.arange(k)] += (hp["reg"] * scale[sel])[:, None]
                if fit_bias:
                    M[:, k, k] += hp["reg_bias"] * scale[sel]
            x[sel] = _solve_batch(M, rhs[sel])
    X = x[:, :k].astype(X0.dtype)
    xb = x[:, k].astype(xb0.dtype) if fit_bias else xb0.copy()
    if hp["data_loss"]:  # f(x*) = sum t^2 - b . x* (implicit: sum c - b . x*)
        loss = float(np.sum(s) - np.einsum("ij,ij->", rhs, x))
    elif hp["kind"] == "implicit":
        loss = implicit_als.penalty(reg, X)
    else:
        loss = penalty(scale, X, xb, hp["reg"], hp["reg_bias"])
    return X, xb, loss


def _solve_batch(M, b):
    try:
        return np.linalg.solve(M, b[..., None])[..., 0]
    except np.linalg.LinAlgError:  # a singular row (no regularisation): least squares
        return np.stack([np.linalg.lstsq(m, v, rcond=None)[0] for m, v in zip(M, b,
                                                                             strict=True)])

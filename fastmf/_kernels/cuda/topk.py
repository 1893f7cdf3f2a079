"""Top-k selection and ranking metrics on the GPU, without a users x items score matrix.

A thread block takes ``T = blockDim.x`` queries at a time and scores them against the items
in tiles of ``T`` items: both panels are staged in shared memory, thread ``t`` scores item
``t`` of the tile for every query, and then thread ``q`` runs query ``q``'s selection over the
tile's ``T`` scores, keeping a running top-k list sorted in the output arrays. Items arrive in
increasing index order, so the CPU kernels' ordering falls out of a strict comparison: higher
score first, ties to the lower index; excluded items (a merge against the query's sorted CSR
row), masked-out items and NaN scores are never selected. Memory: ``O(T * (k + T))`` shared
elements per block, never a score per (query, item) pair.

Dynamic shared memory: ``shared_elements(k, T)`` elements of the factors' dtype.
"""

import math

from numba import cuda

from ..._config import CUDA_JIT


def shared_elements(k, nt):
    """Dynamic shared memory of the kernels here, in elements, for blocks of ``nt`` threads."""
    return 2 * nt * (k + 1) + nt * (nt + 1)


@cuda.jit(device=True)
def _dot(a, b):
    """``a . b`` summed in index order (every score of an item goes through this function, so
    the same pair always gets the same bits)."""
    s = a.dtype.type(0)
    for f in range(a.shape[0]):
        s += a[f] * b[f]
    return s


@cuda.jit(device=True)
def _stage(src, rows, r0, n, panel):
    """Copy rows ``r0:r0 + n`` of ``src`` (through ``rows`` when it is non-empty) into the
    shared ``panel`` (row stride ``k + 1``), coalesced along the components."""
    k = src.shape[1]
    for q in range(n):
        row = rows[r0 + q] if rows.shape[0] > 0 else r0 + q
        for a in range(cuda.threadIdx.x, k, cuda.blockDim.x):
            panel[q * (k + 1) + a] = src[row, a]


@cuda.jit(device=True)
def _score_tile(qt, vt, nq, nj, k, scores):
    """``scores[q, j] = qt[q] . vt[j]`` for the staged panels; thread ``t`` takes item ``t``."""
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    if t < nj:
        item = vt[t * (k + 1):t * (k + 1) + k]
        for q in range(nq):
            scores[q * (nt + 1) + t] = _dot(qt[q * (k + 1):q * (k + 1) + k], item)


@cuda.jit(device=True)
def _offer(out_idx, out_score, r, m, j, s):
    """Offer item ``j`` with score ``s`` to query ``r``'s list (``m`` entries, sorted by
    descending score, ties to the lower index, which arrived earlier); returns the new ``m``."""
    kk = out_idx.shape[1]
    if m == kk:
        if not s > out_score[r, kk - 1]:
            return m
        pos = kk - 1
    else:
        pos = m
        m += 1
    while pos > 0 and out_score[r, pos - 1] < s:
        out_score[r, pos] = out_score[r, pos - 1]
        out_idx[r, pos] = out_idx[r, pos - 1]
        pos -= 1
    out_score[r, pos] = s
    out_idx[r, pos] = j
    return m


@cuda.jit(device=True)
def _reset(out_idx, out_score, r):
    """Query ``r``'s list empty: indices -1, scores -inf (the padding of a short list)."""
    for c in range(out_idx.shape[1]):
        out_idx[r, c] = -1
        out_score[r, c] = -math.inf


@cuda.jit(**CUDA_JIT)
def topk_rows(Q, V, excl_rows, excl_indptr, excl_indices, item_mask, out_idx, out_score):
    """Top-k items of every query ``Q[r]`` by inner product with the rows of ``V``.

    Parameters
    ----------
    Q : device array of shape (n_query, k); V : device array of shape (n_items, k).
    excl_rows : int64 device array of shape (n_query,)
        Row of each query in the exclusion CSR (``excl_indptr``, ``excl_indices``, indices
        sorted within rows).
    item_mask : bool device array of shape (n_items,) or (0,): allowed items (empty: all).
    out_idx : int64 device array of shape (n_query, kk); out_score : shape (n_query, kk)
        Receive the selected items, best first, and their scores; padded with -1 / -inf.
    """
    n_query, k = Q.shape
    n_items = V.shape[0]
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    use_mask = item_mask.shape[0] > 0
    sh = cuda.shared.array(0, dtype=Q.dtype)
    qt = sh[0:nt * (k + 1)]
    vt = sh[nt * (k + 1):2 * nt * (k + 1)]
    scores = sh[2 * nt * (k + 1):2 * nt * (k + 1) + nt * (nt + 1)]
    for g0 in range(cuda.blockIdx.x * nt, n_query, cuda.gridDim.x * nt):
        nq = min(nt, n_query - g0)
        _stage(Q, excl_rows[0:0], g0, nq, qt)
        r = g0 + t
        mine = t < nq
        m = 0
        p = 0
        p_end = 0
        if mine:
            p = excl_indptr[excl_rows[r]]
            p_end = excl_indptr[excl_rows[r] + 1]
            _reset(out_idx, out_score, r)
        for j0 in range(0, n_items, nt):
            nj = min(nt, n_items - j0)
            _stage(V, excl_rows[0:0], j0, nj, vt)
            cuda.syncthreads()
            _score_tile(qt, vt, nq, nj, k, scores)
            cuda.syncthreads()
            if mine:
                for jj in range(nj):
                    j = j0 + jj
                    s = scores[t * (nt + 1) + jj]
                    while p < p_end and excl_indices[p] < j:
                        p += 1
                    if (p < p_end and excl_indices[p] == j) or (use_mask and not item_mask[j]) \
                            or s != s:
                        continue
                    m = _offer(out_idx, out_score, r, m, j, s)
            cuda.syncthreads()


@cuda.jit(device=True)
def _contains(arr, lo, hi, value):
    """Binary search: is ``value`` in the sorted ``arr[lo:hi]``?"""
    end = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if arr[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo < end and arr[lo] == value


@cuda.jit(device=True)
def _pairs_below(pos, lo, n_pos, s):
    """Correctly ordered (positive, negative) pairs for a negative scored ``s`` against the
    ascending ``pos[lo:lo + n_pos]``: positives above ``s`` count 1, ties 1/2."""
    a = lo
    b = lo + n_pos
    while a < b:  # first position with pos >= s
        mid = (a + b) // 2
        if pos[mid] < s:
            a = mid + 1
        else:
            b = mid
    above = a
    while above < lo + n_pos and pos[above] == s:
        above += 1
    return (lo + n_pos - above) + 0.5 * (above - a)


@cuda.jit(device=True)
def _relevant_scores(U, u, V, tr_indices, tr_lo, tr_hi, te_indices, te_lo, te_hi, pos):
    """Scores of user ``u``'s relevant items (test minus train) into ``pos[te_lo:]``, sorted
    ascending (insertion sort); returns their number."""
    n_rel = 0
    p = tr_lo
    for q in range(te_lo, te_hi):
        j = te_indices[q]
        while p < tr_hi and tr_indices[p] < j:
            p += 1
        if p < tr_hi and tr_indices[p] == j:
            continue
        s = _dot(U[u], V[j])
        c = te_lo + n_rel
        while c > te_lo and pos[c - 1] > s:
            pos[c] = pos[c - 1]
            c -= 1
        pos[c] = s
        n_rel += 1
    return n_rel


@cuda.jit(device=True)
def _write_metrics(top_idx, r, m, te_indices, te_lo, te_hi, n_rel, correct, n_neg, out):
    """The metrics of ``fastmf._kernels.topk.ranking_block`` for query ``r`` into ``out[r]``."""
    kk = top_idx.shape[1]
    out[r, 6] = n_rel
    if n_rel == 0:
        for c in range(6):
            out[r, c] = math.nan
        return
    hits = 0
    dcg = 0.0
    ap = 0.0
    for rank in range(m):  # train items are never selected: a test item here is relevant
        if _contains(te_indices, te_lo, te_hi, top_idx[r, rank]):
            hits += 1
            dcg += 1.0 / math.log2(rank + 2.0)
            ap += hits / (rank + 1.0)
    c = min(kk, n_rel)
    idcg = 0.0
    for rank in range(c):
        idcg += 1.0 / math.log2(rank + 2.0)
    out[r, 0] = hits / kk
    out[r, 1] = hits / c
    out[r, 2] = dcg / idcg
    out[r, 3] = ap / c
    out[r, 4] = 1.0 if hits > 0 else 0.0
    out[r, 5] = correct / (n_rel * n_neg) if n_neg > 0 else math.nan


@cuda.jit(**CUDA_JIT)
def ranking_rows(U, V, users, tr_indptr, tr_indices, te_indptr, te_indices, pos, top_idx,
                 top_score, out):
    """Per-user ranking metrics at ``kk = top_idx.shape[1]`` for the users ``users``.

    The device twin of :func:`fastmf._kernels.topk.ranking_block` (same definitions; see
    there): query ``r`` is user ``users[r]``, its candidates the items outside its train row,
    its relevant items the test items outside train. ``pos`` (shape ``(len(te_indices),)``,
    the factors' dtype) is scratch for the relevant scores; ``top_idx``/``top_score`` (shape
    (n_query, kk)) receive the top-k lists; ``out`` (float64, (n_query, 7)) receives
    precision, recall, ndcg, map, hit_rate, auc and the relevant count per query.
    """
    n_query = users.shape[0]
    n_items, k = V.shape
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    sh = cuda.shared.array(0, dtype=U.dtype)
    qt = sh[0:nt * (k + 1)]
    vt = sh[nt * (k + 1):2 * nt * (k + 1)]
    scores = sh[2 * nt * (k + 1):2 * nt * (k + 1) + nt * (nt + 1)]
    for g0 in range(cuda.blockIdx.x * nt, n_query, cuda.gridDim.x * nt):
        nq = min(nt, n_query - g0)
        _stage(U, users, g0, nq, qt)
        r = g0 + t
        mine = t < nq
        m = 0
        n_rel = 0
        n_neg = 0
        correct = 0.0
        p = p_end = q = te_lo = te_hi = 0
        if mine:
            u = users[r]
            p = tr_indptr[u]
            p_end = tr_indptr[u + 1]
            te_lo = te_indptr[u]
            te_hi = te_indptr[u + 1]
            q = te_lo
            _reset(top_idx, top_score, r)
            n_rel = _relevant_scores(U, u, V, tr_indices, p, p_end, te_indices, te_lo, te_hi,
                                     pos)
        for j0 in range(0, n_items, nt):
            nj = min(nt, n_items - j0)
            _stage(V, users[0:0], j0, nj, vt)
            cuda.syncthreads()
            _score_tile(qt, vt, nq, nj, k, scores)
            cuda.syncthreads()
            if mine:
                for jj in range(nj):
                    j = j0 + jj
                    s = scores[t * (nt + 1) + jj]
                    while p < p_end and tr_indices[p] < j:
                        p += 1
                    if p < p_end and tr_indices[p] == j:
                        continue
                    while q < te_hi and te_indices[q] < j:
                        q += 1
                    if not (q < te_hi and te_indices[q] == j):  # a negative, for the AUC
                        n_neg += 1
                        correct += _pairs_below(pos, te_lo, n_rel, s)
                    if s == s:
                        m = _offer(top_idx, top_score, r, m, j, s)
            cuda.syncthreads()
        if mine:
            _write_metrics(top_idx, r, m, te_indices, te_lo, te_hi, n_rel, correct, n_neg, out)

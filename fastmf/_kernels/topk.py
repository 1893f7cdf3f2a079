"""Top-k selection over dense score blocks, with exclusions, and the ranking-metrics kernel.

Both public kernels work on one block of queries (users) at a time: a dense ``(b, n_items)``
score block computed by the caller with BLAS, plus the row numbers of the block's queries in a
CSR matrix of excluded items. They share one selection routine, :func:`_select_row`: a size-k
heap filled in a single pass over the row (O(n_items log k)), excluded items skipped by a merge
against the row's sorted CSR indices, then heap-sorted into descending order. Once the heap is
full, items are screened in chunks against its threshold with a branch-free loop, so most of
the row costs one vectorised comparison per item.

Ordering is deterministic: higher score first, ties broken by the lower item index. NaN scores
are never selected. Kernels trust their input (no bounds checks): the Python callers in
``fastmf/_recommend.py`` and ``fastmf/metrics.py`` validate it.
"""

import numpy as np
from numba import jit, prange

from .._config import JIT, PARALLEL_JIT

# Items screened at once against the heap's threshold before any per-item work.
_CHUNK = 32


@jit(**JIT)
def _worse(s_a, i_a, s_b, i_b):
    """True when candidate a ranks below candidate b (lower score, or same score, higher index)."""
    return s_a < s_b or (s_a == s_b and i_a > i_b)


@jit(**JIT)
def _sift_down(heap_idx, heap_score, pos, size):
    """Restore the min-heap (worst candidate at the root) below ``pos`` in ``heap[:size]``."""
    s = heap_score[pos]
    i = heap_idx[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _worse(heap_score[right], heap_idx[right],
                                   heap_score[child], heap_idx[child]):
            child = right
        if not _worse(heap_score[child], heap_idx[child], s, i):
            break
        heap_score[pos] = heap_score[child]
        heap_idx[pos] = heap_idx[child]
        pos = child
    heap_score[pos] = s
    heap_idx[pos] = i


@jit(**JIT)
def _sift_up(heap_idx, heap_score, pos):
    """Move the candidate at ``pos`` up the min-heap until its parent is worse."""
    s = heap_score[pos]
    i = heap_idx[pos]
    while pos > 0:
        parent = (pos - 1) // 2
        if not _worse(s, i, heap_score[parent], heap_idx[parent]):
            break
        heap_score[pos] = heap_score[parent]
        heap_idx[pos] = heap_idx[parent]
        pos = parent
    heap_score[pos] = s
    heap_idx[pos] = i


@jit(**JIT)
def _select_row(row, excl_indices, lo, hi, item_mask, heap_idx, heap_score):
    """Write the best ``len(heap_idx)`` items of one score row into ``heap_idx``/``heap_score``.

    Items ``excl_indices[lo:hi]`` (sorted ascending) and items whose ``item_mask`` entry is False
    (when ``item_mask`` is non-empty) are skipped, as are NaN scores. On return the first ``m``
    slots hold the selected items sorted by descending score (ties: lower index first); ``m``,
    the number of candidates found (at most k), is returned. Slots past ``m`` are left as is.
    """
    k = heap_idx.shape[0]
    n_items = row.shape[0]
    use_mask = item_mask.shape[0] > 0
    m = 0
    if k == 0:
        return m
    p = lo
    j = 0
    # Phase 1: fill the heap with the first k candidates.
    while j < n_items and m < k:
        s = row[j]
        while p < hi and excl_indices[p] < j:
            p += 1
        if not ((p < hi and excl_indices[p] == j) or (use_mask and not item_mask[j])
                or s != s):
            heap_score[m] = s
            heap_idx[m] = j
            _sift_up(heap_idx, heap_score, m)
            m += 1
        j += 1
    if m == k:
        # Phase 2: an item must beat the root strictly (an equal score loses the tie, since
        # every item in the heap has a lower index; NaN never passes). Most chunks of _CHUNK
        # items fail this test as a whole, checked with a branch-free (vectorisable) loop.
        threshold = heap_score[0]
        while j < n_items:
            end = min(j + _CHUNK, n_items)
            above = 0
            for t in range(j, end):
                above |= row[t] > threshold
            if above:
                for t in range(j, end):
                    s = row[t]
                    if not s > threshold:
                        continue
                    while p < hi and excl_indices[p] < t:
                        p += 1
                    if (p < hi and excl_indices[p] == t) or (use_mask and not item_mask[t]):
                        continue
                    heap_score[0] = s
                    heap_idx[0] = t
                    _sift_down(heap_idx, heap_score, 0, k)
                    threshold = heap_score[0]
            j = end
    # Heap sort: move the worst remaining candidate to the end, best ends up first.
    for end in range(m - 1, 0, -1):
        s = heap_score[0]
        i = heap_idx[0]
        heap_score[0] = heap_score[end]
        heap_idx[0] = heap_idx[end]
        heap_score[end] = s
        heap_idx[end] = i
        _sift_down(heap_idx, heap_score, 0, end)
    return m


@jit(**PARALLEL_JIT)
def topk_block(scores, rows, exclude, item_mask, out):
    """Top-k items of every row of a score block, excluded items removed.

    Parameters
    ----------
    scores : ndarray of shape (b, n_items), float32 or float64
        Scores of the block's queries for every item. Read only.
    rows : ndarray of int64, shape (b,)
        Row of each query in the exclusion CSR.
    exclude : (excl_indptr, excl_indices)
        CSR structure of the items to exclude; indices sorted within each row. Pass
        ``indptr = zeros(max(rows) + 2)`` and an empty ``indices`` for no exclusion.
    item_mask : ndarray of bool, shape (n_items,) or (0,)
        Allowed candidate items; an empty array allows every item.
    out : (out_idx, out_score)
        ``out_idx`` (b, k) int64 receives the selected items, best first; ties broken by the
        lower item index; rows with fewer than k candidates are padded with -1.
        ``out_score`` (b, k), same dtype as ``scores``, receives their scores; padding is
        -inf.

    Returns
    -------
    int
        The number of padded (missing) slots over the whole block.
    """
    excl_indptr, excl_indices = exclude
    out_idx = out[0]
    out_score = out[1]
    b = scores.shape[0]
    k = out_idx.shape[1]
    n_missing = 0
    for r in prange(b):
        u = rows[r]
        m = _select_row(scores[r], excl_indices, excl_indptr[u], excl_indptr[u + 1],
                        item_mask, out_idx[r], out_score[r])
        for t in range(m, k):
            out_idx[r, t] = -1
            out_score[r, t] = -np.inf
        n_missing += k - m
    return n_missing


@jit(**JIT)
def _contains(sorted_arr, lo, hi, value):
    """Binary search: is ``value`` in ``sorted_arr[lo:hi]``?

    Branch-free (the halving step compiles to a conditional move), so searches for random
    values pay no mispredicted branches and independent searches overlap in the CPU.
    """
    n = hi - lo
    if n <= 0:
        return False
    base = lo
    while n > 1:
        half = n >> 1
        base = base + half if sorted_arr[base + half] <= value else base
        n -= half
    return sorted_arr[base] == value


@jit(**JIT)
def _pairs_below(sorted_pos, n_pos, s):
    """Correctly ordered (positive, negative) pairs for a negative scored ``s``: ties count 1/2."""
    lo = 0
    hi = n_pos
    while lo < hi:  # first position with sorted_pos >= s
        mid = (lo + hi) // 2
        if sorted_pos[mid] < s:
            lo = mid + 1
        else:
            hi = mid
    above = lo
    while above < n_pos and sorted_pos[above] == s:
        above += 1
    return (n_pos - above) + 0.5 * (above - lo)


@jit(**JIT)
def _sort_ascending(a, n):
    """In-place heapsort of ``a[:n]`` (no allocation; compiles much faster than ndarray.sort)."""
    for start in range(n // 2 - 1, -1, -1):
        _sift_down_scalar(a, start, n)
    for end in range(n - 1, 0, -1):
        v = a[0]
        a[0] = a[end]
        a[end] = v
        _sift_down_scalar(a, 0, end)


@jit(**JIT)
def _sift_down_scalar(a, pos, size):
    """Max-heap sift-down of ``a[pos]`` within ``a[:size]``."""
    v = a[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and a[child + 1] > a[child]:
            child += 1
        if not a[child] > v:
            break
        a[pos] = a[child]
        pos = child
    a[pos] = v


@jit(**JIT)
def _rank_row(row, train, test, scratch, out):
    """The metrics of one user (see ``ranking_block``) into ``out``.

    ``train = (train_indices, tr_lo, tr_hi)`` and ``test = (test_indices, te_lo, te_hi)``: the
    user's sorted train and test items; ``scratch = (pos, no_mask, heap_idx, heap_score)``:
    ``pos`` of size >= n_test, ``no_mask`` an empty bool array, the top-k heap.
    """
    train_indices, tr_lo, tr_hi = train
    test_indices, te_lo, te_hi = test
    pos, no_mask, heap_idx, heap_score = scratch
    n_items = row.shape[0]
    k = heap_idx.shape[0]
    # Relevant items: test minus train (sorted merge); keep their scores for the AUC.
    n_rel = 0
    p = tr_lo
    for q in range(te_lo, te_hi):
        j = test_indices[q]
        while p < tr_hi and train_indices[p] < j:
            p += 1
        if p < tr_hi and train_indices[p] == j:
            continue
        pos[n_rel] = row[j]
        n_rel += 1
    out[6] = n_rel
    if n_rel == 0:
        for t in range(6):
            out[t] = np.nan
        return

    m = _select_row(row, train_indices, tr_lo, tr_hi, no_mask, heap_idx, heap_score)
    hits = 0
    dcg = 0.0
    ap = 0.0
    for rank in range(m):
        # Train items are never selected, so a test item here is a relevant one.
        if _contains(test_indices, te_lo, te_hi, heap_idx[rank]):
            hits += 1
            dcg += 1.0 / np.log2(rank + 2.0)
            ap += hits / (rank + 1.0)
    c = min(k, n_rel)
    idcg = 0.0
    for rank in range(c):
        idcg += 1.0 / np.log2(rank + 2.0)
    out[0] = hits / k
    out[1] = hits / c
    out[2] = dcg / idcg
    out[3] = ap / c
    out[4] = 1.0 if hits > 0 else 0.0

    # AUC over every negative (neither train nor test), by binary search in sorted positives.
    _sort_ascending(pos, n_rel)
    correct = 0.0
    n_neg = 0
    p = tr_lo
    q = te_lo
    for j in range(n_items):
        while p < tr_hi and train_indices[p] < j:
            p += 1
        if p < tr_hi and train_indices[p] == j:
            continue
        while q < te_hi and test_indices[q] < j:
            q += 1
        if q < te_hi and test_indices[q] == j:
            continue
        n_neg += 1
        correct += _pairs_below(pos, n_rel, row[j])
    out[5] = correct / (n_rel * n_neg) if n_neg > 0 else np.nan


@jit(**PARALLEL_JIT)
def ranking_block(scores, rows, train, test, scratch, out):
    """Per-user ranking metrics at k for a block of users.

    For each user the candidates are the items not in train. Relevant items are the user's test
    items that are not in train (``n_rel`` of them). With ``k = top_idx.shape[1]``, ``hits`` the
    relevant items among the top k and ``c = min(k, n_rel)``:

    - precision = hits / k, recall = hits / c, hit rate = [hits > 0],
    - nDCG = sum over hit ranks r (1-based) of 1 / log2(r + 1), divided by the same sum over
      r = 1..c (the ideal ranking),
    - MAP = (sum over hit ranks r of hits_up_to_r / r) / c,
    - AUC = fraction of (relevant, negative) pairs with the relevant item scored higher (ties
      count 1/2); negatives are the items in neither train nor test. NaN without negatives.

    Parameters
    ----------
    scores : ndarray of shape (b, n_items), float32 or float64
        Scores of the block's users for every item.
    rows : ndarray of int64, shape (b,)
        User (row) number of each block row in the train and test CSR matrices.
    train, test : (indptr, indices)
        CSR structures of train and test, indices sorted within each row.
    scratch : (pos_buf, top_idx, top_score)
        ``pos_buf`` (len(test indices),), same dtype as ``scores``: the relevant items' scores
        (user u uses ``pos_buf[test_indptr[u]:...]``); ``top_idx`` (b, k) int64 and
        ``top_score`` (b, k): the top-k selection.
    out : ndarray of float64, shape (b, 7)
        Receives precision, recall, ndcg, map, hit_rate, auc, n_rel per row. Rows with no
        relevant item get NaN metrics and ``n_rel = 0``.
    """
    train_indptr, train_indices = train
    test_indptr, test_indices = test
    pos_buf = scratch[0]
    top_idx = scratch[1]
    top_score = scratch[2]
    no_mask = np.zeros(0, dtype=np.bool_)
    for r in prange(scores.shape[0]):
        u = rows[r]
        te_lo = test_indptr[u]
        te_hi = test_indptr[u + 1]
        _rank_row(scores[r], (train_indices, train_indptr[u], train_indptr[u + 1]),
                  (test_indices, te_lo, te_hi),
                  (pos_buf[te_lo:te_hi], no_mask, top_idx[r], top_score[r]), out[r])

"""The one top-k driver shared by every model: scores by query block, selection in Numba.

Every model's ``recommend`` / ``similar_items`` ends here: :func:`top_k_scored` asks the
model's scorer for the scores of a block of queries against every item (for factor models
:func:`inner_product_scorer`: ``query[block] @ item_vectors.T``, one gemm per block into a reused
buffer), then runs the parallel selection kernel of ``fastmf/_kernels/topk.py`` on the block.
Memory is O(block_size x n_items), never O(n_query x n_items).
"""

import contextlib

import numpy as np
import scipy.sparse as sp

from ._config import resolve_n_threads, threads
from ._kernels.topk import topk_block
from ._validation import check_index_array, check_int_param

#: Bytes of dense scores held at once when ``block_size`` is not given.
SCORE_BLOCK_BYTES = 64 * 2**20


def score_dtype(*arrays):
    """The float dtype scores are computed in: float32 only when every input is float32 (or
    narrower), float64 otherwise."""
    dt = np.result_type(*(a.dtype for a in arrays), np.float32)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        kinds = ", ".join(str(a.dtype) for a in arrays)
        raise TypeError(f"factor matrices must be real float32 or float64 arrays, got {kinds}")
    return dt


def thread_scope(n_threads):
    """``threads(n_threads)``, or no change for ``None``: the kernels then use numba's current
    thread count, which is every core unless an enclosing ``threads(...)`` set fewer."""
    if n_threads is None:
        return contextlib.nullcontext()
    resolve_n_threads(n_threads)  # validate now, even when no kernel ends up running
    return threads(n_threads)


def block_rows(n_rows, n_items, itemsize, block_size=None):
    """Number of query rows scored at once: ``block_size``, or what fits SCORE_BLOCK_BYTES."""
    if block_size is None:
        block_size = max(1, SCORE_BLOCK_BYTES // max(1, n_items * itemsize))
    else:
        block_size = check_int_param(block_size, "block_size", low=1)
    return max(1, min(block_size, n_rows))


def csr_structure(X, name):
    """``(indptr, indices)`` of a scipy sparse matrix as CSR with sorted indices.

    Both arrays share one integer dtype (int32 when both already are, else int64), so the
    kernels compile for at most two index types. No copy is made for a sorted CSR matrix whose
    arrays already agree (e.g. ``Ratings.csr``).
    """
    if not sp.issparse(X):
        raise TypeError(f"{name} must be a scipy sparse matrix, got {type(X).__name__}")
    if X.format != "csr":
        X = X.tocsr()
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    indptr, indices = X.indptr, X.indices
    if not (indptr.dtype == indices.dtype and indptr.dtype in (np.int32, np.int64)):
        indptr, indices = indptr.astype(np.int64), indices.astype(np.int64)
    return indptr, indices


def _as_factor_matrix(A, name):
    A = np.asarray(A)
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got an array of shape {A.shape}")
    if A.dtype.kind not in "fiu" or A.dtype == bool:
        raise TypeError(f"{name} must be a real numeric array, got dtype {A.dtype}")
    return A


def inner_product_scorer(query, item_vectors):
    """``(score_block, dtype)`` scoring queries by inner products: ``score_block(start, stop,
    out)`` writes ``query[start:stop] @ item_vectors.T`` into ``out`` (one gemm)."""
    dtype = score_dtype(query, item_vectors)
    query = np.ascontiguousarray(query, dtype=dtype)
    items_t = np.ascontiguousarray(item_vectors, dtype=dtype).T

    def score_block(start, stop, out):
        np.matmul(query[start:stop], items_t, out=out)

    return score_block, dtype


def top_k_inputs(query, item_vectors, k, exclude, exclude_rows, item_mask):
    """The validated inputs of :func:`top_k` (also those of the CUDA back end's):
    ``(query, item_vectors, kk, rows, excl_indptr, excl_indices, mask)``, the two factor
    matrices C-contiguous in the score dtype, ``kk = min(k, n_items)``, and the exclusion
    CSR, the exclusion row of each query and the item mask as the selection kernels take them
    (see :func:`selection_inputs`).
    """
    query = _as_factor_matrix(query, "query")
    item_vectors = _as_factor_matrix(item_vectors, "item_vectors")
    if query.shape[1] != item_vectors.shape[1]:
        raise ValueError(
            f"query has {query.shape[1]} factors but item_vectors has {item_vectors.shape[1]}")
    dtype = score_dtype(query, item_vectors)
    selection = selection_inputs(query.shape[0], item_vectors.shape[0], k, exclude,
                                 exclude_rows, item_mask)
    return (np.ascontiguousarray(query, dtype=dtype),
            np.ascontiguousarray(item_vectors, dtype=dtype), *selection)


def selection_inputs(n_query, n_items, k, exclude, exclude_rows, item_mask):
    """``(kk, rows, excl_indptr, excl_indices, mask)``: ``kk = min(k, n_items)``, the row of
    ``exclude`` for each query, the exclusion CSR structure and the item mask (zero-length for
    none), checked, as the selection kernels take them."""
    k = check_int_param(k, "k", low=1)
    kk = min(k, n_items)
    if exclude is None:
        if exclude_rows is not None:
            raise ValueError("exclude_rows is given but exclude is not")
        rows = np.zeros(n_query, dtype=np.int64)
        excl_indptr = np.zeros(2, dtype=np.int32)  # int32 like most scipy matrices: one
        excl_indices = np.zeros(0, dtype=np.int32)  # compiled kernel serves both cases
    else:
        excl_indptr, excl_indices = csr_structure(exclude, "exclude")
        if exclude.shape[1] != n_items:
            raise ValueError(
                f"exclude has {exclude.shape[1]} columns but there are {n_items} items")
        if exclude_rows is None:
            if exclude.shape[0] != n_query:
                raise ValueError(
                    f"exclude has {exclude.shape[0]} rows but there are {n_query} queries; "
                    "pass exclude_rows to map queries to rows")
            rows = np.arange(n_query, dtype=np.int64)
        else:
            rows = check_index_array(exclude_rows, "exclude_rows", exclude.shape[0])
            if len(rows) != n_query:
                raise ValueError(
                    f"exclude_rows has {len(rows)} entries but there are {n_query} queries")
    if item_mask is None:
        mask = np.zeros(0, dtype=np.bool_)
    else:
        mask = np.asarray(item_mask)
        if mask.dtype != np.bool_ or mask.shape != (n_items,):
            raise ValueError(
                f"item_mask must be a boolean array of shape ({n_items},), "
                f"got dtype {mask.dtype} and shape {mask.shape}")
        mask = np.ascontiguousarray(mask)
    return kk, rows, excl_indptr, excl_indices, mask


def top_k(query, item_vectors, k, *, exclude=None, exclude_rows=None, item_mask=None,
          n_threads=None, block_size=None):
    """Top-k items per query by inner product, with exclusions, computed block by block.

    Scores are ``query @ item_vectors.T``; each query's items are returned by descending score,
    ties broken by the lower item index. Excluded items, masked-out items and NaN scores are
    never returned; rows left with fewer than ``k'`` candidates are padded with index -1 and
    score -inf.

    Parameters
    ----------
    query : ndarray of shape (n_query, n_factors)
    item_vectors : ndarray of shape (n_items, n_factors)
        Scores are computed in float32 when both are float32, in float64 otherwise.
    k : int
        Number of items per query (>= 1); ``k' = min(k, n_items)`` are returned.
    exclude : scipy sparse matrix of shape (n_rows, n_items), optional
        Stored entries are items never to return (e.g. the training items of each user).
    exclude_rows : array-like of int, shape (n_query,), optional
        Row of ``exclude`` for each query. Default: query ``i`` uses row ``i`` (``exclude``
        must then have exactly ``n_query`` rows).
    item_mask : array-like of bool, shape (n_items,), optional
        Allowed candidates; items marked False are never returned.
    n_threads : int, optional
        Threads for the selection kernel. Default: numba's current setting, i.e. every core, or
        what an enclosing ``fastmf._config.threads(...)`` block set.
    block_size : int, optional
        Queries scored at once; default: as many as fit in 64 MB of scores. Keep blocks large:
        each block hands the cores from BLAS's threads to numba's and back, and both spin for a
        while after their work, so many small blocks run far slower (tens of ms per block).

    Returns
    -------
    indices : ndarray of int64, shape (n_query, k')
    scores : ndarray of shape (n_query, k'), float32 or float64

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf._recommend import top_k
    >>> q = np.array([[1.0], [-1.0]]); v = np.array([[3.0], [1.0], [2.0]])
    >>> idx, s = top_k(q, v, 2, exclude=sp.csr_matrix([[1, 0, 0], [0, 0, 0]]))
    >>> idx
    array([[2, 1],
           [1, 2]])
    >>> s
    array([[ 2.,  1.],
           [-1., -2.]])
    """
    query, item_vectors, *_ = top_k_inputs(query, item_vectors, k, exclude, exclude_rows,
                                           item_mask)
    return top_k_scored(inner_product_scorer(query, item_vectors), query.shape[0],
                        item_vectors.shape[0], k, exclude=exclude, exclude_rows=exclude_rows,
                        item_mask=item_mask, n_threads=n_threads, block_size=block_size)


def top_k_scored(scorer, n_query, n_items, k, *, exclude=None, exclude_rows=None,
                 item_mask=None, n_threads=None, block_size=None):
    """Top-k items per query for any scores: ``scorer = (score_block, dtype)`` writes the
    scores of queries ``start:stop`` against all items into a (stop - start, n_items) block
    (see :func:`inner_product_scorer`); the rest is as in :func:`top_k`. Memory is
    O(block_size x n_items)."""
    kk, rows, excl_indptr, excl_indices, mask = selection_inputs(n_query, n_items, k, exclude,
                                                                 exclude_rows, item_mask)
    scope = thread_scope(n_threads)
    score_block, dtype = scorer

    out_idx = np.empty((n_query, kk), dtype=np.int64)
    out_score = np.empty((n_query, kk), dtype=dtype)
    if n_query == 0 or kk == 0:
        return out_idx, out_score

    bs = block_rows(n_query, n_items, np.dtype(dtype).itemsize, block_size)
    buf = np.empty((bs, n_items), dtype=dtype)
    with scope:
        for start in range(0, n_query, bs):
            stop = min(start + bs, n_query)
            block = buf[:stop - start]
            score_block(start, stop, block)
            topk_block(block, rows[start:stop], (excl_indptr, excl_indices), mask,
                       (out_idx[start:stop], out_score[start:stop]))
    return out_idx, out_score

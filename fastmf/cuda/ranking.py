"""Top-k recommendation and ranking metrics on the GPU (``backend="cuda"`` of the shared top-k).

Same inputs, validation, ordering and results as :func:`fastmf._recommend.top_k` and
:func:`fastmf.metrics.ranking_metrics`; the scores are computed on the device in tiles and
selected there (:mod:`fastmf._kernels.cuda.topk`), so only the factor matrices, the CSR
structures and the ``(n_query, k)`` results move, never a users x items score matrix.
"""

import numpy as np
from numba import cuda

from .._kernels.cuda.topk import ranking_rows, shared_elements, topk_rows
from .._recommend import top_k_inputs
from ..metrics import _ranking_inputs, _summarise
from ._device import require_cuda
from ._launch import SHARED_BYTES, n_blocks, threads_per_block


def _launch(n_query, k, dtype, threads, blocks):
    """``(grid, threads, shared bytes)``: blocks of ``threads`` queries, fewer threads when
    the panels would not fit in SHARED_BYTES."""
    nt = threads_per_block(threads)
    itemsize = np.dtype(dtype).itemsize
    while nt > 1 and shared_elements(k, nt) * itemsize > SHARED_BYTES:
        nt //= 2
    size = shared_elements(k, nt) * itemsize
    if size > SHARED_BYTES:
        raise ValueError(f"n_factors={k} is too large for the CUDA top-k kernels")
    return n_blocks(-(-n_query // nt), blocks), nt, size


def top_k(query, item_vectors, k, *, exclude=None, exclude_rows=None, item_mask=None,
          threads=None, blocks=None):
    """Top-k items per query by inner product, on the GPU; see :func:`fastmf._recommend.top_k`.

    Parameters are those of :func:`fastmf._recommend.top_k`, with the launch shape
    (``threads`` queries and items per tile, a power of two, default 32; ``blocks``, the most
    thread blocks) in place of ``n_threads`` and ``block_size``.

    Returns
    -------
    indices : ndarray of int64, shape (n_query, k')
    scores : ndarray of shape (n_query, k'), float32 or float64

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.cuda import cuda_available
    >>> if not cuda_available():
    ...     import pytest; pytest.skip("needs a GPU or NUMBA_ENABLE_CUDASIM=1")
    >>> from fastmf.cuda.ranking import top_k
    >>> q = np.array([[1.0], [-1.0]]); v = np.array([[3.0], [1.0], [2.0]])
    >>> idx, s = top_k(q, v, 2, exclude=sp.csr_matrix([[1, 0, 0], [0, 0, 0]]), threads=2)
    >>> idx
    array([[2, 1],
           [1, 2]])
    """
    require_cuda()
    query, item_vectors, kk, rows, excl_indptr, excl_indices, mask = top_k_inputs(
        query, item_vectors, k, exclude, exclude_rows, item_mask)
    n_query = query.shape[0]
    out_idx = np.empty((n_query, kk), dtype=np.int64)
    out_score = np.empty((n_query, kk), dtype=query.dtype)
    if n_query == 0 or kk == 0:
        return out_idx, out_score
    grid, nt, shared = _launch(n_query, query.shape[1], query.dtype, threads, blocks)
    d_idx = cuda.device_array_like(out_idx)
    d_score = cuda.device_array_like(out_score)
    topk_rows[grid, nt, 0, shared](
        cuda.to_device(query), cuda.to_device(item_vectors), cuda.to_device(rows),
        cuda.to_device(excl_indptr), cuda.to_device(excl_indices), cuda.to_device(mask), d_idx,
        d_score)
    d_idx.copy_to_host(out_idx)
    d_score.copy_to_host(out_score)
    return out_idx, out_score


def ranking_metrics(model, train, test, k=10, *, threads=None, blocks=None):
    """Ranking quality at k on the GPU; see :func:`fastmf.metrics.ranking_metrics`.

    Parameters are those of :func:`fastmf.metrics.ranking_metrics`, with the launch shape of
    :func:`top_k` in place of ``n_threads`` and ``block_size``.

    Returns
    -------
    dict of str to float
        Keys ``"precision"``, ``"recall"``, ``"ndcg"``, ``"map"``, ``"hit_rate"``, ``"auc"``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.cuda import cuda_available
    >>> if not cuda_available():
    ...     import pytest; pytest.skip("needs a GPU or NUMBA_ENABLE_CUDASIM=1")
    >>> from fastmf.cuda.ranking import ranking_metrics
    >>> U = np.array([[1.0], [-1.0]]); V = np.array([[3.0], [2.0], [1.0], [0.0]])
    >>> train = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 0, 1]])
    >>> test = sp.csr_matrix([[0, 1, 0, 0], [1, 0, 0, 0]])
    >>> m = ranking_metrics((U, V), train, test, k=2, threads=2)
    >>> m["precision"], m["recall"], m["hit_rate"], m["auc"]
    (0.25, 0.5, 0.5, 0.5)
    """
    require_cuda()
    ranker, kk, (tr_indptr, tr_indices), (te_indptr, te_indices), users = _ranking_inputs(
        model, train, test, k)
    U, V = ranker.factors()
    per_user = np.empty((len(users), 7))
    if len(users):
        grid, nt, shared = _launch(len(users), U.shape[1], U.dtype, threads, blocks)
        d_out = cuda.device_array_like(per_user)
        ranking_rows[grid, nt, 0, shared](
            cuda.to_device(U), cuda.to_device(V), cuda.to_device(users.astype(np.int64)),
            cuda.to_device(tr_indptr), cuda.to_device(tr_indices), cuda.to_device(te_indptr),
            cuda.to_device(te_indices), cuda.device_array(len(te_indices), dtype=U.dtype),
            cuda.device_array((len(users), kk), dtype=np.int64),
            cuda.device_array((len(users), kk), dtype=U.dtype), d_out)
        d_out.copy_to_host(per_user)
    return _summarise(per_user)

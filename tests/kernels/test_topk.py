"""The top-k kernel and the shared ``top_k`` driver against the NumPy oracle."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmf._config import threads
from fastmf._kernels.topk import topk_block
from fastmf._recommend import top_k
from tests.oracles import topk_naive

DTYPES = [np.float32, np.float64]


def random_exclusion(rng, n_rows, n_items, density=0.3):
    """Boolean exclusion matrix with one all-excluded row and one empty row when possible."""
    excluded = rng.random((n_rows, n_items)) < density
    if n_rows >= 2:
        excluded[0] = True
        excluded[1] = False
    return excluded


def run_kernel(scores, excluded, k, rows=None, item_mask=None, index_dtype=np.int32):
    """Call topk_block with the exclusion CSR of ``excluded`` (rows indexed by ``rows``)."""
    csr = sp.csr_matrix(excluded)
    csr.sort_indices()
    b = scores.shape[0]
    rows = np.arange(b, dtype=np.int64) if rows is None else rows
    mask = np.zeros(0, dtype=bool) if item_mask is None else item_mask
    out_idx = np.empty((b, k), dtype=np.int64)
    out_score = np.empty((b, k), dtype=scores.dtype)
    exclude = (csr.indptr.astype(index_dtype), csr.indices.astype(index_dtype))
    missing = topk_block(scores, rows, exclude, mask, (out_idx, out_score))
    assert missing == int((out_idx == -1).sum())
    return out_idx, out_score


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 3, 7, 12])  # 12 > n_items: every row padded
def test_kernel_matches_oracle(dtype, k):
    rng = np.random.default_rng(k)
    n_rows, n_items = 9, 10
    scores = rng.integers(-3, 4, size=(n_rows, n_items)).astype(dtype)  # many ties
    excluded = random_exclusion(rng, n_rows, n_items)
    idx, val = run_kernel(scores, excluded, k)
    want_idx, want_val = topk_naive(scores, excluded, k)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(val, want_val)
    assert val.dtype == dtype
    # The all-excluded row is pure padding; the empty row holds the plain top-k.
    assert (idx[0] == -1).all() and np.isneginf(val[0]).all()
    assert (idx[1] >= 0).sum() == min(k, n_items)


def test_kernel_ties_broken_by_lower_index():
    scores = np.array([[1.0, 2.0, 2.0, 0.0, 2.0, 2.0]])
    idx, val = run_kernel(scores, np.zeros((1, 6), bool), 3)
    np.testing.assert_array_equal(idx, [[1, 2, 4]])
    np.testing.assert_array_equal(val, [[2.0, 2.0, 2.0]])
    excluded = np.array([[False, False, True, False, False, False]])
    idx, _ = run_kernel(scores, excluded, 4)
    np.testing.assert_array_equal(idx, [[1, 4, 5, 0]])


def test_kernel_rows_index_into_exclusion_and_int64_indices():
    rng = np.random.default_rng(1)
    excluded = random_exclusion(rng, 6, 8, density=0.5)
    rows = np.array([5, 0, 0, 3], dtype=np.int64)
    scores = rng.normal(size=(4, 8))
    idx, val = run_kernel(scores, excluded, 3, rows=rows, index_dtype=np.int64)
    want_idx, want_val = topk_naive(scores, excluded[rows], 3)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(val, want_val)


def test_kernel_skips_nan_and_keeps_inf():
    scores = np.array([[np.nan, -np.inf, 1.0, np.inf, np.nan]], dtype=np.float32)
    idx, val = run_kernel(scores, np.zeros((1, 5), bool), 4)
    np.testing.assert_array_equal(idx, [[3, 2, 1, -1]])
    np.testing.assert_array_equal(val, [[np.inf, 1.0, -np.inf, -np.inf]])


def test_kernel_item_mask():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(5, 9))
    excluded = random_exclusion(rng, 5, 9)
    mask = rng.random(9) < 0.6
    idx, val = run_kernel(scores, excluded, 4, item_mask=mask)
    want_idx, want_val = topk_naive(scores, excluded, 4, item_mask=mask)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(val, want_val)


@settings(max_examples=40, deadline=None)
@given(n_rows=st.integers(1, 7), n_items=st.integers(1, 15), k=st.integers(1, 18),
       density=st.floats(0, 1), double=st.booleans(), seed=st.integers(0, 2**16))
def test_kernel_shape_sweep(n_rows, n_items, k, density, double, seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(-2, 3, size=(n_rows, n_items)).astype(
        np.float64 if double else np.float32)
    excluded = rng.random((n_rows, n_items)) < density
    idx, val = run_kernel(scores, excluded, k)
    want_idx, want_val = topk_naive(scores, excluded, k)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(val, want_val)


# ------------------------------------------------------------------ the top_k driver

def test_top_k_threads_keep_results_and_restore_setting():
    rng = np.random.default_rng(9)
    Q, V = rng.normal(size=(40, 3)), rng.normal(size=(25, 3))
    exclude = sp.csr_matrix(random_exclusion(rng, 40, 25))
    before = numba.get_num_threads()
    one = top_k(Q, V, 5, exclude=exclude, n_threads=1, block_size=7)
    assert numba.get_num_threads() == before
    with threads(1):  # n_threads=None keeps an enclosing setting
        inherited = top_k(Q, V, 5, exclude=exclude, block_size=7)
    every = top_k(Q, V, 5, exclude=exclude, n_threads=-1)
    for got in (inherited, every):
        np.testing.assert_array_equal(got[0], one[0])
        np.testing.assert_array_equal(got[1], one[1])


def integer_factors(rng, n, f, dtype):
    """Small-integer factors: products are exact, so any block split gives identical scores."""
    return rng.integers(-2, 3, size=(n, f)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_top_k_matches_oracle_for_every_block_size(dtype):
    rng = np.random.default_rng(3)
    Q, V = integer_factors(rng, 13, 3, dtype), integer_factors(rng, 11, 3, dtype)
    excluded = random_exclusion(rng, 13, 11)
    exclude = sp.csr_matrix(excluded)
    want_idx, want_val = topk_naive(Q @ V.T, excluded, 4)
    whole = top_k(Q, V, 4, exclude=exclude)
    for block_size in (1, 2, 5, 13, 100):
        idx, val = top_k(Q, V, 4, exclude=exclude, block_size=block_size, n_threads=1)
        np.testing.assert_array_equal(idx, want_idx)
        np.testing.assert_array_equal(val, want_val)
        np.testing.assert_array_equal(idx, whole[0])
        assert idx.dtype == np.int64 and val.dtype == dtype


def test_top_k_k_larger_than_n_items_and_excluded_never_returned():
    rng = np.random.default_rng(4)
    Q, V = rng.normal(size=(20, 4)), rng.normal(size=(6, 4))
    excluded = random_exclusion(rng, 20, 6, density=0.5)
    idx, val = top_k(Q, V, 50, exclude=sp.csr_matrix(excluded), block_size=3)
    assert idx.shape == val.shape == (20, 6)
    for r in range(20):
        got = idx[r][idx[r] >= 0]
        assert not excluded[r, got].any()
        assert set(got) == set(np.flatnonzero(~excluded[r]))
        assert np.all(np.diff(val[r][idx[r] >= 0]) <= 0)


def test_top_k_exclude_rows_and_item_mask():
    rng = np.random.default_rng(5)
    Q, V = integer_factors(rng, 5, 2, np.float64), integer_factors(rng, 9, 2, np.float64)
    excluded = random_exclusion(rng, 30, 9)
    users = np.array([29, 3, 3, 0, 17])
    mask = np.ones(9, dtype=bool)
    mask[[0, 4, 8]] = False
    idx, val = top_k(Q, V, 3, exclude=sp.csr_matrix(excluded), exclude_rows=users,
                     item_mask=mask, block_size=2)
    want_idx, want_val = topk_naive(Q @ V.T, excluded[users], 3, item_mask=mask)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(val, want_val)
    assert not np.isin(idx, [0, 4, 8]).any()


def test_top_k_accepts_unsorted_and_non_csr_exclusions():
    rng = np.random.default_rng(6)
    Q, V = rng.normal(size=(4, 3)), rng.normal(size=(7, 3))
    excluded = random_exclusion(rng, 4, 7)
    csr = sp.csr_matrix(excluded)
    unsorted = csr.copy()
    for row in range(4):  # reverse each row's indices
        a, b = csr.indptr[row], csr.indptr[row + 1]
        unsorted.indices[a:b] = csr.indices[a:b][::-1]
    unsorted.has_sorted_indices = False
    want = top_k(Q, V, 3, exclude=csr)
    for exclude in (unsorted, sp.coo_matrix(excluded), sp.csc_matrix(excluded)):
        np.testing.assert_array_equal(top_k(Q, V, 3, exclude=exclude)[0], want[0])


def test_top_k_no_exclusion_and_empty_query():
    Q, V = np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32)
    idx, val = top_k(Q, V, 1)
    np.testing.assert_array_equal(idx, [[0], [1], [2]])
    assert val.dtype == np.float32
    idx, val = top_k(np.zeros((0, 3)), V, 2)
    assert idx.shape == (0, 2) and val.dtype == np.float64


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(query=np.ones(3)), ValueError, "query must be 2-dimensional"),
    (dict(item_vectors=np.ones((4, 2))), ValueError, "query has 3 factors but item_vectors has 2"),
    (dict(k=0), ValueError, "k must be >= 1"),
    (dict(k=2.0), TypeError, "k must be an integer"),
    (dict(exclude=sp.csr_matrix((2, 5))), ValueError, "exclude has 5 columns"),
    (dict(exclude=sp.csr_matrix((3, 4))), ValueError, "exclude has 3 rows but there are 2"),
    (dict(exclude=np.zeros((2, 4))), TypeError, "exclude must be a scipy sparse matrix"),
    (dict(exclude_rows=[0, 1]), ValueError, "exclude_rows is given but exclude is not"),
    (dict(exclude=sp.csr_matrix((5, 4)), exclude_rows=[0, 5]), ValueError,
     "exclude_rows holds index 5"),
    (dict(exclude=sp.csr_matrix((5, 4)), exclude_rows=[0]), ValueError,
     "exclude_rows has 1 entries but there are 2 queries"),
    (dict(item_mask=np.ones(3, bool)), ValueError,
     r"item_mask must be a boolean array of shape \(4,\)"),
    (dict(item_mask=np.ones(4)), ValueError, "item_mask must be a boolean"),
    (dict(query=np.ones((2, 3), dtype=complex)), TypeError, "real numeric"),
    (dict(block_size=0), ValueError, "block_size must be >= 1"),
    (dict(n_threads=0), ValueError, "n_threads must be >= 1"),
])
def test_top_k_bad_input(kwargs, error, match):
    args = dict(query=np.ones((2, 3)), item_vectors=np.ones((4, 3)), k=2)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        top_k(args.pop("query"), args.pop("item_vectors"), args.pop("k"), **args)

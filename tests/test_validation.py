"""check_sparse_matrix on valid input: what it accepts, what it returns, what it leaves alone.

The rejections are the table of tests/test_malformed_inputs.py; these tests pin down the
canonical form, the no-copy fast path, duplicate handling and the row selection.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf._validation import check_sparse_matrix


def random_matrix(rng, shape=(40, 30), density=0.2, dtype=np.float64):
    return sp.random(*shape, density=density, format="csr", random_state=rng, dtype=dtype)


def shuffled_rows(X, rng):
    """``X`` with the entries of every row stored in a random order (legal, not canonical)."""
    Y = X.copy()
    for r in range(Y.shape[0]):
        lo, hi = Y.indptr[r], Y.indptr[r + 1]
        perm = lo + rng.permutation(hi - lo)
        Y.indices[lo:hi], Y.data[lo:hi] = Y.indices[perm], Y.data[perm]
    Y.has_sorted_indices = False
    return Y


def assert_canonical_equal(out, X):
    assert isinstance(out, sp.csr_matrix)
    assert out.has_canonical_format
    assert np.all(np.diff(out.indices)[np.diff(np.repeat(np.arange(out.shape[0]),
                                                         np.diff(out.indptr))) == 0] > 0)
    np.testing.assert_array_equal(out.toarray(), X.toarray())


def test_canonical_csr_is_returned_without_a_copy():
    rng = np.random.default_rng(0)
    X = random_matrix(rng)
    assert check_sparse_matrix(X) is X
    ratings = fastmf.datasets.make_ratings(50, 30, 400, random_state=0)
    assert check_sparse_matrix(ratings.csr) is ratings.csr
    X32 = random_matrix(rng, dtype=np.float32)
    out = check_sparse_matrix(X32, dtype=None)
    assert out is X32 and out.dtype == np.float32
    out = check_sparse_matrix(X32)  # a new dtype: new data, shared structure
    assert out.dtype == np.float64 and np.shares_memory(out.indices, X32.indices)


@pytest.mark.parametrize("seed", range(5))
def test_unsorted_rows_are_sorted_in_a_copy(seed):
    rng = np.random.default_rng(seed)
    X = random_matrix(rng)
    Y = shuffled_rows(X, rng)
    before = Y.indices.copy()
    out = check_sparse_matrix(Y)
    assert_canonical_equal(out, X)
    np.testing.assert_array_equal(Y.indices, before)  # the input is left as it was


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "bsr", "dia"])
def test_every_format_gives_the_same_canonical_csr(fmt):
    rng = np.random.default_rng(1)
    X = random_matrix(rng)
    assert_canonical_equal(check_sparse_matrix(X.asformat(fmt)), X)
    assert_canonical_equal(check_sparse_matrix(sp.csr_array(X).asformat(fmt)), X)


def test_repeated_entries_raise_sum_or_keep_the_last():
    X = sp.coo_matrix(([1.0, 2.0, 4.0, 8.0], ([1, 0, 1, 1], [2, 0, 2, 0])), shape=(2, 3))
    with pytest.raises(ValueError, match=r"X has a duplicate entry: \(row 1, column 2\)"):
        check_sparse_matrix(X)
    np.testing.assert_array_equal(check_sparse_matrix(X, duplicates="sum").toarray(),
                                  [[2, 0, 0], [8, 0, 5]])
    np.testing.assert_array_equal(check_sparse_matrix(X, duplicates="last").toarray(),
                                  [[2, 0, 0], [8, 0, 4]])
    csr = sp.csr_matrix(([1.0, 2.0, 3.0], [1, 0, 1], [0, 3]), shape=(1, 2))  # unsorted too
    np.testing.assert_array_equal(check_sparse_matrix(csr, duplicates="sum").toarray(),
                                  [[2, 4]])
    np.testing.assert_array_equal(check_sparse_matrix(csr, duplicates="last").toarray(),
                                  [[2, 3]])
    with pytest.raises(ValueError, match="duplicates must be one of"):
        check_sparse_matrix(csr, duplicates="max")


def test_ratings_from_sparse_resolves_duplicates_like_the_constructor():
    rows, cols, vals = [0, 0, 1, 0], [1, 1, 0, 2], [1.0, 2.0, 3.0, 4.0]
    X = sp.coo_matrix((vals, (rows, cols)), shape=(2, 3))
    for how in ("sum", "last"):
        a = fastmf.Ratings.from_sparse(X, duplicates=how)
        b = fastmf.Ratings(rows, cols, vals, n_users=2, n_items=3, duplicates=how)
        for name in ("users", "items", "values"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_array_equal(a.csr.toarray(), b.csr.toarray())
    with pytest.raises(ValueError, match=r"\(row 0, column 1\) is stored more than once"):
        fastmf.Ratings.from_sparse(X)


def test_explicit_zeros_and_bools_are_entries():
    X = sp.csr_matrix(([0.0, 3.0], [0, 2], [0, 1, 2]), shape=(2, 3))
    out = check_sparse_matrix(X)
    assert out.nnz == 2 and out[0, 0] == 0
    assert fastmf.Ratings.from_sparse(X).nnz == 2
    B = check_sparse_matrix(sp.csr_matrix(np.array([[True, False], [False, True]])))
    assert B.dtype == np.float64
    np.testing.assert_array_equal(B.toarray(), np.eye(2))


def test_an_all_zero_matrix_is_valid_but_has_no_ratings():
    out = check_sparse_matrix(sp.csr_matrix((3, 4)))
    assert out.shape == (3, 4) and out.nnz == 0
    with pytest.raises(ValueError, match="X has no stored entries"):
        fastmf.Ratings.from_sparse(sp.csr_matrix((3, 4)))


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_rows_selects_like_indexing(fmt):
    rng = np.random.default_rng(2)
    X = random_matrix(rng)
    rows = np.array([5, 0, 5, 39])
    out = check_sparse_matrix(shuffled_rows(X, rng).asformat(fmt), rows=rows)
    assert_canonical_equal(out, X[rows])
    with pytest.raises(ValueError, match="rows holds index 40"):
        check_sparse_matrix(X, rows=[40])


def test_rows_reads_only_the_selected_rows_of_a_csr_matrix():
    """With ``rows``, a CSR matrix's indptr is checked in full but only the selected rows'
    entries are read: a per-user call costs O(n_rows + its entries), not O(nnz)."""
    X = sp.csr_matrix(np.array([[1.0, 0, 2], [0, 3, 0], [4, 0, 5]]))
    X.indices[X.indptr[2]] = 99  # row 2 is corrupt
    np.testing.assert_array_equal(check_sparse_matrix(X, rows=[1, 0]).toarray(),
                                  [[0, 3, 0], [1, 0, 2]])
    with pytest.raises(ValueError, match="column index 99 in row 2"):
        check_sparse_matrix(X, rows=[0, 2])
    X.indptr[1] = 5  # a broken indptr is caught whichever rows are asked for
    with pytest.raises(ValueError, match="indptr must be non-decreasing"):
        check_sparse_matrix(X, rows=[0])


def test_index_dtypes_are_kept_or_widened():
    rng = np.random.default_rng(3)
    X = random_matrix(rng)
    X64, X16 = X.copy(), X.copy()  # set after construction: scipy would downcast
    X64.indices, X64.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    X16.indices = X.indices.astype(np.uint16)
    for Y in (X64, X16):
        out = check_sparse_matrix(Y)
        assert out.indices.dtype in (np.int32, np.int64)
        assert out.indptr.dtype == out.indices.dtype
        np.testing.assert_array_equal(out.toarray(), X.toarray())


def test_fit_on_a_matrix_with_unsorted_rows_equals_fit_on_the_sorted_one():
    rng = np.random.default_rng(4)
    X = fastmf.datasets.make_ratings(40, 30, 300, random_state=0).csr
    a = fastmf.MatrixFactorization(3, n_iter=3, random_state=0).fit(X)
    b = fastmf.MatrixFactorization(3, n_iter=3, random_state=0).fit(shuffled_rows(X, rng))
    np.testing.assert_allclose(a.item_factors_, b.item_factors_, rtol=1e-5, atol=1e-6)

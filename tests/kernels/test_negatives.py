import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.negatives import (
    draw_negative,
    nth_absent,
    sample_distinct_negatives,
)
from tests import oracles
from tests.kernels.test_nn import at_threads, needs_two_threads


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_nth_absent_lists_the_complement_in_order(dtype):
    rng = np.random.default_rng(0)
    for present in ([], [0], [5], [0, 1, 2], [1, 3, 4, 9],
                    np.sort(rng.choice(60, 25, replace=False))):
        present = np.asarray(present, dtype)
        got = [int(nth_absent(present, q)) for q in range(40)]
        assert got == [oracles.nth_absent(present, q) for q in range(40)]
        assert not set(got) & set(present.tolist())


def positives_matrix():
    """Row 0 empty, row 1 all items but item 6, row 2 a few, row 3 one item."""
    dense = np.zeros((4, 7))
    dense[1, :6] = 1
    dense[2, [0, 3, 5]] = 2
    dense[3, 6] = 1
    return sp.csr_matrix(dense)


@pytest.mark.parametrize("exclude", [True, False])
def test_draw_negative_matches_the_twin_and_is_uniform_over_the_allowed_items(exclude):
    X = positives_matrix()
    n_cols = X.shape[1]
    for u in range(4):
        counts = np.zeros(n_cols)
        state = np.uint64(11 + u)
        ref = 11 + u
        for _ in range(7000):
            state, j = draw_negative(X.indptr, X.indices, u, n_cols, exclude, state)
            state = np.uint64(state)  # numba returns a Python int
            ref, want = oracles.draw_negative(X, u, n_cols, exclude, ref)
            assert int(state) == ref and j == want
            counts[j] += 1
        allowed = np.setdiff1d(np.arange(n_cols), X[u].indices) if exclude \
            else np.arange(n_cols)
        assert counts[np.setdiff1d(np.arange(n_cols), allowed)].sum() == 0
        share = counts[allowed] / counts.sum()
        np.testing.assert_allclose(share, 1 / len(allowed), atol=0.025)


def test_distinct_negatives_avoid_both_matrices_and_cover_the_rest_uniformly():
    rng = np.random.default_rng(0)
    n_users, n_cols, n = 30, 50, 12
    train = sp.random(n_users, n_cols, density=0.3, format="csr", random_state=1)
    train.data[:] = 1
    test = sp.lil_matrix((n_users, n_cols))
    for u in range(n_users):  # one test item per user, outside train
        test[u, rng.choice(np.setdiff1d(np.arange(n_cols), train[u].indices))] = 1
    test = test.tocsr()
    entry_rows = np.repeat(np.arange(n_users), 40)  # every user 40 times
    out = np.empty((len(entry_rows), n), np.int64)
    sample_distinct_negatives(train.indptr, train.indices, test.indptr, test.indices,
                              entry_rows, (n_cols, np.uint64(5)), out)
    for e, u in enumerate(entry_rows):
        row = out[e]
        assert np.all(np.diff(row) > 0)  # distinct, increasing
        assert not set(row.tolist()) & (set(train[u].indices) | set(test[u].indices))
    u = 0  # the 40 draws of user 0: each allowed item about equally often
    allowed = np.setdiff1d(np.arange(n_cols), np.r_[train[u].indices, test[u].indices])
    counts = np.bincount(out[entry_rows == u].ravel(), minlength=n_cols)[allowed]
    assert counts.sum() == 40 * n
    assert counts.max() - counts.min() <= 25  # mean 40 * 12 / 34 ~ 14 per item


def test_distinct_negatives_take_every_absent_column_when_n_is_all_of_them():
    train = sp.csr_matrix(np.array([[1, 0, 1, 0, 0], [0, 0, 0, 0, 0]]))
    test = sp.csr_matrix(np.array([[0, 0, 0, 1, 0], [1, 1, 1, 0, 0]]))
    out = np.empty((2, 2), np.int64)
    sample_distinct_negatives(train.indptr, train.indices, test.indptr, test.indices,
                              np.array([0, 1]), (5, np.uint64(0)), out)
    np.testing.assert_array_equal(out, [[1, 4], [3, 4]])


@needs_two_threads
def test_distinct_negatives_are_the_same_at_one_and_two_threads():
    train = sp.random(300, 200, density=0.1, format="csr", random_state=2)
    test = sp.csr_matrix((300, 200))
    rows = np.arange(300)

    def run():
        out = np.empty((300, 20), np.int64)
        sample_distinct_negatives(train.indptr, train.indices, test.indptr, test.indices,
                                  rows, (200, np.uint64(9)), out)
        return out

    np.testing.assert_array_equal(at_threads(1, run), at_threads(2, run))

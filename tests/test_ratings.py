import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from fastmf import Ratings


def test_sorted_csr_and_csc_views():
    r = Ratings([2, 0, 1, 0], [1, 2, 0, 0], [1.0, 2.0, 3.0, 4.0])
    dense = np.array([[4.0, 0, 2.0], [3.0, 0, 0], [0, 1.0, 0]])
    np.testing.assert_array_equal(r.csr.toarray(), dense)
    np.testing.assert_array_equal(r.csc.toarray(), dense)
    assert np.shares_memory(r.csr.data, r.values)
    assert r.csr is r.csr
    assert r.csc is r.csc  # cached


def test_duplicates_raise_sum_last():
    with pytest.raises(ValueError, match="duplicate entry: user 0, item 1"):
        Ratings([0, 0, 1], [1, 1, 0], [1.0, 2.0, 3.0])
    r = Ratings([0, 0, 1], [1, 1, 0], [1.0, 2.0, 3.0], duplicates="sum")
    assert r.nnz == 2 and r.csr[0, 1] == 3.0
    r = Ratings([0, 0, 1], [1, 1, 0], [1.0, 2.0, 3.0], duplicates="last")
    assert r.csr[0, 1] == 2.0


def test_duplicate_error_names_raw_ids():
    with pytest.raises(ValueError, match="user 'ann', item 'x'"):
        Ratings.from_ids(["ann", "ann"], ["x", "x"], [1, 2])


def test_from_pandas_string_ids_round_trip():
    df = pd.DataFrame({"u": ["b", "a", "b"], "i": ["y", "x", "x"], "r": [1.0, 2.0, 3.0],
                       "t": [3, 1, 2]})
    r = Ratings.from_pandas(df, user="u", item="i", rating="r", timestamp="t")
    assert r.user_ids.tolist() == ["a", "b"] and r.item_ids.tolist() == ["x", "y"]
    out = r.to_pandas().sort_values(["user", "item"]).reset_index(drop=True)
    want = df.rename(columns={"u": "user", "i": "item", "r": "rating", "t": "timestamp"})
    want = want.sort_values(["user", "item"]).reset_index(drop=True)
    np.testing.assert_array_equal(out[["user", "item"]].to_numpy(),
                                  want[["user", "item"]].to_numpy())
    np.testing.assert_allclose(out["rating"], want["rating"])
    np.testing.assert_allclose(out["timestamp"], want["timestamp"])
    np.testing.assert_array_equal(r.user_index(["b", "a"]), [1, 0])
    with pytest.raises(KeyError, match="unknown user ID 'zed'"):
        r.user_index(["zed"])
    with pytest.raises(KeyError, match="column 'nope'"):
        Ratings.from_pandas(df, user="nope", item="i")


def test_from_sparse_keeps_explicit_zeros_as_observations():
    X = sp.csr_matrix((np.array([0.0, 2.0]), np.array([0, 1]), np.array([0, 1, 2])), shape=(2, 3))
    r = Ratings.from_sparse(X)
    assert r.nnz == 2 and r.shape == (2, 3)


def test_subset_keeps_id_space():
    r = Ratings.from_ids(["a", "b", "c"], ["x", "y", "x"], [1, 2, 3])
    s = r.subset(np.array([True, False, False]))
    assert s.shape == r.shape and s.user_ids is r.user_ids
    with pytest.raises(ValueError, match="selection is empty"):
        r.subset(np.zeros(3, bool))


@pytest.mark.parametrize("kwargs, match", [
    (dict(users=[0, -1], items=[0, 1], values=[1, 2]), "users must be non-negative"),
    (dict(users=[0, 1], items=[0, 1.0], values=[1, 2]), "items must hold integer"),
    (dict(users=[0, 1], items=[0, 1], values=[1, np.nan]), "values must be finite"),
    (dict(users=[0, 1], items=[0, 1], values=[1, np.inf]), "values must be finite"),
    (dict(users=[0, 1], items=[0], values=[1, 2]), "length mismatch"),
    (dict(users=[], items=[], values=[]), "at least one entry"),
    (dict(users=[[0, 1]], items=[0], values=[1]), "users must be 1-dimensional"),
    (dict(users=[0, 5], items=[0, 1], values=[1, 2], n_users=3), "users holds index 5"),
    (dict(users=[0], items=[0], values=[1], duplicates="max"), "duplicates must be one of"),
])
def test_bad_input_raises(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Ratings(**kwargs)


def test_from_sparse_rejects_non_sparse_and_nan():
    with pytest.raises(TypeError, match="X must be a scipy sparse matrix"):
        Ratings.from_sparse(np.ones((2, 2)))
    with pytest.raises(ValueError, match="X.data must be finite"):
        Ratings.from_sparse(sp.csr_matrix(np.array([[np.nan, 1.0]])))

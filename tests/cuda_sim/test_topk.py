import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._recommend import top_k as cpu_top_k
from fastmf.cuda.ranking import ranking_metrics, top_k
from fastmf.metrics import ranking_metrics as cpu_ranking_metrics
from tests import oracles


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads, blocks", [(4, 2), (2, 1), (8, 3)])
def test_top_k_matches_cpu(dtype, threads, blocks):
    rng = np.random.default_rng(threads)
    Q = rng.normal(size=(11, 5)).astype(dtype)
    V = rng.normal(size=(13, 5)).astype(dtype)
    exclude = sp.random(11, 13, density=0.3, format="csr", random_state=threads)
    idx, scores = top_k(Q, V, 4, exclude=exclude, threads=threads, blocks=blocks)
    ref_idx, ref_scores = cpu_top_k(Q, V, 4, exclude=exclude)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert scores.dtype == dtype


def test_ties_nan_mask_rows_and_padding():
    Q = np.array([[1.0], [1.0], [-1.0]])
    V = np.array([[1.0], [2.0], [2.0], [np.nan], [2.0], [0.5]])
    exclude = sp.csr_matrix(np.array([[0, 0, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]]))
    mask = np.array([True, True, True, True, True, False])
    args = dict(exclude=exclude, exclude_rows=[0, 1, 0], item_mask=mask)
    idx, scores = top_k(Q, V, 4, threads=2, **args)
    ref_idx, ref_scores = cpu_top_k(Q, V, 4, **args)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(scores, ref_scores)
    np.testing.assert_array_equal(idx[0], [1, 4, 0, -1])  # tie 1 < 4; 2 excluded, NaN, masked
    np.testing.assert_array_equal(idx[1], -1)  # everything excluded or masked: all padding
    assert np.all(np.isneginf(scores[1]))


def test_top_k_validates_like_cpu():
    with pytest.raises(ValueError, match="exclude has 2 rows but there are 3 queries"):
        top_k(np.ones((3, 2)), np.ones((4, 2)), 2, exclude=sp.csr_matrix((2, 4)))
    with pytest.raises(ValueError, match="threads must be a power of two"):
        top_k(np.ones((3, 2)), np.ones((4, 2)), 2, threads=3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ranking_metrics_match_cpu_and_oracle(dtype):
    rng = np.random.default_rng(5)
    U = rng.normal(size=(14, 4)).astype(dtype)
    V = rng.normal(size=(12, 4)).astype(dtype)
    train = sp.random(14, 12, density=0.3, format="csr", random_state=1)
    test = sp.random(14, 12, density=0.25, format="csr", random_state=2)
    got = ranking_metrics((U, V), train, test, k=3, threads=4, blocks=2)
    ref = cpu_ranking_metrics((U, V), train, test, k=3)
    assert got.keys() == ref.keys()
    for key in ref:
        assert got[key] == pytest.approx(ref[key], rel=1e-12), key
    naive, _ = oracles.ranking_metrics_naive(U.astype(np.float64) @ V.T.astype(np.float64),
                                             train.toarray() != 0, test.toarray() != 0, 3)
    for key in ref:
        assert got[key] == pytest.approx(naive[key], rel=1e-5), key


def test_ranking_metrics_count_ties_and_missing_negatives():
    U = np.array([[1.0], [1.0]])
    V = np.array([[1.0], [1.0], [1.0], [0.0]])  # three tied items
    train = sp.csr_matrix(np.array([[0, 0, 0, 1], [0, 0, 0, 0]]))
    test = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 0, 0, 0]]))  # user 0: no negative left
    got = ranking_metrics((U, V), train, test, k=2, threads=2)
    ref = cpu_ranking_metrics((U, V), train, test, k=2)
    assert got == pytest.approx(ref)

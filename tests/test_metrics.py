"""fastmf.metrics: rating errors and ranking metrics (by hand, against the oracle, errors)."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf.metrics import mae, ranking_metrics, rmse
from tests.oracles import ranking_metrics_naive

KEYS = ("precision", "recall", "ndcg", "map", "hit_rate", "auc")


# ------------------------------------------------------------------ rmse, mae

def test_rmse_mae_by_hand():
    y, p = [1.0, 2.0, 4.0, 4.0], [2.0, 2.0, 2.0, 4.0]
    assert rmse(y, p) == pytest.approx(math.sqrt((1 + 0 + 4 + 0) / 4))
    assert mae(y, p) == pytest.approx((1 + 0 + 2 + 0) / 4)
    assert rmse(np.array([3], dtype=np.int64), np.array([3.0], dtype=np.float32)) == 0.0
    assert isinstance(mae(y, p), float)


@pytest.mark.parametrize("metric", [rmse, mae])
@pytest.mark.parametrize("y_true, y_pred, error, match", [
    ([1.0, 2.0], [1.0], ValueError, "length mismatch: y_true has 2, y_pred has 1"),
    ([1.0, np.nan], [1.0, 2.0], ValueError, "y_true must be finite, found nan at position 1"),
    ([1.0, 2.0], [np.inf, 2.0], ValueError, "y_pred must be finite"),
    ([[1.0, 2.0]], [[1.0, 2.0]], ValueError, "y_true must be 1-dimensional"),
    ([], [], ValueError, "y_true and y_pred are empty"),
    (["a"], [1.0], TypeError, "y_true must be numeric"),
])
def test_rmse_mae_bad_input(metric, y_true, y_pred, error, match):
    with pytest.raises(error, match=match):
        metric(y_true, y_pred)


# ------------------------------------------------------------------ ranking metrics by hand

def csr(n_users, n_items, rows):
    """Binary CSR from {user: [items]}."""
    dense = np.zeros((n_users, n_items))
    for u, items in rows.items():
        dense[u, items] = 1.0
    return sp.csr_matrix(dense)


def test_ranking_metrics_by_hand():
    # Item i scores 6 - i for user 0 and i - 6 for user 1 (one factor).
    U = np.array([[1.0], [-1.0], [1.0]])
    V = np.arange(6, 0, -1, dtype=float)[:, None]
    train = csr(3, 6, {0: [1], 1: [5], 2: [0]})
    test = csr(3, 6, {0: [0, 3, 5], 1: [5, 4], 2: [0]})
    # User 0: ranking of non-train items 0, 2, 3, 4, 5; top 3 = [0, 2, 3], hits at ranks 1, 3.
    #   precision 2/3, recall 2/min(3, 3), DCG 1 + 1/log2(4) = 1.5,
    #   IDCG 1 + 1/log2(3) + 1/log2(4), AP (1/1 + 2/3) / 3 = 5/9, hit 1,
    #   AUC: positives 0, 3, 5 (scores 6, 3, 1) vs negatives 2, 4 (4, 2): 3 of 6 pairs.
    # User 1: item 5 is in train, so only item 4 is relevant; top 3 = [4, 3, 2], hit at rank 1:
    #   precision 1/3, recall 1, nDCG 1, AP 1, hit 1, AUC 1 (item 4 beats 0, 1, 2, 3).
    # User 2: its only test item is in train -> not evaluated.
    idcg0 = 1 + 1 / math.log2(3) + 0.5
    expected = {
        "precision": (2 / 3 + 1 / 3) / 2,
        "recall": (2 / 3 + 1) / 2,
        "ndcg": (1.5 / idcg0 + 1) / 2,
        "map": (5 / 9 + 1) / 2,
        "hit_rate": 1.0,
        "auc": (0.5 + 1) / 2,
    }
    got = ranking_metrics((U, V), train, test, k=3)
    assert set(got) == set(KEYS)
    for key in KEYS:
        assert got[key] == pytest.approx(expected[key], abs=1e-12), key
        assert isinstance(got[key], float)


def test_ranking_metrics_ties_by_hand():
    # Items 0, 1, 2 tie at score 1, item 3 scores 0; the test item is 2.
    U = np.array([[1.0]])
    V = np.array([[1.0], [1.0], [1.0], [0.0]])
    train = sp.csr_matrix((1, 4))
    test = csr(1, 4, {0: [2]})
    # k=1: the tie goes to item 0, no hit. AUC: item 2 ties items 0 and 1, beats 3 -> 2/3.
    got = ranking_metrics((U, V), train, test, k=1)
    assert got == pytest.approx(
        {"precision": 0, "recall": 0, "ndcg": 0, "map": 0, "hit_rate": 0, "auc": 2 / 3})
    # k=3: top 3 = [0, 1, 2], hit at rank 3: nDCG 1/log2(4) = 1/2, AP (1/3) / 1.
    got = ranking_metrics((U, V), train, test, k=3)
    assert got == pytest.approx(
        {"precision": 1 / 3, "recall": 1, "ndcg": 0.5, "map": 1 / 3, "hit_rate": 1, "auc": 2 / 3})


def test_ranking_metrics_perfect_model():
    rng = np.random.default_rng(0)
    n_users, n_items = 7, 12
    test_dense = np.zeros((n_users, n_items), dtype=bool)
    train_dense = np.zeros((n_users, n_items), dtype=bool)
    for u in range(n_users):
        items = rng.permutation(n_items)
        test_dense[u, items[:3]] = True
        train_dense[u, items[3:6]] = True
    # Scores: 1 on test items, 0 elsewhere.
    U, V = test_dense.astype(np.float32), np.eye(n_items, dtype=np.float32)
    got = ranking_metrics((U, V), sp.csr_matrix(train_dense), sp.csr_matrix(test_dense),
                          k=3, block_size=2)
    assert got == {key: 1.0 for key in KEYS}


# ------------------------------------------------------------------ against the oracle

def random_problem(seed, n_users=15, n_items=11, n_factors=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    U = rng.integers(-2, 3, size=(n_users, n_factors)).astype(dtype)  # exact, with ties
    V = rng.integers(-2, 3, size=(n_items, n_factors)).astype(dtype)
    train = rng.random((n_users, n_items)) < 0.3
    test = rng.random((n_users, n_items)) < 0.25  # overlaps train on purpose
    train[0] = True    # no candidates, no relevant items
    train[1] = False   # empty train row
    test[2] = False    # no test items
    test[3] = ~train[3]  # every candidate relevant: no negatives (AUC skipped)
    return U, V, train, test


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 4, 20])
@pytest.mark.parametrize("seed", [0, 1])
def test_ranking_metrics_match_oracle(dtype, k, seed):
    U, V, train, test = random_problem(seed, dtype=dtype)
    want, _ = ranking_metrics_naive(U @ V.T, train, test, k)
    for block_size in (None, 1, 4):
        got = ranking_metrics((U, V), sp.csr_matrix(train), sp.csr_matrix(test), k=k,
                              block_size=block_size, n_threads=2)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_ranking_metrics_continuous_scores_and_ratings_input():
    rng = np.random.default_rng(7)
    U, V = rng.normal(size=(20, 4)), rng.normal(size=(30, 4))
    train = rng.random((20, 30)) < 0.2
    test = (rng.random((20, 30)) < 0.2) & ~train
    want, _ = ranking_metrics_naive(U @ V.T, train, test, 5)
    to_ratings = lambda d: fastmf.Ratings.from_sparse(sp.csr_matrix(d, dtype=float))
    got = ranking_metrics((U, V), to_ratings(train), sp.coo_matrix(test), k=5,
                          n_threads=1)
    assert got == pytest.approx(want, rel=1e-12)


def test_test_items_in_train_are_ignored():
    U, V, train, test = random_problem(8)
    a = ranking_metrics((U, V), sp.csr_matrix(train), sp.csr_matrix(test), k=4)
    b = ranking_metrics((U, V), sp.csr_matrix(train), sp.csr_matrix(test & ~train), k=4)
    assert a == b


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("model, train, test, kwargs, error, match", [
    ("not a model", (3, 4), (3, 4), {}, TypeError, "model must be a fitted fastmf recommender"),
    ((np.ones((3, 2)),), (3, 4), (3, 4), {}, ValueError, r"must be \(U, V\)"),
    ((np.ones((3, 2)), np.ones((4, 3))), (3, 4), (3, 4), {}, ValueError,
     "U has 2 factors but V has 3"),
    ((np.full((3, 2), np.nan), np.ones((4, 2))), (3, 4), (3, 4), {}, ValueError,
     r"U \(user factors\) must be finite"),
    ((np.ones(3), np.ones((4, 2))), (3, 4), (3, 4), {}, ValueError, "must be 2-dimensional"),
    ((np.ones((3, 2)), np.ones((4, 2))), (2, 4), (3, 4), {}, ValueError,
     r"train has shape \(2, 4\) but the model has 3 users and 4 items"),
    ((np.ones((3, 2)), np.ones((4, 2))), (3, 4), (3, 5), {}, ValueError,
     r"test has shape \(3, 5\)"),
    ((np.ones((3, 2)), np.ones((4, 2))), (3, 4), (3, 4), {"k": 0}, ValueError, "k must be >= 1"),
    ((np.ones((3, 2)), np.ones((4, 2))), (3, 4), (3, 4), {"block_size": -1}, ValueError,
     "block_size must be >= 1"),
    ((np.ones((3, 2)), np.ones((4, 2))), (3, 4), (3, 4), {"n_threads": 0}, ValueError,
     "n_threads must be >= 1"),
])
def test_ranking_metrics_bad_input(model, train, test, kwargs, error, match):
    train = sp.random(*train, density=0.3, format="csr", random_state=0)
    test = sp.random(*test, density=0.5, format="csr", random_state=1)
    with pytest.raises(error, match=match):
        ranking_metrics(model, train, test, **kwargs)


def test_ranking_metrics_rejects_dense_and_empty_evaluation():
    U, V = np.ones((2, 1)), np.ones((3, 1))
    with pytest.raises(TypeError, match="train must be a Ratings or a scipy sparse matrix"):
        ranking_metrics((U, V), np.zeros((2, 3)), sp.csr_matrix((2, 3)))
    train = sp.csr_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="no user has a test item outside train"):
        ranking_metrics((U, V), train, sp.csr_matrix(np.eye(2, 3)))

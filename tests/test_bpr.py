import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import BPR


def data():
    counts = fastmf.datasets.make_counts(300, 120, rank=4, counts_per_user=25, random_state=0)
    return fastmf.model_selection.train_test_split(counts, 0.2, method="user", random_state=0)


def test_learns_a_ranking_better_than_chance_and_loss_decreases():
    train, test = data()
    model = BPR(16, n_iter=40, learning_rate=0.05, reg=0.005, random_state=0).fit(train)
    loss = model.history_["train_loss"]  # summed over the epoch's nnz triples
    assert loss[-1] < 0.7 * loss[0] < 0.7 * np.log(2) * train.nnz
    assert len(model.history_["skipped"]) == 40 and model.history_["skipped"][0] > 0
    assert fastmf.metrics.ranking_metrics(model, train, test, k=10)["auc"] > 0.75
    assert model.user_bias_ is None and model.item_bias_.shape == (120,)


def test_one_thread_is_deterministic_and_warm_start_continues():
    train, _ = data()
    a = BPR(4, n_iter=6, n_threads=1, random_state=3).fit(train)
    b = BPR(4, n_iter=6, n_threads=1, random_state=3).fit(train)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    np.testing.assert_array_equal(a.item_bias_, b.item_bias_)
    rng = np.random.default_rng(3)
    c = BPR(4, n_iter=3, n_threads=1, random_state=rng, warm_start=True).fit(train)
    c.fit(train)  # the same Generator continues: 3 + 3 epochs draw what 6 do
    np.testing.assert_array_equal(c.item_factors_, a.item_factors_)
    assert c.n_iter_ == 6 and len(c.history_["skipped"]) == 6


def test_verify_negative_and_popularity_sampling():
    train, _ = data()
    a = BPR(4, n_iter=2, verify_negative=False, negatives="popularity", random_state=0).fit(train)
    assert a.history_["skipped"] == [0, 0]
    b = BPR(4, n_iter=2, negatives="popularity", random_state=0).fit(train)
    assert b.history_["skipped"][0] > 0


def test_float64():
    train, _ = data()
    model = BPR(4, n_iter=2, dtype="float64", random_state=0).fit(train)
    assert model.item_factors_.dtype == np.float64 and model.item_bias_.dtype == np.float64


@pytest.mark.parametrize("params, match", [
    (dict(learning_rate=0.0), "learning_rate must be > 0"),
    (dict(reg=-0.1), "reg must be >= 0"),
    (dict(negatives="hard"), "negatives must be one of"),
    (dict(n_iter=0), "n_iter must be >= 1"),
])
def test_bad_parameters_raise(params, match):
    train, _ = data()
    with pytest.raises(ValueError, match=match):
        BPR(**params).fit(train)


def test_bad_data_raise():
    with pytest.raises(TypeError, match="verify_negative must be True or False"):
        BPR(verify_negative=1).fit(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="non-negative"):
        BPR().fit(sp.csr_matrix(-np.eye(3)))
    with pytest.raises(ValueError, match="at least 2 items"):
        BPR().fit(sp.csr_matrix(np.ones((3, 1))))
    with pytest.raises(ValueError, match="no positive entries"):
        BPR().fit(fastmf.Ratings([0, 1], [0, 1], [0.0, 0.0]))
    with pytest.raises(ValueError, match="finite"):
        BPR().fit(sp.csr_matrix(np.array([[np.inf, 1.0]])))

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import WARP


def data():
    """Planted groups: user u has 15 of the 30 items of group u % 4, so popularity is flat and
    only a personal ranking finds the held-out items."""
    rng = np.random.default_rng(0)
    items = np.concatenate([rng.choice(30, 15, replace=False) + 30 * (u % 4)
                            for u in range(300)])
    X = sp.csr_matrix((np.ones(len(items)), (np.repeat(np.arange(300), 15), items)),
                      shape=(300, 120))
    return fastmf.model_selection.train_test_split(fastmf.Ratings.from_sparse(X), 0.2,
                                                   method="user", random_state=0)


@pytest.mark.parametrize("loss", ["warp", "warp-kos"])
def test_learns_the_planted_groups(loss):
    train, test = data()
    model = WARP(16, loss=loss, n_iter=30, random_state=0).fit(train)
    warp = fastmf.metrics.ranking_metrics(model, train, test, k=10)
    popular = fastmf.metrics.ranking_metrics(fastmf.Popularity().fit(train), train, test, k=10)
    # a perfect ranking puts the 3 test items among the 15 unseen items of the user's group
    assert warp["ndcg"] > 3 * popular["ndcg"] and warp["recall"] > 0.45
    assert warp["auc"] > 0.75  # k-OS orders the top of the list, not its tail
    assert model.user_bias_ is None and model.item_bias_.shape == (120,)
    assert len(model.history_["train_loss"]) == 30
    assert np.all(np.isfinite(model.history_["train_loss"]))


def test_one_thread_is_deterministic_and_warm_start_continues():
    train, _ = data()
    a = WARP(4, loss="warp-kos", n_iter=6, n_threads=1, random_state=3).fit(train)
    b = WARP(4, loss="warp-kos", n_iter=6, n_threads=1, random_state=3).fit(train)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    np.testing.assert_array_equal(a.item_bias_, b.item_bias_)
    rng = np.random.default_rng(3)
    c = WARP(4, loss="warp-kos", n_iter=3, n_threads=1, random_state=rng,
             warm_start=True).fit(train)
    c.fit(train)  # the same Generator continues: 3 + 3 epochs draw what 6 do
    np.testing.assert_array_equal(c.item_factors_, a.item_factors_)
    assert c.n_iter_ == 6


def test_the_loss_changes_the_fit_and_bpr_is_unchanged_by_warp_options():
    train, _ = data()
    kw = dict(n_iter=3, n_threads=1, random_state=0)
    warp = WARP(4, **kw).fit(train)
    kos = WARP(4, loss="warp-kos", **kw).fit(train)
    assert not np.allclose(warp.item_factors_, kos.item_factors_)
    assert "loss" not in fastmf.BPR().get_params() and "init_std" not in warp.get_params()


@pytest.mark.parametrize("params, error, match", [
    (dict(loss="bpr"), ValueError, "loss must be one of"),
    (dict(max_sampled=0), ValueError, "max_sampled must be >= 1"),
    (dict(os_n=0), ValueError, "os_n must be >= 1"),
    (dict(os_k=11, os_n=10), ValueError, "os_k must be <= 10"),
    (dict(os_k=1.5), TypeError, "os_k must be an integer"),
    (dict(learning_rate=0.0), ValueError, "learning_rate must be > 0"),
])
def test_bad_parameters_raise(params, error, match):
    train, _ = data()
    with pytest.raises(error, match=match):
        WARP(**params).fit(train)


def test_bad_data_raise():
    with pytest.raises(ValueError, match="non-negative"):
        WARP().fit(sp.csr_matrix(-np.eye(3)))
    with pytest.raises(ValueError, match="WARP needs at least 2 items"):
        WARP().fit(sp.csr_matrix(np.ones((3, 1))))
    with pytest.raises(ValueError, match="no positive entries: WARP"):
        WARP().fit(fastmf.Ratings([0, 1], [0, 1], [0.0, 0.0]))

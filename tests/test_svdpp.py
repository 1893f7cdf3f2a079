import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from tests import oracles
from tests.conftest import needs_two_threads


@pytest.fixture(scope="module")
def planted():
    data = fastmf.datasets.make_ratings(300, 200, 15000, rank=4, noise=0.2, discrete=False,
                                        random_state=1)
    return fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)


def svdpp(**kw):
    params = dict(n_factors=6, n_iter=8, learning_rate=0.01, reg=0.02, random_state=0)
    params.update(kw)
    return fastmf.SVDpp(**params)


def test_prediction_equals_the_formula(planted):
    train, test = planted
    model = svdpp().fit(train)
    mask = train.csr.toarray() != 0
    mask[train.users, train.items] = True
    want = oracles.svdpp_predict(model.global_mean_, model.user_bias_, model.item_bias_,
                                 model.base_user_factors_, model.item_factors_,
                                 model.implicit_factors_, mask, test.users, test.items)
    np.testing.assert_allclose(model.predict(test), want, rtol=1e-4, atol=1e-4)


def test_separate_implicit_matrix_defines_the_implicit_sets(planted):
    train, test = planted
    implicit = fastmf.Ratings(np.r_[train.users, test.users], np.r_[train.items, test.items],
                              n_users=train.n_users, n_items=train.n_items)
    model = svdpp(n_iter=3).fit(train, implicit=implicit)
    mask = implicit.csr.toarray() != 0
    want = oracles.svdpp_predict(model.global_mean_, model.user_bias_, model.item_bias_,
                                 model.base_user_factors_, model.item_factors_,
                                 model.implicit_factors_, mask, test.users, test.items)
    np.testing.assert_allclose(model.predict(test), want, rtol=1e-4, atol=1e-4)
    default = svdpp(n_iter=3).fit(train)
    assert not np.allclose(default.user_factors_, model.user_factors_)
    with pytest.raises(ValueError, match="implicit must have shape"):
        svdpp().fit(train, implicit=implicit.csr[:10])
    with pytest.raises(TypeError, match="implicit"):
        svdpp().fit(train, implicit=mask)


def test_loss_decreases_and_eval_improves(planted):
    train, test = planted
    model = svdpp(n_iter=25).fit(train, eval_set=test)
    loss, rmse = model.history_["train_loss"], model.history_["eval_rmse"]
    assert all(b < a for a, b in zip(loss[:10], loss[1:11], strict=False))
    assert rmse[-1] < 0.5 * rmse[0]


@needs_two_threads
def test_same_model_at_one_and_two_threads():
    # 70,000 ratings: 4 x 4 blocks, so the parallel path really runs
    train = fastmf.datasets.make_ratings(1000, 800, 70_000, random_state=2)
    a = svdpp(n_threads=1, n_iter=2).fit(train)
    b = svdpp(n_threads=2, n_iter=2).fit(train)
    for name in ("user_factors_", "item_factors_", "implicit_factors_", "user_bias_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("schedule", ["constant", "inverse"])
def test_warm_start_five_plus_five_equals_ten(planted, schedule):
    train, _ = planted
    ten = svdpp(n_iter=10, lr_schedule=schedule).fit(train)
    warm = svdpp(n_iter=5, lr_schedule=schedule, warm_start=True).fit(train)
    warm.fit(train)
    assert warm.n_iter_ == 10
    for name in ("user_factors_", "base_user_factors_", "item_factors_", "implicit_factors_"):
        np.testing.assert_allclose(getattr(warm, name), getattr(ten, name), rtol=1e-6,
                                   atol=1e-7)


def test_divergence_raises_with_learning_rate_hint(planted):
    train, _ = planted
    with pytest.raises(FloatingPointError, match="learning_rate"):
        svdpp(learning_rate=3.0, init_scale=1.0, n_iter=20).fit(train)


def test_fold_in_uses_the_items_of_the_new_user(planted):
    train, _ = planted
    model = svdpp().fit(train)
    X = train.csr[:5]
    got = model.transform(X)
    mask = X.toarray() != 0
    Z = oracles.implicit_sums(mask, model.implicit_factors_)
    target = np.where(mask, X.toarray() - Z @ model.item_factors_.T.astype(np.float64), 0)
    W, _ = oracles.als_half_sweep(target, mask, model.item_factors_, model.item_bias_,
                                  model.global_mean_, model.reg, model.reg, True, True)
    np.testing.assert_allclose(got, W + Z, rtol=1e-3, atol=1e-4)


def test_float64_and_save_load(planted, tmp_path):
    train, test = planted
    model = svdpp(dtype="float64").fit(train)
    assert model.implicit_factors_.dtype == np.float64
    model.save(tmp_path / "m.npz")
    loaded = fastmf.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(test), model.predict(test))
    items, scores = loaded.recommend([0, 1], n=5, exclude=train)
    assert items.shape == (2, 5) and (scores[:, :-1] >= scores[:, 1:]).all()


def test_eval_set_with_unknown_users_is_counted(planted):
    train, test = planted
    pairs = np.column_stack([test.users, test.items])
    pairs[:4, 1] = 5000
    model = svdpp(n_iter=2).fit(train, eval_set=(pairs, test.values))
    assert model.history_["eval_unknown"] == [4, 4]


def test_regressor_view(planted):
    train, test = planted
    model = svdpp(n_iter=15).fit(np.column_stack([train.users, train.items]), train.values)
    assert model.score(np.column_stack([test.users, test.items]), test.values) > 0.5


@pytest.mark.parametrize("kw, match", [
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"lr_schedule": "adagrad"}, "lr_schedule"),
    ({"reg": -1.0}, "reg"),
    ({"reg_implicit": -0.1}, "reg_implicit"),
    ({"n_iter": 0}, "n_iter"),
    ({"n_factors": 0}, "n_factors"),
    ({"early_stopping_rounds": 3}, "eval_set"),
])
def test_bad_parameters_raise(planted, kw, match):
    train, _ = planted
    with pytest.raises(ValueError, match=match):
        svdpp(**kw).fit(train)


@pytest.mark.slow
def test_movielens_100k_beats_surprise_published_rmse(ml100k_dir):
    data = fastmf.datasets.load_movielens("100k", path=ml100k_dir)
    train, test = fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)
    pred = fastmf.SVDpp(random_state=0).fit(train).predict(test)
    assert fastmf.metrics.rmse(test.values, pred) < 0.919


def test_scikit_learn_clone_and_cross_val_score(planted):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.model_selection import cross_val_score

    train, _ = planted
    model = svdpp(n_iter=3)
    assert sklearn.base.clone(model).get_params() == model.get_params()
    scores = cross_val_score(model, np.column_stack([train.users, train.items]), train.values,
                             cv=2)
    assert len(scores) == 2 and np.isfinite(scores).all()


def test_transformer_view_on_a_sparse_matrix(planted):
    train, _ = planted
    model = svdpp(n_iter=2)
    W = model.fit_transform(train.csr)
    assert W.shape == (train.n_users, 6) and model.components_.shape == (train.n_items, 6)


def test_fold_in_of_items_and_users_keeps_every_per_row_array_in_step():
    """More users than items: item fold-in solves against the users' effective vectors (it
    once indexed the implicit factors, one row per item, with user indices); user fold-in
    grows base_user_factors_ with user_factors_."""
    data = fastmf.datasets.make_ratings(120, 30, 1500, random_state=4)
    model = svdpp(n_iter=5, n_factors=8).fit(data)
    X = data.csr
    cols = X.T.tocsr()[[3, 7]]  # two items' ratings, as new items 30 and 31
    model.partial_fit_items([30, 31], cols)
    assert model.item_factors_.shape == (32, 8) and model.implicit_factors_.shape == (32, 8)
    assert model.item_bias_.shape == (32,) and model.n_items_ == 32
    np.testing.assert_array_equal(model.implicit_factors_[30:], 0)
    # the ridge solution (count-scaled, as the SGD objective) with the users held fixed
    P, bu, mu, reg = model.user_factors_, model.user_bias_, model.global_mean_, model.reg
    for r, row in enumerate(cols):
        u, y = row.indices, row.data - mu - bu[row.indices]
        Z = np.c_[P[u], np.ones(len(u))].astype(np.float64)
        want = np.linalg.solve(Z.T @ Z + reg * len(u) * np.eye(9), Z.T @ y)
        np.testing.assert_allclose(model.item_factors_[30 + r], want[:8], rtol=2e-3,
                                   atol=2e-4)
        assert model.item_bias_[30 + r] == pytest.approx(want[8], rel=2e-3, abs=2e-4)
    row = sp.hstack([X[[5]], sp.csr_matrix((1, 2))]).tocsr()  # over the 32 items now
    model.partial_fit_users([120], row)
    assert model.base_user_factors_.shape == model.user_factors_.shape == (121, 8)
    Z = np.zeros(8)
    for j in X[5].indices:
        Z += model.implicit_factors_[j]
    Z /= np.sqrt(len(X[5].indices))
    np.testing.assert_allclose(model.user_factors_[120] - model.base_user_factors_[120], Z,
                               rtol=1e-4, atol=1e-6)

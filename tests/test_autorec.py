import copy
import os

import numpy as np
import pytest

import fastmf
from fastmf._kernels import nn
from fastmf._kernels.autorec import autorec_loss_grad
from tests.conftest import needs_two_threads

DATA = fastmf.datasets.make_ratings(120, 80, 2400, rank=3, noise=0.1, discrete=False,
                                    random_state=0)
TRAIN, TEST = fastmf.model_selection.train_test_split(DATA, test_size=0.2, random_state=0)


def small(**kw):
    return fastmf.AutoRec(**{**dict(n_hidden=12, reg=1.0, n_iter=30, random_state=0), **kw})


def rmse(model, data):
    return float(np.sqrt(np.mean((model.predict(data) - data.values) ** 2)))


@pytest.mark.parametrize("kind", ["item", "user"])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_planted_low_rank_ratings_are_recovered(kind, solver):
    model = small(kind=kind, solver=solver, learning_rate=0.01, n_iter=60).fit(TRAIN)
    baseline = TEST.values.std()  # predicting the mean
    assert rmse(model, TRAIN) < 0.5 * baseline
    assert rmse(model, TEST) < 0.85 * baseline


def test_lbfgs_objective_never_increases_and_is_the_reported_loss():
    model = small(dtype="float64", n_iter=25).fit(TRAIN)
    loss = np.array(model.history_["train_loss"])
    assert len(loss) == model.n_iter_ == 25
    assert np.all(np.diff(loss) <= 0) and loss[-1] < 0.5 * loss[0]
    # the last entry is sse + reg (|W|^2 + |V|^2) of the fitted weights (the kernel's 2 J)
    X = TRAIN.csc
    params = (model.encoder_weights_, model.encoder_bias_, model.user_factors_,
              model.user_bias_)
    J = autorec_loss_grad(X.indptr, X.indices, X.data, params,
                          tuple(np.empty_like(p) for p in params), nn.SIGMOID, 1.0)
    np.testing.assert_allclose(loss[-1], 2 * J, rtol=1e-10)
    # and the item factors are the codes of the fitted encoder (an item's fold-in)
    grown = copy.deepcopy(model).partial_fit_items([TRAIN.n_items], X[:, [3]].T.tocsr())
    np.testing.assert_allclose(grown.item_factors_[-1], model.item_factors_[3], rtol=1e-12)


def test_float32_and_float64_fits_agree():
    a = small(n_iter=10, dtype="float32").fit(TRAIN)
    b = small(n_iter=10, dtype="float64").fit(TRAIN)
    assert a.item_factors_.dtype == np.float32 and b.item_factors_.dtype == np.float64
    np.testing.assert_allclose(a.predict(TEST), b.predict(TEST), atol=0.02)


@needs_two_threads
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_same_model_at_one_and_two_threads(solver):
    a = small(solver=solver, n_iter=8, n_threads=1).fit(TRAIN)
    b = small(solver=solver, n_iter=8, n_threads=2).fit(TRAIN)
    for name in ("encoder_weights_", "encoder_bias_", "user_factors_", "user_bias_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_minibatch_warm_start_continues_exactly(solver):
    full = small(solver=solver, n_iter=10).fit(TRAIN)
    half = small(solver=solver, n_iter=5, warm_start=True).fit(TRAIN).fit(TRAIN)
    assert half.n_iter_ == 10
    np.testing.assert_array_equal(half.user_factors_, full.user_factors_)
    np.testing.assert_array_equal(half.history_["train_loss"], full.history_["train_loss"])


def test_lbfgs_warm_start_continues_downhill():
    model = small(n_iter=10, warm_start=True, dtype="float64").fit(TRAIN)
    first = model.history_["train_loss"][-1]
    model.fit(TRAIN)
    assert model.n_iter_ == 20 and len(model.history_["train_loss"]) == 20
    assert model.history_["train_loss"][-1] < first


def test_early_stopping_keeps_the_best_iteration():
    # almost no L2 and many hidden units: the eval RMSE turns up while the fit goes on
    model = small(n_hidden=40, reg=0.001, n_iter=80, early_stopping_rounds=3).fit(
        TRAIN, eval_set=TEST)
    h = model.history_["eval_rmse"]
    assert model.best_iteration_ == int(np.argmin(h)) + 1 < model.n_iter_
    np.testing.assert_allclose(rmse(model, TEST), min(h), rtol=1e-5)


def test_save_load_and_the_regressor_view(tmp_path):
    model = small(n_iter=5).fit(TRAIN)
    path = os.path.join(tmp_path, "autorec.npz")
    model.save(path)
    loaded = fastmf.load(path)
    np.testing.assert_array_equal(loaded.predict(TEST), model.predict(TEST))
    pairs = np.column_stack([TRAIN.users, TRAIN.items])
    view = small(n_iter=5).fit(pairs, TRAIN.values)
    np.testing.assert_array_equal(view.predict(pairs[:20]), model.predict(pairs[:20]))


def test_i_autorec_user_fold_in_is_the_exact_ridge_row():
    # the decoder row and bias of a folded-in user zero the objective's gradient in them
    model = small(dtype="float64", n_iter=20).fit(TRAIN)
    users = [0, 5]
    rows = model.transform(TRAIN.csr[users])
    W, b = model.user_factors_.copy(), model.user_bias_.copy()
    W[users] = rows
    b[users] = model._fold_in_users(TRAIN.csr[users])["user_bias_"]
    X = TRAIN.csc
    params = (model.encoder_weights_, model.encoder_bias_, W, b)
    grads = tuple(np.empty_like(p) for p in params)
    autorec_loss_grad(X.indptr, X.indices, X.data, params, grads, nn.SIGMOID, 1.0)
    assert np.abs(grads[2][users]).max() < 1e-8 and np.abs(grads[3][users]).max() < 1e-8


def test_u_autorec_transform_is_the_encoder():
    model = small(kind="user", n_iter=10).fit(TRAIN)
    np.testing.assert_allclose(model.transform(TRAIN.csr[:4]), model.user_factors_[:4],
                               rtol=1e-6)
    assert model.user_bias_ is None and model.item_bias_.shape == (TRAIN.n_items,)


def test_unknown_users_and_items_fall_back():
    model = small(n_iter=5).fit(TRAIN)
    pred = model.predict([TRAIN.n_users + 3, 0, 0], [0, TRAIN.n_items + 1, 1])
    assert pred[0] == pytest.approx(float(np.clip(TRAIN.values.mean(), *model.rating_range_)))
    # a known user with an unknown item: the item without ratings, whose code is f(mu)
    code = 1 / (1 + np.exp(-model.encoder_bias_.astype(float)))
    want = model.user_bias_[0] + model.user_factors_[0] @ code
    assert pred[1] == pytest.approx(float(np.clip(want, *model.rating_range_)), rel=1e-5)


@pytest.mark.parametrize("params, error, match", [
    (dict(n_hidden=0), ValueError, "n_hidden must be >= 1"),
    (dict(n_hidden=2.5), TypeError, "n_hidden must be an integer"),
    (dict(activation="softmax"), ValueError, "activation must be one of"),
    (dict(solver="newton"), ValueError, "solver must be one of"),
    (dict(kind="both"), ValueError, "kind must be one of"),
    (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(learning_rate=0.0), ValueError, "learning_rate must be > 0"),
    (dict(learning_rate=-1e-3), ValueError, "learning_rate must be > 0"),
    (dict(momentum=1.0), ValueError, "momentum must be < 1"),
    (dict(momentum=-0.1), ValueError, "momentum must be >= 0"),
    (dict(reg=-1.0), ValueError, "reg must be >= 0"),
    (dict(early_stopping_rounds=2), ValueError, "early_stopping_rounds needs an eval_set"),
])
def test_bad_parameters_raise_clear_errors(params, error, match):
    with pytest.raises(error, match=match):
        small(**params).fit(TRAIN)
    assert not hasattr(small(**params), "user_factors_")


@pytest.mark.parametrize("solver, learning_rate", [("adam", 1e30), ("sgd", 1e4)])
def test_a_divergent_fit_says_what_to_lower_and_keeps_the_last_finite_model(solver,
                                                                             learning_rate):
    # (Adam's steps are bounded by the learning rate: only an absurd one overflows float32)
    model = small(solver=solver, learning_rate=learning_rate, momentum=0.9, n_iter=30)
    with pytest.raises(FloatingPointError, match="Lower learning_rate"):
        model.fit(TRAIN)
    assert model.n_iter_ < 30 and len(model.history_["train_loss"]) == model.n_iter_
    for name in ("encoder_weights_", "user_factors_", "item_factors_", "user_bias_"):
        assert np.isfinite(getattr(model, name)).all()
    assert np.isfinite(model.predict(TEST)).all()


def test_warm_start_with_another_kind_is_refused():
    model = small(n_iter=3, warm_start=True).fit(TRAIN)
    with pytest.raises(ValueError, match="warm_start needs data of the same shape"):
        model.set_params(kind="user").fit(TRAIN)

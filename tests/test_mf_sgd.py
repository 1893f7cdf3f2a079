import numpy as np
import pytest

import fastmf
from fastmf._solvers.mf_als import fold_in
from tests.conftest import needs_two_threads


def planted_data():
    data, truth = fastmf.datasets.make_ratings(300, 200, 15000, rank=4, noise=0.2,
                                               discrete=False, random_state=0,
                                               return_truth=True)
    train, test = fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)
    exact = np.clip(truth["global_mean"] + truth["user_bias"][test.users]
                    + truth["item_bias"][test.items]
                    + np.einsum("ij,ij->i", truth["user_factors"][test.users],
                                truth["item_factors"][test.items]), 1, 5)
    return train, test, fastmf.metrics.rmse(test.values, exact)


@pytest.fixture(scope="module")
def planted():
    return planted_data()[:2]


@pytest.fixture(scope="module")
def noise_level():
    return planted_data()[2]


def sgd(**kw):
    params = dict(n_factors=8, solver="sgd", n_iter=10, learning_rate=0.02, reg=0.02,
                  random_state=0)
    params.update(kw)
    return fastmf.MatrixFactorization(**params)


def test_loss_decreases_and_test_rmse_reaches_noise_level(planted, noise_level):
    train, test = planted
    model = sgd(n_factors=4, n_iter=40).fit(train, eval_set=test)
    loss = model.history_["train_loss"]
    assert all(b < a for a, b in zip(loss[:10], loss[1:11], strict=False))
    assert loss[-1] < 0.5 * loss[0]
    # the planted model itself scores noise_level (about 0.2) on the test set
    assert model.history_["eval_rmse"][-1] < 1.35 * noise_level
    assert len(model.history_["seconds"]) == model.n_iter_ == 40


@pytest.mark.parametrize("kw", [{}, {"lr_schedule": "adagrad", "learning_rate": 0.1},
                                {"momentum": 0.9, "batch_size": 16, "learning_rate": 0.05}])
def test_optimisers_fit_planted_data(planted, kw):
    train, test = planted
    model = sgd(n_iter=15, **kw).fit(train, eval_set=test)
    rmse = model.history_["eval_rmse"]
    assert rmse[-1] < 0.6 * rmse[0]


@needs_two_threads
def test_same_model_at_one_and_two_threads():
    # 70,000 ratings: 4 x 4 blocks, so the parallel path really runs
    train = fastmf.datasets.make_ratings(1000, 800, 70_000, random_state=2)
    a = sgd(n_threads=1, n_iter=2).fit(train)
    b = sgd(n_threads=2, n_iter=2).fit(train)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    np.testing.assert_array_equal(a.item_bias_, b.item_bias_)


@pytest.mark.parametrize("kw", [{}, {"lr_schedule": "inverse"},
                                {"lr_schedule": "adagrad", "learning_rate": 0.1},
                                {"momentum": 0.5, "batch_size": 4}])
def test_warm_start_five_plus_five_equals_ten(planted, kw):
    train, _ = planted
    ten = sgd(n_iter=10, **kw).fit(train)
    warm = sgd(n_iter=5, warm_start=True, **kw).fit(train)
    warm.fit(train)
    assert warm.n_iter_ == 10
    np.testing.assert_allclose(warm.user_factors_, ten.user_factors_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(warm.item_factors_, ten.item_factors_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(warm.history_["train_loss"], ten.history_["train_loss"],
                               rtol=1e-6)


def test_refit_without_warm_start_starts_over(planted):
    train, _ = planted
    model = sgd(n_iter=3).fit(train)
    first = model.item_factors_.copy()
    model.fit(train)
    np.testing.assert_array_equal(model.item_factors_, first)
    assert model.n_iter_ == 3


def test_divergence_raises_with_learning_rate_hint(planted):
    train, _ = planted
    with pytest.raises(FloatingPointError, match="learning_rate"):
        sgd(learning_rate=5.0, n_iter=20, init_scale=1.0).fit(train)


def test_no_biases_float64_and_predict(planted):
    train, test = planted
    model = sgd(fit_biases=False, dtype="float64", n_iter=20).fit(train)
    assert model.user_bias_ is None and model.user_factors_.dtype == np.float64
    pred = model.predict(test)
    assert np.isfinite(pred).all()
    np.testing.assert_allclose(pred[:5], np.einsum("ij,ij->i",
                                                   model.user_factors_[test.users[:5]],
                                                   model.item_factors_[test.items[:5]]))


def test_float32_and_float64_agree(planted):
    train, test = planted
    a = sgd(dtype="float32", n_iter=5).fit(train, eval_set=test)
    b = sgd(dtype="float64", n_iter=5).fit(train, eval_set=test)
    np.testing.assert_allclose(a.history_["eval_rmse"], b.history_["eval_rmse"], rtol=1e-3)


def test_transform_is_the_als_closed_form(planted):
    train, _ = planted
    model = sgd().fit(train)
    X = train.csr[:7]
    want = fold_in(X, model.item_factors_, model.item_bias_, model.global_mean_, model.reg,
                   model.reg, model.reg_exponent)["user_factors_"]
    np.testing.assert_array_equal(model.transform(X), want)


@pytest.mark.parametrize("scaling,exponent", [("count", 1.0), ("count", 0.5), ("none", 1.0)])
def test_sgd_minimises_the_als_objective(planted, scaling, exponent):
    # the per-rating L2 weights n ** (exponent - 1) make SGD's objective the ALS one: a long
    # run of small steps ends near the objective of exact ALS, and far below the start
    from tests import oracles

    train, _ = planted
    kw = dict(n_factors=4, reg=0.05 if scaling == "count" else 2.0, reg_scaling=scaling,
              reg_exponent=exponent, dtype="float64", random_state=0)
    als = fastmf.MatrixFactorization(n_iter=40, cg_steps=None, **kw).fit(train)
    sgd_fit = fastmf.MatrixFactorization(solver="sgd", lr_schedule="inverse", learning_rate=0.02,
                                         lr_decay=0.05, n_iter=100, **kw).fit(train)
    R, mask = train.csr.toarray(), train.csr.toarray() != 0
    e = exponent if scaling == "count" else 0.0

    def objective(m):
        return oracles.mf_objective(R, mask, m.user_factors_, m.item_factors_, m.user_bias_,
                                    m.item_bias_, m.global_mean_, kw["reg"], kw["reg"], e)

    start = objective(fastmf.MatrixFactorization(solver="sgd", n_iter=1, **kw).fit(train))
    assert als.history_["train_loss"][-1] == pytest.approx(objective(als), rel=1e-9)
    assert objective(sgd_fit) < 1.01 * objective(als) < 0.5 * start  # seen: within 0.25 %


def test_eval_set_with_unknown_users_falls_back_and_is_counted(planted):
    train, test = planted
    pairs = np.column_stack([test.users, test.items])
    pairs[:3, 0] = 10_000  # users the model never saw
    model = sgd(n_iter=2).fit(train, eval_set=(pairs, test.values))
    assert model.history_["eval_unknown"] == [3, 3]
    assert np.isfinite(model.history_["eval_rmse"]).all()


def test_early_stopping_keeps_best_iteration(planted):
    train, test = planted
    model = sgd(n_iter=30, learning_rate=0.05, reg=0.0, n_factors=32,
                early_stopping_rounds=2).fit(train, eval_set=test)
    assert model.best_iteration_ == int(np.argmin(model.history_["eval_rmse"])) + 1


def test_save_load_round_trip(planted, tmp_path):
    train, test = planted
    model = sgd(lr_schedule="adagrad", learning_rate=0.1).fit(train)
    model.save(tmp_path / "m.npz")
    loaded = fastmf.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(test), model.predict(test))
    assert loaded.sgd_seed_ == model.sgd_seed_
    np.testing.assert_array_equal(loaded.sgd_user_state_, model.sgd_user_state_)


def test_regressor_view(planted):
    train, test = planted
    X = np.column_stack([train.users, train.items])
    model = sgd(n_iter=20).fit(X, train.values)
    assert model.score(np.column_stack([test.users, test.items]), test.values) > 0.5


@pytest.mark.parametrize("kw, match", [
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": -1.0}, "learning_rate"),
    ({"momentum": 1.0}, "momentum"),
    ({"momentum": -0.1}, "momentum"),
    ({"batch_size": 0}, "batch_size"),
    ({"lr_schedule": "cosine"}, "lr_schedule"),
    ({"lr_decay": -1.0}, "lr_decay"),
    ({"lr_schedule": "adagrad", "momentum": 0.9}, "adagrad"),
])
def test_bad_parameters_raise(planted, kw, match):
    train, _ = planted
    with pytest.raises(ValueError, match=match):
        sgd(**kw).fit(train)


def test_bad_parameter_types_raise(planted):
    train, _ = planted
    with pytest.raises(TypeError, match="batch_size"):
        sgd(batch_size=2.5).fit(train)
    with pytest.raises(TypeError, match="learning_rate"):
        sgd(learning_rate="fast").fit(train)


def test_sgd_parameters_are_ignored_by_other_solvers(planted):
    train, _ = planted
    fastmf.MatrixFactorization(n_factors=2, n_iter=1, learning_rate=-1).fit(train)


@pytest.mark.slow
def test_movielens_100k_beats_surprise_published_rmse(ml100k_dir):
    data = fastmf.datasets.load_movielens("100k", path=ml100k_dir)
    train, test = fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)
    model = fastmf.MatrixFactorization(n_factors=64, solver="sgd", n_iter=20,
                                       learning_rate=0.01, reg=0.05, random_state=0)
    pred = model.fit(train).predict(test)
    assert fastmf.metrics.rmse(test.values, pred) < 0.934


def test_defaults_resolve_by_solver():
    p = fastmf.MatrixFactorization(solver="sgd")._check_params()
    assert (p["lr_schedule"], p["learning_rate"], p["init_scale"], p["n_iter"]) == \
        ("adagrad", 0.08, 0.03, 30)
    # a given rate, momentum or mini-batches keep the plain constant step (fastmf 0.1's)
    p = fastmf.MatrixFactorization(solver="sgd", learning_rate=0.02)._check_params()
    assert (p["lr_schedule"], p["learning_rate"]) == ("constant", 0.02)
    p = fastmf.MatrixFactorization(solver="sgd", momentum=0.9, batch_size=128)._check_params()
    assert (p["lr_schedule"], p["learning_rate"]) == ("constant", 0.01)
    als = fastmf.MatrixFactorization()._check_params()
    assert (als["n_iter"], als["init_scale"]) == (15, 0.1)
    assert fastmf.MatrixFactorization(solver="mcmc")._check_params()["n_iter"] == 200

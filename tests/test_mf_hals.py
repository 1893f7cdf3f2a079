import numpy as np
import pytest

import fastmf
from tests import oracles
from tests.conftest import needs_two_threads


@pytest.fixture(scope="module")
def planted():
    return fastmf.datasets.make_ratings(80, 60, 1500, rank=3, noise=0.05, discrete=False,
                                        random_state=0)


@pytest.fixture(scope="module", params=["tall", "wide"])
def either_shape(request, planted):
    """More users than items (entries streamed by user) and more items than users (by item)."""
    if request.param == "tall":
        return planted
    return fastmf.datasets.make_ratings(50, 90, 1500, rank=3, noise=0.05, discrete=False,
                                        random_state=1)


@pytest.mark.parametrize("scaling,exponent", [("count", 1.0), ("count", 0.75), ("none", 1.0)])
@pytest.mark.parametrize("fit_biases", [True, False])
def test_ccd_objective_never_increases_and_matches_oracle(either_shape, scaling, exponent,
                                                          fit_biases):
    planted = either_shape
    model = fastmf.MatrixFactorization(n_factors=4, solver="hals", n_iter=8, reg=0.1,
                                       reg_scaling=scaling, reg_exponent=exponent,
                                       fit_biases=fit_biases,
                                       dtype="float64", random_state=0).fit(planted)
    loss = np.array(model.history_["train_loss"])
    assert np.all(np.diff(loss) <= 1e-9 * loss[1:])
    R, mask = planted.csr.toarray(), planted.csr.toarray() != 0
    ub = model.user_bias_ if fit_biases else None
    ib = model.item_bias_ if fit_biases else None
    want = oracles.mf_objective(R, mask, model.user_factors_, model.item_factors_, ub, ib,
                                model.global_mean_, 0.1, 0.1,
                                exponent if scaling == "count" else 0.0)
    assert np.isclose(loss[-1], want, rtol=1e-9)


def test_ccd_recovers_planted_low_rank_like_als(planted):
    train, test = fastmf.model_selection.train_test_split(planted, random_state=0)
    rmse = {}
    for solver in ("als", "hals"):
        model = fastmf.MatrixFactorization(n_factors=3, solver=solver, n_iter=40, reg=0.02,
                                           random_state=0).fit(train)
        rmse[solver] = fastmf.metrics.rmse(test.values, model.predict(test))
    assert rmse["hals"] < 0.25
    assert rmse["hals"] < 1.1 * rmse["als"]


@needs_two_threads
def test_ccd_same_result_for_any_thread_count(either_shape):
    fits = [fastmf.MatrixFactorization(n_factors=4, solver="hals", n_iter=3, n_threads=t,
                                       random_state=0).fit(either_shape) for t in (1, 2)]
    np.testing.assert_array_equal(fits[0].user_factors_, fits[1].user_factors_)
    np.testing.assert_array_equal(fits[0].item_bias_, fits[1].item_bias_)


def test_ccd_float32_agrees_with_float64(planted):
    a, b = (fastmf.MatrixFactorization(n_factors=4, solver="hals", n_iter=5, dtype=dt,
                                       random_state=0).fit(planted) for dt in ("float32",
                                                                               "float64"))
    np.testing.assert_allclose(a.history_["train_loss"], b.history_["train_loss"], rtol=1e-3)


def test_ccd_warm_start_5_plus_5_equals_10(planted):
    ten = fastmf.MatrixFactorization(n_factors=4, solver="hals", n_iter=10, dtype="float64",
                                     random_state=0).fit(planted)
    warm = fastmf.MatrixFactorization(n_factors=4, solver="hals", n_iter=5, dtype="float64",
                                      random_state=0, warm_start=True)
    warm.fit(planted).fit(planted)
    np.testing.assert_allclose(warm.user_factors_, ten.user_factors_, rtol=1e-10, atol=1e-12)
    assert warm.n_iter_ == 10


@pytest.mark.parametrize("n_items", [2, 6])  # entries streamed by user / by item
def test_ccd_handles_users_and_items_without_ratings(n_items):
    data = fastmf.Ratings([0, 0, 2, 2], [0, 1, 0, 1], [4.0, 3.0, 5.0, 1.0], n_users=4,
                          n_items=n_items)
    model = fastmf.MatrixFactorization(n_factors=2, solver="hals", n_iter=3,
                                       random_state=0).fit(data)
    np.testing.assert_array_equal(model.user_factors_[[1, 3]], 0)
    np.testing.assert_array_equal(model.item_factors_[2:], 0)
    np.testing.assert_array_equal(model.item_bias_[2:], 0)
    assert np.isfinite(model.predict([1, 3], [0, 1])).all()

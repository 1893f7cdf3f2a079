"""Bayesian MF: MatrixFactorization(solver="mcmc")."""

import numpy as np
import pytest

import fastmf
from tests.conftest import needs_two_threads


@pytest.fixture(scope="module")
def split():
    data = fastmf.datasets.make_ratings(150, 100, 4000, rank=3, noise=0.5, discrete=False,
                                        random_state=0)
    return fastmf.model_selection.train_test_split(data, test_size=0.2, random_state=0)


def rmse(model, test):
    return float(np.sqrt(np.mean((model.predict(test) - test.values) ** 2)))


def test_posterior_mean_beats_map_als(split):
    train, test = split
    mc = fastmf.MatrixFactorization(n_factors=8, solver="mcmc", n_iter=80, burn_in=20,
                                    random_state=0).fit(train, eval_set=test)
    als = fastmf.MatrixFactorization(n_factors=8, n_iter=15, random_state=0).fit(train)
    assert rmse(mc, test) < rmse(als, test)
    # 60 kept samples side by side; the eval history scores the running posterior mean
    assert mc.user_factors_.shape == (150, 60 * 8) and mc.item_factors_.shape == (100, 480)
    assert mc.history_["eval_rmse"][-1] == pytest.approx(rmse(mc, test), rel=1e-5)
    assert len(mc.history_["train_loss"]) == 80


def test_factor_columns_are_scaled_samples(split):
    # with one kept sample the model is that sample itself; with more, the product of the
    # stacked columns averages the per-sample products
    train, test = split
    one = fastmf.MatrixFactorization(n_factors=4, solver="mcmc", n_iter=6, burn_in=5,
                                     random_state=1).fit(train)
    two = fastmf.MatrixFactorization(n_factors=4, solver="mcmc", n_iter=7, burn_in=5,
                                     random_state=1).fit(train)
    U1, V1 = one.user_factors_, one.item_factors_
    U2, V2 = two.user_factors_, two.item_factors_
    np.testing.assert_allclose(U2[:, :4] * np.sqrt(2), U1, rtol=1e-5, atol=1e-6)
    second = (U2[:, 4:] @ V2[:, 4:].T) * 2
    np.testing.assert_allclose(U2 @ V2.T, (U1 @ V1.T + second) / 2, rtol=1e-4, atol=1e-5)


def test_thin_keeps_every_thin_th_sample_of_the_same_chain(split):
    # thin=1 holds samples 1..7 side by side (scaled by 1/sqrt(7)); thin=3 must hold samples
    # 3 and 6 of the same chain (scaled by 1/sqrt(2)), and stay their posterior mean through
    # the 7th sweep, which it does not keep (the eval history ends on the final model)
    train, test = split
    kw = dict(n_factors=3, solver="mcmc", n_iter=9, burn_in=2, random_state=2)
    full = fastmf.MatrixFactorization(**kw).fit(train)
    thin = fastmf.MatrixFactorization(**kw, thin=3).fit(train, eval_set=test)
    assert thin.user_factors_.shape == (150, 2 * 3) and thin.item_factors_.shape == (100, 6)
    U = full.user_factors_.reshape(150, 7, 3)[:, [2, 5]] * np.sqrt(7 / 2)
    V = full.item_factors_.reshape(100, 7, 3)[:, [2, 5]] * np.sqrt(7 / 2)
    np.testing.assert_allclose(thin.user_factors_, U.reshape(150, 6), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(thin.item_factors_, V.reshape(100, 6), rtol=1e-5, atol=1e-6)
    assert thin.history_["eval_rmse"][-1] == pytest.approx(rmse(thin, test), rel=1e-6)


@needs_two_threads
def test_chain_is_the_same_for_any_thread_count(split):
    train, _ = split
    fits = [fastmf.MatrixFactorization(n_factors=3, solver="mcmc", n_iter=5, burn_in=2,
                                       n_threads=t, random_state=3).fit(train) for t in (1, 2)]
    np.testing.assert_array_equal(fits[0].user_factors_, fits[1].user_factors_)
    np.testing.assert_array_equal(fits[0].item_bias_, fits[1].item_bias_)


def test_recommend_uses_posterior_mean(split):
    train, _ = split
    model = fastmf.MatrixFactorization(n_factors=3, solver="mcmc", n_iter=8, burn_in=3,
                                       random_state=0).fit(train)
    items, scores = model.recommend([0, 1], n=5, exclude=train)
    np.testing.assert_allclose(scores, model.predict(np.repeat([0, 1], 5), items.ravel())
                               .reshape(2, 5), rtol=1e-5)


@pytest.mark.parametrize("params, match", [
    (dict(burn_in=10, n_iter=10), "burn_in must be < n_iter"),
    (dict(burn_in=-1), "burn_in must be >= 0"),
    (dict(fit_biases=False, n_iter=5), "fit_biases must be True"),
    (dict(thin=0), "thin must be >= 1"),
    (dict(n_iter=10, burn_in=4, thin=7), "keeps no sample of the 6 after burn-in"),
])
def test_bad_parameters(split, params, match):
    train, _ = split
    with pytest.raises(ValueError, match=match):
        fastmf.MatrixFactorization(solver="mcmc", **params).fit(train)


def test_early_stopping_is_refused(split):
    train, test = split
    with pytest.raises(ValueError, match="not used with solver='mcmc'"):
        fastmf.MatrixFactorization(solver="mcmc", early_stopping_rounds=2).fit(
            train, eval_set=test)

"""One vocabulary: the same names mean the same thing in every estimator; old names warn.

The rank is ``n_factors``, iterations ``n_iter`` (+ ``tol``), the initial scale
``init_scale``, exact vs CG rows ``cg_steps``; the names replaced keep working until fastmf
0.3 with a FutureWarning, and give the same model as the new ones.
"""

import inspect
import warnings

import numpy as np
import pytest

import fastmf

RATINGS = fastmf.datasets.make_ratings(60, 40, 900, random_state=0)
COUNTS = fastmf.datasets.make_counts(60, 40, rank=3, random_state=0)

RENAMED = [
    (fastmf.MatrixFactorization, dict(init_std=0.3), dict(init_scale=0.3), RATINGS),
    (fastmf.SVDpp, dict(init_std=0.3), dict(init_scale=0.3), RATINGS),
    (fastmf.BPR, dict(init_std=0.3, n_threads=1), dict(init_scale=0.3, n_threads=1), COUNTS),
    (fastmf.NMF, dict(n_components=3, max_iter=7, tol=0), dict(n_factors=3, n_iter=7, tol=0),
     COUNTS),
    (fastmf.PureSVD, dict(n_components=3), dict(n_factors=3), COUNTS),
    (fastmf.ImplicitALS, dict(solver="cg"), dict(cg_steps=3), COUNTS),
    (fastmf.ImplicitALS, dict(solver="cholesky"), dict(cg_steps=None), COUNTS),
]


@pytest.mark.parametrize("cls, old, new, data", RENAMED,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_old_names_warn_and_give_the_same_model(cls, old, new, data):
    base = dict(random_state=0)
    if "n_iter" in inspect.signature(cls).parameters and "n_iter" not in new:
        base["n_iter"] = 3
    with pytest.warns(FutureWarning, match="fastmf 0.3"):
        a = cls(**base, **old).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        b = cls(**base, **new).fit(data)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)


def test_fm_init_std_is_init_scale():
    X = fastmf.fm_features.FMEncoder().fit_transform(RATINGS)
    with pytest.warns(FutureWarning, match="init_std"):
        a = fastmf.FMRegressor(init_std=0.2, n_iter=3, random_state=0).fit(X, RATINGS.values)
    b = fastmf.FMRegressor(init_scale=0.2, n_iter=3, random_state=0).fit(X, RATINGS.values)
    np.testing.assert_array_equal(a.factors_, b.factors_)


ESTIMATORS = [fastmf.MatrixFactorization, fastmf.SVDpp, fastmf.ImplicitALS, fastmf.BPR,
              fastmf.WARP, fastmf.NMF, fastmf.PureSVD, fastmf.FMRegressor, fastmf.FMClassifier,
              fastmf.NCF, fastmf.AutoRec, fastmf.ResidualMF]
#: The rank's name where it is not n_factors: AutoRec's is the hidden layer's size.
RANK = {fastmf.AutoRec: "n_hidden"}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_factor_model_speaks_the_same_names(cls):
    params = inspect.signature(cls).parameters
    assert list(params)[0] == RANK.get(cls, "n_factors")
    iterative = cls is not fastmf.PureSVD
    assert ("n_iter" in params and "tol" in params) == iterative
    for name in ("n_components", "max_iter", "init_std"):  # only as deprecated aliases
        assert name not in params or params[name].default == "deprecated"


@pytest.mark.parametrize("cls, data", [(fastmf.MatrixFactorization, RATINGS),
                                       (fastmf.ImplicitALS, COUNTS), (fastmf.BPR, COUNTS),
                                       (fastmf.SVDpp, RATINGS), (fastmf.NMF, COUNTS),
                                       (fastmf.NCF, COUNTS), (fastmf.AutoRec, RATINGS)],
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_train_loss_is_the_objective_and_tol_stops_early(cls, data):
    kw = dict(n_factors=3, random_state=0) if cls is not fastmf.AutoRec else \
        dict(n_hidden=3, reg=1.0, random_state=0)
    if cls is fastmf.BPR:
        kw["n_threads"] = 1
    if cls is fastmf.NCF:  # one fit (NeuMF pre-trains two more, each stopped by the same tol)
        kw["model"] = "gmf"
    full = cls(n_iter=40, tol=0.0, **kw).fit(data)
    assert len(full.history_["train_loss"]) == full.n_iter_ == 40
    loss = np.array(full.history_["train_loss"])
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    # with tol the fit stops at the first iteration whose relative decrease is <= tol
    decrease = (loss[:-1] - loss[1:]) / np.abs(loss[1:])
    tol = float(np.quantile(decrease, 0.5))
    stopped = cls(n_iter=40, tol=tol, **kw).fit(data)
    first = int(np.argmax(decrease <= tol)) + 2
    assert stopped.n_iter_ == first
    got = np.array(stopped.history_["train_loss"])
    if cls is fastmf.MatrixFactorization:  # the final exact user sweep (CG rows' default)
        # rewrites the returned iteration's entry: it can only lower it
        assert got[-1] <= loss[first - 1] * (1 + 1e-6)
        got, loss = got[:-1], loss[:-1]
    np.testing.assert_array_equal(got, loss[:len(got)])


def test_one_not_fitted_error_everywhere():
    from sklearn.exceptions import NotFittedError as SklearnNotFitted

    for cls in ESTIMATORS + [fastmf.Popularity]:
        with pytest.raises(fastmf.NotFittedError) as info:
            cls().predict(np.array([[0, 0]]))
        assert isinstance(info.value, (SklearnNotFitted, ValueError, AttributeError))

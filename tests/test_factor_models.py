"""Behaviour every latent-factor model shares: one parametrised list, one set of checks.

To add a model, append a ``Case`` to ``MODELS``: a factory building a small, quickly fitted
instance, the kind of data it learns from (``"explicit"`` ratings or ``"implicit"`` positives),
and how exactly folding a training user back in reproduces its row (``fold_in_rtol``; ``None``
when fold-in only approximates it, e.g. SGD with items frozen, then its ranking is checked).
``widen`` is the parameter change that gives a model wider factors (for warm starts).
"""

import copy
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf


@dataclass
class Case:
    name: str
    make: Callable
    data: str = "implicit"
    fold_in_rtol: float = None
    personal: bool = True  # False: the same list for everyone (the popularity baseline)
    widen: dict = None  # default: one more n_factors


MODELS = [
    Case("MatrixFactorization-als",
         lambda: fastmf.MatrixFactorization(4, solver="als", n_iter=10, reg=0.01,
                                            random_state=0, n_threads=1),
         data="explicit", fold_in_rtol=1e-4),
    # reg 1: with reg 0.1 the model fits the withheld item's own zero for some seeds (every
    # unobserved cell is a training negative in implicit ALS) and the test would check one
    # trajectory; at 1 every seed tried recommends it, and CG converges to within 0.2% of the
    # exact fold-in in 30 iterations.
    Case("ImplicitALS-cholesky",
         lambda: fastmf.ImplicitALS(4, cg_steps=None, n_iter=15, reg=1.0, alpha=5.0,
                                    random_state=0, n_threads=1),
         fold_in_rtol=1e-4),
    Case("ImplicitALS-cg",
         lambda: fastmf.ImplicitALS(4, n_iter=30, reg=1.0, alpha=5.0,
                                    random_state=0, n_threads=1),
         fold_in_rtol=0.02),
    Case("BPR",
         lambda: fastmf.BPR(4, n_iter=60, learning_rate=0.1, reg=0.001, random_state=0,
                            n_threads=1)),
    Case("WARP",
         lambda: fastmf.WARP(4, n_iter=60, learning_rate=0.02, reg=0.05, random_state=0,
                             n_threads=1)),
    Case("MatrixFactorization-sgd",
         lambda: fastmf.MatrixFactorization(4, solver="sgd", n_iter=60, learning_rate=0.05,
                                            reg=0.01, random_state=0, n_threads=1),
         data="explicit"),
    Case("MatrixFactorization-mcmc",
         lambda: fastmf.MatrixFactorization(4, solver="mcmc", n_iter=60, random_state=0,
                                            n_threads=1),
         data="explicit"),
    Case("SVDpp",
         lambda: fastmf.SVDpp(4, n_iter=60, learning_rate=0.05, reg=0.01, random_state=0,
                              n_threads=1),
         data="explicit"),
    Case("Popularity", lambda: fastmf.Popularity(n_threads=1), personal=False),
    Case("MatrixFactorization-hals",
         lambda: fastmf.MatrixFactorization(4, solver="hals", n_iter=30, reg=0.01,
                                            random_state=0, n_threads=1),
         data="explicit"),
    Case("NMF-frobenius-hals",
         lambda: fastmf.NMF(4, n_iter=200, tol=0, random_state=0, n_threads=1)),
    Case("NMF-poisson-mu",
         lambda: fastmf.NMF(4, loss="poisson", n_iter=200, tol=0, random_state=0,
                            n_threads=1)),
    Case("PureSVD",
         lambda: fastmf.PureSVD(3, random_state=0, n_threads=1), fold_in_rtol=1e-4),
    Case("NCF-gmf",
         lambda: fastmf.NCF(2, model="gmf", n_iter=60, learning_rate=0.01, batch_size=32,
                            random_state=0, n_threads=1)),
    Case("NCF-mlp",
         lambda: fastmf.NCF(model="mlp", layers=(16, 8), n_iter=40, learning_rate=0.02,
                            reg=1e-5, batch_size=32, random_state=0, n_threads=1),
         widen={"layers": (18, 8)}),
    Case("NCF-neumf",  # pre-trained (the default)
         lambda: fastmf.NCF(4, layers=(8, 4), n_iter=30, learning_rate=0.01, reg=0.001,
                            batch_size=32, random_state=0, n_threads=1)),
    Case("AutoRec",
         lambda: fastmf.AutoRec(8, reg=0.1, n_iter=60, random_state=0, n_threads=1),
         data="explicit"),
    Case("AutoRec-user",
         lambda: fastmf.AutoRec(8, kind="user", reg=0.1, n_iter=60, random_state=0,
                                n_threads=1),
         data="explicit", fold_in_rtol=1e-5),  # the encoder: exactly the user's code
    # not an inner-product model: the checks below use the public API only
    Case("ResidualMF",
         lambda: fastmf.ResidualMF(4, hidden_layers=(8,), n_iter=60, learning_rate=0.05,
                                   batch_size=16, reg=0.01, random_state=0, n_threads=1),
         data="explicit"),
]

N_USERS, N_ITEMS = 40, 20


def checkerboard(kind):
    """Two user groups x two item groups; user u prefers the items of its own group.

    Every user interacts with all own-group items except one (the withheld item, returned for
    each user). Implicit data stores the own-group items only; explicit data rates them 5 and
    also rates all but three other-group items 1.
    """
    rng = np.random.default_rng(0)
    half = N_ITEMS // 2
    rows, cols, vals, withheld = [], [], [], []
    for u in range(N_USERS):
        own = np.arange(half) + (half if u % 2 else 0)
        other = np.arange(half) + (0 if u % 2 else half)
        held = own[u % half]
        withheld.append(held)
        liked = own[own != held]
        rows += [u] * len(liked)
        cols += liked.tolist()
        vals += [5.0] * len(liked)
        if kind == "explicit":
            rated = rng.permutation(other)[3:]
            rows += [u] * len(rated)
            cols += rated.tolist()
            vals += [1.0] * len(rated)
    X = sp.csr_matrix((vals, (rows, cols)), shape=(N_USERS, N_ITEMS))
    return X, np.array(withheld)


@pytest.fixture(scope="module", params=MODELS, ids=lambda c: c.name)
def fitted(request):
    case = request.param
    X, withheld = checkerboard(case.data)
    return case, case.make().fit(X), X, withheld


def test_recommends_the_withheld_item(fitted):
    case, model, X, withheld = fitted
    if not case.personal:  # the baseline: the most popular item each user has not seen
        items, _ = model.recommend(np.arange(N_USERS), n=1, exclude=X)
        counts = np.diff(X.tocsc().indptr).astype(float)
        for u in range(N_USERS):
            unseen = np.setdiff1d(np.arange(N_ITEMS), X[u].indices)
            assert items[u, 0] == unseen[np.argmax(counts[unseen])]
        return
    items, _ = model.recommend(np.arange(N_USERS), n=1, exclude=X)
    assert np.mean(items[:, 0] == withheld) >= 0.9, case.name


def test_exclusions_never_leak_seen_items(fitted):
    _, model, X, _ = fitted
    items, scores = model.recommend(np.arange(N_USERS), n=N_ITEMS, exclude=X)
    for u in range(N_USERS):
        seen = set(X[u].indices)
        got = items[u][items[u] >= 0]
        assert not seen & set(got.tolist())
        assert len(got) == N_ITEMS - len(seen)  # every other item, then -1 padding
        assert np.all(np.isneginf(scores[u][items[u] < 0]))
    only = np.array([1, 3, 5])
    items, _ = model.recommend(np.arange(N_USERS), n=3, exclude=X, items=only,
                               filter_items=[3])
    assert set(items[items >= 0].tolist()) <= {1, 5}


def test_batch_recommend_equals_one_by_one(fitted):
    _, model, X, _ = fitted
    users = np.array([5, 0, 17, 5, 39])
    batch_items, batch_scores = model.recommend(users, n=6, exclude=X)
    for r, u in enumerate(users):
        items, scores = model.recommend(int(u), n=6, exclude=X)
        np.testing.assert_allclose(scores, batch_scores[r], rtol=1e-5, atol=1e-6)
        # same items, except where float32 rounding reorders near-ties
        differ = items != batch_items[r]
        model_scores = model.predict(np.full(differ.sum(), u), items[differ])
        other_scores = model.predict(np.full(differ.sum(), u), batch_items[r][differ])
        np.testing.assert_allclose(model_scores, other_scores, atol=1e-5)


def test_fold_in_of_a_training_user_reproduces_its_row(fitted):
    case, model, X, _ = fitted
    users = [0, 1, 7]
    W = model.transform(X[users])
    assert W.shape == (3, model.user_factors_.shape[1])
    if case.fold_in_rtol is not None:
        np.testing.assert_allclose(W, model.user_factors_[users],
                                   rtol=case.fold_in_rtol,
                                   atol=case.fold_in_rtol * np.abs(model.user_factors_).max())
    else:  # approximate fold-in: a user folded in from a trained user's items ranks the
        # items like the trained user
        m = copy.deepcopy(model)
        new = np.arange(N_USERS, N_USERS + len(users))
        m.partial_fit_users(new, X[users])
        items = np.arange(N_ITEMS)
        for r, u in enumerate(users):
            a = m.predict(np.full(N_ITEMS, new[r]), items)
            b = model.predict(np.full(N_ITEMS, u), items)
            assert np.corrcoef(a, b)[0, 1] > 0.9, case.name


def test_save_load_gives_identical_predictions(fitted, tmp_path):
    _, model, X, _ = fitted
    path = os.path.join(tmp_path, "model.npz")
    model.save(path)
    loaded = fastmf.load(path)
    users, items = np.arange(N_USERS), np.arange(N_USERS) % N_ITEMS
    np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
    a, b = loaded.recommend(users, n=5, exclude=X), model.recommend(users, n=5, exclude=X)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(loaded.transform(X[:2]), model.transform(X[:2]))


def test_recalculate_user_and_recommend_with_user_items(fitted):
    _, model, X, _ = fitted
    W = model.recalculate_user([3, 4], X[[3, 4]])
    np.testing.assert_array_equal(W, model.transform(X[[3, 4]]))
    assert model.recalculate_user(3, X[3]).shape == (model.user_factors_.shape[1],)
    # an unknown user (index past the model) recommended from its interactions
    items, scores = model.recommend([N_USERS + 5, 2], n=4, user_items=X[[3, 2]])
    assert not set(items[0].tolist()) & set(X[3].indices.tolist())
    with pytest.raises(ValueError, match="exclude=None"):
        model.recommend([0], user_items=X[[0]], exclude=X)
    with pytest.raises(ValueError, match="user_items must have shape"):
        model.recommend([0, 1], user_items=X[[0]])


def test_partial_fit_users_and_items_grow_the_factors(fitted, tmp_path):
    case, model, X, _ = fitted
    path = os.path.join(tmp_path, "m.npz")
    model.save(path)
    m = fastmf.load(path)  # a copy: the fixture stays untouched
    k = m.user_factors_.shape[1]
    m.partial_fit_users([N_USERS + 1, 0], X[[3, 0]])
    assert m.user_factors_.shape == (N_USERS + 2, k) and m.n_users_ == N_USERS + 2
    np.testing.assert_array_equal(m.user_factors_[N_USERS], 0)
    if case.fold_in_rtol is not None:  # exact fold-in: the stored row is the folded-in one
        np.testing.assert_allclose(m.user_factors_[N_USERS + 1], m.transform(X[[3]])[0],
                                   rtol=1e-5, atol=1e-6)
        a = m.recommend(N_USERS + 1, n=3, exclude=sp.vstack([X, X[[3, 3]]]).tocsr())[0]
        b = m.recommend(N_USERS + 7, n=3, user_items=X[3])[0]
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(m.user_factors_).all()
    item_users = sp.hstack([X.T.tocsr()[[2]], sp.csr_matrix((1, 2))]).tocsr()  # 42 users now
    m.partial_fit_items([N_ITEMS], item_users)
    assert m.item_factors_.shape == (N_ITEMS + 1, k) and m.n_items_ == N_ITEMS + 1
    if getattr(m, "item_bias_", None) is not None:  # fitted with the factors
        assert m.item_bias_.shape == (N_ITEMS + 1,) and np.isfinite(m.item_bias_).all()
    assert np.isfinite(m.item_factors_).all()
    with pytest.raises(ValueError, match="must not repeat"):
        m.partial_fit_users([1, 1], X[[1, 1]])
    with pytest.raises(ValueError, match="item_users must have shape"):
        m.partial_fit_items([0], X[[0]])


@pytest.mark.parametrize("case", [c for c in MODELS if "warm_start" in c.make().get_params()
                                  and c.make().get_params().get("solver") != "mcmc"],
                         ids=lambda c: c.name)
def test_warm_start_rejects_other_shape_factors_or_dtype(case):
    X, _ = checkerboard(case.data)
    model = case.make().set_params(warm_start=True).fit(X)
    original = model.get_params()
    before = model.item_factors_.copy()
    rank = "n_hidden" if "n_hidden" in original else "n_factors"
    changes = [(X[:, :-1], {}), (X, case.widen or {rank: original[rank] + 1}),
               (X, {"dtype": "float64"})]
    for data, params in changes:
        with pytest.raises(ValueError, match="warm_start needs data of the same shape"):
            model.set_params(**params).fit(data)
        model.set_params(**original)
    np.testing.assert_array_equal(model.item_factors_, before)
    model.fit(X)  # the same data continues
    assert model.n_iter_ == 2 * case.make().n_iter

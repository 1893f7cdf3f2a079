"""Every public method of every estimator, called with only its required arguments.

The other tests pass most optional arguments explicitly, which is how ``recommend(users)``
with the default ``exclude=None`` came to fail for every model unnoticed. Here each estimator
is fitted with its defaults on small data, except that ``n_iter`` and ``n_factors`` are kept
small for speed (every other parameter, the
random seed included, is the default). Each method is then called with its required
arguments only, and its result is checked for sense: shapes, finite values, scores sorted,
items in range, probabilities that sum to one, a model that survives save and load.
A test also fails when an estimator gains a public method this module does not call.
"""

import contextlib
import copy
import inspect
import warnings

import numpy as np
import pytest

import fastmf

K = 4
DATA = fastmf.datasets.make_ratings(60, 40, 900, random_state=0)
N_USERS, N_ITEMS = DATA.shape
PAIRS = np.column_stack([DATA.users, DATA.items])

FACTOR_MODELS = {
    "MatrixFactorization-" + solver: (fastmf.MatrixFactorization,
                                      dict(n_factors=K, solver=solver, n_iter=4))
    for solver in ("als", "hals", "sgd", "mcmc")
}
FACTOR_MODELS.update({
    "SVDpp": (fastmf.SVDpp, dict(n_factors=K, n_iter=4)),
    "ImplicitALS": (fastmf.ImplicitALS, dict(n_factors=K, n_iter=4)),
    "BPR": (fastmf.BPR, dict(n_factors=K, n_iter=4)),
    "WARP": (fastmf.WARP, dict(n_factors=K, n_iter=4)),
    "NMF": (fastmf.NMF, dict(n_factors=K, n_iter=20)),
    "PureSVD": (fastmf.PureSVD, dict(n_factors=K)),
    "Popularity": (fastmf.Popularity, dict()),
    **{f"NCF-{model}": (fastmf.NCF, dict(n_factors=K, model=model, n_iter=2))
       for model in ("gmf", "mlp", "neumf")},
    "AutoRec": (fastmf.AutoRec, dict(n_hidden=K, n_iter=4)),
})
#: Recommenders that are not inner-product models (no factors to compare by cosine)
RECOMMENDERS = {"ResidualMF": (fastmf.ResidualMF, dict(n_factors=K, n_iter=2))}
FMS = {f"{cls.__name__}-{solver}": (cls, dict(n_factors=K, solver=solver, n_iter=12))
       for cls in (fastmf.FMRegressor, fastmf.FMClassifier) for solver in ("als", "sgd", "mcmc")}

#: scikit-learn's parameter and metadata-routing API, not fastmf's to test here
INHERITED = {"get_params", "set_params", "get_metadata_routing"}


def public_methods(cls):
    return {name for name in dir(cls) if not name.startswith("_")
            and callable(getattr(cls, name)) and name not in INHERITED
            and not (name.startswith("set_") and name.endswith("_request"))}


def required_args(method):
    """Names of the parameters a call must pass (no default, not *args / **kwargs)."""
    return [p.name for p in inspect.signature(method).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                   p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


@contextlib.contextmanager
def quiet():
    """Silence the warnings small data and few iterations provoke (convergence, BLAS)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module", params=list(FACTOR_MODELS))
def fitted(request):
    cls, params = FACTOR_MODELS[request.param]
    with quiet():
        return request.param, cls(**params).fit(DATA)


def check_ranked(items, scores, n, n_items, excluded=()):
    assert items.shape == scores.shape == (n,)
    assert np.all((items >= 0) & (items < n_items))
    assert len(set(items.tolist())) == n
    assert not set(items.tolist()) & set(excluded)
    assert np.all(np.isfinite(scores))
    assert np.all(scores[:-1] >= scores[1:])


def test_factor_model_methods_with_required_arguments_only(fitted, tmp_path):
    key, m = fitted
    called = set()
    assert {"recommend", "transform"} <= public_methods(type(m))

    # --- recommend(users): the default exclude=None, n=10
    assert required_args(type(m).recommend) == ["self", "users"]
    items, scores = m.recommend(3)
    check_ranked(items, scores, 10, N_ITEMS)
    items, scores = m.recommend([0, 1, 2])
    assert items.shape == scores.shape == (3, 10)
    for row in range(3):
        check_ranked(items[row], scores[row], 10, N_ITEMS)
    # the scores are the model's predictions of those pairs
    np.testing.assert_allclose(scores[0], m.predict(np.zeros(10, int), items[0]), rtol=1e-4,
                               atol=1e-4)
    called.add("recommend")

    for method, n_rows in (("similar_items", N_ITEMS), ("similar_users", N_USERS)):
        if method not in public_methods(type(m)):  # a neural model: no factor similarity
            continue
        assert required_args(getattr(type(m), method))[1:] == [method.split("_")[1]]
        ids, sims = getattr(m, method)(5)
        check_ranked(ids, sims, 10, n_rows, excluded=[5])
        assert np.all(np.abs(sims) <= 1 + 1e-5)
        called.add(method)

    pred = m.predict(PAIRS[:50])
    assert pred.shape == (50,) and np.all(np.isfinite(pred))
    assert np.isfinite(m.score(PAIRS, DATA.values)) and m.score(PAIRS, DATA.values) <= 1
    called |= {"predict", "score"}

    k = m.item_factors_.shape[1]
    W = m.transform(DATA.csr[:5])
    assert W.shape == (5, k) and np.all(np.isfinite(W))
    called.add("transform")
    w = m.recalculate_user(2, DATA.csr[2])
    assert w.shape == (k,) and np.all(np.isfinite(w))
    called.add("recalculate_user")

    grown = copy.deepcopy(m).partial_fit_users([N_USERS], DATA.csr[:1])
    assert grown.user_factors_.shape == (N_USERS + 1, k) and grown.n_users_ == N_USERS + 1
    check_ranked(*grown.recommend(N_USERS), 10, N_ITEMS)
    grown = copy.deepcopy(m).partial_fit_items([N_ITEMS], DATA.csc[:, :1].T.tocsr())
    assert grown.item_factors_.shape == (N_ITEMS + 1, k) and grown.n_items_ == N_ITEMS + 1
    assert np.all(np.isfinite(grown.item_factors_))
    called |= {"partial_fit_users", "partial_fit_items"}

    path = tmp_path / "model.npz"
    m.save(path)
    loaded = fastmf.load(path)
    np.testing.assert_array_equal(loaded.predict(PAIRS[:50]), pred)
    np.testing.assert_array_equal(loaded.recommend(3)[0], m.recommend(3)[0])
    called.add("save")

    if "inverse_transform" in public_methods(type(m)):
        R = m.inverse_transform(W)
        assert R.shape == (5, N_ITEMS) and np.all(R >= 0)
        called.add("inverse_transform")

    cls, params = FACTOR_MODELS[key]
    with quiet():
        U = cls(**params).fit_transform(DATA)
    assert U.shape == (N_USERS, k) and np.all(np.isfinite(U))
    called |= {"fit", "fit_transform"}
    if hasattr(type(m), "components_"):
        assert m.components_.shape == (N_ITEMS, k)
    assert called == public_methods(type(m)), "a public method is not called here"


@pytest.mark.parametrize("key", list(RECOMMENDERS))
def test_recommender_methods_with_required_arguments_only(key, tmp_path):
    cls, params = RECOMMENDERS[key]
    with quiet():
        m = cls(**params).fit(DATA)
    assert required_args(type(m).recommend) == ["self", "users"]
    items, scores = m.recommend(3)
    check_ranked(items, scores, 10, N_ITEMS)
    np.testing.assert_allclose(scores, m.set_params(clip=False).predict(np.full(10, 3), items),
                               rtol=1e-4, atol=1e-4)
    m.set_params(clip=True)
    assert m.recommend([0, 1, 2])[0].shape == (3, 10)
    pred = m.predict(PAIRS[:50])
    assert pred.shape == (50,) and np.all(np.isfinite(pred))
    assert np.isfinite(m.score(PAIRS, DATA.values)) and m.score(PAIRS, DATA.values) <= 1
    W = m.transform(DATA.csr[:5])
    assert W.shape == (5, K) and np.all(np.isfinite(W))
    assert m.recalculate_user(2, DATA.csr[2]).shape == (K,)
    grown = copy.deepcopy(m).partial_fit_users([N_USERS], DATA.csr[:1])
    check_ranked(*grown.recommend(N_USERS), 10, N_ITEMS)
    grown = copy.deepcopy(m).partial_fit_items([N_ITEMS], DATA.csc[:, :1].T.tocsr())
    assert grown.n_items_ == N_ITEMS + 1 and np.all(np.isfinite(grown.predict([0], [N_ITEMS])))
    path = tmp_path / "model.npz"
    m.save(path)
    np.testing.assert_array_equal(fastmf.load(path).predict(PAIRS[:50]), pred)
    with quiet():
        U = cls(**params).fit_transform(DATA)
    assert U.shape == (N_USERS, K)
    assert public_methods(cls) == {"recommend", "predict", "score", "transform", "fit",
                                   "recalculate_user", "partial_fit_users",
                                   "partial_fit_items", "save", "fit_transform"}, \
        "a public method is not called here"


@pytest.mark.parametrize("key", list(FMS))
def test_fm_methods_with_required_arguments_only(key, tmp_path):
    cls, params = FMS[key]
    enc = fastmf.fm_features.FMEncoder().fit(DATA)
    X = enc.transform(DATA)
    y = DATA.values if cls is fastmf.FMRegressor else np.where(DATA.values > 3, "like", "no")
    with quiet():
        model = cls(**params).fit(X, y)
    called = {"fit"}
    pred = model.predict(X[:30])
    assert pred.shape == (30,)
    if cls is fastmf.FMRegressor:
        assert np.all(np.isfinite(pred))
    else:
        assert set(pred.tolist()) <= {"like", "no"}
        proba = model.predict_proba(X[:30])
        assert proba.shape == (30, 2) and np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1)
        np.testing.assert_allclose(np.exp(model.predict_log_proba(X[:30])), proba, atol=1e-12)
        d = model.decision_function(X[:30])
        assert d.shape == (30,) and np.all(np.isfinite(d))
        np.testing.assert_array_equal(d > 0, proba[:, 1] > 0.5)
        called |= {"predict_proba", "predict_log_proba", "decision_function"}
    score = model.score(X, y)
    assert np.isfinite(score) and score <= 1
    called |= {"predict", "score"}
    path = tmp_path / "fm.npz"
    model.save(path)
    np.testing.assert_array_equal(fastmf.load(path).predict(X[:30]), pred)
    called.add("save")
    assert called == public_methods(cls), "a public method is not called here"


def test_every_public_estimator_is_covered():
    estimators = {name for name in fastmf.__all__
                  if inspect.isclass(getattr(fastmf, name))
                  and hasattr(getattr(fastmf, name), "fit")}
    covered = {cls.__name__ for cls, _ in [*FACTOR_MODELS.values(), *FMS.values(),
                                           *RECOMMENDERS.values()]}
    assert estimators <= covered, estimators - covered

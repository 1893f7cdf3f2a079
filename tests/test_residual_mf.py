import copy
import os

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from tests import oracles
from tests.conftest import needs_two_threads

DATA = fastmf.datasets.make_ratings(150, 100, 4000, rank=3, noise=0.1, discrete=False,
                                    random_state=0)
TRAIN, TEST = fastmf.model_selection.train_test_split(DATA, test_size=0.2, random_state=0)


def small(**kw):
    return fastmf.ResidualMF(**{**dict(n_factors=6, hidden_layers=(16,), n_iter=12,
                                       learning_rate=0.05, batch_size=16, random_state=0),
                                **kw})


def rmse(model, data):
    return float(np.sqrt(np.mean((model.predict(data) - data.values) ** 2)))


@pytest.mark.parametrize("solver, lr", [("sgd", 0.05), ("adam", 0.003)])
def test_planted_low_rank_ratings_are_recovered(solver, lr):
    model = small(solver=solver, learning_rate=lr, n_iter=30, reg=0.01).fit(TRAIN)
    baseline = TEST.values.std()
    assert rmse(model, TEST) < 0.4 * baseline  # about 0.23 here; the noise is 0.1
    loss = model.history_["train_loss"]
    assert loss[-1] < 0.2 * loss[0]


def distance_ratings(n_users=200, n_items=150, n=9000, seed=0):
    """Ratings 5 - 4 |a_u - c_i| of scalar user and item positions: not low rank (the
    residual an inner product misses), but a function of the two embeddings an MLP learns."""
    rng = np.random.default_rng(seed)
    a, c = rng.random(n_users), rng.random(n_items)
    cells = rng.choice(n_users * n_items, n, replace=False)
    users, items = cells // n_items, cells % n_items
    return fastmf.Ratings(users, items, 5 - 4 * np.abs(a[users] - c[items]))


def test_the_mlp_learns_what_the_inner_product_misses():
    train, test = fastmf.model_selection.train_test_split(distance_ratings(), random_state=0)
    kw = dict(n_factors=4, n_iter=40, reg=0.001, reg_bias=0.001, learning_rate=0.05,
              random_state=0)
    plain = fastmf.ResidualMF(hidden_layers=(), **kw).fit(train)
    residual = fastmf.ResidualMF(hidden_layers=(32,), **kw).fit(train)
    assert rmse(residual, test) < 0.8 * rmse(plain, test)


def test_predict_and_recommend_are_the_twin_model():
    model = small(n_iter=3).fit(TRAIN)
    users, items = np.array([0, 3, 7, 7]), np.array([1, 0, 5, 99])
    sizes, codes = model._net()
    params = (model.user_factors_, model.item_factors_, model.user_bias_, model.item_bias_,
              model.mlp_weights_)
    want = model.global_mean_ + oracles.residual_mf_predict(users, items, *params, sizes, codes)
    np.testing.assert_allclose(model.set_params(clip=False).predict(users, items), want,
                               rtol=1e-5)
    # recommend ranks every item by the same scores (split first layer, in blocks)
    top, scores = model.recommend([3, 7], n=100)
    dense = oracles.residual_mf_scores([3, 7], params, sizes, codes, model.global_mean_)
    for r in range(2):
        np.testing.assert_allclose(scores[r], dense[r][top[r]], rtol=1e-5)
        assert np.all(np.diff(scores[r]) <= 0)


def test_float32_and_float64_fits_agree():
    a = small(n_iter=4, dtype="float32").fit(TRAIN)
    b = small(n_iter=4, dtype="float64").fit(TRAIN)
    assert a.mlp_weights_.dtype == np.float32 and b.mlp_weights_.dtype == np.float64
    np.testing.assert_allclose(a.predict(TEST), b.predict(TEST), atol=0.02)


@needs_two_threads
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_same_model_at_one_and_two_threads(solver):
    a = small(solver=solver, n_iter=3, learning_rate=0.01, n_threads=1).fit(TRAIN)
    b = small(solver=solver, n_iter=3, learning_rate=0.01, n_threads=2).fit(TRAIN)
    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_", "mlp_weights_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_continues_exactly(solver):
    lr = 0.05 if solver == "sgd" else 0.003
    full = small(solver=solver, learning_rate=lr, n_iter=6).fit(TRAIN)
    half = small(solver=solver, learning_rate=lr, n_iter=3, warm_start=True).fit(TRAIN)
    half.fit(TRAIN)
    assert half.n_iter_ == 6
    np.testing.assert_array_equal(half.mlp_weights_, full.mlp_weights_)
    np.testing.assert_array_equal(half.user_factors_, full.user_factors_)
    with pytest.raises(ValueError, match="warm_start needs the same hidden_layers"):
        half.set_params(hidden_layers=(8,)).fit(TRAIN)


def test_save_load(tmp_path):
    model = small(n_iter=3).fit(TRAIN)
    path = os.path.join(tmp_path, "rmf.npz")
    model.save(path)
    loaded = fastmf.load(path)
    np.testing.assert_array_equal(loaded.predict(TEST), model.predict(TEST))
    np.testing.assert_array_equal(loaded.recommend([0, 1], n=5)[0],
                                  model.recommend([0, 1], n=5)[0])


def fold_in_objective(model, x, b, row):
    """The fold-in objective of one user row (the mean over its ratings, as the kernel's)."""
    sizes, codes = model._net()
    cols = row.indices
    return oracles.residual_mf_fold_in_objective(
        x, b, model.item_factors_[cols], model.item_bias_[cols],
        row.data - model.global_mean_, model.mlp_weights_, sizes, codes, "user", model.reg,
        model.reg_bias)[0]


def test_fold_in_fits_the_new_users_ratings():
    model = small(n_iter=10, dtype="float64").fit(TRAIN)
    X = TRAIN.csr[[2, 9]]
    W = model.transform(X)
    rows = model._fold_in_users(X)
    from fastmf._solvers.mf_als import fold_in
    start = fold_in(X, model.item_factors_, model.item_bias_, model.global_mean_, model.reg,
                    model.reg_bias, True)
    for r in range(2):
        folded = fold_in_objective(model, W[r], rows["user_bias_"][r], X[r])
        assert folded <= fold_in_objective(model, start["user_factors_"][r],
                                           start["user_bias_"][r], X[r])
        # it ranks the items about as the trained row does
        a = model.recommend(500 + r, n=TRAIN.n_items, user_items=X[r])
        b = model.recommend(int([2, 9][r]), n=TRAIN.n_items, exclude=TRAIN)
        keep_a, keep_b = a[0] >= 0, b[0] >= 0  # past the candidates: -1 padding
        sa = a[1][keep_a][np.argsort(a[0][keep_a])]
        sb = b[1][keep_b][np.argsort(b[0][keep_b])]
        assert np.corrcoef(sa, sb)[0, 1] > 0.8


def test_partial_fit_items_adds_an_item_scored_like_its_twin():
    model = small(n_iter=10).fit(TRAIN)
    grown = copy.deepcopy(model).partial_fit_items([TRAIN.n_items], TRAIN.csc[:, [4]].T.tocsr())
    assert grown.item_factors_.shape == (TRAIN.n_items + 1, 6)
    users = np.arange(TRAIN.n_users)
    new, old = grown.predict(users, np.full_like(users, TRAIN.n_items)), \
        grown.predict(users, np.full_like(users, 4))
    assert np.corrcoef(new, old)[0, 1] > 0.8


def test_unknown_users_and_items_fall_back_to_the_mean_and_known_biases():
    model = small(n_iter=3).set_params(clip=False).fit(TRAIN)
    pred = model.predict([TRAIN.n_users, 0, TRAIN.n_users], [0, TRAIN.n_items, TRAIN.n_items])
    mu = model.global_mean_
    np.testing.assert_allclose(pred, [mu + model.item_bias_[0], mu + model.user_bias_[0], mu],
                               rtol=1e-6)


def test_recommend_never_builds_users_by_items():
    # users x items would be 2000 x 3000 doubles = 48 MB; blocks keep the buffer small
    data = fastmf.datasets.make_ratings(2000, 3000, 20000, random_state=0)
    model = small(n_iter=1, n_factors=4, hidden_layers=(8,)).fit(data)
    import fastmf._recommend as rec
    old = rec.SCORE_BLOCK_BYTES
    rec.SCORE_BLOCK_BYTES = 200 * 3000 * 4
    try:
        items, _ = model.recommend(np.arange(2000), n=3, exclude=data)
    finally:
        rec.SCORE_BLOCK_BYTES = old
    assert items.shape == (2000, 3)
    assert not set(items[0].tolist()) & set(data.csr[0].indices.tolist())


@pytest.mark.parametrize("params, error, match", [
    (dict(hidden_layers=400), TypeError, "hidden_layers must be a tuple of positive ints"),
    (dict(hidden_layers=(400, 0)), ValueError, "hidden_layers must be a tuple of positive"),
    (dict(hidden_layers=(400.0,)), TypeError, "hidden_layers must be a tuple of positive"),
    (dict(hidden_layers="400"), TypeError, "hidden_layers must be a tuple of positive"),
    (dict(hidden_layers=(True,)), TypeError, "hidden_layers must be a tuple of positive"),
    (dict(activation="gelu"), ValueError, "activation must be one of"),
    (dict(solver="lbfgs"), ValueError, "solver must be one of"),
    (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(learning_rate=0), ValueError, "learning_rate must be > 0"),
    (dict(momentum=1.0), ValueError, "momentum must be < 1"),
    (dict(momentum=-0.5), ValueError, "momentum must be >= 0"),
    (dict(n_factors=0), ValueError, "n_factors must be >= 1"),
    (dict(reg_mlp=-1), ValueError, "reg_mlp must be >= 0"),
])
def test_bad_parameters_raise_clear_errors(params, error, match):
    with pytest.raises(error, match=match):
        small(**params).fit(TRAIN)


def test_a_divergent_fit_says_what_to_lower_and_keeps_the_last_finite_model():
    model = small(learning_rate=50.0, n_iter=20)
    with pytest.raises(FloatingPointError, match="Lower learning_rate"):
        model.fit(TRAIN)
    assert model.n_iter_ < 20
    for name in ("user_factors_", "item_factors_", "mlp_weights_"):
        assert np.isfinite(getattr(model, name)).all()
    assert np.isfinite(model.predict(TEST)).all()


def test_fit_on_a_sparse_matrix_and_on_pairs_agree():
    a = small(n_iter=2).fit(TRAIN.csr)
    b = small(n_iter=2).fit(np.column_stack([TRAIN.users, TRAIN.items]), TRAIN.values)
    np.testing.assert_array_equal(a.mlp_weights_, b.mlp_weights_)
    assert sp.issparse(TRAIN.csr)

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf.datasets import make_ratings
from fastmf.model_selection import train_test_split
from tests import oracles
from tests.conftest import needs_two_threads


@pytest.fixture(scope="module")
def planted():
    # uniform popularity and a scale that is rarely clipped: a clean planted problem
    data, truth = make_ratings(300, 200, 9000, rank=4, noise=0.1, discrete=False,
                               popularity_exponent=0, activity_exponent=0, global_mean=3.0,
                               signal=0.5, bias_scale=0.2, random_state=1, return_truth=True)
    train, test = train_test_split(data, test_size=0.1, random_state=0)
    return data, train, test, truth


def dense(r):
    X = r.csr
    mask = np.zeros(r.shape, bool)
    mask[r.users, r.items] = True
    return X.toarray(), mask


@pytest.mark.parametrize("cg_steps", [None, 3])  # exact rows; CG rows + final exact sweep
@pytest.mark.parametrize("scaling,exponent", [("count", 1.0), ("count", 0.75), ("none", 1.0)])
@pytest.mark.parametrize("fit_biases", [True, False])
def test_als_objective_never_increases_and_matches_oracle(planted, scaling, exponent,
                                                          fit_biases, cg_steps):
    _, train, _, _ = planted
    model = fastmf.MatrixFactorization(n_factors=6, n_iter=8, reg=0.05, reg_bias=0.02,
                                       reg_scaling=scaling, reg_exponent=exponent,
                                       fit_biases=fit_biases, cg_steps=cg_steps,
                                       dtype="float64", random_state=0).fit(train)
    loss = np.array(model.history_["train_loss"])
    assert np.all(np.diff(loss) <= 1e-9 * loss[:-1])
    R, mask = dense(train)
    want = oracles.mf_objective(R, mask, model.user_factors_, model.item_factors_,
                                model.user_bias_, model.item_bias_, model.global_mean_,
                                0.05, 0.02, exponent if scaling == "count" else 0.0)
    np.testing.assert_allclose(loss[-1], want, rtol=1e-9)


@pytest.mark.parametrize("scaling", ["count", "none"])
def test_default_cg_rows_reach_the_exact_fit(planted, scaling):
    _, train, test, _ = planted
    # Unscaled, reg is added once per row instead of once per rating: 1.0 is about the same
    # strength as 0.05 per rating on these ~27-rating rows. At 0.05 unscaled the exact fit
    # overfits, and which poor local optimum it lands in changes with the last bits of
    # rounding (seen: eval RMSE 0.146 on one machine, 0.278 on another).
    reg = 0.05 if scaling == "count" else 1.0
    kw = dict(n_factors=6, reg=reg, reg_scaling=scaling, reg_exponent=1.0,
              random_state=0)  # float32, 15 its
    cg = fastmf.MatrixFactorization(**kw).fit(train, eval_set=test)  # the default rows
    exact = fastmf.MatrixFactorization(cg_steps=None, **kw).fit(train, eval_set=test)
    loss = np.array(cg.history_["train_loss"])
    assert np.all(np.diff(loss) <= 1e-6 * loss[:-1])  # float32 objective sums
    assert loss[-1] <= 1.02 * exact.history_["train_loss"][-1]
    # noise 0.1: a gap of 0.01 would be a 10 % loss of accuracy
    assert abs(cg.history_["eval_rmse"][-1] - exact.history_["eval_rmse"][-1]) < 0.01


def test_final_exact_sweep_moves_only_the_users_and_lowers_the_objective(planted):
    _, train, test, _ = planted
    kw = dict(n_factors=6, n_iter=5, reg=0.05, reg_exponent=0.75, dtype="float64",
              random_state=0)
    plain = fastmf.MatrixFactorization(final_exact=False, **kw).fit(train, eval_set=test)
    final = fastmf.MatrixFactorization(**kw).fit(train, eval_set=test)
    np.testing.assert_array_equal(final.item_factors_, plain.item_factors_)
    np.testing.assert_array_equal(final.item_bias_, plain.item_bias_)
    assert final.history_["train_loss"][:-1] == plain.history_["train_loss"][:-1]
    assert final.history_["train_loss"][-1] <= plain.history_["train_loss"][-1]
    # the history describes the model returned
    rmse = fastmf.metrics.rmse(test.values, final.predict(test))
    assert final.history_["eval_rmse"][-1] == pytest.approx(rmse, rel=1e-12)
    R, mask = dense(train)
    want = oracles.mf_objective(R, mask, final.user_factors_, final.item_factors_,
                                final.user_bias_, final.item_bias_, final.global_mean_,
                                0.05, 0.05, 0.75)
    np.testing.assert_allclose(final.history_["train_loss"][-1], want, rtol=1e-9)


def test_als_recovers_planted_low_rank(planted):
    _, train, test, truth = planted
    model = fastmf.MatrixFactorization(n_factors=4, n_iter=20, reg=0.01, random_state=0)
    model.fit(train, eval_set=test)
    rmse = fastmf.metrics.rmse(test.values, model.predict(test))
    # noise 0.1; 27 ratings per user for 5 parameters: estimation adds about 25 %
    assert rmse < 0.14, rmse
    assert model.history_["eval_rmse"][-1] == pytest.approx(rmse)
    assert len(model.history_["seconds"]) == model.n_iter_ == 20


def test_float32_agrees_with_float64(planted):
    _, train, test, _ = planted
    kw = dict(n_factors=4, n_iter=5, random_state=0)
    p32 = fastmf.MatrixFactorization(dtype="float32", **kw).fit(train).predict(test)
    p64 = fastmf.MatrixFactorization(dtype="float64", **kw).fit(train).predict(test)
    np.testing.assert_allclose(p32, p64, atol=2e-3)


@needs_two_threads
def test_same_result_for_any_thread_count(planted):
    _, train, _, _ = planted
    a = fastmf.MatrixFactorization(n_factors=5, n_iter=3, random_state=0, n_threads=1).fit(train)
    b = fastmf.MatrixFactorization(n_factors=5, n_iter=3, random_state=0, n_threads=2).fit(train)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_bias_, b.item_bias_)


# the final exact sweep of the users after each fit is an extra step in the chain
@pytest.mark.parametrize("rows", [dict(cg_steps=None), dict(final_exact=False)])
def test_warm_start_5_plus_5_equals_10(planted, rows):
    _, train, _, _ = planted
    ten = fastmf.MatrixFactorization(n_factors=4, n_iter=10, dtype="float64",
                                     random_state=0, **rows).fit(train)
    warm = fastmf.MatrixFactorization(n_factors=4, n_iter=5, dtype="float64", random_state=0,
                                      warm_start=True, **rows)
    warm.fit(train).fit(train)
    np.testing.assert_allclose(warm.user_factors_, ten.user_factors_, rtol=1e-10, atol=1e-12)
    assert warm.n_iter_ == 10 and len(warm.history_["train_loss"]) == 10


def test_warm_start_history_lines_up_when_eval_set_comes_and_goes(planted):
    _, train, test, _ = planted
    model = fastmf.MatrixFactorization(n_factors=4, n_iter=2, warm_start=True, random_state=0)
    model.fit(train).fit(train, eval_set=test).fit(train)
    h = model.history_
    assert len(h["train_loss"]) == len(h["eval_rmse"]) == len(h["eval_unknown"]) == 6
    assert np.isnan(h["eval_rmse"][:2]).all() and np.isnan(h["eval_rmse"][4:]).all()
    assert np.isfinite(h["eval_rmse"][2:4]).all() and h["eval_unknown"][2:4] == [0, 0]


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-8), ("float32", 1e-4)])
@pytest.mark.parametrize("rows", [dict(cg_steps=None), {}])  # exact; the default CG + final
@pytest.mark.parametrize("early_stopping", [False, True])
def test_fold_in_reproduces_training_user(planted, dtype, tol, rows, early_stopping):
    _, train, test, _ = planted
    stop = dict(early_stopping_rounds=1, n_iter=30, reg=0.001) if early_stopping else \
        dict(n_iter=4)
    model = fastmf.MatrixFactorization(n_factors=6, dtype=dtype, random_state=0, **stop,
                                       **rows).fit(train, eval_set=test)
    users = np.arange(0, train.n_users, 7)
    np.testing.assert_allclose(model.transform(train.csr[users]), model.user_factors_[users],
                               rtol=tol, atol=tol * 1e-2)
    before = model.user_factors_[users].copy(), model.user_bias_[users].copy()
    model.partial_fit_users(users, train.csr[users])  # re-folding a training user: no change
    np.testing.assert_allclose(model.user_factors_[users], before[0], rtol=tol, atol=tol * 1e-2)
    np.testing.assert_allclose(model.user_bias_[users], before[1], rtol=tol, atol=tol * 1e-2)


def test_unknown_users_and_items_fall_back_to_biases(planted):
    _, train, _, _ = planted
    model = fastmf.MatrixFactorization(n_factors=3, n_iter=2, random_state=0).fit(train)
    n_u, n_i = model.n_users_, model.n_items_
    pred = model.predict([n_u + 3, 0, n_u], [0, n_i + 1, n_i])
    mu = model.global_mean_
    np.testing.assert_allclose(pred, [mu + model.item_bias_[0], mu + model.user_bias_[0], mu],
                               rtol=1e-6)


def test_raw_ids_predict_recommend_and_save_load(tmp_path):
    rng = np.random.default_rng(0)
    users = np.array([f"u{x}" for x in rng.integers(0, 40, 600)])
    items = np.array([f"i{x}" for x in rng.integers(0, 30, 600)])
    data = fastmf.Ratings.from_ids(users, items, rng.integers(1, 6, 600), duplicates="last")
    model = fastmf.MatrixFactorization(n_factors=3, n_iter=3, random_state=0).fit(data)
    recs, scores = model.recommend("u3", n=4, exclude=data, raw_ids=True)
    seen = set(items[users == "u3"])
    assert len(recs) == 4 and not seen & set(recs)
    # scores are the predicted ratings
    np.testing.assert_allclose(scores, model.predict(data.user_index(["u3"] * 4),
                                                     data.item_index(recs)), rtol=1e-5)
    # a Ratings with another ID space is mapped through raw IDs; unknown IDs fall back
    other = fastmf.Ratings.from_ids(["u3", "new"], ["i1", "i1"], [3.0, 4.0])
    pred = model.predict(other)  # in the Ratings' own (user, item)-sorted order
    assert other.user_ids[other.users].tolist() == ["new", "u3"]
    pred = pred[::-1]
    assert pred[0] == pytest.approx(model.predict(data.user_index("u3"), data.item_index("i1"))[0])
    assert pred[1] == pytest.approx(model.global_mean_ + model.item_bias_[data.item_index("i1")[0]])
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = fastmf.load(path)
    np.testing.assert_array_equal(loaded.predict(other)[::-1], pred)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.recommend("u3", n=4, exclude=data, raw_ids=True)[0], recs)


def test_sparse_matrix_and_pairs_views_give_the_same_model(planted):
    _, train, _, _ = planted
    kw = dict(n_factors=3, n_iter=3, random_state=0)
    a = fastmf.MatrixFactorization(**kw).fit(train.csr)
    b = fastmf.MatrixFactorization(**kw).fit(np.c_[train.users, train.items], train.values)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    assert a.fit_transform(train.csr).shape == (train.n_users, 3)
    assert a.components_.shape == (train.n_items, 3)


@pytest.mark.parametrize("cg_steps", [None, 3])
def test_early_stopping_keeps_best_iteration(planted, cg_steps):
    # Whether (and when) the eval curve turns up depends on the trajectory, so check what
    # holds on any curve; tests/test_fitting.py forces a stop on a scripted curve.
    _, train, test, _ = planted
    model = fastmf.MatrixFactorization(n_factors=20, n_iter=30, reg=0.0005, reg_scaling="none",
                                       random_state=0, early_stopping_rounds=2,
                                       cg_steps=cg_steps)
    model.fit(train, eval_set=(np.c_[test.users, test.items], test.values))
    hist = model.history_["eval_rmse"]
    best = model.best_iteration_ - 1
    assert len(hist) == model.n_iter_
    if cg_steps is None:
        assert best == int(np.argmin(hist))
    if model.n_iter_ < 30:
        assert model.n_iter_ == model.best_iteration_ + 2
    # with CG rows the best iteration's entry is the model after the final exact sweep
    np.testing.assert_allclose(fastmf.metrics.rmse(test.values, model.predict(test)), hist[best],
                               rtol=1e-6)


def test_sklearn_clone_cross_val_and_grid_search(planted):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, cross_val_score

    data, _, _, _ = planted
    X, y = np.c_[data.users, data.items], data.values
    model = fastmf.MatrixFactorization(n_factors=3, n_iter=3, random_state=0)
    assert clone(model).get_params() == model.get_params()
    scores = cross_val_score(model, X, y, cv=3, scoring="neg_root_mean_squared_error")
    assert scores.shape == (3,) and np.all(-scores < 0.6)
    grid = GridSearchCV(model, {"reg": [0.01, 5.0]}, cv=2,
                        scoring="neg_root_mean_squared_error").fit(X, y)
    assert grid.best_params_ == {"reg": 0.01}
    assert sklearn.base.is_regressor(model)


def test_ctrl_c_finishes_the_iteration_then_stops(planted, monkeypatch, default_sigint):
    """Ctrl-C (SIGINT) during iteration 3: it finishes, the fit stops with a warning and keeps
    3 iterations; a second Ctrl-C interrupts at once and leaves the model as it was."""
    import os
    import signal

    from fastmf._solvers import mf_als

    _, train, _, _ = planted
    calls = {"n": 0, "presses": 1}
    original = mf_als.ALSSolver.step

    def step(self):
        calls["n"] += 1
        if calls["n"] == 3:
            for _ in range(calls["presses"]):
                os.kill(os.getpid(), signal.SIGINT)
        return original(self)

    monkeypatch.setattr(mf_als.ALSSolver, "step", step)
    with pytest.warns(RuntimeWarning, match="after 3 iterations"):
        model = fastmf.MatrixFactorization(n_factors=3, n_iter=5, random_state=0).fit(train)
    assert model.n_iter_ == 3 and len(model.history_["train_loss"]) == 3
    assert np.isfinite(model.user_factors_).all()
    calls.update(n=0, presses=2)
    before = model.user_factors_.copy()
    with pytest.raises(KeyboardInterrupt):
        model.fit(train)
    np.testing.assert_array_equal(model.user_factors_, before)
    assert model.n_iter_ == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("params, match", [
    (dict(n_factors=0), "n_factors must be >= 1"),
    (dict(n_factors=2.5), "n_factors must be an integer"),
    (dict(reg=-1.0), "reg must be >= 0"),
    (dict(reg_bias=-0.1), "reg_bias must be >= 0"),
    (dict(solver="newton"), "solver must be one of"),
    (dict(n_iter=0), "n_iter must be >= 1"),
    (dict(reg_scaling="rows"), "reg_scaling must be one of"),
    (dict(reg_exponent=-0.5), "reg_exponent must be >= 0"),
    (dict(reg_exponent=2.5), "reg_exponent must be <= 2"),
    (dict(reg_exponent="1"), "reg_exponent must be a"),
    (dict(dtype="int32"), "dtype must be float32 or float64"),
    (dict(early_stopping_rounds=2), "early_stopping_rounds needs an eval_set"),
    (dict(cg_steps=0), "cg_steps must be >= 1"),
    (dict(cg_steps=2.0), "cg_steps must be an integer"),
])
def test_bad_parameters_raise(planted, params, match):
    _, train, _, _ = planted
    with pytest.raises((ValueError, TypeError), match=match):
        fastmf.MatrixFactorization(**params).fit(train)


@pytest.mark.parametrize("X, y, match", [
    (np.array([[0, 1], [1, 0]]), [1.0, np.nan], "y must be finite"),
    (np.array([[0, 1], [-1, 0]]), [1.0, 2.0], r"X\[:, 0\] \(users\) must be non-negative"),
    (np.array([[0, 1.5], [1, 0]]), [1.0, 2.0], "must hold integer indices"),
    (np.array([[0, 1], [1, 0]]), [1.0], "X has 2 rows but y has 1"),
    (np.array([0, 1]), [1.0, 2.0], r"X must be an \(n, 2\) array"),
    (np.zeros((0, 2), int), [], "X is empty"),
    (np.array([[0, 1], [1, 0]]), None, "y is required"),
    (sp.csr_matrix(np.array([[np.inf, 1.0]])), None, "X.data must be finite"),
    (sp.csr_matrix((0, 3)), None, "X is empty"),
])
def test_bad_data_raises(X, y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fastmf.MatrixFactorization(n_factors=2, n_iter=1).fit(X, y)


def test_bad_predict_and_recommend_input_raises(planted):
    _, train, _, _ = planted
    model = fastmf.MatrixFactorization(n_factors=2, n_iter=1, random_state=0)
    with pytest.raises(ValueError, match="not fitted"):
        model.predict([0], [0])
    model.fit(train)
    with pytest.raises(ValueError, match="users must be non-negative"):
        model.predict([-1], [0])
    with pytest.raises(ValueError, match="users holds index"):
        model.recommend([train.n_users])
    with pytest.raises(ValueError, match="n must be >= 1"):
        model.recommend(0, n=0)
    with pytest.raises(ValueError, match="exclude must have shape"):
        model.recommend(0, exclude=sp.csr_matrix((2, 2)))
    with pytest.raises(ValueError, match="X has 3 items"):
        model.transform(sp.csr_matrix((1, 3)))
    with pytest.raises(ValueError, match="raw_ids=True needs"):
        model.recommend(0, raw_ids=True)


@pytest.mark.parametrize("make", [
    lambda **kw: fastmf.MatrixFactorization(8, n_iter=10, reg=0.001, random_state=0, **kw),
    lambda **kw: fastmf.SVDpp(8, n_iter=10, reg=0.001, random_state=0, **kw),
], ids=["MatrixFactorization", "SVDpp"])
def test_predictions_clipped_to_the_training_range_but_not_the_ranking(make):
    data = make_ratings(150, 80, 3000, noise=0.3, random_state=3)  # ratings 1..5
    model = make().fit(data)
    users, items = np.repeat(np.arange(150), 80), np.tile(np.arange(80), 150)
    pred = model.predict(users, items)
    assert model.rating_range_ == [1.0, 5.0]
    assert pred.min() >= 1.0 and pred.max() <= 5.0
    raw = make(clip=False).fit(data).predict(users, items)
    assert raw.max() > 5.0 or raw.min() < 1.0  # weakly regularised: some fall outside
    np.testing.assert_allclose(pred, np.clip(raw, 1.0, 5.0))
    _, scores = model.recommend(np.arange(150), n=3)
    assert scores.max() == pytest.approx(raw.max(), rel=1e-5)  # ranked on unclipped scores
    with pytest.raises(TypeError, match="clip must be True or False"):
        make(clip="yes").fit(data)

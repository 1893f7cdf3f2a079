import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf.nmf import ConvergenceWarning
from tests import oracles

COMBOS = [("frobenius", "zero", "hals"), ("frobenius", "zero", "mu"),
          ("frobenius", "ignore", "hals"), ("frobenius", "ignore", "mu"),
          ("poisson", "zero", "mu"), ("poisson", "zero", "sgd"),
          ("poisson", "ignore", "mu"), ("poisson", "ignore", "sgd")]


@pytest.fixture(scope="module")
def dense():
    rng = np.random.default_rng(0)
    D = rng.random((30, 20)) * (rng.random((30, 20)) < 0.5)
    D[4] = 0.0      # an all-zero row
    D[:, 7] = 0.0   # and column
    return D


def nmf(**kw):
    kw.setdefault("dtype", "float64")
    kw.setdefault("random_state", 0)
    kw.setdefault("tol", 0)
    return fastmf.NMF(**kw)


@pytest.mark.parametrize("loss,missing,solver", COMBOS)
def test_objective_never_increases_and_factors_nonnegative(dense, loss, missing, solver):
    model = nmf(n_factors=3, loss=loss, missing=missing, solver=solver, n_iter=30,
                l1=0.01, l2=0.01).fit(sp.csr_matrix(dense))
    loss_ = np.array(model.history_["train_loss"])
    if solver != "sgd":  # SGD is not a descent method; it must still make progress
        assert np.all(np.diff(loss_) <= 1e-9 * np.abs(loss_[1:]))
    assert loss_[-1] < loss_[0]
    assert model.user_factors_.min() >= 0 and model.item_factors_.min() >= 0


@pytest.mark.parametrize("loss,missing,solver", COMBOS)
def test_n_iter_1_repeated_never_increases(dense, loss, missing, solver):
    X = sp.csr_matrix(dense)
    model = nmf(n_factors=3, loss=loss, missing=missing, solver=solver, n_iter=1)
    model.fit(X)
    first = model.history_["train_loss"][0]
    W, H = model.user_factors_.copy(), model.item_factors_.copy()
    # one more iteration from the fitted factors: the objective of the fit's own step
    from fastmf._solvers.nmf import NMFSolver

    solver_ = NMFSolver((X, X.tocsc()), {"user_factors_": W, "item_factors_": H},
                        model._check_params(), None)
    before = solver_.prob.objective(W, H)
    after = solver_.step()
    assert np.isclose(before, first, rtol=1e-10)
    if solver != "sgd":
        assert after <= before * (1 + 1e-12)


@pytest.mark.parametrize("loss,missing", [("frobenius", "zero"), ("frobenius", "ignore"),
                                          ("poisson", "zero"), ("poisson", "ignore")])
def test_reported_objective_matches_dense_formula(dense, loss, missing):
    model = nmf(n_factors=3, loss=loss, missing=missing, n_iter=5, l1=0.1,
                l2=0.2).fit(dense)
    W, H = model.user_factors_, model.item_factors_
    mask = dense != 0
    if loss == "poisson":
        data = oracles.poisson_loss(dense, mask, W, H, missing == "ignore")
    else:
        diff = dense - W @ H.T
        data = 0.5 * np.sum(diff[mask] ** 2 if missing == "ignore" else diff ** 2)
    pen = 0.1 * (W.sum() + H.sum()) + 0.1 * (np.sum(W ** 2) + np.sum(H ** 2))
    assert np.isclose(model.history_["train_loss"][-1], data + pen, rtol=1e-9)
    assert np.isclose(model.reconstruction_err_, np.sqrt(2 * data), rtol=1e-9)


def test_frobenius_matches_sklearn_objective_within_1_percent(dense):
    skl = pytest.importorskip("sklearn.decomposition")
    ref = skl.NMF(4, init="nndsvd", solver="cd", max_iter=500, tol=1e-8).fit(dense)
    ours = nmf(n_factors=4, init="nndsvd", n_iter=500, tol=1e-8).fit(dense)
    assert abs(ours.reconstruction_err_ - ref.reconstruction_err_) <= 0.01 * ref.reconstruction_err_
    refkl = skl.NMF(4, init="nndsvda", solver="mu", beta_loss="kullback-leibler",
                    max_iter=500, tol=1e-8).fit(dense)
    ourkl = nmf(n_factors=4, loss="poisson", init="nndsvda", n_iter=500,
                tol=1e-8).fit(dense)
    assert abs(ourkl.reconstruction_err_ - refkl.reconstruction_err_) <= \
        0.01 * refkl.reconstruction_err_


@pytest.mark.parametrize("loss", ["frobenius", "poisson"])
def test_sparse_equals_dense_and_float32_close_to_float64(dense, loss):
    a = nmf(n_factors=3, loss=loss, n_iter=20).fit(dense)
    b = nmf(n_factors=3, loss=loss, n_iter=20).fit(sp.csr_matrix(dense))
    np.testing.assert_allclose(a.user_factors_, b.user_factors_, rtol=1e-12, atol=1e-12)
    c = nmf(n_factors=3, loss=loss, n_iter=20, dtype="float32").fit(dense)
    np.testing.assert_allclose(c.history_["train_loss"], a.history_["train_loss"], rtol=1e-3)


def test_all_zero_rows_and_columns_get_zero_factors(dense):
    for loss in ("frobenius", "poisson"):
        model = nmf(n_factors=3, loss=loss, n_iter=100).fit(dense)
        assert model.user_factors_[4].max() < 1e-6
        assert model.item_factors_[7].max() < 1e-6


@pytest.mark.parametrize("loss,solver", [("frobenius", "hals"), ("poisson", "mu")])
def test_planted_nonnegative_low_rank_is_recovered(loss, solver):
    rng = np.random.default_rng(1)
    W, H = rng.random((40, 3)), rng.random((25, 3))
    X = W @ H.T
    model = nmf(n_factors=3, loss=loss, solver=solver, init="nndsvda", n_iter=2000,
                tol=1e-12).fit(X)
    rel = np.linalg.norm(model.inverse_transform(model.user_factors_) - X) / np.linalg.norm(X)
    assert rel < 1e-2


@pytest.mark.parametrize("missing,solver", [("zero", "hals"), ("ignore", "hals"),
                                            ("zero", "mu")])
def test_transform_close_to_fit_transform(dense, missing, solver):
    model = nmf(n_factors=3, missing=missing, solver=solver, n_iter=300, tol=1e-9)
    W = model.fit_transform(sp.csr_matrix(dense))
    W2 = model.transform(sp.csr_matrix(dense))
    recon = np.linalg.norm(W @ model.components_.T - W2 @ model.components_.T)
    assert recon <= 0.05 * np.linalg.norm(W @ model.components_.T)
    assert W2.min() >= 0


def test_init_nndsvd_and_recommend_and_save(tmp_path):
    X = fastmf.datasets.make_counts(60, 30, rank=3, random_state=0)
    model = nmf(n_factors=3, loss="poisson", init="nndsvda", n_iter=20).fit(X)
    items, scores = model.recommend([0, 1], n=4, exclude=X)
    assert items.shape == (2, 4)
    pred = model.predict([0, 1], [2, 3])
    np.testing.assert_allclose(pred, np.sum(model.user_factors_[[0, 1]]
                                            * model.item_factors_[[2, 3]], axis=1))
    model.save(tmp_path / "nmf.npz")
    again = fastmf.load(tmp_path / "nmf.npz")
    np.testing.assert_array_equal(again.components_, model.components_)


def test_convergence_warning_and_tol_stopping(dense):
    with pytest.warns(ConvergenceWarning, match="n_iter=2"):
        fastmf.NMF(3, n_iter=2, random_state=0).fit(dense)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = fastmf.NMF(3, n_iter=5000, tol=1e-3, random_state=0).fit(dense)
    assert model.n_iter_ < 5000 and len(model.history_["train_loss"]) == model.n_iter_


@pytest.mark.parametrize("params,match", [
    (dict(loss="beta"), "loss must be one of"),
    (dict(solver="cd"), "solver must be one of"),
    (dict(loss="poisson", solver="hals"), "valid solvers are .*'mu', 'sgd'"),
    (dict(solver="sgd"), "does not exist for loss='frobenius'"),
    (dict(missing="nan"), "missing must be one of"),
    (dict(init="nndsvdar"), "init must be one of"),
    (dict(n_factors=0), "n_factors must be >= 1"),
    (dict(tol=-1.0), "tol must be >= 0"),
    (dict(l1=-0.1), "l1 must be >= 0"),
    (dict(learning_rate=0.0), "learning_rate must be > 0"),
    (dict(n_factors=50, init="nndsvd"), "needs n_factors <= min"),
])
def test_bad_parameters_raise(dense, params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fastmf.NMF(**params).fit(dense)


def test_bad_data_raises(dense):
    bad = dense.copy()
    bad[3, 5] = -1.0
    with pytest.raises(ValueError, match=r"non-negative: found -1.0 at \(row 3, column 5\)"):
        fastmf.NMF(2).fit(bad)
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fastmf.NMF(2).fit(sp.csr_matrix(bad))
    with pytest.raises(ValueError, match="2-dimensional"):
        fastmf.NMF(2).fit(np.ones(3))
    model = fastmf.NMF(2, n_iter=3, tol=0).fit(dense)
    neg = sp.csr_matrix(-np.ones((1, dense.shape[1])))
    with pytest.raises(ValueError, match="non-negative"):
        model.transform(neg)


def test_custom_init_matches_sklearn_trajectory(dense):
    skl = pytest.importorskip("sklearn.decomposition")
    ref = skl.NMF(3, init="random", solver="cd", max_iter=1, tol=0, random_state=0)
    W0 = ref.fit_transform(dense)  # any non-negative start; then 1 more sklearn iteration
    H0 = ref.components_.T.copy()
    W1 = skl.NMF(3, init="custom", solver="cd", max_iter=1, tol=0).fit_transform(
        dense, W=W0.copy(), H=H0.T.copy())
    ours = nmf(n_factors=3, init="custom", n_iter=1).fit(dense, W=W0, H=H0)
    np.testing.assert_allclose(ours.user_factors_, W1, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="init='custom' only"):
        nmf(n_factors=3).fit(dense, W=W0, H=H0)
    with pytest.raises(ValueError, match="H must have shape"):
        nmf(n_factors=3, init="custom").fit(dense, W=W0, H=H0.T)

"""The Cython FM kernels against the O(d^2) NumPy definitions in tests/oracles.py."""

import numpy as np
import pytest
import scipy.sparse as sp
from fastmf._ext.fm import fm_cd_sweep, fm_predict, fm_residuals, fm_sgd_epoch, standard_normals

from fastmf._solvers.fm import csr_arrays, exclusive_blocks
from tests import oracles


def problem(n, d, r, density, seed, dtype=np.float64, empty_row=True):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=seed, format="csr",
                  data_rvs=lambda k: rng.normal(size=k))
    X = X.tolil()
    if empty_row and n > 2:
        X[1, :] = 0
    X = sp.csr_matrix(X, dtype=dtype)
    X.eliminate_zeros()
    X.sort_indices()
    w = rng.normal(size=d).astype(dtype)
    V = rng.normal(scale=0.5, size=(d, r)).astype(dtype)
    return X, 0.3, w, V


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("r", [1, 4])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_predict_matches_quadratic_formula(dtype, r, n_threads):
    X, w0, w, V = problem(17, 9, r, 0.4, seed=r, dtype=dtype)
    out = np.empty(17)
    fm_predict(csr_arrays(X), (np.array([w0]), w, V), out, n_threads)
    ref = oracles.fm_predict(X.toarray(), w0, w, V)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    assert out[1] == pytest.approx(w0)  # an empty row is the intercept


def test_predict_single_row_single_feature():
    X = sp.csr_matrix(np.array([[2.0]]))
    out = np.empty(1)
    fm_predict(csr_arrays(X), (np.array([1.0]), np.array([0.5]), np.array([[3.0]])), out, 1)
    assert out[0] == pytest.approx(2.0)  # no pair with a single feature


def test_residuals_hold_prediction_error_and_factor_sums():
    X, w0, w, V = problem(12, 7, 3, 0.5, seed=3)
    target = np.arange(12.0)
    e, q = np.empty(12), np.empty((12, 3))
    fm_residuals(csr_arrays(X), (np.array([w0]), w, V), target, (e, q), 2)
    np.testing.assert_allclose(e, oracles.fm_predict(X.toarray(), w0, w, V) - target)
    np.testing.assert_allclose(q, X.toarray() @ V)


@pytest.mark.parametrize("logistic", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_epoch_one_thread_matches_serial_oracle(logistic, dtype):
    X, w0, w, V = problem(15, 8, 3, 0.4, seed=5, dtype=dtype)
    rng = np.random.default_rng(0)
    y = np.sign(rng.normal(size=15)) if logistic else rng.normal(size=15)
    order = rng.permutation(15).astype(np.int64)
    groups = (np.arange(8) % 2).astype(np.int32)
    reg_w, reg_v = np.array([0.01, 0.2]), np.array([0.05, 0.1])
    w0_arr = np.array([w0])
    ref = oracles.fm_sgd_epoch(X.toarray(), y, order, w0, w, V, groups, 0.1, reg_w, reg_v,
                               0.05, logistic)
    total = fm_sgd_epoch(csr_arrays(X), y, order, (w0_arr, w, V), groups, (0.1, reg_w, reg_v),
                         (0.05, True, logistic), 1)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert w0_arr[0] == pytest.approx(ref[0], rel=tol, abs=tol)
    np.testing.assert_allclose(w, ref[1], rtol=tol, atol=tol)
    np.testing.assert_allclose(V, ref[2], rtol=tol, atol=tol)
    assert total == pytest.approx(ref[3], rel=tol)


@pytest.mark.parametrize("n_threads", [1, 2, 4])
def test_sgd_intercept_moves_toward_target_at_any_thread_count(n_threads):
    # rows without features: only w0 learns, and every thread's copy walks from 0 toward 5.
    # The epoch's w0 is a row-weighted mean of those copies, so it lies in (0, 5] whatever the
    # scheduling; adding the threads' changes would land near 5 T (the oscillation once seen
    # at 2 threads on MovieLens, where the test RMSE rose from 0.91 to 1.6 over 60 epochs).
    n = 4000
    X = sp.csr_matrix((n, 3))
    y = np.full(n, 5.0)
    w0 = np.zeros(1)
    model = (w0, np.zeros(3), np.zeros((3, 2)))
    regs = (0.0, np.zeros(1), np.zeros(1))
    fm_sgd_epoch(csr_arrays(X), y, np.arange(n, dtype=np.int64), model, np.zeros(3, np.int32),
                 regs, (0.05, True, False), n_threads)
    assert 4.9 < w0[0] <= 5.0 + 1e-12


def test_sgd_gradient_matches_finite_differences():
    # one row, no regularisation: the step taken is -lr * dloss/dtheta for every parameter
    X, w0, w, V = problem(1, 6, 3, 1.0, seed=7, empty_row=False)
    x, y, lr = X.toarray(), np.array([0.7]), 1e-3

    def loss(w0_, w_, V_):
        return 0.5 * (oracles.fm_predict(x, w0_, w_, V_)[0] - y[0]) ** 2

    w2, V2, w0_arr = w.copy(), V.copy(), np.array([w0])
    fm_sgd_epoch(csr_arrays(X), y, np.zeros(1, np.int64), (w0_arr, w2, V2),
                 np.zeros(6, np.int32), (0.0, np.zeros(1), np.zeros(1)), (lr, True, False), 1)
    eps = 1e-6
    num_v = np.zeros_like(V)
    for j in range(6):
        for f in range(3):
            Vp, Vm = V.copy(), V.copy()
            Vp[j, f] += eps
            Vm[j, f] -= eps
            num_v[j, f] = (loss(w0, w, Vp) - loss(w0, w, Vm)) / (2 * eps)
    num_w = np.array([(loss(w0, w + eps * np.eye(6)[j], V) - loss(w0, w - eps * np.eye(6)[j], V))
                      / (2 * eps) for j in range(6)])
    num_w0 = (loss(w0 + eps, w, V) - loss(w0 - eps, w, V)) / (2 * eps)
    np.testing.assert_allclose((V - V2) / lr, num_v, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose((w - w2) / lr, num_w, rtol=1e-5, atol=1e-7)
    assert (w0 - w0_arr[0]) / lr == pytest.approx(num_w0, rel=1e-5)


def _sweep(X, target, w0, w, V, groups, G, sample, seed, n_threads, alpha=1.3, order=None):
    """One kernel sweep from (w0, w, V); ``order`` replaces exclusive_blocks' feature order."""
    rng = np.random.default_rng(11)
    n, d = X.shape
    r = V.shape[1]
    lam_w, mu_w = rng.uniform(0.1, 1, G), rng.normal(size=G)
    lam_v, mu_v = rng.uniform(0.1, 1, (G, r)), rng.normal(scale=0.1, size=(G, r))
    csc = X.tocsc()
    csc.sort_indices()
    found, block_ptr, block_par = exclusive_blocks(csc.indptr, csc.indices, n, groups)
    order = found if order is None else order
    e, q = np.empty(n), np.empty((n, r))
    fm_residuals(csr_arrays(X), (np.array([w0]), w, V), target, (e, q), n_threads)
    w0_arr, w2, V2 = np.array([w0]), w.copy(), V.copy()
    fm_cd_sweep((csc.indptr.astype(np.int64), csc.indices.astype(np.int32), csc.data), (e, q),
                (w0_arr, w2, V2), groups, (order, block_ptr, block_par),
                (alpha, 0.5, 0.2, lam_w, mu_w, lam_v, mu_v), (True, sample, seed), n_threads)
    return (w0_arr[0], w2, V2, e, q), (order, alpha, 0.5, 0.2, lam_w, mu_w, lam_v, mu_v)


@pytest.mark.parametrize("sample", [False, True])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_cd_sweep_matches_coordinatewise_oracle(sample, n_threads):
    X, w0, w, V = problem(14, 7, 2, 0.4, seed=2)
    target = np.random.default_rng(1).normal(size=14)
    groups = np.array([0, 1, 0, 1, 2, 2, 0], np.int32)
    seed = 12345
    (kw0, kw, kV, e, q), prior = _sweep(X, target, w0, w, V, groups, 3, sample, seed, n_threads)
    order, alpha, lam_w0, mu_w0, lam_w, mu_w, lam_v, mu_v = prior

    def noise(k):
        out = np.empty(1)
        standard_normals(seed, k, out)
        return out[0]

    rw0, rw, rV = oracles.fm_cd_sweep(X.toarray(), target, w0, w, V, order, alpha, lam_w0,
                                      mu_w0, lam_w, mu_w, lam_v, mu_v, groups,
                                      noise if sample else None)
    assert kw0 == pytest.approx(rw0, rel=1e-9)
    np.testing.assert_allclose(kw, rw, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(kV, rV, rtol=1e-8, atol=1e-10)
    # the cached residuals and factor sums stay exact
    np.testing.assert_allclose(e, oracles.fm_predict(X.toarray(), kw0, kw, kV) - target,
                               atol=1e-9)
    np.testing.assert_allclose(q, X.toarray() @ kV, atol=1e-9)


def test_cd_sweep_parallel_blocks_equal_serial():
    # one-hot user and item groups are exclusive: updated in parallel, same result
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 20, 150), rng.integers(0, 15, 150)
    X = sp.hstack([sp.csr_matrix((np.ones(150), (np.arange(150), users)), shape=(150, 20)),
                   sp.csr_matrix((np.ones(150), (np.arange(150), items)), shape=(150, 15))],
                  format="csr")
    groups = np.r_[np.zeros(20), np.ones(15)].astype(np.int32)
    csc = X.tocsc()
    _, ptr, par = exclusive_blocks(csc.indptr, csc.indices, 150, groups)
    assert ptr.tolist() == [0, 20, 35] and par.tolist() == [1, 1]
    # one prior group for both variables: the same two runs
    _, ptr, par = exclusive_blocks(csc.indptr, csc.indices, 150, np.zeros(35, np.int32))
    assert ptr.tolist() == [0, 20, 35] and par.tolist() == [1, 1]
    w, V = rng.normal(size=35), rng.normal(scale=0.3, size=(35, 4))
    target = rng.normal(size=150)
    one = _sweep(X, target, 0.1, w, V, groups, 2, True, 99, 1)[0]
    two = _sweep(X, target, 0.1, w, V, groups, 2, True, 99, 2)[0]
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_exclusive_blocks_split_multi_hot_groups_into_runs():
    X = sp.csc_matrix(np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]], float))
    order, ptr, par = exclusive_blocks(X.indptr, X.indices, 2,
                                       np.array([0, 0, 1, 1, 1], np.int32))
    # group 0 = one run; group 1: 2 clashes with 3 (row 0), 3 and 4 share no row
    assert order.tolist() == [0, 1, 2, 3, 4]
    assert ptr.tolist() == [0, 2, 3, 5] and par.tolist() == [1, 0, 1]


def test_exclusive_blocks_put_a_runs_largest_features_first_without_changing_the_sweep():
    # a Zipf-like field (most rows on a few levels) then a uniform one
    rng = np.random.default_rng(4)
    n = 200
    a = np.minimum(rng.geometric(0.4, n) - 1, 5)
    b = rng.integers(0, 8, n)
    X = sp.hstack([sp.csr_matrix((np.ones(n), (np.arange(n), a)), shape=(n, 6)),
                   sp.csr_matrix((np.ones(n), (np.arange(n), b)), shape=(n, 8))], format="csr")
    groups = np.r_[np.zeros(6), np.ones(8)].astype(np.int32)
    csc = X.tocsc()
    order, ptr, par = exclusive_blocks(csc.indptr, csc.indices, n, groups)
    assert ptr.tolist() == [0, 6, 14] and par.tolist() == [1, 1]
    counts = np.diff(csc.indptr)
    for lo, hi in zip(ptr[:-1], ptr[1:], strict=True):
        run = order[lo:hi]
        assert sorted(run.tolist()) == list(range(lo, hi))
        assert np.all(np.diff(counts[run]) <= 0)
    # the sweep in that order equals the sweep in column order, bit for bit
    w, V = rng.normal(size=14), rng.normal(scale=0.3, size=(14, 3))
    target = rng.normal(size=n)
    ours = _sweep(X, target, 0.1, w, V, groups, 2, True, 5, 2)[0]
    columns = _sweep(X, target, 0.1, w, V, groups, 2, True, 5, 2,
                     order=np.arange(14, dtype=np.int32))[0]
    assert not np.array_equal(order, np.arange(14))
    for x, y in zip(ours, columns, strict=True):
        np.testing.assert_array_equal(x, y)


def test_standard_normals_are_standard_and_seeded():
    a, b, c = np.empty(20000), np.empty(20000), np.empty(5)
    standard_normals(7, 0, a)
    standard_normals(7, 0, b)
    standard_normals(8, 0, c)
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.03 and abs(a.std() - 1) < 0.03
    assert not np.allclose(a[:5], c)

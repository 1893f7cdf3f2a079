import numba
import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.block_sgd import SVDPP
from fastmf._kernels.svdpp import implicit_sums, implicit_update
from fastmf._solvers.mf_sgd import block_layout, block_schedule
from tests import oracles
from tests.kernels.test_sgd import run_epoch


def problem(m, n, nnz, k, P, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    cells = rng.choice(m * n, size=nnz, replace=False)
    users, items = cells // n, cells % n
    values = rng.integers(1, 6, size=nnz).astype(float)
    order, ptr = block_layout(users, items, m, n, P, seed)
    arrays = (users[order].astype(np.int32), items[order].astype(np.int32),
              values[order].astype(dtype))
    mask = np.zeros((m, n), bool)
    mask[users, items] = True
    params = [(rng.normal(size=s) * 0.3).astype(dtype) for s in ((m, k), (n, k), (n, k), m, n)]
    return block_schedule(seed, 0, P), ptr, arrays, mask, params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_implicit_sums_match_oracle_with_empty_rows(dtype):
    rng = np.random.default_rng(0)
    mask = rng.random((9, 7)) < 0.4
    mask[2] = False
    N = sp.csr_matrix(mask.astype(float))
    Y = rng.normal(size=(7, 3)).astype(dtype)
    Z = np.full((9, 3), 5.0, dtype)
    implicit_sums((N.indptr, N.indices), Y, Z)
    np.testing.assert_allclose(Z, oracles.implicit_sums(mask, Y), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(Z[2], 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 5])
def test_svdpp_epoch_matches_python_loop(dtype, k):
    order, ptr, (u, i, v), mask, (W, H, Y, bu, bi) = problem(11, 10, 50, k, 3, seed=k,
                                                             dtype=dtype)
    Z = oracles.implicit_sums(mask, Y).astype(dtype)
    ref = oracles.svdpp_epoch(order, ptr, u, i, v, W, Z, H, bu, bi, 3.0, 0.05, 0.1, 0.02)
    G = np.zeros_like(W)
    sse = run_epoch(SVDPP, order, ptr, (u, i, v), (W, H, bu, bi), 3.0, 0.05, 0.1, 0.02,
                    implicit=(Z, G))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for got, want in zip((W, H, bu, bi, G), ref[:5], strict=False):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(sse, ref[5], rtol=tol)


def test_implicit_update_matches_oracle():
    rng = np.random.default_rng(2)
    mask = rng.random((8, 6)) < 0.5
    mask[:, 4] = False  # an item nobody has: left alone
    Nt = sp.csc_matrix(mask.astype(float))
    G, Y = rng.normal(size=(8, 3)), rng.normal(size=(6, 3))
    want = oracles.implicit_update(mask, G, Y, 0.1, 0.3)
    implicit_update((Nt.indptr, Nt.indices), G, Y, 0.1, 0.3)
    np.testing.assert_allclose(Y, want, rtol=1e-12)


def test_accumulated_implicit_gradient_is_the_gradient_by_finite_differences():
    # with lr = 0 nothing moves, and |N(u)|^-1/2 G[u] summed over U(j) is -d(1/2 sse)/d y_j
    order, ptr, (u, i, v), mask, (W, H, Y, bu, bi) = problem(7, 6, 25, 2, 2, seed=4)
    N = sp.csr_matrix(mask.astype(float))

    def half_sse(Y_):
        pred = oracles.svdpp_predict(3.0, bu, bi, W, H, Y_, mask, u, i)
        return 0.5 * np.sum((v - pred) ** 2)

    Z = np.zeros_like(W)
    implicit_sums((N.indptr, N.indices), Y, Z)
    G = np.zeros_like(W)
    run_epoch(SVDPP, order, ptr, (u, i, v), (W, H, bu, bi), 3.0, 0.0, 0.0, 0.0, implicit=(Z, G))
    G *= 1 / np.sqrt(np.maximum(mask.sum(1), 1))[:, None]
    grad = np.zeros_like(Y)
    eps = 1e-6
    for j in range(Y.shape[0]):
        for f in range(Y.shape[1]):
            d = np.zeros_like(Y)
            d[j, f] = eps
            grad[j, f] = (half_sse(Y + d) - half_sse(Y - d)) / (2 * eps)
    np.testing.assert_allclose(mask.T.astype(float) @ G, -grad, rtol=1e-6, atol=1e-8)


def test_svdpp_epoch_same_at_one_and_two_threads():
    order, ptr, (u, i, v), mask, params = problem(30, 25, 400, 4, 4, seed=9, dtype=np.float32)
    Z = oracles.implicit_sums(mask, params[2]).astype(np.float32)
    results = []
    for n in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        W, H, _, bu, bi = (a.copy() for a in params)
        G = np.zeros_like(W)
        previous = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            run_epoch(SVDPP, order, ptr, (u, i, v), (W, H, bu, bi), 3.0, 0.05, 0.05, 0.05,
                      implicit=(Z, G))
        finally:
            numba.set_num_threads(previous)
        results.append((W, H, bu, bi, G))
    for a, b in zip(*results, strict=False):
        np.testing.assert_array_equal(a, b)

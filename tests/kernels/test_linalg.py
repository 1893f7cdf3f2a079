import numpy as np
import pytest

from fastmf._kernels.linalg import (
    GATHER_ROWS,
    add_gathered_rows,
    cholesky_solve,
    dual_ridge_solve,
    spd_solve,
    triangular_solve,
)


def spd(d, seed):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(d, d))
    return M @ M.T + d * np.eye(d), rng.normal(size=d)


@pytest.mark.parametrize("d", [1, 2, 7, 30])
def test_cholesky_solve_matches_numpy(d):
    A, b = spd(d, d)
    x = b.copy()
    cholesky_solve(A.copy(), x)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-10)


def test_cholesky_solve_singular_gives_finite_result():
    A = np.zeros((3, 3))
    b = np.ones(3)
    cholesky_solve(A, b)
    assert np.isfinite(b).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 5, 33])
def test_spd_solve_matches_numpy_and_the_loop_cholesky(dtype, d):
    A, b = spd(d, 10 + d)
    A, b = A.astype(dtype), b.astype(dtype)
    x, y = b.copy(), b.copy()
    spd_solve(A.copy(), x)
    cholesky_solve(A.copy(), y)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    want = np.linalg.solve(A.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(x, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)


def test_triangular_solve_reads_only_the_lower_triangle():
    A, b = spd(6, 3)
    L = np.linalg.cholesky(A)
    x = b.copy()
    triangular_solve(L + np.triu(np.full((6, 6), 99.0), 1), x)  # garbage above the diagonal
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-10)


@pytest.mark.parametrize("with_one", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_gathered_rows_builds_the_weighted_normal_equations(with_one, dtype):
    rng = np.random.default_rng(int(with_one))
    n_rows, k, nnz = 40, 4, 2 * GATHER_ROWS + 9
    Y = rng.normal(size=(n_rows, k)).astype(dtype)
    indices = rng.integers(0, n_rows, nnz)
    zw_all = rng.random(nnz).astype(dtype)
    bw_all = rng.normal(size=nnz)  # float64 weights for b, as the explicit ALS passes
    d = k + 1 if with_one else k
    A0 = rng.normal(size=(d, d)).astype(dtype)
    b0 = rng.normal(size=d).astype(dtype)
    A, b = A0.copy(), b0.copy()
    Z = np.full((GATHER_ROWS, d), np.nan, dtype)
    for p0 in range(0, nnz, GATHER_ROWS):  # as the kernels call it: one block at a time
        n = min(GATHER_ROWS, nnz - p0)
        weights = (zw_all[p0:p0 + n].copy(), bw_all[p0:p0 + n].copy())
        add_gathered_rows(Y, indices, p0, n, weights, with_one, Z, (A, b))
    rows = Y[indices].astype(np.float64)
    if with_one:
        rows = np.hstack([rows, np.ones((nnz, 1))])
    Zd = zw_all[:, None].astype(np.float64) * rows
    tol = 1e-3 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(A, A0 + Zd.T @ Zd, rtol=tol, atol=tol)
    np.testing.assert_allclose(b, b0 + rows.T @ bw_all, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_one", [True, False])
@pytest.mark.parametrize("n", [1, 4, 9])
def test_dual_ridge_solve_matches_the_primal_normal_equations(dtype, with_one, n):
    rng = np.random.default_rng(n)
    k, lam, lam_b = 10, 0.7, 0.2
    Y = rng.normal(size=(15, k)).astype(dtype)
    indices = rng.permutation(15)[:n + 2].astype(np.int32)
    t = rng.normal(size=n)
    d = k + int(with_one)
    V = np.hstack([Y[indices[2:]], np.ones((n, 1))]) if with_one else Y[indices[2:]]
    V = V.astype(np.float64)
    D = np.diag([lam] * k + [lam_b] * int(with_one))
    want = np.linalg.solve(D + V.T @ V, V.T @ t)
    Z, G, x = np.empty((n + 3, d), dtype), np.empty((d, d), dtype), np.empty(d, dtype)
    targets = np.concatenate([t, [9.0, 9.0]])
    dual_ridge_solve(Y, (indices, 2, n), targets, (1 / np.sqrt(lam), 1 / np.sqrt(lam_b)), Z,
                     (G, x))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(x, want, rtol=tol, atol=tol)

import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.implicit_als import implicit_cg_sweep, implicit_cholesky_sweep
from fastmf._kernels.linalg import GATHER_ROWS
from tests import oracles


def problem(m, n, k, density, seed, dtype=np.float64, empty_row=None):
    """Random counts as CSR, the matching dense C and P, and random factors."""
    rng = np.random.default_rng(seed)
    R = np.where(rng.random((m, n)) < density, rng.integers(1, 5, size=(m, n)), 0).astype(float)
    if empty_row is not None:
        R[empty_row] = 0
    alpha = 2.0
    C = 1 + alpha * R
    P = (R > 0).astype(float)
    X = sp.csr_matrix(R)
    conf = (1 + alpha * X.data).astype(dtype)
    W = rng.normal(scale=0.3, size=(m, k)).astype(dtype)
    H = rng.normal(scale=0.3, size=(n, k)).astype(dtype)
    return X, conf, C, P, W, H


def gram(Y, reg, m=None):
    """The kernels' ``system``: ``(Y^T Y, reg)`` with ``reg`` one weight per row (``m`` rows,
    the same ``reg`` each) or the array ``reg`` itself."""
    reg = np.full(m, reg, dtype=Y.dtype) if np.ndim(reg) == 0 else reg.astype(Y.dtype)
    return Y.T @ Y, reg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("lapack", [False, True])
def test_cholesky_sweep_matches_dense_solve(dtype, k, lapack):
    X, conf, C, P, W, H = problem(14, 11, k, 0.4, seed=k, dtype=dtype, empty_row=5)
    out = np.full_like(W, 7.0)
    implicit_cholesky_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.3, len(out)), lapack)
    ref = oracles.implicit_row_solve(C, P, H, 0.3)
    tol = 2e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    np.testing.assert_array_equal(out[5], 0)


def test_cholesky_sweep_long_rows_use_unrolled_path():
    X, conf, C, P, W, H = problem(5, 40, 6, 0.9, seed=2)
    out = np.zeros_like(W)
    implicit_cholesky_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.1, len(out)))
    np.testing.assert_allclose(out, oracles.implicit_row_solve(C, P, H, 0.1), rtol=1e-10,
                               atol=1e-10)


def test_cholesky_sweep_many_rows_cover_all_chunks():
    # more rows than the 256 interleaved chunks: every row is still solved
    X, conf, C, P, W, H = problem(300, 7, 2, 0.5, seed=3)
    out = np.full_like(W, np.nan)
    implicit_cholesky_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.2, len(out)))
    np.testing.assert_allclose(out, oracles.implicit_row_solve(C, P, H, 0.2), rtol=1e-9,
                               atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("steps", [1, 2, 3])
def test_cg_sweep_matches_dense_cg(dtype, steps):
    X, conf, C, P, W, H = problem(12, 10, 5, 0.4, seed=steps, dtype=dtype, empty_row=2)
    out = W.copy()
    implicit_cg_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.2, len(out)), steps)
    ref = oracles.implicit_cg_rows(C, P, W, H, 0.2, steps)
    tol = 1e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)


def test_cg_converges_to_the_cholesky_solution():
    X, conf, C, P, W, H = problem(9, 12, 4, 0.5, seed=4)
    out = W.copy()
    # k steps: exact
    implicit_cg_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.5, len(out)), 4)
    np.testing.assert_allclose(out, oracles.implicit_row_solve(C, P, H, 0.5), rtol=1e-7,
                               atol=1e-8)


def test_cg_leaves_converged_rows_alone():
    X, conf, C, P, W, H = problem(6, 8, 3, 0.5, seed=5)
    exact = oracles.implicit_row_solve(C, P, H, 0.1)
    out = exact.copy()
    implicit_cg_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.1, len(out)), 3)
    np.testing.assert_allclose(out, exact, rtol=1e-9, atol=1e-12)


def row_objective(C, P, W, H, reg):
    """The rows' share of the objective: the full objective without reg |H|^2."""
    return oracles.implicit_objective(C, P, W, H, reg) - reg * np.sum(H.astype(float) ** 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_sweeps_return_the_dense_objective(dtype, solver):
    X, conf, C, P, W, H = problem(10, 13, 4, 0.3, seed=6, dtype=dtype, empty_row=0)
    out = W.copy()
    if solver == "cholesky":
        got = implicit_cholesky_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.3, len(out)))
    else:
        got = implicit_cg_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.3, len(out)), 2)
    want = row_objective(C, P, out, H, 0.3)
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-10)


def test_cholesky_sweep_rows_longer_than_one_gathered_block():
    X, conf, C, P, W, H = problem(3, 2 * GATHER_ROWS + 5, 3, 0.95, seed=8)
    out = np.zeros_like(W)
    got = implicit_cholesky_sweep((X.indptr, X.indices, conf), out, H, gram(H, 0.2, len(out)))
    np.testing.assert_allclose(out, oracles.implicit_row_solve(C, P, H, 0.2), rtol=1e-9,
                               atol=1e-10)
    np.testing.assert_allclose(got, row_objective(C, P, out, H, 0.2), rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_sweeps_with_frequency_scaled_reg_match_the_oracles(dtype, solver):
    X, conf, C, P, W, H = problem(13, 9, 4, 0.35, seed=9, dtype=dtype, empty_row=3)
    reg, _ = oracles.frequency_reg(X.toarray(), 0.05, 0.7, 0.4)
    out = W.copy()
    if solver == "cholesky":
        got = implicit_cholesky_sweep((X.indptr, X.indices, conf), out, H, gram(H, reg), True)
        ref = oracles.implicit_row_solve(C, P, H, reg)
    else:
        got = implicit_cg_sweep((X.indptr, X.indices, conf), out, H, gram(H, reg), 2)
        ref = oracles.implicit_cg_rows(C, P, W, H, reg, 2)
    tol = 1e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    want = oracles.implicit_objective(C, P, out, H, reg, 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-10)
    # rows with different weights solve different systems: the weights are really per row
    assert np.ptp(reg) > 0.05

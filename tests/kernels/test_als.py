import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.als import als_cg_half_sweep, als_half_sweep
from fastmf._kernels.linalg import GATHER_ROWS
from tests import oracles


def random_problem(m, n, k, density, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    R = np.where(mask, rng.integers(1, 6, size=(m, n)), 0).astype(float)
    X = sp.csr_matrix(np.where(mask, R, 0))
    # keep observed cells that happen to be stored: all ratings are >= 1 so none is dropped
    Y = rng.normal(size=(n, k)).astype(dtype)
    y_bias = rng.normal(size=n).astype(dtype)
    return R, mask, X, Y, y_bias


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_bias", [True, False])
@pytest.mark.parametrize("exponent", [1.0, 0.0, 0.75])
@pytest.mark.parametrize("k", [1, 3, 9])
def test_als_half_sweep_matches_ridge_oracle(dtype, fit_bias, exponent, k):
    R, mask, X, Y, y_bias = random_problem(13, 11, k, 0.4, seed=k, dtype=dtype)
    mask[3] = False  # an empty row
    X = sp.csr_matrix(np.where(mask, R, 0))
    out = np.full((13, k), 7.0, dtype)
    xb = np.full(13 if fit_bias else 0, 7.0, dtype)
    yb = y_bias if fit_bias else np.zeros(0, dtype)
    als_half_sweep((X.indptr, X.indices, X.data.astype(dtype)), (out, xb), (Y, yb),
                   (3.0, 0.3, 0.2, exponent))
    ref, ref_b = oracles.als_half_sweep(R, mask, Y, yb, 3.0, 0.3, 0.2, exponent, fit_bias)
    tol = 2e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    np.testing.assert_array_equal(out[3], 0)
    if fit_bias:
        np.testing.assert_allclose(xb, ref_b, rtol=tol, atol=tol)


def test_als_half_sweep_rows_longer_than_one_gathered_block():
    # rows of ~270 entries span several GATHER_ROWS blocks, the last one partial
    R, mask, X, Y, y_bias = random_problem(6, 300, 5, 0.9, seed=1)
    assert np.diff(X.indptr).min() > 2 * GATHER_ROWS
    out, xb = np.zeros((6, 5)), np.zeros(6)
    als_half_sweep((X.indptr, X.indices, X.data), (out, xb), (Y, y_bias), (0.5, 0.1, 0.1, 0.0))
    ref, ref_b = oracles.als_half_sweep(R, mask, Y, y_bias, 0.5, 0.1, 0.1, 0.0, True)
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(xb, ref_b, rtol=1e-9, atol=1e-9)


# unregularised (reg=0) rows are too ill-conditioned to compare in float32
@pytest.mark.parametrize("dtype,reg,reg_bias", [
    (np.float32, 0.3, 0.2), (np.float64, 0.3, 0.2), (np.float32, 0.3, 0.0),
    (np.float64, 0.3, 0.0), (np.float64, 0.0, 0.2)])
@pytest.mark.parametrize("fit_bias", [True, False])
def test_als_half_sweep_rows_shorter_and_longer_than_the_system(dtype, fit_bias, reg,
                                                                 reg_bias):
    # row u has u entries, 0 .. 11, around d = 8 or 9: short rows take the n x n dual
    # solve, long ones the primal; a zero weight sends every row to the primal
    k = 8
    R, mask, X, Y, y_bias = random_problem(12, 20, k, 1.0, seed=3, dtype=dtype)
    mask = np.arange(20)[None, :] < np.arange(12)[:, None]
    X = sp.csr_matrix(np.where(mask, R, 0))
    out, xb = np.full((12, k), 7.0, dtype), np.full(12 if fit_bias else 0, 7.0, dtype)
    yb = y_bias if fit_bias else np.zeros(0, dtype)
    als_half_sweep((X.indptr, X.indices, X.data.astype(dtype)), (out, xb), (Y, yb),
                   (3.0, reg, reg_bias, 1.0))
    d = k + int(fit_bias)
    if reg > 0 and (reg_bias > 0 or not fit_bias):
        rows = np.ones(12, bool)
    else:  # singular systems for rows shorter than d: only the longer ones have one answer
        rows = np.arange(12) >= d
        assert np.isfinite(out).all()
    ref, ref_b = oracles.als_half_sweep(R, mask & rows[:, None], Y, yb, 3.0, reg, reg_bias,
                                        1.0, fit_bias)
    tol = 2e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(out[rows], ref[rows], rtol=tol, atol=tol)
    np.testing.assert_array_equal(out[0], 0)
    if fit_bias:
        np.testing.assert_allclose(xb[rows], ref_b[rows], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_bias", [True, False])
@pytest.mark.parametrize("exponent", [1.0, 0.0, 0.75])
@pytest.mark.parametrize("steps", [1, 3])
def test_als_cg_half_sweep_matches_numpy_cg(dtype, fit_bias, exponent, steps):
    k = 5
    R, mask, X, Y, y_bias = random_problem(13, 11, k, 0.5, seed=steps, dtype=dtype)
    mask[3] = False  # an empty row
    X = sp.csr_matrix(np.where(mask, R, 0))
    rng = np.random.default_rng(1)
    X0, xb0 = rng.normal(size=(13, k)).astype(dtype), rng.normal(size=13).astype(dtype)
    out, xb = X0.copy(), (xb0 if fit_bias else np.zeros(0, dtype)).copy()
    yb = y_bias if fit_bias else np.zeros(0, dtype)
    als_cg_half_sweep((X.indptr, X.indices, X.data.astype(dtype)), (out, xb), (Y, yb),
                      (3.0, 0.3, 0.2, exponent), steps)
    ref, ref_b = oracles.als_cg_rows(R, mask, X0, xb0, Y, yb, 3.0, 0.3, 0.2, exponent,
                                     fit_bias, steps)
    tol = 2e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    np.testing.assert_array_equal(out[3], 0)
    if fit_bias:
        np.testing.assert_allclose(xb, ref_b, rtol=tol, atol=tol)


def test_als_cg_half_sweep_with_k_plus_1_steps_is_the_exact_solve():
    R, mask, X, Y, y_bias = random_problem(9, 30, 4, 0.6, seed=5)
    out, xb = np.ones((9, 4)), np.ones(9)
    als_cg_half_sweep((X.indptr, X.indices, X.data), (out, xb), (Y, y_bias), (0.5, 0.1, 0.1, 1.0),
                      5)
    ref, ref_b = oracles.als_half_sweep(R, mask, Y, y_bias, 0.5, 0.1, 0.1, 1.0, True)
    np.testing.assert_allclose(out, ref, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(xb, ref_b, rtol=1e-7, atol=1e-7)

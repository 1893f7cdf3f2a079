import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.hals import ccd_update, csc_to_csr_positions, csr_matmul, residual
from tests import oracles


def problem(m, n, density, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    mask[1] = False  # an empty row
    R = np.where(mask, rng.integers(1, 6, size=(m, n)), 0).astype(float)
    return R, mask, sp.csr_matrix(R), rng


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 4])
def test_residual_matches_dense(dtype, k):
    R, mask, X, rng = problem(9, 7, 0.5, k)
    W, H = rng.normal(size=(9, k)).astype(dtype), rng.normal(size=(7, k)).astype(dtype)
    ub, ib = rng.normal(size=9).astype(dtype), rng.normal(size=7).astype(dtype)
    out = np.empty(X.nnz, dtype)
    residual(X.indptr, X.indices, X.data.astype(dtype), W, ub, H, ib, 2.0, out)
    dense = R - 2.0 - ub[:, None] - ib[None, :] - W.astype(float) @ H.T
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, dense[mask], rtol=tol, atol=tol)


@pytest.mark.parametrize("nonneg", [False, True])
@pytest.mark.parametrize("l1,l2,scale", [(0.0, 0.0, False), (0.3, 0.5, True), (2.0, 0.1, False)])
@pytest.mark.parametrize("side", ["rows", "columns"])
def test_ccd_update_matches_oracle(nonneg, l1, l2, scale, side):
    R, mask, X, rng = problem(8, 6, 0.5, 3)
    res_dense = np.where(mask, rng.normal(size=R.shape), 0.0)
    res = res_dense[mask].copy()  # CSR order
    if side == "rows":
        x, y = rng.normal(size=8), rng.normal(size=6)
        ccd_update(X.indptr, X.indices, np.zeros(0, np.int64), res, x_k := x.copy(), y, l1, l2,
                   scale, nonneg)
        want_x, want_res = oracles.ccd_update(res_dense, mask, x, y, l1, l2, scale, nonneg)
    else:
        csc = X.tocsc()
        perm = csc_to_csr_positions(csc.indptr, csc.indices, X.indptr)
        x, y = rng.normal(size=6), rng.normal(size=8)
        ccd_update(csc.indptr, csc.indices, perm, res, x_k := x.copy(), y, l1, l2, scale,
                   nonneg)
        want_x, want_res_t = oracles.ccd_update(res_dense.T, mask.T, x, y, l1, l2, scale, nonneg)
        want_res = want_res_t.T
    np.testing.assert_allclose(x_k, want_x, atol=1e-12)
    np.testing.assert_allclose(res, want_res[mask], atol=1e-12)
    if nonneg:
        assert x_k.min() >= 0


def test_csc_to_csr_positions():
    R, mask, X, _ = problem(7, 9, 0.4, 5)
    csc = X.tocsc()
    perm = csc_to_csr_positions(csc.indptr, csc.indices, X.indptr)
    np.testing.assert_array_equal(X.data[perm], csc.data)


def test_hals_rows_never_increases_frobenius_and_zero_rows():
    from fastmf._kernels.hals import hals_rows

    rng = np.random.default_rng(0)
    D = rng.random((12, 9))
    D[3] = 0.0
    X, W, H = sp.csr_matrix(D), rng.random((12, 3)), rng.random((9, 3))
    before = np.sum((D - W @ H.T) ** 2)
    for _ in range(30):
        hals_rows(X.indptr, X.indices, X.data, W, H, H.T @ H, 0.0)
    assert np.sum((D - W @ H.T) ** 2) <= before
    assert W.min() >= 0 and W[3].max() < 1e-8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_matmul_matches_scipy(dtype):
    R, mask, X, rng = problem(11, 5, 0.4, 2)
    B = rng.normal(size=(5, 3)).astype(dtype)
    out = np.full((11, 3), 9.0, dtype)
    csr_matmul(X.indptr, X.indices, X.data.astype(dtype), B, out)
    np.testing.assert_allclose(out, X @ B, rtol=1e-5)


@pytest.mark.parametrize("k", [1, 5])
def test_hals_rows_equals_product_then_sweep(k):
    from fastmf._kernels.hals import hals_rows

    R, mask, X, rng = problem(12, 9, 0.5, k)
    A, B = rng.random((12, k)), rng.random((9, k))
    BtB = B.T @ B + 0.2 * np.eye(k)
    want = oracles.hals_sweep(A, BtB, X @ B - 0.1)
    got = A.copy()
    cross = hals_rows(X.indptr, X.indices, X.data, got, B, BtB, 0.1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.isclose(cross, np.sum(R * (want @ B.T)), rtol=1e-12)

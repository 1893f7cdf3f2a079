import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.hals import ccd_chunks, ccd_sweep, csr_matmul
from fastmf._kernels.linalg import residual
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
    sse = residual((X.indptr, X.indices, X.data.astype(dtype)), (W, ub), (H, ib), 2.0, out)
    dense = R - 2.0 - ub[:, None] - ib[None, :] - W.astype(float) @ H.T
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, dense[mask], rtol=tol, atol=tol)
    np.testing.assert_allclose(sse, np.sum(dense[mask] ** 2), rtol=tol)
    empty = np.zeros(0, dtype)  # the objective alone, nothing stored
    sse_only = residual((X.indptr, X.indices, X.data.astype(dtype)), (W, empty), (H, empty), 0.0,
                        empty)
    want = oracles.mf_objective(R, mask, W.astype(float), H.astype(float), None, None, 0.0,
                                0.0, 0.0, 0.0)
    np.testing.assert_allclose(sse_only, want, rtol=tol)


@pytest.mark.parametrize("nonneg", [False, True])
@pytest.mark.parametrize("l1,l2,exponent", [(0.0, 0.0, 0.0), (0.3, 0.5, 1.0), (2.0, 0.1, 0.0),
                                            (0.3, 0.5, 0.75)])
@pytest.mark.parametrize("n_chunks", [1, 3])
def test_ccd_sweep_matches_oracle(nonneg, l1, l2, exponent, n_chunks):
    """Factor by factor: rows (oracle on res), then columns (oracle on res^T)."""
    R, mask, X, rng = problem(8, 6, 0.5, 3)
    mask[:, 2] = False  # an empty column too
    X = sp.csr_matrix(np.where(mask, R, 0))
    res_dense = np.where(mask, rng.normal(size=R.shape), 0.0)
    res = res_dense[mask].copy()  # CSR order
    K = 4
    Xt, Yt = rng.normal(size=(K, 8)), rng.normal(size=(K, 6))
    move_x = np.array([True, True, False, True])  # factor 2: rows fixed, factor 3: columns
    move_y = np.array([True, False, True, False])
    l2s = l2 * np.array([1.0, 2.0, 1.0, 0.5])
    chunk_ptr = np.linspace(0, 8, n_chunks + 1).astype(np.int64)
    counts = mask.sum(axis=0).astype(float)
    want_x, want_y, want_res = Xt.copy(), Yt.copy(), res_dense.copy()
    for f in range(K):
        if move_x[f]:
            want_x[f], want_res = oracles.ccd_update(want_res, mask, want_x[f], want_y[f], l1,
                                                     l2s[f], exponent, nonneg)
        if move_y[f]:
            want_y[f], res_t = oracles.ccd_update(want_res.T, mask.T, want_y[f], want_x[f], l1,
                                                  l2s[f], exponent, nonneg)
            want_res = res_t.T
    got_x, got_y = Xt.copy(), Yt.copy()
    ccd_sweep((X.indptr, X.indices, res), (got_x, got_y), (move_x, move_y, l2s),
              (chunk_ptr, counts), (l1, exponent, nonneg))
    np.testing.assert_allclose(got_x, want_x, atol=1e-12)
    np.testing.assert_allclose(got_y, want_y, atol=1e-12)
    np.testing.assert_allclose(res, want_res[mask], atol=1e-12)
    if nonneg:
        assert got_x[move_x].min() >= 0 and got_y[move_y].min() >= 0


def test_ccd_chunks_cover_rows_in_order():
    X = sp.random(500, 40, density=0.3, format="csr", random_state=0)
    chunk_ptr = ccd_chunks(X.indptr, X.shape[1])
    assert chunk_ptr[0] == 0 and chunk_ptr[-1] == 500 and np.all(np.diff(chunk_ptr) >= 0)
    assert len(chunk_ptr) - 1 == X.nnz // (8 * 40)  # sums: at least 8 entries per column
    sizes = np.diff(X.indptr[chunk_ptr])
    assert sizes.max() < 1.2 * sizes.mean()  # balanced by entries


def test_hals_rows_never_increases_frobenius_and_zero_rows():
    from fastmf._kernels.hals import hals_rows

    rng = np.random.default_rng(0)
    D = rng.random((12, 9))
    D[3] = 0.0
    X, W, H = sp.csr_matrix(D), rng.random((12, 3)), rng.random((9, 3))
    before = np.sum((D - W @ H.T) ** 2)
    for _ in range(30):
        hals_rows((X.indptr, X.indices, X.data), W, H, H.T @ H, 0.0)
    assert np.sum((D - W @ H.T) ** 2) <= before
    assert W.min() >= 0 and W[3].max() < 1e-8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_matmul_matches_scipy(dtype):
    R, mask, X, rng = problem(11, 5, 0.4, 2)
    B = rng.normal(size=(5, 3)).astype(dtype)
    out = np.full((11, 3), 9.0, dtype)
    csr_matmul((X.indptr, X.indices, X.data.astype(dtype)), B, out)
    np.testing.assert_allclose(out, X @ B, rtol=1e-5)


@pytest.mark.parametrize("k", [1, 5])
def test_hals_rows_equals_product_then_sweep(k):
    from fastmf._kernels.hals import hals_rows

    R, mask, X, rng = problem(12, 9, 0.5, k)
    A, B = rng.random((12, k)), rng.random((9, k))
    BtB = B.T @ B + 0.2 * np.eye(k)
    want = oracles.hals_sweep(A, BtB, X @ B - 0.1)
    got = A.copy()
    cross = hals_rows((X.indptr, X.indices, X.data), got, B, BtB, 0.1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.isclose(cross, np.sum(R * (want @ B.T)), rtol=1e-12)

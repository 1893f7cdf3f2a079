import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.poisson import mu_apply, mu_terms, poisson_loss, poisson_sgd_epoch
from tests import oracles


def problem(m, n, k, density, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    mask[2] = False  # an empty row
    X = np.where(mask, rng.integers(1, 5, size=(m, n)), 0).astype(float)
    return X, mask, sp.csr_matrix(X), rng.random((m, k)) + 0.1, rng.random((n, k)) + 0.1


@pytest.mark.parametrize("kl", [True, False])
@pytest.mark.parametrize("observed", [True, False])
def test_mu_update_matches_dense_oracle(kl, observed):
    X, mask, csr, W, H = problem(9, 7, 3, 0.5, 1)
    num, den = np.empty_like(W), np.empty_like(W)
    if observed:
        mu_terms((csr.indptr, csr.indices, csr.data), W, H, (kl, True), (num, den))
    elif kl:
        mu_terms((csr.indptr, csr.indices, csr.data), W, H, (kl, False), (num, den))
        den[...] = H.sum(axis=0)
    else:
        mu_terms((csr.indptr, csr.indices, csr.data), W, H, (kl, False), (num, den))
        den = W @ (H.T @ H)
    got = W.copy()
    mu_apply(got, num, den, 0.1, 0.2)
    want = oracles.mu_update(X, mask, W, H, kl, observed, 0.1, 0.2)
    if observed:  # an empty row has a zero denominator only with l1 = l2 = 0; here it is 0/0.3
        want[2] = 0.0
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("observed_only", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_loss_in_o_nnz_equals_dense_formula(observed_only, dtype):
    X, mask, csr, W, H = problem(10, 8, 4, 0.4, 2)
    W, H = W.astype(dtype), H.astype(dtype)
    got = poisson_loss((csr.indptr, csr.indices, csr.data.astype(dtype)), W, H, observed_only)
    if not observed_only:
        got += W.sum(0).astype(float) @ H.sum(0)
    want = oracles.poisson_loss(X, mask, W.astype(float), H.astype(float), observed_only)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-11)


def test_poisson_loss_counts_stored_zeros_as_zero():
    X = sp.csr_matrix((np.array([0.0, 2.0]), np.array([0, 1]), np.array([0, 2])), shape=(1, 2))
    W, H = np.ones((1, 1)), np.ones((2, 1))
    assert np.isclose(poisson_loss((X.indptr, X.indices, X.data), W, H, True),
                      (1.0) + (2 * np.log(2.0) - 2 + 1))


@pytest.mark.parametrize("observed_only", [True, False])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.2, 0.5)])
def test_poisson_sgd_epoch_matches_loop_oracle(observed_only, l1, l2):
    X, mask, csr, W, H = problem(8, 6, 3, 0.5, 3)
    got = W.copy()
    poisson_sgd_epoch((csr.indptr, csr.indices, csr.data), got, H, H.sum(axis=0), (0.7, l1, l2),
                      observed_only)
    want = oracles.poisson_sgd_epoch(X, mask, W, H, 0.7, l1, l2, observed_only)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert got.min() >= 0
    if not observed_only:
        np.testing.assert_array_equal(got[2], 0.0)
    else:
        np.testing.assert_array_equal(got[2], W[2])


def test_poisson_sgd_epoch_decreases_row_loss():
    X, mask, csr, W, H = problem(20, 15, 3, 0.5, 4)
    before = oracles.poisson_loss(X, mask, W, H, False)
    for _ in range(3):
        poisson_sgd_epoch((csr.indptr, csr.indices, csr.data), W, H, H.sum(axis=0),
                          (1.0, 0.0, 0.0), False)
    assert oracles.poisson_loss(X, mask, W, H, False) < before

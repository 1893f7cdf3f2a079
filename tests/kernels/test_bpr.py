import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.bpr import (
    LOSS_EVERY,
    UPDATE_ALL,
    UPDATE_POSITIVE,
    UPDATE_USER,
    bpr_epoch,
    bpr_triple,
    pair_in_set,
    pair_set,
)
from tests import oracles


def test_triple_step_is_minus_lr_times_numerical_gradient():
    rng = np.random.default_rng(0)
    k, lr, reg = 5, 1e-3, 0.1
    w, H, b = rng.normal(size=k), rng.normal(size=(3, k)), rng.normal(size=3)

    def loss(theta):
        return oracles.bpr_triple_loss(theta[:k], theta[k:2 * k], theta[2 * k:3 * k],
                                       theta[3 * k], theta[3 * k + 1], reg)

    theta = np.r_[w, H[0], H[2], b[0], b[2]]
    grad = np.array([(loss(theta + e) - loss(theta - e)) / 2e-6
                     for e in np.eye(len(theta)) * 1e-6])
    W2, H2, b2 = w[None].copy(), H.copy(), b.copy()
    got = bpr_triple((W2, H2, b2), 0, 0, 2, (lr, reg), UPDATE_ALL, True)
    step = np.r_[W2[0], H2[0], H2[2], b2[0], b2[2]] - theta
    np.testing.assert_allclose(step, -lr * grad, rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(got, loss(theta) - reg / 2 * (theta @ theta), rtol=1e-12)
    np.testing.assert_array_equal(H2[1], H[1])
    W3, H3, b3 = w[None].copy(), H.copy(), b.copy()
    bpr_triple((W3, H3, b3), 0, 0, 2, (lr, reg), UPDATE_USER, False)  # items frozen
    np.testing.assert_array_equal(H3, H)
    np.testing.assert_array_equal(b3, b)
    np.testing.assert_allclose(W3, W2)
    W4, H4, b4 = w[None].copy(), H.copy(), b.copy()
    bpr_triple((W4, H4, b4), 0, 0, 2, (lr, reg), UPDATE_POSITIVE, False)  # the positive alone
    np.testing.assert_array_equal(W4, w[None])
    np.testing.assert_array_equal(np.delete(H4, 0, axis=0), np.delete(H, 0, axis=0))
    np.testing.assert_array_equal(b4[1:], b[1:])
    np.testing.assert_allclose(H4[0], H2[0])
    np.testing.assert_allclose(b4[0], b2[0])


@pytest.mark.parametrize("verify", [True, False])
@pytest.mark.parametrize("popularity", [True, False])
def test_epoch_with_one_thread_matches_sequential_oracle(verify, popularity):
    import numba

    rng = np.random.default_rng(1)
    R = (rng.random((8, 6)) < 0.4).astype(float)
    R[2] = 0  # a user without positives is never drawn
    X = sp.csr_matrix(R)
    rows = np.repeat(np.arange(8), np.diff(X.indptr))
    W, H, b = rng.normal(size=(8, 3)) * 0.3, rng.normal(size=(6, 3)) * 0.3, rng.normal(size=6)
    seeds = rng.integers(0, 2**63, size=4, dtype=np.uint64)
    ref = oracles.bpr_epoch(R, W, H, b, 50, seeds, 0.1, 0.05, verify, popularity, LOSS_EVERY)
    W2, H2, b2 = W.copy(), H.copy(), b.copy()
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        pairs = pair_set(X.indptr, X.indices, 6) if verify else np.zeros(0, np.int64)
        total, counted, skipped = bpr_epoch((X.indices, rows), (W2, H2, b2), 50, seeds,
                                            (0.1, 0.05), (pairs, popularity, 6), UPDATE_ALL)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_allclose(W2, ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H2, ref[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b2, ref[2], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(total, ref[3], rtol=1e-10)
    assert counted == ref[4] and counted > 0
    assert skipped == ref[5]
    if not verify:
        assert skipped == 0


@pytest.mark.parametrize("shape, density", [((1, 1), 1.0), ((30, 17), 0.3), ((50, 400), 0.05)])
def test_pair_set_holds_exactly_the_stored_pairs(shape, density):
    rng = np.random.default_rng(3)
    R = rng.random(shape) < density
    X = sp.csr_matrix(R.astype(float))
    table = pair_set(X.indptr, X.indices, shape[1])
    assert len(table) >= 2 * X.nnz and len(table) & (len(table) - 1) == 0
    for u in range(shape[0]):
        for i in range(shape[1]):
            assert pair_in_set(table, u * shape[1] + i) == R[u, i]

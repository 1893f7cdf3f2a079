import numba
import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.bpr import UPDATE_ALL, pair_set
from fastmf._kernels.warp import warp_epoch
from tests import oracles


def _problem(seed=1, shape=(8, 12)):
    rng = np.random.default_rng(seed)
    R = (rng.random(shape) < 0.35).astype(float)
    R[2] = 0  # a user without positives is never drawn
    X = sp.csr_matrix(R)
    rows = np.repeat(np.arange(shape[0]), np.diff(X.indptr))
    W, H = rng.normal(size=(shape[0], 3)) * 0.3, rng.normal(size=(shape[1], 3)) * 0.3
    b = rng.normal(size=shape[1]) * 0.3
    seeds = rng.integers(0, 2**63, size=4, dtype=np.uint64)
    return R, X, rows, (W, H, b), seeds


def _one_thread_epoch(X, rows, model, seeds, n, verify, popularity, search, lr=0.1, reg=0.05,
                      accum=None):
    accum = (np.zeros(0), np.zeros(0)) if accum is None else accum
    pairs = pair_set(X.indptr, X.indices, X.shape[1]) if verify else np.zeros(0, np.int64)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return warp_epoch((X.indptr, X.indices, rows), model, n, seeds, (lr, reg, *accum),
                          (pairs, popularity, X.shape[1]), search)
    finally:
        numba.set_num_threads(previous)


@pytest.mark.parametrize("verify", [True, False])
@pytest.mark.parametrize("popularity", [True, False])
@pytest.mark.parametrize("os_k, os_n", [(1, 1), (2, 4)])
def test_epoch_with_one_thread_matches_sequential_oracle(verify, popularity, os_k, os_n):
    R, X, rows, (W, H, b), seeds = _problem()
    ref = oracles.warp_epoch(R, W, H, b, 60, seeds, 0.1, 0.05, verify, popularity, 5, os_k, os_n)
    model = (W.copy(), H.copy(), b.copy())
    total, steps, skipped = _one_thread_epoch(X, rows, model, seeds, 60, verify, popularity,
                                              (5, os_k, os_n, UPDATE_ALL))
    for got, want in zip(model, ref[:3], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(total, ref[3], rtol=1e-10)
    assert steps == ref[4] and 0 < steps <= 60
    assert skipped == ref[5]


@pytest.mark.parametrize("os_k, os_n", [(1, 1), (3, 5)])
def test_adagrad_epoch_matches_sequential_oracle(os_k, os_n):
    R, X, rows, (W, H, b), seeds = _problem(seed=2)
    acc = (np.ones(R.shape[0]) + 0.5, np.ones(R.shape[1]))  # a warm start's accumulators
    ref = oracles.warp_epoch(R, W, H, b, 60, seeds, 0.1, 0.05, True, False, 5, os_k, os_n,
                             accum=tuple(a.copy() for a in acc))
    model = (W.copy(), H.copy(), b.copy())
    total, steps, _ = _one_thread_epoch(X, rows, model, seeds, 60, True, False,
                                        (5, os_k, os_n, UPDATE_ALL), accum=acc)
    for got, want in zip(model + acc, ref[:3] + ref[6], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert steps == ref[4] > 0
    assert (acc[0] > 1.5).sum() > 0 and np.all(acc[1] >= 1)


def test_the_rank_weight_is_the_log_rank_estimate_of_the_trial_that_found_the_violator():
    # one user, one positive (item 0) scored above every item but item 7, which ties it: the
    # step comes at the first draw of item 7, trial t, with weight log(floor(49 / t))
    R = np.zeros((1, 50))
    R[0, 0] = 1
    X = sp.csr_matrix(R)
    rows = np.zeros(1, np.int64)
    W = np.ones((1, 1))
    H = np.full((50, 1), -5.0)
    H[0], H[7] = 5.0, 5.0
    b = np.zeros(50)
    weights = set()
    for seed in range(20):
        state, _ = oracles.splitmix64(seed)  # the draw of the entry
        t = 0
        while True:
            t += 1
            state, bits = oracles.splitmix64(state)
            if oracles.random_index(bits, 50) == 7:
                break
        model = (W.copy(), H.copy(), b.copy())
        total, steps, _ = _one_thread_epoch(X, rows, model, np.array([seed], np.uint64), 1,
                                            True, False, (10**4, 1, 1, UPDATE_ALL), lr=0.0,
                                            reg=0.0)
        weight = np.log(max(1, np.floor(49 / t)))
        assert steps == 1
        np.testing.assert_allclose(total, weight, rtol=1e-12)  # the hinge is 1 at a tie
        weights.add(round(weight, 9))
    assert len(weights) > 3  # the seeds found the violator at different trials


def test_no_violator_within_the_cap_makes_no_step():
    R, X, rows, (W, H, b), seeds = _problem()
    R[:] = 0
    R[:, :3] = 1  # every user has items 0-2, scored far above the others
    X = sp.csr_matrix(R)
    rows = np.repeat(np.arange(R.shape[0]), 3)
    b = b + 100.0 * R[0]
    model = (W.copy(), H.copy(), b.copy())
    total, steps, skipped = _one_thread_epoch(X, rows, model, seeds, 40, True, False,
                                              (3, 1, 1, UPDATE_ALL))
    assert steps == 0 and total == 0.0 and skipped > 0  # drawn positives used trials up
    for got, want in zip(model, (W, H, b), strict=True):
        np.testing.assert_array_equal(got, want)


def test_seeded_epochs_are_reproducible_with_one_thread_and_differ_across_seeds():
    R, X, rows, start, seeds = _problem(seed=4, shape=(30, 40))

    def run(seeds):
        model = tuple(a.copy() for a in start)
        _one_thread_epoch(X, rows, model, seeds, X.nnz, True, False, (10, 2, 4, UPDATE_ALL))
        return model

    a, b, c = run(seeds), run(seeds), run(seeds + np.uint64(1))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a[1], c[1])

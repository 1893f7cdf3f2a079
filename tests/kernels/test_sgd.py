import numba
import numpy as np
import pytest

import fastmf
from fastmf._kernels.block_sgd import BATCHED, PLAIN, sgd_epoch
from fastmf._solvers.mf_sgd import (
    block_layout,
    block_schedule,
    blocked_entries,
    n_blocks,
    no_row_reg,
)
from tests import oracles


def run_epoch(kind, order, ptr, entries, model, mu, lr, reg, reg_bias, momentum=0.0,
              batch_size=1, state=None, implicit=None, row_reg=None):
    """The epoch driver with its tuples built from plain arguments (scalars in the factors'
    dtype, zero-row arrays for the unused state, implicit terms and row weights)."""
    W = model[0]
    f = W.dtype.type
    empty = np.zeros((0, 1), W.dtype)
    no_implicit = np.zeros((0, W.shape[1]), W.dtype)
    hyper = (f(mu), f(lr), f(reg), f(reg_bias), f(momentum), int(batch_size))
    return sgd_epoch(kind, (order, ptr), entries, model, hyper, state or (empty, empty),
                     implicit or (no_implicit, no_implicit),
                     row_reg or no_row_reg(W.dtype))


def blocked_problem(m, n, nnz, k, P, seed, dtype=np.float64, bias=True):
    rng = np.random.default_rng(seed)
    cells = rng.choice(m * n, size=nnz, replace=False)
    users, items = cells // n, cells % n
    values = rng.integers(1, 6, size=nnz).astype(float)
    order, block_ptr = block_layout(users, items, m, n, P, seed)
    arrays = (users[order].astype(np.int32), items[order].astype(np.int32),
              values[order].astype(dtype))
    W = (rng.normal(size=(m, k)) * 0.3).astype(dtype)
    H = (rng.normal(size=(n, k)) * 0.3).astype(dtype)
    bu = (rng.normal(size=m if bias else 0) * 0.1).astype(dtype)
    bi = (rng.normal(size=n if bias else 0) * 0.1).astype(dtype)
    return block_schedule(seed, 0, P), block_ptr, arrays, W, H, bu, bi


def row_weights(m, n, weighted, dtype):
    """Per-row L2 multipliers of the epoch kernel (``row_reg``), or None for none."""
    if not weighted:
        return None
    rng = np.random.default_rng(7)
    return rng.uniform(0.2, 2.0, m).astype(dtype), rng.uniform(0.2, 2.0, n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("adagrad", [False, True])
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_sgd_epoch_matches_python_loop(dtype, bias, adagrad, k, weighted):
    order, ptr, (u, i, v), W, H, bu, bi = blocked_problem(12, 9, 50, k, 3, seed=k, dtype=dtype,
                                                          bias=bias)
    acc_u = np.ones((12 if adagrad else 0, 1), dtype)
    acc_i = np.ones((9 if adagrad else 0, 1), dtype)
    f = np.dtype(dtype).type
    rows = row_weights(12, 9, weighted, dtype)
    ref = oracles.sgd_epoch(order, ptr, u, i, v, W, H, bu, bi, 3.0, float(f(0.05)),
                            float(f(0.1)), float(f(0.02)), acc_u[:, 0] if adagrad else None,
                            acc_i[:, 0] if adagrad else None, *(rows or (None, None)))
    sse = run_epoch(PLAIN, order, ptr, (u, i, v), (W, H, bu, bi), 3.0, 0.05, 0.1, 0.02,
                    state=(acc_u, acc_i), row_reg=rows)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for got, want in zip((W, H, bu, bi), ref[:4], strict=False):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    if adagrad:
        np.testing.assert_allclose(acc_u[:, 0], ref[4], rtol=tol)
        np.testing.assert_allclose(acc_i[:, 0], ref[5], rtol=tol)
    np.testing.assert_allclose(sse, ref[6], rtol=tol)


@pytest.mark.parametrize("batch_size", [1, 3, 100])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sgd_epoch_batched_matches_python_loop(batch_size, momentum, bias, weighted):
    order, ptr, (u, i, v), W, H, bu, bi = blocked_problem(10, 11, 60, 3, 2, seed=5, bias=bias)
    VW = np.full((10, 4) if momentum else (0, 4), 0.01)
    VH = np.full((11, 4) if momentum else (0, 4), -0.01)
    rows = row_weights(10, 11, weighted, np.float64)
    ref = oracles.sgd_epoch_batched(order, ptr, u, i, v, W, H, bu, bi, 3.0, 0.1, 0.1, 0.05,
                                    momentum, batch_size, VW, VH, *(rows or (None, None)))
    sse = run_epoch(BATCHED, order, ptr, (u, i, v), (W, H, bu, bi), 3.0, 0.1, 0.1, 0.05,
                    momentum, batch_size, state=(VW, VH), row_reg=rows)
    cols = slice(None) if bias else slice(0, 3)  # without biases the last column is unused
    for got, want in zip((W, H, bu, bi, VW[:, cols], VH[:, cols]),
                         (*ref[:4], ref[4][:, cols], ref[5][:, cols]), strict=False):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sse, ref[6], rtol=1e-10)


def test_batch_of_one_without_momentum_is_plain_sgd():
    order, ptr, (u, i, v), W, H, bu, bi = blocked_problem(8, 7, 30, 2, 2, seed=1)
    W2, H2, bu2, bi2 = W.copy(), H.copy(), bu.copy(), bi.copy()
    run_epoch(PLAIN, order, ptr, (u, i, v), (W, H, bu, bi), 3.0, 0.1, 0.1, 0.1)
    run_epoch(BATCHED, order, ptr, (u, i, v), (W2, H2, bu2, bi2), 3.0, 0.1, 0.1, 0.1)
    for a, b in ((W, W2), (H, H2), (bu, bu2), (bi, bi2)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_sgd_step_is_the_negative_gradient():
    # one rating in one block: the update is -lr * gradient of
    # 1/2 e^2 + 1/2 reg (|w|^2 + |h|^2) + 1/2 reg_b (b^2 + c^2), checked by finite differences
    rng = np.random.default_rng(0)
    k, mu, r, lr, reg, reg_b = 3, 3.0, 4.0, 1e-3, 0.2, 0.1
    w, h, b, c = rng.normal(size=k), rng.normal(size=k), 0.3, -0.2

    def loss(x):
        w_, h_, b_, c_ = x[:k], x[k:2 * k], x[2 * k], x[2 * k + 1]
        e = r - mu - b_ - c_ - w_ @ h_
        return 0.5 * e * e + 0.5 * reg * (w_ @ w_ + h_ @ h_) + 0.5 * reg_b * (b_ * b_ + c_ * c_)

    x0 = np.concatenate([w, h, [b, c]])
    eps = 1e-6
    grad = np.array([(loss(x0 + eps * d) - loss(x0 - eps * d)) / (2 * eps)
                     for d in np.eye(len(x0))])
    W, H, bu, bi = w[None].copy(), h[None].copy(), np.array([b]), np.array([c])
    run_epoch(PLAIN, np.zeros((1, 1), np.int64), np.array([0, 1]),
              (np.zeros(1, np.int32), np.zeros(1, np.int32), np.array([r])), (W, H, bu, bi), mu,
              lr, reg, reg_b)
    step = np.concatenate([W[0], H[0], bu, bi]) - x0
    np.testing.assert_allclose(step, -lr * grad, rtol=1e-6, atol=1e-10)


def test_same_result_at_one_and_two_threads():
    order, ptr, (u, i, v), W, H, bu, bi = blocked_problem(40, 30, 600, 8, 4, seed=3,
                                                          dtype=np.float32)
    results = []
    for n in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        arrays = [a.copy() for a in (W, H, bu, bi)]
        previous = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            run_epoch(PLAIN, order, ptr, (u, i, v), tuple(arrays), 3.0, 0.05, 0.05, 0.05)
        finally:
            numba.set_num_threads(previous)
        results.append(arrays)
    for a, b in zip(*results, strict=False):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("P", [1, 2, 5])
def test_block_schedule_runs_every_block_once_without_conflicts(P):
    order = block_schedule(7, 3, P)
    assert sorted(order.ravel()) == list(range(P * P))
    for row in order:
        assert len(set(row // P)) == P and len(set(row % P)) == P
    assert not np.array_equal(block_schedule(7, 3, 5), block_schedule(7, 4, 5))


def test_block_layout_groups_entries_by_block():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 20, 200), rng.integers(0, 15, 200)
    P = 3
    order, ptr = block_layout(users, items, 20, 15, P, seed=1)
    assert sorted(order) == list(range(200)) and ptr[-1] == 200
    # every user (item) stays in one row (column) group
    user_group, item_group = {}, {}
    for b in range(P * P):
        for p in order[ptr[b]:ptr[b + 1]]:
            assert user_group.setdefault(users[p], b // P) == b // P
            assert item_group.setdefault(items[p], b % P) == b % P


def test_n_blocks_shrinks_for_small_data():
    assert n_blocks(1, 50, 100_000) == 1
    assert n_blocks(12, 9, 50) == 1
    assert n_blocks(943, 1682, 90_000) == 4
    assert n_blocks(943, 1682, 200_000) == 8
    assert n_blocks(10_000, 5_000, 1_000_000) == 32


def test_block_layout_balances_ratings_over_contiguous_ranges():
    rng = np.random.default_rng(0)
    users = np.minimum(rng.zipf(1.5, 20_000) - 1, 999)  # a few very heavy users
    items = rng.integers(0, 300, 20_000)
    order, ptr = block_layout(users, items, 1000, 300, 4, seed=0)
    per_item_group = np.diff(ptr).reshape(4, 4).sum(0)
    assert per_item_group.max() < 1.2 * per_item_group.min()
    groups = np.repeat(np.arange(16), np.diff(ptr)) // 4
    first = {}
    for u, g in zip(users[order], groups, strict=False):
        first.setdefault(u, g)
    assert list(first[u] for u in sorted(first)) == sorted(first[u] for u in first)


def test_block_layout_shuffle_is_seeded_and_blocked_entries_gather_it():
    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 50, 3000), rng.integers(0, 40, 3000)
    a, ptr = block_layout(users, items, 50, 40, 2, seed=1)
    b, _ = block_layout(users, items, 50, 40, 2, seed=1)
    c, ptr_c = block_layout(users, items, 50, 40, 2, seed=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ptr, ptr_c)  # groups depend on the data, not the seed
    assert not np.array_equal(a, c)
    for s in range(4):  # same entries per block, in another order
        assert sorted(a[ptr[s]:ptr[s + 1]]) == sorted(c[ptr[s]:ptr[s + 1]])
    ratings = fastmf.Ratings(users, items, rng.random(3000), duplicates="sum")
    (u, i, v), ptr2 = blocked_entries(ratings, 2, 1, np.float32)
    order, _ = block_layout(ratings.users, ratings.items, 50, 40, 2, seed=1)
    np.testing.assert_array_equal(u, ratings.users[order])
    np.testing.assert_array_equal(i, ratings.items[order])
    np.testing.assert_array_equal(v, ratings.values[order].astype(np.float32))
    assert u.dtype == np.int32 and v.dtype == np.float32


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_solver_epoch_with_mini_batches_is_the_batched_python_loop(momentum):
    # the solver hands the driver 2-D per-row state (zero rows without momentum)
    from fastmf._solvers.mf_sgd import SGDSolver

    rng = np.random.default_rng(4)
    users, items = rng.integers(0, 30, 400), rng.integers(0, 20, 400)
    ratings = fastmf.Ratings(users, items, rng.integers(1, 6, 400).astype(float),
                             duplicates="sum")
    m, n = ratings.shape
    W, H = rng.normal(size=(m, 3)) * 0.1, rng.normal(size=(n, 3)) * 0.1
    state = {"user_factors_": W.copy(), "item_factors_": H.copy(), "user_bias_": np.zeros(m),
             "item_bias_": np.zeros(n), "global_mean_": 3.0, "sgd_seed_": 11}
    params = {"learning_rate": 0.05, "lr_schedule": "constant", "lr_decay": 0.0, "reg": 0.1,
              "reg_bias": 0.02, "reg_scaling": "count", "reg_exponent": 0.5, "batch_size": 4,
              "momentum": momentum, "first_iter": 0}
    solver = SGDSolver(ratings, state, params, np.random.default_rng(0))
    solver.step()
    got = solver.state()
    (u, i, v), ptr = blocked_entries(ratings, solver.P, 11, np.float64)
    V0 = np.zeros((m if momentum else 0, 4)), np.zeros((n if momentum else 0, 4))
    ref = oracles.sgd_epoch_batched(block_schedule(11, 0, solver.P), ptr, u, i, v, W, H,
                                    np.zeros(m), np.zeros(n), 3.0, 0.05, 0.1, 0.02, momentum, 4,
                                    *V0, *(np.maximum(np.bincount(x, minlength=size), 1) ** -0.5
                                           for x, size in ((ratings.users, m),
                                                           (ratings.items, n))))
    for name, want in zip(("user_factors_", "item_factors_", "user_bias_", "item_bias_"), ref,
                          strict=False):
        np.testing.assert_allclose(got[name], want, rtol=1e-10, atol=1e-12)

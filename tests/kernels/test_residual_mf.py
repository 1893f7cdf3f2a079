import numpy as np
import pytest

from fastmf._kernels import nn
from fastmf._kernels.residual_mf import (
    residual_mf_epoch,
    residual_mf_item_half,
    residual_mf_scores,
)
from tests import oracles
from tests.kernels.test_nn import OPTS, at_threads, fresh_state, needs_two_threads, tol

NETS = {"elu400": ((4, 1), (nn.ELU, nn.IDENTITY)),  # the default shape, hidden size scaled down
        "two hidden": ((5, 3, 1), (nn.RELU, nn.TANH, nn.IDENTITY)),
        "h=1": ((1, 1), (nn.SIGMOID, nn.IDENTITY))}


def problem(n_users, n_items, nnz, k, hidden, codes, seed=0, dtype=np.float64):
    """Ratings (centred), embeddings, biases and MLP weights; user 0 has no rating."""
    rng = np.random.default_rng(seed)
    users = rng.integers(1, n_users, nnz).astype(np.int32)
    items = rng.integers(0, n_items, nnz).astype(np.int32)
    y = (rng.integers(1, 6, nnz) - 3.5).astype(dtype)
    sizes = np.array((2 * k, *hidden))
    params = ((rng.normal(size=(n_users, k)) * 0.3).astype(dtype),
              (rng.normal(size=(n_items, k)) * 0.3).astype(dtype),
              (rng.normal(size=n_users) * 0.1).astype(dtype),
              (rng.normal(size=n_items) * 0.1).astype(dtype),
              (rng.normal(size=nn.n_params(sizes)) * 0.3).astype(dtype))
    return (users, items, y), params, (sizes, np.array(codes))


def kernel_state(name, params):
    pairs = [fresh_state(name, p.shape, p.dtype) for p in params]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def twin_state(name, state):
    return [(s1 if name != "sgd" else None, s2 if name == "adam" else None)
            for s1, s2 in zip(*state, strict=True)]


REG = (0.05, 0.01, 0.02)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 7, 500])
@pytest.mark.parametrize("name", sorted(OPTS))
@pytest.mark.parametrize("net", sorted(NETS))
def test_epoch_matches_the_twin(net, name, batch_size, dtype):
    data, params, (sizes, codes) = problem(6, 8, 60, 3, *NETS[net], seed=batch_size,
                                           dtype=dtype)
    order = np.random.default_rng(1).permutation(60)
    state = kernel_state(name, params)
    want, want_state, want_sse = oracles.residual_mf_epoch(
        order, *data, params, twin_state(name, state), sizes, codes, OPTS[name], REG,
        batch_size, 3)
    before = [p.copy() for p in params]
    sse = residual_mf_epoch(order, data, params, state, (sizes, codes), OPTS[name], REG,
                            (batch_size, 3))
    loose = dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else tol(dtype)
    np.testing.assert_allclose(sse, want_sse, **loose)
    for got, ref in zip(params, want, strict=True):
        np.testing.assert_allclose(got, ref, **loose)
    for got, ref in zip(state[0], want_state, strict=True):
        if ref[0] is not None:
            np.testing.assert_allclose(got, ref[0], **loose)
    # user 0 never occurs: its embedding, bias and state are exactly as they were (lazy steps)
    np.testing.assert_array_equal(params[0][0], before[0][0])
    assert params[2][0] == before[2][0]
    if name != "sgd":
        assert not state[0][0][0].any()


@pytest.mark.parametrize("net", sorted(NETS))
def test_batch_step_is_minus_the_finite_difference_gradient(net):
    # one batch holding every rating, plain SGD with learning rate 1: theta_new = theta - grad,
    # so the kernel's gradient is (before - after); compare with central differences of the
    # twin's objective (repeated users and items included)
    data, params, (sizes, codes) = problem(4, 5, 12, 2, *NETS[net], seed=9)
    order = np.arange(12)
    before = [p.copy() for p in params]
    state = kernel_state("sgd", params)
    residual_mf_epoch(order, data, params, state, (sizes, codes), (nn.SGD, 1.0, 0.0, 0.0, 0.0),
                      REG, (12, 0))
    users, items, y = data
    point = [p.copy() for p in before]

    def J():
        return oracles.residual_mf_batch(users, items, y, point, sizes, codes, REG)[0]

    eps = 1e-6
    for a in range(5):
        numeric = np.zeros_like(point[a])
        for j in np.ndindex(point[a].shape):
            old = point[a][j]
            point[a][j] = old + eps
            hi = J()
            point[a][j] = old - eps
            numeric[j] = (hi - J()) / (2 * eps)
            point[a][j] = old
        np.testing.assert_allclose(before[a] - params[a], numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("net", sorted(NETS))
def test_scores_split_the_first_layer_and_match_every_pair(net, dtype):
    _, params, (sizes, codes) = problem(5, 300, 10, 3, *NETS[net], seed=2, dtype=dtype)
    P, Q, bu, bi, theta = params
    item_half = np.empty((300, sizes[1]), dtype)
    residual_mf_item_half(Q, theta, sizes, item_half)
    users = np.array([4, 0, 2])
    out = np.empty((3, 300), dtype)
    residual_mf_scores(users, P, Q, bu, bi, theta, sizes, codes, item_half, out)
    want = oracles.residual_mf_scores(users, params, sizes, codes, 0.0)
    np.testing.assert_allclose(out, want, **(dict(rtol=1e-4, atol=1e-5) if dtype == np.float32
                                             else tol(dtype)))


def test_scores_of_no_user_are_empty():
    _, params, (sizes, codes) = problem(3, 4, 5, 2, *NETS["elu400"])
    item_half = np.empty((4, sizes[1]))
    residual_mf_item_half(params[1], params[4], sizes, item_half)
    out = np.empty((0, 4))
    residual_mf_scores(np.zeros(0, np.int64), *params, sizes, codes, item_half, out)
    assert out.shape == (0, 4)


def test_momentum_epochs_fit_a_planted_low_rank_matrix():
    # SGD with momentum 0.9 (lr 0.08, batches of 32) on exact rank-4 ratings: the training
    # error falls far below the first epoch's (about 100x here; asserted: 10x)
    rng = np.random.default_rng(3)
    n_users, n_items, k = 60, 50, 4
    U, V = rng.normal(size=(n_users, k)), rng.normal(size=(n_items, k))
    cells = rng.choice(n_users * n_items, 1500, replace=False)
    users, items = (cells // n_items).astype(np.int32), (cells % n_items).astype(np.int32)
    data = (users, items, np.sum(U[users] * V[items], axis=1) * 0.5)
    _, params, net = problem(n_users, n_items, 1, k, *NETS["elu400"])
    state = kernel_state("momentum", params)
    sse = [residual_mf_epoch(rng.permutation(1500), data, params, state, net,
                             (nn.SGD, 0.08, 0.9, 0.0, 0.0), (0.001, 0.001, 0.0), (32, 47 * epoch))
           for epoch in range(40)]
    assert sse[-1] < 0.1 * sse[0]


@needs_two_threads
def test_same_result_at_one_and_two_threads():
    data, params, net = problem(50, 40, 900, 8, (32, 1), (nn.ELU, nn.IDENTITY), seed=4,
                                dtype=np.float32)
    order = np.random.default_rng(0).permutation(900)

    def run():
        ps = tuple(p.copy() for p in params)
        state = kernel_state("adam", ps)
        sse = residual_mf_epoch(order, data, ps, state, net, OPTS["adam"], REG, (64, 0))
        return (sse, *ps, *state[0], *state[1])

    for a, b in zip(at_threads(1, run), at_threads(2, run), strict=True):
        np.testing.assert_array_equal(a, b)

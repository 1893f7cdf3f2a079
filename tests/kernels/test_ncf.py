import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels import nn
from fastmf._kernels.ncf import (
    ncf_block_scores,
    ncf_epoch,
    ncf_fold_in,
    ncf_item_half,
    ncf_pair_scores,
)
from tests import oracles
from tests.kernels.test_nn import OPTS, at_threads, needs_two_threads, numeric_grad, tol

#: (kg, tower sizes, codes): GMF (no tower), MLP (no GMF part), NeuMF (both)
NETS = {"gmf": (3, (0,), ()),
        "mlp": (0, (4, 3, 2), (nn.RELU, nn.RELU)),
        "neumf": (2, (4, 3), (nn.RELU,)),
        "neumf-tanh": (2, (6, 4, 2), (nn.TANH, nn.SIGMOID))}


def problem(net, n_users=6, n_items=8, density=0.35, seed=0, dtype=np.float64):
    """Positives (user 0 has none, user 1 all but one item), tables and dense weights."""
    kg, sizes, codes = NETS[net]
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density).astype(float)
    dense[0] = 0
    dense[1] = 1
    dense[1, 3] = 0
    X = sp.csr_matrix(dense)
    sizes = np.array(sizes, np.int64)
    k = kg + (sizes[0] // 2 if len(sizes) > 1 else 0)
    n_theta = nn.n_params(sizes) if len(sizes) > 1 else 0
    n_head = kg + (sizes[-1] if len(sizes) > 1 else 0)
    params = ((rng.normal(size=(n_users, k)) * 0.5).astype(dtype),
              (rng.normal(size=(n_items, k)) * 0.5).astype(dtype),
              (rng.normal(size=n_theta + n_head + 1) * 0.5).astype(dtype))
    return X, params, (sizes, np.array(codes, np.int64), kg)


def kernel_state(name, params):
    """((s1U, s1V, s1w), (s2U, s2V, s2w)) for the kernel, zero-length where absent."""
    def make(p, present):
        return np.zeros(p.shape if present else (0,) * p.ndim, p.dtype)
    return (tuple(make(p, name != "sgd") for p in params),
            tuple(make(p, name == "adam") for p in params))


def twin_state(name, state):
    return [(s1 if name != "sgd" else None, s2 if name == "adam" else None)
            for s1, s2 in zip(*state, strict=True)]


def entries(X):
    rows = np.repeat(np.arange(X.shape[0], dtype=X.indices.dtype), np.diff(X.indptr))
    return X.indptr, X.indices, rows


OPTS_NCF = OPTS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("net", sorted(NETS))
def test_pair_scores_match_the_twin_and_unknown_rows_are_zeros(net, dtype):
    X, (U, V, w), (sizes, codes, kg) = problem(net, dtype=dtype)
    users = np.array([0, 5, -1, 2, 3, -1, 4])
    items = np.array([1, 7, 2, -1, 0, -1, 4])
    out = np.empty(len(users))
    ncf_pair_scores(users, items, U, V, w, sizes, codes, kg, out)
    want = oracles.ncf_logits(users, items, U, V, w, sizes, codes, kg)
    np.testing.assert_allclose(out, want, **(dict(rtol=1e-5, atol=1e-5)
                                             if dtype == np.float32 else tol(dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("net", ["mlp", "neumf", "neumf-tanh"])
def test_block_scores_split_the_first_layer_and_match_every_pair(net, dtype):
    _, (U, V, w), (sizes, codes, kg) = problem(net, n_items=300, seed=2, dtype=dtype)
    half = np.empty((300, sizes[1]), dtype)
    ncf_item_half(V, w, sizes, kg, half)
    Q = U[[4, 0, 2]]
    out = np.empty((3, 300), dtype)
    ncf_block_scores(Q, V, w, sizes, codes, kg, half, out)
    want = oracles.ncf_block_scores(Q, V, w, sizes, codes, kg)
    np.testing.assert_allclose(out, want, **(dict(rtol=1e-4, atol=1e-5)
                                             if dtype == np.float32 else tol(dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exclude", [True, False])
@pytest.mark.parametrize("batch_size", [1, 7, 1000])
@pytest.mark.parametrize("name", sorted(OPTS_NCF))
@pytest.mark.parametrize("net", sorted(NETS))
def test_epoch_matches_the_twin(net, name, batch_size, exclude, dtype):
    X, params, netw = problem(net, seed=batch_size, dtype=dtype)
    order = np.random.default_rng(1).permutation(X.nnz)
    state = kernel_state(name, params)
    hyper = (0.03, 2, exclude, 123, 4)
    want, want_state, want_J, want_loss = oracles.ncf_epoch(
        order, X, params, twin_state(name, state), netw, OPTS[name], hyper, batch_size, 3)
    before = [p.copy() for p in params]
    J, loss = ncf_epoch(order, entries(X), params, state, netw, OPTS[name],
                        (hyper[0], hyper[1], hyper[2], np.uint64(hyper[3]), hyper[4]),
                        (batch_size, 3))
    loose = dict(rtol=5e-4, atol=5e-5) if dtype == np.float32 else tol(dtype)
    np.testing.assert_allclose([J, loss], [want_J, want_loss], **loose)
    for got, ref in zip(params, want, strict=True):
        np.testing.assert_allclose(got, ref, **loose)
    for got, ref in zip(state[0], want_state, strict=True):
        if ref[0] is not None:
            np.testing.assert_allclose(got, ref[0], **loose)
    # user 0 has no positive, so no instance: its row and state are exactly as they were
    np.testing.assert_array_equal(params[0][0], before[0][0])
    if name != "sgd":
        assert not state[0][0][0].any()


@pytest.mark.parametrize("net", sorted(NETS))
def test_batch_step_is_minus_the_finite_difference_gradient(net):
    # one batch holding every instance, plain SGD with learning rate 1: the kernel's gradient
    # is (before - after); compare with central differences of the twin's objective over the
    # same instances (repeated users and items, negatives drawn by the kernel's streams)
    X, params, (sizes, codes, kg) = problem(net, seed=9)
    order = np.arange(X.nnz)
    inst = oracles.ncf_instances(order, X, 2, True, 77, 0)
    before = [p.copy() for p in params]
    reg = 0.05
    ncf_epoch(order, entries(X), params, kernel_state("sgd", params), (sizes, codes, kg),
              (nn.SGD, 1.0, 0.0, 0.0, 0.0), (reg, 2, True, np.uint64(77), 0), (len(inst), 0))
    point = [p.copy() for p in before]
    for a in range(3):
        numeric = numeric_grad(
            lambda: oracles.ncf_batch(inst, *point, sizes, codes, kg, reg)[0], point[a])
        np.testing.assert_allclose(before[a] - params[a], numeric, rtol=1e-6, atol=1e-8)


def test_the_output_layer_is_regularised_like_the_embeddings():
    # GMF's logit is invariant to (p, q, h) -> (p / c, q, c h): with the output layer
    # penalised, the objective still changes with c, and its minimum over c is interior
    X, (U, V, w), net = problem("gmf", seed=3)
    inst = oracles.ncf_instances(np.arange(X.nnz), X, 1, True, 0, 0)

    def J(c):
        w2 = w.copy()
        w2[:-1] *= c
        return oracles.ncf_batch(inst, U / c, V, w2, *net, 0.1)[0]

    values = [J(c) for c in (0.1, 1.0, 10.0)]
    assert values[1] < values[0] and values[1] < values[2]


@pytest.mark.parametrize("side", [0, 1])
@pytest.mark.parametrize("net", sorted(NETS))
def test_fold_in_first_step_is_minus_the_scaled_gradient(net, side):
    # one epoch, no negatives, one positive per row: the row starts at zero and takes one
    # SGD step of lr / batch_size times the gradient of its sample's loss (+ the L2 term,
    # zero at zero)
    _, (U, V, w), netw = problem(net, seed=4)
    other = V if side == 0 else U
    cols = np.array([2, 0, 5])
    Xr = sp.csr_matrix((np.ones(3), (np.arange(3), cols)), shape=(3, len(other)))
    R = np.zeros((3, U.shape[1]))
    lr, bs = 0.3, 4
    ncf_fold_in(Xr.indptr, Xr.indices, R, other, w, netw, (nn.SGD, lr, 0.0, 0.0, 0.0),
                (1, 0, True, 0.2, bs, side, np.uint64(0)))
    for r in range(3):
        point = np.zeros((1, U.shape[1]))
        inst = np.array([[0, cols[r], 1]]) if side == 0 else np.array([[cols[r], 0, 1]])

        def loss(point=point, inst=inst):
            tables = (point, other) if side == 0 else (other, point)
            return oracles.ncf_batch(inst, *tables, w, *netw, 0.0)[0]

        np.testing.assert_allclose(R[r], -lr / bs * numeric_grad(loss, point)[0], rtol=1e-6,
                                   atol=1e-10)


def test_fold_in_lowers_the_rows_loss_and_leaves_empty_rows_at_zero():
    X, (U, V, w), netw = problem("neumf", seed=5)
    R = np.zeros((X.shape[0], U.shape[1]))
    ncf_fold_in(X.indptr, X.indices, R, V, w, netw, OPTS["adam"],
                (30, 2, True, 0.0, 1, 0, np.uint64(1)))
    np.testing.assert_array_equal(R[0], 0)  # user 0 has no positive
    Xd = X.toarray()
    for u in range(2, X.shape[0]):
        users = np.full(X.shape[1], u)
        items = np.arange(X.shape[1])
        before = oracles.ncf_logits(users, items, np.zeros_like(R), V, w, *netw)
        after = oracles.ncf_logits(users, items, R, V, w, *netw)
        pos = Xd[u] > 0
        # the positives move up relative to the other items
        assert after[pos].mean() - after[~pos].mean() > before[pos].mean() - before[~pos].mean()


@needs_two_threads
@pytest.mark.parametrize("net", ["gmf", "neumf"])
def test_same_result_at_one_and_two_threads(net):
    X, params, netw = problem(net, n_users=80, n_items=60, density=0.2, seed=6,
                              dtype=np.float32)
    order = np.random.default_rng(0).permutation(X.nnz)

    def run():
        ps = tuple(p.copy() for p in params)
        state = kernel_state("adam", ps)
        J = ncf_epoch(order, entries(X), ps, state, netw, OPTS["adam"],
                      (0.01, 4, True, np.uint64(3), 1), (64, 0))
        R = np.zeros((X.shape[0], ps[0].shape[1]), np.float32)
        ncf_fold_in(X.indptr, X.indices, R, ps[1], ps[2], netw, OPTS["adam"],
                    (3, 4, True, 0.01, 64, 0, np.uint64(2)))
        return (*J, *ps, *state[0], *state[1], R)

    for a, b in zip(at_threads(1, run), at_threads(2, run), strict=True):
        np.testing.assert_array_equal(a, b)

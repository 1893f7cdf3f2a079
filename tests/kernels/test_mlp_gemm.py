import numpy as np
import pytest

from fastmf._kernels import nn
from fastmf._kernels.mlp_gemm import (
    backward,
    backward_parts,
    block,
    forward,
    forward_parts,
    part_size,
)
from tests import oracles
from tests.kernels.test_nn import CODES, at_threads, away_from_zero, needs_two_threads, tol

NETS = [((5, 4, 3), (nn.TANH, nn.RELU)), ((3, 1), (nn.IDENTITY,)),
        ((6, 5, 4, 2), (nn.ELU, nn.SIGMOID, nn.RELU))]


def layer_major(X, sizes, cap):
    buf = np.zeros(cap * int(np.sum(sizes)), X.dtype)
    block(buf, cap, np.asarray(sizes), 0, len(X))[...] = X
    return buf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 7])
@pytest.mark.parametrize("net", range(len(NETS)))
def test_forward_and_backward_match_the_twin(net, m, dtype):
    sizes, codes = (np.array(v, np.int64) for v in NETS[net])
    rng = np.random.default_rng(net)
    theta = (rng.normal(size=nn.n_params(sizes)) * 0.5).astype(dtype)
    X = away_from_zero(rng, (m, sizes[0])).astype(dtype)
    cap = m + 3  # the blocks of a batch smaller than the buffers' capacity
    A = layer_major(X, sizes, cap)
    forward(theta, sizes, codes, A, cap, m)
    outs = oracles.nn_mlp_forward(theta, sizes, codes, X)
    for layer, want in enumerate(outs):
        np.testing.assert_allclose(block(A, cap, sizes, layer, m), want, **tol(dtype))
    dout = rng.normal(size=(m, sizes[-1])).astype(dtype)
    D = np.zeros_like(A)
    block(D, cap, sizes, len(sizes) - 1, m)[...] = dout
    grad = np.full(len(theta), np.nan, dtype)  # overwritten everywhere
    backward(theta, sizes, codes, A, D, cap, m, grad, 0.5, True)
    want_grad, want_dx = oracles.nn_mlp_backward(theta, sizes, codes, X, dout)
    loose = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else tol(dtype)
    np.testing.assert_allclose(grad, 0.5 * want_grad, **loose)
    np.testing.assert_allclose(block(D, cap, sizes, 0, m), want_dx, **loose)


def test_backward_without_dx_leaves_the_input_block_alone():
    sizes, codes = np.array([4, 3]), np.array([CODES[2]])
    rng = np.random.default_rng(0)
    theta = rng.normal(size=nn.n_params(sizes))
    A = layer_major(rng.normal(size=(2, 4)), sizes, 2)
    forward(theta, sizes, codes, A, 2, 2)
    D = np.zeros_like(A)
    D[8:] = 1.0
    backward(theta, sizes, codes, A, D, 2, 2, np.zeros(len(theta)), 1.0, False)
    np.testing.assert_array_equal(D[:8], 0)


def gemm_passes(theta, sizes, codes, X, dout, scale=1.0):
    """:func:`forward` and :func:`backward` of the samples ``X``: ``(outputs, grad, dX)``."""
    m = len(X)
    A = layer_major(X, sizes, m)
    forward(theta, sizes, codes, A, m, m)
    D = np.zeros_like(A)
    block(D, m, sizes, len(sizes) - 1, m)[...] = dout
    grad = np.empty_like(theta)
    backward(theta, sizes, codes, A, D, m, m, grad, scale, True)
    return block(A, m, sizes, len(sizes) - 1, m).copy(), grad, block(D, m, sizes, 0, m).copy()


@pytest.mark.parametrize("net", range(len(NETS)))
def test_parameter_gradients_are_the_finite_differences(net):
    sizes, codes = (np.array(v, np.int64) for v in NETS[net])
    rng = np.random.default_rng(30 + net)
    theta = rng.normal(size=nn.n_params(sizes)) * 0.5
    X = away_from_zero(rng, (3, sizes[0]))
    C = rng.normal(size=(3, sizes[-1]))

    def loss():
        return float(np.sum(C * gemm_passes(theta, sizes, codes, X, C)[0]))

    eps = 1e-6
    numeric = np.zeros_like(theta)
    for j in range(len(theta)):
        old = theta[j]
        theta[j] = old + eps
        hi = loss()
        theta[j] = old - eps
        numeric[j] = (hi - loss()) / (2 * eps)
        theta[j] = old
    _, grad, _ = gemm_passes(theta, sizes, codes, X, C, 0.25)
    np.testing.assert_allclose(grad, 0.25 * numeric, rtol=1e-5, atol=1e-7)


def test_batch_passes_are_the_per_sample_passes():
    sizes, codes = (np.array(v, np.int64) for v in NETS[2])
    rng = np.random.default_rng(2)
    theta = rng.normal(size=nn.n_params(sizes)) * 0.5
    X = rng.normal(size=(7, sizes[0]))
    dout = rng.normal(size=(7, sizes[-1]))
    out, _, dX = gemm_passes(theta, sizes, codes, X, dout)
    width = int(sizes.sum())
    for s in range(7):
        a = np.zeros(width)
        a[:sizes[0]] = X[s]
        nn.mlp_forward(theta, sizes, codes, a, 0)
        d = np.zeros(width)
        d[-sizes[-1]:] = dout[s]
        nn.mlp_backward(theta, sizes, codes, a, d, True)
        np.testing.assert_allclose(out[s], a[-sizes[-1]:], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dX[s], d[:sizes[0]], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("m,n_parts", [(7, 2), (1, 2), (9, 3), (6, 4)])
def test_parts_cover_the_batch_in_order(m, n_parts):
    sizes_ = [part_size(m, n_parts, c) for c in range(n_parts)]
    assert sum(sizes_) == m and all(s >= 0 for s in sizes_)
    assert sizes_ == sorted(sizes_, reverse=True)  # full parts first, then the rest (or none)


def parts_passes(theta, sizes, codes, X, dout, n_parts, scale):
    """:func:`forward_parts` and :func:`backward_parts` of ``X``: ``(outputs, grad, dX)``."""
    m = len(X)
    cap = -(-m // n_parts)
    A = np.zeros((n_parts, cap * int(np.sum(sizes))), X.dtype)
    D = np.zeros_like(A)
    for c in range(n_parts):
        lo, mc = c * cap, part_size(m, n_parts, c)
        block(A[c], cap, sizes, 0, mc)[...] = X[lo:lo + mc]
    forward_parts(theta, sizes, codes, A, cap, m)
    for c in range(n_parts):
        lo, mc = c * cap, part_size(m, n_parts, c)
        block(D[c], cap, sizes, len(sizes) - 1, mc)[...] = dout[lo:lo + mc]
    G = np.full((n_parts, len(theta)), np.nan, X.dtype)
    grad = np.empty_like(theta)
    backward_parts(theta, sizes, codes, A, D, cap, m, G, grad, scale, True)

    def rows(buf, layer):
        return np.vstack([block(buf[c], cap, sizes, layer, part_size(m, n_parts, c))
                          for c in range(n_parts)])

    return rows(A, len(sizes) - 1), grad, rows(D, 0)


@pytest.mark.parametrize("m,n_parts", [(7, 2), (1, 2), (8, 3)])
def test_parts_are_the_whole_batch_pass(m, n_parts):
    sizes, codes = (np.array(v, np.int64) for v in NETS[2])
    rng = np.random.default_rng(m)
    theta = rng.normal(size=nn.n_params(sizes)) * 0.5
    X = away_from_zero(rng, (m, sizes[0]))
    dout = rng.normal(size=(m, sizes[-1]))
    got = parts_passes(theta, sizes, codes, X, dout, n_parts, 0.5)
    for a, b in zip(got, gemm_passes(theta, sizes, codes, X, dout, 0.5), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@needs_two_threads
def test_parts_give_the_same_result_at_one_and_two_threads():
    sizes, codes = np.array([16, 40, 1]), np.array([nn.ELU, nn.IDENTITY])
    rng = np.random.default_rng(7)
    theta = (rng.normal(size=nn.n_params(sizes)) * 0.3).astype(np.float32)
    X = rng.normal(size=(300, 16)).astype(np.float32)
    dout = rng.normal(size=(300, 1)).astype(np.float32)
    for a, b in zip(*(at_threads(n, lambda: parts_passes(theta, sizes, codes, X, dout, 2, 0.1))
                      for n in (1, 2)), strict=True):
        np.testing.assert_array_equal(a, b)

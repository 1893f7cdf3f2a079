import numpy as np
import pytest

from fastmf._kernels import nn
from fastmf._kernels.mlp_gemm import backward, block, forward
from tests import oracles
from tests.kernels.test_nn import CODES, away_from_zero, tol

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

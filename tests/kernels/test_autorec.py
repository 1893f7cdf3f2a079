import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import fmin_l_bfgs_b

from fastmf._kernels import nn
from fastmf._kernels.autorec import autorec_encode, autorec_epoch, autorec_loss_grad, param_views
from tests import oracles
from tests.kernels.test_nn import OPTS, at_threads, fresh_state, needs_two_threads, tol


def problem(m, n, h, density=0.4, seed=0, dtype=np.float64, empty_row=None, empty_col=None):
    """A CSR of ratings 1..5 and AutoRec parameters; optional empty row / column."""
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    if empty_row is not None:
        mask[empty_row] = False
    if empty_col is not None:
        mask[:, empty_col] = False
    dense = np.where(mask, rng.integers(1, 6, (m, n)), 0).astype(dtype)
    X = sp.csr_matrix(dense)
    X.sort_indices()
    params = ((rng.normal(size=(n, h)) * 0.3).astype(dtype), (rng.normal(size=h) * 0.1)
              .astype(dtype), (rng.normal(size=(n, h)) * 0.3).astype(dtype),
              (rng.normal(size=n) * 0.1 + 3).astype(dtype))
    return X, mask, params


def csr(X):
    return X.indptr, X.indices, X.data


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_rows_and_more_rows_than_chunks_match_the_twin(dtype):
    # rows and columns of 0 to ~40 entries (the kernels take four entries per pass, then the
    # rest) and more rows than the kernels' interleaved chunks
    X, mask, params = problem(300, 45, 6, density=0.5, seed=11, dtype=dtype, empty_row=7,
                              empty_col=3)
    X = sp.csr_matrix(X.multiply(np.random.default_rng(12).random((300, 1)) < 0.8))
    X.eliminate_zeros()
    X.sort_indices()
    mask = X.toarray() != 0
    grads = tuple(np.full_like(p, np.nan) for p in params)
    J = autorec_loss_grad(*csr(X), params, grads, nn.SIGMOID, 0.3)
    want_J, want, _ = oracles.autorec_objective(X.toarray(), mask, *params, nn.SIGMOID, 0.3)
    loose = dict(rtol=2e-4, atol=2e-3) if dtype == np.float32 else dict(rtol=1e-10)
    np.testing.assert_allclose(J, want_J, rtol=1e-5 if dtype == np.float32 else 1e-12)
    for got, ref in zip(grads, want, strict=True):
        np.testing.assert_allclose(got, ref, **loose)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("code", [nn.SIGMOID, nn.IDENTITY, nn.TANH, nn.ELU])
def test_loss_and_gradient_match_the_twin(code, dtype):
    X, mask, params = problem(9, 7, 4, seed=code, dtype=dtype)
    grads = tuple(np.full_like(p, np.nan) for p in params)
    J = autorec_loss_grad(*csr(X), params, grads, code, 0.3)
    want_J, want, _ = oracles.autorec_objective(X.toarray(), mask, *params, code, 0.3)
    np.testing.assert_allclose(J, want_J, rtol=1e-5 if dtype == np.float32 else 1e-12)
    for got, ref in zip(grads, want, strict=True):
        np.testing.assert_allclose(got, ref, **(dict(rtol=1e-4, atol=1e-4) if dtype == np.float32
                                                else tol(dtype)))


@pytest.mark.parametrize("case", ["plain", "empty row", "empty column", "one row", "h=1"])
def test_gradient_is_the_finite_difference_of_the_objective(case):
    m, n, h = {"one row": (1, 6, 3), "h=1": (6, 5, 1)}.get(case, (6, 5, 3))
    X, _, params = problem(m, n, h, density=0.5, seed=3, empty_row=0 if case == "empty row"
                           else None, empty_col=2 if case == "empty column" else None)
    theta = np.concatenate([p.ravel() for p in params])
    grad = np.empty_like(theta)
    views, gviews = param_views(theta, n, h), param_views(grad, n, h)

    def J():
        return autorec_loss_grad(*csr(X), views, param_views(np.empty_like(theta), n, h),
                                 nn.SIGMOID, 0.2)

    autorec_loss_grad(*csr(X), views, gviews, nn.SIGMOID, 0.2)
    eps = 1e-6
    numeric = np.empty_like(theta)
    for j in range(len(theta)):
        old = theta[j]
        theta[j] = old + eps
        hi = J()
        theta[j] = old - eps
        numeric[j] = (hi - J()) / (2 * eps)
        theta[j] = old
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)


def test_empty_rows_and_columns_get_only_their_weight_decay():
    X, _, params = problem(6, 5, 3, seed=4, empty_row=1, empty_col=3)
    grads = tuple(np.empty_like(p) for p in params)
    autorec_loss_grad(*csr(X), params, grads, nn.SIGMOID, 0.5)
    V, _, W, _ = params
    gV, _, gW, gb = grads
    np.testing.assert_allclose(gW[3], 0.5 * W[3], rtol=1e-15)
    np.testing.assert_allclose(gV[3], 0.5 * V[3], rtol=1e-15)
    assert gb[3] == 0


def test_codes_are_the_encoder_and_give_the_reconstruction_as_an_inner_product():
    # I-AutoRec at prediction time: rhat[u, i] = W[u] . h_i + b[u] with h_i the item's code
    X, mask, params = problem(8, 6, 3, seed=5)
    V, mu, W, b = params
    H = np.empty((8, 3))
    autorec_encode(*csr(X), np.arange(8), V, mu, nn.SIGMOID, H)
    np.testing.assert_allclose(H, oracles.nn_act(X.toarray() @ V + mu, nn.SIGMOID), rtol=1e-13)
    recon = H @ W.T + b
    J, _, sse = oracles.autorec_objective(X.toarray(), mask, *params, nn.SIGMOID, 0.0)
    np.testing.assert_allclose(np.sum(((recon - X.toarray()) * mask) ** 2), sse, rtol=1e-12)


def autorec_state(name, params, dtype):
    pairs = [fresh_state(name, p.shape, dtype) for p in params]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 3, 50])
@pytest.mark.parametrize("name", sorted(OPTS))
def test_minibatch_epoch_matches_the_twin(name, batch_size, dtype):
    X, mask, params = problem(10, 8, 4, seed=6, dtype=dtype, empty_row=2)
    order = np.random.default_rng(1).permutation(10)
    state = autorec_state(name, params, dtype)
    twin_state = [(s1 if name != "sgd" else None, s2 if name == "adam" else None)
                  for s1, s2 in zip(*state, strict=True)]
    want, _, want_sse = oracles.autorec_epoch(X.toarray(), mask, order, params, twin_state,
                                              OPTS[name], nn.SIGMOID, 0.4, batch_size, 5)
    sse = autorec_epoch(*csr(X), order, params, state, OPTS[name], nn.SIGMOID, 0.4,
                        (batch_size, 5))
    loose = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else tol(dtype)
    np.testing.assert_allclose(sse, want_sse, **loose)
    for got, ref in zip(params, want, strict=True):
        np.testing.assert_allclose(got, ref, **loose)


def test_lbfgs_on_the_flat_vector_fits_the_observed_entries():
    # SciPy's L-BFGS-B drives the kernel through float64 views of one vector; with little
    # regularisation it nearly interpolates a small matrix (a property, not a trajectory)
    X, mask, params = problem(30, 20, 8, density=0.3, seed=7)
    n, h = 20, 8
    grad = np.empty(2 * n * h + h + n)

    def fun(theta):
        J = autorec_loss_grad(*csr(X), param_views(theta, n, h), param_views(grad, n, h),
                              nn.SIGMOID, 1e-3)
        return J, grad

    theta0 = np.concatenate([p.ravel() for p in params])
    J0 = fun(theta0)[0]
    theta, J, info = fmin_l_bfgs_b(fun, theta0, maxiter=300)
    _, _, sse = oracles.autorec_objective(X.toarray(), mask, *param_views(theta, n, h),
                                          nn.SIGMOID, 0.0)
    assert J < 0.05 * J0
    assert np.sqrt(sse / mask.sum()) < 0.3  # ratings 1..5: far below the data's spread


@needs_two_threads
def test_same_result_at_one_and_two_threads():
    X, _, params = problem(120, 90, 16, density=0.2, seed=8, dtype=np.float32)

    def run():
        ps = tuple(p.copy() for p in params)
        grads = tuple(np.empty_like(p) for p in params)
        J = autorec_loss_grad(*csr(X), ps, grads, nn.SIGMOID, 0.1)
        state = autorec_state("adam", ps, np.float32)
        sse = autorec_epoch(*csr(X), np.random.default_rng(0).permutation(120), ps, state,
                            OPTS["adam"], nn.SIGMOID, 0.1, (16, 0))
        return (J, sse, *grads, *ps)

    for a, b in zip(at_threads(1, run), at_threads(2, run), strict=True):
        np.testing.assert_array_equal(a, b)

import numba
import numpy as np
import pytest

from fastmf._kernels import nn
from tests import oracles

CODES = [nn.IDENTITY, nn.SIGMOID, nn.TANH, nn.RELU, nn.ELU]
DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-13)


def away_from_zero(rng, size, margin=0.05):
    """Normal draws with |z| >= margin, so the finite differences never straddle relu's kink."""
    z = rng.normal(size=size)
    return np.where(np.abs(z) < margin, np.sign(z + 1e-12) * margin, z)


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar function ``f`` at the float64 array ``x``."""
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        old = x[j]
        x[j] = old + eps
        hi = f()
        x[j] = old - eps
        lo = f()
        x[j] = old
        g[j] = (hi - lo) / (2 * eps)
    return g


def at_threads(n, fn):
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        return fn()
    finally:
        numba.set_num_threads(previous)


needs_two_threads = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                                       reason="needs 2 threads")


def test_the_name_tables_cover_every_code():
    assert sorted(nn.ACTIVATIONS.values()) == CODES
    assert set(nn.LOSSES) == {"squared", "log"} and set(nn.OPTIMIZERS) == {"sgd", "adam"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("code", CODES)
def test_activation_and_its_derivative_match_the_formulas(code, dtype):
    z = (away_from_zero(np.random.default_rng(code), 50) * 3).astype(dtype)
    a = z.copy()
    nn.activate(a, code)
    np.testing.assert_allclose(a, oracles.nn_act(z, code), **tol(dtype))
    d = np.linspace(-1, 1, 50).astype(dtype)
    want = d * oracles.nn_act_grad(z, code)
    nn.activation_backward(a, d, code)
    np.testing.assert_allclose(d, want, **tol(dtype))


@pytest.mark.parametrize("code", CODES)
def test_activation_derivative_is_the_finite_difference(code):
    # elementwise, so the gradient of sum(f(z)) is f'(z)
    z = away_from_zero(np.random.default_rng(1), 20)

    def total():
        a = z.copy()
        nn.activate(a, code)
        return a.sum()

    a = z.copy()
    nn.activate(a, code)
    d = np.ones_like(z)
    nn.activation_backward(a, d, code)
    np.testing.assert_allclose(d, numeric_grad(total, z), rtol=1e-6, atol=1e-8)


def test_sigmoid_saturates_without_overflow():
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], np.float32)
    with np.errstate(all="raise"):
        nn.activate(z, nn.SIGMOID)
    assert np.all(np.isfinite(z)) and z[0] == 0 and z[-1] == 1 and z[2] == 0.5


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("code", CODES)
def test_dense_layer_matches_the_twin(code, dtype):
    rng = np.random.default_rng(code)
    n, n_in, n_out = 6, 5, 4
    X = rng.normal(size=(n, n_in)).astype(dtype)
    W = rng.normal(size=(n_in, n_out)).astype(dtype)
    b = rng.normal(size=n_out).astype(dtype)
    dout = rng.normal(size=(n, n_out)).astype(dtype)
    A, Dz, DX = (np.empty((n, m), dtype) for m in (n_out, n_out, n_in))
    for s in range(n):
        nn.dense_forward(X[s], W, b, code, A[s])
        Dz[s] = dout[s]
        nn.dense_backward(W, A[s], code, Dz[s], DX[s])
    gW, gb = np.empty_like(W), np.empty_like(b)
    nn.dense_grad(X, Dz, n, gW, gb, 0.5)
    dx, want_gW, want_gb = oracles.nn_dense_backward(X, W, b, code, dout)
    np.testing.assert_allclose(A, oracles.nn_dense_forward(X, W, b, code), **tol(dtype))
    np.testing.assert_allclose(DX, dx, **tol(dtype))
    np.testing.assert_allclose(gW, 0.5 * want_gW, **tol(dtype))
    np.testing.assert_allclose(gb, 0.5 * want_gb, **tol(dtype))


@pytest.mark.parametrize("code", CODES)
def test_dense_gradients_are_the_finite_differences(code):
    # L = sum_s c_s . f(x_s W + b): the backward pass against central differences of the
    # kernel's own forward pass, for x, W and b
    rng = np.random.default_rng(10 + code)
    n, n_in, n_out = 3, 4, 3
    X = away_from_zero(rng, (n, n_in))
    W = rng.normal(size=(n_in, n_out))
    b = rng.normal(size=n_out)
    C = rng.normal(size=(n, n_out))

    def loss():
        out = np.empty(n_out)
        total = 0.0
        for s in range(n):
            nn.dense_forward(X[s], W, b, code, out)
            total += C[s] @ out
        return total

    A, Dz, DX = np.empty((n, n_out)), C.copy(), np.empty((n, n_in))
    for s in range(n):
        nn.dense_forward(X[s], W, b, code, A[s])
        nn.dense_backward(W, A[s], code, Dz[s], DX[s])
    gW, gb = np.empty_like(W), np.empty_like(b)
    nn.dense_grad(X, Dz, n, gW, gb, 1.0)
    for got, x in ((DX, X), (gW, W), (gb, b)):
        np.testing.assert_allclose(got, numeric_grad(loss, x), rtol=1e-5, atol=1e-7)


def mlp_case(rng, sizes, codes, n, dtype=np.float64):
    sizes, codes = np.array(sizes), np.array(codes)
    theta = (rng.normal(size=nn.n_params(sizes)) * 0.5).astype(dtype)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    return sizes, codes, theta, X


def kernel_mlp(sizes, codes, theta, X, dout):
    """Forward and backward pass of each sample: ``(A, D)``."""
    n, width = X.shape[0], int(sizes.sum())
    A = np.zeros((n, width), theta.dtype)
    D = np.zeros((n, width), theta.dtype)
    A[:, :sizes[0]] = X
    D[:, -sizes[-1]:] = dout
    for s in range(n):
        nn.mlp_forward(theta, sizes, codes, A[s], 0)
        nn.mlp_backward(theta, sizes, codes, A[s], D[s], True)
    return A, D


MLPS = [((4, 3, 1), (nn.ELU, nn.IDENTITY)),
        ((6, 5, 4, 2), (nn.RELU, nn.TANH, nn.SIGMOID)),
        ((3, 1, 1), (nn.SIGMOID, nn.IDENTITY)),   # hidden size 1
        ((5, 2), (nn.IDENTITY,))]                 # a single (output) layer


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes,codes", MLPS)
def test_mlp_matches_the_twin(sizes, codes, dtype):
    rng = np.random.default_rng(len(sizes))
    sizes, codes, theta, X = mlp_case(rng, sizes, codes, 5, dtype)
    dout = rng.normal(size=(5, sizes[-1])).astype(dtype)
    A, D = kernel_mlp(sizes, codes, theta, X, dout)
    outs = oracles.nn_mlp_forward(theta, sizes, codes, X)
    _, want_dx = oracles.nn_mlp_backward(theta, sizes, codes, X, dout)
    np.testing.assert_allclose(A, np.hstack(outs), **tol(dtype))
    np.testing.assert_allclose(D[:, :sizes[0]], want_dx, **tol(dtype))


@pytest.mark.parametrize("sizes,codes", MLPS)
def test_mlp_gradients_are_the_finite_differences(sizes, codes):
    rng = np.random.default_rng(20 + len(sizes))
    sizes, codes, theta, X = mlp_case(rng, sizes, codes, 3)
    C = rng.normal(size=(3, sizes[-1]))

    def loss():
        a = np.zeros(int(sizes.sum()))
        total = 0.0
        for s in range(3):
            a[:sizes[0]] = X[s]
            nn.mlp_forward(theta, sizes, codes, a, 0)
            total += C[s] @ a[-sizes[-1]:]
        return total

    _, D = kernel_mlp(sizes, codes, theta, X, C)
    np.testing.assert_allclose(D[:, :sizes[0]], numeric_grad(loss, X), rtol=1e-5, atol=1e-7)


def test_mlp_forward_from_a_later_layer_reuses_the_given_activation():
    rng = np.random.default_rng(3)
    sizes, codes, theta, X = mlp_case(rng, (4, 3, 2, 1), (nn.ELU, nn.TANH, nn.IDENTITY), 1)
    a = np.zeros(int(sizes.sum()))
    a[:4] = X[0]
    nn.mlp_forward(theta, sizes, codes, a, 0)
    b = np.full_like(a, np.nan)
    b[4:7] = a[4:7]  # only layer 1's input is given
    nn.mlp_forward(theta, sizes, codes, b, 1)
    np.testing.assert_array_equal(b[7:], a[7:])


@pytest.mark.parametrize("code", [nn.SQUARED, nn.LOG])
def test_losses_match_the_twin_and_their_finite_differences(code):
    pred = np.array([-30.0, -2.0, -0.3, 0.0, 0.4, 3.0, 30.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]) if code == nn.LOG else pred * 0.5 + 1
    got = np.array([nn.loss_grad(p, t, code) for p, t in zip(pred, y, strict=True)])
    want_loss, want_grad = oracles.nn_loss(pred, y, code)
    np.testing.assert_allclose(got[:, 0], want_loss, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[:, 1], want_grad, rtol=1e-12, atol=1e-14)
    eps = 1e-6
    numeric = [(nn.loss_grad(p + eps, t, code)[0] - nn.loss_grad(p - eps, t, code)[0]) / (2 * eps)
               for p, t in zip(pred, y, strict=True)]
    np.testing.assert_allclose(got[:, 1], numeric, rtol=1e-6, atol=1e-8)


def test_log_loss_is_stable_for_huge_logits():
    with np.errstate(all="raise"):
        big = nn.loss_grad(np.float32(1e4), np.float32(0), nn.LOG)
        small = nn.loss_grad(np.float32(-1e4), np.float32(0), nn.LOG)
    assert big == (1e4, 1.0) and small == (0.0, 0.0)


OPTS = {"adam": (nn.ADAM, 0.01, 0.9, 0.999, 1e-8),
        "momentum": (nn.SGD, 0.05, 0.9, 0.0, 0.0),
        "sgd": (nn.SGD, 0.05, 0.0, 0.0, 0.0)}


def fresh_state(name, shape, dtype):
    if name == "adam":
        return np.zeros(shape, dtype), np.zeros(shape, dtype)
    if name == "momentum":
        return np.zeros(shape, dtype), np.zeros((0,) + shape[1:], dtype)
    return np.zeros((0,) + shape[1:], dtype), np.zeros((0,) + shape[1:], dtype)


def twin_state(name, s1, s2):
    return (s1 if name != "sgd" else None), (s2 if name == "adam" else None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", [0.0, 0.1])
@pytest.mark.parametrize("name", sorted(OPTS))
def test_optimizer_steps_match_the_textbook_formulas(name, decay, dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(size=5000).astype(dtype)  # more than one block of opt_step_flat
    s1, s2 = fresh_state(name, x.shape, dtype)
    xs = [x.copy(), x.copy()]
    states = [(s1.copy(), s2.copy()), (s1.copy(), s2.copy())]
    ref, r1, r2 = x.astype(float), *twin_state(name, s1, s2)
    for t in range(1, 4):
        g = rng.normal(size=x.shape).astype(dtype)
        nn.opt_step(xs[0], g, *states[0], OPTS[name], t, decay)
        nn.opt_step_flat(xs[1], g, *states[1], OPTS[name], t, decay)
        ref, r1, r2 = oracles.nn_opt_step(ref, g, r1, r2, OPTS[name], t, decay)
    for got in xs:
        np.testing.assert_allclose(got, ref, **tol(dtype))
    if name != "sgd":
        np.testing.assert_allclose(states[1][0], r1, **tol(dtype))
    if name == "adam":
        np.testing.assert_allclose(states[1][1], r2, **tol(dtype))


def test_adam_first_step_moves_each_coordinate_by_the_learning_rate():
    # bias-corrected Adam: the first step is lr * sign(g) (up to eps), whatever the scale of g
    x = np.zeros(4)
    m, v = np.zeros(4), np.zeros(4)
    nn.opt_step(x, np.array([1e-3, -5.0, 200.0, -1e-2]), m, v, OPTS["adam"], 1, 0.0)
    np.testing.assert_allclose(x, [-0.01, 0.01, -0.01, 0.01], rtol=1e-4)


@pytest.mark.parametrize("name", sorted(OPTS))
def test_lazy_row_step_touches_only_the_listed_rows(name):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6, 3))
    G = np.zeros_like(X)
    G[[1, 4]] = rng.normal(size=(2, 3))
    S1, S2 = fresh_state(name, X.shape, X.dtype)
    S1 += 0.1 if S1.size else 0  # nonzero moments: an untouched row would decay in Adam
    S2 += 0.2 if S2.size else 0
    X0, S10, S20, G0 = X.copy(), S1.copy(), S2.copy(), G.copy()
    rows = np.array([4, 1, -7])  # only the first n are used
    nn.opt_step_rows(X, G, S1, S2, rows, 2, OPTS[name], 3)
    untouched = [0, 2, 3, 5]
    for after, before in ((X, X0), (S1, S10), (S2, S20)):
        if before.size:  # an absent state stays absent
            np.testing.assert_array_equal(after[untouched], before[untouched])
    assert not G.any()  # the used gradient rows are cleared for the next batch
    for r in (1, 4):
        s1 = S10[r] if S10.size else None
        s2 = S20[r] if S20.size else None
        want, *_ = oracles.nn_opt_step(X0[r], G0[r], s1, s2, OPTS[name], 3, 0.0)
        np.testing.assert_allclose(X[r], want, rtol=1e-12)


def test_touch_row_lists_each_row_once_per_stamp():
    mark = np.full(5, -1)
    rows = np.empty(6, np.int64)
    n = 0
    for r in (3, 1, 3, 0, 1, 3):
        n = nn.touch_row(r, mark, 7, rows, n)
    assert n == 3 and list(rows[:3]) == [3, 1, 0]
    n = 0  # a new stamp lists the rows again: the old marks do not leak into it
    for r in (1, 3, 1):
        n = nn.touch_row(r, mark, 8, rows, n)
    assert n == 2 and list(rows[:2]) == [1, 3]


@needs_two_threads
def test_dense_gradients_are_the_same_at_one_and_two_threads():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 16)).astype(np.float32)
    Dz = rng.normal(size=(300, 40)).astype(np.float32)

    def grads():
        gW = np.empty((16, 40), np.float32)
        gb = np.empty(40, np.float32)
        nn.dense_grad(X, Dz, 300, gW, gb, 1.0)
        return gW, gb

    for a, b in zip(at_threads(1, grads), at_threads(2, grads), strict=True):
        np.testing.assert_array_equal(a, b)

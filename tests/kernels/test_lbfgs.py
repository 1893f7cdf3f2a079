import numpy as np
import pytest

from fastmf._kernels.lbfgs import BLOCK, combine, gram_rows
from fastmf._solvers.lbfgs import LBFGS
from tests import oracles
from tests.kernels.test_nn import at_threads, needs_two_threads

N = 2 * BLOCK + 37  # three blocks, the last one short


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [[4], [0, 3, 5]])
def test_gram_rows_are_the_dot_products(rows, dtype):
    B = np.random.default_rng(0).normal(size=(6, N)).astype(dtype)
    out = np.full((len(rows), 6), np.nan)
    gram_rows(B, np.array(rows), out)
    B64 = B.astype(np.float64)
    np.testing.assert_allclose(out, B64[rows] @ B64.T, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_combine_skips_rows_with_a_zero_coefficient(dtype):
    B = np.random.default_rng(1).normal(size=(5, N)).astype(dtype)
    B[2] = np.nan  # a row not in use: never read into the result
    coef = np.array([0.5, -2.0, 0.0, 0.0, 3.0])
    out = np.full(N, np.nan, dtype)
    combine(B, coef, out)
    want = coef[[0, 1, 4]] @ B[[0, 1, 4]].astype(np.float64)
    np.testing.assert_allclose(out, want, **(dict(rtol=1e-5, atol=1e-5) if dtype == np.float32
                                              else dict(rtol=1e-12)))


def quadratic(scale, centre):
    def fun(x, g):
        g[:] = scale * (x - centre)
        return float(0.5 * scale @ (x - centre) ** 2)
    return fun


def test_direction_is_the_two_loop_recursion():
    # after a few iterations on a quadratic, the memory's direction (coefficients over the
    # stored vectors, combined) equals the textbook recursion over the same pairs
    rng = np.random.default_rng(2)
    scale, centre = rng.uniform(1, 50, 300), rng.normal(size=300)
    opt = LBFGS(quadratic(scale, centre), np.zeros(300), memory=4)
    for _ in range(7):  # more iterations than memory: the ring of pairs wraps
        assert opt.next()
    m, B = opt._m, opt._B.astype(np.float64)
    pairs = [(B[j], B[m + j]) for j in opt._slots]
    assert len(pairs) == 4
    d = np.empty(300)
    combine(opt._B, opt._direction(), d)
    np.testing.assert_allclose(d, oracles.lbfgs_two_loop(opt.g, pairs), rtol=1e-9, atol=1e-12)


def test_minimises_an_ill_conditioned_quadratic_and_never_goes_uphill():
    rng = np.random.default_rng(3)
    scale, centre = np.logspace(0, 3, 100), rng.normal(size=100)  # condition number 1000
    opt = LBFGS(quadratic(scale, centre), np.zeros(100))
    f = [opt.f]
    while opt.next() and len(f) < 1000:
        f.append(opt.f)
    assert np.all(np.diff(f) <= 0)
    np.testing.assert_allclose(opt.x, centre, atol=1e-5)


def test_minimises_the_rosenbrock_function():
    def fun(x, g):
        a, b = x[:-1], x[1:]
        g[:] = 0
        g[:-1] = -400 * a * (b - a * a) - 2 * (1 - a)
        g[1:] += 200 * (b - a * a)
        return float(np.sum(100 * (b - a * a) ** 2 + (1 - a) ** 2))

    opt = LBFGS(fun, np.full(10, -1.0))
    for _ in range(1000):
        if not opt.next():
            break
    np.testing.assert_allclose(opt.x, 1.0, atol=1e-4)


def test_backtracks_from_a_region_where_the_objective_is_infinite():
    # f = x^2 / 2 for |x| < 0.5, inf outside; the first trial step (length 1) from 0.3 lands
    # at -0.7: the search must shrink the step instead of accepting inf
    trials = []

    def fun(x, g):
        g[:] = x
        trials.append(float(x[0]))
        return float(x @ x / 2) if np.abs(x).max() < 0.5 else np.inf

    opt = LBFGS(fun, np.array([0.3]))
    assert opt.next()
    assert trials[1] == pytest.approx(-0.7) and abs(opt.x[0]) < 0.3 and np.isfinite(opt.f)


def test_stops_without_change_at_a_stationary_point():
    opt = LBFGS(quadratic(np.ones(5), np.zeros(5)), np.zeros(5))
    assert not opt.next()
    np.testing.assert_array_equal(opt.x, 0)


@needs_two_threads
def test_same_iterates_at_one_and_two_threads():
    rng = np.random.default_rng(4)
    scale, centre = rng.uniform(1, 100, N).astype(np.float32), rng.normal(size=N)

    def run():
        opt = LBFGS(quadratic(scale, centre.astype(np.float32)), np.zeros(N, np.float32))
        for _ in range(12):
            opt.next()
        return opt.x.copy()

    np.testing.assert_array_equal(at_threads(1, run), at_threads(2, run))

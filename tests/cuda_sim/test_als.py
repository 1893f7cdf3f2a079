import numpy as np
import pytest

from fastmf._kernels.als import als_cg_half_sweep
from fastmf._kernels.cuda.als import als_cg_rows, als_sse_rows
from fastmf._kernels.cuda.block import shared_elements
from fastmf._kernels.linalg import residual
from fastmf.cuda.solvers import ALSCGSolver
from tests import oracles
from tests.cuda_sim.problems import factors, planted, ratings, rel_err


def biases(m, n, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (rng.normal(scale=0.2, size=m).astype(dtype),
            rng.normal(scale=0.2, size=n).astype(dtype))


@pytest.mark.parametrize("fit_bias", [True, False])
@pytest.mark.parametrize("exponent", [1.0, 0.0, 0.75])
@pytest.mark.parametrize("threads, chunk, grid, k", [(4, 3, 3, 6), (2, 2, 1, 1), (8, 5, 2, 3)])
def test_rows_match_cpu_kernel(fit_bias, exponent, threads, chunk, grid, k):
    X = ratings(12, 9, 0.4, seed=k + threads, empty_row=5)
    W, H = factors(12, 9, k, seed=k)
    ub, ib = biases(12, 9, seed=k)
    xb = ub.copy() if fit_bias else np.zeros(0)
    yb = ib if fit_bias else np.zeros(0)
    ref, ref_b = W.copy(), xb.copy()
    als_cg_half_sweep((X.indptr, X.indices, X.data), (ref, ref_b), (H, yb),
                      (3.0, 0.3, 0.1, exponent), 3)
    out, out_b = W.copy(), xb.copy()
    als_cg_rows[grid, threads, 0, shared_elements(k, chunk, 4) * 8](
        X.indptr, X.indices, X.data, out, out_b, H, yb, 3.0, 0.3, 0.1, exponent, 3, chunk)
    assert rel_err(out, ref) < 1e-10
    np.testing.assert_array_equal(out[5], 0)
    if fit_bias:
        assert rel_err(out_b, ref_b) < 1e-10
        assert out_b[5] == 0


def test_float32_rows_match_float64_reference():
    X = ratings(12, 9, 0.5, seed=2)
    W, H = factors(12, 9, 4, seed=2)
    ub, ib = biases(12, 9, seed=2)
    ref, ref_b = W.copy(), ub.copy()
    als_cg_half_sweep((X.indptr, X.indices, X.data), (ref, ref_b), (H, ib), (3.0, 0.5, 0.5, 0.0),
                      3)
    f = np.float32
    out, out_b = W.astype(f), ub.astype(f)
    als_cg_rows[2, 4, 0, shared_elements(4, 4, 4) * 4](
        X.indptr, X.indices, X.data.astype(f), out, out_b, H.astype(f), ib.astype(f), 3.0,
        f(0.5), f(0.5), False, 3, 4)
    assert rel_err(out, ref) < 1e-5
    assert rel_err(out_b, ref_b) < 1e-5


@pytest.mark.parametrize("with_bias", [True, False])
def test_sse_matches_cpu_residual(with_bias):
    X = ratings(10, 8, 0.5, seed=4, empty_row=0)
    W, H = factors(10, 8, 3, seed=4)
    ub, ib = biases(10, 8, seed=4) if with_bias else (np.zeros(0), np.zeros(0))
    ref = residual((X.indptr, X.indices, X.data), (W, ub), (H, ib), 2.5, np.zeros(0))
    partial = np.full(3, np.nan)
    als_sse_rows[3, 4, 0, shared_elements(3, 2, 1) * 8](
        X.indptr, X.indices, X.data, W, ub, H, ib, 2.5, 2, partial)
    assert partial.sum() == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("exponent", [1.0, 0.0, 0.75])
def test_solver_matches_cpu_iterations_and_objective(exponent):
    X = ratings(11, 8, 0.45, seed=9)
    W, H = factors(11, 8, 3, seed=9)
    ub, ib = biases(11, 8, seed=9)
    solver = ALSCGSolver(data=(X.indptr, X.indices, X.data), user_factors=W.copy(),
                         item_factors=H.copy(), user_bias=ub.copy(), item_bias=ib.copy(),
                         global_mean=3.0, reg=0.2, reg_bias=0.05, reg_exponent=exponent,
                         cg_steps=2, threads=2, blocks=4)
    C = X.tocsc()
    Wc, Hc, ubc, ibc = W.copy(), H.copy(), ub.copy(), ib.copy()
    for _ in range(2):
        obj = solver.step()
        als_cg_half_sweep((C.indptr, C.indices, C.data), (Hc, ibc), (Wc, ubc),
                          (3.0, 0.2, 0.05, exponent), 2)
        als_cg_half_sweep((X.indptr, X.indices, X.data), (Wc, ubc), (Hc, ibc),
                          (3.0, 0.2, 0.05, exponent), 2)
    state = solver.state()
    for name, ref in (("user_factors", Wc), ("item_factors", Hc), ("user_bias", ubc),
                      ("item_bias", ibc)):
        assert rel_err(state[name], ref) < 1e-10, name
    mask = X.toarray() != 0
    ref_obj = oracles.mf_objective(X.toarray(), mask, Wc, Hc, ubc, ibc, 3.0, 0.2, 0.05,
                                   exponent)
    assert obj == pytest.approx(ref_obj, rel=1e-10)


def test_solver_without_biases_never_increases_the_objective():
    X = planted(10, 8, 2, seed=1)
    W, H = factors(10, 8, 2, seed=1, scale=0.1)
    solver = ALSCGSolver(data=(X.indptr, X.indices, X.data), user_factors=W, item_factors=H,
                         global_mean=3.0, reg=0.05, cg_steps=3, threads=4, blocks=3)
    objs = [solver.step() for _ in range(3)]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(objs, objs[1:], strict=False))
    assert sorted(solver.state()) == ["item_factors", "user_factors"]

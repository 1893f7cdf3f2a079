import numpy as np
import pytest

from fastmf._kernels.cuda.block import shared_elements
from fastmf._kernels.cuda.implicit_cg import implicit_cg_rows
from fastmf._kernels.implicit_als import implicit_cg_sweep
from fastmf.cuda.solvers import ImplicitALSCGSolver
from tests import oracles
from tests.cuda_sim.problems import factors, ratings, rel_err


def confidences(X, alpha=2.0, dtype=np.float64):
    return (1 + alpha * X.data).astype(dtype)


@pytest.mark.parametrize("threads, chunk, grid, k", [
    (4, 3, 2, 6), (2, 1, 5, 1), (8, 8, 1, 6), (1, 4, 3, 6), (2, 3, 2, 8)])  # 1 to 6 per thread
def test_rows_match_cpu_kernel(threads, chunk, grid, k):
    X = ratings(11, 9, 0.4, seed=k, empty_row=4)
    conf = confidences(X)
    W, H = factors(11, 9, k, seed=threads)
    G = H.T @ H + 0.3 * np.eye(k)
    ref = W.copy()
    ref_loss = implicit_cg_sweep((X.indptr, X.indices, conf), ref, H,
                                 (H.T @ H, np.full(11, 0.3)), 3)
    out = W.copy()
    partial = np.full(grid, np.nan)
    implicit_cg_rows[grid, threads, 0, shared_elements(k, chunk, 4) * 8](
        X.indptr, X.indices, conf, out, H, G, 3, chunk, partial)
    assert rel_err(out, ref) < 1e-10
    assert partial.sum() == pytest.approx(ref_loss, rel=1e-10)
    assert not np.allclose(out[4], W[4])  # an empty row still moves (towards 0)


def test_float32_rows_match_float64_reference():
    X = ratings(12, 10, 0.4, seed=3)
    W, H = factors(12, 10, 5, seed=3)
    G = H.T @ H + 0.5 * np.eye(5)
    ref = W.copy()
    implicit_cg_sweep((X.indptr, X.indices, confidences(X)), ref, H,
                      (H.T @ H, np.full(12, 0.5)), 3)
    out = W.astype(np.float32)
    partial = np.zeros(3)
    implicit_cg_rows[3, 4, 0, shared_elements(5, 4, 4) * 4](
        X.indptr, X.indices, confidences(X, dtype=np.float32), out, H.astype(np.float32),
        G.astype(np.float32), 3, 4, partial)
    assert rel_err(out, ref) < 1e-5


def test_solver_objective_matches_cpu_iterations_and_dense_oracle():
    X = ratings(10, 8, 0.35, seed=7)
    conf = confidences(X)
    W, H = factors(10, 8, 4, seed=7, scale=0.1)
    solver = ImplicitALSCGSolver(data=(X.indptr, X.indices, conf), user_factors=W.copy(),
                                 item_factors=H.copy(), reg=0.2, cg_steps=2, threads=4,
                                 blocks=3)
    Wc, Hc = W.copy(), H.copy()
    C = X.tocsc()
    C.sort_indices()
    for _ in range(2):
        obj = solver.step()
        implicit_cg_sweep((C.indptr, C.indices, confidences(C)), Hc, Wc,
                          (Wc.T @ Wc, np.full(len(Hc), 0.2)), 2)
        implicit_cg_sweep((X.indptr, X.indices, conf), Wc, Hc,
                          (Hc.T @ Hc, np.full(len(Wc), 0.2)), 2)
    state = solver.state()
    assert rel_err(state["user_factors"], Wc) < 1e-10
    assert rel_err(state["item_factors"], Hc) < 1e-10
    Cd = np.ones((10, 8))
    Cd[X.nonzero()] = conf
    P = (X.toarray() > 0).astype(float)
    assert obj == pytest.approx(oracles.implicit_objective(Cd, P, Wc, Hc, 0.2), rel=1e-10)

"""The solver protocol shared by the CUDA solvers, and their input checks."""

import numpy as np
import pytest

from fastmf.cuda import cuda_available
from fastmf.cuda.solvers import ALSCGSolver, BPRSolver, ImplicitALSCGSolver, SGDSolver
from tests.cuda_sim.problems import factors, ratings


def make(kind, W, H, X, **extra):
    data = (X.indptr, X.indices, X.data)
    common = dict(user_factors=W, item_factors=H, threads=2, blocks=2)
    if kind == "implicit":
        return ImplicitALSCGSolver(data=(X.indptr, X.indices, 1 + X.data), reg=0.1, **common,
                                   **extra)
    if kind == "als":
        return ALSCGSolver(data=data, reg=0.1, **common, **extra)
    if kind == "sgd":
        return SGDSolver(data=data, learning_rate=0.01, reg=0.1, rng=0, **common, **extra)
    return BPRSolver(data=data[:2], item_bias=np.zeros(H.shape[0], W.dtype), rng=0, **common,
                     **extra)


def test_the_simulator_counts_as_available():
    assert cuda_available()


@pytest.mark.parametrize("kind", ["implicit", "als", "sgd", "bpr"])
def test_state_to_host_and_device_arrays(kind):
    X = ratings(6, 5, 0.5, seed=1)
    W, H = factors(6, 5, 2, seed=1)
    W0 = W.copy()
    solver = make(kind, W, H, X)
    assert np.isfinite(solver.step())
    np.testing.assert_array_equal(W, W0)  # host arrays untouched until to_host()
    state = solver.state()
    assert not np.array_equal(state["user_factors"], W0)
    state["user_factors"][:] = 0  # a copy: the solver's state does not change
    np.testing.assert_array_equal(solver.state()["item_factors"], state["item_factors"])
    assert solver.state()["user_factors"].any()
    back = solver.to_host()
    assert back["user_factors"] is W and back["item_factors"] is H
    np.testing.assert_array_equal(W, solver.state()["user_factors"])
    assert set(solver.device_arrays()) == set(state)
    assert solver.converged() is False


def test_to_host_writes_into_non_contiguous_arrays():
    X = ratings(6, 5, 0.5, seed=2)
    W, H = factors(6, 5, 2, seed=2)
    Wf = np.asfortranarray(W)
    solver = make("als", Wf, H, X)
    solver.step()
    solver.to_host()
    np.testing.assert_array_equal(Wf, solver.state()["user_factors"])


def test_float32_state_stays_float32():
    X = ratings(6, 5, 0.5, seed=3)
    W, H = factors(6, 5, 2, seed=3, dtype=np.float32)
    solver = make("implicit", W, H, X)
    solver.step()
    assert {a.dtype for a in solver.state().values()} == {np.dtype(np.float32)}


def test_bad_inputs_raise_clear_errors():
    X = ratings(6, 5, 0.5, seed=4)
    W, H = factors(6, 5, 2, seed=4)
    with pytest.raises(TypeError, match="item_factors has dtype float32 but the other"):
        make("als", W, H.astype(np.float32), X)
    with pytest.raises(ValueError, match=r"item_bias must have 5 rows \(n_items\)"):
        make("als", W, H, X, user_bias=np.zeros(6), item_bias=np.zeros(4))
    with pytest.raises(ValueError, match=r"indptr must be an integer array of length 6 "
                                         r"\(n_users \+ 1\)"):
        make("als", W[:5], H, X)
    with pytest.raises(ValueError, match=r"user_factors must be 2-dimensional, got shape \(6,\)"):
        make("sgd", W[:, 0], H, X)
    with pytest.raises(ValueError, match="item_factors has 3 columns but user_factors has 2"):
        make("implicit", W, np.zeros((5, 3)), X)
    bad = X.copy()
    bad.indices[0] = 9
    with pytest.raises(ValueError, match=r"data's indices must lie in \[0, 5\)"):
        make("sgd", W, H, bad)
    with pytest.raises(ValueError, match="data's confidences must be >= 1"):
        ImplicitALSCGSolver(data=(X.indptr, X.indices, X.data - 10), user_factors=W,
                            item_factors=H, reg=0.1)
    with pytest.raises(ValueError, match="threads must be a power of two"):
        ALSCGSolver(
            data=(X.indptr, X.indices, X.data), user_factors=W, item_factors=H, reg=0.1,
            threads=6)
    with pytest.raises(ValueError, match="user_factors must be finite"):
        make("bpr", np.full_like(W, np.nan), H, X)
    with pytest.raises(ValueError, match="n_factors=4000 is too large"):
        make("implicit", np.zeros((6, 4000)), np.zeros((5, 4000)), X)


@pytest.mark.parametrize("kind", ["implicit", "als"])
def test_launch_shape_does_not_change_the_cg_solvers(kind):
    X = ratings(9, 7, 0.5, seed=5)
    W, H = factors(9, 7, 3, seed=5)
    states = []
    for threads, blocks, chunk in ((2, 1, 1), (4, 3, 3), (8, 2, None)):
        solver = (ImplicitALSCGSolver if kind == "implicit" else ALSCGSolver)(
            data=(X.indptr, X.indices, 1 + X.data), user_factors=W.copy(), item_factors=H.copy(),
            reg=0.1, threads=threads, blocks=blocks, chunk=chunk)
        solver.step()
        states.append(solver.state())
    for state in states[1:]:
        for name, a in state.items():
            np.testing.assert_allclose(a, states[0][name], rtol=1e-12, atol=1e-14)


def test_bad_launch_shapes_raise():
    X = ratings(6, 5, 0.5, seed=6)
    W, H = factors(6, 5, 2, seed=6)
    with pytest.raises(ValueError, match="chunk must be a positive integer, got 0"):
        make("implicit", W, H, X, chunk=0)
    with pytest.raises(ValueError, match="blocks must be a positive integer, got -1"):
        ALSCGSolver(data=(X.indptr, X.indices, X.data), user_factors=W, item_factors=H,
                    reg=0.1, blocks=-1)

import numpy as np
import pytest

from fastmf._kernels.block_sgd import PLAIN, sgd_epoch
from fastmf._kernels.cuda.sgd import sgd_epoch as cuda_sgd_epoch
from fastmf._solvers import mf_sgd
from fastmf.cuda.solvers import SGDSolver
from tests.cuda_sim.problems import factors, planted, ratings, rel_err


def cpu_epoch(schedule, block_ptr, entries, model, mu, lr, reg, reg_bias):
    """One plain-SGD epoch of the CPU driver (float64, no optimiser state)."""
    empty, no_implicit = np.zeros((0, 1)), np.zeros((0, model[0].shape[1]))
    return sgd_epoch(PLAIN, (schedule, block_ptr), entries, model,
                     (mu, lr, reg, reg_bias, 0.0, 1), (empty, empty), (no_implicit, no_implicit),
                     mf_sgd.no_row_reg(model[0].dtype))


def cpu_epochs(X, W, H, ub, ib, mu, lr, reg, reg_bias, seed, epochs, decay=0.0):
    """The CPU solver's epochs (layout, schedule and kernel), on copies; returns the factors
    and the last epoch's objective."""
    m, n = X.shape
    users = np.repeat(np.arange(m, dtype=np.int32), np.diff(X.indptr))
    items = X.indices.astype(np.int32)
    P = mf_sgd.n_blocks(m, n, X.nnz)
    order, block_ptr = mf_sgd.block_layout(users, items, m, n, P, seed)
    W, H, ub, ib = W.copy(), H.copy(), ub.copy(), ib.copy()
    for e in range(epochs):
        sse = cpu_epoch(mf_sgd.block_schedule(seed, e, P), block_ptr,
                        (users[order], items[order], X.data[order]), (W, H, ub, ib), mu,
                        lr / (1 + decay * e), reg, reg_bias)
    counts_u = np.diff(X.indptr).astype(float)
    counts_i = np.bincount(items, minlength=n).astype(float)
    return W, H, ub, ib, sse + mf_sgd.l2_penalty(reg, reg_bias, counts_u, counts_i, W, H, ub, ib)


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("schedule", ["constant", "inverse"])
def test_one_block_is_the_cpu_epoch(with_bias, schedule):
    X = ratings(12, 9, 0.45, seed=3)
    W, H = factors(12, 9, 3, seed=3)
    rng = np.random.default_rng(3)
    ub, ib = (rng.normal(scale=0.1, size=12), rng.normal(scale=0.1, size=9)) if with_bias \
        else (np.zeros(0), np.zeros(0))
    decay = 0.5 if schedule == "inverse" else 0.0
    solver = SGDSolver(data=(X.indptr, X.indices, X.data), user_factors=W.copy(),
                       item_factors=H.copy(), user_bias=ub.copy() if with_bias else None,
                       item_bias=ib.copy() if with_bias else None, global_mean=3.0,
                       learning_rate=0.05, reg=0.02, reg_bias=0.01, lr_schedule=schedule,
                       lr_decay=decay, seed=11, threads=4, blocks=1)
    for _ in range(2):
        obj = solver.step()
    Wc, Hc, ubc, ibc, ref_obj = cpu_epochs(X, W, H, ub, ib, 3.0, 0.05, 0.02, 0.01, 11, 2,
                                           decay)
    state = solver.state()
    assert rel_err(state["user_factors"], Wc) < 1e-12
    assert rel_err(state["item_factors"], Hc) < 1e-12
    if with_bias:
        assert rel_err(state["user_bias"], ubc) < 1e-12
    assert obj == pytest.approx(ref_obj, rel=1e-12)
    assert solver.epoch == 2


@pytest.mark.parametrize("grid", [1, 3, 7])
def test_kernel_walks_the_block_sequence_like_the_cpu_kernel(grid):
    """P = 3 (the solver picks P = 1 for data this small): the pieces start inside, and walk
    across, blocks of the sequence. The simulator runs the pieces one after another, in
    sequence order, so any grid reproduces the CPU epoch here."""
    X = ratings(15, 12, 0.4, seed=8)
    m, n = X.shape
    users = np.repeat(np.arange(m, dtype=np.int32), np.diff(X.indptr))
    items = X.indices.astype(np.int32)
    order, block_ptr = mf_sgd.block_layout(users, items, m, n, 3, 4)
    u, i, r = users[order], items[order], X.data[order]
    schedule = mf_sgd.block_schedule(4, 0, 3)
    W, H = factors(m, n, 3, seed=8)
    bu, bi = np.zeros(m), np.zeros(n)
    ref = [a.copy() for a in (W, H, bu, bi)]
    sse = cpu_epoch(schedule, block_ptr, (u, i, r), tuple(ref), 3.0, 0.05, 0.02, 0.01)
    seq = schedule.ravel()
    seq_ptr = np.concatenate([[0], np.cumsum(np.diff(block_ptr)[seq])])
    got = [a.copy() for a in (W, H, bu, bi)]
    partial = np.zeros(grid)
    cuda_sgd_epoch[grid, 2](seq, seq_ptr, block_ptr, u, i, r, *got, 3.0, 0.05, 0.02, 0.01,
                            partial)
    for a, b in zip(got, ref, strict=True):
        assert rel_err(a, b) < 1e-12
    assert partial.sum() == pytest.approx(sse, rel=1e-12)


def test_hogwild_blocks_fit_like_the_cpu_solver():
    """Several blocks cut the epoch into pieces that race on a GPU (the simulator runs the
    blocks one after another, so here they do not): the fit, not the path, must match."""
    X = planted(20, 14, 2, seed=5)
    W, H = factors(20, 14, 2, seed=5, scale=0.1)
    zeros_u, zeros_i = np.zeros(20), np.zeros(14)
    solver = SGDSolver(data=(X.indptr, X.indices, X.data), user_factors=W.copy(),
                       item_factors=H.copy(), user_bias=zeros_u.copy(),
                       item_bias=zeros_i.copy(), global_mean=3.0, learning_rate=0.05,
                       reg=0.01, seed=2, threads=2, blocks=4)
    first = solver.step()
    for _ in range(5):
        last = solver.step()
    *_, cpu_last = cpu_epochs(X, W, H, zeros_u, zeros_i, 3.0, 0.05, 0.01, 0.01, 2, 6)
    assert last < 0.75 * first
    assert last == pytest.approx(cpu_last, rel=0.15)  # races change the path, not the fit


def test_options_the_cuda_solver_lacks_raise():
    X = ratings(5, 4, 0.5, seed=0)
    W, H = factors(5, 4, 2, seed=0)
    with pytest.raises(ValueError, match="lr_schedule='adagrad' is not available with "
                                         "backend='cuda'"):
        SGDSolver(data=(X.indptr, X.indices, X.data), user_factors=W, item_factors=H,
                  learning_rate=0.1, reg=0.1, lr_schedule="adagrad")

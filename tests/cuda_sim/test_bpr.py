import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._kernels.bpr import UPDATE_ALL, bpr_epoch, pair_set
from fastmf.cuda.solvers import BPRSolver
from tests import oracles
from tests.cuda_sim.problems import factors, ratings, rel_err


@pytest.mark.parametrize("verify", [True, False])
@pytest.mark.parametrize("popularity", [True, False])
def test_one_block_is_the_cpu_epoch(verify, popularity):
    X = ratings(10, 8, 0.35, seed=4)
    X.data[:] = 1
    W, H = factors(10, 8, 3, seed=4, scale=0.2)
    b = np.random.default_rng(4).normal(scale=0.1, size=8)
    solver = BPRSolver(data=(X.indptr, X.indices), user_factors=W.copy(), item_factors=H.copy(),
                       item_bias=b.copy(), learning_rate=0.1, reg=0.02,
                       verify_negative=verify,
                       negatives="popularity" if popularity else "uniform", rng=9, threads=4,
                       blocks=1)
    loss = solver.step()
    seeds = np.random.default_rng(9).integers(0, 2**63, size=256, dtype=np.uint64)
    Wr, Hr, br, total, counted, skipped = oracles.bpr_epoch(
        X.toarray(), W, H, b, X.nnz, seeds, 0.1, 0.02, verify, popularity, 16)
    state = solver.state()
    assert rel_err(state["user_factors"], Wr) < 1e-12
    assert rel_err(state["item_factors"], Hr) < 1e-12
    assert rel_err(state["item_bias"], br) < 1e-12
    assert loss == pytest.approx(total / counted, rel=1e-12)
    assert solver.skipped == skipped


def checkerboard(m, n, seed):
    """Users of group g like the items of group g (two groups), 70% of those cells stored."""
    rng = np.random.default_rng(seed)
    same = (np.arange(m)[:, None] % 2) == (np.arange(n)[None, :] % 2)
    return sp.csr_matrix((same & (rng.random((m, n)) < 0.7)).astype(np.float64)), same


def test_hogwild_blocks_learn_the_planted_groups_like_the_cpu_kernel():
    """Several blocks race on a GPU (not in the simulator, which runs blocks one after
    another): what is learnt, not the path, must match the CPU kernel's."""
    X, same = checkerboard(16, 12, seed=1)
    W, H = factors(16, 12, 2, seed=1, scale=0.1)
    b = np.zeros(12)
    solver = BPRSolver(data=(X.indptr, X.indices), user_factors=W.copy(), item_factors=H.copy(),
                       item_bias=b.copy(), learning_rate=0.2, reg=0.01, rng=3, threads=2,
                       blocks=4)
    losses = [solver.step() for _ in range(12)]
    state = solver.state()
    rows = np.repeat(np.arange(16, dtype=X.indices.dtype), np.diff(X.indptr))
    pairs = pair_set(X.indptr, X.indices, 12)
    Wc, Hc, bc = W.copy(), H.copy(), b.copy()
    rng = np.random.default_rng(3)
    for _ in range(12):
        seeds = rng.integers(0, 2**63, size=256, dtype=np.uint64)
        total, counted, _ = bpr_epoch((X.indices, rows), (Wc, Hc, bc), X.nnz, seeds, (0.2, 0.01),
                                      (pairs, False, 12), UPDATE_ALL)
    scores = state["user_factors"] @ state["item_factors"].T + state["item_bias"]
    cpu_scores = Wc @ Hc.T + bc

    def auc(S):  # planted "same group" cells against the others, per user
        return np.mean([np.mean(S[u, same[u]][:, None] > S[u, ~same[u]][None, :])
                        for u in range(16)])

    assert losses[-1] < 0.7 * losses[0]
    assert auc(scores) > 0.9
    assert auc(scores) == pytest.approx(auc(cpu_scores), abs=0.05)

"""Benchmarks of the implicit-feedback family: one ImplicitALS iteration (CG and Cholesky), one
BPR epoch, and top-10 recommendation for every user.

Run: ``NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 pytest benchmarks/bench_implicit.py
-o addopts="" --benchmark-only`` (the normal test run ignores ``benchmarks/``). Each benchmark
fits once before timing, so JIT compilation is excluded; a timed call is one warm-started
``fit`` of one iteration (plus the per-fit setup: confidences, CSC view). Data: binary
synthetic interactions from ``make_counts`` at MovieLens-100k and MovieLens-1M scale. The
comparison with ``implicit`` is ``benchmarks/peers/implicit_models.py``.
"""

import numpy as np
import pytest

import fastmf

pytest.importorskip("pytest_benchmark")

SIZES = {
    "100k": (943, 1682, 100.0),
    "1m": (6040, 3706, 160.0),
}


@pytest.fixture(scope="module", params=sorted(SIZES))
def interactions(request):
    n_users, n_items, per_user = SIZES[request.param]
    X = fastmf.datasets.make_counts(n_users, n_items, rank=16, counts_per_user=per_user,
                                    random_state=0).csr
    X.data[:] = 1.0
    return X


def _iteration(model, X):
    model.fit(X)  # warm-up: compile (or load) the kernels, set up the factors
    model.set_params(warm_start=True)
    return lambda: model.fit(X)


@pytest.mark.parametrize("k", [64, 128])
@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_implicit_als_iteration(benchmark, interactions, solver, k):
    model = fastmf.ImplicitALS(k, solver=solver, n_iter=1, alpha=9.0, reg=0.1,
                               random_state=0)
    benchmark(_iteration(model, interactions))
    assert model.n_iter_ > 1


@pytest.mark.parametrize("k", [64, 128])
def test_bpr_epoch(benchmark, interactions, k):
    model = fastmf.BPR(k, n_iter=1, negatives="popularity", random_state=0)
    benchmark(_iteration(model, interactions))
    assert model.n_iter_ > 1


def test_recommend_all_users(benchmark, interactions):
    model = fastmf.ImplicitALS(64, n_iter=3, random_state=0).fit(interactions)
    users = np.arange(interactions.shape[0])
    model.recommend(users[:10], n=10, exclude=interactions)  # warm-up
    items, _ = benchmark(lambda: model.recommend(users, n=10, exclude=interactions))
    assert items.shape == (len(users), 10)

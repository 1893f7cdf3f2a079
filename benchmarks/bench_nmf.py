"""Benchmarks of the coordinate-descent / non-negative family: one iteration of each solver.

Run: ``NUMBA_NUM_THREADS=2 pytest benchmarks/bench_nmf.py -o addopts="" --benchmark-only``
(the normal test run ignores ``benchmarks/``). Each benchmark fits once before timing, so JIT
compilation is excluded; a timed call is one iteration (``step()`` of NMF's solver from the
fitted factors, a one-iteration warm-started ``fit`` for MatrixFactorization). Data:
``make_counts`` and ``make_ratings`` at MovieLens-100k and MovieLens-1M scale.
"""

import pytest

import fastmf
from fastmf._solvers.nmf import NMFSolver

pytest.importorskip("pytest_benchmark")

SIZES = {
    "100k": (943, 1682, 100_000, 100.0),
    "1m": (6040, 3706, 1_000_209, 250.0),
}


@pytest.fixture(scope="module", params=sorted(SIZES))
def counts(request):
    m, n, _, per_user = SIZES[request.param]
    return fastmf.datasets.make_counts(m, n, rank=16, counts_per_user=per_user,
                                       random_state=0).csr


@pytest.fixture(scope="module", params=sorted(SIZES))
def ratings(request):
    m, n, nnz, _ = SIZES[request.param]
    return fastmf.datasets.make_ratings(m, n, nnz, random_state=0)


@pytest.mark.parametrize("loss,missing,solver", [
    ("frobenius", "zero", "hals"), ("frobenius", "zero", "mu"), ("frobenius", "ignore", "hals"),
    ("poisson", "zero", "mu"), ("poisson", "zero", "sgd"), ("poisson", "ignore", "mu"),
])
def test_nmf_iteration(benchmark, counts, loss, missing, solver):
    model = fastmf.NMF(32, loss=loss, missing=missing, solver=solver, n_iter=1, tol=0,
                       random_state=0).fit(counts)
    state = {"user_factors_": model.user_factors_.copy(),
             "item_factors_": model.item_factors_.copy()}
    step = NMFSolver((counts, counts.tocsc()), state, model._check_params(), None).step
    step()  # warm-up
    benchmark(step)


@pytest.mark.parametrize("solver", ["als", "hals"])
def test_mf_iteration_k64(benchmark, ratings, solver):
    model = fastmf.MatrixFactorization(64, solver=solver, n_iter=1, random_state=0)
    model.fit(ratings)
    model.set_params(warm_start=True)
    benchmark(lambda: model.fit(ratings))


@pytest.mark.parametrize("algorithm", ["randomized", "arpack"])
def test_puresvd_fit(benchmark, ratings, algorithm):
    model = fastmf.PureSVD(32, algorithm=algorithm, random_state=0)
    model.fit(ratings)
    benchmark(lambda: model.fit(ratings))

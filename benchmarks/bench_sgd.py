"""Benchmarks of the SGD family: one epoch of MatrixFactorization(solver="sgd") and of SVDpp.

Run: ``NUMBA_NUM_THREADS=2 pytest benchmarks/bench_sgd.py -o addopts="" --benchmark-only``
(the normal test run ignores ``benchmarks/``). Each benchmark fits once before timing, so JIT
compilation is excluded; a timed call is one warm-started ``fit`` of one epoch (the epoch plus
the per-fit setup: block layout and, for SVDpp, the implicit sums). Data: synthetic
ratings from ``make_ratings``, at MovieLens-100k and MovieLens-1M scale.
"""

import pytest

import fastmf

pytest.importorskip("pytest_benchmark")

SIZES = {
    "100k": (943, 1682, 100_000),
    "1m": (6040, 3706, 1_000_209),
}


@pytest.fixture(scope="module", params=sorted(SIZES))
def ratings(request):
    return fastmf.datasets.make_ratings(*SIZES[request.param], random_state=0)


def _epoch(model, ratings):
    model.fit(ratings)  # warm-up: compile (or load) the kernels, set up the factors
    model.set_params(warm_start=True)
    return lambda: model.fit(ratings)


@pytest.mark.parametrize("kw", [{}, {"lr_schedule": "adagrad", "learning_rate": 0.1},
                                {"momentum": 0.9, "batch_size": 128, "learning_rate": 0.08}],
                         ids=["constant", "adagrad", "momentum"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mf_sgd_epoch(benchmark, ratings, kw, dtype):
    model = fastmf.MatrixFactorization(n_factors=64, solver="sgd", n_iter=1, reg=0.05,
                                       dtype=dtype, random_state=0, **kw)
    benchmark(_epoch(model, ratings))
    assert model.n_iter_ > 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_svdpp_epoch(benchmark, ratings, dtype):
    model = fastmf.SVDpp(n_factors=64, n_iter=1, dtype=dtype, random_state=0)
    benchmark(_epoch(model, ratings))
    assert model.n_iter_ > 1

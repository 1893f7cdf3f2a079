"""Benchmarks of the factorization-machine kernels: one SGD epoch, ALS sweep, Gibbs sample, predict.

Run: ``NUMBA_NUM_THREADS=2 OMP_NUM_THREADS=2 pytest benchmarks/bench_fm.py -o addopts=""
--benchmark-only`` (the normal test run ignores ``benchmarks/``). Data: synthetic ratings from
``make_ratings`` at MovieLens-100k and MovieLens-1M scale, encoded as one-hot user + item
(``FMEncoder``); ranks 10 and 32, float32. Each benchmark calls its solver's ``step`` once
before timing; a timed call is one more step (or one prediction of the training rows).
"""

import numpy as np
import pytest

import fastmf
from fastmf._config import resolve_n_threads
from fastmf._solvers.fm import CDSolver, FMData, MCMCSolver, SGDSolver, csc_arrays, predict
from fastmf.fm_features import FMEncoder

pytest.importorskip("pytest_benchmark")

SIZES = {
    "100k": (943, 1682, 100_000),
    "1m": (6040, 3706, 1_000_209),
}


@pytest.fixture(scope="module", params=sorted(SIZES))
def design(request):
    ratings = fastmf.datasets.make_ratings(*SIZES[request.param], random_state=0)
    enc = FMEncoder().fit(ratings)
    X = enc.transform(ratings).astype(np.float32)
    data = FMData(X, ratings.values, enc.groups_, 2, resolve_n_threads(None),
                  csc=csc_arrays(X))
    return data


def _params(data, r):
    rng = np.random.default_rng(0)
    V = (rng.standard_normal((data.d, r)) * 0.1).astype(np.float32)
    return np.array([data.target.mean()]), np.zeros(data.d, np.float32), V


def _timed(benchmark, cls, data, r, **params):
    """One step of the solver ``cls`` (the solver protocol) timed after a warm-up step."""
    w0, w, V = _params(data, r)
    state = {"intercept_": w0, "coef_": w, "factors_": V}
    solver = cls(data, state, {"classifier": False, "first_iter": 0, **params},
                 np.random.default_rng(0))
    solver.step()  # warm-up
    benchmark(solver.step)


@pytest.mark.parametrize("r", [10, 32])
def test_sgd_epoch(benchmark, design, r):
    _timed(benchmark, SGDSolver, design, r, learning_rate=0.01, lr_decay=0.0, reg_w0=0.0,
           reg_w=0.01, reg_v=0.02)


@pytest.mark.parametrize("r", [10, 32])
def test_als_sweep(benchmark, design, r):
    _timed(benchmark, CDSolver, design, r, reg_w0=0.0, reg_w=5.0, reg_v=15.0)


@pytest.mark.parametrize("r", [10, 32])
def test_gibbs_sample(benchmark, design, r):
    _timed(benchmark, MCMCSolver, design, r, burn_in=10**9, thin=1, n_keep=0)


@pytest.mark.parametrize("r", [10, 32])
def test_predict(benchmark, design, r):
    w0, w, V = _params(design, r)
    predict(design.csr, w0[0], w, V, design.n_threads)
    benchmark(predict, design.csr, w0[0], w, V, design.n_threads)

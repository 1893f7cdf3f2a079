"""Benchmark of the shared top-k driver: 6000 users x 4000 items, 64 factors, top 10.

Run: ``NUMBA_NUM_THREADS=2 pytest benchmarks/bench_topk.py -o addopts="" --benchmark-only``
(the normal test run ignores ``benchmarks/``). One call before timing excludes JIT compilation.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from fastmf._recommend import top_k

pytest.importorskip("pytest_benchmark")


def make_problem(n_users, n_items, n_factors, per_user, dtype, seed=0):
    rng = np.random.default_rng(seed)
    U = rng.normal(size=(n_users, n_factors)).astype(dtype)
    V = rng.normal(size=(n_items, n_factors)).astype(dtype)
    rows = np.repeat(np.arange(n_users), per_user)
    cols = rng.integers(0, n_items, size=n_users * per_user)
    exclude = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))
    exclude.sum_duplicates()
    return U, V, exclude


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_users, n_items, n_factors, n", [(6000, 4000, 64, 10)])
def test_top_k(benchmark, n_users, n_items, n_factors, n, dtype):
    U, V, exclude = make_problem(n_users, n_items, n_factors, 50, dtype)
    top_k(U[:8], V, n, exclude=exclude[:8])  # warm-up: compile (or load) the kernel
    idx, scores = benchmark(top_k, U, V, n, exclude=exclude)
    assert idx.shape == (n_users, n) and (idx >= 0).all()

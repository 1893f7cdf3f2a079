"""Fit setup at scale: how much of an ImplicitALS fit is not iterations (issue #15).

A synthetic 138,000 users x 27,000 items implicit matrix (MovieLens-20M's shape: uniform users,
a Pareto item popularity, about 20M distinct positives) as a float32 CSR. fastmf
``ImplicitALS(n_iter=3)`` at its defaults is fitted once to compile, then timed: the whole fit,
the iterations (``history_["seconds"]``) and the rest (validation, the transposed copy, initial
factors, the first Gram matrix). implicit's CG ALS (3 iterations, k 64) is timed on the same
matrix and threads when installed. Run from the repository root::

    python benchmarks/setup_cost.py [--nnz 38000000] [--threads 2]
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import fastmf


def matrix(n_users, n_items, draws, seed=0):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, draws)
    items = np.minimum((rng.pareto(1.2, draws) * 50).astype(np.int64), n_items - 1)
    X = sp.csr_matrix((np.ones(draws, np.float32), (users, items)), shape=(n_users, n_items))
    X.sum_duplicates()
    X.data[:] = 1
    return X


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nnz", type=int, default=38_000_000,
                    help="pairs drawn (before dedup; the default leaves about 19.6M)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    X = matrix(138_000, 27_000, args.nnz)
    print(f"{X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} positives, {args.threads} threads")

    def fit():
        return fastmf.ImplicitALS(64, n_iter=3, n_threads=args.threads, random_state=0).fit(X)

    print("| library | whole fit | per iteration | setup (fit - iterations) |\n|---|---|---|---|")
    fit()  # compile (cached after the first run)
    start = time.perf_counter()
    model = fit()
    total = time.perf_counter() - start
    iters = float(np.sum(model.history_["seconds"]))
    print(f"| fastmf ImplicitALS | {total:.2f} s | {iters / 3:.2f} s | {total - iters:.2f} s |")
    try:
        from implicit.cpu.als import AlternatingLeastSquares
    except ImportError:
        print("implicit: not installed")
        return
    with threadpool_limits(1):
        peer = AlternatingLeastSquares(64, iterations=3, num_threads=args.threads,
                                       random_state=0)
        start = time.perf_counter()
        peer.fit(X, show_progress=False)
        print(f"| implicit ALS (CG) | {time.perf_counter() - start:.2f} s | | |")


if __name__ == "__main__":
    main()

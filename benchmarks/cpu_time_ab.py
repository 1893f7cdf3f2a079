"""One thread's CPU time of a fit: a regression check that holds on a busy machine.

Wall-clock ratios need an idle machine; the CPU time of a one-thread fit barely moves with the
load, so two versions of fastmf can be compared while other work runs. Run it once per tree,
interleaved, and compare the medians::

    for tree in /path/to/old/checkout .; do
        PYTHONPATH=$tree NUMBA_NUM_THREADS=1 python benchmarks/cpu_time_ab.py svdpp sgd adagrad
    done

Cases: ``svdpp`` (SVDpp, k 64, 20 epochs on MovieLens-100k: ../shared/data or
FASTMF_SHARED_DATA), ``sgd`` / ``adagrad`` (MatrixFactorization SGD, k 64, 10 epochs, constant
step 0.01 / AdaGrad 0.1, reg 0.05, on make_ratings at MovieLens-1M size), ``als`` and ``ials``
(the defaults, k 64, 10 iterations, on the same set; ials on its ratings >= 4), ``nmf`` and
``nmf-poisson`` (NMF, k 32, 100 iterations, Frobenius / Poisson loss, on the MovieLens-100k
matrix; the rank is passed by position, so trees from before and after the ``n_factors``
and ``max_iter`` renames both run). Prints one
line per case: the median CPU seconds of 3 fits after a warm-up fit.
"""

import inspect
import os
import sys
import time
from pathlib import Path

import numpy as np

import fastmf
from fastmf.datasets import load_movielens, make_ratings
from fastmf.model_selection import train_test_split

DATA = Path(os.environ.get("FASTMF_SHARED_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data"))


def case(name):
    """(estimator factory, training data) of a case."""
    if name == "svdpp":
        ratings = load_movielens("100k", path=DATA / "ml-100k")
        return lambda: fastmf.SVDpp(n_factors=64, n_iter=20, random_state=0), ratings
    if name in ("nmf", "nmf-poisson"):
        X = load_movielens("100k", path=DATA / "ml-100k").csr
        loss = "frobenius" if name == "nmf" else "poisson"
        iters = "n_iter" if "n_iter" in inspect.signature(fastmf.NMF).parameters else "max_iter"
        return lambda: fastmf.NMF(32, loss=loss, tol=0, random_state=0, **{iters: 100}), X
    ratings = make_ratings(6040, 3706, 1_000_209, random_state=0)
    train, _ = train_test_split(ratings, test_size=0.1, random_state=0)
    if name in ("sgd", "adagrad"):
        kw = {"learning_rate": 0.01} if name == "sgd" else \
            {"learning_rate": 0.1, "lr_schedule": "adagrad"}
        return (lambda: fastmf.MatrixFactorization(64, solver="sgd", n_iter=10, reg=0.05,
                                                   random_state=0, **kw)), train
    if name == "als":
        return lambda: fastmf.MatrixFactorization(64, n_iter=10, random_state=0), train
    if name == "ials":
        positives = train.csr >= 4
        return lambda: fastmf.ImplicitALS(64, n_iter=10, random_state=0), positives.astype(
            np.float32).tocsr()
    raise SystemExit(f"unknown case {name!r}: svdpp, sgd, adagrad, als, ials, nmf, "
                     "nmf-poisson")


def main(names):
    print(f"fastmf from {Path(fastmf.__file__).parent}")
    for name in names:
        make, data = case(name)
        make().fit(data)  # compile
        seconds = []
        for _ in range(3):
            start = time.process_time()
            make().fit(data)
            seconds.append(time.process_time() - start)
        print(f"{name}: {np.median(seconds):.3f} CPU s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["svdpp", "sgd", "adagrad", "als", "ials", "nmf", "nmf-poisson"])

"""CPU time against wall time of default fits: is ``n_threads`` honoured, with no oversubscription?

For each model, one warm-up fit (compilation), then a timed fit with ``n_threads`` = 1 and 2,
in a process whose BLAS pools start at their default (all cores): fastmf itself must keep BLAS
at one thread under its kernels. A ratio CPU / wall well above ``n_threads`` means more threads
ran than were asked for; well below means the threads were idle.

    python benchmarks/threads_check.py [--data ml-100k --path DIR]
"""

import argparse
import resource
import time

import numpy as np

import fastmf
from fastmf.fm_features import FMEncoder


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def measure(make, fit_args):
    make(1).fit(*fit_args)  # compile
    rows = []
    for n in (1, 2):
        model = make(n)
        c0, t0 = cpu_seconds(), time.perf_counter()
        model.fit(*fit_args)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        rows.append((n, wall, cpu / wall))
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="synthetic")
    p.add_argument("--path")
    args = p.parse_args()
    if args.data == "synthetic":
        data = fastmf.datasets.make_ratings(6040, 3706, 1_000_000, random_state=0)
    else:
        data = fastmf.datasets.load_movielens(args.data[3:], path=args.path)
    cases = {
        "MatrixFactorization(als)": lambda n: fastmf.MatrixFactorization(n_threads=n,
                                                                         random_state=0),
        "MatrixFactorization(sgd)": lambda n: fastmf.MatrixFactorization(
            solver="sgd", n_threads=n, random_state=0),
        "ImplicitALS(cg)": lambda n: fastmf.ImplicitALS(n_threads=n, random_state=0),
        "ImplicitALS(cholesky)": lambda n: fastmf.ImplicitALS(cg_steps=None, n_threads=n,
                                                              random_state=0),
        "BPR": lambda n: fastmf.BPR(n_iter=20, n_threads=n, random_state=0),
        "NMF": lambda n: fastmf.NMF(n_threads=n, random_state=0, tol=0, n_iter=30),
    }
    # the factorization machine on the ratings' one-hot user + item design
    design = FMEncoder().fit(data).transform(data)
    fm_cases = {
        "FMRegressor(mcmc)": lambda n: fastmf.FMRegressor(solver="mcmc", n_threads=n,
                                                          random_state=0),
        "FMRegressor(als)": lambda n: fastmf.FMRegressor(n_threads=n, random_state=0),
    }
    print(f"{data!r}\n")
    print(f"{'model':<28} {'threads':>7} {'wall s':>8} {'CPU/wall':>9}")
    runs = [(name, make, (data,)) for name, make in cases.items()]
    runs += [(name, make, (design, data.values)) for name, make in fm_cases.items()]
    for name, make, fit_args in runs:
        for n, wall, ratio in measure(make, fit_args):
            print(f"{name:<28} {n:>7} {wall:8.2f} {ratio:9.2f}")
    users = np.arange(data.n_users)
    model = fastmf.MatrixFactorization(n_threads=1, random_state=0).fit(data)
    for n in (1, 2):
        model.set_params(n_threads=n)
        model.recommend(users[:10], n=10, exclude=data)
        c0, t0 = cpu_seconds(), time.perf_counter()
        model.recommend(users, n=10, exclude=data)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        print(f"{'recommend (all users)':<28} {n:>7} {wall:8.2f} {cpu / wall:9.2f}")


if __name__ == "__main__":
    main()

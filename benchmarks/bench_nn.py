"""Micro-benchmark of the neural kernels (issue #12) on MovieLens-100k (90/10 split, seed 0).

Times, as the median of ``--repeats`` calls after one warm-up call (so JIT compilation is
excluded), at each thread count given: wall-clock milliseconds and, in parentheses, the CPU
milliseconds of all threads together (on a machine shared with other work the wall time grows
with the load; the CPU time much less):

* I-AutoRec (items x users, ``n_hidden`` 500, sigmoid): one full-batch loss-and-gradient
  evaluation (what L-BFGS calls per iteration; float64, and float32 as the default), one whole
  L-BFGS iteration (float32; the difference is its own vector work) and one Adam epoch
  (float32, batches of 32 items);
* ResidualMF (k 64, one hidden layer of 400 ELU units): one epoch of SGD with momentum
  (learning rate 0.08, momentum 0.9, batches of 128; float32).

Run: ``python benchmarks/bench_nn.py [--data path/to/ml-100k] [--threads 1 2]`` (the data
default is ``$FASTMF_SHARED_DATA/ml-100k``, else ../shared/data/ml-100k). Quote the
numbers with the machine's load: the kernels are compute-bound and the times scale with the
cores they actually get.
"""

import argparse
import os
import pathlib
import time

import numba
import numpy as np

import fastmf
from fastmf._config import threads
from fastmf._kernels import nn
from fastmf._kernels.autorec import autorec_epoch, autorec_loss_grad, param_views
from fastmf._kernels.residual_mf import residual_mf_epoch
from fastmf._solvers.lbfgs import LBFGS

DATA = pathlib.Path(os.environ.get("FASTMF_SHARED_DATA", pathlib.Path(__file__).resolve()
                                   .parents[2] / "shared" / "data")) / "ml-100k"


def median_seconds(call, repeats):
    """Median wall and CPU seconds (all threads' CPU time) of ``call`` after a warm-up."""
    call()
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return float(np.median(wall)), float(np.median(cpu))


def autorec_cases(train, n_hidden, rng):
    """``(name, call)`` for the L-BFGS evaluation and the Adam epoch of I-AutoRec."""
    X = train.csr.T.tocsr()
    X.sort_indices()
    n_rows, n_cols = X.shape
    cases = []
    theta = rng.normal(size=2 * n_cols * n_hidden + n_hidden + n_cols) * 0.03
    grad = np.empty_like(theta)
    X64 = (X.indptr, X.indices, X.data.astype(np.float64))
    views, gviews = param_views(theta, n_cols, n_hidden), param_views(grad, n_cols, n_hidden)
    cases.append(("AutoRec L-BFGS loss+grad (float64)",
                  lambda: autorec_loss_grad(*X64, views, gviews, nn.SIGMOID, 150.0)))
    params = tuple(p.astype(np.float32) for p in views)
    grads = tuple(np.empty_like(p) for p in params)
    X32 = (X.indptr, X.indices, X.data.astype(np.float32))
    cases.append(("AutoRec loss+grad (float32)",
                  lambda: autorec_loss_grad(*X32, params, grads, nn.SIGMOID, 150.0)))

    def fun(x, g):
        return autorec_loss_grad(*X32, param_views(x, n_cols, n_hidden),
                                 param_views(g, n_cols, n_hidden), nn.SIGMOID, 150.0)

    opt = LBFGS(fun, theta.astype(np.float32))
    for _ in range(12):  # the curvature memory (10 pairs) full
        opt.next()
    cases.append(("AutoRec L-BFGS iteration (float32, memory full)", opt.next))
    state = (tuple(np.zeros_like(p) for p in params), tuple(np.zeros_like(p) for p in params))
    batch = 32
    order = rng.permutation(n_rows)
    cases.append((f"AutoRec Adam epoch (float32, batch {batch} rows)",
                  lambda: autorec_epoch(*X32, order, params, state,
                                        (nn.ADAM, 1e-3, 0.9, 0.999, 1e-8), nn.SIGMOID, 150.0,
                                        (batch, 1))))
    return cases


def residual_mf_case(train, k, hidden, rng):
    """``(name, call)`` for one ResidualMF epoch with the course recipe."""
    dt = np.float32
    sizes = np.array([2 * k, hidden, 1])
    codes = np.array([nn.ELU, nn.IDENTITY])
    theta = (rng.normal(size=nn.n_params(sizes)) * 0.05).astype(dt)
    params = ((rng.normal(size=(train.n_users, k)) * 0.1).astype(dt),
              (rng.normal(size=(train.n_items, k)) * 0.1).astype(dt),
              np.zeros(train.n_users, dt), np.zeros(train.n_items, dt), theta)
    state = (tuple(np.zeros_like(p) for p in params),
             tuple(np.zeros((0,) * p.ndim, dt) for p in params))
    data = (train.users.astype(np.int32), train.items.astype(np.int32),
            (train.values - train.values.mean()).astype(dt))
    order = rng.permutation(train.nnz)
    return (f"ResidualMF momentum epoch (float32, k {k}, {hidden} ELU, batch 128)",
            lambda: residual_mf_epoch(order, data, params, state, (sizes, codes),
                                      (nn.SGD, 0.08, 0.9, 0.0, 0.0), (0.1, 0.1, 0.0),
                                      (128, 1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    data = fastmf.datasets.load_movielens("100k", path=args.data)
    train, _ = fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)
    rng = np.random.default_rng(0)
    cases = [*autorec_cases(train, 500, rng), residual_mf_case(train, 64, 400, rng)]
    print(f"ML-100k train: {train.nnz} ratings, numba {numba.__version__}")
    for name, call in cases:
        row = []
        for n in args.threads:
            with threads(n, blas=1):  # as the estimators: the kernels call BLAS
                wall, cpu = median_seconds(call, args.repeats)
            row.append(f"{n} thr {wall * 1e3:7.1f} ms (cpu {cpu * 1e3:7.1f})")
        print(f"{name:62s} " + "  ".join(row), flush=True)


if __name__ == "__main__":
    main()

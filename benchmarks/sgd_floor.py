"""How close fastmf's SGD epoch is to the per-rating floor of this CPU (issue #4).

Times, in nanoseconds per rating on MovieLens-100k (90/10 split, k = 64):

* fastmf's epoch kernel (``sgd_epoch``, block-stratified, 1 and 2 threads), and the whole
  ``MatrixFactorization(solver="sgd").fit`` divided by its ratings x epochs;
* the same plain-SGD loop written in C (one thread, no blocks: the best case for it) and
  compiled by the system C compiler with ``-O3 -march=native -ffast-math``, called through
  ctypes, on the same entries in the same order.

Run: ``python benchmarks/sgd_floor.py [path/to/ml-100k]`` (needs a C compiler for the C line).
"""

import ctypes
import functools
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

import fastmf
from fastmf._kernels.block_sgd import PLAIN, sgd_epoch
from fastmf._solvers.mf_sgd import (
    block_schedule,
    blocked_entries,
    n_blocks,
    no_implicit,
    no_row_reg,
)

C_LOOP = r"""
#include <stdint.h>
double sgd_block(int64_t n, const int32_t* restrict users, const int32_t* restrict items,
                 const float* restrict values, float* restrict W, float* restrict H,
                 float* restrict bu, float* restrict bi, float mu, float lr, float reg) {
    double loss = 0.0;
    const float keep = 1.0f - lr * reg;
    for (int64_t p = 0; p < n; p++) {
        float* restrict w = W + (int64_t)users[p] * 64;
        float* restrict h = H + (int64_t)items[p] * 64;
        float pred = 0.0f;
        for (int f = 0; f < 64; f++) pred += w[f] * h[f];
        const float e = values[p] - (pred + mu + bu[users[p]] + bi[items[p]]);
        const float step = lr * e;
        loss += (double)(e * e);
        bu[users[p]] = keep * bu[users[p]] + step;
        bi[items[p]] = keep * bi[items[p]] + step;
        for (int f = 0; f < 64; f++) {
            const float wf = w[f], hf = h[f];
            w[f] = keep * wf + step * hf;
            h[f] = keep * hf + step * wf;
        }
    }
    return loss;
}
"""


def median_seconds(call, repeats=15):
    call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def factors(train, seed=0):
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((train.n_users, 64)) * 0.1).astype(np.float32)
    H = (rng.standard_normal((train.n_items, 64)) * 0.1).astype(np.float32)
    return W, H, np.zeros(train.n_users, np.float32), np.zeros(train.n_items, np.float32)


def compile_c(directory):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        return None
    src, lib = pathlib.Path(directory, "sgd.c"), pathlib.Path(directory, "sgd.so")
    src.write_text(C_LOOP)
    subprocess.run([cc, "-O3", "-march=native", "-ffast-math", "-shared", "-fPIC", "-o",
                    str(lib), str(src)], check=True)
    fn = ctypes.CDLL(str(lib)).sgd_block
    fn.restype = ctypes.c_double
    fn.argtypes = ([ctypes.c_int64] + [ctypes.c_void_p] * 7 + [ctypes.c_float] * 3)
    return fn


def main(path):
    data = fastmf.datasets.load_movielens("100k", path=path)
    train, _ = fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)
    nnz = train.nnz
    P = n_blocks(train.n_users, train.n_items, nnz)
    entries, block_ptr = blocked_entries(train, P, 1, np.float32)
    users, items, values = entries
    order = block_schedule(1, 0, P)
    f32, empty = np.float32, np.zeros((0, 1), np.float32)
    mu = f32(train.values.mean())
    hyper = (mu, f32(0.01), f32(0.05), f32(0.05), f32(0), 1)
    print(f"MovieLens-100k train: {nnz} ratings, k = 64, P = {P}; ns per rating (median)")
    for threads in (1, 2):
        numba.set_num_threads(threads)
        W, H, bu, bi = factors(train)
        sec = median_seconds(functools.partial(
            sgd_epoch, PLAIN, (order, block_ptr), entries, (W, H, bu, bi), hyper,
            (empty, empty), no_implicit(W), no_row_reg(np.float32)))
        print(f"  fastmf sgd_epoch, {threads} thread(s): {sec / nnz * 1e9:6.1f}")
    epochs = 20
    model = fastmf.MatrixFactorization(64, solver="sgd", n_iter=epochs, learning_rate=0.01,
                                       reg=0.05, reg_exponent=1.0, n_threads=2, random_state=0)
    sec = median_seconds(lambda: model.fit(train), repeats=5)
    print(f"  fastmf fit (2 threads, {epochs} epochs, setup included): "
          f"{sec / (nnz * epochs) * 1e9:6.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        fn = compile_c(tmp)
        if fn is None:
            print("  C loop: no C compiler found")
            return
        W, H, bu, bi = factors(train)
        ptrs = [a.ctypes.data for a in (users, items, values, W, H, bu, bi)]
        sec = median_seconds(lambda: fn(nnz, *ptrs, float(mu), 0.01, 0.05))
        print(f"  C loop (-O3 -march=native -ffast-math), 1 thread: {sec / nnz * 1e9:6.1f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

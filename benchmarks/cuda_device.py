"""Measure the CUDA back end on a lent GPU (issue #17): floors, then GPU and CPU time per iteration.

One call of the device tool runs everything (about 5 minutes on an H200 with 16 cores):

1. versions, the GPU, and its two ceilings measured here: memory bandwidth (a device-to-device
   copy by a numba kernel and, when CuPy is there, by ``cudaMemcpy``; bytes read plus bytes
   written) and the float32 FMA rate (a numba kernel of independent ``cuda.fma`` chains);
2. synthetic data of ML-1M and ML-20M shape (1,000,209 and 20,000,263 ratings, popularity-
   skewed items, activity-skewed users, ratings 1-5 from a planted rank-8 model);
3. correctness on the 1M data: every CUDA kernel against the CPU kernel (float64 on both: one
   half-sweep of implicit-ALS CG and ALS-CG, one epoch of SGD and BPR with one thread block,
   which is the CPU epoch; float32 against float64; Hogwild epochs against the CPU's loss;
   top-10 lists and ranking metrics against the CPU's);
4. for each data set and k in (64, 128): the FLOP and byte floors of one iteration (each input
   read once, each output written once, against the measured ceilings), the GPU time per
   iteration (median of ``--repeats`` after a warm-up, float32, default launch shapes) and
   fastmf's CPU time per iteration on all cores (median of 2 after a warm-up, float32);
5. the CG solvers at the largest size and k under other launch shapes (threads per block,
   entries staged per chunk), to pick the defaults.

The markdown table comes last in the output and in ``$OUT/cuda_device.md``; every number is
also appended to ``$OUT/cuda_device.jsonl`` as it is measured (so a run cut short keeps what it
did). Copy the table into ``benchmarks/RESULTS.md`` with the command below.

Prepare, once, in the checkout the device tool sends (the lead's)::

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \\
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 \\
        -d .whl numba-cuda==0.30.4

(1.9 MB; the device image supplies numba, cuda-bindings, cuda-core, cuda-pathfinder and the
CUDA 13 toolkit's NVVM, which matches its 580 driver.) Then the call::

    run(command="python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir "
                "--upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD "
                "|| exit; export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda} PYTHONUNBUFFERED=1; "
                "python3 setup.py -q build_ext --inplace > $OUT/build.txt 2>&1; "
                "set -o pipefail; python3 benchmarks/cuda_device.py --out $OUT 2>&1 "
                "| tee $OUT/log.txt",
        carry=[".whl"], timeout_s=540)

(``build_ext`` compiles the Cython FM kernels that ``import fastmf`` needs; if it fails the
script stubs them, since no FM model runs here.) A rerun that only needs the GPU side can add
``--skip-cpu``; ``--sizes 1m`` keeps to the small set.

Without a GPU, ``NUMBA_ENABLE_CUDASIM=1 python benchmarks/cuda_device.py --smoke`` runs every
step on tiny data in numba's CUDA simulator: a check of this script, not a measurement.
"""

import argparse
import json
import os
import sys
import time
import types
from pathlib import Path

import numpy as np
from numba import cuda

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {"1m": (6040, 3706, 1_000_209), "20m": (138_493, 26_744, 20_000_263),
         "tiny": (60, 40, 700)}
CG_STEPS = 3


def import_fastmf():
    """``import fastmf``; without the compiled FM extension, a stub (no FM model runs here)."""
    try:
        import fastmf  # noqa: F401
    except ImportError as exc:
        if "_ext" not in str(exc):
            raise
        print(f"note: {exc}; stubbing fastmf._ext.fm (FM kernels unused here)")
        stub = types.ModuleType("fastmf._ext.fm")
        for name in ("fm_cd_sweep", "fm_predict", "fm_residuals", "fm_sgd_epoch"):
            setattr(stub, name, None)
        sys.modules["fastmf._ext.fm"] = stub
        import fastmf  # noqa: F401


class Log:
    """Prints, and appends every record to ``out/cuda_device.jsonl``."""

    def __init__(self, out):
        self.out = Path(out) if out else None
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "cuda_device.jsonl").write_text("")
        self.records = []

    def __call__(self, kind, **fields):
        record = dict(kind=kind, **fields)
        self.records.append(record)
        print(kind, json.dumps({k: v for k, v in fields.items()}, default=str))
        if self.out:
            with open(self.out / "cuda_device.jsonl", "a") as f:
                f.write(json.dumps(record, default=str) + "\n")


# ------------------------------------------------------------------------- ceilings
@cuda.jit
def copy_kernel(src, dst):
    """``dst = src``, a grid-stride loop: the bandwidth ceiling."""
    for j in range(cuda.grid(1), src.shape[0], cuda.gridsize(1)):
        dst[j] = src[j]


@cuda.jit
def fma_kernel(out, n_iter):
    """Eight independent float32 FMA chains per thread: the arithmetic ceiling."""
    i = cuda.grid(1)
    x = np.float32(i) * np.float32(1e-9)
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = x
    b, c = np.float32(0.9999), np.float32(1e-4)
    for _ in range(n_iter):
        a0 = cuda.fma(a0, b, c)
        a1 = cuda.fma(a1, b, c)
        a2 = cuda.fma(a2, b, c)
        a3 = cuda.fma(a3, b, c)
        a4 = cuda.fma(a4, b, c)
        a5 = cuda.fma(a5, b, c)
        a6 = cuda.fma(a6, b, c)
        a7 = cuda.fma(a7, b, c)
    out[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7


def measure_ceilings(log, smoke):
    n = 2**10 if smoke else 2**28  # 1 GiB per float32 array
    src = cuda.to_device(np.arange(n, dtype=np.float32))
    dst = cuda.device_array_like(src)
    sms = sm_count()
    grid, block = (4, 32) if smoke else (sms * 16, 256)
    seconds = timed(lambda: copy_kernel[grid, block](src, dst), 2 if smoke else 10)
    bandwidth = 2 * n * 4 / seconds
    ok = bool(np.array_equal(dst.copy_to_host()[-1000:], np.arange(n)[-1000:]))
    log("copy_kernel", bytes=2 * n * 4, seconds=seconds, GBps=bandwidth / 1e9, correct=ok)
    try:
        import cupy

        a = cupy.arange(n, dtype=cupy.float32)
        b = cupy.empty_like(a)
        t = timed(lambda: b.__setitem__(Ellipsis, a), 10, sync=cupy.cuda.Device().synchronize)
        log("cupy_copy", GBps=2 * n * 4 / t / 1e9)
        bandwidth = max(bandwidth, 2 * n * 4 / t)
    except Exception as exc:  # no CuPy: the numba copy is the ceiling
        log("cupy_copy", skipped=str(exc)[:200])
    n_iter = 16 if smoke else 65536
    grid, block = (2, 32) if smoke else (sms * 8, 256)
    out = cuda.device_array(grid * block, dtype=np.float32)
    t = timed(lambda: fma_kernel[grid, block](out, n_iter), 2 if smoke else 5)
    flops = 2 * 8 * n_iter * grid * block
    log("fma_kernel", flops=flops, seconds=t, TFLOPs=flops / t / 1e12,
        finite=bool(np.isfinite(out.copy_to_host()).all()))
    return bandwidth, flops / t


def sm_count():
    try:
        return cuda.get_current_device().MULTIPROCESSOR_COUNT
    except Exception:  # the simulator has no device
        return 1


def device_name():
    try:
        device = cuda.get_current_device()
        return f"{device.name} (cc {device.compute_capability})"
    except Exception:
        return "numba's CUDA simulator"


def timed(fn, repeats, sync=None):
    """Median seconds of ``fn()`` after one warm-up call, synchronising the device."""
    sync = sync or cuda.synchronize
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# ------------------------------------------------------------------------------ data
def synthetic(n_users, n_items, nnz, seed=0):
    """CSR (indptr, indices, ratings 1-5) with skewed item popularity and user activity."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    item_p = 1.0 / (np.arange(n_items) + 10.0) ** 0.9
    item_p /= item_p.sum()
    user_p = rng.lognormal(0.0, 1.0, n_users)
    user_p /= user_p.sum()
    keys = np.zeros(0, np.int64)
    while len(keys) < nnz:
        draw = int(1.3 * (nnz - len(keys))) + 16
        u = rng.choice(n_users, size=draw, p=user_p)
        i = rng.permutation(n_items)[rng.choice(n_items, size=draw, p=item_p)]
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * n_items + i]))
    keys = np.sort(rng.choice(keys, size=nnz, replace=False))
    users, items = keys // n_items, keys % n_items
    Wp = rng.normal(scale=0.5, size=(n_users, 8))
    Hp = rng.normal(scale=0.5, size=(n_items, 8))
    r = np.empty(nnz)
    for s in range(0, nnz, 1 << 22):
        e = slice(s, s + (1 << 22))
        r[e] = 3.5 + np.einsum("ij,ij->i", Wp[users[e]], Hp[items[e]])
    r = np.clip(np.rint(r + rng.normal(scale=0.5, size=nnz)), 1, 5)
    X = sp.csr_matrix((r, items.astype(np.int32), np.concatenate(
        [[0], np.cumsum(np.bincount(users, minlength=n_users))]).astype(np.int32)),
        shape=(n_users, n_items))
    return X


def start_factors(m, n, k, dtype, seed=1, scale=0.1):
    rng = np.random.default_rng(seed)
    return ((rng.random((m, k)) * scale).astype(dtype), (rng.random((n, k)) * scale).astype(dtype))


# ---------------------------------------------------------------------------- floors
def floors(model, m, n, nnz, k, itemsize=4):
    """``(flops, bytes, gathered bytes)`` of one iteration (see the module docstring): the byte
    floor reads each input once and writes each output once; "gathered" counts the other
    side's row read for every entry and pass, as the kernels do (L2 hits, at best)."""
    passes = CG_STEPS + 1
    entry = 4 + itemsize  # a CSR entry: int32 index and a value
    if model in ("implicit_cg", "als_cg"):
        flops = 2 * passes * nnz * 4 * k + passes * (m + n) * 2 * k * k
        bytes_ = 2 * nnz * entry + 8 * (m + n) + 3 * (m + n) * k * itemsize
        gathered = 2 * passes * nnz * (entry + k * itemsize)
        if model == "implicit_cg":
            flops += 2 * (m + n) * k * k  # the two Gram matrices
        else:  # the objective pass
            flops += 2 * nnz * k
            bytes_ += nnz * entry + (m + n) * k * itemsize
            gathered += nnz * (entry + k * itemsize)
        return flops, bytes_, gathered
    if model == "sgd":
        return (nnz * (6 * k + 10), nnz * 12 + 2 * (m + n) * (k + 1) * itemsize,
                nnz * (12 + 4 * (k + 1) * itemsize))
    if model == "bpr":
        return (nnz * (10 * k + 20), nnz * 16 + 2 * (m * k + n * (k + 1)) * itemsize,
                nnz * (16 + 6 * (k + 1) * itemsize))
    if model == "top10":
        return 2 * m * n * k, (m + n) * k * itemsize + nnz * 4 + m * 10 * 12, 0
    raise ValueError(model)


# ----------------------------------------------------------------- the two sides
def gpu_solver(model, X, W, H, launch, rng_seed=0):
    from fastmf.cuda.solvers import ALSCGSolver, BPRSolver, ImplicitALSCGSolver, SGDSolver

    dt = W.dtype
    data = (X.indptr, X.indices, X.data.astype(dt))
    m, n = X.shape
    if model == "implicit_cg":
        return ImplicitALSCGSolver(data=(X.indptr, X.indices, (1 + X.data).astype(dt)),
                                   user_factors=W, item_factors=H, reg=0.1,
                                   cg_steps=CG_STEPS, **launch)
    if model == "als_cg":
        return ALSCGSolver(data=data, user_factors=W, item_factors=H,
                           user_bias=np.zeros(m, dt), item_bias=np.zeros(n, dt),
                           global_mean=float(X.data.mean()), reg=0.05, cg_steps=CG_STEPS,
                           **launch)
    if model == "sgd":
        return SGDSolver(data=data, user_factors=W, item_factors=H, user_bias=np.zeros(m, dt),
                         item_bias=np.zeros(n, dt), global_mean=float(X.data.mean()),
                         learning_rate=0.01, reg=0.05, seed=rng_seed, **launch)
    return BPRSolver(data=(X.indptr, X.indices), user_factors=W, item_factors=H,
                     item_bias=np.zeros(n, dt), learning_rate=0.05, reg=0.01, rng=rng_seed,
                     **launch)


def cpu_step(model, X, W, H, rng_seed=0):
    """fastmf's CPU kernels doing what the GPU solver's ``step()`` does, on copies."""
    from fastmf._kernels.als import als_cg_half_sweep
    from fastmf._kernels.block_sgd import PLAIN, sgd_epoch
    from fastmf._kernels.bpr import UPDATE_ALL, bpr_epoch, pair_set
    from fastmf._kernels.implicit_als import implicit_cg_sweep
    from fastmf._kernels.linalg import residual
    from fastmf._solvers import mf_sgd

    dt = W.dtype
    f = dt.type
    W, H = W.copy(), H.copy()
    m, n = X.shape
    C = X.tocsc()
    by_user = (X.indptr, X.indices, X.data.astype(dt))
    by_item = (C.indptr, C.indices, C.data.astype(dt))
    if model == "implicit_cg":
        cu = (X.indptr, X.indices, (1 + X.data).astype(dt))
        ci = (C.indptr, C.indices, (1 + C.data).astype(dt))

        def system(Y, rows):
            return Y.T @ Y, np.full(rows, 0.1, dtype=dt)

        def step():
            implicit_cg_sweep(ci, H, W, system(W, n), CG_STEPS)
            return implicit_cg_sweep(cu, W, H, system(H, m), CG_STEPS) + \
                0.1 * float(np.vdot(H, H))
        return step, (W, H)
    if model == "als_cg":
        ub, ib, mu = np.zeros(m, dt), np.zeros(n, dt), float(X.data.mean())

        def step():
            hyper = (mu, 0.05, 0.05, False)
            als_cg_half_sweep(by_item, (H, ib), (W, ub), hyper, CG_STEPS)
            als_cg_half_sweep(by_user, (W, ub), (H, ib), hyper, CG_STEPS)
            return residual(by_user, (W, ub), (H, ib), mu, np.zeros(0, dt))
        return step, (W, H, ub, ib)
    if model == "sgd":
        users = np.repeat(np.arange(m, dtype=np.int32), np.diff(X.indptr))
        items = X.indices.astype(np.int32)
        P = mf_sgd.n_blocks(m, n, X.nnz)
        order, block_ptr = mf_sgd.block_layout(users, items, m, n, P, rng_seed)
        entries = (users[order], items[order], X.data.astype(dt)[order])
        ub, ib, mu = np.zeros(m, dt), np.zeros(n, dt), f(X.data.mean())
        epoch = [0]

        def step():
            schedule = mf_sgd.block_schedule(rng_seed, epoch[0], P)
            epoch[0] += 1
            state, implicit = (np.zeros((0, 1), dt),) * 2, mf_sgd.no_implicit(W)
            return sgd_epoch(PLAIN, (schedule, block_ptr), entries, (W, H, ub, ib),
                             (mu, f(0.01), f(0.05), f(0.05), f(0), 1), state, implicit,
                             mf_sgd.no_row_reg(W.dtype))
        return step, (W, H, ub, ib)
    rows = np.repeat(np.arange(m, dtype=X.indices.dtype), np.diff(X.indptr))
    pairs = pair_set(X.indptr, X.indices, n)
    b = np.zeros(n, dt)
    rng = np.random.default_rng(rng_seed)

    def step():
        seeds = rng.integers(0, 2**63, size=256, dtype=np.uint64)
        total, counted, _ = bpr_epoch((X.indices, rows), (W, H, b), X.nnz, seeds, (0.05, 0.01),
                                      (pairs, False, n), UPDATE_ALL)
        return total / max(1, counted)
    return step, (W, H, b)


def rel(a, ref):
    ref = np.asarray(ref, np.float64)
    return float(np.linalg.norm(np.asarray(a, np.float64) - ref) / max(np.linalg.norm(ref),
                                                                        1e-300))


# ------------------------------------------------------------------------ correctness
def correctness(log, X, launch, k):
    """Every GPU path against the CPU kernels on ``X``; returns {check: passed}.

    float32 results are held to the CPU kernel's own float32 accuracy: the gap to the float64
    CPU result may be at most 10x (plus 1e-6) the float32 CPU kernel's gap (CG on the
    ill-conditioned rows of tail items amplifies rounding, differently in each order of
    operations; on well-conditioned rows the two float32 gaps agree within 1.5x)."""
    import numba

    from fastmf._recommend import top_k as cpu_top_k
    from fastmf.cuda.ranking import ranking_metrics, top_k
    from fastmf.metrics import ranking_metrics as cpu_ranking_metrics

    m, n = X.shape
    results = {}

    def check(name, value, limit, **extra):
        results[name] = bool(value <= limit)
        log("check", name=name, value=value, limit=limit, passed=results[name], **extra)

    one_block = dict(launch, blocks=1)
    sub = X[: max(2, m // 8)]  # one-block epochs run serially: a smaller set
    for model in ("implicit_cg", "als_cg"):
        W, H = start_factors(m, n, k, np.float64)
        step, (W64, *_) = cpu_step(model, X, W, H)
        step()
        step, (W32, *_) = cpu_step(model, X, W.astype(np.float32), H.astype(np.float32))
        step()
        cpu_gap = rel(W32, W64)
        for dt in (np.float64, np.float32):
            gpu = gpu_solver(model, X, W.astype(dt), H.astype(dt), launch)
            gpu.step()
            limit = 1e-9 if dt == np.float64 else 10 * cpu_gap + 1e-6
            check(f"{model} {dt.__name__}: 1 iteration vs CPU float64",
                  rel(gpu.state()["user_factors"], W64), limit, cpu_float32_gap=cpu_gap)
    for model in ("sgd", "bpr"):
        W, H = start_factors(*sub.shape, k, np.float64)
        gpu = gpu_solver(model, sub, W, H, one_block)
        loss = gpu.step()
        previous = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            step, (Wc, *_) = cpu_step(model, sub, W, H)
            ref = step()
        finally:
            numba.set_num_threads(previous)
        check(f"{model} one block float64 = CPU epoch", rel(gpu.state()["user_factors"], Wc),
              1e-9, loss=loss, cpu_loss=ref)
    for model in ("sgd", "bpr"):  # Hogwild: the loss after 3 epochs, not the path
        W, H = start_factors(m, n, k, np.float32)
        gpu = gpu_solver(model, X, W, H, launch)
        step, _ = cpu_step(model, X, W, H)
        losses = [(gpu.step(), step()) for _ in range(3)]
        check(f"{model} Hogwild float32: loss after 3 epochs vs CPU (relative gap)",
              abs(losses[-1][0] - losses[-1][1]) / losses[-1][1], 0.05, losses=losses)
    rng = np.random.default_rng(3)
    U, V = rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(n, k)).astype(np.float32)
    users = np.arange(min(m, 2000))
    idx, scores = top_k(U[users], V, 10, exclude=X[users], **launch)
    ref_idx, ref_scores = cpu_top_k(U[users], V, 10, exclude=X[users])
    finite = np.isfinite(ref_scores)
    check("top10 float32: lists that differ from the CPU's (fraction)",
          float(np.mean(np.any(idx != ref_idx, axis=1))), 0.01,
          max_score_gap=float(np.max(np.abs(scores - ref_scores)[finite], initial=0.0)))
    test = X[users][:, ::-1].tocsr()  # any disjoint-ish "test" structure will do
    got = ranking_metrics((U[users].astype(np.float64), V.astype(np.float64)), X[users], test,
                          k=10, **launch)
    ref = cpu_ranking_metrics((U[users].astype(np.float64), V.astype(np.float64)), X[users],
                              test, k=10)
    check("ranking metrics float64 vs CPU (largest relative gap)",
          max(abs(got[key] - ref[key]) / max(abs(ref[key]), 1e-12) for key in ref), 1e-9)
    return results


# ----------------------------------------------------------------------------- timings
def timings(log, name, X, ks, repeats, launch, skip_cpu, bandwidth, flop_rate):
    from fastmf._recommend import top_k as cpu_top_k
    from fastmf.cuda.ranking import top_k as gpu_top_k

    m, n = X.shape
    rows = []
    for k in ks:
        for model in ("implicit_cg", "als_cg", "sgd", "bpr", "top10"):
            W, H = start_factors(m, n, k, np.float32)
            if model == "top10":
                gpu_s = timed(lambda W=W, H=H: gpu_top_k(W, H, 10, exclude=X, **launch),
                              repeats)
                cpu_s = None if skip_cpu else timed(
                    lambda W=W, H=H: cpu_top_k(W, H, 10, exclude=X), 2, sync=lambda: None)
            else:
                solver = gpu_solver(model, X, W, H, launch)
                gpu_s = timed(solver.step, repeats)
                cpu_s = None
                if not skip_cpu:
                    step, _ = cpu_step(model, X, W, H)
                    cpu_s = timed(step, 2, sync=lambda: None)
                del solver
            flops, bytes_, gathered = floors(model, m, n, X.nnz, k)
            row = dict(data=name, k=k, model=model, nnz=X.nnz, flop_floor_ms=1e3 * flops /
                       flop_rate, byte_floor_ms=1e3 * bytes_ / bandwidth,
                       gather_ms=1e3 * gathered / bandwidth, gpu_ms=1e3 * gpu_s,
                       cpu_ms=None if cpu_s is None else 1e3 * cpu_s)
            log("timing", **row)
            rows.append(row)
    return rows


VARIANTS = [(32, 32), (32, 16), (32, 8), (64, 32), (64, 64), (128, 32)]


def variants(log, name, X, k, repeats, shapes):
    """GPU time per iteration of the CG solvers under other launch shapes (threads, chunk)."""
    m, n = X.shape
    rows = []
    for model in ("implicit_cg", "als_cg"):
        for threads, chunk in shapes:
            W, H = start_factors(m, n, k, np.float32)
            solver = gpu_solver(model, X, W, H, dict(threads=threads, chunk=chunk))
            row = dict(data=name, k=k, model=model, threads=threads, chunk=solver._chunk,
                       gpu_ms=1e3 * timed(solver.step, repeats))
            log("variant", **row)
            rows.append(row)
            del solver
    return rows


def table(rows, variant_rows, checks, header):
    lines = [header, "",
             "| data | k | model | FLOP floor ms | byte floor ms | gathered/BW ms | GPU ms/iter "
             "| GPU / byte floor | CPU ms/iter | CPU / GPU |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cpu = "-" if r["cpu_ms"] is None else f"{r['cpu_ms']:.1f}"
        speed = "-" if r["cpu_ms"] is None else f"{r['cpu_ms'] / r['gpu_ms']:.1f}x"
        lines.append(f"| {r['data']} | {r['k']} | {r['model']} | {r['flop_floor_ms']:.3f} | "
                     f"{r['byte_floor_ms']:.3f} | {r['gather_ms']:.3f} | {r['gpu_ms']:.2f} | "
                     f"{r['gpu_ms'] / r['byte_floor_ms']:.1f}x | {cpu} | {speed} |")
    by = {(r["data"], r["k"], r["model"]): r for r in rows}
    targets = [("implicit_cg", "GPU ms/iter < 100 (issue #17)", lambda r: r["gpu_ms"] < 100)]
    targets += [(model, "GPU within 3x of the byte floor (issue #17)",
                 lambda r: r["gpu_ms"] < 3 * r["byte_floor_ms"]) for model in ("als_cg", "bpr")]
    for i, (model, what, ok) in enumerate(targets):
        r = by.get(("20m", 128, model))
        if r is not None:
            lines += [""] if i == 0 else []
            lines.append(f"- 20M, k=128, {model}: {what}: {'met' if ok(r) else '**not met**'} "
                         f"({r['gpu_ms']:.1f} ms, byte floor {r['byte_floor_ms']:.2f} ms)")
    if variant_rows:
        lines += ["", "| data | k | model | threads | chunk | GPU ms/iter |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['data']} | {r['k']} | {r['model']} | {r['threads']} | {r['chunk']} | "
                  f"{r['gpu_ms']:.2f} |" for r in variant_rows]
    lines += ["", "| check | passed |", "|---|---|"]
    lines += [f"| {name} | {'yes' if ok else '**NO**'} |" for name, ok in checks.items()]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT"))
    parser.add_argument("--sizes", default="1m,20m")
    parser.add_argument("--k", default="64,128")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny data and launches (for NUMBA_ENABLE_CUDASIM=1)")
    args = parser.parse_args(argv)
    log = Log(args.out)
    import_fastmf()
    import numba

    from fastmf.cuda import require_cuda

    require_cuda()
    sizes = ["tiny"] if args.smoke else args.sizes.split(",")
    ks = [4] if args.smoke else [int(k) for k in args.k.split(",")]
    launch = dict(threads=4, blocks=4) if args.smoke else {}
    if args.smoke:  # the simulator settings of the test suite (see that plugin's docstring)
        import warnings

        from tests.cuda_sim.simulator import _make_swap_thread_safe

        sys.setswitchinterval(1e-4)
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        _make_swap_thread_safe()
    repeats = 1 if args.smoke else args.repeats
    try:
        import numba_cuda
        nc_version = numba_cuda.__version__
    except ImportError:
        nc_version = None
    device = device_name()
    log("versions", python=sys.version.split()[0], numpy=np.__version__,
        numba=numba.__version__, numba_cuda=nc_version, device=device, sms=sm_count(),
        cpu_threads=numba.get_num_threads())
    bandwidth, flop_rate = measure_ceilings(log, args.smoke)
    t0 = time.perf_counter()
    data = {name: synthetic(*SIZES[name]) for name in sizes}
    log("data", seconds=time.perf_counter() - t0,
        shapes={name: (X.shape, X.nnz) for name, X in data.items()})
    checks = correctness(log, data[sizes[0]], launch, 4 if args.smoke else 16)
    rows = []
    for name in sizes:
        rows += timings(log, name, data[name], ks, repeats, launch, args.skip_cpu, bandwidth,
                        flop_rate)
    shapes = [(4, 4), (2, 1)] if args.smoke else VARIANTS
    variant_rows = variants(log, sizes[-1], data[sizes[-1]], ks[-1], repeats, shapes)
    header = (f"{device}: copy {bandwidth / 1e9:.0f} GB/s (read + write), float32 FMA "
              f"{flop_rate / 1e12:.1f} TFLOP/s (measured here); CPU: {numba.get_num_threads()} "
              f"threads; numba {numba.__version__}, numba-cuda {nc_version}; "
              f"cg_steps={CG_STEPS}; float32")
    text = table(rows, variant_rows, checks, header)
    print("\n" + text)
    if args.out:
        (Path(args.out) / "cuda_device.md").write_text(text + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

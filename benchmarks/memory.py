"""Peak memory (RSS) of fastmf's fits and of ``recommend``, each case in its own process.

Not a timed benchmark: it measures resident memory, which other processes on the machine do
not change. Each case runs in a fresh subprocess (Linux only: it reads ``/proc/self/status``)
that

1. imports fastmf and the estimator's module: the **import** baseline (nothing compiled);
2. builds the data (``make_ratings``, or FMEncoder's design for myFM);
3. runs a tiny warm-up fit of the same estimator, so that Numba's compiler state and the
   cached kernels are loaded (the **runtime**: they stay loaded for the life of a process);
4. resets the kernel's peak-RSS counter (``/proc/self/clear_refs``) and runs the measured
   fit (or ``recommend``): VmHWM is then the peak **during** the measured call.

Reported: RSS after import, after the data, before the measured call, the peak during it,
the increment ``peak - before`` (what the call itself allocates), and ``peak - import``
(data + runtime + call). The threads are ``--threads`` for fastmf's kernels, BLAS at one
thread (OpenBLAS reserves buffers per thread).

Usage::

    python benchmarks/memory.py                     # every case; writes the "memory" section
    python benchmarks/memory.py --cases als mcmc --no-write
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIG = (10**6, 10**6, 10**6)          # users, items, ratings
MCMC = (20_000, 10_000, 500_000)     # the half-million-rating set of issue #10
K_BIG, K_MCMC = 32, 10

# case -> (what it measures, estimator, constructor keywords); n_iter comes from --iters
CASES = {
    "als": ("fit", "MatrixFactorization", dict(solver="als")),
    "sgd": ("fit", "MatrixFactorization", dict(solver="sgd")),
    "implicit": ("fit", "ImplicitALS", {}),
    "bpr": ("fit", "BPR", {}),
    "recommend": ("recommend", "ImplicitALS", {}),
    "mcmc": ("mcmc", "MatrixFactorization", dict(solver="mcmc")),
    "mcmc-thin4": ("mcmc", "MatrixFactorization", dict(solver="mcmc", thin=4)),
    "myfm": ("myfm", None, {}),
}
FIT_CASES = ("als", "sgd", "implicit", "bpr")

NOTES = """
Sizes: the big cases fit `make_ratings(10**6, 10**6, 10**6)` (10^6 users x 10^6 items x
10^6 ratings) at k = 32, each with `n_iter` 2 and 4: the peak does not grow with the
iterations (every solver allocates its buffers once per fit). `recommend` is the top 10 of
10^4 random users of that set, training items excluded, from a fitted
`ImplicitALS(n_factors=32)`; its scores are computed in blocks of at most 64 MB. The MCMC
cases fit `make_ratings(20_000, 10_000, 500_000)` with `MatrixFactorization(solver="mcmc",
n_factors=10, n_iter=200)` (burn-in 40: 160 kept samples; `thin=4` keeps 40) and myFM 0.4.0
`MyFMRegressor(rank=10).fit(X, y, n_iter=200, n_kept_samples=160)` on the same one-hot
user + item design (built before `before`, so not in its increment).

Where the memory of a 10^6 x 10^6 fit goes: the factors, 2 x 10^6 x 32 float32 = 244 MiB,
and one copy of them that the fitting loop keeps to restore the last finished iteration on
KeyboardInterrupt (another 244 MiB): `peak - before` is exactly these two. The CSR/CSC views
the solvers read (15 MiB each, cached on the Ratings) and the solvers' buffers fit in memory
that `make_ratings` freed (`+ data` holds the Ratings' 31 MiB and what the allocator kept of
the generator's temporaries). `before - data` (about 40 MiB) is the runtime the warm-up
loaded: Numba's CPU target and LLVM, which the first kernel call of any process loads,
compiled or from the cache, plus the cached kernels. The import baseline (about 190 MiB) is
Python, NumPy, SciPy, Numba (65 MiB) and scikit-learn's `BaseEstimator`, which pulls in
scipy.stats, scipy.optimize and pandas (about 95 MiB); `import fastmf` alone is 10 MiB.

MCMC before this change (fastmf at commit ba2000d, the same command with that checkout first
on `PYTHONPATH`, `--cases mcmc`): import 197, + data 244, before 245, peak 841, peak - before
596 MiB, peak - import 644 MiB. It kept the samples, then copied and rescaled all of them into
new factor arrays after every sweep (two such copies alive at once); now the samples are
rescaled in place in one buffer that the model's factors view, so the increment is the
samples themselves (30,000 x 1,600 float32 = 183 MiB) plus the design matrix (CSR and CSC)
and the sampler's per-rating caches (q: 500,000 x 10 float64 = 38 MiB). myFM keeps its
samples in float64.
"""


def rss(key="VmRSS"):
    """A memory figure of this process from /proc/self/status, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def reset_peak():
    """Make VmHWM restart from the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def child(case, n_iter, threads):
    """Measure one case in this process and print one JSON line."""
    import numpy as np

    import fastmf

    kind, name, params = CASES[case]
    est = getattr(fastmf, name) if name else None
    out = {"import": rss()}
    if kind == "myfm":
        import myfm

        from fastmf.fm_features import FMEncoder
    shape = MCMC if kind in ("mcmc", "myfm") else BIG
    data = fastmf.datasets.make_ratings(*shape, random_state=0)
    k = K_MCMC if kind in ("mcmc", "myfm") else K_BIG
    tiny = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
    if kind == "myfm":
        enc = FMEncoder().fit(data)
        X, y = enc.transform(data).tocsr(), data.values
        out["data"] = rss()
        myfm.MyFMRegressor(rank=k, random_seed=0).fit(X[:200], y[:200], n_iter=3,
                                                      n_kept_samples=2)

        def run():
            return myfm.MyFMRegressor(rank=k, random_seed=0).fit(
                X, y, n_iter=n_iter, n_kept_samples=n_iter - n_iter // 5)
    else:
        out["data"] = rss()
        make = lambda it: est(n_factors=k, n_iter=it, n_threads=threads, random_state=0,
                              **params)
        make(min(n_iter, 10)).fit(tiny)  # warm-up: load the kernels
        if kind == "recommend":
            model = make(n_iter).fit(data)
            model.recommend(np.arange(2), n=10, exclude=data)
            users = np.random.default_rng(0).choice(shape[0], 10_000, replace=False)

            def run():
                return model.recommend(users, n=10, exclude=data)
        else:
            def run():
                return make(n_iter).fit(data)
    out["before"] = rss()
    reset_peak()
    t0 = time.perf_counter()
    result = run()
    out["seconds"] = time.perf_counter() - t0
    out["peak"] = rss("VmHWM")
    out["after"] = rss()
    del result
    print(json.dumps(out))


def run_case(case, n_iter, threads):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", FASTMF_NO_BLAS_CHECK="1",
               PYTHONWARNINGS="ignore")
    cmd = [sys.executable, str(Path(__file__)), "--child", case, "--threads", str(threads),
           "--iters", str(n_iter)]
    print(f"[memory] {case}, n_iter={n_iter} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if "No module named 'myfm'" in proc.stderr:
            tail = "myfm not installed"
        print(f"    failed: {tail}", file=sys.stderr, flush=True)
        return {"error": tail[:200]}
    result = json.loads(lines[-1])
    print(f"    {result}", file=sys.stderr, flush=True)
    return result


def describe(case, n_iter):
    kind, name, params = CASES[case]
    if kind == "myfm":
        return f"myFM MyFMRegressor(rank={K_MCMC}), n_iter={n_iter}"
    extra = "".join(f", {k}={v!r}" for k, v in params.items())
    k = K_MCMC if kind == "mcmc" else K_BIG
    text = f"{name}(n_factors={k}{extra}, n_iter={n_iter})"
    return f"recommend 10^4 users, n=10 ({text})" if kind == "recommend" else text


def markdown(rows, command, threads):
    lines = ["## Memory (issue #10): peak RSS of fits and recommend", "",
             f"Command: `{command}` — {datetime.date.today()}, {platform.machine()}, "
             f"{os.cpu_count()} cores, {threads} threads, BLAS 1 thread; MiB of resident "
             "memory (VmRSS / VmHWM), each case in a fresh process; `s` is the wall-clock "
             "time of the measured call on the shared machine, not a speed figure.", "",
             "| case | import | + data | before | peak | peak − before | peak − import | s |",
             "|---|---|---|---|---|---|---|---|"]
    for case, n_iter, r in rows:
        if "error" in r:
            lines.append(f"| {describe(case, n_iter)} | {r['error']} |" + " |" * 6)
            continue
        cells = [describe(case, n_iter)] + [f"{r[c]:.0f}" for c in
                                            ("import", "data", "before", "peak")]
        cells += [f"{r['peak'] - r['before']:.0f}", f"{r['peak'] - r['import']:.0f}",
                  f"{r['seconds']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", NOTES.strip(), ""])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iters", type=int, nargs="+", default=[2, 4],
                   help="n_iter of the big fits (each in its own process)")
    p.add_argument("--mcmc-iters", type=int, default=200)
    p.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    p.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = p.parse_args()
    if args.child:
        child(args.child, args.iters[0], args.threads)
        return
    rows = []
    for case in args.cases:
        iters = args.iters if case in FIT_CASES else \
            [1] if case == "recommend" else [args.mcmc_iters]
        rows += [(case, it, run_case(case, it, args.threads)) for it in iters]
    command = "python benchmarks/memory.py" + "".join(
        f" {flag} {value}" for flag, value in
        [("--cases", " ".join(args.cases)) if args.cases != list(CASES) else ("", ""),
         ("--threads", args.threads), ("--iters", " ".join(map(str, args.iters))),
         ("--mcmc-iters", args.mcmc_iters)] if flag)
    text = markdown(rows, command, args.threads)
    print(text)
    if not args.no_write:
        sys.path.insert(0, str(HERE))
        from compare_peers import write_section

        write_section("memory", text)


if __name__ == "__main__":
    main()

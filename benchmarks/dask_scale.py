"""fastmf on a 2-worker Dask cluster vs single-node fastmf and Spark ALS ``local[2]``.

Explicit ALS-WR (k = 64, reg 0.1 per rating, no biases: Spark's model, so that all three fit
the same objective and reach the same RMSE), exact row solves, float32. Each run is its own
subprocess; the three libraries are interleaved (fastmf, Dask, Spark, then again), and the
table gives the median per-iteration time over the repeats:

- fastmf: ``MatrixFactorization(n_threads=2, cg_steps=None)``, one untimed warm-up fit
  (Numba cache);
  seconds per iteration from ``history_`` (all iterations);
- fastmf.dask: ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``, the
  training Parquet file read by the workers (``dask.dataframe.read_parquet``), a warm-up fit
  on a small set; per iteration from ``history_`` without the first iteration; the set-up
  (ID mapping, shuffle, initial checkpoint) is reported apart; peak RSS of each worker;
- Spark: ``ALS(rank=64, regParam=0.1)`` on ``local[2]``, the Parquet file read by Spark;
  per iteration = (fit of N iterations - fit of 2) / (N - 2), after a warm-up fit; peak RSS
  of the JVM.

The data are ``make_ratings`` at MovieLens-1M scale (6,040 x 3,706, 1,000,209) and at
MovieLens-20M scale (138,493 x 26,744, 20,000,263), 90/10 split, written once to Parquet
under ``--cache``. Usage::

    python benchmarks/dask_scale.py --case 1m 20m --repeats 2
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASES = {"1m": {"shape": (6040, 3706, 1_000_209), "iters": 10,
                "label": "synthetic ML-1M size (6,040 x 3,706, 1,000,209 ratings)"},
         "20m": {"shape": (138_493, 26_744, 20_000_263), "iters": 5,
                 "label": "synthetic ML-20M size (138,493 x 26,744, 20,000,263 ratings)"}}
LIBRARIES = ("fastmf", "fastmf.dask", "Spark ALS")
K, REG = 64, 0.1


def peak_rss(pid="self"):
    """Peak resident memory (VmHWM) of a process, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return float("nan")


def data_files(case, cache):
    """(train, test) Parquet paths of a case, written on first use."""
    import pandas as pd

    import fastmf

    folder = Path(cache) / f"ratings-{case}"
    train, test = folder / "train.parquet", folder / "test.parquet"
    if not test.exists():
        folder.mkdir(parents=True, exist_ok=True)
        r = fastmf.datasets.make_ratings(*CASES[case]["shape"], random_state=0)
        tr, te = fastmf.model_selection.train_test_split(r, test_size=0.1, random_state=0)
        for part, path in ((tr, train), (te, test)):
            pd.DataFrame({"user": part.users.astype(np.int32),
                          "item": part.items.astype(np.int32),
                          "rating": part.values.astype(np.float32)}).to_parquet(
                path, row_group_size=1_000_000)
    return train, test


def _rmse(y, p):
    return float(np.sqrt(np.mean((np.asarray(y, np.float64) - p) ** 2)))


def warm_test(train, test):
    """The test ratings whose user and item occur in training (no biases: a cold user or
    item has no prediction but a constant, which each library picks differently)."""
    import pandas as pd

    tr, te = pd.read_parquet(train), pd.read_parquet(test)
    return te[te["user"].isin(tr["user"].unique()) & te["item"].isin(tr["item"].unique())]


def _local_ratings(path, n_users, n_items):
    """The Parquet ratings as a Ratings over the whole index space."""
    import pandas as pd

    import fastmf

    df = pd.read_parquet(path)
    return fastmf.Ratings(df["user"].to_numpy(np.int64), df["item"].to_numpy(np.int64),
                          df["rating"].to_numpy(np.float64), n_users=n_users,
                          n_items=n_items)


def run_fastmf(case, train, test):
    import fastmf

    n_users, n_items, _ = CASES[case]["shape"]
    tr, te = _local_ratings(train, n_users, n_items), warm_test(train, test)
    # exact rows, as fastmf.dask's default and Spark (MatrixFactorization's own default is
    # CG rows with a final exact sweep: less work per iteration than the other two do)
    kw = dict(n_factors=K, reg=REG, reg_exponent=1.0, fit_biases=False, clip=False, n_threads=2,
              cg_steps=None, random_state=0)
    fastmf.MatrixFactorization(n_iter=1, **kw).fit(tr)  # warm-up: Numba's cache
    t0 = time.perf_counter()
    m = fastmf.MatrixFactorization(n_iter=CASES[case]["iters"], **kw).fit(tr)
    fit = time.perf_counter() - t0
    return {"per_iter": statistics.median(m.history_["seconds"]), "fit": fit,
            "test_rmse": _rmse(te["rating"], m.predict(te["user"].to_numpy(np.int64),
                                                       te["item"].to_numpy(np.int64))),
            "peak_mib": peak_rss()}


def run_dask(case, train, test):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import fastmf
    from fastmf.dask import DaskMatrixFactorization

    te = warm_test(train, test)
    kw = dict(n_factors=K, reg=REG, reg_exponent=1.0, fit_biases=False, clip=False,
              random_state=0)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit="10GiB", dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        warm = fastmf.datasets.make_ratings(500, 300, 5000, random_state=1)
        DaskMatrixFactorization(n_iter=1, client=client, **kw).fit(warm)  # Numba's cache
        ddf = dd.read_parquet(str(train), split_row_groups=True)  # a partition per group
        t0 = time.perf_counter()
        m = DaskMatrixFactorization(n_iter=CASES[case]["iters"], client=client, **kw).fit(ddf)
        fit = time.perf_counter() - t0
        workers = client.run(peak_rss)
        pred = m.predict(dd.from_pandas(te, npartitions=2)).compute().to_numpy()
    secs = m.history_["seconds"]
    return {"per_iter": statistics.median(secs[1:]), "first_iter": secs[0], "fit": fit,
            "setup": fit - sum(secs), "test_rmse": _rmse(te["rating"], pred),
            "peak_mib": peak_rss(), "worker_peak_mib": sorted(workers.values()),
            "shipped_mb": statistics.median(m.history_["shipped_bytes"][1:]) / 1e6,
            "planned_mb": m.history_["planned_bytes"][-1] / 1e6,
            "strategies": m.strategies_}


def run_spark(case, train, test):
    import psutil
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("fastmf-dask-bench")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "12g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(str(train)).cache()
    df.count()

    def fit(iters):
        t0 = time.perf_counter()
        model = ALS(rank=K, maxIter=iters, regParam=REG, userCol="user", itemCol="item",
                    ratingCol="rating", coldStartStrategy="nan", seed=0, numUserBlocks=2,
                    numItemBlocks=2).fit(df)
        model.userFactors.count()
        return model, time.perf_counter() - t0

    fit(2)  # warm-up: the JVM's JIT
    n = CASES[case]["iters"]
    _, t2 = fit(2)
    model, tn = fit(n)
    te = warm_test(train, test)
    pred = model.transform(spark.createDataFrame(te[["user", "item"]])).toPandas()
    merged = te.merge(pred[["user", "item", "prediction"]], on=["user", "item"], how="left")
    p = merged["prediction"].to_numpy(np.float64)
    jvm = [c for c in psutil.Process().children(recursive=True) if "java" in c.name()]
    out = {"per_iter": (tn - t2) / (n - 2), "fit": tn,
           "test_rmse": _rmse(merged["rating"], p),
           "peak_mib": max((peak_rss(c.pid) for c in jvm), default=float("nan"))}
    spark.stop()
    return out


RUNNERS = {"fastmf": run_fastmf, "fastmf.dask": run_dask, "Spark ALS": run_spark}


def markdown(results, repeats, command, conditions):
    lines = ["## Dask (issue #14): fastmf.dask on a 2-worker LocalCluster vs single-node "
             "fastmf and Spark ALS", "",
             f"Command: `{command}` — {datetime.date.today()}, {platform.machine()}, "
             f"{os.cpu_count()} cores, {repeats} interleaved repeats (median). {conditions}",
             ""]
    for case, by_lib in results.items():
        lines += [f"**{CASES[case]['label']}, 90/10, k={K}, {CASES[case]['iters']} "
                  "iterations, no biases, ALS-WR reg 0.1**", "",
                  "| library | s / iter | all repeats | test_rmse | peak RSS (MiB) | "
                  "vs fastmf | Spark / this |", "|---|---|---|---|---|---|---|"]
        base = statistics.median(r["per_iter"] for r in by_lib["fastmf"])
        spark = statistics.median(r["per_iter"] for r in by_lib.get("Spark ALS", [])) \
            if by_lib.get("Spark ALS") else float("nan")
        for lib, runs in by_lib.items():
            if not runs or "error" in runs[0]:
                lines.append(f"| {lib} | {runs[0].get('error') if runs else 'not run'} |"
                             " | | | | |")
                continue
            per = statistics.median(r["per_iter"] for r in runs)
            peak = runs[-1].get("worker_peak_mib", runs[-1]["peak_mib"])
            peak = ", ".join(f"{p:,.0f}" for p in peak) + " per worker" \
                if isinstance(peak, list) else f"{peak:,.0f}"
            lines.append(f"| {lib} | {per:.3f} | "
                         + ", ".join(f"{r['per_iter']:.3f}" for r in runs)
                         + f" | {runs[-1]['test_rmse']:.4f} | {peak} | {per / base:.2f}× | "
                         f"{spark / per:.1f}× |")
        loads = [x for runs in by_lib.values() for r in runs for x in r.get("load", [])]
        if loads:
            lines += ["", f"1-minute load average of the machine at the start and end of the "
                      f"runs: {min(loads):.1f} to {max(loads):.1f} (2 cores)."]
        d = by_lib.get("fastmf.dask")
        if d and "error" not in d[0]:
            lines += ["", f"fastmf.dask: set-up (ID mapping, shuffle into blocks, initial "
                      f"checkpoint) {statistics.median(r['setup'] for r in d):.1f} s, first "
                      f"iteration {statistics.median(r['first_iter'] for r in d):.2f} s; "
                      f"shipped {d[-1]['shipped_mb']:.1f} MB per iteration between the "
                      f"workers (cost model: {d[-1]['planned_mb']:.1f} MB, strategies "
                      f"{d[-1]['strategies']}); client process peak "
                      f"{d[-1]['peak_mib']:,.0f} MiB."]
        lines.append("")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--case", nargs="+", default=["1m", "20m"], choices=sorted(CASES))
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES))
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--cache", default=os.environ.get("FASTMF_BENCH_CACHE",
                                                     "/tmp/fastmf-bench-cache"))
    p.add_argument("--conditions", default="", help="text on the machine's load, for the notes")
    p.add_argument("--worker", nargs=2, metavar=("LIBRARY", "CASE"), help=argparse.SUPPRESS)
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--save", help="also write the raw results (JSON) here")
    p.add_argument("--render", nargs="+", metavar="JSON",
                   help="no runs: the section from results saved by --save (cases merged)")
    args = p.parse_args()
    if args.render:
        results, commands = {}, []
        for path in args.render:
            saved = json.loads(Path(path).read_text())
            results.update(saved["results"])
            commands.append(saved["command"])
        text = markdown(results, saved["repeats"], "; ".join(commands), args.conditions)
        print(text)
        if not args.no_write:
            sys.path.insert(0, str(HERE))
            from compare_peers import write_section

            write_section("dask", text)
        return
    if args.worker:
        lib, case = args.worker
        load = os.getloadavg()[0]
        out = RUNNERS[lib](case, *data_files(case, args.cache))
        print(json.dumps(dict(out, load=[load, os.getloadavg()[0]])))
        return
    env = dict(os.environ, NUMBA_NUM_THREADS="2", OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE", PYTHONWARNINGS="ignore")
    results = {}
    for case in args.case:
        data_files(case, args.cache)
        results[case] = {lib: [] for lib in args.libraries}
        for rep in range(args.repeats):
            for lib in args.libraries:
                print(f"[{case}] repeat {rep + 1} {lib} ...", file=sys.stderr, flush=True)
                proc = subprocess.run([sys.executable, __file__, "--worker", lib, case,
                                       "--cache", args.cache], env=env, capture_output=True,
                                      text=True)
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
                if proc.returncode or not lines:
                    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    out = {"error": f"failed: {tail[:200]}"}
                else:
                    out = json.loads(lines[-1])
                print(f"    {out}", file=sys.stderr, flush=True)
                results[case][lib].append(out)
    command = ("python benchmarks/dask_scale.py --case " + " ".join(args.case)
               + f" --repeats {args.repeats}")
    if args.save:
        Path(args.save).write_text(json.dumps({"results": results, "command": command,
                                               "repeats": args.repeats}))
    text = markdown(results, args.repeats, command, args.conditions)
    print(text)
    if not args.no_write:
        sys.path.insert(0, str(HERE))
        from compare_peers import write_section

        write_section("dask", text)


if __name__ == "__main__":
    main()

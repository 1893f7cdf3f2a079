"""``run_benchmark``: fastmf and every installed peer on one split of one data set."""

import datetime
import os
import platform
import sys
import tempfile
from collections.abc import Iterable
from importlib import metadata
from os import PathLike
from pathlib import Path
from typing import Any

from .._ratings import Ratings
from ._data import load_data, save_split, split
from ._engine import Job, run_jobs
from ._models import DEFAULT_MODELS, MODELS
from .peers import ALIASES, PEERS


def _names(value, what, known, aliases=None):
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    out = []
    for name in value:
        name = (aliases or {}).get(name, name)
        if name not in known:
            raise ValueError(f"unknown {what} {name!r}; choose from {', '.join(known)}")
        if name not in out:
            out.append(name)
    if not out and what == "model":
        raise ValueError("no model given; choose from " + ", ".join(known))
    return out


def check_models(models: str | Iterable[str]) -> list[str]:
    """Model names from a list or a comma-separated string (``"all"``: every model).

    Examples
    --------
    >>> from fastmf.bench import check_models
    >>> check_models("als, ials,als")
    ['als', 'ials']
    >>> check_models("alss")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'alss'; choose from als, sgd, ...
    """
    if models == "all":
        return list(MODELS)
    return _names(models, "model", MODELS)


def check_peers(peers: str | Iterable[str], models: Iterable[str]) -> list[str]:
    """Peer names: ``"auto"`` (every peer of ``models``), ``"none"``, or a list.

    Examples
    --------
    >>> from fastmf.bench import check_peers
    >>> check_peers("auto", ["als", "sgd"])
    ['cmfrec', 'pyspark', 'surprise', 'libmf']
    >>> check_peers("scikit-learn,spark", ["als"])
    ['sklearn', 'pyspark']
    """
    wanted = [p for m in models for p in MODELS[m].peers]
    if peers == "auto":
        return list(dict.fromkeys(wanted))
    if peers in ("none", "", ()):
        return []
    return _names(peers, "peer", PEERS, ALIASES)


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def build_jobs(models, peers, case_defaults, split_file):
    """One fastmf job per model, then one per (model, peer) that has a runner for it."""
    jobs = []
    for name in models:
        model = MODELS[name]
        case = {**case_defaults, "model": name, "kind": model.kind}
        case["iters"] = case.get("iters") or model.iters
        case["burn_in"] = case["iters"] // 5  # samples discarded by the Gibbs samplers
        runner, settings = model.fastmf
        jobs.append(Job(name, "fastmf", runner, split_file, kwargs=settings, case=case))
        for peer in peers:
            if peer in model.peers:
                runner, settings = model.peers[peer]
                spec = PEERS[peer]
                jobs.append(Job(name, peer, runner, split_file, kwargs=settings, case=case,
                                requires=(spec.module,), warmup=spec.compiles))
    return jobs


def run_benchmark(data: "str | Ratings" = "ml-100k", *,
                  models: str | Iterable[str] = DEFAULT_MODELS,
                  peers: str | Iterable[str] = "auto", threads: int = 2, repeats: int = 3,
                  factors: int = 64, iters: int | None = None,
                  path: str | PathLike | None = None, seed: int = 0, positive: float = 4.0,
                  timeout: float | None = None, progress: bool = True,
                  command: str | None = None,
                  data_name: str | None = None) -> dict[str, Any]:
    """Fit fastmf and the peer libraries on the same split, each in its own process.

    Every (model, library) runs in a fresh process with the same thread count
    (``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS`` and the library's own thread setting) and BLAS
    pools at one thread; data conversion happens before the timed region; libraries that
    compile at their first fit (fastmf's Numba kernels, Spark's JVM) get one untimed warm-up
    fit; the time reported is the median of ``repeats`` fits. A peer that is not installed
    gives a ``"missing"`` row, one that fails an ``"error"`` row.

    Parameters
    ----------
    data : str or Ratings, default="ml-100k"
        See :func:`load_data`, or the ratings themselves. The split is ``test_size=0.1`` at
        random with ``seed``.
    models : str or list of str, default=("als", "sgd", "ials", "bpr")
        Names from :data:`MODELS` (or ``"all"``).
    peers : str or list of str, default="auto"
        ``"auto"``: every peer that has a runner for one of ``models``; ``"none"``; or names
        from :data:`PEERS`.
    threads : int, default=2
    repeats : int, default=3
    factors : int, default=64
        Rank of every model.
    iters : int, optional
        Iterations (epochs, samples) of every model; default: each model's own
        (``MODELS[name].iters``).
    path : str or path-like, optional
        Local MovieLens folder or zip (no download).
    seed : int, default=0
        Seed of the split, the synthetic data and every model.
    positive : float, default=4.0
        Ranking models are fitted on, and scored against, entries rated at least this.
    timeout : float, optional
        Seconds after which a job is stopped and reported as ``"timeout"``.
    progress : bool, default=True
        Show a progress bar on stderr.
    command : str, optional
        The command line to record in the results.
    data_name : str, optional
        The name of ``data`` in the results when it is a Ratings.

    Returns
    -------
    dict
        ``{"meta": {...}, "rows": [...]}``, JSON-serialisable; see :func:`format_table`.

    Examples
    --------
    >>> from fastmf.bench import run_benchmark
    >>> res = run_benchmark("synthetic:200x100x3000", models="als", peers="none",
    ...                     repeats=1, factors=4, iters=2, progress=False)
    >>> row = res["rows"][0]
    >>> row["library"], row["status"], row["ratio"], sorted(row["metrics"])
    ('fastmf', 'ok', 1.0, ['rmse'])
    """
    from .._validation import check_float_param, check_int_param

    models = check_models(models)
    peers = check_peers(peers, models)
    for value, name in ((threads, "threads"), (repeats, "repeats"), (factors, "factors")):
        check_int_param(value, name, low=1)
    check_int_param(iters, "iters", low=1, allow_none=True)
    if timeout is not None:
        check_float_param(timeout, "timeout", low=0, low_open=True)
    if isinstance(data, Ratings):
        ratings, name = data, data_name or "ratings"
    else:
        ratings, name = load_data(data, path=path, seed=seed), data
    train, test = split(ratings, seed=seed)
    meta = {
        "command": command, "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "fastmf": _version("fastmf"), "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}", "cores": os.cpu_count(),
        "threads": threads, "repeats": repeats, "factors": factors, "seed": seed,
        "data": {"name": str(name), "users": ratings.n_users, "items": ratings.n_items,
                 "ratings": ratings.nnz, "train": train.nnz, "test": test.nnz},
        "positive": positive,
    }
    defaults = {"k": factors, "iters": iters, "seed": seed, "positive": positive}
    with tempfile.TemporaryDirectory(prefix="fastmf-bench-") as tmp:
        split_file = str(Path(tmp, "split.npz"))
        save_split(split_file, train, test)
        jobs = build_jobs(models, peers, defaults, split_file)
        rows = run_jobs(jobs, threads=threads, repeats=repeats, timeout=timeout,
                        progress=progress, python=sys.executable)
    return {"meta": meta, "rows": [_finish(job, row, rows, jobs)
                                   for job, row in zip(jobs, rows, strict=True)]}


def _finish(job, row, rows, jobs):
    """Add model, library, version, iterations, seconds per iteration and the ratio."""
    out = {"model": job.group, "library": job.label, "kind": job.case["kind"],
           "version": _version(PEERS[job.label].dist if job.label in PEERS else "fastmf"),
           "status": row["status"]}
    if row["status"] != "ok":
        out["error"] = row.get("error", "")
        return out
    metrics = dict(row["metrics"])
    n_iter = int(metrics.pop("iters", job.case["iters"]))
    ours = next((r for j, r in zip(jobs, rows, strict=True)
                 if j.group == job.group and j.label == "fastmf" and r["status"] == "ok"), None)
    out.update(seconds=row["seconds"], all_seconds=row["all_seconds"], iters=n_iter,
               s_per_iter=row["seconds"] / n_iter, metrics=metrics, peak_mb=row["peak_mb"],
               base_mb=row["base_mb"],
               ratio=None if ours is None else row["seconds"] / ours["seconds"])
    return out

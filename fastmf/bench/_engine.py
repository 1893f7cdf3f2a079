"""The benchmark method: one process per (case, library), same threads, BLAS pinned, warm-up,
median of repeats, peak memory; missing libraries and crashes become rows, not failures."""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

STEP, RESULT = "@@fastmf-bench-step", "@@fastmf-bench-result "
_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS")


@dataclass
class Job:
    """One row of a benchmark: a runner, the settings it reads, and the split it runs on.

    ``runner`` is ``"module:attribute"`` (with ``key``: an item of that attribute, a dict of
    runners); the worker process imports it and calls
    ``runner(case, train, test, threads, **kwargs)``, which prepares the data (untimed) and
    returns ``(fit, evaluate)``: ``fit()`` fits from scratch and returns a model,
    ``evaluate(model)`` a dict of metrics. A runner raises ``ImportError`` when its library is
    missing. ``requires`` lists modules checked before a process is started (a missing one
    gives a ``"missing"`` row at once); ``warmup`` runs one untimed fit first (for code that
    compiles or starts a JVM); ``split`` is the file written by
    :func:`~fastmf.bench.save_split`; ``group`` and ``label`` name the row (model, library);
    ``sys_path`` is prepended to the worker's ``sys.path``.

    Examples
    --------
    >>> from fastmf.bench import Job, run_jobs
    >>> job = Job("als", "peer", "some.module:runner", requires=("fastmf_no_such_library",))
    >>> run_jobs([job], threads=1, repeats=1, progress=False)[0]["status"]
    'missing'
    """

    group: str
    label: str
    runner: str
    split: str = ""
    key: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    case: dict[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    warmup: bool = True
    sys_path: tuple[str, ...] = ()


def missing_modules(modules: Iterable[str]) -> list[str]:
    """The names in ``modules`` that cannot be imported here (found without importing them).

    Examples
    --------
    >>> from fastmf.bench import missing_modules
    >>> missing_modules(["numpy", "fastmf_no_such_library"])
    ['fastmf_no_such_library']
    """
    out = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(name)
    return out


def worker_env(threads: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: ``threads`` for OpenMP and Numba, BLAS pools at 1.

    Examples
    --------
    >>> from fastmf.bench import worker_env
    >>> env = worker_env(2)
    >>> env["NUMBA_NUM_THREADS"], env["OMP_NUM_THREADS"], env["OPENBLAS_NUM_THREADS"]
    ('2', '2', '1')
    """
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               PYTHONWARNINGS="ignore")
    env.update({v: "1" for v in _BLAS_VARS})
    env.update(extra or {})
    return env


def run_jobs(jobs: Sequence[Job], *, threads: int, repeats: int, timeout: float | None = None,
             progress: bool = True, python: str | None = None,
             env: Mapping[str, str] | None = None, desc: str = "bench") -> list[dict[str, Any]]:
    """Run every job in its own process, one after the other; return one dict per job.

    A row has ``group``, ``label``, ``status`` (``"ok"``, ``"missing"``, ``"error"`` or
    ``"timeout"``) and, when ok, ``seconds`` (median of ``repeats`` timed fits),
    ``all_seconds``, ``metrics``, ``peak_mb`` (the worker's peak resident memory during the
    fits) and ``base_mb`` (its resident memory before them); otherwise ``error``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from fastmf.bench import Job, load_data, run_jobs, save_split, split
    >>> tmp = tempfile.mkdtemp()
    >>> save_split(f"{tmp}/split.npz", *split(load_data("synthetic:200x100x3000")))
    >>> job = Job("als", "fastmf", "fastmf.bench._fastmf:estimator", f"{tmp}/split.npz",
    ...           kwargs={"name": "MatrixFactorization"}, case={"k": 4, "iters": 2})
    >>> row = run_jobs([job], threads=1, repeats=2, progress=False)[0]
    >>> row["status"], len(row["all_seconds"]), sorted(row["metrics"])
    ('ok', 2, ['rmse'])
    """
    python = python or sys.executable
    steps = [repeats + int(j.warmup) for j in jobs]
    rows = []
    with tqdm(total=sum(steps), desc=desc, unit="fit", disable=not progress, leave=False,
              file=sys.stderr) as bar:
        for job, n_steps in zip(jobs, steps, strict=True):
            bar.set_postfix_str(f"{job.group} / {job.label}", refresh=True)
            absent = missing_modules(job.requires)
            if absent:
                row = {"status": "missing", "error": f"not installed ({', '.join(absent)})"}
                done = 0
            else:
                row, done = _run_one(job, threads, repeats, timeout, python,
                                     worker_env(threads, env), bar)
            bar.update(n_steps - done)
            rows.append({"group": job.group, "label": job.label, **row})
    return rows


def _run_one(job, threads, repeats, timeout, python, env, bar):
    """Start the worker for ``job``, follow its progress, return (row, steps done)."""
    with tempfile.TemporaryDirectory(prefix="fastmf-bench-") as tmp:
        spec = Path(tmp, "job.json")
        spec.write_text(json.dumps({**asdict(job), "threads": threads, "repeats": repeats}))
        out_path, err_path = Path(tmp, "stdout"), Path(tmp, "stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([python, "-m", "fastmf.bench._worker", str(spec)],
                                    stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
            start, done, timed_out = time.monotonic(), 0, False
            while True:
                try:
                    proc.wait(timeout=0.2)
                    finished = True
                except subprocess.TimeoutExpired:
                    finished = False
                steps = out_path.read_bytes().count(STEP.encode())
                if steps > done:
                    bar.update(steps - done)
                    done = steps
                if finished:
                    break
                if timeout is not None and time.monotonic() - start > timeout:
                    proc.kill()
                    proc.wait()
                    timed_out = True
                    break
        if timed_out:
            return {"status": "timeout", "error": f"timed out after {timeout:g} s"}, done
        stdout = out_path.read_text(errors="replace")
        results = [ln[len(RESULT):] for ln in stdout.splitlines() if ln.startswith(RESULT)]
        if proc.returncode == 0 and results:
            return json.loads(results[-1]), done
        return {"status": "error", "error": _failure(proc.returncode, err_path)}, done


def _failure(returncode, err_path):
    lines = [ln.strip() for ln in err_path.read_text(errors="replace").splitlines()
             if ln.strip()]
    if returncode is not None and returncode < 0:
        import signal

        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed ({name})" + (f": {lines[-1][:200]}" if lines else "")
    return f"failed (exit {returncode}): {lines[-1][:200]}" if lines else \
        f"failed (exit {returncode}) without output"

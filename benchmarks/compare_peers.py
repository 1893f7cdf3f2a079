"""Compare fastmf with the peer libraries that are installed, and write benchmarks/RESULTS.md.

The method is ``fastmf bench``'s (:func:`fastmf.bench.run_jobs`): each (task, case, library)
runs in its own subprocess with the same thread count (``NUMBA_NUM_THREADS``/
``OMP_NUM_THREADS`` = ``--threads``, BLAS pools at 1 thread), one untimed warm-up fit (JIT
compilation, JVM start), then the median of ``--repeats`` timed fits; data conversion happens
outside the timed region. Speed is reported as a ratio against each peer measured in the same
run. This script adds the tasks (the sections of RESULTS.md) and their tables.

A task is a module in ``benchmarks/peers/`` with:

- ``TITLE``: the section heading in RESULTS.md;
- ``CASES``: a list of dicts, each with at least ``"data"`` (see :func:`load_split`) and the
  settings the runners read (``k``, ``iters``, ...); ``"label"`` names the case in the table,
  and ``"runners"`` (optional) lists the libraries of ``RUNNERS`` the case runs (default all);
- ``RUNNERS``: ``{library: runner}``; ``runner(case, train, test, threads)`` prepares the data
  and returns ``(fit, evaluate)``: ``fit()`` fits from scratch and returns a model,
  ``evaluate(model)`` returns a dict of accuracy metrics. A runner raises ``ImportError`` when
  its library is missing (reported as "not installed"). The peers' runners live in
  ``fastmf.bench.peers`` and fastmf's in ``fastmf.bench._fastmf``; tasks bind their settings;
- optionally ``SPEED``: the name of the per-iteration column's divisor in the case
  (default ``"iters"``; ``None``: no such column, e.g. when runners report their own), and
  ``NOTES``: text printed under the table.

Usage::

    python benchmarks/compare_peers.py                 # every task
    python benchmarks/compare_peers.py --task als --threads 2 --repeats 3
"""

import argparse
import datetime
import importlib
import os
import platform
import re
import sys
import tempfile
from pathlib import Path

from fastmf.bench import Job, load_data, run_jobs, save_split, split

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
DATA_DIR = Path(os.environ.get("FASTMF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
DATA = {"ml-100k": "ml-100k", "synthetic-1m": "synthetic:6040x3706x1000209",
        "synthetic-sparse": "synthetic:2000x20000x300000"}


def load_split(name, seed=0):
    """Train/test Ratings of a named data set, split 90/10 at random with ``seed``.

    ``"ml-100k"`` reads ../shared/data/ml-100k (or ``FASTMF_SHARED_DATA``); ``"synthetic-1m"``
    is ``make_ratings`` at MovieLens-1M scale (6,040 users x 3,706 items, 1,000,209 ratings),
    ``"synthetic-sparse"`` the few-users-many-items shape (2,000 x 20,000, 300,000 ratings: most
    items have fewer ratings than k).
    """
    if name not in DATA:
        raise ValueError(f"unknown data set {name!r}")
    path = DATA_DIR / "ml-100k" if name == "ml-100k" else None
    return split(load_data(DATA[name], path=path, seed=seed), seed=seed)


def run_task(task_name, threads, repeats):
    """Every (case, library) of a task through :func:`fastmf.bench.run_jobs`."""
    task = importlib.import_module(f"peers.{task_name}")
    with tempfile.TemporaryDirectory(prefix="fastmf-peers-") as tmp:
        files = {}
        for case in task.CASES:
            if case["data"] not in files:
                files[case["data"]] = str(Path(tmp, f"{case['data']}.npz"))
                save_split(files[case["data"]], *load_split(case["data"]))
        jobs = [Job(str(ci), library, f"peers.{task_name}:RUNNERS", files[case["data"]],
                    key=library, case=case, sys_path=(str(HERE),))
                for ci, case in enumerate(task.CASES) for library in task.RUNNERS
                if library in case.get("runners", task.RUNNERS)]
        results = run_jobs(jobs, threads=threads, repeats=repeats, desc=task_name)
    rows = []
    for r in results:
        row = {"case": int(r["group"]), "library": r["label"]}
        if r["status"] == "ok":
            row.update(seconds=r["seconds"], all_seconds=r["all_seconds"], **r["metrics"])
        else:
            row["error"] = r["error"]
        print(f"[{task_name}] {task.CASES[row['case']].get('label', row['case'])} / "
              f"{row['library']}: {row}", file=sys.stderr, flush=True)
        rows.append(row)
    return task, rows


def markdown(task, rows, threads, repeats, command):
    div = getattr(task, "SPEED", "iters")
    lines = [f"## {task.TITLE}", "",
             f"Command: `{command}` — {datetime.date.today()}, {platform.machine()}, "
             f"{os.cpu_count()} cores, {threads} threads for every library, median of "
             f"{repeats} fits after a warm-up fit.", ""]
    for ci, case in enumerate(task.CASES):
        case_rows = [r for r in rows if r["case"] == ci]
        ours = [r for r in case_rows if r["library"].startswith("fastmf") and "seconds" in r]
        metrics = sorted({k for r in case_rows for k in r
                          if k not in ("case", "library", "seconds", "all_seconds", "error")})
        lines += [f"**{case.get('label', case['data'])}**", ""]
        per = [f"s / {div[:-1] if div.endswith('s') else div}"] if div else []
        head = ["library", "fit s", *per, *metrics]
        head += [f"speed-up of {r['library']}" for r in ours]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in case_rows:
            if "error" in r:
                lines.append(f"| {r['library']} | {r['error']} |" + " |" * (len(head) - 2))
                continue
            cells = [r["library"], f"{r['seconds']:.3f}"]
            cells += [f"{r['seconds'] / case[div]:.4f}"] if div else []
            cells += [_fmt(r.get(m)) for m in metrics]
            cells += [f"{r['seconds'] / o['seconds']:.2f}×" for o in ours]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if getattr(task, "NOTES", ""):
        lines += [task.NOTES.strip(), ""]
    return "\n".join(lines)


def _fmt(v):
    if v is None:
        return ""
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def write_section(task_name, text):
    """Replace (or append) the task's section of RESULTS.md between its markers."""
    begin, end = f"<!-- BEGIN {task_name} -->", f"<!-- END {task_name} -->"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    block = f"{begin}\n{text}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    new = pattern.sub(lambda _: block, old) if pattern.search(old) else old.rstrip() + \
        "\n\n" + block + "\n"
    RESULTS.write_text(new)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", action="append", help="task module(s) in benchmarks/peers/")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = p.parse_args()
    sys.path.insert(0, str(HERE))
    tasks = args.task or sorted(p.stem for p in (HERE / "peers").glob("*.py")
                                if not p.stem.startswith("_"))
    command = "python benchmarks/compare_peers.py " + " ".join(
        [f"--task {t}" for t in tasks] + [f"--threads {args.threads}",
                                          f"--repeats {args.repeats}"])
    for name in tasks:
        task, rows = run_task(name, args.threads, args.repeats)
        text = markdown(task, rows, args.threads, args.repeats, command)
        print(text)
        if not args.no_write:
            write_section(name, text)


if __name__ == "__main__":
    main()

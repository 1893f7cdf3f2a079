"""No crash and no silent accept on malformed input, at any public entry point.

The table (``tests/malformed_cases.py``) feeds every estimator and every method that takes data
corrupt sparse matrices (indices out of range, broken ``indptr``, repeated columns, NaN, ...),
bad index arguments (floats, negatives, out of range, wrong ndim, NaN, bools, strings), bad
``n`` and broken model files. Each case must raise the expected exception type with a message
that starts with the argument's name.

A case that segfaults must fail, not kill pytest: the cases run in worker processes that write
one JSON line per finished case. When a worker dies, the case in flight is recorded as a crash
and a fresh worker continues from the next case. Each case is then its own test here.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .malformed_cases import all_cases

CASES = all_cases()
WORKER = Path(__file__).with_name("malformed_cases.py")
#: A worker that writes nothing for this long is killed and its case counts as a hang (generous:
#: a case may be the first to fit its model, compiling kernels on a cold Numba cache).
SILENCE_LIMIT_S = 600


def _run_worker(ids, folder, n):
    """Run one worker over ``ids``; return (its reports, why it stopped, its stderr)."""
    ids_path, out_path = folder / f"ids{n}.json", folder / f"out{n}.jsonl"
    err_path = folder / f"err{n}.txt"
    ids_path.write_text(json.dumps(ids))
    out_path.touch()
    root = WORKER.parent.parent
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONFAULTHANDLER="1",
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    with open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, str(WORKER), str(ids_path), str(out_path)],
                                stdout=err, stderr=err, env=env, cwd=root)
        size, quiet_since = 0, time.monotonic()
        while proc.poll() is None:
            time.sleep(0.05)
            if out_path.stat().st_size != size:
                size, quiet_since = out_path.stat().st_size, time.monotonic()
            elif time.monotonic() - quiet_since > SILENCE_LIMIT_S:
                proc.kill()
                proc.wait()
                break
    why = (f"the worker hung (silent for {SILENCE_LIMIT_S} s, killed)" if proc.returncode < 0
           and time.monotonic() - quiet_since > SILENCE_LIMIT_S
           else f"the worker died with exit code {proc.returncode}")
    reports = []
    for line in out_path.read_text().splitlines():
        try:
            reports.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by the crash
            pass
    stderr = err_path.read_text().split("\nExtension modules:")[0][-4000:]
    return reports, why, stderr


def _run_workers(ids, folder):
    """Outcome of each case id: a worker's report, or a crash / hang of the case in flight."""
    results, remaining, n = {}, list(ids), 0
    while remaining:
        n += 1
        reports, why, stderr = _run_worker(remaining, folder, n)
        if not any(r.get("ready") for r in reports):
            raise RuntimeError(f"the malformed-input worker could not start: {why}\n{stderr}")
        results.update((r["id"], r) for r in reports if "id" in r)
        remaining = [i for i in remaining if i not in results]
        if remaining:
            results[remaining[0]] = {"id": remaining[0], "outcome": "crash",
                                     "message": f"{why} during this case:\n{stderr}"}
            remaining = remaining[1:]
    return results


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory):
    selected = [item.callspec.params["case"].id for item in request.session.items
                if getattr(item, "module", None) is not None
                and item.module.__name__ == __name__ and hasattr(item, "callspec")
                and "case" in item.callspec.params]
    return _run_workers(selected, tmp_path_factory.mktemp("malformed"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_raises_a_clear_error(case, outcomes):
    report = outcomes[case.id]
    if report["outcome"] == "crash":
        pytest.fail(f"CRASH: {report['message']}")
    if report["outcome"] == "returned":
        pytest.fail(f"silently accepted: expected {case.error.__name__} matching "
                    f"{case.match!r}")
    assert case.error.__name__ in report["types"], (
        f"raised {report['type']}: {report['message']!r} at {report['where']}; expected "
        f"{case.error.__name__}")
    assert re.search(case.match, report["message"]), (
        f"{report['type']} message {report['message']!r} does not match {case.match!r}")


def test_the_table_covers_every_estimator_and_entry_point():
    ids = " ".join(c.id for c in CASES)
    for prefix in ("mf-als", "mf-hals", "mf-sgd", "mf-mcmc", "svdpp", "ials-cg",
                   "ials-cholesky", "bpr", "warp-kos", "nmf-frobenius-zero", "nmf-frobenius-ignore",
                   "nmf-poisson-zero", "nmf-poisson-ignore", "puresvd"):
        for entry in ("fit-X", "transform-X", "recommend-exclude", "recommend-user_items",
                      "recommend-users", "recommend-n", "recommend-items",
                      "recommend-filter_items", "similar_items-items", "similar_users-users",
                      "recalculate_user-user_items", "partial_fit_users-user_items",
                      "partial_fit_items-item_users", "predict-users", "score-y"):
            assert f"{prefix}-{entry}-" in ids, f"{prefix}-{entry}"
    for prefix in ("fmr-als", "fmr-sgd", "fmr-mcmc", "fmc-als", "fmc-sgd", "fmc-mcmc"):
        assert f"{prefix}-fit-X-column-out-of-range" in ids
        assert f"{prefix}-predict-X-column-out-of-range" in ids
    for entry in ("ranking_metrics-train-", "ranking_metrics-test-", "load-truncated",
                  "svdpp-fit-implicit-"):
        assert entry in ids

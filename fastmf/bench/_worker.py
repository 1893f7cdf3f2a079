"""One benchmark job in its own process: ``python -m fastmf.bench._worker JOB.json``.

Prints a step marker after the warm-up and after each timed fit, and one result line; an
exception in the runner is reported as an error result (its traceback goes to stderr).
"""

import importlib
import json
import statistics
import sys
import time
import traceback

from ._engine import RESULT, STEP


def resolve(runner, key=None):
    """The object named ``"module:attribute"`` (``[key]`` of it when ``key`` is given)."""
    module, _, attr = runner.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj if key is None else obj[key]


def _status():
    try:
        with open("/proc/self/status") as f:
            return {k: v for k, _, v in (ln.partition(":") for ln in f)}
    except OSError:
        return None


def _rss_mb(key="VmRSS"):
    """Resident memory in MB (``VmHWM``: its peak); the peak from getrusage off Linux."""
    status = _status()
    if status is not None and key in status:
        return int(status[key].split()[0]) / 1024
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _reset_peak():
    """Make the kernel's peak-RSS counter start again from the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _emit(result):
    print(RESULT + json.dumps(result), flush=True)


def run(spec):
    from ._data import load_split

    sys.path[:0] = list(spec["sys_path"])
    train, test = load_split(spec["split"])
    runner = resolve(spec["runner"], spec["key"])
    try:
        fit, evaluate = runner(spec["case"], train, test, spec["threads"], **spec["kwargs"])
    except ImportError as exc:
        _emit({"status": "missing", "error": f"not installed ({exc})"})
        return
    base = _rss_mb()
    _reset_peak()
    if spec["warmup"]:
        model = fit()
        print(STEP, flush=True)
    times = []
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - t0)
        print(STEP, flush=True)
    peak = _rss_mb("VmHWM")
    metrics = evaluate(model)
    _emit({"status": "ok", "seconds": statistics.median(times), "all_seconds": times,
           "metrics": metrics, "peak_mb": peak, "base_mb": base})


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0]) as f:
        spec = json.load(f)
    try:
        run(spec)
    except Exception as exc:  # reported as the job's error row
        traceback.print_exc()
        message = " ".join(str(exc).split())[:300]
        _emit({"status": "error", "error": f"{type(exc).__name__}: {message}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``fastmf bench`` subcommand: arguments, checks that fail fast (exit 2), output files."""

import os
import shlex
import sys
from pathlib import Path

from ._models import DEFAULT_MODELS, MODELS


def add_parser(sub):
    """Add ``bench`` to the ``fastmf`` subparsers."""
    b = sub.add_parser(
        "bench", help="time fastmf against the installed peer libraries on one data set",
        description="Fit fastmf and every installed peer library (the 'bench' extra) on the "
                    "same split, each in its own process with the same thread count, and "
                    "print fit seconds, seconds per iteration, RMSE or P@10/nDCG@10, peak "
                    "memory and the time relative to fastmf.")
    b.add_argument("--data", default="ml-100k",
                   help="ml-100k, ml-1m (or another MovieLens variant), "
                        "synthetic:USERSxITEMSxNNZ, or a user,item,rating[,timestamp] CSV file "
                        "(default ml-100k)")
    b.add_argument("--path", help="local MovieLens folder or zip (no download)")
    b.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help=f"comma-separated, from {', '.join(MODELS)}, or 'all' "
                        f"(default {','.join(DEFAULT_MODELS)})")
    b.add_argument("--peers", default="auto",
                   help="'auto' (every installed peer of the models, missing ones listed), "
                        "'none', or comma-separated names")
    b.add_argument("--threads", default="2", help="threads for every library (2)")
    b.add_argument("--repeats", default="3", help="timed fits per library; the median (3)")
    b.add_argument("--factors", default="64", help="rank of every model (64)")
    b.add_argument("--iters", default=None, help="iterations of every model (each model's own)")
    b.add_argument("--seed", default="0", help="seed of the split, data and models (0)")
    b.add_argument("--timeout", default=None, help="seconds before a library is stopped")
    b.add_argument("-o", "--output", help="write the results as JSON")
    b.add_argument("--markdown", help="write the table as Markdown")
    b.add_argument("--plot", help="save time and quality side by side (needs matplotlib)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(run=run)
    b.error = error  # one line and exit 2 for argparse's own errors too
    return b


def error(message):
    """argparse's error handler for ``fastmf bench``: one line on stderr, exit status 2."""
    print(f"fastmf bench: error: {message}", file=sys.stderr)
    sys.exit(2)


class BenchInputError(ValueError):
    """Input that ``fastmf bench`` rejects before running anything (exit status 2)."""


def _int(text, name, low=1, optional=False):
    if text is None and optional:
        return None
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise BenchInputError(f"--{name} must be an integer, got {text!r}") from None
    if value < low:
        raise BenchInputError(f"--{name} must be >= {low}, got {value}")
    return value


def writable(path, flag):
    """Fail now, not after the benchmark, when ``path`` cannot be written."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise BenchInputError(f"{flag} {path}: is a folder, not a file")
    existed = p.exists()
    try:
        with open(p, "a"):
            pass
    except OSError as exc:
        raise BenchInputError(f"{flag} {path}: cannot write there ({exc.strerror})") from None
    if not existed:
        p.unlink()


def run(args):
    """Run ``fastmf bench`` with parsed arguments; return the exit status."""
    from ._report import format_table, to_markdown, write_json
    from ._run import check_models, check_peers, run_benchmark

    try:
        threads = _int(args.threads, "threads")
        repeats = _int(args.repeats, "repeats")
        factors = _int(args.factors, "factors")
        iters = _int(args.iters, "iters", optional=True)
        seed = _int(args.seed, "seed", low=0)
        timeout = None
        if args.timeout is not None:
            timeout = float(args.timeout) if _is_float(args.timeout) else -1.0
            if not timeout > 0:
                raise BenchInputError(f"--timeout must be a positive number, got "
                                      f"{args.timeout!r}")
        models = check_models(args.models)
        check_peers(args.peers, models)
        for path, flag in ((args.output, "-o"), (args.markdown, "--markdown"),
                           (args.plot, "--plot")):
            writable(path, flag)
        if args.plot:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                raise BenchInputError("--plot needs matplotlib: pip install "
                                      "'fastmf[plot]'") from None
        from ._data import load_data

        ratings = load_data(args.data, path=args.path, seed=seed)  # errors before any job
    except (ValueError, OSError) as exc:
        print(f"fastmf bench: error: {exc}", file=sys.stderr)
        return 2
    command = "fastmf bench " + " ".join(shlex.quote(a) for a in getattr(args, "argv", []))
    print(f"fastmf bench: {args.data}, models {','.join(models)}, {threads} threads, "
          f"{repeats} repeats", flush=True)
    results = run_benchmark(ratings, data_name=args.data, models=models, peers=args.peers,
                            threads=threads, repeats=repeats, factors=factors, iters=iters,
                            path=args.path, seed=seed, timeout=timeout, progress=not args.quiet,
                            command=command.strip())
    print(format_table(results))
    if args.output:
        write_json(results, args.output)
        print(f"wrote {args.output}")
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(results))
        print(f"wrote {args.markdown}")
    if args.plot:
        _save_plot(results, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _save_plot(results, path):
    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_benchmark

    axes = plot_benchmark(results)
    fig = axes[0].figure
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True

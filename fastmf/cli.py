"""The ``fastmf`` command: ``demo``, ``fit``, ``evaluate``, ``recommend`` and ``bench``.

Examples
--------
$ fastmf demo                              # synthetic data, no download
$ fastmf demo --data ml-100k --path ~/ml-100k
$ fastmf fit ratings.csv -o model.npz --factors 32 --iters 10
$ fastmf evaluate model.npz test.csv
$ fastmf recommend model.npz alice bob -n 5 --exclude ratings.csv
$ fastmf bench --data ml-100k --models als,sgd,ials,bpr --threads 2 -o results.json
"""

import argparse
import sys
import time

import numpy as np

from . import __version__, datasets, metrics
from ._csv import read_ratings_csv
from ._ids import index_to_raw, raw_to_index
from ._ratings import Ratings
from .base import load
from .bench._cli import add_parser as add_bench_parser
from .bench._cli import error as bench_error
from .bench._cli import writable
from .implicit import ImplicitALS
from .mf import MatrixFactorization
from .model_selection import train_test_split
from .popularity import Popularity


def main(argv=None):
    """Entry point of the ``fastmf`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.

    Examples
    --------
    >>> import contextlib, io
    >>> from fastmf.cli import main
    >>> with contextlib.redirect_stdout(io.StringIO()) as out:
    ...     status = main(["demo", "--users", "300", "--items", "200", "--ratings", "6000",
    ...                    "--factors", "4", "--iters", "3", "--quiet"])
    >>> status, "test RMSE" in out.getvalue()
    (0, True)
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    if argv[:1] == ["bench"]:  # arguments the bench parser leaves over fail in this one
        parser.error = bench_error
    args = parser.parse_args(argv)
    args.argv = argv[1:]
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (ValueError, TypeError, KeyError, OSError) as exc:
        print(f"fastmf {args.command}: error: {exc}", file=sys.stderr)
        return 1


def _parser():
    p = argparse.ArgumentParser(prog="fastmf", description="Fast matrix factorization.")
    p.add_argument("--version", action="version", version=f"fastmf {__version__}")
    sub = p.add_subparsers(dest="command")

    d = sub.add_parser("demo", help="fit a rating model and a ranking model on a data set "
                                    "and print their scores beside baselines, and "
                                    "recommendations (default: synthetic, no download)")
    d.add_argument("--data", default="synthetic",
                   help="'synthetic' (default), a MovieLens variant such as 'ml-100k', or a "
                        "CSV path (user,item,rating[,timestamp])")
    d.add_argument("--path", help="local MovieLens folder or zip (no download)")
    d.add_argument("--users", type=int, default=3000, help="synthetic: number of users")
    d.add_argument("--items", type=int, default=1500, help="synthetic: number of items")
    d.add_argument("--ratings", type=int, default=150_000, help="synthetic: number of ratings")
    _model_args(d, factors=32, iters=10)
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.add_argument("--plot", help="save the training curves and precision/recall at k to this "
                                  "image (needs matplotlib)")
    d.set_defaults(run=_demo)

    f = sub.add_parser("fit", help="fit a model on a CSV file and save it")
    f.add_argument("csv", help="user,item,rating[,timestamp] rows; a header line is skipped")
    f.add_argument("-o", "--output", default="model.npz")
    f.add_argument("--sep", default=",")
    _model_args(f, factors=64, iters=15)
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    f.set_defaults(run=_fit)

    e = sub.add_parser("evaluate", help="RMSE and MAE of a saved model on a CSV file")
    e.add_argument("model")
    e.add_argument("csv")
    e.add_argument("--sep", default=",")
    e.set_defaults(run=_evaluate)

    r = sub.add_parser("recommend", help="top-n items for users of a saved model")
    r.add_argument("model")
    r.add_argument("users", nargs="+", help="raw user IDs as in the training CSV")
    r.add_argument("-n", type=int, default=10)
    r.add_argument("--exclude", help="CSV of interactions not to recommend again")
    r.add_argument("--items", help="item titles: a CSV of item,title rows, or MovieLens's "
                                   "u.item, movies.dat or movies.csv")
    r.add_argument("--sep", default=",")
    r.set_defaults(run=_recommend)

    add_bench_parser(sub)
    return p


def _model_args(p, factors, iters):
    p.add_argument("--factors", type=int, default=factors, help=f"latent factors ({factors})")
    p.add_argument("--iters", type=int, default=iters, help=f"iterations ({iters})")
    p.add_argument("--reg", type=float, default=None,
                   help="L2 regularisation (the model's default, 0.3)")
    p.add_argument("--solver", default="als", help="MatrixFactorization solver ('als')")
    p.add_argument("--threads", type=int, default=None, help="threads (all cores)")
    p.add_argument("--seed", type=int, default=0)


def _model(args, **kw):
    if args.reg is not None:
        kw["reg"] = args.reg
    return MatrixFactorization(n_factors=args.factors, solver=args.solver, n_iter=args.iters,
                               n_threads=args.threads, random_state=args.seed,
                               verbose=not args.quiet, **kw)


def read_csv(path, sep=","):
    """Read ``user,item,rating[,timestamp]`` rows (raw IDs kept as strings) into a Ratings.

    A first line whose rating field is not a number is taken as a header; an error names the
    first line that cannot be read (see :func:`fastmf._csv.read_ratings_csv`).

    Examples
    --------
    >>> import os, tempfile
    >>> from fastmf.cli import read_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> _ = open(path, "w").write("user,item,rating\\nann,x,4\\nbob,x,2\\n")
    >>> read_csv(path).shape
    (2, 1)
    """
    return read_ratings_csv(path, sep)


def _load_data(args):
    """The demo's ratings and, for MovieLens, its movies table (else None)."""
    if args.data == "synthetic":  # users pick items they like, as in real rating data
        return datasets.make_ratings(args.users, args.items, args.ratings, selection=2.0,
                                     global_mean=3.0, random_state=args.seed), None
    if args.data.startswith("ml-"):
        try:
            import pandas  # noqa: F401
        except ImportError:
            return datasets.load_movielens(args.data[3:], path=args.path), None
        return datasets.load_movielens(args.data[3:], path=args.path, return_items=True)
    return read_csv(args.data), None


def _demo(args):
    t0 = time.perf_counter()
    if args.plot:
        _check_plot(args.plot)
    data, movies = _load_data(args)
    train, test = train_test_split(data, test_size=0.1, random_state=args.seed)
    print(f"data: {args.data}: {data.n_users:,} users x {data.n_items:,} items, "
          f"{data.nnz:,} ratings; 90/10 split")
    model = _model(args)
    t1 = time.perf_counter()
    model.fit(train, eval_set=test)
    fit_s = time.perf_counter() - t1
    pred = model.predict(test)
    baseline = np.full(len(test.values), train.values.mean())
    print(f"\nrating prediction: MatrixFactorization(solver={args.solver!r}, "
          f"n_factors={args.factors}, n_iter={args.iters}, reg={model.reg})")
    rows = [("test RMSE", metrics.rmse(test.values, pred)),
            ("test MAE", metrics.mae(test.values, pred)),
            ("RMSE of the global mean", metrics.rmse(test.values, baseline)),
            ("fit seconds (incl. first-run compilation)", fit_s),
            ("seconds per iteration (median)", np.median(model.history_["seconds"]))]
    for name, value in rows:
        print(f"  {name:<42} {value:10.4f}")

    # top-N lists: a model meant for ranking, beside the popularity baseline and the rating
    # model (which orders items by predicted rating, not by what a user is likely to rate)
    relevant = test.subset(test.values >= 4) if (test.values >= 4).any() else test
    ranker = ImplicitALS(n_factors=args.factors, n_threads=args.threads,
                         random_state=args.seed, verbose=not args.quiet).fit(train)
    print("\ntop-10 lists (a hit is a held-out rating >= 4; training items excluded):")
    print(f"  {'':<42} {'precision@10':>12} {'nDCG@10':>9}")
    for name, m in [("popularity baseline (Popularity)", Popularity().fit(train)),
                    (f"ranking model: ImplicitALS(n_factors={args.factors})", ranker),
                    ("rating model: MatrixFactorization", model)]:
        rank = metrics.ranking_metrics(m, train, relevant, k=10)
        print(f"  {name:<42} {rank['precision']:12.4f} {rank['ndcg']:9.4f}")

    users = np.arange(min(3, data.n_users))
    items, _ = ranker.recommend(users, n=5, exclude=train)
    print(f"\ntop-5 of the ranking model ({'titles' if movies is not None else 'raw item IDs'}; "
          "the rating model's predicted rating):")
    for u, its in zip(users, items, strict=True):
        uid = u if data.user_ids is None else data.user_ids[u]
        names = its if data.item_ids is None else data.item_ids[its]
        if movies is not None:
            names = [movies["title"].get(n, n) for n in names]
        rated = model.predict(np.full(len(its), u), its)
        print(f"  user {uid}: " + ", ".join(f"{n} ({r:.2f})" for n, r in
                                            zip(names, rated, strict=True)))
    if args.plot:
        _save_demo_plot(args.plot, model, {"popularity": Popularity().fit(train),
                                           "ImplicitALS": ranker, "MatrixFactorization": model},
                        train, relevant)
        print(f"\nwrote {args.plot}")
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return 0


def _check_plot(path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError("--plot needs matplotlib: pip install 'fastmf[plot]'") from None
    writable(path, "--plot")  # fail before fitting when the image cannot be written


def _save_demo_plot(path, model, rankers, train, relevant):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_history, plot_ranking

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    plot_history(model, ax=left)
    plot_ranking(rankers, train, relevant, ks=(1, 2, 5, 10, 20, 50), ax=right)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fit(args):
    data = read_csv(args.csv, args.sep)
    model = _model(args).fit(data)
    model.save(args.output)
    print(f"fitted on {data.nnz:,} ratings in {sum(model.history_['seconds']):.2f} s; "
          f"final loss {model.history_['train_loss'][-1]:.6g}; saved to {args.output}")
    return 0


def _evaluate(args):
    model = load(args.model)
    data = read_csv(args.csv, args.sep)
    pred = model.predict(data)
    print(f"RMSE {metrics.rmse(data.values, pred):.4f}  MAE {metrics.mae(data.values, pred):.4f}"
          f"  ({data.nnz:,} ratings)")
    return 0


def _recommend(args):
    model = load(args.model)
    users = _raw_users(model, args.users)
    exclude = None
    if args.exclude:
        seen = read_csv(args.exclude, args.sep)
        pairs_u, pairs_i = model._index_pairs(seen)
        keep = (pairs_u >= 0) & (pairs_i >= 0)
        exclude = Ratings(pairs_u[keep], pairs_i[keep], n_users=model.n_users_,
                          n_items=model.n_items_, duplicates="sum")
    titles = _read_titles(args.items) if args.items else {}
    items, scores = model.recommend(users, n=args.n, exclude=exclude)
    for raw, its, sc in zip(args.users, items, scores, strict=True):
        names = its if model.item_ids_ is None else index_to_raw(its, model.item_ids_)
        names = [None if n is None else titles.get(str(n), n) for n in names]
        print(f"{raw}: " + ", ".join(f"{n} ({s:.3f})" for n, s in zip(names, sc, strict=True)
                                     if n is not None))
    return 0


def _read_titles(path):
    """Raw item ID (as a string) -> title, from MovieLens's movies file or an item,title CSV."""
    import csv
    import os

    name = os.path.basename(path)
    spec = next((v for v in datasets._MOVIELENS.values() if v.items == name), None)
    if spec is not None:
        with open(path, "rb") as f:
            table = datasets._parse_items(f.read(), spec, path)["title"]
        return {str(k): v for k, v in table.items()}
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if len(row) >= 2]
    if not rows:
        raise ValueError(f"{path}: no item,title rows")
    return {row[0]: row[1] for row in rows}


def _raw_users(model, raw):
    if model.user_ids_ is None:
        return np.array([int(x) for x in raw])
    return raw_to_index(np.array(raw).astype(model.user_ids_.dtype), model.user_ids_, "user")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

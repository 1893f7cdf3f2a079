"""Bytes one Dask ALS iteration ships, from the exact counts of a data set (no cluster needed).

For P blocks of each side (one worker each, balanced by ratings as the fit cuts them) this
counts, for every pair of a user block and an item block, the distinct rows of one that the
other references, and prints the cost model's bytes per iteration for both strategies of both
half-steps (docs/distributed.md explains the formulas). Usage::

    python benchmarks/dask_volumes.py --data synthetic-20m --blocks 8 --factors 10 64
"""

import argparse

import numpy as np

from fastmf.dask._blocks import balanced_bounds
from fastmf.dask._plan import choose, ne_bytes, row_bytes


def references(rows, cols, row_bounds, col_bounds):
    """``ref[b, c]``: distinct ``cols`` of column block ``c`` in the entries of row block
    ``b``."""
    P = len(row_bounds) - 1
    rb = np.searchsorted(row_bounds, rows, side="right") - 1
    cb = np.searchsorted(col_bounds, cols, side="right") - 1
    n_cols = int(col_bounds[-1])
    pairs = np.unique(rb.astype(np.int64) * n_cols + cols)
    ref = np.zeros((P, P), dtype=np.int64)
    np.add.at(ref, (pairs // n_cols, cb[pairs % n_cols]), 1)
    return ref


def volumes(ratings, P, k, bias=True, itemsize=4):
    """{half-step: {strategy: bytes}} per iteration, blocks on P distinct workers."""
    ub = balanced_bounds(np.bincount(ratings.users, minlength=ratings.n_users), P)
    ib = balanced_bounds(np.bincount(ratings.items, minlength=ratings.n_items), P)
    ref_u = references(ratings.users, ratings.items, ub, ib)  # items each user block needs
    ref_i = references(ratings.items, ratings.users, ib, ub)  # users each item block needs
    workers = list(range(P))
    d = k + int(bias)
    out = {}
    for name, ref_x, ref_y, y_sizes in (("items", ref_i, ref_u, np.diff(ub)),
                                        ("users", ref_u, ref_i, np.diff(ib))):
        costs = {"rows": row_bytes(ref_x, y_sizes, workers, workers, k + int(bias), itemsize),
                 "normal_equations": ne_bytes(ref_y.T, workers, workers, d, itemsize)}
        out[name] = dict(costs, chosen=choose("auto", costs))
    return out


def load(name):
    import fastmf

    if name == "synthetic-1m":
        return fastmf.datasets.make_ratings(6040, 3706, 1_000_209, random_state=0)
    if name == "synthetic-20m":
        return fastmf.datasets.make_ratings(138_493, 26_744, 20_000_263, random_state=0)
    raise ValueError(f"unknown data set {name!r}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="synthetic-20m")
    p.add_argument("--blocks", type=int, nargs="+", default=[8])
    p.add_argument("--factors", type=int, nargs="+", default=[10, 64])
    args = p.parse_args()
    ratings = load(args.data)
    print(f"{args.data}: {ratings.n_users} users, {ratings.n_items} items, {ratings.nnz} "
          "ratings; float32 factors with biases")
    print("| P | k | item half-step: rows | normal eq. | user half-step: rows | normal eq. "
          "| chosen per iteration |")
    print("|---|---|---|---|---|---|---|")
    for P in args.blocks:
        for k in args.factors:
            v = volumes(ratings, P, k)
            chosen = sum(v[h][v[h]["chosen"]] for h in v)
            cells = [f"{v[h][s] / 1e6:,.1f} MB" for h in ("items", "users")
                     for s in ("rows", "normal_equations")]
            print(f"| {P} | {k} | " + " | ".join(cells) + f" | {chosen / 1e6:,.1f} MB |")


if __name__ == "__main__":
    main()

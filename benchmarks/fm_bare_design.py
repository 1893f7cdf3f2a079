"""FM MCMC at its defaults on a bare one-hot design: fastmf FMRegressor vs myFM (issue #15).

A user who builds the one-hot user + item matrix by hand and passes no groups gets each
library's default prior grouping: fastmf's ``groups="auto"`` (the one-hot fields found in
the design) and myFM's single group. The rows with explicit groups (fastmf ``groups=`` the
fields, myFM ``group_shapes=``) and with one group (fastmf ``groups=None``) are beside them.
Rank 10, 200 samples (myFM keeps the last 160, fastmf discards the first 40), seed 0, the
90/10 splits of ``compare_peers.py``; fastmf at ``--threads``, myFM single-threaded (it has
no thread setting). Needs myfm::

    python benchmarks/fm_bare_design.py --threads 2

With ``--validation`` it prints instead how the default was chosen: fastmf's MCMC with one
group and with ``groups="auto"`` on validation carves (each training part split 90/10 again,
seed 1; the test split never read), seeds 0 and 1, on ML-100k, the sparse shape (200
samples) and the synthetic 1M set (100 samples); myFM is not needed then.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_peers import load_split  # noqa: E402

import fastmf  # noqa: E402

SETS = ("ml-100k", "synthetic-sparse")


def one_hot(ratings, n_users, n_items):
    """The user + item one-hot design of the ratings (two entries per row)."""
    n = ratings.nnz
    cols = np.stack([ratings.users, n_users + ratings.items], 1).ravel()
    return sp.csr_matrix((np.ones(2 * n), (np.repeat(np.arange(n), 2), cols)),
                         shape=(n, n_users + n_items))


def fits(X, y, fields, threads):
    """The settings compared: label -> a function fitting them on ``(X, y)``."""
    import myfm

    shapes = list(np.bincount(fields))

    def fastmf_fm(**kw):
        return lambda: fastmf.FMRegressor(solver="mcmc", n_factors=10, n_iter=200,
                                          n_threads=threads, random_state=0, **kw).fit(X, y)

    def my_fm(**kw):
        return lambda: myfm.MyFMRegressor(rank=10, random_seed=0).fit(
            X, y, n_iter=200, n_kept_samples=160, **kw)

    return {"fastmf, default (groups='auto')": fastmf_fm(),
            "fastmf, groups=None (one group)": fastmf_fm(groups=None),
            "fastmf, groups= the two fields": fastmf_fm(groups=fields),
            "myFM, default (one group)": my_fm(),
            "myFM, group_shapes= the two fields": my_fm(group_shapes=shapes)}


def validation(threads):
    """Validation RMSE of MCMC with one group and with the fields, two seeds."""
    from fastmf.bench import split

    print("| data | groups | validation RMSE, seed 0 / 1 |")
    print("|---|---|---|")
    for name, n_iter in (("ml-100k", 200), ("synthetic-sparse", 200), ("synthetic-1m", 100)):
        train, _ = load_split(name)
        fit_part, valid = split(train, seed=1)
        m, n = fit_part.shape
        X, X_valid = one_hot(fit_part, m, n), one_hot(valid, m, n)
        for groups in (None, "auto"):
            scores = []
            for seed in (0, 1):
                model = fastmf.FMRegressor(solver="mcmc", n_factors=10, n_iter=n_iter,
                                           groups=groups, n_threads=threads,
                                           random_state=seed).fit(X, fit_part.values)
                scores.append(np.sqrt(np.mean((model.predict(X_valid) - valid.values) ** 2)))
            print(f"| {name} | {groups} | {scores[0]:.4f} / {scores[1]:.4f} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--validation", action="store_true",
                    help="print the validation runs that chose groups='auto'")
    args = ap.parse_args()
    if args.validation:
        validation(args.threads)
        return
    print("| data | library, grouping | test RMSE | fit s |")
    print("|---|---|---|---|")
    for name in SETS:
        train, test = load_split(name)
        m, n = train.shape
        X, X_test = one_hot(train, m, n), one_hot(test, m, n)
        fields = np.r_[np.zeros(m, np.int32), np.ones(n, np.int32)]
        for label, fit in fits(X, train.values, fields, args.threads).items():
            start = time.perf_counter()
            model = fit()
            seconds = time.perf_counter() - start
            rmse = float(np.sqrt(np.mean((model.predict(X_test) - test.values) ** 2)))
            print(f"| {name} | {label} | {rmse:.4f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()

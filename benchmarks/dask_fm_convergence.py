"""FM-ALS on Dask vs the single-node solver: objective and test RMSE per sweep.

On MovieLens-100k (90/10 split, seed 0), FM designs from ``FMEncoder``: "MF" (one-hot user
and item groups) and "SVD++" (plus the items the user rated, weighted |N(u)|^-1/2: a group with
many entries per row). The single-node solver visits the features one after the other
(libFM's order); the Dask solver updates one coordinate of all the features of a group at once
(exact for one-hot groups, a damped Jacobi step otherwise). Prints a Markdown table. Usage::

    python benchmarks/dask_fm_convergence.py --sweeps 50 --blocks 2
"""

import argparse
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("FASTMF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sweeps", type=int, default=50)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--factors", type=int, default=8)
    args = p.parse_args()

    import dask.array as da
    from distributed import Client, LocalCluster

    import fastmf
    from fastmf.dask import DaskFMRegressor
    from fastmf.fm_features import FMEncoder

    data = fastmf.datasets.load_movielens("100k", path=DATA_DIR / "ml-100k")
    train, test = fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)
    marks = sorted({m for m in (5, 10, 25, args.sweeps) if m <= args.sweeps})
    rows = []
    with LocalCluster(n_workers=args.blocks, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        for name, implicit in (("MF", False), ("SVD++", True)):
            enc = FMEncoder(implicit=implicit).fit(train)
            X, Xt = enc.transform(train), enc.transform(test)
            kw = dict(n_iter=args.sweeps, groups=enc.groups(), reg_w=1.0, reg_v=5.0,
                      random_state=0)
            single = fastmf.FMRegressor(args.factors, solver="als", **kw)
            dist = DaskFMRegressor(args.factors, client=client, n_blocks=args.blocks, **kw)
            Xd = da.from_array(X, chunks=(10_000, X.shape[1]), asarray=False)
            yd = da.from_array(train.values, chunks=10_000)
            for label, model, fit_args in (("single node", single, (X, train.values)),
                                           ("Dask", dist, (Xd, yd))):
                losses, rmses = [], []
                for m in marks:  # warm-started fits: 5 + 5 sweeps equal 10
                    model.set_params(n_iter=m - len(losses), warm_start=bool(losses))
                    model.fit(*fit_args)
                    losses = list(model.history_["train_loss"])
                    pred = model.predict(Xt)
                    rmses.append(float(np.sqrt(np.mean((pred - test.values) ** 2))))
                rows.append((name, label, [losses[m - 1] for m in marks], rmses))
    print("| design | solver | " + " | ".join(f"objective @{m}" for m in marks) + " | "
          + " | ".join(f"test RMSE @{m}" for m in marks) + " |")
    print("|---|---|" + "---|" * (2 * len(marks)))
    for name, label, losses, rmses in rows:
        print(f"| {name} | {label} | " + " | ".join(f"{v:,.1f}" for v in losses) + " | "
              + " | ".join(f"{v:.4f}" for v in rmses) + " |")


if __name__ == "__main__":
    main()

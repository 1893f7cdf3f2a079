"""How the explicit ALS default was chosen: exact rows vs CG rows (with and without the final
exact user sweep) vs cmfrec, on validation carves, never a test split.

Data: the training part of ``compare_peers.py``'s MovieLens-100k 90/10 split (seed 0) with
10 % of it carved off for validation (seed 1), and a sparse synthetic set of the shape
"few users, many items" (``make_ratings(2000, 20000, 300000, popularity_exponent=1.2)``:
97 % of the item rows have fewer than 64 ratings), 90/10 (seed 1). k = 64, 15 iterations,
each library in its own process at the same thread count (:func:`fastmf.bench.run_jobs`).

Usage (cmfrec must import in the interpreter)::

    python benchmarks/als_default.py --threads 2 --repeats 3
"""

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compare_peers import load_split  # noqa: E402

from fastmf.bench import Job, run_jobs, save_split, split  # noqa: E402
from fastmf.bench._fastmf import estimator  # noqa: E402
from fastmf.bench.peers import cmfrec  # noqa: E402
from fastmf.datasets import make_ratings  # noqa: E402

MF = partial(estimator, name="MatrixFactorization")
RUNNERS = {
    "fastmf exact (count 0.1)": partial(MF, reg=0.1, reg_exponent=1.0, cg_steps=None),
    "fastmf CG 3 + final exact, the default rows (count 0.1)": partial(MF, reg=0.1,
                                                                       reg_exponent=1.0),
    "fastmf CG 3, no final sweep (count 0.1)": partial(MF, reg=0.1, reg_exponent=1.0,
                                                      final_exact=False),
    "fastmf exact (none 10)": partial(MF, reg=10.0, reg_scaling="none", cg_steps=None),
    "fastmf CG 3 + final exact (none 10)": partial(MF, reg=10.0, reg_scaling="none"),
    "cmfrec CG (default)": partial(cmfrec.explicit_als, lambda_=10.0, use_cg=True),
    "cmfrec Cholesky": partial(cmfrec.explicit_als, lambda_=10.0, use_cg=False),
}
CASES = {"ml-100k validation carve": {"k": 64, "iters": 15},
         "sparse synthetic 2,000 x 20,000, 300k": {"k": 64, "iters": 15}}


def splits():
    """(name, train, validation) of each case."""
    train, _ = load_split("ml-100k")  # the test part is never read
    sparse = make_ratings(2000, 20000, 300000, rank=8, popularity_exponent=1.2,
                          random_state=0)
    names = list(CASES)
    return [(names[0], *split(train, seed=1)), (names[1], *split(sparse, seed=1))]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="fastmf-alsdef-") as tmp:
        jobs = []
        for name, train, valid in splits():
            path = str(Path(tmp, f"{len(jobs)}.npz"))
            save_split(path, train, valid)
            jobs += [Job(name, lib, "als_default:RUNNERS", path, key=lib, case=CASES[name],
                         sys_path=(str(HERE),)) for lib in RUNNERS]
        rows = run_jobs(jobs, threads=args.threads, repeats=args.repeats, desc="als")
    for name in CASES:
        mine = [r for r in rows if r["group"] == name]
        print(f"\n{name}, k=64, 15 iterations, {args.threads} threads, median of "
              f"{args.repeats}\n| library | s / iter | validation RMSE | vs cmfrec CG | "
              "vs cmfrec Cholesky |\n|---|---|---|---|---|")
        ref = {r["label"]: r.get("seconds") for r in mine}
        for r in mine:
            if r["status"] != "ok":
                print(f"| {r['label']} | {r['status']}: {r.get('error', '')[:60]} | | | |")
                continue
            ratios = [f"{ref[c] / r['seconds']:.2f}x" if ref.get(c) else "-"
                      for c in ("cmfrec CG (default)", "cmfrec Cholesky")]
            print(f"| {r['label']} | {r['seconds'] / 15:.4f} | {r['metrics']['rmse']:.4f} | "
                  f"{' | '.join(ratios)} |")


if __name__ == "__main__":
    main()

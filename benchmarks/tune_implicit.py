"""How ImplicitALS's defaults (reg, alpha, reg_scaling, reg_exponent, unobserved_weight) were
chosen: a grid on a validation split carved from the *training* part of the compare_peers
ML-100k split, then the best settings checked on synthetic data of other shapes.

The compare_peers split (:func:`fastmf.bench.split`, 90/10, seed 0) is made first and its test
part is never read: the training part is split again 90/10 (seed 1) into fit and validation
entries, and both are binarised at >= 4 (:func:`fastmf.bench.positives`), as the peer
benchmarks do. Each setting fits ``ImplicitALS(64, n_iter=15)`` and reports nDCG@10 and P@10
of the validation positives (training items excluded), averaged over ``--seeds`` seeds.

    python benchmarks/tune_implicit.py --data /work/shared/data/ml-100k --threads 2
    python benchmarks/tune_implicit.py --data /work/shared/data/ml-100k --fine --seeds 3
    python benchmarks/tune_implicit.py --check "reg=0.01,alpha=1" "reg=...,..."  # synthetic
"""

import argparse
import itertools
import json

import numpy as np

import fastmf
from fastmf.bench import load_data, positives, split
from fastmf.bench._eval import ranking

K, N_ITER = 64, 15


def validation_split(spec, path=None):
    """(fit, validation) positives from the training part of the benchmark split."""
    train, _test = split(load_data(spec, path=path))  # the test part is never used
    fit, val = split(train, seed=1)
    return positives(fit), positives(val)


def synthetic_split(kind):
    """(fit, validation) of a synthetic set: counts (few users x many items, steep popularity)
    or the benchmark's ML-1M-size planted ratings binarised at >= 4."""
    if kind == "counts":
        data = fastmf.datasets.make_counts(300, 6000, rank=8, counts_per_user=80,
                                           popularity_exponent=1.2, random_state=0)
        fit, val = split(data, seed=1)
        return fit.csr, val.csr
    return validation_split("synthetic:6040x3706x1000209")


def score(fit, val, params, seeds, threads):
    """Mean and spread of nDCG@10 / P@10 over ``seeds`` fits."""
    runs = []
    for seed in range(seeds):
        model = fastmf.ImplicitALS(K, n_iter=N_ITER, n_threads=threads, random_state=seed,
                                   **params).fit(fit)
        runs.append(ranking(model, fit, val))
    nd = [r["ndcg@10"] for r in runs]
    return {"ndcg@10": float(np.mean(nd)), "ndcg_sd": float(np.std(nd)),
            "p@10": float(np.mean([r["p@10"] for r in runs]))}


def grid(fit, fine=False):
    """Settings to try (``fine``: the second, finer grid around the first one's best).
    Frequency-scaled weights are put on a common scale: ``reg`` is the target mean user
    weight divided by the mean user's scale (Rendle et al.'s shifted lambda), so every
    exponent sees the same range of effective weights."""
    n_u = np.diff(fit.indptr).mean()
    n_items = fit.shape[1]
    effective = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
    alphas = (1.0, 3.0, 9.0, 20.0)
    exponents, weights = (0.5, 1.0), (0.0, 0.01, 0.1, 1.0)
    if fine:
        effective, alphas = (15.0, 30.0, 60.0), (2.0, 3.0, 5.0)
        exponents, weights = (0.25, 0.5, 0.75), (0.0,)
    else:
        for alpha, eff in itertools.product(alphas, (0.01,) + effective):
            yield {"reg": eff, "alpha": alpha, "reg_scaling": "none"}
    for nu, w0, alpha, eff in itertools.product(exponents, weights, alphas, effective):
        reg = eff / (n_u + w0 * n_items) ** nu
        yield {"reg": float(f"{reg:.3g}"), "alpha": alpha, "reg_scaling": "frequency",
               "reg_exponent": nu, "unobserved_weight": w0}


def parse(text):
    """``"reg=0.1,alpha=3,reg_scaling=frequency"`` as a dict of parameters."""
    out = {}
    for part in text.split(","):
        key, value = part.split("=")
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = None if value == "None" else value
    if "cg_steps" in out and out["cg_steps"] is not None:
        out["cg_steps"] = int(out["cg_steps"])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="ml-100k", help="MovieLens folder or zip (ml-100k)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--top", type=int, default=12,
                    help="re-score the best settings of the grid with 3 seeds")
    ap.add_argument("--fine", action="store_true", help="the second, finer grid")
    ap.add_argument("--check", nargs="*", help="settings to score (ML-100k validation and "
                    "both synthetic sets) instead of the grid")
    args = ap.parse_args(argv)
    path = None if args.data == "ml-100k" else args.data
    fit, val = validation_split("ml-100k", path)
    if args.check:
        sets = {"ml-100k": (fit, val), "counts-300x6000": synthetic_split("counts"),
                "synthetic-1m": synthetic_split("1m")}
        for text in args.check:
            p = parse(text)
            for name, (f, v) in sets.items():
                print(json.dumps({"set": name, **p, **score(f, v, p, max(args.seeds, 1),
                                                             args.threads)}), flush=True)
        return
    results = []
    for p in grid(fit, args.fine):
        results.append((p, score(fit, val, p, args.seeds, args.threads)))
        print(json.dumps({**p, **results[-1][1]}), flush=True)
    results.sort(key=lambda r: -r[1]["ndcg@10"])
    print("# best, 3 seeds")
    for p, _ in results[:args.top]:
        print(json.dumps({**p, **score(fit, val, p, 3, args.threads)}), flush=True)


if __name__ == "__main__":
    main()

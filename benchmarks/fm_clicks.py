"""FM classifiers on rare clicks (issue #15): a synthetic click log of the issue's shape.

16 one-hot fields of Zipf-distributed levels (cardinalities from 3 to 50,000, about 133k
features in all), labels drawn from a planted logistic FM (first-order weights and rank-4
pairwise interactions) with the intercept set for 1 % positives. Each fastmf
``FMClassifier`` solver at its defaults (``n_factors=8``; MCMC also at myFM's 200 sweeps),
scikit-learn's ``LogisticRegression`` and, when installed, myFM's Gibbs classifier (rank 8,
200 samples, the groups of the fields) are fitted on the same rows and scored by test ROC
AUC; the planted model's own AUC is the ceiling. Run from the repository root::

    python benchmarks/fm_clicks.py [--rows 300000] [--signal 1] [--threads 2] [--seed 0]
"""

import argparse
import time
from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

import fastmf

CARDINALITIES = (3, 4, 7, 12, 24, 60, 150, 300, 700, 1500, 3000, 6000, 12000, 24000, 35000,
                 50000)


def click_log(n_train, n_test, signal=1.0, rate=0.01, rank=4, seed=0):
    """(X_train, y_train, X_test, y_test, logit_test): one-hot CSR designs and 0/1 labels.

    ``signal`` scales the planted weights and factors (1: the planted model's AUC is about
    0.99; 0.5: about 0.8)."""
    params = np.random.default_rng(seed + 1000)
    offsets = np.concatenate([[0], np.cumsum(CARDINALITIES)])
    d = int(offsets[-1])
    w = params.normal(0, 0.4 * signal, d)
    V = params.normal(0, 0.35 * signal, (d, rank))
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    cols = np.empty((n, len(CARDINALITIES)), np.int64)
    for f, card in enumerate(CARDINALITIES):
        p = 1.0 / np.arange(1, card + 1) ** 1.1
        cols[:, f] = offsets[f] + rng.choice(card, size=n, p=p / p.sum())
    s = V[cols].sum(1)
    logit = w[cols].sum(1) + 0.5 * ((s ** 2).sum(1) - (V[cols] ** 2).sum((1, 2)))
    lo, hi = -40.0, 40.0
    for _ in range(60):  # bisect the intercept for the rate of positives
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if expit(logit + mid).mean() > rate else (mid, hi)
    logit += lo
    y = (rng.random(n) < expit(logit)).astype(np.int64)
    rows = np.repeat(np.arange(n), len(CARDINALITIES))
    X = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols.ravel())), shape=(n, d))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:], logit[n_train:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000, help="training rows (test: a quarter)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--signal", type=float, default=1.0, help="scale of the planted model")
    args = ap.parse_args()
    X, y, Xt, yt, logit_t = click_log(args.rows, args.rows // 4, args.signal, seed=args.seed)
    print(f"{X.shape[0]:,} training rows, {X.shape[1]:,} features, {y.mean():.2%} positives; "
          f"{Xt.shape[0]:,} test rows, {yt.sum()} test positives; {args.threads} threads\n")
    print("| model | test AUC | fit s |\n|---|---|---|")
    print(f"| planted model (ceiling) | {roc_auc_score(yt, logit_t):.4f} | |")

    def row(name, fit, score):
        start = time.perf_counter()
        model = fit()
        seconds = time.perf_counter() - start
        print(f"| {name} | {roc_auc_score(yt, score(model)):.4f} | {seconds:.1f} |", flush=True)

    settings = [("als", {}), ("mcmc", {}), ("mcmc", {"n_iter": 200}), ("sgd", {})]
    for solver, extra in settings:
        kw = dict(solver=solver, n_threads=args.threads, random_state=args.seed, **extra)
        fastmf.FMClassifier(**dict(kw, n_iter=2)).fit(X[:1000], y[:1000])  # compile
        label = ", ".join(f"{k}={v!r}" for k, v in dict(solver=solver, **extra).items())
        row(f"fastmf FMClassifier({label})", partial(fastmf.FMClassifier(**kw).fit, X, y),
            lambda m: m.predict_proba(Xt)[:, 1])
    with threadpool_limits(args.threads):
        row("scikit-learn LogisticRegression()",
            lambda: LogisticRegression(max_iter=1000).fit(X, y),
            lambda m: m.predict_proba(Xt)[:, 1])
    try:
        import myfm
    except ImportError:
        print("myFM: not installed")
        return
    shapes = [int(c) for c in CARDINALITIES]
    row("myFM MyFMGibbsClassifier (rank 8, 200 samples, field groups)",
        lambda: myfm.MyFMGibbsClassifier(rank=8, random_seed=args.seed).fit(
            X, y, n_iter=200, group_shapes=shapes),
        lambda m: m.predict_proba(Xt))


if __name__ == "__main__":
    main()

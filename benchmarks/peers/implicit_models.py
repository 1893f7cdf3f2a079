"""Implicit feedback (issue #3): fastmf ImplicitALS (CG, Cholesky) and BPR vs implicit 0.7.

Both data sets are binarised the same way outside the timed region: the driver's 90/10 random
split of explicit ratings, keeping ratings >= 4 in train and in test. Every case pits one
fastmf model against implicit's matching model with the same k, iterations, regularisation
and (on binary data) the same confidence: implicit's ``alpha=a`` weights a positive by ``a``,
fastmf's ``1 + alpha`` — so fastmf runs with ``alpha = a - 1``, and with
``reg_scaling="none"`` (implicit's one unscaled L2 weight, not fastmf's frequency-scaled
default). BPR: same learning rate, regularisation and epochs, negatives drawn by popularity
on both sides (implicit's sampler), verified. The "recommend" cases time top-10 for every
user with training items excluded, on models fitted once before timing.
"""

import numpy as np

from fastmf.bench._eval import ranking, ranking_data
from fastmf.bench._fastmf import estimator
from fastmf.bench.peers import implicit

TITLE = "Implicit feedback (issue #3): ImplicitALS and BPR vs implicit 0.7.3"

ALPHA = 10.0   # implicit's confidence of a positive; fastmf alpha = ALPHA - 1
REG = 0.1
LR, BPR_REG = 0.05, 0.01

CASES = []
for _data, _label, _als_iters, _bpr_iters in (
        ("ml-100k", "MovieLens-100k binarised (>= 4)", 15, 50),
        ("synthetic-1m", "synthetic ML-1M size binarised (>= 4)", 5, 20)):
    for _k in (64, 128):
        for _algo, _iters in (("cg", _als_iters), ("cholesky", _als_iters), ("bpr", _bpr_iters)):
            CASES.append({"label": f"{_label}, {_algo}, k={_k}, {_iters} iterations",
                          "data": _data, "k": _k, "algo": _algo, "iters": _iters})
    CASES.append({"label": f"{_label}, top-10 recommend for every user (CG model, k=64)",
                  "data": _data, "k": 64, "algo": "recommend", "iters": 1})

NOTES = """
Times are wall-clock seconds of a whole fit (`s / iter` divides by the iterations or epochs).
Quality: precision@10 and nDCG@10 of `fastmf.metrics.ranking_metrics` on the held-out
positives, training items excluded, computed the same way for both libraries. implicit runs its
CPU models (`implicit.cpu.als.AlternatingLeastSquares`, `implicit.cpu.bpr.
BayesianPersonalizedRanking`) with `num_threads` = the thread count; fastmf's fit time includes
computing the exact training objective every iteration (`history_`), implicit's does not
(`calculate_training_loss=False`). Ratios come from one run on an otherwise idle machine;
absolute times on the shared 2-core machine vary between runs.
"""


def _fastmf(case, train, test, threads):
    if case["algo"] == "bpr":
        return estimator(case, train, test, threads, name="BPR", ranking_model=True,
                         learning_rate=LR, reg=BPR_REG / 2, negatives="popularity")
    if case["algo"] != "recommend":
        return estimator(case, train, test, threads, name="ImplicitALS", ranking_model=True,
                         cg_steps=3 if case["algo"] == "cg" else None, reg=REG,
                         alpha=ALPHA - 1, reg_scaling="none")
    import fastmf

    train, test = ranking_data(case, train, test)
    model = fastmf.ImplicitALS(case["k"], n_iter=15, reg=REG, alpha=ALPHA - 1,
                               reg_scaling="none", n_threads=threads,
                               random_state=0).fit(train)
    users = np.arange(train.shape[0])

    def recommend():
        model.recommend(users, n=10, exclude=train)
        return model
    return recommend, lambda m: ranking(m, train, test)


def _implicit(case, train, test, threads):
    if case["algo"] == "bpr":
        return implicit.bpr(case, train, test, threads, learning_rate=LR, reg=BPR_REG)
    if case["algo"] == "recommend":
        return implicit.recommend_all(case, train, test, threads, reg=REG, alpha=ALPHA)
    return implicit.als(case, train, test, threads, use_cg=case["algo"] == "cg", reg=REG,
                        alpha=ALPHA)


RUNNERS = {"fastmf": _fastmf, "implicit": _implicit}

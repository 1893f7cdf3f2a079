"""Implicit feedback (issue #3): fastmf ImplicitALS (CG, Cholesky) and BPR vs implicit 0.7.

Both data sets are binarised the same way outside the timed region: the driver's 90/10 random
split of explicit ratings, keeping ratings >= 4 in train and in test. Every case pits one
fastmf model against implicit's matching model with the same k, iterations, regularisation
and (on binary data) the same confidence: implicit's ``alpha=a`` weights a positive by ``a``,
fastmf's ``1 + alpha`` — so fastmf runs with ``alpha = a - 1``. BPR: same learning rate,
regularisation and epochs, negatives drawn by popularity on both sides (implicit's sampler),
verified. The "recommend" cases time top-10 for every user with training items excluded, on
models fitted once before timing.
"""

import numpy as np

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


def _binarise(ratings):
    import scipy.sparse as sp

    X = ratings.csr.copy()
    X.data = (X.data >= 4).astype(np.float32)
    X.eliminate_zeros()
    return sp.csr_matrix(X, dtype=np.float32)


def _metrics(model, train, test):
    from fastmf.metrics import ranking_metrics

    m = ranking_metrics(model, train, test, k=10)
    return {"p@10": m["precision"], "ndcg@10": m["ndcg"]}


def _fastmf(case, train, test, threads):
    import fastmf

    train, test = _binarise(train), _binarise(test)
    k, it, algo = case["k"], case["iters"], case["algo"]

    def make(solver):
        if solver == "bpr":
            return fastmf.BPR(k, n_iter=it, learning_rate=LR, reg=BPR_REG,
                              negatives="popularity", n_threads=threads, random_state=0)
        return fastmf.ImplicitALS(k, solver=solver, n_iter=it, reg=REG, alpha=ALPHA - 1,
                                  n_threads=threads, random_state=0)

    if algo == "recommend":
        model = fastmf.ImplicitALS(k, n_iter=15, reg=REG, alpha=ALPHA - 1,
                                   n_threads=threads, random_state=0).fit(train)
        users = np.arange(train.shape[0])

        def recommend():
            model.recommend(users, n=10, exclude=train)
            return model
        return recommend, lambda m: _metrics(m, train, test)
    return lambda: make(algo).fit(train), lambda m: _metrics(m, train, test)


def _implicit(case, train, test, threads):
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    train, test = _binarise(train), _binarise(test)
    k, it, algo = case["k"], case["iters"], case["algo"]

    def make(solver):
        if solver == "bpr":
            return BayesianPersonalizedRanking(factors=k, learning_rate=LR,
                                               regularization=BPR_REG, iterations=it,
                                               verify_negative_samples=True,
                                               num_threads=threads, random_state=0)
        return AlternatingLeastSquares(factors=k, regularization=REG, alpha=ALPHA,
                                       use_cg=solver == "cg", iterations=it,
                                       calculate_training_loss=False, num_threads=threads,
                                       random_state=0)

    def fit(solver=algo):
        model = make(solver)
        model.fit(train, show_progress=False)
        return model

    def evaluate(m):
        return _metrics((m.user_factors, m.item_factors), train, test)

    if algo == "recommend":
        model = make("cg")
        model.iterations = 15
        model.fit(train, show_progress=False)
        users = np.arange(train.shape[0])

        def recommend():
            model.recommend(users, train, N=10, filter_already_liked_items=True)
            return model
        return recommend, evaluate
    return fit, evaluate


RUNNERS = {"fastmf": _fastmf, "implicit": _implicit}

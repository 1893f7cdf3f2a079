"""implicit (Ben Frederickson): CPU ALS (CG or Cholesky) and BPR on binary positives.

implicit's ``alpha=a`` weights a positive by ``a``; fastmf's ``ImplicitALS(alpha=a - 1)``
weights it by ``1 + (a - 1)``: the same confidence on binary data.
"""

import numpy as np

from .._eval import ranking, ranking_data


def _factors(model):
    return model.user_factors, model.item_factors


def als(case, train, test, threads, *, use_cg=True, reg=0.1, alpha=10.0):
    """``implicit.cpu.als.AlternatingLeastSquares`` with ``case["k"]`` factors."""
    from implicit.cpu.als import AlternatingLeastSquares

    train_pos, test_pos = ranking_data(case, train, test)

    def fit():
        model = AlternatingLeastSquares(factors=case["k"], regularization=reg, alpha=alpha,
                                        use_cg=use_cg, iterations=case["iters"],
                                        calculate_training_loss=False, num_threads=threads,
                                        random_state=case.get("seed", 0))
        model.fit(train_pos, show_progress=False)
        return model

    return fit, lambda m: ranking(_factors(m), train_pos, test_pos)


def bpr(case, train, test, threads, *, learning_rate=0.05, reg=0.01):
    """``implicit.cpu.bpr.BayesianPersonalizedRanking`` (negatives verified)."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    train_pos, test_pos = ranking_data(case, train, test)

    def fit():
        model = BayesianPersonalizedRanking(factors=case["k"], learning_rate=learning_rate,
                                            regularization=reg, iterations=case["iters"],
                                            verify_negative_samples=True, num_threads=threads,
                                            random_state=case.get("seed", 0))
        model.fit(train_pos, show_progress=False)
        return model

    return fit, lambda m: ranking(_factors(m), train_pos, test_pos)


def recommend_all(case, train, test, threads, *, reg=0.1, alpha=10.0, n_iter=15):
    """Time top-10 ``recommend`` for every user (training items excluded) of a CG model
    fitted once before timing."""
    from implicit.cpu.als import AlternatingLeastSquares

    train_pos, test_pos = ranking_data(case, train, test)
    model = AlternatingLeastSquares(factors=case["k"], regularization=reg, alpha=alpha,
                                    iterations=n_iter, calculate_training_loss=False,
                                    num_threads=threads, random_state=case.get("seed", 0))
    model.fit(train_pos, show_progress=False)
    users = np.arange(train_pos.shape[0])

    def recommend():
        model.recommend(users, train_pos, N=10, filter_already_liked_items=True)
        return model

    return recommend, lambda m: ranking(_factors(m), train_pos, test_pos)

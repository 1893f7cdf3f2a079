"""scikit-learn's NMF: coordinate descent (Frobenius) or multiplicative updates (KL).

Its only parallelism is BLAS, which the benchmark pins to one thread like every library's.
"""

from .._eval import ranking, ranking_data


def nmf(case, train, test, threads, *, loss="frobenius", init=None):
    """``sklearn.decomposition.NMF(k, max_iter=iters, tol=0)`` on the positives: ``solver="cd"``
    for Frobenius, ``"mu"`` with ``beta_loss="kullback-leibler"`` for ``loss="poisson"``."""
    from sklearn.decomposition import NMF

    train_pos, test_pos = ranking_data(case, train, test)
    kw = dict(solver="cd") if loss == "frobenius" else \
        dict(solver="mu", beta_loss="kullback-leibler")
    init = init or ("nndsvd" if loss == "frobenius" else "nndsvda")

    def fit():
        model = NMF(case["k"], init=init, max_iter=case["iters"], tol=0.0,
                    random_state=case.get("seed", 0), **kw)
        W = model.fit_transform(train_pos)
        return W, model.components_.T

    return fit, lambda factors: ranking(factors, train_pos, test_pos)

"""poismf (David Cortes): Poisson matrix factorization, ``method="tncg"`` by default."""

from .._eval import ranking, ranking_data


def poisson_mf(case, train, test, threads, *, l2_reg=1.0, niter=10):
    """``poismf.PoisMF(k, l2_reg, niter)`` on the positives (its own iteration count: a
    truncated-Newton iteration is not a multiplicative-update one)."""
    import poismf

    train_pos, test_pos = ranking_data(case, train, test)
    coo = train_pos.tocoo()
    m, n = train_pos.shape

    def fit():
        model = poismf.PoisMF(k=case["k"], l2_reg=l2_reg, niter=niter, nthreads=threads,
                              random_state=case.get("seed", 0), reindex=False).fit(coo)
        return model.A[:m], model.B[:n]

    def evaluate(factors):
        return {**ranking(factors, train_pos, test_pos), "iters": niter}

    return fit, evaluate

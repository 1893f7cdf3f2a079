"""cmfrec (David Cortes): explicit ALS with biases (``CMF``) and implicit ALS
(``CMF_implicit``). Its ``lambda_`` is not scaled by row counts unless ``scale_lam=True``."""

import numpy as np

from .._eval import ranking, ranking_data, rmse


def explicit_als(case, train, test, threads, *, lambda_=10.0, use_cg=True, **settings):
    """``cmfrec.CMF(k, lambda_, method="als", use_cg, niter=iters)``; NaN predictions (cold
    start) get the training mean."""
    import cmfrec
    import pandas as pd

    df = pd.DataFrame({"UserId": train.users, "ItemId": train.items, "Rating": train.values})

    def fit():
        return cmfrec.CMF(k=case["k"], lambda_=lambda_, method="als", use_cg=use_cg,
                          niter=case["iters"], nthreads=threads,
                          random_state=case.get("seed", 0), verbose=False,
                          **settings).fit(df)

    def evaluate(model):
        pred = model.predict(user=test.users, item=test.items)
        return rmse(test, pred, fill=float(train.values.mean()))

    return fit, evaluate


def implicit_als(case, train, test, threads, *, lambda_=0.1, alpha=10.0, use_cg=True,
                 **settings):
    """``cmfrec.CMF_implicit(k, lambda_, alpha, use_cg, niter=iters)`` on the positives."""
    import cmfrec
    import scipy.sparse as sp

    train_pos, test_pos = ranking_data(case, train, test)
    coo = sp.coo_matrix(train_pos)

    def fit():
        return cmfrec.CMF_implicit(k=case["k"], lambda_=lambda_, alpha=alpha, use_cg=use_cg,
                                   niter=case["iters"], nthreads=threads,
                                   random_state=case.get("seed", 0), verbose=False,
                                   **settings).fit(coo)

    def evaluate(model):
        U = np.zeros((train_pos.shape[0], case["k"]), np.float32)
        V = np.zeros((train_pos.shape[1], case["k"]), np.float32)
        U[:len(model.A_)], V[:len(model.B_)] = model.A_, model.B_
        return ranking((U, V), train_pos, test_pos)

    return fit, evaluate

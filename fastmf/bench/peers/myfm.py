"""myFM (Tomoki Ohtsuki): Bayesian factorization machines by Gibbs sampling, single-threaded.

On the one-hot user + item design an FM is biased matrix factorization, so myFM is also the
peer of ``MatrixFactorization(solver="mcmc")``. myFM imports ``pkg_resources``: it needs
``setuptools<81`` in the same environment.
"""

import numpy as np

from .._eval import rmse


def bayesian_fm(case, train, test, threads):
    """``myfm.MyFMRegressor(rank=k).fit(X, y, n_iter=iters, n_kept_samples=iters - burn_in)``
    on ``FMEncoder``'s design (with the SVD++ block when ``case["implicit"]``)."""
    import myfm

    from ...fm_features import FMEncoder

    enc = FMEncoder(implicit=case.get("implicit", False)).fit(train)
    Xtr, Xte = enc.transform(train), enc.transform(test)
    shapes = [int(np.sum(enc.groups_ == g)) for g in range(len(enc.group_names_))]
    burn_in = case["burn_in"]

    def fit():
        return myfm.MyFMRegressor(rank=case["k"], random_seed=case.get("seed", 0)).fit(
            Xtr, train.values, n_iter=case["iters"], n_kept_samples=case["iters"] - burn_in,
            group_shapes=shapes)

    return fit, lambda m: rmse(test, m.predict(Xte))

"""Surprise (scikit-surprise): SVD (Funk SVD by SGD) and SVD++; single-threaded."""

import numpy as np

from .._eval import rmse


def _trainset(train, test):
    import pandas as pd
    from surprise import Dataset, Reader

    df = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values})
    reader = Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    pairs = list(zip(test.users.tolist(), test.items.tolist(), test.values.tolist(),
                     strict=True))
    return Dataset.load_from_df(df, reader).build_full_trainset(), pairs


def _runner(algo, case, train, test, **settings):
    trainset, pairs = _trainset(train, test)

    def fit():
        return algo(n_factors=case["k"], n_epochs=case["iters"],
                    random_state=case.get("seed", 0), **settings).fit(trainset)

    return fit, lambda m: rmse(test, np.array([p.est for p in m.test(pairs)]))


def svd(case, train, test, threads, **settings):
    """``surprise.SVD``; ``settings`` go to it (e.g. ``lr_all``, ``reg_all``)."""
    from surprise import SVD

    return _runner(SVD, case, train, test, **settings)


def svdpp(case, train, test, threads, **settings):
    """``surprise.SVDpp``; ``settings`` go to it."""
    from surprise import SVDpp

    return _runner(SVDpp, case, train, test, **settings)

"""SVD++: fastmf SVDpp vs Surprise SVDpp on MovieLens-100k.

Run with ``--repeats 1``: Surprise's SVD++ takes about 47 s per fit here (k = 64, 20 epochs),
so it is timed once (after the driver's untimed warm-up fit).
"""

import numpy as np

TITLE = "SVD++ (issue #4): SVDpp vs Surprise SVDpp"

CASES = [
    {"label": "MovieLens-100k, 90/10 split (seed 0), k=64, 20 epochs", "data": "ml-100k",
     "k": 64, "iters": 20},
]

NOTES = """
`fastmf SVDpp (defaults)`: `SVDpp(n_factors=64, n_iter=20)` with its defaults (lr 0.01,
reg 0.08); `fastmf SVDpp (Surprise's lr/reg)`: lr 0.007, reg 0.02 as Surprise's defaults.
`Surprise SVDpp`: `SVDpp(n_factors=64, n_epochs=20)`, its defaults otherwise (the settings of its
published 0.919 5-fold ML-100k RMSE, there with k = 20); single-threaded. One timed fit per
library (`--repeats 1`), after one untimed warm-up fit. fastmf ran with
`OMP_WAIT_POLICY=PASSIVE` (see the SGD section).
"""


def _rmse(y, p):
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(p)) ** 2)))


def _fastmf(**kw):
    def runner(case, train, test, threads):
        import fastmf

        def fit():
            return fastmf.SVDpp(n_factors=case["k"], n_iter=case["iters"], n_threads=threads,
                                random_state=0, **kw).fit(train)

        return fit, lambda m: {"test_rmse": _rmse(test.values, m.predict(test))}
    return runner


def _surprise(case, train, test, threads):
    import pandas as pd
    from surprise import Dataset, Reader, SVDpp

    df = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values})
    reader = Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    trainset = Dataset.load_from_df(df, reader).build_full_trainset()
    pairs = list(zip(test.users.tolist(), test.items.tolist(), test.values.tolist(),
                     strict=True))

    def fit():
        return SVDpp(n_factors=case["k"], n_epochs=case["iters"], random_state=0).fit(trainset)

    def evaluate(algo):
        return {"test_rmse": _rmse(test.values, [p.est for p in algo.test(pairs)])}
    return fit, evaluate


RUNNERS = {
    "fastmf SVDpp (defaults)": _fastmf(),
    "fastmf SVDpp (Surprise's lr/reg)": _fastmf(learning_rate=0.007, reg=0.02),
    "Surprise SVDpp": _surprise,
}

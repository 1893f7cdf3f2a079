"""SVD++: fastmf SVDpp vs Surprise SVDpp on MovieLens-100k.

Run with ``--repeats 1``: Surprise's SVD++ takes about 47 s per fit here (k = 64, 20 epochs),
so it is timed once (after the driver's untimed warm-up fit).
"""

from functools import partial

from fastmf.bench._fastmf import estimator
from fastmf.bench.peers import surprise

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


RUNNERS = {
    "fastmf SVDpp (defaults)": partial(estimator, name="SVDpp"),
    "fastmf SVDpp (Surprise's lr/reg)": partial(estimator, name="SVDpp", learning_rate=0.007,
                                                reg=0.02),
    "Surprise SVDpp": surprise.svdpp,
}

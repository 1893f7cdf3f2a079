"""Defaults that win (issue #15): every fastmf model at its defaults against the peer of its kind
at the peer's defaults, on ML-100k, the synthetic ML-1M-sized set and the sparse shape.

Nothing is tuned here: each library runs its constructor's defaults except the rank (k = 64,
fastmf's default, for every library) and the iteration count, which a case sets alike for every
library of the case (fastmf's default count: 15 for ALS and implicit ALS, 30 epochs for SGD).
Rating cases are scored by test RMSE, implicit cases (ratings >= 4 kept in train and test) by
P@10 and nDCG@10 with training items excluded, the same code for every library.
"""

from functools import partial

from fastmf.bench._fastmf import estimator
from fastmf.bench.peers import cmfrec, implicit, libmf

TITLE = "Defaults (issue #15): each fastmf model at its defaults vs the peer of its kind at its own"

_DATA = (("ml-100k", "MovieLens-100k 90/10 (seed 0)"),
         ("synthetic-1m", "synthetic ML-1M size (6,040 x 3,706, 1,000,209 ratings) 90/10"),
         ("synthetic-sparse", "synthetic sparse shape (2,000 x 20,000, 300,000 ratings) 90/10"))

CASES = []
for _data, _label in _DATA:
    CASES += [
        {"label": f"{_label}: explicit ALS, k=64, 15 iterations", "data": _data, "k": 64,
         "iters": 15, "runners": ["fastmf ALS", "cmfrec ALS"]},
        {"label": f"{_label}: SGD, k=64, 30 epochs", "data": _data, "k": 64, "iters": 30,
         "runners": ["fastmf SGD", "LIBMF"]},
        {"label": f"{_label}, binarised (>= 4): implicit ALS, k=64, 15 iterations",
         "data": _data, "k": 64, "iters": 15,
         "runners": ["fastmf ImplicitALS", "cmfrec implicit", "implicit ALS"]},
    ]

RUNNERS = {
    "fastmf ALS": partial(estimator, name="MatrixFactorization"),
    "cmfrec ALS": cmfrec.explicit_als,
    "fastmf SGD": partial(estimator, name="MatrixFactorization", solver="sgd"),
    "LIBMF": libmf.mf,
    "fastmf ImplicitALS": partial(estimator, name="ImplicitALS", ranking_model=True),
    "cmfrec implicit": partial(cmfrec.implicit_als, lambda_=1.0, alpha=1.0),
    "implicit ALS": partial(implicit.als, reg=0.01, alpha=1.0),
}

NOTES = """
fastmf's defaults (the L2 pair chosen by `python benchmarks/tune_mf_reg.py --solver als 1:0.1
0.75:0.3 ...` on validation carves): `MatrixFactorization()` is ALS with L2 weight 0.3 times
each row's count to the power 0.75 (`reg=0.3, reg_exponent=0.75`; ALS-WR is the power 1) and three
conjugate-gradient steps per row, then one exact sweep of the users;
`MatrixFactorization(solver="sgd")` is SGD on the same objective with LIBMF's per-row AdaGrad;
`ImplicitALS()` is conjugate-gradient iALS with frequency-scaled L2 (reg 4 times the row's
count to the power 0.5, α = 3). Each was chosen on a validation split carved from the
training part, never on a test split reported here. The peers' defaults: cmfrec
`CMF(lambda_=10, use_cg=True)` (with its final Cholesky pass) and
`CMF_implicit(lambda_=1, alpha=1)`; LIBMF (the `libmf` binding)
`eta=0.1, lambda_p2=lambda_q2=0.05` (no L1, no biases); implicit
`AlternatingLeastSquares(regularization=0.01, alpha=1)`. The 1M set is planted low-rank data
with little noise: it favours weak regularisation, where real ratings (ML-100k) favour a
stronger one.
"""

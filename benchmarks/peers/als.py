"""Explicit-rating ALS: fastmf MatrixFactorization(solver="als") vs cmfrec CMF and Spark ALS.

Each library fits biased (fastmf, cmfrec) or unbiased (Spark has no biases) MF with k = 64 for
the same number of iterations. cmfrec's lambda is not scaled by row counts, Spark's is (ALS-WR):
fastmf runs once with each convention so that every peer is met on its own objective.
"""

from functools import partial

from fastmf.bench._fastmf import estimator
from fastmf.bench.peers import cmfrec, spark

TITLE = "Explicit ALS (issue #2): MatrixFactorization(solver='als') vs cmfrec and Spark ALS"

CASES = [
    {"label": "MovieLens-100k, 90/10 split (seed 0), k=64, 15 iterations", "data": "ml-100k",
     "k": 64, "iters": 15},
    {"label": "synthetic ML-1M size (6,040 x 3,706, 1,000,209 ratings), 90/10, k=64, "
              "10 iterations", "data": "synthetic-1m", "k": 64, "iters": 10},
    {"label": "synthetic sparse shape (2,000 x 20,000, 300,000 ratings), 90/10, k=64, "
              "15 iterations", "data": "synthetic-sparse", "k": 64, "iters": 15},
]

REG_SCALED = 0.1    # per rating (ALS-WR): fastmf reg_scaling="count", Spark regParam
REG_UNSCALED = 10.0  # per row: fastmf reg_scaling="none", cmfrec lambda_ (its default)

NOTES = """
`fastmf (count)` solves the ALS-WR objective (λ = 0.1 times each row's count, like Spark's
regParam); `fastmf (none)` the unscaled one (λ = 10, cmfrec's default `lambda_`). Both use
exact solves in float32 (`cg_steps=None`); the `CG` rows run the same objectives with
`cg_steps=3` (three warm-started conjugate-gradient steps per row, O(n_u·k) each, and one
exact sweep of the users after the last iteration: fastmf's default, as cmfrec's).
cmfrec runs its default (`use_cg=True`: 3 conjugate-gradient steps per row, with a final
Cholesky pass) and `use_cg=False` (Cholesky every iteration).
Spark ALS (`local[threads]`) has no bias terms; its cold-start predictions are filled with the
global mean. Test RMSE is over the 10 % held out.
"""


RUNNERS = {
    "fastmf (count)": partial(estimator, name="MatrixFactorization", reg=REG_SCALED,
                              reg_scaling="count", reg_exponent=1.0, cg_steps=None),
    "fastmf (none)": partial(estimator, name="MatrixFactorization", reg=REG_UNSCALED,
                             reg_scaling="none", cg_steps=None),
    "fastmf CG (count)": partial(estimator, name="MatrixFactorization", reg=REG_SCALED,
                                 reg_scaling="count", reg_exponent=1.0, cg_steps=3),
    "fastmf CG (none)": partial(estimator, name="MatrixFactorization", reg=REG_UNSCALED,
                                reg_scaling="none", cg_steps=3),
    "cmfrec CG (default)": partial(cmfrec.explicit_als, lambda_=REG_UNSCALED, use_cg=True),
    "cmfrec Cholesky": partial(cmfrec.explicit_als, lambda_=REG_UNSCALED, use_cg=False),
    "Spark ALS": partial(spark.als, reg=REG_SCALED),
}

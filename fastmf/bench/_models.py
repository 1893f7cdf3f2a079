"""The models ``fastmf bench`` knows: fastmf's estimator and its peers for each, on settings
that make them fit the same objective where the libraries allow it.

Each runner is ``(module:function, settings)``; see :mod:`fastmf.bench.peers` for the peers.
Rating models are scored by test RMSE, ranking models (fitted on the positives, ratings >= 4
by default) by precision@10 and nDCG@10.
"""

from dataclasses import dataclass, field

_F, _P = "fastmf.bench._fastmf", "fastmf.bench.peers."


@dataclass(frozen=True)
class Model:
    """A benchmark model: what fastmf fits, for how many iterations, and the peers' runners."""

    kind: str                      # "rating" or "ranking"
    iters: int
    fastmf: tuple                  # (runner, settings)
    peers: dict = field(default_factory=dict)   # peer name -> (runner, settings)
    description: str = ""


MODELS = {
    "als": Model(
        "rating", 15,
        (f"{_F}:estimator", dict(name="MatrixFactorization", solver="als", reg=0.1,
                                 reg_exponent=1.0)),
        {"cmfrec": (f"{_P}cmfrec:explicit_als", dict(lambda_=0.1, scale_lam=True,
                                                      use_cg=False)),
         "pyspark": (f"{_P}spark:als", dict(reg=0.1))},
        "explicit MF by ALS with exact (Cholesky) rows, L2 0.1 per rating (ALS-WR)"),
    "sgd": Model(
        "rating", 20,
        (f"{_F}:estimator", dict(name="MatrixFactorization", solver="sgd", learning_rate=0.01,
                                 reg=0.05)),
        {"surprise": (f"{_P}surprise:svd", dict(lr_all=0.01, reg_all=0.05)),
         "libmf": (f"{_P}libmf:mf", dict(eta=0.1, reg=0.05))},
        "explicit MF by SGD, lr 0.01, L2 0.05 (LIBMF: its AdaGrad, lr 0.1, no biases)"),
    "hals": Model(
        "rating", 15,
        (f"{_F}:estimator", dict(name="MatrixFactorization", solver="hals", reg=0.1,
                                 reg_exponent=1.0)),
        {}, "explicit MF by coordinate descent (CCD++), L2 0.1 per rating"),
    "mcmc": Model(
        "rating", 100,
        (f"{_F}:estimator", dict(name="MatrixFactorization", solver="mcmc")),
        {"myfm": (f"{_P}myfm:bayesian_fm", {})},
        "Bayesian MF by Gibbs sampling, the first fifth of the samples burn-in (myFM: the same "
        "model as an FM)"),
    "svdpp": Model(
        "rating", 20,
        (f"{_F}:estimator", dict(name="SVDpp", learning_rate=0.007, reg=0.02)),
        {"surprise": (f"{_P}surprise:svdpp", dict(lr_all=0.007, reg_all=0.02))},
        "SVD++ by SGD, lr 0.007, L2 0.02 (Surprise's defaults)"),
    "fm": Model(
        "rating", 100,
        (f"{_F}:fm", dict(solver="mcmc")),
        {"myfm": (f"{_P}myfm:bayesian_fm", {})},
        "factorization machine by Gibbs sampling on one-hot user + item"),
    "ials": Model(
        "ranking", 15,
        (f"{_F}:estimator", dict(name="ImplicitALS", ranking_model=True, reg=0.1, alpha=9.0,
                                 reg_scaling="none")),
        {"implicit": (f"{_P}implicit:als", dict(reg=0.1, alpha=10.0)),
         "cmfrec": (f"{_P}cmfrec:implicit_als", dict(lambda_=0.1, alpha=10.0)),
         "pyspark": (f"{_P}spark:als", dict(reg=0.1, implicit=True, alpha=9.0))},
        "implicit ALS (CG), confidence 10 on a positive, L2 0.1"),
    "bpr": Model(
        "ranking", 50,
        (f"{_F}:estimator", dict(name="BPR", ranking_model=True, learning_rate=0.05, reg=0.005,
                                 negatives="popularity")),
        {"implicit": (f"{_P}implicit:bpr", dict(learning_rate=0.05, reg=0.01)),
         "lightfm": (f"{_P}lightfm:lightfm", dict(loss="bpr", learning_rate=0.05))},
        "BPR by SGD, lr 0.05, L2 0.01 in implicit's convention (lambda/2: fastmf's reg 0.005; "
        "LightFM: AdaGrad, no L2)"),
    "warp": Model(
        "ranking", 40,
        (f"{_F}:estimator", dict(name="WARP", ranking_model=True)),
        {"lightfm": (f"{_P}lightfm:lightfm", dict(loss="warp"))},
        "WARP at fastmf's defaults (AdaGrad 0.03, L2 0.15, max_sampled 20); LightFM: its WARP "
        "with AdaGrad 0.05, max_sampled 10, no L2"),
    "nmf": Model(
        "ranking", 200,
        (f"{_F}:estimator", dict(name="NMF", ranking_model=True, loss="frobenius", init="nndsvd",
                                 tol=0.0)),
        {"sklearn": (f"{_P}sklearn:nmf", dict(loss="frobenius"))},
        "NMF, Frobenius loss over the whole matrix, nndsvd start"),
    "poisson": Model(
        "ranking", 200,
        (f"{_F}:estimator", dict(name="NMF", ranking_model=True, loss="poisson", init="nndsvda",
                                 tol=0.0)),
        {"sklearn": (f"{_P}sklearn:nmf", dict(loss="poisson")),
         "poismf": (f"{_P}poismf:poisson_mf", dict(l2_reg=1.0, niter=10))},
        "Poisson NMF (KL divergence); poismf: 10 truncated-Newton iterations, L2 1"),
}

DEFAULT_MODELS = ("als", "sgd", "ials", "bpr", "warp")

"""Which solver class fits which (model, solver, back end): one table, imported on first use.

A new back end (``"dask"``, ``"cuda"``) or algorithm is a new row here, built to the protocol
of :mod:`fastmf._solvers.base`; the estimators do not change.
"""

import importlib

#: (model family, solver name, back end) -> "module:Class" (modules under fastmf._solvers
#: unless the path is absolute, i.e. starts with "fastmf.")
SOLVERS = {
    ("MatrixFactorization", "als", "cpu"): "mf_als:ALSSolver",
    ("MatrixFactorization", "hals", "cpu"): "mf_hals:CCDSolver",
    ("MatrixFactorization", "sgd", "cpu"): "mf_sgd:SGDSolver",
    ("MatrixFactorization", "mcmc", "cpu"): "mf_mcmc:BayesianMFSolver",
    ("SVDpp", "sgd", "cpu"): "svdpp:SVDppSolver",
    ("ImplicitALS", "als", "cpu"): "implicit_als:ImplicitALSSolver",
    ("BPR", "sgd", "cpu"): "bpr:BPRSolver",
    ("NMF", "hals", "cpu"): "nmf:NMFSolver",
    ("NMF", "mu", "cpu"): "nmf:NMFSolver",
    ("NMF", "sgd", "cpu"): "nmf:NMFSolver",
    ("PureSVD", "randomized", "cpu"): "svd:PureSVDSolver",
    ("PureSVD", "arpack", "cpu"): "svd:PureSVDSolver",
    ("Popularity", "count", "cpu"): "popularity:PopularitySolver",
    ("NCF", "adam", "cpu"): "ncf:NCFSolver",
    ("NCF", "sgd", "cpu"): "ncf:NCFSolver",
    ("FM", "als", "cpu"): "fm:CDSolver",
    ("FM", "sgd", "cpu"): "fm:SGDSolver",
    ("FM", "mcmc", "cpu"): "fm:MCMCSolver",
    ("AutoRec", "lbfgs", "cpu"): "autorec:LBFGSSolver",
    ("AutoRec", "adam", "cpu"): "autorec:MinibatchSolver",
    ("AutoRec", "sgd", "cpu"): "autorec:MinibatchSolver",
    ("ResidualMF", "sgd", "cpu"): "residual_mf:ResidualMFSolver",
    ("ResidualMF", "adam", "cpu"): "residual_mf:ResidualMFSolver",
    ("MatrixFactorization", "als", "cuda"): "fastmf.cuda.adapters:MFALSAdapter",
    ("MatrixFactorization", "sgd", "cuda"): "fastmf.cuda.adapters:MFSGDAdapter",
    ("ImplicitALS", "als", "cuda"): "fastmf.cuda.adapters:ImplicitALSAdapter",
    ("BPR", "sgd", "cuda"): "fastmf.cuda.adapters:BPRAdapter",
    ("MatrixFactorization", "als", "dask"): "fastmf.dask._als:DaskALSSolver",
    ("ImplicitALS", "als", "dask"): "fastmf.dask._als:DaskImplicitALSSolver",
    ("FM", "als", "dask"): "fastmf.dask._fm:DaskFMSolver",
}


def register(model, solver, backend, path):
    """Add (or replace) the class that fits ``model`` with ``solver`` on ``backend``.

    Examples
    --------
    >>> from fastmf._solvers import registry
    >>> registry.register("MatrixFactorization", "als", "cpu", "mf_als:ALSSolver")
    >>> registry.solver_class("MatrixFactorization", "als").__name__
    'ALSSolver'
    """
    SOLVERS[(model, solver, backend)] = path


def solver_class(model, solver, backend="cpu"):
    """The solver class for ``(model, solver, backend)``, or a ValueError saying what exists.

    Examples
    --------
    >>> from fastmf._solvers.registry import solver_class
    >>> solver_class("ImplicitALS", "als").__name__
    'ImplicitALSSolver'
    >>> solver_class("ImplicitALS", "als", "quantum")
    Traceback (most recent call last):
    ...
    ValueError: backend='quantum' is not available for ImplicitALS(solver='als'); available: ...
    """
    path = SOLVERS.get((model, solver, backend))
    if path is None:
        backends = sorted(b for (m, s, b) in SOLVERS if m == model and s == solver)
        if not backends:
            solvers = sorted({s for (m, s, _) in SOLVERS if m == model})
            raise ValueError(f"{model} has no solver {solver!r}; available: "
                             f"{', '.join(repr(s) for s in solvers)}")
        raise ValueError(f"backend={backend!r} is not available for {model}(solver={solver!r}); "
                         f"available: {', '.join(repr(b) for b in backends)}")
    module, name = path.split(":")
    if not module.startswith("fastmf."):
        module = f"fastmf._solvers.{module}"
    return getattr(importlib.import_module(module), name)

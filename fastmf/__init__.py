"""fastmf: fast matrix factorization and factorization machines.

The public names are imported on first use (PEP 562): ``import fastmf`` loads none of NumPy,
SciPy, Numba or scikit-learn, and ``fastmf.MatrixFactorization`` loads only what that
estimator needs. ``fastmf.X`` and ``from fastmf import X`` work as for eager imports.
"""

import importlib
import importlib.util

__version__ = "0.1.0"

# public name -> the submodule that defines it
_LAZY = {
    "AutoRec": "autorec",
    "BPR": "bpr",
    "FMClassifier": "fm",
    "FMRegressor": "fm",
    "ImplicitALS": "implicit",
    "MatrixFactorization": "mf",
    "NCF": "ncf",
    "NMF": "nmf",
    "NotFittedError": "_validation",
    "Popularity": "popularity",
    "PureSVD": "svd",
    "Ratings": "_ratings",
    "ResidualMF": "residual_mf",
    "SVDpp": "svdpp",
    "WARP": "warp",
    "load": "_persist",
}

__all__ = sorted(_LAZY) + ["datasets", "metrics", "model_selection"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    # any submodule (fastmf.datasets, fastmf.fm_features, ...) without importing it first;
    # importing a submodule makes it an attribute of the package
    if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))

"""fastmf: fast matrix factorization and factorization machines."""

from . import datasets, metrics, model_selection
from ._ratings import Ratings
from .base import load
from .fm import FMClassifier, FMRegressor
from .mf import MatrixFactorization
from .svdpp import SVDpp

__version__ = "0.1.0"

__all__ = [
    "FMClassifier",
    "FMRegressor",
    "MatrixFactorization",
    "load",
    "Ratings",
    "SVDpp",
    "datasets",
    "metrics",
    "model_selection",
]

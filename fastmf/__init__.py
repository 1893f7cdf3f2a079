"""fastmf: fast matrix factorization and factorization machines."""

from . import datasets, metrics, model_selection
from ._ratings import Ratings
from .base import load
from .bpr import BPR
from .fm import FMClassifier, FMRegressor
from .implicit import ImplicitALS
from .mf import MatrixFactorization
from .nmf import NMF
from .popularity import Popularity
from .svd import PureSVD
from .svdpp import SVDpp

__version__ = "0.1.0"

__all__ = [
    "BPR",
    "FMClassifier",
    "FMRegressor",
    "ImplicitALS",
    "MatrixFactorization",
    "NMF",
    "Popularity",
    "PureSVD",
    "load",
    "Ratings",
    "SVDpp",
    "datasets",
    "metrics",
    "model_selection",
]

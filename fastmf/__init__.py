"""fastmf: fast matrix factorization and factorization machines."""

from ._ratings import Ratings

__version__ = "0.1.0"

__all__ = [
    "Ratings",
]

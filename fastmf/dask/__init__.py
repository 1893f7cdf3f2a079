"""fastmf on a Dask cluster: ALS, implicit ALS and FM-ALS with the single-node kernels.

Needs the ``dask`` extra (``pip install fastmf[dask]``: ``dask[distributed]``). The
estimators take a ``client=`` (default: the current one), fit on dask collections whose
data stays on the workers, and hold NumPy results like their single-node classes
(``to_local()`` returns one). The design and what moves per iteration:
docs/distributed.md.
"""

from ._fm import DaskFMRegressor
from ._mf import DaskImplicitALS, DaskMatrixFactorization

__all__ = ["DaskFMRegressor", "DaskImplicitALS", "DaskMatrixFactorization"]

"""``DaskMatrixFactorization`` and ``DaskImplicitALS``: the ALS estimators on a Dask cluster."""

import numpy as np

from .._init import random_factors
from .._params import DEPRECATED
from .._validation import check_random_state
from ..implicit import ImplicitALS
from ..mf import MatrixFactorization
from ._base import _DASK_PARAMS_DOC, DaskMixin, remove_temporary
from ._data import dask_input

_RESULTS_DOC = """
    The fitted attributes are those of the single-node estimator (NumPy arrays on the
    client), plus in ``history_`` per iteration ``shipped_bytes`` (bytes the workers sent
    each other, from their transfer counters) and ``planned_bytes`` (what the cost model
    predicted), and ``strategies_``: the strategy of each half-step."""


class DaskMatrixFactorization(DaskMixin, MatrixFactorization):
    __doc__ = r"""Biased matrix factorization by ALS on a Dask cluster.

    The model, objective and row solves of :class:`fastmf.MatrixFactorization` with
    ``solver="als"``, run as one task per block per half-step with the same kernels, so the
    factors equal a single-node fit's (to rounding: float64 fits agree to 1e-6 for any
    number of blocks). The ratings are shuffled once into P user blocks and P item blocks
    balanced by ratings, which stay on the workers; see the distributed design page
    (docs/distributed.md) for what moves per iteration.

    Parameters
    ----------
    n_factors, n_iter, tol, reg, reg_bias, reg_scaling, reg_exponent, fit_biases, init_scale,
    dtype
        As :class:`fastmf.MatrixFactorization` (``solver="als"``).
    cg_steps, random_state, verbose, warm_start, clip
        As :class:`fastmf.MatrixFactorization` (``solver="als"``).""" + _DASK_PARAMS_DOC + """

    Attributes
    ----------""" + _RESULTS_DOC + """

    Examples
    --------
    >>> import dask.dataframe as dd, fastmf
    >>> from distributed import Client, LocalCluster
    >>> from fastmf.dask import DaskMatrixFactorization
    >>> cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
    ...                        dashboard_address=":0")
    >>> client = Client(cluster)
    >>> df = fastmf.datasets.make_ratings(300, 200, 6000, random_state=0).to_pandas()
    >>> ddf = dd.from_pandas(df, npartitions=3)
    >>> model = DaskMatrixFactorization(8, n_iter=5, random_state=0, client=client).fit(ddf)
    >>> local = model.to_local()                  # an ordinary fitted MatrixFactorization
    >>> type(local).__name__, local.user_factors_.shape
    ('MatrixFactorization', (300, 8))
    >>> bool(model.history_["train_loss"][-1] < model.history_["train_loss"][0])
    True
    >>> pred = model.predict(ddf).compute()       # per partition, a pandas Series
    >>> len(pred) == len(df)
    True
    >>> client.close(); cluster.close()
    """

    _local_class = MatrixFactorization
    _family = "MatrixFactorization"
    _local_params = ("n_factors", "n_iter", "tol", "reg", "reg_bias", "reg_scaling",
                     "reg_exponent", "fit_biases", "init_scale", "dtype", "cg_steps",
                     "random_state", "verbose", "clip")
    solver = "als"
    early_stopping_rounds = None
    final_exact = False  # CG rows stay CG rows here: no final exact sweep of the users
    init_std = DEPRECATED

    def __init__(self, n_factors=64, *, n_iter=15, tol=0.0, reg=0.3, reg_bias=None,
                 reg_scaling="count", reg_exponent=0.75, fit_biases=True, init_scale=0.1,
                 dtype="float32", cg_steps=None, random_state=None, verbose=False,
                 warm_start=False, clip=True, client=None, n_blocks=None, n_threads=1,
                 checkpoint_interval=10, checkpoint_dir=None, resume=False, strategy="auto",
                 columns=("user", "item", "rating")):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.tol = tol
        self.reg = reg
        self.reg_bias = reg_bias
        self.reg_scaling = reg_scaling
        self.reg_exponent = reg_exponent
        self.fit_biases = fit_biases
        self.init_scale = init_scale
        self.dtype = dtype
        self.cg_steps = cg_steps
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.clip = clip
        self.client = client
        self.n_blocks = n_blocks
        self.n_threads = n_threads
        self.checkpoint_interval = checkpoint_interval
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.strategy = strategy
        self.columns = columns

    def fit(self, X, y=None):
        """Fit on the cluster.

        Parameters
        ----------
        X : dask DataFrame, dask array of shape (n, 2), pandas DataFrame or Ratings
            Ratings: (user, item, rating) ``columns`` of raw IDs of any orderable type, or
            [user, item] indices with the ratings in ``y``.
        y : dask array of shape (n,), optional
            Ratings, when ``X`` holds index pairs.

        Returns
        -------
        self
        """
        p = self._check_params()
        temporary = self._dask_params(p)
        try:
            data = dask_input(p["client"], X, y, p["columns"])
            rng = check_random_state(self.random_state)
            resumed = self._resumed(p, data, "explicit")
            if resumed is not None:
                state, start = resumed
                if not p["fit_biases"]:
                    state.update(user_bias_=None, item_bias_=None, global_mean_=0.0)
            elif self._warm:
                self._check_warm_start(data, p["n_factors"], p["dtype"])
                state, start = self._warm_state(_STATE), None
            else:
                state, start = self._init_state(_Mean(data), p, rng), None
        except BaseException:
            remove_temporary(p["checkpoint_dir"], temporary)
            raise
        return self._run(p, data, state, rng, temporary, start)


class DaskImplicitALS(DaskMixin, ImplicitALS):
    __doc__ = r"""Implicit-feedback ALS (Hu, Koren & Volinsky) on a Dask cluster.

    The model, objective and row solves (CG, or Cholesky with ``cg_steps=None``) of
    :class:`fastmf.ImplicitALS`, one task per block per half-step with the same kernels and
    one tree-reduced k x k Gram matrix per half-step; float64 fits equal single-node ones to
    1e-6 for any number of blocks.

    Parameters
    ----------
    n_factors, n_iter, tol, reg, alpha, reg_scaling, reg_exponent, unobserved_weight
        As :class:`fastmf.ImplicitALS`.
    confidence, epsilon, cg_steps, init_scale, dtype, random_state, verbose, warm_start
        As :class:`fastmf.ImplicitALS`.""" + _DASK_PARAMS_DOC + """

    Attributes
    ----------""" + _RESULTS_DOC + """

    Examples
    --------
    >>> import fastmf
    >>> from distributed import Client, LocalCluster
    >>> from fastmf.dask import DaskImplicitALS
    >>> cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
    ...                        dashboard_address=":0")
    >>> client = Client(cluster)
    >>> counts = fastmf.datasets.make_counts(200, 80, rank=4, random_state=0)
    >>> model = DaskImplicitALS(8, n_iter=5, random_state=0, client=client).fit(counts)
    >>> items, scores = model.recommend([0, 1], n=5, exclude=counts)
    >>> items.shape
    (2, 5)
    >>> client.close(); cluster.close()
    """

    _local_class = ImplicitALS
    _family = "ImplicitALS"
    _local_params = ("n_factors", "n_iter", "tol", "reg", "alpha", "reg_scaling",
                     "reg_exponent", "unobserved_weight", "confidence", "epsilon", "cg_steps",
                     "init_scale", "dtype", "random_state", "verbose")
    solver = "als"
    early_stopping_rounds = None

    def __init__(self, n_factors=64, *, n_iter=15, tol=0.0, reg=4.0, alpha=3.0,
                 reg_scaling="frequency", reg_exponent=0.5, unobserved_weight=0.0,
                 confidence="linear", epsilon=1.0, cg_steps=3, init_scale=0.01,
                 dtype="float32", random_state=None, verbose=False, warm_start=False,
                 client=None, n_blocks=None, n_threads=1, checkpoint_interval=10,
                 checkpoint_dir=None, resume=False, strategy="auto",
                 columns=("user", "item", "rating")):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.tol = tol
        self.reg = reg
        self.alpha = alpha
        self.reg_scaling = reg_scaling
        self.reg_exponent = reg_exponent
        self.unobserved_weight = unobserved_weight
        self.confidence = confidence
        self.epsilon = epsilon
        self.cg_steps = cg_steps
        self.init_scale = init_scale
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.client = client
        self.n_blocks = n_blocks
        self.n_threads = n_threads
        self.checkpoint_interval = checkpoint_interval
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.strategy = strategy
        self.columns = columns

    def fit(self, X, y=None):
        """Fit on the cluster.

        Parameters
        ----------
        X : dask DataFrame, dask array of shape (n, 2), pandas DataFrame or Ratings
            Interaction counts (non-negative), as for :meth:`DaskMatrixFactorization.fit`.
        y : dask array of shape (n,), optional
            Counts, when ``X`` holds index pairs.

        Returns
        -------
        self
        """
        p = self._check_params()
        temporary = self._dask_params(p)
        try:
            data = dask_input(p["client"], X, y, p["columns"])
            if data.value_range[0] < 0:
                raise ValueError(f"X must be non-negative (implicit feedback counts): found "
                                 f"{data.value_range[0]}")
            if data.positive == 0:
                raise ValueError("X has no positive entries: implicit feedback needs at least "
                                 "one interaction")
            rng = check_random_state(self.random_state)
            resumed = self._resumed(p, data, "implicit")
            if resumed is not None:
                state, start = resumed
            elif self._warm:
                self._check_warm_start(data, p["n_factors"], p["dtype"])
                state = self._warm_state(("user_factors_", "item_factors_", "global_mean_"))
                start = None
            else:
                k, dtype, scale = p["n_factors"], p["dtype"], p["init_scale"]
                state = {"user_factors_": random_factors(rng, (data.n_users, k), dtype, scale,
                                                         uniform=True),
                         "item_factors_": random_factors(rng, (data.n_items, k), dtype, scale,
                                                         uniform=True),
                         "global_mean_": 0.0}
                start = None
        except BaseException:
            remove_temporary(p["checkpoint_dir"], temporary)
            raise
        return self._run(p, data, state, rng, temporary, start)


class _Mean:
    """What ``MatrixFactorization._init_state`` reads of the data: its shape and mean."""

    def __init__(self, data):
        self.n_users, self.n_items = data.n_users, data.n_items
        self.values = np.array([data.mean])


#: The fitted attributes a warm start continues.
_STATE = ("user_factors_", "item_factors_", "user_bias_", "item_bias_", "global_mean_")

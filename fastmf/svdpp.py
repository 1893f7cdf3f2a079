"""``SVDpp``: Koren's SVD++ (biased MF plus implicit feedback from the items each user rated)."""

import numpy as np
import scipy.sparse as sp

from ._init import random_factors
from ._kernels.svdpp import implicit_sums
from ._params import DEPRECATED, renamed
from ._ratings import Ratings
from ._solvers.mf_als import fold_in
from ._validation import (
    check_bool,
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
    check_sparse_matrix,
)
from .base import FactorModel


class SVDpp(FactorModel):
    r"""SVD++: biased matrix factorization plus the implicit signal of which items a user rated.

    .. math::

        \hat r_{ui} = \mu + b_u + c_i + h_i^\top\Big(w_u + |N(u)|^{-1/2}
        \sum_{j \in N(u)} y_j\Big)

    with :math:`N(u)` the items user :math:`u` rated in the training data (or the stored items
    of the user's row in the ``implicit`` matrix given to :meth:`fit`). Trained by SGD on

    .. math::

        \sum_{(u,i)} \Big[(r_{ui} - \hat r_{ui})^2 + \lambda(\|w_u\|^2 + \|h_i\|^2)
        + \lambda_b (b_u^2 + c_i^2)\Big] + \lambda_y \sum_j |U(j)|\,\|y_j\|^2

    (:math:`U(j)` the users with :math:`j` in :math:`N(u)`). Each epoch (1) computes the implicit
    sums :math:`z_u` once per user, (2) runs a block-stratified SGD pass over the ratings with
    :math:`z_u` fixed, accumulating every user's implicit gradient :math:`\sum_i e_{ui} h_i`
    (so an epoch costs O(nnz k), where Surprise's SVD++ pays O(sum_u |N(u)|^2 k)), then
    (3) takes one gradient step per :math:`y_j` on the epoch's summed implicit gradient, scaled
    by :math:`|U(j)|^{-1/2}` (L2 applied as the decay :math:`(1 - \eta\lambda_y)^{\sqrt{|U(j)|}}`).
    Surprise instead moves every :math:`y_j` after every rating; summing a whole epoch of
    those steps unscaled overshoots for popular items (all users push the shared
    :math:`y_j` at once, and nobody sees the others' pushes until the next epoch), and the
    :math:`|U(j)|^{-1/2}` preconditioner is what keeps it stable. The three passes are
    parallel and touch disjoint rows, so the result for a ``random_state`` does not depend on
    the thread count. On very large data with very popular items a smaller ``learning_rate``
    may be needed (divergence raises an error saying so).

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors k.
    n_iter : int, default=20
        Number of epochs.
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one epoch falls to ``tol`` or
        below (0: run all ``n_iter``).
    learning_rate : float, default=0.01
        SGD step size (the initial one under ``lr_schedule="inverse"``).
    lr_schedule : {"constant", "inverse"}, default="constant"
        ``"inverse"``: epoch ``e`` (from 0, continuing across warm starts) uses
        ``learning_rate / (1 + lr_decay * e)``.
    lr_decay : float, default=0.1
        Decay of the ``"inverse"`` schedule.
    reg : float, default=0.08
        L2 weight :math:`\lambda` on ``w`` and ``h``, applied at every rating (0.08 with
        k = 64 reaches test RMSE 0.911 on a 90/10 split of MovieLens-100k in 20 epochs).
    reg_bias : float or None, default=None
        L2 weight :math:`\lambda_b` on the biases; ``None`` uses ``reg``.
    reg_implicit : float or None, default=None
        L2 weight :math:`\lambda_y` on the implicit factors; ``None`` uses ``reg``.
    init_scale : float, default=0.1
        Standard deviation of the normal initial factors (``w``, ``h``, ``y``). (Old name
        ``init_std``: works until fastmf 0.3 with a FutureWarning.)
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads; ``None`` uses every core (at most 32 are useful).
    random_state : int, numpy Generator or None, default=None
    verbose : bool, default=False
    warm_start : bool, default=False
        Continue from the fitted model on the next ``fit``: 5 + 5 epochs equal 10.
    early_stopping_rounds : int or None, default=None
        Stop when the eval RMSE has not improved for this many epochs; keep the best epoch.
    clip : bool, default=True
        Clip ``predict`` (and the eval RMSE) to the range of the training ratings
        (``rating_range_``); ``recommend`` ranks on the unclipped scores.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
        The effective user vectors :math:`w_u + |N(u)|^{-1/2}\sum_{j\in N(u)} y_j`, so that
        ``predict`` and ``recommend`` work as for any factor model.
    base_user_factors_ : ndarray of shape (n_users, n_factors)
        :math:`w_u` alone.
    item_factors_ : ndarray of shape (n_items, n_factors)
    implicit_factors_ : ndarray of shape (n_items, n_factors)
        The :math:`y_j`.
    user_bias_, item_bias_ : ndarray of shape (n_users,), (n_items,)
    global_mean_ : float
    history_ : dict of lists
        ``train_loss`` (squared errors as seen during the epoch plus the L2 terms),
        ``seconds``, and with an ``eval_set`` ``eval_rmse`` and ``eval_unknown``.
    n_iter_ : int
    sgd_seed_ : int
        Seed of the block layout and block order (drawn from ``random_state``).
    rating_range_ : list of two floats
        The smallest and largest training rating (the ``clip`` range).

    References
    ----------
    Y. Koren, "Factorization meets the neighborhood: a multifaceted collaborative filtering
    model", KDD 2008.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(200, 100, 4000, noise=0.1, random_state=0)
    >>> train, test = fastmf.model_selection.train_test_split(data, random_state=0)
    >>> model = fastmf.SVDpp(n_factors=8, n_iter=10, random_state=0).fit(train, eval_set=test)
    >>> bool(model.history_["eval_rmse"][-1] < model.history_["eval_rmse"][0])
    True
    """

    _fitted_arrays = ("user_factors_", "item_factors_", "base_user_factors_",
                      "implicit_factors_")
    _user_arrays = ("user_factors_", "user_bias_", "base_user_factors_")
    _item_arrays = ("item_factors_", "item_bias_", "implicit_factors_")

    def __init__(self, n_factors=64, *, n_iter=20, tol=0.0, learning_rate=0.01,
                 lr_schedule="constant", lr_decay=0.1, reg=0.08, reg_bias=None,
                 reg_implicit=None, init_scale=0.1, dtype="float32", n_threads=None,
                 random_state=None, verbose=False, warm_start=False,
                 early_stopping_rounds=None, clip=True, init_std=DEPRECATED):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.lr_decay = lr_decay
        self.reg = reg
        self.reg_bias = reg_bias
        self.reg_implicit = reg_implicit
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds
        self.clip = clip
        self.init_std = init_std

    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solver reads."""
        p = dict(
            n_factors=check_int_param(self.n_factors, "n_factors", low=1),
            n_iter=check_int_param(self.n_iter, "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            learning_rate=check_float_param(self.learning_rate, "learning_rate", low=0,
                                            low_open=True),
            lr_schedule=check_option(self.lr_schedule, "lr_schedule", ("constant", "inverse")),
            lr_decay=check_float_param(self.lr_decay, "lr_decay", low=0),
            reg=check_float_param(self.reg, "reg", low=0),
            init_scale=check_float_param(renamed(self, "init_std", "init_scale"),
                                         "init_scale", low=0),
            early_stopping_rounds=check_int_param(self.early_stopping_rounds,
                                                  "early_stopping_rounds", low=1,
                                                  allow_none=True),
            clip=check_bool(self.clip, "clip"),
            dtype=check_dtype(self.dtype),
        )
        for name in ("reg_bias", "reg_implicit"):
            value = getattr(self, name)
            p[name] = p["reg"] if value is None else check_float_param(value, name, low=0)
        return p

    def fit(self, X, y=None, *, eval_set=None, implicit=None):
        """Fit the model.

        Parameters
        ----------
        X : Ratings, sparse matrix of shape (n_users, n_items), or array of shape (n, 2)
            Training ratings (see :meth:`fastmf.MatrixFactorization.fit`).
        y : array-like of shape (n,), optional
            Ratings, when ``X`` holds [user, item] pairs.
        eval_set : Ratings or (X_pairs, y) tuple, optional
            Held-out ratings scored after every epoch.
        implicit : Ratings or sparse matrix of shape (n_users, n_items), optional
            The implicit sets :math:`N(u)`: the stored entries of each user's row (their values
            are ignored), e.g. every item the user rated, clicked or was shown, including items
            without a known rating. Default: the items of the training ratings.

        Returns
        -------
        self
        """
        p = self._check_params()
        ratings = self._validate_data(X, y)
        pattern = ratings.csr
        if implicit is not None:
            implicit = implicit.csr if isinstance(implicit, Ratings) else implicit
            if sp.issparse(implicit) and implicit.shape != ratings.shape:
                raise ValueError(f"implicit must have shape {ratings.shape} like the ratings, "
                                 f"got {implicit.shape}")
            pattern = check_sparse_matrix(implicit, "implicit", dtype=None)
        if p["early_stopping_rounds"] is not None and eval_set is None:
            raise ValueError("early_stopping_rounds needs an eval_set")
        eval_data = self._eval_data(eval_set, ratings)
        rng = check_random_state(self.random_state)
        if self._warm:
            self._check_warm_start(ratings, p["n_factors"], p["dtype"])
            state = self._warm_state(_STATE)
            p["first_iter"] = self.n_iter_
        else:
            state = self._init_state(ratings, p, rng)
            p["first_iter"] = 0
        return self._fit_solver("sgd", (ratings, pattern), state, p, rng, ratings,
                                eval_data=eval_data, tol=p["tol"],
                                early_stopping_rounds=p["early_stopping_rounds"])

    def _init_state(self, ratings, p, rng):
        k, scale, dtype = p["n_factors"], p["init_scale"], p["dtype"]
        m, n = ratings.shape
        base = random_factors(rng, (m, k), dtype, scale)
        return {"base_user_factors_": base,
                "item_factors_": random_factors(rng, (n, k), dtype, scale),
                "implicit_factors_": random_factors(rng, (n, k), dtype, scale),
                "user_factors_": base.copy(),
                "global_mean_": float(np.mean(ratings.values)),
                "user_bias_": np.zeros(m, dtype), "item_bias_": np.zeros(n, dtype)}

    def _fold_in_users(self, X):
        """New users: ``z`` from their items, ``w`` and ``b`` in closed form.

        ``N(u)`` is the set of items stored in the user's row; ``w_u`` and ``b_u`` minimise the
        same per-rating objective with ``h``, ``c`` and ``y`` fixed (one ridge solve per row).
        """
        p = self._check_params()
        dt = self.item_factors_.dtype
        Z = np.zeros((X.shape[0], self.item_factors_.shape[1]), dt)
        implicit_sums((X.indptr, X.indices), self.implicit_factors_, Z)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        target = X.data - np.einsum("ij,ij->i", self.item_factors_[X.indices], Z[rows])
        T = sp.csr_matrix((target, X.indices, X.indptr), shape=X.shape)
        out = fold_in(T, self.item_factors_, self.item_bias_, self.global_mean_, p["reg"],
                      p["reg_bias"], True)
        out["base_user_factors_"] = out["user_factors_"]
        out["user_factors_"] = out["base_user_factors_"] + Z
        return out

    def _fold_in_items(self, X):
        """New items from their users' ratings: ``h`` and ``c`` in closed form against the
        users' effective vectors; ``y`` (the new item's implicit factors) is 0, since no
        user's N(u) holds the item."""
        p = self._check_params()
        out = fold_in(X, self.user_factors_, self.user_bias_, self.global_mean_, p["reg"],
                      p["reg_bias"], True)
        return {"item_factors_": out["user_factors_"], "item_bias_": out["user_bias_"],
                "implicit_factors_": np.zeros_like(out["user_factors_"])}


#: The fitted attributes a warm start continues.
_STATE = ("user_factors_", "base_user_factors_", "item_factors_", "implicit_factors_",
          "user_bias_", "item_bias_", "global_mean_", "sgd_seed_")

"""``SVDpp``: Koren's SVD++ (biased MF plus implicit feedback from the items each user rated)."""

import numpy as np
import scipy.sparse as sp

from ._config import threads
from ._init import random_factors
from ._kernels.als import als_half_sweep
from ._kernels.svdpp import implicit_sums, implicit_update, svdpp_epoch
from ._ratings import Ratings
from ._solvers.mf_sgd import (
    DIVERGENCE_HINT,
    block_schedule,
    blocked_entries,
    epoch_learning_rate,
    l2_penalty,
    n_blocks,
)
from ._validation import (
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
    init_std : float, default=0.1
        Standard deviation of the normal initial factors (``w``, ``h``, ``y``).
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads; ``None`` uses every core (at most 32 are useful).
    random_state : int, numpy Generator or None, default=None
    verbose : bool, default=False
    warm_start : bool, default=False
        Continue from the fitted model on the next ``fit``: 5 + 5 epochs equal 10.
    early_stopping_rounds : int or None, default=None
        Stop when the eval RMSE has not improved for this many epochs; keep the best epoch.

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

    def __init__(self, n_factors=64, *, n_iter=20, learning_rate=0.01, lr_schedule="constant",
                 lr_decay=0.1, reg=0.08, reg_bias=None, reg_implicit=None, init_std=0.1,
                 dtype="float32", n_threads=None, random_state=None, verbose=False,
                 warm_start=False, early_stopping_rounds=None):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.lr_decay = lr_decay
        self.reg = reg
        self.reg_bias = reg_bias
        self.reg_implicit = reg_implicit
        self.init_std = init_std
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds

    def _check_params(self):
        check_int_param(self.n_factors, "n_factors", low=1)
        check_int_param(self.n_iter, "n_iter", low=1)
        check_float_param(self.learning_rate, "learning_rate", low=0, low_open=True)
        check_option(self.lr_schedule, "lr_schedule", ("constant", "inverse"))
        check_float_param(self.lr_decay, "lr_decay", low=0)
        check_float_param(self.reg, "reg", low=0)
        for name in ("reg_bias", "reg_implicit"):
            if getattr(self, name) is not None:
                check_float_param(getattr(self, name), name, low=0)
        check_float_param(self.init_std, "init_std", low=0)
        check_int_param(self.early_stopping_rounds, "early_stopping_rounds", low=1,
                        allow_none=True)
        return check_dtype(self.dtype)

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
        dtype = self._check_params()
        ratings = self._validate_data(X, y)
        pattern = ratings.csr if implicit is None else check_sparse_matrix(
            implicit.csr if isinstance(implicit, Ratings) else implicit, "implicit")
        if pattern.shape != ratings.shape:
            raise ValueError(f"implicit must have shape {ratings.shape} like the ratings, got "
                             f"{pattern.shape}")
        if self.early_stopping_rounds is not None and eval_set is None:
            raise ValueError("early_stopping_rounds needs an eval_set")
        rng = check_random_state(self.random_state)
        if self._warm:
            self._check_warm_start(ratings, dtype)
        else:
            self._set_index_space(ratings)
            self._init_params(ratings, dtype, rng)
        eval_data = self._eval_data(eval_set)
        with threads(self.n_threads):  # no BLAS runs under these kernels
            solver = _SVDppSolver(self, ratings, pattern)
            state = [self.user_factors_, self.base_user_factors_, self.item_factors_,
                     self.implicit_factors_, self.user_bias_, self.item_bias_]
            self._iterate(solver.step, self.n_iter, state, eval_data,
                          self.early_stopping_rounds, divergence_hint=DIVERGENCE_HINT)
        return self

    def _init_params(self, ratings, dtype, rng):
        k, std = self.n_factors, self.init_std
        m, n = ratings.shape
        self.base_user_factors_ = random_factors(rng, (m, k), dtype, std)
        self.item_factors_ = random_factors(rng, (n, k), dtype, std)
        self.implicit_factors_ = random_factors(rng, (n, k), dtype, std)
        self.user_factors_ = self.base_user_factors_.copy()
        self.global_mean_ = float(np.mean(ratings.values))
        self.user_bias_ = np.zeros(m, dtype)
        self.item_bias_ = np.zeros(n, dtype)
        self.sgd_seed_ = int(rng.integers(2**31 - 1))

    def _fold_in(self, X):
        """Effective vectors of new users: ``z`` from their items, ``w`` and ``b`` in closed form.

        ``N(u)`` is the set of items stored in the user's row; ``w_u`` and ``b_u`` minimise the
        same per-rating objective with ``h``, ``c`` and ``y`` fixed (one ridge solve per row).
        """
        dt = self.item_factors_.dtype
        k = self.item_factors_.shape[1]
        Z = np.zeros((X.shape[0], k), dt)
        implicit_sums(X.indptr, X.indices, self.implicit_factors_, Z)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        target = X.data - np.einsum("ij,ij->i", self.item_factors_[X.indices], Z[rows])
        W = np.zeros((X.shape[0], k), dt)
        b = np.zeros(X.shape[0], dt)
        reg_bias = self.reg if self.reg_bias is None else self.reg_bias
        als_half_sweep(X.indptr, X.indices, target.astype(dt), W, b, self.item_factors_,
                       self.item_bias_, self.global_mean_, float(self.reg), float(reg_bias), True)
        return W + Z


class _SVDppSolver:
    """One ``step()`` = one SVD++ epoch (see :class:`SVDpp`); returns the training objective."""

    def __init__(self, model, ratings, implicit):
        self.model = model
        dt = model.item_factors_.dtype
        m, n = ratings.shape
        self.P = n_blocks(m, n, ratings.nnz)
        self.users, self.items, self.values, self.block_ptr = blocked_entries(
            ratings, self.P, model.sgd_seed_, dt)
        self.counts_u = np.bincount(ratings.users, minlength=m).astype(np.float64)
        self.counts_i = np.bincount(ratings.items, minlength=n).astype(np.float64)
        pattern = sp.csr_matrix((np.ones(len(implicit.indices), dt), implicit.indices,
                                 implicit.indptr), shape=ratings.shape)
        self.N = (pattern.indptr, pattern.indices)
        csc = pattern.tocsc()
        csc.sort_indices()
        self.N_t = (csc.indptr, csc.indices)
        self.implicit_counts = np.diff(csc.indptr).astype(np.float64)
        n_implicit = np.diff(pattern.indptr)
        self.scale_u = (1.0 / np.sqrt(np.maximum(n_implicit, 1))).astype(dt)[:, None]
        self.reg = float(model.reg)
        self.reg_bias = float(model.reg if model.reg_bias is None else model.reg_bias)
        self.reg_y = float(model.reg if model.reg_implicit is None else model.reg_implicit)
        self.Z = np.zeros_like(model.base_user_factors_)
        self.G = np.zeros_like(model.base_user_factors_)
        implicit_sums(*self.N, model.implicit_factors_, self.Z)
        np.add(model.base_user_factors_, self.Z, out=model.user_factors_)

    def step(self):
        m = self.model
        epoch = m.n_iter_
        lr = epoch_learning_rate(m, epoch)
        order = block_schedule(m.sgd_seed_, epoch, self.P)
        self.G[...] = 0
        f = m.item_factors_.dtype.type  # scalars in the factors' precision: float32 math
        sse = svdpp_epoch(order, self.block_ptr, self.users, self.items, self.values,
                          m.base_user_factors_, self.Z, m.item_factors_, m.user_bias_,
                          m.item_bias_, f(m.global_mean_), f(lr), f(self.reg),
                          f(self.reg_bias), self.G)
        self.G *= self.scale_u
        implicit_update(*self.N_t, self.G, m.implicit_factors_, f(lr), f(self.reg_y))
        implicit_sums(*self.N, m.implicit_factors_, self.Z)
        np.add(m.base_user_factors_, self.Z, out=m.user_factors_)
        Y = m.implicit_factors_
        return sse + l2_penalty(self.reg, self.reg_bias, self.counts_u, self.counts_i,
                                m.base_user_factors_, m.item_factors_, m.user_bias_,
                                m.item_bias_) + self.reg_y * float(
            self.implicit_counts @ np.einsum("ij,ij->i", Y, Y))

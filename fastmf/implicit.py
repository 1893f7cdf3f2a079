"""``ImplicitALS``: weighted matrix factorization of implicit feedback (Hu, Koren & Volinsky)."""

import numpy as np

from ._config import check_blas_threads, threads
from ._init import random_factors
from ._kernels.implicit_als import implicit_cg_sweep, implicit_cholesky_sweep
from ._validation import (
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
    check_sparse_matrix,
)
from .base import FactorModel

__all__ = ["ImplicitALS"]


class ImplicitALS(FactorModel):
    r"""Implicit-feedback matrix factorization by alternating least squares.

    Every cell of the users x items matrix counts: preference :math:`p_{ui} = [r_{ui} > 0]`,
    confidence :math:`c_{ui} = 1 + \alpha r_{ui}` (``confidence="linear"``) or
    :math:`1 + \alpha \log(1 + r_{ui}/\epsilon)` (``"log"``) on stored entries and 1 elsewhere.
    The model minimises

    .. math::

        \sum_{u,i} c_{ui} (p_{ui} - w_u^\top h_i)^2 + \lambda (\|W\|_F^2 + \|H\|_F^2)

    over all cells, in O(nnz) memory: each row solves
    :math:`(H^\top H + H_u^\top (C_u - I) H_u + \lambda I) w_u = H_u^\top C_u p_u` with the
    shared Gram matrix :math:`H^\top H` computed once per half-iteration.

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors k.
    solver : {"cg", "cholesky"}, default="cg"
        ``"cg"``: ``cg_steps`` conjugate-gradient steps per row, warm-started from the current
        factors (Takacs et al. 2011), O(nnz k cg_steps) per iteration. ``"cholesky"``: exact
        row solves, O(nnz k^2 + (n_users + n_items) k^3); the objective never increases.
    n_iter : int, default=15
        Iterations (one iteration updates items, then users).
    reg : float, default=0.01
        L2 weight :math:`\lambda`.
    alpha : float, default=1.0
        Confidence scale :math:`\alpha` (> 0). (The ``alpha`` of ``implicit`` multiplies the
        counts without adding 1: on binary data its ``alpha=a`` equals ``alpha=a - 1`` here.)
    confidence : {"linear", "log"}, default="linear"
        How counts become confidences (see above).
    epsilon : float, default=1.0
        :math:`\epsilon` of the log confidence (> 0).
    cg_steps : int, default=3
        Conjugate-gradient steps per row and half-iteration (``solver="cg"``).
    init_scale : float, default=0.01
        Initial factors are uniform on ``[0, init_scale)``: all positive, as ``implicit``
        starts; on MovieLens-100k this ranked better than zero-mean normal starts.
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads for the parallel kernels; ``None`` uses every core. Results do not depend on
        it: rows are independent.
    random_state : int, numpy Generator or None, default=None
        Seed of the initial factors.
    verbose : bool, default=False
        Show a progress bar.
    warm_start : bool, default=False
        Continue from the fitted factors on the next ``fit`` (same data shape).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    global_mean_ : float
        Always 0 (scores are :math:`w_u^\top h_i`).
    history_ : dict of lists
        Per iteration: ``train_loss`` (the full objective above, computed in
        O(nnz k + (n_users + n_items) k^2)) and ``seconds``.
    n_iter_ : int
    user_ids_, item_ids_ : ndarray or None

    Notes
    -----
    Stored zeros and the entries' order do not matter; negative or non-finite counts raise.
    The Gram matrix is one NumPy product before each half-sweep (outside the parallel
    kernels). The CG kernel calls no BLAS; the Cholesky kernel multiplies gathered blocks with
    BLAS gemm inside its parallel loop, so ``fit`` warns (once, through threadpoolctl) when
    BLAS itself is multithreaded: set ``OPENBLAS_NUM_THREADS=1`` for ``solver="cholesky"``.

    References
    ----------
    Hu, Koren & Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM 2008.
    Takacs, Pilaszy & Tikk, "Applications of the conjugate gradient method for implicit
    feedback collaborative filtering", RecSys 2011.

    Examples
    --------
    >>> import fastmf
    >>> counts = fastmf.datasets.make_counts(200, 80, rank=4, random_state=0)
    >>> model = fastmf.ImplicitALS(n_factors=8, n_iter=5, random_state=0).fit(counts)
    >>> items, scores = model.recommend([0, 1], n=5, exclude=counts)
    >>> items.shape
    (2, 5)
    """

    def __init__(self, n_factors=64, *, solver="cg", n_iter=15, reg=0.01, alpha=1.0,
                 confidence="linear", epsilon=1.0, cg_steps=3, init_scale=0.01, dtype="float32",
                 n_threads=None, random_state=None, verbose=False, warm_start=False):
        self.n_factors = n_factors
        self.solver = solver
        self.n_iter = n_iter
        self.reg = reg
        self.alpha = alpha
        self.confidence = confidence
        self.epsilon = epsilon
        self.cg_steps = cg_steps
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _check_params(self):
        check_int_param(self.n_factors, "n_factors", low=1)
        check_option(self.solver, "solver", ("cg", "cholesky"))
        check_int_param(self.n_iter, "n_iter", low=1)
        check_float_param(self.reg, "reg", low=0)
        check_float_param(self.alpha, "alpha", low=0, low_open=True)
        check_option(self.confidence, "confidence", ("linear", "log"))
        check_float_param(self.epsilon, "epsilon", low=0, low_open=True)
        check_int_param(self.cg_steps, "cg_steps", low=1)
        check_float_param(self.init_scale, "init_scale", low=0)
        return check_dtype(self.dtype)

    def fit(self, X, y=None):
        """Fit the model.

        Parameters
        ----------
        X : Ratings, sparse matrix of shape (n_users, n_items), or array of shape (n, 2)
            Interaction counts (non-negative; zeros are the same as absent entries), or
            [user, item] index pairs with their counts in ``y``.
        y : array-like of shape (n,), optional
            Counts, when ``X`` holds pairs.

        Returns
        -------
        self
        """
        dtype = self._check_params()
        ratings = self._validate_data(X, y)
        if ratings.values.min() < 0:
            pos = int(np.argmin(ratings.values))
            raise ValueError(f"implicit feedback must be non-negative counts; found "
                             f"{ratings.values[pos]} for user {ratings.users[pos]}, item "
                             f"{ratings.items[pos]}")
        if not (ratings.values > 0).any():
            raise ValueError("X has no positive entries: implicit feedback needs at least one "
                             "interaction")
        rng = check_random_state(self.random_state)
        if self._warm:
            self._check_warm_start(ratings, dtype)
        else:
            self._set_index_space(ratings)
            k = self.n_factors
            scale = float(self.init_scale)
            self.user_factors_ = random_factors(rng, (ratings.n_users, k), dtype, scale,
                                                uniform=True)
            self.item_factors_ = random_factors(rng, (ratings.n_items, k), dtype, scale,
                                                uniform=True)
            self.global_mean_ = 0.0
        self._item_gram = None
        by_user = self._confidence_csr(ratings.csr, dtype)
        by_item = self._confidence_csr(ratings.csc, dtype)
        with threads(self.n_threads) as n:
            if self.solver == "cholesky":
                check_blas_threads(n)
            self._iterate(lambda: self._step(by_user, by_item), self.n_iter,
                          [self.user_factors_, self.item_factors_])
        return self

    def _confidence_csr(self, X, dtype):
        """(indptr, indices, c) of the positive entries of a CSR or CSC matrix."""
        X = X.copy()
        X.eliminate_zeros()
        return X.indptr, X.indices, self._confidence(X.data).astype(dtype)

    def _confidence(self, r):
        alpha = float(self.alpha)
        if self.confidence == "log":
            return 1.0 + alpha * np.log1p(r / float(self.epsilon))
        return 1.0 + alpha * r

    def _step(self, by_user, by_item):
        """One iteration: items, then users; returns the objective at the new factors."""
        W, H = self.user_factors_, self.item_factors_
        self._half_sweep(by_item, H, W)
        self._item_gram = None
        # the user sweep returns sum_u [sum_i c_ui (p_ui - w_u.h_i)^2 + reg |w_u|^2]
        return self._half_sweep(by_user, W, H) + self.reg * float(np.vdot(H, H))

    def _half_sweep(self, csr, X, Y):
        gram = Y.T @ Y  # BLAS, outside the parallel kernels
        gram[np.diag_indices_from(gram)] += self.reg
        if self.solver == "cholesky":
            return implicit_cholesky_sweep(*csr, X, Y, gram, self.reg > 0)
        return implicit_cg_sweep(*csr, X, Y, gram, self.cg_steps)

    def _factors_changed(self):
        self._item_gram = None

    def _fold_in(self, X):
        """Exact least-squares user factors for the rows of ``X``, items held fixed."""
        X = check_sparse_matrix(X, "X", nonnegative=True)
        H = self.item_factors_
        if getattr(self, "_item_gram", None) is None:
            gram = H.T @ H
            gram[np.diag_indices_from(gram)] += self.reg
            self._item_gram = gram
        W = np.zeros((X.shape[0], H.shape[1]), dtype=H.dtype)
        implicit_cholesky_sweep(*self._confidence_csr(X, H.dtype), W, H, self._item_gram,
                                self.reg > 0)
        return W

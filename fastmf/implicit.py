"""``ImplicitALS``: weighted matrix factorization of implicit feedback (Hu, Koren & Volinsky)."""

import warnings

import numpy as np

from ._init import random_factors
from ._kernels.implicit_als import implicit_cholesky_sweep
from ._solvers.implicit_als import confidence_rows, gram, rows_reg
from ._validation import (
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
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

        \sum_{u,i} c_{ui} (p_{ui} - w_u^\top h_i)^2
        + \lambda \Big(\sum_u s_u \|w_u\|^2 + \sum_i s_i \|h_i\|^2\Big)

    over all cells, in O(nnz) memory, with :math:`s_u = 1` (``reg_scaling="none"``) or the
    frequency scaling of Rendle et al. (2022), :math:`s_u = (|I_u| + \alpha_0 |I|)^\nu`,
    :math:`s_i = (|U_i| + \alpha_0 |U|)^\nu` (``"frequency"``; :math:`|I_u|` the user's
    positives, :math:`|I|` the number of items, :math:`\nu` ``reg_exponent``, :math:`\alpha_0`
    ``unobserved_weight``). Each row solves
    :math:`(H^\top H + H_u^\top (C_u - I) H_u + \lambda s_u I) w_u = H_u^\top C_u p_u` with
    the shared Gram matrix :math:`H^\top H` computed once per half-iteration.

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors k.
    solver : {"als"}, default="als"
        Alternating least squares; ``cg_steps`` chooses how each row is solved. (The old
        values ``"cg"`` and ``"cholesky"`` work until fastmf 0.3 with a FutureWarning: they
        mean ``cg_steps=3`` and ``cg_steps=None``.)
    n_iter : int, default=15
        Iterations (one iteration updates items, then users).
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one iteration falls to
        ``tol`` or below (0: run all ``n_iter``).
    reg : float, default=4.0
        L2 weight :math:`\lambda` (see Notes for how the defaults were chosen).
    alpha : float, default=3.0
        Confidence scale :math:`\alpha` (> 0). (The ``alpha`` of ``implicit`` multiplies the
        counts without adding 1: on binary data its ``alpha=a`` equals ``alpha=a - 1`` here.)
    reg_scaling : {"none", "frequency"}, default="frequency"
        ``"none"``: the same L2 weight for every row. ``"frequency"``: each row's weight is
        :math:`\lambda (|I_u| + \alpha_0 |I|)^\nu` (Rendle et al. 2022): with
        :math:`\nu = 1, \alpha_0 = 0` it is proportional to the row's count (ALS-WR, as
        ``MatrixFactorization(reg_scaling="count")``), with :math:`\nu = 0` it is
        ``"none"``.
    reg_exponent : float, default=0.5
        :math:`\nu` of ``reg_scaling="frequency"``, in [0, 2].
    unobserved_weight : float, default=0.0
        :math:`\alpha_0` of ``reg_scaling="frequency"`` (>= 0): the weight of the other side's
        size in the frequency. (In the paper :math:`\alpha_0` also weighs the unobserved cells
        in the loss; here they weigh 1 against :math:`1 + \alpha` on a binary positive, so
        the paper's :math:`\alpha_0` plays the part of :math:`1/\alpha`.)
    confidence : {"linear", "log"}, default="linear"
        How counts become confidences (see above).
    epsilon : float, default=1.0
        :math:`\epsilon` of the log confidence (> 0).
    cg_steps : int or None, default=3
        An integer: that many conjugate-gradient steps per row and half-iteration,
        warm-started from the current factors (Takacs et al. 2011), O(nnz k cg_steps) per
        iteration. ``None``: exact row solves (Cholesky), O(nnz k^2 + (n_users + n_items)
        k^3), and the objective never increases.
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
    early_stopping_rounds : int or None, default=None
        With an ``eval_set``: stop when its nDCG@10 has not improved for this many
        iterations and keep the best iteration's factors (``best_iteration_``).
    backend : {"cpu", "cuda"}, default="cpu"
        Where ``fit`` runs: ``"cuda"`` on an NVIDIA GPU (CG rows, ``reg_scaling="none"``).
        It needs the ``cuda`` extra, a driver and a device, else
        :class:`fastmf.cuda.CudaUnavailableError` names what is missing. The data move to the
        device once per fit and the factors come back to host arrays at its end;
        ``recommend``, fold-in and scoring run on the CPU.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    global_mean_ : float
        Always 0 (scores are :math:`w_u^\top h_i`).
    history_ : dict of lists
        Per iteration: ``train_loss`` (the full objective above, computed in
        O(nnz k + (n_users + n_items) k^2)), ``seconds`` and, with an ``eval_set``,
        ``eval_ndcg@10`` and ``eval_precision@10``.
    n_iter_ : int
    user_ids_, item_ids_ : ndarray or None

    Notes
    -----
    Stored zeros and the entries' order do not matter; negative or non-finite counts raise.
    The Gram matrix is one NumPy product before each half-sweep (outside the parallel
    kernels). The CG kernel calls no BLAS; the Cholesky kernel multiplies gathered blocks with
    BLAS gemm inside its parallel loop, so ``fit`` limits the BLAS pools to one thread while
    it runs (through threadpoolctl; restored afterwards).

    The defaults (``reg=4``, ``alpha=3``, ``reg_scaling="frequency"``, ``reg_exponent=0.5``,
    ``unobserved_weight=0``, ``cg_steps=3``) were chosen on a validation split carved from the
    training part of the benchmarks' MovieLens-100k split (its test part unused), binarised at
    >= 4, at k=64 and 15 iterations, by ``benchmarks/tune_implicit.py`` (a grid over reg,
    alpha, the exponent and the unobserved weight, the best re-scored over 3 seeds).
    Validation nDCG@10 / P@10: 0.140 / 0.076 for the former defaults (``reg=0.01``,
    ``alpha=1``, unscaled), 0.194 / 0.111 for the best unscaled setting (``reg=30``,
    ``alpha=3``), 0.200 / 0.113 for these defaults (``reg_exponent`` 0.25 and 0.75 scored
    0.199 and 0.197; a positive ``unobserved_weight`` or a larger ``alpha`` scored lower;
    exact rows or 5 CG steps moved nDCG@10 by under 0.001). The same settings on two
    synthetic sets of other shapes, nDCG@10 of held-out entries: 300 users x 6,000 items with a
    steep popularity curve (``make_counts``, popularity exponent 1.2) 0.057 (former
    defaults), 0.313 (best unscaled), 0.314 (these); an ML-1M-sized planted set binarised at
    >= 4 0.049, 0.083, 0.111: the frequency scaling carries the weight over to other
    densities where one unscaled weight does not.

    References
    ----------
    Hu, Koren & Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM 2008.
    Rendle, Krichene, Zhang & Koren, "Revisiting the performance of iALS on item
    recommendation benchmarks", RecSys 2022.
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

    _nonnegative_input = True
    _eval_kind = "positives"
    _symmetric_fold_in = True
    #: Files saved before frequency scaling existed hold unscaled models.
    _params_before_they_existed = {"reg_scaling": "none"}

    def __init__(self, n_factors=64, *, solver="als", n_iter=15, tol=0.0, reg=4.0, alpha=3.0,
                 reg_scaling="frequency", reg_exponent=0.5, unobserved_weight=0.0,
                 confidence="linear", epsilon=1.0, cg_steps=3, init_scale=0.01, dtype="float32",
                 n_threads=None, random_state=None, verbose=False, warm_start=False,
                 early_stopping_rounds=None, backend="cpu"):
        self.n_factors = n_factors
        self.solver = solver
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
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds
        self.backend = backend

    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solver reads."""
        check_option(self.solver, "solver", ("als", "cg", "cholesky"))
        check_option(self.backend, "backend", self._backends)
        cg_steps = check_int_param(self.cg_steps, "cg_steps", low=1, allow_none=True)
        if self.solver != "als":  # the old way of choosing the row solver
            warnings.warn(
                f"ImplicitALS(solver={self.solver!r}) is now solver='als' with "
                f"{'cg_steps=3 (the default)' if self.solver == 'cg' else 'cg_steps=None'}; "
                "solver='cg' / 'cholesky' will be removed in fastmf 0.3", FutureWarning,
                stacklevel=3)
            if self.solver == "cholesky":
                cg_steps = None
        return dict(
            n_factors=check_int_param(self.n_factors, "n_factors", low=1),
            n_iter=check_int_param(self.n_iter, "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            reg=check_float_param(self.reg, "reg", low=0),
            alpha=check_float_param(self.alpha, "alpha", low=0, low_open=True),
            reg_scaling=check_option(self.reg_scaling, "reg_scaling", ("none", "frequency")),
            reg_exponent=check_float_param(self.reg_exponent, "reg_exponent", low=0, high=2),
            unobserved_weight=check_float_param(self.unobserved_weight, "unobserved_weight",
                                                low=0),
            confidence=check_option(self.confidence, "confidence", ("linear", "log")),
            epsilon=check_float_param(self.epsilon, "epsilon", low=0, low_open=True),
            cg_steps=cg_steps,
            init_scale=check_float_param(self.init_scale, "init_scale", low=0),
            dtype=check_dtype(self.dtype),
            early_stopping_rounds=check_int_param(self.early_stopping_rounds,
                                                  "early_stopping_rounds", low=1,
                                                  allow_none=True),
        )

    def fit(self, X, y=None, *, eval_set=None):
        """Fit the model.

        Parameters
        ----------
        X : Ratings, sparse matrix of shape (n_users, n_items), or array of shape (n, 2)
            Interaction counts (non-negative; zeros are the same as absent entries), or
            [user, item] index pairs with their counts in ``y``.
        y : array-like of shape (n,), optional
            Counts, when ``X`` holds pairs.
        eval_set : Ratings or sparse matrix of shape (n_users, n_items), optional
            Held-out interactions: after every iteration ``history_`` records nDCG@10 and
            precision@10 of the top-10 lists (training items excluded), the first watched by
            ``early_stopping_rounds``.

        Returns
        -------
        self
        """
        p = self._check_params()
        ratings = self._validate_data(X, y)
        if ratings.values.min() < 0:
            pos = int(np.argmin(ratings.values))
            raise ValueError(f"X must be non-negative (implicit feedback counts): found "
                             f"{ratings.values[pos]} for user {ratings.users[pos]}, item "
                             f"{ratings.items[pos]}")
        if not (ratings.values > 0).any():
            raise ValueError("X has no positive entries: implicit feedback needs at least one "
                             "interaction")
        if p["early_stopping_rounds"] is not None and eval_set is None:
            raise ValueError("early_stopping_rounds needs an eval_set")
        eval_data = self._eval_data(eval_set, ratings)
        rng = check_random_state(self.random_state)
        if self._warm:
            self._check_warm_start(ratings, p["n_factors"], p["dtype"])
            state = self._warm_state(("user_factors_", "item_factors_", "global_mean_"))
        else:
            k, dtype, scale = p["n_factors"], p["dtype"], p["init_scale"]
            state = {"user_factors_": random_factors(rng, (ratings.n_users, k), dtype, scale,
                                                     uniform=True),
                     "item_factors_": random_factors(rng, (ratings.n_items, k), dtype, scale,
                                                     uniform=True),
                     "global_mean_": 0.0}
        return self._fit_solver("als", ratings, state, p, rng, ratings, eval_data=eval_data,
                                blas=1, tol=p["tol"],
                                early_stopping_rounds=p["early_stopping_rounds"])

    def _factors_changed(self):
        self._item_gram = None

    def _fold_in_users(self, X):
        """Exact least-squares user factors for the rows of ``X``, items held fixed (each row
        with the L2 weight a training row with its positives gets)."""
        p = self._check_params()
        H = self.item_factors_
        if getattr(self, "_item_gram", None) is None:
            self._item_gram = gram(H)
        W = np.zeros((X.shape[0], H.shape[1]), dtype=H.dtype)
        rows = confidence_rows(X, p, H.dtype)
        reg = rows_reg(rows, H.shape[0], p, H.dtype)
        implicit_cholesky_sweep(rows, W, H, (self._item_gram, reg),
                                bool(reg.min(initial=1.0) > 0))
        return {"user_factors_": W}

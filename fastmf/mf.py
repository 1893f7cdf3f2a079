"""``MatrixFactorization``: biased matrix factorization of explicit ratings."""

import numpy as np

from ._init import random_factors
from ._params import DEPRECATED, renamed
from ._validation import (
    check_bool,
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from .base import FactorModel

SOLVERS = ("als", "hals", "sgd", "mcmc")


class MatrixFactorization(FactorModel):
    r"""Biased matrix factorization of explicit ratings, fitted on the observed entries only.

    The model predicts :math:`\hat r_{ui} = \mu + b_u + c_i + w_u^\top h_i` and minimises

    .. math::

        \sum_{(u,i)\,\mathrm{observed}} (r_{ui} - \hat r_{ui})^2
        + \lambda \Big(\sum_u s_u \|w_u\|^2 + \sum_i s_i \|h_i\|^2\Big)
        + \lambda_b \Big(\sum_u s_u b_u^2 + \sum_i s_i c_i^2\Big)

    with :math:`s_u = |R(u)|^\nu` (``reg_scaling="count"``, :math:`\nu` ``reg_exponent``;
    ALS-WR with :math:`\nu = 1`) or :math:`s_u = 1` (``reg_scaling="none"``), and :math:`\mu`
    the mean training rating.

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors k.
    solver : {"als", "hals", "sgd", "mcmc"}, default="als"
        ``"als"``: alternating least squares, rows in parallel, each row's regularised
        least-squares problem (the bias folded in) solved by a few conjugate-gradient steps
        or exactly (see ``cg_steps``); the objective never increases and the result does not
        depend on the thread count.
        ``"hals"``: coordinate descent one factor at a time (CCD++, Yu et al. 2012) on the
        residual of the stored entries: O(nnz k) per iteration, no k x k solves, rows in
        parallel; the objective never increases and the result does not depend on the thread
        count.
        ``"sgd"``: stochastic gradient descent over the ratings (Funk SVD; see
        ``learning_rate`` and below). Epochs run in parallel by block stratification (DSGD /
        LIBMF's FPSG: users and items cut into P x P blocks, P blocks sharing no row at once),
        so the result for a ``random_state`` is the same at any thread count (P is set by
        the data size: a power of two, about one per 16,384 ratings, at most 32; it bounds
        the useful thread count). It minimises the same objective: the L2 terms are applied
        at every rating (as LIBMF and Surprise do), each weighted by its row's count to the
        power :math:`\nu - 1`. Its
        ``train_loss`` is the squared error of each rating seen just before its update plus
        the L2 terms at the end of the epoch. Fold-in (``transform``) is the ALS closed form.
    cg_steps : int or None, default=3
        ``"als"`` only. An integer makes each row take that many conjugate-gradient steps
        from its current value (Takacs et al. 2011, cmfrec's default): ``A p`` is applied
        through the row's ratings, O(n_u k) per step, and the objective still never
        increases. ``None`` solves every row exactly (Cholesky of the k+1 by k+1 normal
        equations, O(n_u k^2 + k^3); a row with fewer ratings than that solves its
        n_u by n_u dual system instead). The default is the fastest setting at equal
        accuracy, chosen on validation carves (never a test split; k = 64, 15 iterations,
        ``benchmarks/als_default.py``): on MovieLens-100k's and on a sparse synthetic set's
        (2,000 users x 20,000 items, 97 % of the items with fewer than 64 ratings), 3 CG
        steps plus the final exact sweep gave the exact solver's validation RMSE to four
        digits (0.9079 and 0.9079; 0.6223 and 0.6223) in about 1.8x less time per
        iteration on both (2 threads, a busy machine).
    final_exact : bool, default=True
        ``"als"`` with CG rows only: after the last iteration (after early stopping has
        restored its best iteration) solve every user row exactly once for the final item
        factors, as cmfrec's final Cholesky pass does, so that folding a training user back
        in (``transform``, ``partial_fit_users``) reproduces its row; ``history_`` then
        reports that model's objective and eval scores as the returned iteration's. It
        costs one exact half-sweep. With ``False`` the users keep their CG rows (and a warm
        start 5 + 5 equals 10 iterations exactly).
    n_iter : int or None, default=None
        Number of iterations (one iteration updates both sides; for ``"sgd"`` one epoch, for
        ``"mcmc"`` one Gibbs sweep). ``None``: 15 for ``"als"`` and ``"hals"``, 30 for
        ``"sgd"``, 200 for ``"mcmc"``.
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one iteration falls to
        ``tol`` or below (0: run all ``n_iter``; not with ``"mcmc"``).
    reg : float, default=0.3
        L2 weight :math:`\lambda` on the factors.

        The pair ``reg=0.3, reg_exponent=0.75`` replaced ALS-WR's ``reg=0.1, reg_exponent=1``
        in fastmf 0.2, for every solver. It was chosen on validation carves (10 % of the 90 %
        training parts of MovieLens-100k, of a synthetic MovieLens-1M-sized set and of a
        few-users-many-items set, ``make_ratings(2000, 20000, 300000)``; k = 64, the default
        ALS) over exponents 0.5-1 and weights 0.05-3, as the pair nowhere worse than (0.1, 1)
        that gains the most: validation RMSE 0.9079 / 0.4979 / 0.6769 against 0.9079 /
        0.5282 / 0.6798 for ALS, 0.9026 / 0.4979 / 0.6738 against 0.9049 / 0.5280 / 0.6875
        for SGD. Exponent 1 over-regularises the rows with many ratings: the best weight
        with it on the 1M carve (0.05) loses 0.028 on MovieLens-100k.
    reg_bias : float or None, default=None
        L2 weight :math:`\lambda_b` on the biases; ``None`` uses ``reg``.
    reg_scaling : {"count", "none"}, default="count"
        ``"count"`` multiplies each row's penalty by its number of ratings to the power
        ``reg_exponent`` (with 1: ALS-WR, as Spark ALS does); ``"none"`` uses the same weight
        for every row (as cmfrec does).
    reg_exponent : float, default=0.75
        :math:`\nu` of ``reg_scaling="count"``, in [0, 2] (1: ALS-WR); see ``reg``.
    fit_biases : bool, default=True
        Fit :math:`\mu`, :math:`b_u` and :math:`c_i`. With ``False`` the model is
        :math:`w_u^\top h_i` alone.
    init_scale : float or None, default=None
        Standard deviation of the normal initial factors; ``None``: 0.03 for ``"sgd"`` (a
        smaller start lowered its validation RMSE, see below), 0.1 otherwise. (``init_std``,
        its old name, works until fastmf 0.3 with a FutureWarning.)
    dtype : {"float32", "float64"}, default="float32"
        Precision of the factors and of the kernels' arithmetic.
    n_threads : int or None, default=None
        Threads for the parallel kernels; ``None`` uses every core.
    random_state : int, numpy Generator or None, default=None
        Seed of the initial factors.
    verbose : bool, default=False
        Show a progress bar.
    warm_start : bool, default=False
        Continue from the fitted factors on the next ``fit`` (same data shape):
        5 + 5 iterations equal 10 (with CG rows, up to the ``final_exact`` sweep the first
        fit ends with).
    early_stopping_rounds : int or None, default=None
        Stop when the eval RMSE of ``eval_set`` has not improved for this many iterations and
        keep the best iteration's factors (``best_iteration_``).
    clip : bool, default=True
        Clip ``predict`` (and the eval RMSE) to the range of the training ratings
        (``rating_range_``), as Surprise does: a prediction of 5.6 on a 1-5 scale is 5.
        ``recommend`` ranks on the unclipped scores (clipping would tie the top items).
    learning_rate : float or None, default=None
        ``"sgd"`` only: the step size (the initial one under ``"inverse"``); ``None``: 0.08
        with AdaGrad, 0.01 otherwise.
    lr_schedule : {"constant", "inverse", "adagrad"} or None, default=None
        ``"sgd"`` only. ``"inverse"``: epoch ``e`` (counted from 0, continuing across warm
        starts) uses ``learning_rate / (1 + lr_decay * e)``; ``"adagrad"``: LIBMF's per-row
        AdaGrad, a row's step is ``learning_rate / sqrt(G)`` with ``G`` (starting at 1)
        accumulating the row's mean squared gradient. AdaGrad needs ``batch_size=1`` and
        ``momentum=0``. ``None``: ``"adagrad"`` with its default rate for plain SGD;
        ``"constant"`` when a ``learning_rate`` is given or with momentum or mini-batches (the
        setting of fastmf 0.1, whose default schedule it was).

        The SGD defaults (AdaGrad, ``learning_rate=0.08``, then ``reg=0.1`` with exponent 1,
        ``init_scale=0.03``, 30 epochs) were chosen on a validation split carved from the training
        data (10 % of the 90 % training part of MovieLens-100k and of a synthetic MovieLens-1M-sized
        set) among constant, inverse and AdaGrad steps, rates 0.005-0.2, L2 0.02-0.15, starts
        0.01-0.1 and 15-40 epochs; see benchmarks/RESULTS.md for the test figures against LIBMF.
        With the L2 of ``reg`` the rates 0.05 and 0.12 and 20 or 40 epochs were tried again on the
        same carves: 0.08 and 30 stayed best or within 0.003.
    lr_decay : float, default=0.1
        Decay of the ``"inverse"`` schedule.
    momentum : float in [0, 1), default=0.0
        ``"sgd"`` only: heavy-ball momentum, ``v = momentum * v + g``, ``x -= lr * v``. It is
        lazy: a row's velocity changes only in the batches that contain the row.
    batch_size : int, default=1
        ``"sgd"`` only: ratings per mini-batch (within a block); a batch is scored with the
        parameters of its start and each touched row moves by its gradient averaged over the
        batch. The recipe lr 0.08, momentum 0.9, batch 128 is
        ``learning_rate=0.08, momentum=0.9, batch_size=128``.
    burn_in : int or None, default=None
        ``"mcmc"`` only (Bayesian MF, the FM Gibbs sampler of ``FMRegressor(solver="mcmc")``
        on the one-hot user and item design: Normal-Gamma hyper-priors per side, no ``reg``
        to tune; the same chain for any thread count): sweeps discarded before samples are
        kept; must be < ``n_iter``; ``None`` discards the first fifth. Predictions are
        posterior means: ``user_factors_`` and ``item_factors_`` hold the S kept samples side
        by side scaled by 1/sqrt(S), so they have S * n_factors columns; the biases and
        ``global_mean_`` are posterior means.
        ``warm_start`` and ``early_stopping_rounds`` are not supported with it.
    thin : int, default=1
        ``"mcmc"`` only: keep every ``thin``-th sweep after burn-in, so
        S = (n_iter - burn_in) // thin. The fitted model (and the fit's peak memory) holds
        (n_users + n_items) x S x n_factors values: thinning divides that by ``thin`` at a
        small cost in accuracy, much smaller than keeping as few samples by a longer burn-in
        (on MovieLens-100k, k = 10, 200 sweeps: every 2nd of 160 samples gave the same test
        RMSE, every 4th +0.001, the last 40 +0.006).
    backend : {"cpu", "cuda"}, default="cpu"
        Where ``fit`` runs: ``"cuda"`` on an NVIDIA GPU (``solver="als"`` with CG rows, the
        ``final_exact`` sweep on the host, or ``"sgd"`` with a constant or inverse step). It
        needs the ``cuda`` extra, a driver and a device, else
        :class:`fastmf.cuda.CudaUnavailableError` names what is missing. The data move to the
        device once per fit and the factors come back to host arrays at its end;
        ``recommend``, fold-in and scoring run on the CPU.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    user_bias_, item_bias_ : ndarray of shape (n_users,), (n_items,), or None
    global_mean_ : float
    history_ : dict of lists
        Per iteration: ``train_loss`` (the objective above; for the iteration returned,
        that of the model returned, after a ``final_exact`` sweep), ``seconds`` and, with an
        ``eval_set``, ``eval_rmse`` and ``eval_unknown`` (pairs predicted by fallback; NaN
        and -1 for warm-started iterations fitted without one).
    n_iter_ : int
    user_ids_, item_ids_ : ndarray or None
        Raw IDs of the training Ratings.
    rating_range_ : list of two floats
        The smallest and largest training rating (the ``clip`` range).

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(200, 100, 4000, noise=0.1, discrete=False,
    ...                                    random_state=0)
    >>> train, test = fastmf.model_selection.train_test_split(data, random_state=0)
    >>> model = fastmf.MatrixFactorization(n_factors=8, n_iter=10, random_state=0)
    >>> model = model.fit(train, eval_set=test)
    >>> rmse = model.history_["eval_rmse"][-1]  # vs the spread of the held-out ratings:
    >>> bool(rmse < 0.7 * test.values.std())
    True
    """

    def __init__(self, n_factors=64, *, solver="als", n_iter=None, tol=0.0, reg=0.3,
                 reg_bias=None, reg_scaling="count", reg_exponent=0.75, fit_biases=True,
                 init_scale=None,
                 dtype="float32", n_threads=None, random_state=None, verbose=False,
                 warm_start=False, early_stopping_rounds=None, learning_rate=None,
                 lr_schedule=None, lr_decay=0.1, momentum=0.0, batch_size=1,
                 burn_in=None, thin=1, cg_steps=3, final_exact=True, clip=True, backend="cpu",
                 init_std=DEPRECATED):
        self.n_factors = n_factors
        self.solver = solver
        self.n_iter = n_iter
        self.tol = tol
        self.cg_steps = cg_steps
        self.final_exact = final_exact
        self.reg = reg
        self.reg_bias = reg_bias
        self.reg_scaling = reg_scaling
        self.reg_exponent = reg_exponent
        self.fit_biases = fit_biases
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.lr_decay = lr_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.burn_in = burn_in
        self.thin = thin
        self.clip = clip
        self.backend = backend
        self.init_std = init_std

    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solvers read."""
        solver = check_option(self.solver, "solver", SOLVERS)
        n_iter = {"sgd": 30, "mcmc": 200}.get(solver, 15) if self.n_iter is None else \
            self.n_iter
        init = renamed(self, "init_std", "init_scale")
        if init is None:
            init = 0.03 if solver == "sgd" else 0.1
        p = dict(
            n_factors=check_int_param(self.n_factors, "n_factors", low=1),
            solver=solver,
            n_iter=check_int_param(n_iter, "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            cg_steps=check_int_param(self.cg_steps, "cg_steps", low=1, allow_none=True),
            final_exact=check_bool(self.final_exact, "final_exact"),
            reg=check_float_param(self.reg, "reg", low=0),
            reg_scaling=check_option(self.reg_scaling, "reg_scaling", ("count", "none")),
            reg_exponent=check_float_param(self.reg_exponent, "reg_exponent", low=0, high=2),
            fit_biases=check_bool(self.fit_biases, "fit_biases"),
            init_scale=check_float_param(init, "init_scale", low=0),
            dtype=check_dtype(self.dtype),
            early_stopping_rounds=check_int_param(self.early_stopping_rounds,
                                                  "early_stopping_rounds", low=1,
                                                  allow_none=True),
            clip=check_bool(self.clip, "clip"),
        )
        check_option(self.backend, "backend", self._backends)
        p["reg_bias"] = p["reg"] if self.reg_bias is None else \
            check_float_param(self.reg_bias, "reg_bias", low=0)
        if p["solver"] == "mcmc":
            burn_in = check_int_param(self.burn_in, "burn_in", low=0, allow_none=True)
            p["burn_in"] = p["n_iter"] // 5 if burn_in is None else burn_in
            if p["burn_in"] >= p["n_iter"]:
                raise ValueError(f"burn_in must be < n_iter, got burn_in={p['burn_in']} and "
                                 f"n_iter={p['n_iter']}")
            if not p["fit_biases"]:
                raise ValueError("solver='mcmc' samples the biases too: fit_biases must be "
                                 "True")
            if p["early_stopping_rounds"] is not None:
                raise ValueError("early_stopping_rounds is not used with solver='mcmc' (the "
                                 "posterior mean only improves with more samples)")
            if p["tol"] > 0:
                raise ValueError("tol is not used with solver='mcmc': it samples n_iter sweeps")
            p["thin"] = check_int_param(self.thin, "thin", low=1)
            after = p["n_iter"] - p["burn_in"]
            if after // p["thin"] == 0:
                raise ValueError(f"thin={p['thin']} keeps no sample of the {after} after "
                                 "burn-in: lower thin or raise n_iter")
            p["n_threads"] = self.n_threads
        if p["solver"] == "sgd":
            p.update(
                lr_decay=check_float_param(self.lr_decay, "lr_decay", low=0),
                momentum=check_float_param(self.momentum, "momentum", low=0, high=1,
                                           high_open=True),
                batch_size=check_int_param(self.batch_size, "batch_size", low=1))
            plain = p["momentum"] == 0 and p["batch_size"] == 1
            schedule = self.lr_schedule
            if schedule is None:  # AdaGrad is the default with the default rate
                schedule = "adagrad" if plain and self.learning_rate is None else "constant"
            p["lr_schedule"] = check_option(schedule, "lr_schedule",
                                            ("constant", "inverse", "adagrad"))
            lr = self.learning_rate
            if lr is None:
                lr = 0.08 if p["lr_schedule"] == "adagrad" else 0.01
            p["learning_rate"] = check_float_param(lr, "learning_rate", low=0, low_open=True)
            if p["lr_schedule"] == "adagrad" and (p["momentum"] > 0 or p["batch_size"] > 1):
                raise ValueError("lr_schedule='adagrad' needs momentum=0 and batch_size=1")
        return p

    def fit(self, X, y=None, *, eval_set=None):
        """Fit the model.

        Parameters
        ----------
        X : Ratings, sparse matrix of shape (n_users, n_items), or array of shape (n, 2)
            Training ratings: a Ratings, a users x items matrix whose stored entries are the
            observations, or [user, item] index pairs with their ratings in ``y``.
        y : array-like of shape (n,), optional
            Ratings, when ``X`` holds pairs.
        eval_set : Ratings or (X_pairs, y) tuple, optional
            Held-out ratings scored after every iteration (``history_["eval_rmse"]``).

        Returns
        -------
        self
        """
        p = self._check_params()
        ratings = self._validate_data(X, y)
        if p["early_stopping_rounds"] is not None and eval_set is None:
            raise ValueError("early_stopping_rounds needs an eval_set")
        eval_data = self._eval_data(eval_set, ratings)
        rng = check_random_state(self.random_state)
        if self._warm:
            if p["solver"] == "mcmc":
                raise ValueError("warm_start is not supported with solver='mcmc'")
            self._check_warm_start(ratings, p["n_factors"], p["dtype"])
            state = self._warm_state(_STATE)
            p["first_iter"] = self.n_iter_
        else:
            state = self._init_state(ratings, p, rng)
            p["first_iter"] = 0
        return self._fit_solver(p["solver"], ratings, state, p, rng, ratings,
                                eval_data=eval_data, blas=1, tol=p["tol"],
                                early_stopping_rounds=p["early_stopping_rounds"])

    def _init_state(self, ratings, p, rng):
        k, scale, dtype = p["n_factors"], p["init_scale"], p["dtype"]
        state = {"user_factors_": random_factors(rng, (ratings.n_users, k), dtype, scale),
                 "item_factors_": random_factors(rng, (ratings.n_items, k), dtype, scale)}
        if p["fit_biases"]:
            state.update(global_mean_=float(np.mean(ratings.values)),
                         user_bias_=np.zeros(ratings.n_users, dtype),
                         item_bias_=np.zeros(ratings.n_items, dtype))
        else:
            state.update(global_mean_=0.0, user_bias_=None, item_bias_=None)
        return state

    _symmetric_fold_in = True

    def _fold_in_users(self, X):
        from ._solvers.mf_als import fold_in, reg_exponent

        p = self._check_params()
        return fold_in(X, self.item_factors_, self.item_bias_, self.global_mean_, p["reg"],
                       p["reg_bias"], reg_exponent(p))


#: The fitted attributes a warm start continues (the SGD optimiser state included).
_STATE = ("user_factors_", "item_factors_", "user_bias_", "item_bias_", "global_mean_",
          "sgd_seed_", "sgd_user_state_", "sgd_item_state_")

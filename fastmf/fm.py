r"""Factorization machines: ``FMRegressor`` and ``FMClassifier`` over a sparse design matrix.

The degree-2 model (Rendle, 2010) is

.. math::

    \hat y(x) = w_0 + \sum_j w_j x_j + \sum_{j<k} \langle v_j, v_k \rangle x_j x_k,

its pairwise term computed in O(nnz(x) r) as
:math:`\tfrac12 \sum_f [(\sum_j v_{jf} x_j)^2 - \sum_j v_{jf}^2 x_j^2]`. Kernels are in
:mod:`fastmf._ext.fm` (Cython + OpenMP), solvers in :mod:`fastmf._solvers.fm`; the encoders
that build MF, PITF and SVD++ designs are in :mod:`fastmf.fm_features`.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr, ndtri

from ._config import resolve_n_threads
from ._fitting import SolverFit
from ._init import random_factors
from ._params import DEPRECATED, renamed
from ._persist import SaveMixin
from ._sklearn_compat import BaseEstimator, ClassifierMixin, RegressorMixin
from ._solvers.fm import FMData, MCMCSolver, csc_arrays, csr_arrays, field_groups, predict
from ._validation import (
    check_dtype,
    check_float_param,
    check_int_param,
    check_is_fitted,
    check_option,
    check_random_state,
    check_sparse_matrix,
)

__all__ = ["FMRegressor", "FMClassifier"]

#: reg_w and reg_v when left None, by (solver, classifier): chosen on validation splits (10 %
#: of the training part) of MovieLens-100k's one-hot user + item design (regression, RMSE) and
#: of a synthetic click-through design of 16 one-hot fields, 76k features, 1.3 % positives
#: (classification, AUC), among 0.1-50 (ALS) and 0.001-1 (SGD); the SGD classifier's was
#: chosen again with its learning rate (below). MCMC samples them.
_DEFAULT_REG = {("als", False): 10.0, ("als", True): 30.0, ("sgd", False): 0.1,
                ("sgd", True): 0.003, ("mcmc", False): 0.0, ("mcmc", True): 0.0}
#: learning_rate when left None, regression / classification. The classifier's (with its
#: reg 0.003) was chosen among 0.0003-0.01 on validation splits (20 % of the training rows)
#: of benchmarks/fm_clicks.py's click logs and of a small planted design; the figures are in
#: the docstring's learning_rate entry.
_DEFAULT_LEARNING_RATE = {False: 0.01, True: 0.003}

_PARAMS_DOC = """
    n_factors : int, default=8
        Rank r of the pairwise interactions.
    solver : {"als", "sgd", "mcmc"}, default="als"
        ``"als"``: libFM's coordinate descent — every parameter in turn set to its exact
        minimiser
        :math:`\\theta^* = (\\theta \\sum h^2 - \\sum h e) / (\\sum h^2 + \\lambda_\\theta)`
        with cached residuals e and per-factor sums, O(nnz r) per sweep; the objective never
        increases and the result does not depend on the thread count (features of a group
        that is one-hot in every row are updated in parallel). ``"sgd"``: per-sample
        gradient steps, rows in parallel without locks (Hogwild: non-deterministic with more
        than one thread, deterministic with ``n_threads=1``). ``"mcmc"``: Gibbs sampling of
        the Bayesian FM (libFM, myFM): Gaussian priors per group with Normal-Gamma
        hyper-priors, so no regularisation to tune; predictions average the samples kept
        after ``burn_in``; the chain is the same for any thread count.
    n_iter : int, default=100
        Sweeps (ALS), epochs (SGD) or Gibbs samples including burn-in (MCMC).
    tol : float, default=0.0
        ALS and SGD: stop early when the objective's relative decrease over one iteration
        falls to ``tol`` or below (0: run all ``n_iter``).
    burn_in : int or None, default=None
        MCMC only: sweeps discarded before samples are kept; must be < ``n_iter``; ``None``
        discards the first fifth (as ``MatrixFactorization(solver="mcmc")``).
    thin : int, default=1
        MCMC only: keep every ``thin``-th sweep after burn-in, S = (n_iter - burn_in) // thin
        samples. The fitted model holds S copies of ``w`` and ``V``; thinning divides that
        memory by ``thin`` at a small cost in accuracy (less than keeping as few samples by a
        longer burn-in).
    learning_rate : float or None, default=None
        SGD step size; epoch t uses ``learning_rate / (1 + lr_decay * t)``. ``None``: 0.01
        for the regressor, 0.003 for the classifier (with its L2 default 0.003: on synthetic
        click logs of 1 % positives, ``benchmarks/fm_clicks.py``, validation AUC 0.625 /
        0.901 against 0.597 / 0.809 at the former 0.01 and 0.01; 0.887 against 0.888 on a
        small planted design, where smaller rates underfit).
    lr_decay : float, default=0.0
        SGD learning-rate decay per epoch.
    reg_w0, reg_w, reg_v : float, array-like of shape (n_groups,), or None
        L2 weights of the intercept (default 0), the linear weights and the factors;
        ``reg_w`` and ``reg_v`` may give one weight per group of ``groups``. ``None``
        (default): 10 for ALS regression, 30 for the ALS classifier, 0.1 for SGD regression,
        0.003 for the SGD classifier — chosen on validation splits of a one-hot MF design of
        MovieLens-100k (ALS RMSE 1.197 at the former default 0.1, 0.905 at 10) and of a
        synthetic click-through design with 1 % positives (ALS AUC 0.75 at 0.1, 0.91 at 30).
        For ALS the weight is the ratio of noise variance to prior variance (the MAP
        estimate of the Bayesian FM), so data less noisy than ratings wants a smaller one
        (on planted rank-3 data with noise 0.3 the best is about 1); ``solver="mcmc"``
        samples it instead. The
        objective is the data term plus ``reg * ||theta||^2`` (fastmf's one convention): the
        data term is the sum of squared errors (regression) or of negative log-likelihoods
        (classification). ALS penalises the whole sum once; SGD applies the terms at every
        update of a feature (libFM's convention). Unused by MCMC, which samples them.
    groups : "auto", array-like of int of shape (n_features,), or None, default="auto"
        Group of each feature (e.g. ``FMEncoder.groups_``): features of a group share an L2
        weight (ALS, SGD) or a prior (MCMC), and a group with at most one stored entry per row
        is updated in parallel by ALS and MCMC. ``None``: one group. ``"auto"``: the one-hot
        fields of ``X`` when it is made of them, else one group: the columns are cut, in
        order, into maximal runs that share no row, and the runs are the groups when there
        are two or more, each has an entry in at least half of the rows and one has two
        columns or more (the user and item blocks of an MF design, the fields of a click
        log; a multi-hot block such as SVD++'s implicit part is not fields). Per-group
        ``reg_w`` / ``reg_v`` must then match the groups found.

        Why "auto" is the default: MCMC on one-hot user + item designs (rank 10; validation
        carves of the 90 % training parts, seeds 0 and 1) reached validation RMSE 0.6233 /
        0.6254 with the two fields against 0.7494 / 0.7810 with one group on a sparse
        synthetic set (2,000 users x 20,000 items), 0.8905 / 0.8921 against 0.8920 / 0.8924
        on MovieLens-100k, and 0.4456 / 0.4455 against 0.4450 / 0.4452 on a synthetic
        MovieLens-1M-sized set (100 samples): one prior for users and items together cannot
        fit both when their scales differ.
    init_scale : float, default=0.1
        Standard deviation of the normal initial factors. (Old name ``init_std``: works until
        fastmf 0.3 with a FutureWarning.)
    dtype : {"float32", "float64"}, default="float32"
        Precision of the parameters and of the design-matrix values in the kernels.
    n_threads : int or None, default=None
        Threads of the kernels; ``None`` uses every core.
    random_state : int, numpy Generator or None, default=None
        Seeds the initial factors, the SGD row order and the MCMC draws.
    verbose : bool, default=False
        Show a progress bar.
    warm_start : bool, default=False
        Continue from the fitted parameters on the next ``fit`` (same number of features and
        n_factors); with ALS, 5 + 5 sweeps equal 10. MCMC restarts its chain (and burn-in)
        from the last sample.
    early_stopping_rounds : int or None, default=None
        ALS and SGD: stop when the eval score of ``eval_set`` has not improved for this many
        iterations and keep the best iteration's parameters (``best_iteration_``)."""

_ATTRS_DOC = """
    intercept_ : float
        w0 (MCMC: its posterior mean).
    coef_ : ndarray of shape (n_features,)
        Linear weights w (MCMC: posterior mean).
    factors_ : ndarray of shape (n_features, n_factors)
        Pairwise factors V (MCMC: the last sample; predictions use all kept samples).
    intercept_samples_, coef_samples_, factors_samples_ : ndarray or None
        MCMC: the kept samples of w0, w and V, with a leading axis of length
        ``(n_iter - burn_in) // thin``; ``None`` for the other solvers.
    history_ : dict of lists
        Per iteration: ``train_loss`` (ALS and SGD: the objective, SGD's data term as
        measured during the epoch; MCMC: the current sample's data term, with its mean as
        ``train_rmse`` or ``train_logloss``), ``seconds``, and with an ``eval_set`` the eval
        score (MCMC: of the running posterior mean).
    n_iter_ : int
    n_features_in_ : int"""


class _BaseFM(SolverFit, SaveMixin, BaseEstimator):
    _fitted_arrays = ("factors_", "coef_")
    _family = "FM"

    def __init__(self, n_factors=8, *, solver="als", n_iter=100, tol=0.0, burn_in=None,
                 learning_rate=None, lr_decay=0.0, reg_w0=0.0, reg_w=None, reg_v=None,
                 groups="auto", init_scale=0.1, dtype="float32", n_threads=None,
                 random_state=None, verbose=False, warm_start=False,
                 early_stopping_rounds=None, thin=1, init_std=DEPRECATED):
        self.n_factors = n_factors
        self.solver = solver
        self.n_iter = n_iter
        self.tol = tol
        self.burn_in = burn_in
        self.learning_rate = learning_rate
        self.lr_decay = lr_decay
        self.reg_w0 = reg_w0
        self.reg_w = reg_w
        self.reg_v = reg_v
        self.groups = groups
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds
        self.thin = thin
        self.init_std = init_std

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _more_tags(self):  # the same tags for scikit-learn < 1.6
        return {"binary_only": self._is_classifier}

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solvers read (groups apart)."""
        solver = check_option(self.solver, "solver", ("als", "sgd", "mcmc"))
        n_iter = check_int_param(self.n_iter, "n_iter", low=1)
        p = dict(
            n_factors=check_int_param(self.n_factors, "n_factors", low=1),
            solver=solver, n_iter=n_iter,
            tol=check_float_param(self.tol, "tol", low=0),
            learning_rate=(_DEFAULT_LEARNING_RATE[self._is_classifier]
                           if self.learning_rate is None else
                           check_float_param(self.learning_rate, "learning_rate", low=0,
                                             low_open=True)),
            lr_decay=check_float_param(self.lr_decay, "lr_decay", low=0),
            reg_w0=check_float_param(self.reg_w0, "reg_w0", low=0),
            init_scale=check_float_param(renamed(self, "init_std", "init_scale"),
                                         "init_scale", low=0),
            thin=check_int_param(self.thin, "thin", low=1),
            early_stopping_rounds=check_int_param(self.early_stopping_rounds,
                                                  "early_stopping_rounds", low=1,
                                                  allow_none=True),
            dtype=check_dtype(self.dtype),
            classifier=self._is_classifier,
        )
        burn_in = check_int_param(self.burn_in, "burn_in", low=0, allow_none=True)
        p["burn_in"] = n_iter // 5 if burn_in is None else burn_in
        if solver == "mcmc":
            if p["burn_in"] >= n_iter:
                raise ValueError(f"burn_in must be < n_iter, got burn_in={p['burn_in']} and "
                                 f"n_iter={n_iter}")
            p["n_keep"] = (n_iter - p["burn_in"]) // p["thin"]
            if p["n_keep"] == 0:
                raise ValueError(f"thin={p['thin']} keeps no sample of the "
                                 f"{n_iter - p['burn_in']} after burn-in: lower thin or raise "
                                 "n_iter")
            if p["early_stopping_rounds"] is not None:
                raise ValueError("early_stopping_rounds is not used with solver='mcmc' (the "
                                 "posterior mean only improves with more samples)")
            if p["tol"] > 0:
                raise ValueError("tol is not used with solver='mcmc': it samples n_iter sweeps")
        return p

    def _check_groups(self, n_features, csc=None, n_rows=0):
        """The groups, their count and the checked ``reg_w`` / ``reg_v``; ``csc`` (the design's
        CSC arrays) and ``n_rows`` are what ``groups="auto"`` reads."""
        if self.groups is None:
            groups = np.zeros(n_features, dtype=np.int32)
        elif isinstance(self.groups, str):
            check_option(self.groups, "groups", ("auto",))
            if csc is None:
                raise ValueError("groups='auto' needs the design matrix in one piece: pass "
                                 "the groups (e.g. FMEncoder.groups_) or None")
            groups = field_groups(csc, n_rows)
        else:
            groups = np.asarray(self.groups)
            if groups.ndim != 1 or len(groups) != n_features:
                raise ValueError(f"groups must have one entry per feature ({n_features}), got "
                                 f"shape {groups.shape}")
            if n_features and (not np.issubdtype(groups.dtype, np.integer) or groups.min() < 0):
                raise ValueError("groups must hold non-negative integers")
            groups = groups.astype(np.int32)
        n_groups = int(groups.max()) + 1 if n_features else 1
        regs = {}
        default = _DEFAULT_REG[(self.solver, self._is_classifier)]
        for name in ("reg_w", "reg_v"):
            given = getattr(self, name)
            value = np.asarray(default if given is None else given, dtype=object)
            if value.ndim == 0:
                regs[name] = check_float_param(default if given is None else given, name,
                                               low=0)
                continue
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != (n_groups,):
                raise ValueError(f"{name} must be a float or have one entry per group "
                                 f"({n_groups}), got shape {value.shape}")
            if not np.all(np.isfinite(value)) or value.min() < 0:
                raise ValueError(f"{name} must be finite and >= 0")
            regs[name] = value
        return groups, n_groups, regs

    def _check_X(self, X, dtype, n_features=None, name="X"):
        """Canonical CSR matrix of finite ``dtype`` values with ``n_features`` columns (any
        number when None).

        A sparse ``X`` goes through :func:`~fastmf._validation.check_sparse_matrix` (indices in
        range, no repeated (row, column), finite values). ``name`` is the argument's name in
        error messages."""
        if sp.issparse(X):
            if X.ndim == 2:
                _check_n_samples_features(X.shape, name)
            X = check_sparse_matrix(X, name, dtype=dtype)
        else:
            if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
                arr = np.asarray(X)
            else:
                raise TypeError(f"{name} must be a sparse matrix or array-like, got "
                                f"{type(X).__name__}")
            if np.iscomplexobj(arr):
                raise ValueError(f"Complex data not supported: {name} must be real")
            if arr.dtype == object:
                arr = arr.astype(np.float64)  # a TypeError or ValueError names the bad value
            if arr.ndim != 2:
                raise ValueError(f"{name} must be 2-dimensional, got shape {arr.shape}. Reshape "
                                 "your data with X.reshape(-1, 1) for a single feature.")
            if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
                raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite: it contains NaN or inf")
            _check_n_samples_features(arr.shape, name)
            X = sp.csr_matrix(arr.astype(dtype))
        d = X.shape[1]
        if n_features is not None and d != n_features:
            raise ValueError(f"{name} has {d} features, but {type(self).__name__} is expecting "
                             f"{n_features} features as input")
        return X

    def _check_y(self, y, n):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; "
                          "its single column is used", DataConversionWarning, stacklevel=3)
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(f"y must be 1-dimensional, got shape {y.shape}")
        if len(y) != n:
            raise ValueError(f"X has {n} rows but y has {len(y)} values")
        return y

    # ------------------------------------------------------------------ fitting
    def _fit(self, X, target, eval_set, fitted=None):
        """Fit on the validated targets (labels in {-1, +1} for the classifier); ``fitted``:
        further fitted attributes to set with the others (the classes)."""
        p = self._check_params()
        dtype = p["dtype"]
        if eval_set is not None:
            if not (isinstance(eval_set, (tuple, list)) and len(eval_set) == 2):
                raise TypeError("eval_set must be an (X, y) tuple")
        elif p["early_stopping_rounds"] is not None:
            raise ValueError("early_stopping_rounds needs an eval_set")
        X = self._check_X(X, dtype)
        warm = self._warm
        if warm and (X.shape[1] != self.n_features_in_ or
                     self.factors_.shape[1] != p["n_factors"] or self.factors_.dtype != dtype):
            raise ValueError(
                "warm_start needs data with the same number of features, the same n_factors "
                f"and the same dtype; the model has {self.n_features_in_} features, "
                f"{self.factors_.shape[1]} factors, {self.factors_.dtype}; got "
                f"{X.shape[1]}, {p['n_factors']}, {np.dtype(dtype)}")
        # the CSC form, built once: ALS and MCMC sweep it, groups="auto" reads it
        csc = csc_arrays(X) if p["solver"] != "sgd" or isinstance(self.groups, str) else None
        groups, n_groups, regs = self._check_groups(X.shape[1], csc, X.shape[0])
        p.update(regs)
        eval_data = None
        if eval_set is not None:
            X_eval = self._check_X(eval_set[0], dtype, X.shape[1], name="eval_set[0]")
            y_eval = self._eval_target(self._check_y(eval_set[1], X_eval.shape[0]),
                                       fitted)
            eval_data = (csr_arrays(X_eval), y_eval)
        rng = check_random_state(self.random_state)
        if not warm:
            w0 = float(np.mean(target)) if not self._is_classifier else 0.0
            state = {"intercept_": np.array([w0]),
                     "coef_": np.zeros(X.shape[1], dtype=dtype),
                     "factors_": random_factors(rng, (X.shape[1], p["n_factors"]), dtype,
                                                p["init_scale"])}
            p["first_iter"] = 0
        else:  # MCMC restarts its chain from the last sample
            last = self.coef_samples_ is not None
            state = {"intercept_": np.array([self.intercept_samples_[-1] if last
                                             else self.intercept_]),
                     "coef_": (self.coef_samples_[-1] if last else self.coef_).copy(),
                     "factors_": self.factors_.copy()}
            p["first_iter"] = self.n_iter_
        data = FMData(X, target, groups, n_groups, resolve_n_threads(self.n_threads),
                      csc=None if p["solver"] == "sgd" else csc)
        self._fit_solver(p["solver"], data, state, p, rng, X, eval_data=eval_data,
                         tol=p["tol"], early_stopping_rounds=p["early_stopping_rounds"])
        vars(self).update(fitted or {})
        self.link_ = ("probit" if self._is_classifier and p["solver"] in ("als", "mcmc")
                      else "logit" if self._is_classifier else "identity")
        return self

    def _index_space(self, X):
        return {"n_features_in_": X.shape[1]}

    def _evaluator(self, solver, space, X, eval_data):
        """Eval scores of the solver's current parameters (MCMC: of the running posterior
        mean, a sample added each time one is kept)."""
        if eval_data is None:
            return None, None, False
        X_arr, y_eval = eval_data
        mcmc = isinstance(solver, MCMCSolver)
        n_threads = resolve_n_threads(self.n_threads)
        link = self._link_of(self._check_params()["solver"])
        sums = {"total": 0.0, "n": 0}

        def evaluate():
            raw = predict(X_arr, solver.w0[0], solver.w, solver.V, n_threads)
            if not (mcmc and solver.n_kept > 0):
                pred = link(raw)
            else:  # posterior mean over the samples kept so far
                if solver.n_kept > sums["n"]:  # this sweep was kept
                    sums["total"], sums["n"] = sums["total"] + link(raw), solver.n_kept
                pred = sums["total"] / sums["n"]
            return {self._eval_name: self._eval_score(pred, y_eval)}

        return evaluate, {self._eval_name: np.nan}, False

    # ------------------------------------------------------------------ prediction
    def _mean_prediction(self, X, link=None):
        """``link`` (default: none) of the raw predictions, averaged over the MCMC samples one
        sample at a time (O(n) memory, not O(S n)); of the one model for the other solvers."""
        check_is_fitted(self)
        X = self._check_X(X, self.factors_.dtype, self.n_features_in_)
        arrays = csr_arrays(X)
        n_threads = resolve_n_threads(self.n_threads)
        if self.factors_samples_ is None:
            samples = [(self.intercept_, self.coef_, self.factors_)]
        else:
            samples = list(zip(self.intercept_samples_, self.coef_samples_,
                               self.factors_samples_, strict=True))
        total = 0.0
        for w0, w, V in samples:
            raw = predict(arrays, w0, w, V, n_threads)
            total = total + (raw if link is None else link(raw))
        return total / len(samples)

    def _link_of(self, solver):
        return lambda raw: raw


class FMRegressor(RegressorMixin, _BaseFM):
    __doc__ = r"""Factorization machine regression (squared error).

    Fits :math:`\hat y(x) = w_0 + \sum_j w_j x_j + \sum_{j<k} \langle v_j, v_k\rangle x_j x_k`
    to real targets, on a sparse (or dense) design matrix, e.g. one built by
    :class:`fastmf.fm_features.FMEncoder`.

    Parameters
    ----------""" + _PARAMS_DOC + """

    Attributes
    ----------""" + _ATTRS_DOC + """

    References
    ----------
    S. Rendle. Factorization machines with libFM. ACM TIST 3(3), 2012.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, fastmf
    >>> rng = np.random.default_rng(0)
    >>> X = sp.random(1000, 30, density=0.2, random_state=0, format="csr")
    >>> y = X @ rng.normal(size=30)
    >>> model = fastmf.FMRegressor(n_factors=4, n_iter=20, random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    _is_classifier = False
    _eval_name = "eval_rmse"

    def fit(self, X, y, *, eval_set=None):
        """Fit the model.

        Parameters
        ----------
        X : sparse matrix or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        eval_set : (X, y) tuple, optional
            Held-out data scored (RMSE) after every iteration into ``history_["eval_rmse"]``.

        Returns
        -------
        self
        """
        y = self._check_y(y, _n_rows(X))
        if not np.issubdtype(y.dtype, np.number) or y.dtype == bool:
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError("y must be numeric") from None
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("y must be finite: it contains NaN or inf")
        return self._fit(X, y, eval_set)

    def predict(self, X):
        """Predicted targets (MCMC: the posterior mean over the kept samples).

        Parameters
        ----------
        X : sparse matrix or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._mean_prediction(X)

    def _eval_target(self, y, fitted):
        return y.astype(np.float64)

    @staticmethod
    def _eval_score(pred, y):
        return float(np.sqrt(np.mean((pred - y) ** 2)))


class FMClassifier(ClassifierMixin, _BaseFM):
    __doc__ = r"""Factorization machine binary classification.

    The score :math:`\hat y(x)` of the FM model goes through a link: the logistic function
    with ``solver="sgd"`` (log-loss), the normal CDF :math:`\Phi` with ``"als"`` (EM for
    probit regression: each sweep fits the expected latent targets) and ``"mcmc"`` (probit
    Gibbs sampling, as libFM and myFM). Exactly two classes.

    Parameters
    ----------""" + _PARAMS_DOC + """

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    link_ : {"logit", "probit"}""" + _ATTRS_DOC + """

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, fastmf
    >>> X = sp.random(3000, 20, density=0.3, random_state=1, format="csr")
    >>> y = np.where(X @ np.random.default_rng(1).normal(size=20) > 0, "yes", "no")
    >>> clf = fastmf.FMClassifier(n_factors=2, n_iter=20, random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), bool(clf.score(X, y) > 0.9)
    (['no', 'yes'], True)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _is_classifier = True
    _fitted_arrays = ("factors_", "coef_", "classes_")
    _eval_name = "eval_logloss"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y, *, eval_set=None):
        """Fit the model.

        Parameters
        ----------
        X : sparse matrix or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels of exactly two classes.
        eval_set : (X, y) tuple, optional
            Held-out data scored (log-loss) after every iteration into
            ``history_["eval_logloss"]``.

        Returns
        -------
        self
        """
        y = self._check_y(y, _n_rows(X))
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y must be finite: it contains NaN or inf")
        if y.dtype.kind == "f" and np.any(y != np.round(y)) and len(np.unique(y)) > 2:
            raise ValueError("Unknown label type: continuous y; FMClassifier needs two classes")
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(f"Only binary classification is supported: y holds "
                             f"{len(classes)} classes")
        if len(classes) < 2:
            raise ValueError("y holds 1 class; FMClassifier needs exactly two classes")
        target = np.where(y == classes[1], 1.0, -1.0)
        return self._fit(X, target, eval_set, {"classes_": classes})

    def _eval_target(self, y, fitted):
        return np.where(y == fitted["classes_"][1], 1.0, 0.0)

    @staticmethod
    def _eval_score(prob, y):
        p = np.clip(prob, 1e-15, 1 - 1e-15)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    def _link_of(self, solver):
        if solver == "sgd":
            return lambda raw: 1.0 / (1.0 + np.exp(-raw))
        return ndtr

    def decision_function(self, X):
        """Score of the positive class ``classes_[1]``: the link's argument (MCMC: the
        score of the posterior-mean probability, so that it orders as ``predict_proba``).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        samples = getattr(self, "factors_samples_", None)
        if samples is None or len(samples) == 1:
            return self._mean_prediction(X)
        return ndtri(np.clip(self._mean_prediction(X, ndtr), 1e-300, 1 - 1e-16))

    def predict_proba(self, X):
        """Probabilities of ``classes_`` (MCMC: averaged over the kept samples).

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        p = self._mean_prediction(X, self._link_of(self.solver))
        return np.column_stack([1 - p, p])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class of each row."""
        positive = self.predict_proba(X)[:, 1] > 0.5
        return self.classes_[positive.astype(int)]


def _check_n_samples_features(shape, name):
    """scikit-learn's messages for an X without samples or features."""
    if shape[0] == 0:
        raise ValueError(f"{name} has 0 sample(s) (shape={shape}) while a minimum of 1 is "
                         "required.")
    if shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={shape}) while a minimum of 1 is "
                         "required.")


def _n_rows(X):
    if sp.issparse(X) and X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
    if sp.issparse(X) or hasattr(X, "shape"):
        return X.shape[0] if len(X.shape) else 0
    return len(np.asarray(X))


try:
    from sklearn.exceptions import DataConversionWarning
except ImportError:  # pragma: no cover
    DataConversionWarning = UserWarning

"""``BPR``: Bayesian personalised ranking of implicit feedback, by parallel SGD."""

import numpy as np

from ._init import random_factors
from ._kernels.bpr import UPDATE_POSITIVE, UPDATE_USER
from ._params import DEPRECATED, renamed
from ._solvers.bpr import epoch, positives
from ._validation import (
    check_bool,
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from .base import FactorModel

__all__ = ["BPR"]


class BPR(FactorModel):
    r"""Bayesian personalised ranking (Rendle et al. 2009) with item biases.

    For triples of a user :math:`u`, an item :math:`i` it interacted with and a sampled item
    :math:`j`, SGD minimises

    .. math::

        \sum_{(u,i,j)} -\ln \sigma(\hat x_{ui} - \hat x_{uj})
        + \lambda (\|w_u\|^2 + \|h_i\|^2 + \|h_j\|^2 + b_i^2 + b_j^2),
        \qquad \hat x_{ui} = w_u^\top h_i + b_i .

    An epoch draws ``nnz`` triples: a stored entry uniformly, then a negative item (uniform, or
    proportional to popularity). Threads update shared rows without locks (Hogwild).

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors k.
    n_iter : int, default=100
        Epochs.
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one epoch falls to ``tol`` or
        below (0: run all ``n_iter``).
    learning_rate : float, default=0.05
        SGD step size (> 0).
    reg : float, default=0.005
        L2 weight :math:`\lambda` (fastmf's one convention: loss plus
        :math:`\lambda \|\theta\|^2`; before fastmf 0.2 BPR's ``reg`` weighed
        :math:`\lambda/2`, so an old ``reg=r`` is ``reg=r/2`` now).
    verify_negative : bool, default=True
        Skip a triple whose sampled negative is one of the user's positives (a lookup in a
        hash set of the positive pairs, built once per fit: O(nnz) memory) instead of pushing
        a positive down.
    negatives : {"uniform", "popularity"}, default="uniform"
        How negatives are drawn: uniformly over items, or as the item of a random stored entry
        (proportional to popularity, as ``implicit`` does).
    init_scale : float, default=0.01
        Standard deviation of the normal initial factors (biases start at 0). (Old name
        ``init_std``: works until fastmf 0.3 with a FutureWarning.)
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads; ``None`` uses every core. The fit is deterministic for a given
        ``random_state`` only with ``n_threads=1`` (parallel updates race).
    random_state : int, numpy Generator or None, default=None
        Seed of the initial factors and of every epoch's random streams.
    verbose : bool, default=False
    warm_start : bool, default=False
        Continue from the fitted factors on the next ``fit`` (same data shape).
    early_stopping_rounds : int or None, default=None
        With an ``eval_set``: stop when its nDCG@10 has not improved for this many epochs
        and keep the best epoch's factors (``best_iteration_``).
    backend : {"cpu", "cuda"}, default="cpu"
        Where ``fit`` runs: ``"cuda"`` on an NVIDIA GPU (``loss="bpr"`` only). It needs
        the ``cuda`` extra, a driver and a device, else
        :class:`fastmf.cuda.CudaUnavailableError` names what is missing. The data move to the
        device once per fit and the factors come back to host arrays at its end;
        ``recommend``, fold-in and scoring run on the CPU.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    item_bias_ : ndarray of shape (n_items,)
    user_bias_ : None
    global_mean_ : float
        Always 0: scores are :math:`w_u^\top h_i + b_i`.
    history_ : dict of lists
        Per epoch: ``train_loss``, the objective above over the epoch's triples (the
        :math:`-\ln\sigma` terms as measured before each step, estimated on every 16th
        triple), ``skipped`` (triples whose negative was a positive), ``seconds`` and, with
        an ``eval_set``, ``eval_ndcg@10`` and ``eval_precision@10``.
    n_iter_ : int

    References
    ----------
    Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian personalized ranking from
    implicit feedback", UAI 2009.

    Examples
    --------
    >>> import fastmf
    >>> counts = fastmf.datasets.make_counts(200, 80, rank=4, random_state=0)
    >>> model = fastmf.BPR(n_factors=8, n_iter=5, n_threads=1, random_state=0).fit(counts)
    >>> model.recommend(0, n=3, exclude=counts)[0].shape
    (3,)
    """

    _nonnegative_input = True
    _eval_kind = "positives"
    #: The fitted attributes a warm start continues from.
    _fitted_names = ("user_factors_", "item_factors_", "item_bias_", "user_bias_",
                     "global_mean_")

    def __init__(self, n_factors=64, *, n_iter=100, tol=0.0, learning_rate=0.05, reg=0.005,
                 verify_negative=True, negatives="uniform", init_scale=0.01, dtype="float32",
                 n_threads=None, random_state=None, verbose=False, warm_start=False,
                 early_stopping_rounds=None, backend="cpu", init_std=DEPRECATED):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.reg = reg
        self.verify_negative = verify_negative
        self.negatives = negatives
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds
        self.backend = backend
        self.init_std = init_std

    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solver reads."""
        check_option(getattr(self, "backend", "cpu"), "backend", ("cpu", "cuda"))
        return dict(
            n_factors=check_int_param(self.n_factors, "n_factors", low=1),
            n_iter=check_int_param(self.n_iter, "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            learning_rate=check_float_param(self.learning_rate, "learning_rate", low=0,
                                            low_open=True),
            reg=check_float_param(self.reg, "reg", low=0),
            verify_negative=check_bool(self.verify_negative, "verify_negative"),
            negatives=check_option(self.negatives, "negatives", ("uniform", "popularity")),
            init_scale=check_float_param(renamed(self, "init_std", "init_scale"),
                                         "init_scale", low=0),
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
            Interactions: every stored positive entry is a positive (values only need to be
            non-negative; zeros count as absent), or [user, item] pairs with values in ``y``.
        y : array-like of shape (n,), optional
        eval_set : Ratings or sparse matrix of shape (n_users, n_items), optional
            Held-out interactions: after every epoch ``history_`` records nDCG@10 and
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
            raise ValueError(f"X must be non-negative (interactions): found "
                             f"{ratings.values[pos]} for user {ratings.users[pos]}, item "
                             f"{ratings.items[pos]}")
        if not (ratings.values > 0).any():
            raise ValueError(f"X has no positive entries: {type(self).__name__} needs at least "
                             "one interaction")
        if ratings.n_items < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 items to sample negatives")
        if p["early_stopping_rounds"] is not None and eval_set is None:
            raise ValueError("early_stopping_rounds needs an eval_set")
        eval_data = self._eval_data(eval_set, ratings)
        rng = check_random_state(self.random_state)
        if self._warm:
            self._check_warm_start(ratings, p["n_factors"], p["dtype"])
            state = self._warm_state(self._fitted_names)
        else:
            k, dtype, scale = p["n_factors"], p["dtype"], p["init_scale"]
            state = {"user_factors_": random_factors(rng, (ratings.n_users, k), dtype, scale),
                     "item_factors_": random_factors(rng, (ratings.n_items, k), dtype, scale),
                     "item_bias_": np.zeros(ratings.n_items, dtype), "user_bias_": None,
                     "global_mean_": 0.0}
        return self._fit_solver("sgd", ratings, state, p, rng, ratings, eval_data=eval_data,
                                tol=p["tol"], early_stopping_rounds=p["early_stopping_rounds"])

    def _fold_accumulators(self, n_rows, side):
        """Step-size accumulators of a fold-in: fresh ones for the ``n_rows`` new rows of
        ``side`` ("user" or "item"), copies of the fitted ones for the other side (frozen, but
        the kernel writes to them); None for a constant step."""
        if getattr(self, "user_adagrad_", None) is None:
            return None
        users, items = self.user_adagrad_.copy(), self.item_adagrad_.copy()
        fresh = np.ones(n_rows)
        return (fresh, items) if side == "user" else (users, np.concatenate([items, fresh]))

    def _fold_rng(self):
        return check_random_state(self.random_state if isinstance(self.random_state, int)
                                  else 0)

    def _fold_in_users(self, X):
        """User factors for the rows of ``X`` by ``n_iter`` SGD epochs with the items frozen.

        Starts from zero and draws from a stream seeded by ``random_state``; the result
        approximates (it does not reproduce) a trained user's row.
        """
        p = self._check_params()
        H = self.item_factors_
        entries = positives(X, p["verify_negative"])
        W = np.zeros((X.shape[0], H.shape[1]), H.dtype)
        if len(entries[1]):
            rng = self._fold_rng()
            accum = self._fold_accumulators(X.shape[0], "user")
            for _ in range(p["n_iter"]):
                epoch(entries, W, H, self.item_bias_, rng, p, UPDATE_USER, H.shape[0], accum)
        return {"user_factors_": W}

    def _fold_in_items(self, X):
        """Factors and biases of new items (rows of ``X``: their users) by ``n_iter`` SGD
        epochs on triples (u, new item, trained negative) with everything trained frozen.

        Negatives are drawn uniformly from the trained items without the positive check
        (the training pairs are not kept with the model)."""
        p = dict(self._check_params(), negatives="uniform")
        H, b, n = self.item_factors_, self.item_bias_, self.n_items_
        _, users, new_items, _ = positives(X, False)  # X's rows: new items; columns: users
        H_all = np.vstack([H, np.zeros((X.shape[0], H.shape[1]), H.dtype)])
        b_all = np.concatenate([b, np.zeros(X.shape[0], b.dtype)])
        if len(users):  # a triple's positive is new item n + r, its user a trained one
            entries = (np.zeros(0, X.indptr.dtype), (new_items + n).astype(users.dtype), users,
                       np.zeros(0, np.int64))
            rng = self._fold_rng()
            accum = self._fold_accumulators(X.shape[0], "item")
            for _ in range(p["n_iter"]):
                epoch(entries, self.user_factors_, H_all, b_all, rng, p, UPDATE_POSITIVE, n,
                      accum)
        return {"item_factors_": H_all[n:], "item_bias_": b_all[n:]}

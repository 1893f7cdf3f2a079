"""``BPR``: Bayesian personalised ranking of implicit feedback, by parallel SGD."""

import numpy as np

from ._config import threads
from ._init import random_factors
from ._kernels.bpr import bpr_epoch, pair_set
from ._validation import (
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
    check_sparse_matrix,
)
from .base import FactorModel

__all__ = ["BPR"]

#: Chunks (independent random streams) per epoch: fixed, so a seed means the same samples for
#: any thread count.
N_STREAMS = 256


class BPR(FactorModel):
    r"""Bayesian personalised ranking (Rendle et al. 2009) with item biases.

    For triples of a user :math:`u`, an item :math:`i` it interacted with and a sampled item
    :math:`j`, SGD maximises

    .. math::

        \sum_{(u,i,j)} \ln \sigma(\hat x_{ui} - \hat x_{uj})
        - \frac{\lambda}{2} (\|w_u\|^2 + \|h_i\|^2 + \|h_j\|^2 + b_i^2 + b_j^2),
        \qquad \hat x_{ui} = w_u^\top h_i + b_i .

    An epoch draws ``nnz`` triples: a stored entry uniformly, then a negative item (uniform, or
    proportional to popularity). Threads update shared rows without locks (Hogwild).

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors k.
    n_iter : int, default=100
        Epochs.
    learning_rate : float, default=0.05
        SGD step size (> 0).
    reg : float, default=0.01
        L2 weight :math:`\lambda`.
    verify_negative : bool, default=True
        Skip a triple whose sampled negative is one of the user's positives (a lookup in a
        hash set of the positive pairs, built once per fit: O(nnz) memory) instead of pushing
        a positive down.
    negatives : {"uniform", "popularity"}, default="uniform"
        How negatives are drawn: uniformly over items, or as the item of a random stored entry
        (proportional to popularity, as ``implicit`` does).
    init_std : float, default=0.01
        Standard deviation of the normal initial factors (biases start at 0).
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads; ``None`` uses every core. The fit is deterministic for a given
        ``random_state`` only with ``n_threads=1`` (parallel updates race).
    random_state : int, numpy Generator or None, default=None
        Seed of the initial factors and of every epoch's random streams.
    verbose : bool, default=False
    warm_start : bool, default=False
        Continue from the fitted factors on the next ``fit`` (same data shape).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    item_bias_ : ndarray of shape (n_items,)
    user_bias_ : None
    global_mean_ : float
        Always 0: scores are :math:`w_u^\top h_i + b_i`.
    history_ : dict of lists
        Per epoch: ``train_loss``, the mean of :math:`-\ln\sigma(\hat x_{uij})` over the
        epoch's triples (before each step, without the penalty; estimated on every 16th
        triple), ``skipped`` (triples whose negative was a positive) and ``seconds``.
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

    def __init__(self, n_factors=64, *, n_iter=100, learning_rate=0.05, reg=0.01,
                 verify_negative=True, negatives="uniform", init_std=0.01, dtype="float32",
                 n_threads=None, random_state=None, verbose=False, warm_start=False):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.reg = reg
        self.verify_negative = verify_negative
        self.negatives = negatives
        self.init_std = init_std
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _check_params(self):
        check_int_param(self.n_factors, "n_factors", low=1)
        check_int_param(self.n_iter, "n_iter", low=1)
        check_float_param(self.learning_rate, "learning_rate", low=0, low_open=True)
        check_float_param(self.reg, "reg", low=0)
        if not isinstance(self.verify_negative, (bool, np.bool_)):
            raise TypeError(f"verify_negative must be True or False, got "
                            f"{self.verify_negative!r}")
        check_option(self.negatives, "negatives", ("uniform", "popularity"))
        check_float_param(self.init_std, "init_std", low=0)
        return check_dtype(self.dtype)

    def fit(self, X, y=None):
        """Fit the model.

        Parameters
        ----------
        X : Ratings, sparse matrix of shape (n_users, n_items), or array of shape (n, 2)
            Interactions: every stored positive entry is a positive (values only need to be
            non-negative; zeros count as absent), or [user, item] pairs with values in ``y``.
        y : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        dtype = self._check_params()
        ratings = self._validate_data(X, y)
        positives = _positives(ratings.csr, "X", self.verify_negative)
        if ratings.n_items < 2:
            raise ValueError("BPR needs at least 2 items to sample negatives")
        rng = check_random_state(self.random_state)
        if self._warm:
            self._check_warm_start(ratings, dtype)
        else:
            self._set_index_space(ratings)
            k, std = self.n_factors, self.init_std
            self.user_factors_ = random_factors(rng, (ratings.n_users, k), dtype, std)
            self.item_factors_ = random_factors(rng, (ratings.n_items, k), dtype, std)
            self.item_bias_ = np.zeros(ratings.n_items, dtype)
            self.user_bias_ = None
            self.global_mean_ = 0.0
        skipped = []

        def step():
            loss, n_skip = self._epoch(positives, self.user_factors_, rng, True)
            skipped.append(n_skip)
            return loss

        with threads(self.n_threads):
            self._iterate(step, self.n_iter,
                          [self.user_factors_, self.item_factors_, self.item_bias_],
                          divergence_hint="lower learning_rate")
        previous = self.history_.get("skipped", []) if self._warm else []
        self.history_["skipped"] = (previous + skipped)[:len(self.history_["train_loss"])]
        return self

    def _epoch(self, positives, W, rng, update_items):
        indices, rows, pairs = positives
        seeds = rng.integers(0, 2**63, size=N_STREAMS, dtype=np.uint64)
        total, counted, n_skip = bpr_epoch(indices, rows, W, self.item_factors_,
                                           self.item_bias_, len(indices), seeds,
                                           float(self.learning_rate), float(self.reg), pairs,
                                           self.negatives == "popularity", update_items)
        return total / max(1, counted), int(n_skip)

    def _fold_in(self, X):
        """User factors for the rows of ``X`` by ``n_iter`` SGD epochs with the items frozen.

        Starts from zero and draws from a stream seeded by ``random_state``; the result
        approximates (it does not reproduce) a trained user's row.
        """
        X = check_sparse_matrix(X, "X", nonnegative=True)
        positives = _positives(X, "X", self.verify_negative, allow_empty=True)
        W = np.zeros((X.shape[0], self.item_factors_.shape[1]), self.item_factors_.dtype)
        if len(positives[0]):
            rng = check_random_state(self.random_state if isinstance(self.random_state, int)
                                     else 0)
            for _ in range(self.n_iter):
                self._epoch(positives, W, rng, False)
        return W


def _positives(X, name, verify, allow_empty=False):
    """(column, row) of each positive entry of a CSR matrix, and their
    :func:`~fastmf._kernels.bpr.pair_set` when ``verify`` (else an empty array)."""
    X = X.copy()
    if X.nnz and X.data.min() < 0:
        raise ValueError(f"{name} must hold non-negative interactions; found "
                         f"{X.data.min()}")
    X.eliminate_zeros()
    X.sort_indices()
    if X.nnz == 0 and not allow_empty:
        raise ValueError(f"{name} has no positive entries: BPR needs at least one interaction")
    rows = np.repeat(np.arange(X.shape[0], dtype=X.indices.dtype), np.diff(X.indptr))
    pairs = pair_set(X.indptr, X.indices, X.shape[1]) if verify else np.zeros(0, np.int64)
    return X.indices, rows, pairs

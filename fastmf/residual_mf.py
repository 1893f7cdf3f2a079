"""``ResidualMF``: biased matrix factorization plus an MLP over the same embeddings."""

import numbers

import numpy as np

from ._init import random_factors
from ._kernels.nn import n_params
from ._kernels.residual_mf import (
    residual_mf_fold_in,
    residual_mf_item_half,
    residual_mf_predict,
    residual_mf_scores,
)
from ._solvers.residual_mf import network
from ._validation import (
    check_bool,
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from .base import Recommender

__all__ = ["ResidualMF"]

SOLVERS = ("sgd", "adam")
HIDDEN_ACTIVATIONS = ("elu", "relu", "tanh", "sigmoid", "identity")
#: Fold-in: full-batch gradient steps per new row, their step size and momentum (on the mean
#: loss of the row's ratings, from the closed-form MF rows as the start).
FOLD_IN_STEPS, FOLD_IN_LR, FOLD_IN_MOMENTUM = 50, 0.1, 0.9


class ResidualMF(Recommender):
    r"""Residual learning on top of biased MF: an MLP over the user's and the item's
    embeddings learns what their inner product misses.

    .. math::

        \hat r_{ui} = \mu + b_u + c_i + p_u^\top q_i + g([p_u, q_i])

    with :math:`g` an MLP (``hidden_layers`` of ``activation`` units and a linear output) whose
    input is the concatenation of the **same** embeddings the inner product uses. Training
    fits :math:`r - \mu` by minibatch SGD with momentum (the course recipe: learning rate 0.08,
    momentum 0.9, batches of 128) or Adam, minimising

    .. math::

        \sum_{(u,i)} \Big[(r_{ui} - \hat r_{ui})^2 + \lambda (\|p_u\|^2 + \|q_i\|^2)
        + \lambda_b (b_u^2 + c_i^2) + \lambda_g \|\theta\|^2\Big]

    (L2 per rating, as ``MatrixFactorization(solver="sgd")`` does; :math:`\theta`: every MLP
    weight and bias). Each batch follows the gradient of the batch's mean of that sum; the
    embedding tables get lazy row-sparse steps (only the rows in the batch move, see
    :mod:`fastmf._kernels.nn`), the MLP dense steps. The result for a ``random_state`` is the
    same at any thread count.

    It is not an inner-product model: ``recommend`` scores a block of users against every item
    with the first MLP layer split into its user and item halves, the item half computed once
    for all items, so a (user, item) pair costs one vector add plus the small layers; memory
    stays O(block x items). ``transform`` folds in new users: their embedding and bias start at
    the closed-form MF solution (items fixed, the MLP ignored) and take 50 full-batch gradient
    steps on the objective above with everything else frozen; ``partial_fit_items`` does the
    same for items. Unknown users or items are predicted :math:`\mu` plus the known biases.

    Parameters
    ----------
    n_factors : int, default=64
        Size k of the embeddings.
    hidden_layers : tuple of int, default=(400,)
        Units of each hidden layer of the MLP (``()``: plain biased MF).
    activation : {"elu", "relu", "tanh", "sigmoid", "identity"}, default="elu"
        Activation of the hidden layers.
    solver : {"sgd", "adam"}, default="sgd"
        Minibatch SGD with heavy-ball ``momentum`` (PyTorch's convention), or Adam (which
        wants a ``learning_rate`` near 0.001).
    n_iter : int, default=20
        Epochs.
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one epoch falls to ``tol`` or
        below (0: run all ``n_iter``).
    reg : float, default=0.05
        L2 weight :math:`\lambda` on the embeddings.
    reg_bias : float, default=0.05
        L2 weight :math:`\lambda_b` on the biases.
    reg_mlp : float, default=0.0001
        L2 weight :math:`\lambda_g` on the MLP's weights (PyTorch's ``weight_decay``).
    learning_rate : float, default=0.08
    momentum : float in [0, 1), default=0.9
        ``"sgd"`` only.
    batch_size : int, default=128
        Ratings per minibatch.
    init_scale : float, default=0.1
        Standard deviation of the normal initial embeddings; hidden layers start at
        N(0, 1 / fan-in), the output layer and every bias at 0 (the model starts as MF).
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads for the parallel kernels; ``None`` uses every core.
    random_state : int, numpy Generator or None, default=None
        Seed of the initial weights and of the minibatch order.
    verbose : bool, default=False
        Show a progress bar.
    warm_start : bool, default=False
        Continue from the fitted weights and optimiser state on the next ``fit`` (same data
        shape): 5 + 5 epochs equal 10.
    early_stopping_rounds : int or None, default=None
        Stop when the eval RMSE of ``eval_set`` has not improved for this many epochs and
        keep the best epoch's weights (``best_iteration_``).
    clip : bool, default=True
        Clip ``predict`` (and the eval RMSE) to the range of the training ratings.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
        :math:`p_u`.
    item_factors_ : ndarray of shape (n_items, n_factors)
        :math:`q_i`.
    user_bias_, item_bias_ : ndarray of shape (n_users,), (n_items,)
    global_mean_ : float
    mlp_weights_ : ndarray of shape (n_weights,)
        :math:`\theta`: ``W_0, b_0, W_1, b_1, ...`` one after the other, ``W_l`` of shape
        (n_in, n_out) row-major (see :mod:`fastmf._kernels.nn`).
    history_ : dict of lists
        Per epoch: ``train_loss`` (the objective above, each squared error measured before
        its batch's step), ``seconds`` and, with an ``eval_set``, ``eval_rmse`` and
        ``eval_unknown``.
    n_iter_ : int
    user_ids_, item_ids_ : ndarray or None
    rating_range_ : list of two floats

    Raises
    ------
    FloatingPointError
        From ``fit``, when the objective stops being finite: the model of the last finite
        epoch is kept, and the message says what to lower.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 8000, random_state=0)
    >>> train, test = fastmf.model_selection.train_test_split(data, random_state=0)
    >>> model = fastmf.ResidualMF(n_factors=8, hidden_layers=(16,), n_iter=10,
    ...                           random_state=0).fit(train, eval_set=test)
    >>> bool(model.history_["eval_rmse"][-1] < test.values.std())
    True
    >>> items, scores = model.recommend([0, 1], n=5, exclude=train)
    >>> items.shape, bool((scores[:, :-1] >= scores[:, 1:]).all())
    ((2, 5), True)
    """

    _fitted_arrays = ("user_factors_", "item_factors_", "mlp_weights_")
    _user_arrays = ("user_factors_", "user_bias_")
    _item_arrays = ("item_factors_", "item_bias_")

    def __init__(self, n_factors=64, *, hidden_layers=(400,), activation="elu", solver="sgd",
                 n_iter=20, tol=0.0, reg=0.05, reg_bias=0.05, reg_mlp=0.0001,
                 learning_rate=0.08, momentum=0.9, batch_size=128, init_scale=0.1,
                 dtype="float32", n_threads=None, random_state=None, verbose=False,
                 warm_start=False, early_stopping_rounds=None, clip=True):
        self.n_factors = n_factors
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.solver = solver
        self.n_iter = n_iter
        self.tol = tol
        self.reg = reg
        self.reg_bias = reg_bias
        self.reg_mlp = reg_mlp
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds
        self.clip = clip

    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solver reads."""
        p = dict(
            n_factors=check_int_param(self.n_factors, "n_factors", low=1),
            hidden_layers=check_layers(self.hidden_layers, "hidden_layers"),
            activation=check_option(self.activation, "activation", HIDDEN_ACTIVATIONS),
            solver=check_option(self.solver, "solver", SOLVERS),
            n_iter=check_int_param(self.n_iter, "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            reg=check_float_param(self.reg, "reg", low=0),
            reg_bias=check_float_param(self.reg_bias, "reg_bias", low=0),
            reg_mlp=check_float_param(self.reg_mlp, "reg_mlp", low=0),
            learning_rate=check_float_param(self.learning_rate, "learning_rate", low=0,
                                            low_open=True),
            momentum=check_float_param(self.momentum, "momentum", low=0, high=1,
                                       high_open=True),
            batch_size=check_int_param(self.batch_size, "batch_size", low=1),
            init_scale=check_float_param(self.init_scale, "init_scale", low=0),
            dtype=check_dtype(self.dtype),
            early_stopping_rounds=check_int_param(self.early_stopping_rounds,
                                                  "early_stopping_rounds", low=1,
                                                  allow_none=True),
            clip=check_bool(self.clip, "clip"),
        )
        if p["solver"] == "adam":
            p["momentum"] = 0.0
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
            Held-out ratings scored after every epoch (``history_["eval_rmse"]``).

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
        sizes, _ = network(p)
        if self._warm:
            self._check_warm_start(ratings, p["n_factors"], p["dtype"])
            if len(self.mlp_weights_) != n_params(sizes):
                raise ValueError("warm_start needs the same hidden_layers; the fitted MLP has "
                                 f"{len(self.mlp_weights_)} weights, {tuple(p['hidden_layers'])}"
                                 f" needs {n_params(sizes)}")
            state = self._warm_state(_STATE)
            p["first_iter"] = self.n_iter_
        else:
            state = self._init_state(ratings, p, rng, sizes)
            p["first_iter"] = 0
        return self._fit_solver(p["solver"], ratings, state, p, rng, ratings,
                                eval_data=eval_data, blas=1, tol=p["tol"],
                                early_stopping_rounds=p["early_stopping_rounds"])

    def _init_state(self, ratings, p, rng, sizes):
        k, dt, scale = p["n_factors"], p["dtype"], p["init_scale"]
        theta = np.zeros(n_params(sizes), dt)
        w = 0
        for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            if layer < len(sizes) - 2:  # hidden layers; the output layer starts at 0
                theta[w:w + n_in * n_out] = random_factors(
                    rng, (n_in, n_out), dt, 1.0 / np.sqrt(n_in)).ravel()
            w += n_in * n_out + n_out
        return {"user_factors_": random_factors(rng, (ratings.n_users, k), dt, scale),
                "item_factors_": random_factors(rng, (ratings.n_items, k), dt, scale),
                "user_bias_": np.zeros(ratings.n_users, dt),
                "item_bias_": np.zeros(ratings.n_items, dt),
                "mlp_weights_": theta, "global_mean_": float(np.mean(ratings.values))}

    # ------------------------------------------------------------------ prediction
    def _net(self):
        return network(self._check_params())

    def _fallback(self, users, items):
        pred = np.full(len(users), float(self.global_mean_))
        ku, ki = users >= 0, items >= 0
        pred[ku] += self.user_bias_[users[ku]]
        pred[ki] += self.item_bias_[items[ki]]
        return pred

    def _score_pairs(self, users, items):
        out = np.empty(len(users), self.user_factors_.dtype)
        residual_mf_predict(users, items, self.user_factors_, self.item_factors_,
                            self.user_bias_, self.item_bias_, self.mlp_weights_, *self._net(),
                            out)
        return out + float(self.global_mean_)

    def _user_queries(self, users):
        return self._folded_queries({"user_factors_": self.user_factors_[users],
                                     "user_bias_": self.user_bias_[users]})

    def _folded_queries(self, state):
        return (np.ascontiguousarray(state["user_factors_"]),
                np.ascontiguousarray(state["user_bias_"]))

    def _query_offsets(self, users, n):
        return np.full(n, float(self.global_mean_))

    def _score_dtype(self):
        return self.user_factors_.dtype

    def _factors_changed(self):
        self._item_half = None

    def _score_queries(self, Q, start, stop, out):
        P, bu = Q
        sizes, codes = self._net()
        if getattr(self, "_item_half", None) is None:
            self._item_half = np.empty((self.n_items_, sizes[1]), P.dtype)
            residual_mf_item_half(self.item_factors_, self.mlp_weights_, sizes, self._item_half)
        residual_mf_scores(np.arange(start, stop), P, self.item_factors_, bu,
                           self.item_bias_, self.mlp_weights_, sizes, codes, self._item_half,
                           out)

    # ------------------------------------------------------------------ fold-in
    def _fold_in(self, X, other, other_bias, own_rows, mf_start):
        """Embeddings and biases of new rows ``X`` (CSR over the other side) by gradient
        steps from ``mf_start`` = (embeddings, biases), the other side and the MLP frozen."""
        p = self._check_params()
        sizes, codes = network(p)
        E, b = mf_start
        k, h = p["n_factors"], sizes[1]
        theta = self.mlp_weights_
        W0 = theta[:2 * k * h].reshape(2 * k, h)  # the first layer (the output one without a
        b0 = theta[2 * k * h:2 * k * h + h]       # hidden layer)
        W_own, W_other = (W0[:k], W0[k:]) if own_rows == "user" else (W0[k:], W0[:k])
        other_half = other @ W_other + b0
        dt = E.dtype
        y = (X.data - float(self.global_mean_)).astype(dt)
        residual_mf_fold_in(X.indptr, X.indices, y, other, other_bias,
                            np.ascontiguousarray(other_half, dt), np.ascontiguousarray(W_own),
                            theta, sizes, codes, p["reg"], p["reg_bias"], FOLD_IN_LR,
                            FOLD_IN_MOMENTUM, FOLD_IN_STEPS, E, b)
        return E, b

    def _fold_in_users(self, X):
        from ._solvers.mf_als import fold_in

        p = self._check_params()
        start = fold_in(X, self.item_factors_, self.item_bias_, self.global_mean_, p["reg"],
                        p["reg_bias"], 1.0)
        W, b = self._fold_in(X, self.item_factors_, self.item_bias_, "user",
                             (start["user_factors_"], start["user_bias_"]))
        return {"user_factors_": W, "user_bias_": b}

    def _fold_in_items(self, X):
        from ._solvers.mf_als import fold_in

        p = self._check_params()
        start = fold_in(X, self.user_factors_, self.user_bias_, self.global_mean_, p["reg"],
                        p["reg_bias"], 1.0)
        H, c = self._fold_in(X, self.user_factors_, self.user_bias_, "item",
                             (start["user_factors_"], start["user_bias_"]))
        return {"item_factors_": H, "item_bias_": c}


def check_layers(layers, name):
    """A layer spec: a tuple (or list) of positive ints, returned as a tuple."""
    if not isinstance(layers, (tuple, list)) or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, (bool, np.bool_))
            for n in layers):
        raise TypeError(f"{name} must be a tuple of positive ints (units per hidden layer), "
                        f"got {layers!r}")
    if any(n < 1 for n in layers):
        raise ValueError(f"{name} must be a tuple of positive ints (units per hidden layer), "
                         f"got {tuple(layers)!r}")
    return tuple(int(n) for n in layers)


#: The fitted attributes a warm start continues (the optimiser state included).
_STATE = ("user_factors_", "item_factors_", "user_bias_", "item_bias_", "mlp_weights_",
          "global_mean_", "shuffle_seed_", "optimizer_steps_", "opt_user_factors_",
          "opt_item_factors_", "opt_user_bias_", "opt_item_bias_", "opt_mlp_weights_")

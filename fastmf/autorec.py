"""``AutoRec``: autoencoder collaborative filtering (Sedhain et al. 2015), sparse end to end."""

import numpy as np

from ._init import random_factors
from ._kernels.nn import ACTIVATIONS, SIGMOID, activate
from ._solvers.autorec import encode, sides
from ._validation import (
    check_bool,
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from .base import FactorModel

__all__ = ["AutoRec"]

SOLVERS = ("lbfgs", "adam", "sgd")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "elu", "identity")


class AutoRec(FactorModel):
    r"""AutoRec: each item's (or user's) vector of ratings through a one-hidden-layer
    autoencoder, trained and evaluated at the observed entries only.

    I-AutoRec (``kind="item"``, the default) encodes item :math:`i`'s ratings
    :math:`r_i \in \mathbb{R}^{n_{users}}` (missing entries are zero) and reconstructs them:

    .. math::

        h_i = f(V^\top r_i + \mu), \qquad \hat r_{ui} = b_u + W_u^\top h_i

    minimising, over the observed entries :math:`O`,

    .. math::

        \sum_{(u,i) \in O} (r_{ui} - \hat r_{ui})^2 + \lambda (\|W\|_F^2 + \|V\|_F^2)

    with :math:`\lambda` = ``reg`` (the paper writes :math:`\lambda' / 2` with
    :math:`\lambda' = 2\lambda`; the biases are not penalised). The encoder multiplies each
    sparse row by :math:`V` and the decoder is evaluated only at the observed entries, so an
    evaluation costs O(nnz h + (n_users + n_items) h), never users x items. U-AutoRec
    (``kind="user"``) is the same with the roles of users and items swapped.

    At prediction time it is a factor model: for I-AutoRec the codes :math:`h_i` are the item
    factors and the decoder rows :math:`W_u` the user factors, with user bias :math:`b_u`; so
    ``recommend``, ``similar_items`` (cosine of the codes), save/load and both scikit-learn
    views work as for every other model. ``transform`` folds in new users: for I-AutoRec the
    exact ridge solution of their decoder row and bias with the codes held fixed; for
    U-AutoRec the encoder itself. New items are folded in likewise (for I-AutoRec: their code).
    Unknown users or items: a pair whose decoded side (the user for I-AutoRec) is unknown is
    predicted as the mean training rating; a known user with an unknown item gets the code of
    an item without ratings, :math:`b_u + W_u^\top f(\mu)`.

    Parameters
    ----------
    n_hidden : int, default=500
        Size h of the hidden layer (the rank of the factor model).
    kind : {"item", "user"}, default="item"
        I-AutoRec (encode items) or U-AutoRec (encode users). The paper reports I-AutoRec
        clearly better (ML-1M test RMSE 0.831 vs 0.874).
    activation : {"sigmoid", "tanh", "relu", "elu", "identity"}, default="sigmoid"
        Hidden activation f (the output is linear).
    solver : {"lbfgs", "adam", "sgd"}, default="lbfgs"
        ``"lbfgs"``: full-batch L-BFGS (curvature memory 10, as the authors' code) on the
        exact objective, one iteration per ``n_iter``: fastmf's own, with parallel vector
        work in ``dtype`` and a backtracking line search (see
        :mod:`fastmf._solvers.lbfgs`: on MovieLens-100k its own work per iteration takes
        about a sixth of SciPy L-BFGS-B's, which took twice the objective's time).
        ``"adam"`` / ``"sgd"`` (with ``momentum``): minibatches of ``batch_size`` rows, each
        step following the batch's estimate of the objective divided by the number of rows
        (the weight decay spread over the batches), every weight stepped densely.
    n_iter : int, default=200
        L-BFGS iterations, or epochs for ``"adam"`` / ``"sgd"``.
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one iteration falls to ``tol``
        or below (0: run all ``n_iter``).
    reg : float, default=150.0
        L2 weight :math:`\lambda` on both weight matrices (the paper's
        :math:`\lambda' = 300`; see benchmarks/RESULTS.md for MovieLens).
    init_scale : float, default=0.03
        Standard deviation of the normal initial weights; the biases start at 0 (decoder
        bias: at the mean rating).
    learning_rate : float, default=0.001
        ``"adam"`` / ``"sgd"`` only: the step size.
    momentum : float in [0, 1), default=0.9
        ``"sgd"`` only: heavy-ball momentum (PyTorch's convention, no dampening).
    batch_size : int, default=32
        ``"adam"`` / ``"sgd"`` only: rows (items for I-AutoRec) per minibatch.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the weights, of the kernels' arithmetic and of L-BFGS's stored vectors
        (their dot products are summed in float64).
    n_threads : int or None, default=None
        Threads for the parallel kernels; ``None`` uses every core. The result does not
        depend on it: every sum runs in an order fixed by the data.
    random_state : int, numpy Generator or None, default=None
        Seed of the initial weights (and of the minibatch order).
    verbose : bool, default=False
        Show a progress bar.
    warm_start : bool, default=False
        Continue from the fitted weights on the next ``fit`` (same data shape). With
        ``"adam"`` / ``"sgd"`` the optimiser state continues too (5 + 5 epochs equal 10);
        L-BFGS starts its curvature memory afresh.
    early_stopping_rounds : int or None, default=None
        Stop when the eval RMSE of ``eval_set`` has not improved for this many iterations and
        keep the best iteration's weights (``best_iteration_``).
    clip : bool, default=True
        Clip ``predict`` (and the eval RMSE) to the range of the training ratings.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_hidden)
        I-AutoRec: the decoder rows :math:`W_u`; U-AutoRec: the users' codes.
    item_factors_ : ndarray of shape (n_items, n_hidden)
        I-AutoRec: the items' codes :math:`h_i`; U-AutoRec: the decoder rows.
    user_bias_, item_bias_ : ndarray or None
        The decoder bias on its side (I-AutoRec: ``user_bias_``), None on the other.
    encoder_weights_ : ndarray of shape (n_users, n_hidden) (I-AutoRec) or (n_items, n_hidden)
        :math:`V`.
    encoder_bias_ : ndarray of shape (n_hidden,)
        :math:`\mu`.
    global_mean_ : float
        Always 0 (the decoder bias holds the offsets).
    rating_mean_ : float
        The mean training rating: the prediction for an unknown user (I-AutoRec).
    history_ : dict of lists
        Per iteration: ``train_loss`` (the objective above; for minibatches each squared
        error is measured before its batch's step), ``seconds`` and, with an ``eval_set``,
        ``eval_rmse`` and ``eval_unknown``.
    n_iter_ : int
    user_ids_, item_ids_ : ndarray or None
    rating_range_ : list of two floats

    Raises
    ------
    FloatingPointError
        From ``fit``, when the objective stops being finite (minibatch solvers with too large a
        ``learning_rate``): the model of the last finite epoch is kept, and the message says
        what to lower.

    References
    ----------
    Sedhain, Menon, Sanner & Xie, "AutoRec: Autoencoders Meet Collaborative Filtering",
    WWW 2015.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(200, 100, 4000, noise=0.1, discrete=False,
    ...                                    random_state=0)
    >>> train, test = fastmf.model_selection.train_test_split(data, random_state=0)
    >>> model = fastmf.AutoRec(n_hidden=16, reg=1.0, n_iter=200, random_state=0)
    >>> model = model.fit(train, eval_set=test)
    >>> bool(model.history_["eval_rmse"][-1] < 0.8 * test.values.std())
    True
    >>> items, scores = model.recommend([0, 1], n=5, exclude=train)
    >>> items.shape
    (2, 5)
    """

    def __init__(self, n_hidden=500, *, kind="item", activation="sigmoid", solver="lbfgs",
                 n_iter=200, tol=0.0, reg=150.0, init_scale=0.03, learning_rate=0.001,
                 momentum=0.9, batch_size=32, dtype="float32", n_threads=None,
                 random_state=None, verbose=False, warm_start=False,
                 early_stopping_rounds=None, clip=True):
        self.n_hidden = n_hidden
        self.kind = kind
        self.activation = activation
        self.solver = solver
        self.n_iter = n_iter
        self.tol = tol
        self.reg = reg
        self.init_scale = init_scale
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds
        self.clip = clip

    _fitted_arrays = ("user_factors_", "item_factors_", "encoder_weights_", "encoder_bias_")

    @property
    def _user_arrays(self):
        return ("user_factors_", "user_bias_", "encoder_weights_") if self.kind == "item" \
            else ("user_factors_",)

    @property
    def _item_arrays(self):
        return ("item_factors_",) if self.kind == "item" else \
            ("item_factors_", "item_bias_", "encoder_weights_")

    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solvers read."""
        p = dict(
            n_hidden=check_int_param(self.n_hidden, "n_hidden", low=1),
            kind=check_option(self.kind, "kind", ("item", "user")),
            activation=check_option(self.activation, "activation", HIDDEN_ACTIVATIONS),
            solver=check_option(self.solver, "solver", SOLVERS),
            n_iter=check_int_param(self.n_iter, "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            reg=check_float_param(self.reg, "reg", low=0),
            init_scale=check_float_param(self.init_scale, "init_scale", low=0),
            learning_rate=check_float_param(self.learning_rate, "learning_rate", low=0,
                                            low_open=True),
            momentum=check_float_param(self.momentum, "momentum", low=0, high=1,
                                       high_open=True),
            batch_size=check_int_param(self.batch_size, "batch_size", low=1),
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
        """Fit the autoencoder.

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
        dec, enc = sides(p["kind"])
        if self._warm:
            self._check_warm_start(ratings, p["n_hidden"], p["dtype"], "encoder_weights_")
            n_cols = ratings.n_users if p["kind"] == "item" else ratings.n_items
            if self.encoder_weights_.shape[0] != n_cols:
                raise ValueError("warm_start needs data of the same shape and the same kind; "
                                 f"the model was fitted with another kind than {p['kind']!r}")
            state = self._warm_state((
                "encoder_weights_", "encoder_bias_", f"{dec}_factors_", f"{dec}_bias_",
                "shuffle_seed_", "optimizer_state_", "optimizer_steps_"))
            p["first_iter"] = self.n_iter_
        else:
            state = self._init_state(ratings, p, rng, dec)
            p["first_iter"] = 0
        state.update({f"{enc}_bias_": None, "global_mean_": 0.0,
                      "rating_mean_": float(np.mean(ratings.values))})
        return self._fit_solver(p["solver"], ratings, state, p, rng, ratings,
                                eval_data=eval_data, blas=1, tol=p["tol"],
                                early_stopping_rounds=p["early_stopping_rounds"])

    def _init_state(self, ratings, p, rng, dec):
        n_cols = ratings.n_users if p["kind"] == "item" else ratings.n_items
        h, dt, scale = p["n_hidden"], p["dtype"], p["init_scale"]
        return {"encoder_weights_": random_factors(rng, (n_cols, h), dt, scale),
                "encoder_bias_": np.zeros(h, dt),
                f"{dec}_factors_": random_factors(rng, (n_cols, h), dt, scale),
                f"{dec}_bias_": np.full(n_cols, np.mean(ratings.values), dt)}

    # ------------------------------------------------------------------ prediction
    def _fallback(self, users, items):
        pred = super()._fallback(users, items)  # the decoder bias where it is known
        dec_idx, enc_idx = (users, items) if self.kind == "item" else (items, users)
        pred[dec_idx < 0] = self.rating_mean_
        empty = (enc_idx < 0) & (dec_idx >= 0)
        if empty.any():  # the code of a vector without ratings: f(mu)
            code = self.encoder_bias_.copy()
            activate(code, ACTIVATIONS.get(self.activation, SIGMOID))
            W = self.user_factors_ if self.kind == "item" else self.item_factors_
            pred[empty] += W[dec_idx[empty]] @ code
        return pred

    # ------------------------------------------------------------------ fold-in
    def _ridge_rows(self, X, codes):
        """Decoder rows and biases of new columns from their ratings ``X`` (CSR over the
        encoded side), codes fixed: the exact minimiser of the objective restricted to them."""
        from ._solvers.mf_als import fold_in

        p = self._check_params()
        return fold_in(X, codes, np.zeros(len(codes), codes.dtype), 0.0, p["reg"], 0.0, 0.0)

    def _encode_rows(self, X):
        p = self._check_params()
        V = self.encoder_weights_
        return encode(rows_matrix_from(X, V.dtype), V, self.encoder_bias_,
                      ACTIVATIONS[p["activation"]])

    def _fold_in_users(self, X):
        if self.kind == "user":
            return {"user_factors_": self._encode_rows(X)}
        return self._ridge_rows(X, self.item_factors_)

    def _fold_in_items(self, X):
        if self.kind == "item":
            return {"item_factors_": self._encode_rows(X)}
        rows = self._ridge_rows(X, self.user_factors_)
        return {"item_factors_": rows["user_factors_"], "item_bias_": rows["user_bias_"]}


def rows_matrix_from(X, dtype):
    """CSR arrays of a checked sparse matrix, values in ``dtype``."""
    return X.indptr, X.indices, X.data.astype(dtype)

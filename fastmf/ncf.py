"""``NCF``: neural collaborative filtering (GMF, MLP, NeuMF) of implicit feedback."""

import numbers

import numpy as np

from ._init import random_factors
from ._kernels.ncf import ncf_block_scores, ncf_fold_in, ncf_item_half, ncf_pair_scores
from ._solvers.ncf import network, optimizer, positives
from ._validation import (
    check_bool,
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from .base import Recommender

__all__ = ["NCF"]

MODELS = ("gmf", "mlp", "neumf")


class NCF(Recommender):
    r"""Neural collaborative filtering (He et al. 2017): GMF, MLP or their fusion, NeuMF.

    Every user :math:`u` and item :math:`i` has a GMF embedding (:math:`p_u, q_i`, of
    ``n_factors``) and an MLP embedding (:math:`p'_u, q'_i`, of ``layers[0] / 2``); the
    logit of an interaction is

    .. math::

        x_{ui} = h^\top \big[\, p_u \odot q_i,\; g([p'_u, q'_i]) \,\big] + b

    with :math:`g` a ReLU tower of sizes ``layers`` and the output layer :math:`h, b`. GMF
    keeps only the first part (a dot-product model: :math:`x_{ui} = p_u^\top
    \mathrm{diag}(h) q_i + b`), MLP only the second. Training minimises the log loss
    :math:`\ell(x, y) = \log(1 + e^x) - y x` on every positive (:math:`y = 1`) and
    ``n_negatives`` items drawn for it afresh every epoch (:math:`y = 0`), plus L2 on every
    parameter each sample uses:

    .. math::

        \sum_{(u, i, y)} \ell(x_{ui}, y) + \lambda \big(\|U_u\|^2 + \|V_i\|^2
        + \|w\|^2\big)

    (:math:`U_u`, :math:`V_i` a user's and an item's embeddings, :math:`w` the tower and the
    output layer), by minibatch Adam or SGD on the mean over ``batch_size`` instances. The
    output layer is regularised like the embeddings: GMF is invariant to scaling
    :math:`p, q` down and :math:`h` up, so a penalty on the embeddings alone would do
    nothing but grow :math:`h`.

    ``predict`` and ``recommend`` return logits :math:`x_{ui}` (the interaction probability
    is :math:`\sigma(x_{ui})`). ``recommend``, ``ranking_metrics`` and fold-in work as for the
    factor models: GMF scores a block of users with one matrix product against
    :math:`\mathrm{diag}(h) Q`; MLP and NeuMF split the tower's first layer into its user and
    item halves, compute the item half once, and score users in memory-bounded blocks (never
    a dense users x items matrix). For the protocol of the paper (leave-one-out, 99 sampled
    negatives, HR@10 and NDCG@10) see :func:`fastmf.model_selection.leave_one_out`,
    :func:`fastmf.model_selection.sample_negatives` and
    :func:`fastmf.metrics.sampled_ranking_metrics`.

    Parameters
    ----------
    n_factors : int, default=8
        GMF embedding size (GMF and NeuMF).
    model : {"gmf", "mlp", "neumf"}, default="neumf"
    layers : sequence of int, default=(64, 32, 16, 8)
        The MLP tower (MLP and NeuMF): ``layers[0]`` is the width of its input, the
        concatenated user and item embeddings (even; each embedding has ``layers[0] / 2``),
        the others the sizes of its ReLU layers; at least two entries.
    n_negatives : int, default=4
        Negatives drawn per positive and epoch (with replacement).
    exclude_positives : bool, default=True
        Draw negatives uniformly among the items the user has no interaction with, as the
        paper's sampler does (every user needs one such item); False draws them among all
        items, as Rendle et al. (2020) do.
    n_iter : int, default=20
        Epochs (for NeuMF with ``pretrain``: of the NeuMF fit that follows the pre-training).
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one epoch falls to ``tol`` or
        below (0: run all ``n_iter``).
    batch_size : int, default=256
        Training instances (positives and negatives together) per step.
    optimizer : {"adam", "sgd"}, default="adam"
        Adam (PyTorch's, with row-sparse lazy steps on the embeddings, as
        ``torch.optim.SparseAdam``) or plain SGD (for NeuMF with ``pretrain``: of the
        pre-training fits, see ``finetune_optimizer``).
    learning_rate : float, default=0.001
    reg : float, default=0.0
        L2 weight :math:`\lambda` (> 0 regularises every parameter, see above).
    pretrain : bool, default=True
        NeuMF only: fit a GMF and an MLP first (``pretrain_iter`` epochs each, with
        ``optimizer`` and ``learning_rate``, the other hyper-parameters the same), start NeuMF
        from their embeddings and tower, with the output layer
        :math:`[\alpha h_{GMF}, (1 - \alpha) h_{MLP}]` and bias
        :math:`\alpha b_{GMF} + (1 - \alpha) b_{MLP}`, then fit NeuMF for ``n_iter`` epochs
        with ``finetune_optimizer`` at ``finetune_learning_rate`` (He et al., section 3.4.1).
    pretrain_iter : int or None, default=None
        Epochs of each pre-training fit; None: ``n_iter``.
    alpha : float, default=0.5
        The trade-off between the pre-trained models, in [0, 1].
    finetune_optimizer : {"sgd", "adam"}, default="sgd"
        The optimiser of NeuMF's fit after pre-training. Plain SGD, as the paper: Adam's
        moments start from zero, and its first steps (about ``learning_rate`` per parameter,
        whatever the gradient's size) move the merged model away from its pre-trained optimum.
        On a validation carve of the training part of MovieLens-100k under the NCF protocol
        (mean of 3 seeds), NeuMF's HR@10 was 0.640 fine-tuned by Adam (0.001, 20 epochs),
        0.678 by SGD (0.001, 20 epochs), against 0.642 for GMF and 0.652 for MLP alone.
    finetune_learning_rate : float, default=0.001
        The step of that fit (SGD steps of 0.001 to 0.003 over 10 or 20 epochs all reached
        HR@10 0.675-0.678 there; 0.01 fell to 0.667).
    init_scale : float, default=0.01
        Standard deviation of the normal initial embeddings. The tower starts from Glorot
        uniform weights, the output layer from LeCun uniform ones; biases from 0.
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads of scoring, prediction and fold-in; ``None`` uses every core. A training
        epoch runs in one thread (each batch's tower is one BLAS product per layer, in the
        calling thread), so the model does not depend on it.
    random_state : int, numpy Generator or None, default=None
        Seed of the initial parameters, the order of every epoch and its negatives.
    verbose : bool, default=False
    warm_start : bool, default=False
        Continue from the fitted parameters on the next ``fit`` (same data shape and
        network; no pre-training then; the optimiser starts afresh).
    early_stopping_rounds : int or None, default=None
        With an ``eval_set``: stop when its nDCG@10 has not improved for this many epochs
        and keep the best epoch's parameters (``best_iteration_``).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors + layers[0] / 2)
        Each user's GMF embedding followed by its MLP embedding (GMF: only the first,
        MLP: only the second).
    item_factors_ : ndarray of shape (n_items, n_factors + layers[0] / 2)
    mlp_weights_ : ndarray
        The tower's weights and biases, layer after layer (``W_0`` of shape
        (layers[0], layers[1]) row-major, ``b_0``, ``W_1``, ...); empty for GMF.
    output_weights_ : ndarray of shape (n_factors + layers[-1],)
        :math:`h`: the GMF part first.
    output_bias_ : float
    history_ : dict of lists
        Per epoch: ``train_loss`` (the objective above over the epoch's instances, each term
        as it was before its batch's step), ``log_loss`` (its data term), ``seconds`` and,
        with an ``eval_set``, ``eval_ndcg@10`` and ``eval_precision@10``.
    pretrain_history_ : dict or None
        NeuMF with ``pretrain``: the ``history_`` of the GMF and of the MLP fit (keys
        ``"gmf"``, ``"mlp"``).
    n_iter_ : int

    Notes
    -----
    Unknown users and items (predict, fold-in of nobody) score as a zero embedding would.
    Fold-in of a new user (``transform``, ``recommend(user_items=...)``) fits its embeddings
    from zero by ``n_iter`` epochs of the training loss over its items, everything else
    frozen: one optimiser step per sample with the gradient a training batch gives a row
    (the sample's, over ``batch_size``), as a row sees it in training; new items likewise.
    It approximates the trained rows; it does not reproduce them.

    References
    ----------
    He, Liao, Zhang, Nie, Hu & Chua, "Neural collaborative filtering", WWW 2017.
    Rendle, Krichene, Zhang & Anderson, "Neural collaborative filtering vs. matrix
    factorization revisited", RecSys 2020.

    Examples
    --------
    >>> import fastmf
    >>> counts = fastmf.datasets.make_counts(100, 40, rank=3, random_state=0)
    >>> model = fastmf.NCF(4, model="gmf", n_iter=3, random_state=0).fit(counts)
    >>> items, scores = model.recommend([0, 1], n=3, exclude=counts)
    >>> items.shape, model.user_factors_.shape
    ((2, 3), (100, 4))
    """

    _nonnegative_input = True
    _eval_kind = "positives"
    _fitted_arrays = ("user_factors_", "item_factors_", "mlp_weights_", "output_weights_")
    _user_arrays = ("user_factors_",)
    _item_arrays = ("item_factors_",)
    _family = "NCF"

    def __init__(self, n_factors=8, *, model="neumf", layers=(64, 32, 16, 8), n_negatives=4,
                 exclude_positives=True, n_iter=20, tol=0.0, batch_size=256, optimizer="adam",
                 learning_rate=0.001, reg=0.0, pretrain=True, pretrain_iter=None, alpha=0.5,
                 finetune_optimizer="sgd", finetune_learning_rate=0.001, init_scale=0.01,
                 dtype="float32", n_threads=None, random_state=None, verbose=False,
                 warm_start=False, early_stopping_rounds=None):
        self.n_factors = n_factors
        self.model = model
        self.layers = layers
        self.n_negatives = n_negatives
        self.exclude_positives = exclude_positives
        self.n_iter = n_iter
        self.tol = tol
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.reg = reg
        self.pretrain = pretrain
        self.pretrain_iter = pretrain_iter
        self.alpha = alpha
        self.finetune_optimizer = finetune_optimizer
        self.finetune_learning_rate = finetune_learning_rate
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds

    # ------------------------------------------------------------------ parameters
    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solver reads."""
        return dict(
            n_factors=check_int_param(self.n_factors, "n_factors", low=1),
            model=check_option(self.model, "model", MODELS),
            layers=_check_layers(self.layers),
            n_negatives=check_int_param(self.n_negatives, "n_negatives", low=1),
            exclude_positives=check_bool(self.exclude_positives, "exclude_positives"),
            n_iter=check_int_param(self.n_iter, "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            batch_size=check_int_param(self.batch_size, "batch_size", low=1),
            optimizer=check_option(self.optimizer, "optimizer", ("adam", "sgd")),
            learning_rate=check_float_param(self.learning_rate, "learning_rate", low=0,
                                            low_open=True),
            reg=check_float_param(self.reg, "reg", low=0),
            pretrain=check_bool(self.pretrain, "pretrain"),
            pretrain_iter=check_int_param(self.pretrain_iter, "pretrain_iter", low=1,
                                          allow_none=True),
            alpha=check_float_param(self.alpha, "alpha", low=0, high=1),
            finetune_optimizer=check_option(self.finetune_optimizer, "finetune_optimizer",
                                            ("adam", "sgd")),
            finetune_learning_rate=check_float_param(self.finetune_learning_rate,
                                                     "finetune_learning_rate", low=0,
                                                     low_open=True),
            init_scale=check_float_param(self.init_scale, "init_scale", low=0),
            dtype=check_dtype(self.dtype),
            early_stopping_rounds=check_int_param(self.early_stopping_rounds,
                                                  "early_stopping_rounds", low=1,
                                                  allow_none=True),
        )

    @staticmethod
    def _widths(p):
        """``(kg, km)``: the GMF and the MLP embedding widths of the checked parameters."""
        return (0 if p["model"] == "mlp" else p["n_factors"],
                0 if p["model"] == "gmf" else p["layers"][0] // 2)

    # ------------------------------------------------------------------ fitting
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
        _check_interactions(ratings, p["exclude_positives"])
        if p["early_stopping_rounds"] is not None and eval_set is None:
            raise ValueError("early_stopping_rounds needs an eval_set")
        eval_data = self._eval_data(eval_set, ratings)
        rng = check_random_state(self.random_state)
        pre, warm, fit_params = None, self._warm, p
        if warm:
            self._check_warm_start(ratings, sum(self._widths(p)), p["dtype"])
            if len(self.mlp_weights_) != _n_weights(p)[0]:
                raise ValueError("warm_start needs data of the same shape, the same n_factors "
                                 "and the same layers; the fitted tower has another shape")
            state = self._warm_state(("user_factors_", "item_factors_", "mlp_weights_",
                                      "output_weights_", "output_bias_"))
        elif p["model"] == "neumf" and p["pretrain"]:
            state, pre = self._pretrained(ratings, eval_set, p, rng)
            fit_params = {**p, "optimizer": p["finetune_optimizer"],
                          "learning_rate": p["finetune_learning_rate"]}
        else:
            state = self._initial_state(p, ratings.shape, rng)
        self._fit_solver(fit_params["optimizer"], ratings, state, fit_params, rng, ratings,
                         eval_data=eval_data,
                         blas=1, tol=p["tol"],
                         early_stopping_rounds=p["early_stopping_rounds"])
        if not warm:
            self.pretrain_history_ = pre
        return self

    def _initial_weights(self, p, rng):
        """Glorot uniform tower weights and LeCun uniform output weights (biases 0)."""
        sizes, _, kg = network(p["model"], p["n_factors"], p["layers"])
        parts = []
        if len(sizes) > 1:
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
                limit = np.sqrt(6.0 / (n_in + n_out))
                parts += [rng.uniform(-limit, limit, n_in * n_out), np.zeros(n_out)]
        n_head = kg + (sizes[-1] if len(sizes) > 1 else 0)
        head = rng.uniform(-1, 1, n_head) * np.sqrt(3.0 / n_head)
        theta = np.concatenate(parts) if parts else np.zeros(0)
        return theta.astype(p["dtype"]), head.astype(p["dtype"])

    def _initial_state(self, p, shape, rng):
        k = sum(self._widths(p))
        U = random_factors(rng, (shape[0], k), p["dtype"], p["init_scale"])
        V = random_factors(rng, (shape[1], k), p["dtype"], p["init_scale"])
        theta, head = self._initial_weights(p, rng)
        return {"user_factors_": U, "item_factors_": V, "mlp_weights_": theta,
                "output_weights_": head, "output_bias_": 0.0}

    def _pretrained(self, ratings, eval_set, p, rng):
        """NeuMF's starting state from a fitted GMF and MLP, and their histories."""
        fitted = {}
        for part in ("gmf", "mlp"):
            model = NCF(**{**self.get_params(), "model": part, "warm_start": False,
                           "n_iter": p["pretrain_iter"] or p["n_iter"],
                           "random_state": int(rng.integers(2**31))})
            fitted[part] = model.fit(ratings, eval_set=eval_set)
        g, m = fitted["gmf"], fitted["mlp"]
        a = p["alpha"]
        dtype = p["dtype"]
        state = {
            "user_factors_": np.hstack([g.user_factors_, m.user_factors_]),
            "item_factors_": np.hstack([g.item_factors_, m.item_factors_]),
            "mlp_weights_": m.mlp_weights_.copy(),
            "output_weights_": np.concatenate([a * g.output_weights_,
                                               (1 - a) * m.output_weights_]).astype(dtype),
            "output_bias_": a * g.output_bias_ + (1 - a) * m.output_bias_,
        }
        return state, {"gmf": g.history_, "mlp": m.history_}

    # ------------------------------------------------------------------ scores
    def _net(self):
        """``(sizes, codes, kg)`` of the fitted model and its flat dense vector ``w``."""
        p = self._check_params()
        w = np.concatenate([self.mlp_weights_, self.output_weights_, [self.output_bias_]])
        return network(p["model"], p["n_factors"], p["layers"]), \
            w.astype(self.user_factors_.dtype)

    def _pair_scores(self, users, items):
        (sizes, codes, kg), w = self._net()
        out = np.empty(len(users), np.float64)
        ncf_pair_scores(users, items, self.user_factors_, self.item_factors_, w, sizes, codes,
                        kg, out)
        return out

    def _fallback(self, users, items):
        pred = np.zeros(len(users))
        unknown = np.flatnonzero((users < 0) | (items < 0))
        if len(unknown):
            pred[unknown] = self._pair_scores(users[unknown], items[unknown])
        return pred

    def _score_pairs(self, users, items):
        return self._pair_scores(users, items)

    def _user_queries(self, users):
        return self.user_factors_[users]

    def _folded_queries(self, state):
        return state["user_factors_"]

    def _query_offsets(self, users, n):
        return np.full(n, float(self.output_bias_))

    def _scorer(self, Q):
        from ._recommend import inner_product_scorer

        (sizes, codes, kg), w = self._net()
        V = self.item_factors_
        if self.model == "gmf":
            return inner_product_scorer(Q, V * self.output_weights_.astype(V.dtype))
        Q = np.ascontiguousarray(Q, dtype=V.dtype)
        item_half = np.empty((V.shape[0], sizes[1]), V.dtype)
        ncf_item_half(V, w, sizes, kg, item_half)

        def score_block(start, stop, out):
            ncf_block_scores(Q[start:stop], V, w, sizes, codes, kg, item_half, out)

        return score_block, V.dtype

    # ------------------------------------------------------------------ fold-in
    def _fold_in(self, X, other, side):
        """Rows fitted from the CSR rows of ``X`` over the ``other`` table (``side`` 0: new
        users, 1: new items)."""
        p = self._check_params()
        net, w = self._net()
        indptr, indices, _ = positives(X)
        if p["exclude_positives"]:
            full = np.flatnonzero(np.diff(indptr) >= other.shape[0])
            if len(full):
                raise ValueError(f"row {full[0]} interacts with every "
                                 f"{'item' if side == 0 else 'user'}: no negative can be drawn "
                                 "for it (exclude_positives=True)")
        R = np.zeros((X.shape[0], other.shape[1]), other.dtype)
        seed = np.uint64(self.random_state if isinstance(self.random_state, numbers.Integral)
                         and self.random_state >= 0 else 0)
        ncf_fold_in(indptr, indices, R, other, w, net, optimizer(p),
                    (p["n_iter"], p["n_negatives"], p["exclude_positives"], p["reg"],
                     p["batch_size"], side, seed))
        return R

    def _fold_in_users(self, X):
        return {"user_factors_": self._fold_in(X, self.item_factors_, 0)}

    def _fold_in_items(self, X):
        return {"item_factors_": self._fold_in(X, self.user_factors_, 1)}

    def _check_fitted_state(self, attributes, arrays):
        """For :func:`fastmf.load`: the fitted arrays fit the network the parameters name."""
        p = self._check_params()
        k = sum(self._widths(p))
        for name in ("user_factors_", "item_factors_"):
            if arrays[name].shape[1] != k:
                raise ValueError(f"{name} has {arrays[name].shape[1]} columns but the "
                                 f"parameters make {k}")
        for name, n in zip(("mlp_weights_", "output_weights_"), _n_weights(p), strict=True):
            if arrays[name].shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {arrays[name].shape}")
        bias = attributes.get("output_bias_")
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or \
                not np.isfinite(bias):
            raise ValueError(f"output_bias_ must be a finite number, got {bias!r}")


def _n_weights(p):
    """``(n_theta, n_head)``: the sizes of ``mlp_weights_`` and ``output_weights_``."""
    sizes, _, kg = network(p["model"], p["n_factors"], p["layers"])
    n_theta = sum(int(a * b + b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return n_theta, kg + (int(sizes[-1]) if len(sizes) > 1 else 0)


def _check_layers(layers):
    """``layers`` as a tuple of ints: at least two, all positive, the first even."""
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__"):
        raise TypeError(f"layers must be a sequence of integers, got {layers!r}")
    layers = tuple(check_int_param(v, "layers", low=1) for v in layers)
    if len(layers) < 2:
        raise ValueError(f"layers must have at least 2 sizes (the tower's input and one layer), "
                         f"got {layers}")
    if layers[0] % 2:
        raise ValueError(f"layers[0] must be even (the user's and the item's embeddings "
                         f"concatenated), got {layers[0]}")
    return layers


def _check_interactions(ratings, exclude_positives):
    """Non-negative values, at least one positive, and (with ``exclude_positives``) a
    non-positive item for every user."""
    if ratings.values.min() < 0:
        pos = int(np.argmin(ratings.values))
        raise ValueError(f"X must be non-negative (interactions): found {ratings.values[pos]} "
                         f"for user {ratings.users[pos]}, item {ratings.items[pos]}")
    if not (ratings.values > 0).any():
        raise ValueError("X has no positive entries: NCF needs at least one interaction")
    if ratings.n_items < 2:
        raise ValueError("NCF needs at least 2 items to sample negatives")
    if exclude_positives:
        counts = np.bincount(ratings.users[ratings.values > 0], minlength=ratings.n_users)
        full = np.flatnonzero(counts >= ratings.n_items)
        if len(full):
            raise ValueError(f"user {full[0]} interacts with every item: no negative can be "
                             "drawn for it with exclude_positives=True (pass "
                             "exclude_positives=False, or leave such users out)")

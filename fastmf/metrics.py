"""Evaluation metrics: rating errors (RMSE, MAE) and ranking quality at k.

Ranking metrics are computed by the parallel kernel ``fastmf._kernels.topk.ranking_block``
on blocks of users: each block's scores come from the model's scorer (one gemm for factor
models) into a reused buffer, so memory is O(block_size x n_items), never a dense users x items
matrix.
"""

import numpy as np
import scipy.sparse as sp

from ._kernels.topk import ranking_block
from ._ratings import Ratings
from ._recommend import (
    block_rows,
    csr_structure,
    inner_product_scorer,
    score_dtype,
    thread_scope,
)
from ._validation import (
    check_index_array,
    check_int_param,
    check_is_fitted,
    check_same_length,
    check_sparse_matrix,
    check_values,
)

__all__ = ["rmse", "mae", "ranking_metrics", "sampled_ranking_metrics", "ranking_scorer"]

RANKING_KEYS = ("precision", "recall", "ndcg", "map", "hit_rate", "auc")


def _check_targets(y_true, y_pred):
    y_true = check_values(y_true, "y_true")
    y_pred = check_values(y_pred, "y_pred")
    check_same_length(y_true=y_true, y_pred=y_pred)
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty")
    return y_true, y_pred


def rmse(y_true, y_pred):
    """Root mean squared error, ``sqrt(mean((y_true - y_pred) ** 2))``.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (n,)
        True and predicted ratings: 1-dimensional, finite, same non-zero length.

    Returns
    -------
    float

    Examples
    --------
    >>> from fastmf.metrics import rmse
    >>> rmse([3.0, 4.0, 5.0], [2.0, 4.0, 5.0])
    0.5773502691896257
    """
    y_true, y_pred = _check_targets(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred):
    """Mean absolute error, ``mean(|y_true - y_pred|)``.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (n,)
        True and predicted ratings: 1-dimensional, finite, same non-zero length.

    Returns
    -------
    float

    Examples
    --------
    >>> from fastmf.metrics import mae
    >>> mae([3.0, 4.0, 5.0], [2.0, 4.5, 5.0])
    0.5
    """
    y_true, y_pred = _check_targets(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


class _Ranker:
    """How a model ranks items: ``ranker(users)`` is the scorer of those users (see
    :func:`fastmf._recommend.top_k_scored`), ranking items as the model's ``recommend``
    does; ``factors()`` gives (U, V) with ``U @ V.T`` doing the same for inner-product models
    (the CUDA back end ranks those)."""

    def __init__(self, scorer_of, n_users, n_items, factors=None):
        self.scorer_of, self.n_users, self.n_items, self._factors = (scorer_of, n_users,
                                                                    n_items, factors)

    def __call__(self, users):
        return self.scorer_of(users)

    def factors(self):
        if self._factors is None:
            raise TypeError("this model's scores are not inner products of factors")
        return self._factors()


def _ranking_model(model):
    """The :class:`_Ranker` of a fitted recommender or of a (U, V) tuple."""
    from .base import FactorModel, Recommender

    if isinstance(model, Recommender):
        check_is_fitted(model)
        factors = model._ranking_factors if isinstance(model, FactorModel) else None
        return _Ranker(lambda users: model._scorer(model._user_queries(users)),
                       model.n_users_, model.n_items_, factors)
    if not isinstance(model, tuple):
        raise TypeError(
            "model must be a fitted fastmf recommender or a (U, V) tuple of factor matrices, "
            f"got {type(model).__name__}")
    if len(model) != 2:
        raise ValueError(f"model given as a tuple must be (U, V), got {len(model)} elements")
    U, V = (np.asarray(A) for A in model)
    for A, name in ((U, "U (user factors)"), (V, "V (item factors)")):
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-dimensional, got shape {A.shape}")
        if A.dtype.kind not in "fiu" or A.dtype == bool:
            raise TypeError(f"{name} must be a real numeric array, got dtype {A.dtype}")
        if not np.isfinite(A).all():
            raise ValueError(f"{name} must be finite")
    if U.shape[1] != V.shape[1]:
        raise ValueError(f"U has {U.shape[1]} factors but V has {V.shape[1]}")
    dtype = score_dtype(U, V)
    return _Ranker(lambda users: inner_product_scorer(U[users], V), len(U), len(V),
                   lambda: (np.ascontiguousarray(U, dtype), np.ascontiguousarray(V, dtype)))


def _interactions(X, name, shape):
    """Users x items CSR of ``X``; only its structure (stored entries) is used, not values."""
    if isinstance(X, Ratings):
        X = X.csr
    elif not sp.issparse(X):
        raise TypeError(
            f"{name} must be a Ratings or a scipy sparse matrix, got {type(X).__name__}")
    elif X.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got shape {X.shape}")
    if X.shape != shape:
        raise ValueError(
            f"{name} has shape {X.shape} but the model has {shape[0]} users and "
            f"{shape[1]} items; pass {name} in the model's index space")
    return check_sparse_matrix(X, name, dtype=None)


def ranking_metrics(model, train, test, k=10, *, n_threads=None, block_size=None):
    """Ranking quality at k: precision, recall, nDCG, MAP, hit rate, and AUC.

    Each user is scored against every item (``U @ V.T``, block by block); training items are
    excluded from the ranking, and a user's relevant items are its test items that are not also
    training items. With ``hits`` the relevant items among the top ``k' = min(k, n_items)`` and
    ``c = min(k', n_relevant)``:

    - ``precision`` = hits / k'.
    - ``recall`` = hits / c: the *capped* recall (the denominator of implicit's ``precision``,
      here averaged per user), which reaches 1 when a user has more relevant items than fit in
      the list.
    - ``ndcg`` = DCG / IDCG with binary relevance, DCG = sum over hit ranks r (1-based) of
      1 / log2(r + 1), IDCG the same sum over r = 1..c.
    - ``map`` = mean over users of AP@k = (sum over hit ranks r of precision@r) / c.
    - ``hit_rate`` = fraction of users with at least one hit.
    - ``auc`` = fraction of (relevant item, negative item) pairs ranked correctly, over the full
      ranking of non-training items (not only the top k); negatives are items in neither train
      nor test; ties count 1/2.

    Ties in the top-k list are broken by the lower item index, as in ``recommend``. Metrics are
    averaged over users with at least one relevant item; ``auc`` further skips users with no
    negative item (NaN when no user has one).

    Parameters
    ----------
    model : fitted fastmf recommender or tuple (U, V)
        A recommender is scored as its ``recommend`` ranks (any model: factor or neural); a
        tuple ``(U, V)`` of shapes (n_users, n_factors) and (n_items, n_factors) ranks each
        user's items by ``U @ V.T``.
    train, test : Ratings or scipy sparse matrix of shape (n_users, n_items)
        Training and held-out interactions in the model's index space; stored entries count.
    k : int, default=10
        Length of the recommendation list.
    n_threads : int, optional
        Threads for the kernel; default every core (numba's current setting).
    block_size : int, optional
        Users scored at once; default: as many as fit in 64 MB of scores.

    Returns
    -------
    dict of str to float
        Keys ``"precision"``, ``"recall"``, ``"ndcg"``, ``"map"``, ``"hit_rate"``, ``"auc"``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.metrics import ranking_metrics
    >>> U = np.array([[1.0], [-1.0]])                 # 2 users
    >>> V = np.array([[3.0], [2.0], [1.0], [0.0]])    # 4 items
    >>> train = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 0, 1]])
    >>> test = sp.csr_matrix([[0, 1, 0, 0], [1, 0, 0, 0]])
    >>> m = ranking_metrics((U, V), train, test, k=2)
    >>> m["precision"], m["recall"], m["hit_rate"], m["auc"]
    (0.25, 0.5, 0.5, 0.5)
    """
    score_users, kk, train, test, users = _ranking_inputs(model, train, test, k)
    scope = thread_scope(n_threads)
    n_items = score_users.n_items
    per_user = np.empty((len(users), 7))
    if len(users):
        score_block, dtype = score_users(users)
        bs = block_rows(len(users), n_items, np.dtype(dtype).itemsize, block_size)
        buf = np.empty((bs, n_items), dtype=dtype)
        top_idx = np.empty((bs, kk), dtype=np.int64)
        top_score = np.empty((bs, kk), dtype=dtype)
        pos_buf = np.empty(len(test[1]), dtype=dtype)
        with scope:
            for start in range(0, len(users), bs):
                stop = min(start + bs, len(users))
                m = stop - start
                rows = users[start:stop]
                score_block(start, stop, buf[:m])
                ranking_block(buf[:m], rows, train, test, (pos_buf, top_idx[:m], top_score[:m]),
                              per_user[start:stop])
    return _summarise(per_user)


def _ranking_inputs(model, train, test, k):
    """The validated inputs of :func:`ranking_metrics` (also those of the CUDA back end's):
    ``(ranker, kk, (train indptr, indices), (test indptr, indices), users)``, ``ranker`` the
    model's :class:`_Ranker` and ``users`` the users with a test entry."""
    ranker = _ranking_model(model)
    shape = (ranker.n_users, ranker.n_items)
    train = _interactions(train, "train", shape)
    test = _interactions(test, "test", shape)
    k = check_int_param(k, "k", low=1)
    te_indptr, te_indices = csr_structure(test, "test")
    users = np.flatnonzero(np.diff(te_indptr))
    return (ranker, min(k, shape[1]), csr_structure(train, "train"), (te_indptr, te_indices),
            users)


def _summarise(per_user):
    """The metrics dict of :func:`ranking_metrics` from the per-user rows of
    ``ranking_block`` (precision, recall, ndcg, map, hit_rate, auc, n_rel)."""
    valid = per_user[:, 6] > 0
    if not valid.any():
        raise ValueError("no user has a test item outside train: nothing to evaluate")
    per_user = per_user[valid]
    result = {key: float(per_user[:, t].mean()) for t, key in enumerate(RANKING_KEYS[:5])}
    auc = per_user[:, 5]
    auc = auc[~np.isnan(auc)]
    result["auc"] = float(auc.mean()) if len(auc) else float("nan")
    return result


def sampled_ranking_metrics(model, test, negatives, k=10, *, train=None, n_threads=None):
    """Hit rate and nDCG at k of each held-out positive ranked among its sampled negatives.

    The protocol of the NCF paper (He et al. 2017): leave each user's latest interaction out
    (:func:`fastmf.model_selection.leave_one_out` with ``method="time"``), draw 99 items the
    user never interacted with (:func:`fastmf.model_selection.sample_negatives`), and rank the
    positive among them by the model's scores. With ``rank`` the number of negatives that
    score at least as high as the positive (0 = first):

    - ``hit_rate`` (HR@k) = mean over test entries of ``[rank < k]``;
    - ``ndcg`` (NDCG@k) = mean of ``[rank < k] / log2(rank + 2)``.

    Ties count against the positive (a negative with the same score ranks above it), as in
    the paper's evaluation code, so a model that scores everything alike gets 0, not 1. A
    user with several test entries has each ranked among its own negatives.

    Sampled metrics are cheap (``n + 1`` scores per entry) but can rank models differently
    from the full ranking over all items (Krichene & Rendle, "On sampled metrics for item
    recommendation", KDD 2020): report :func:`ranking_metrics` beside them.

    Parameters
    ----------
    model : fitted fastmf recommender or tuple (U, V)
        Scored by ``predict`` (a tuple: by ``U @ V.T`` pairs).
    test : Ratings or scipy sparse matrix of shape (n_users, n_items)
        The held-out positives, in the model's index space.
    negatives : array-like of int, shape (test.nnz, n)
        Row ``e``: the negatives of ``test``'s ``e``-th stored entry in CSR order (by user,
        then item), as :func:`~fastmf.model_selection.sample_negatives` returns them;
        distinct within a row and none of them one of the user's test items (nor, when
        ``train`` is given, its training items).
    k : int, default=10
    train : Ratings or scipy sparse matrix of shape (n_users, n_items), optional
        The training interactions, to check that no negative is one of them.
    n_threads : int, optional
        Threads for the scoring kernels; default every core.

    Returns
    -------
    dict of str to float
        ``"hit_rate"`` and ``"ndcg"``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.metrics import sampled_ranking_metrics
    >>> U = np.array([[1.0], [1.0]]); V = np.array([[3.0], [2.0], [1.0], [0.0]])
    >>> test = sp.csr_matrix([[0, 1, 0, 0], [0, 0, 0, 1]])   # user 0: item 1, user 1: item 3
    >>> negatives = np.array([[0, 2], [1, 2]])
    >>> m = sampled_ranking_metrics((U, V), test, negatives, k=1)
    >>> m["hit_rate"], round(m["ndcg"], 4)
    (0.0, 0.0)
    >>> m = sampled_ranking_metrics((U, V), test, negatives, k=2)
    >>> m["hit_rate"], round(m["ndcg"], 4)
    (0.5, 0.3155)
    """
    predict, shape = _pair_model(model)
    test = _interactions(test, "test", shape)
    k = check_int_param(k, "k", low=1)
    scope = thread_scope(n_threads)
    users = np.repeat(np.arange(shape[0]), np.diff(test.indptr))
    items = test.indices.astype(np.int64)
    negatives = _check_negatives(negatives, users, test, shape,
                                 None if train is None else _interactions(train, "train", shape))
    if len(users) == 0:
        raise ValueError("test has no stored entries: nothing to evaluate")
    n = negatives.shape[1]
    with scope:
        pos = predict(users, items)
        neg = predict(np.repeat(users, n), negatives.ravel()).reshape(len(users), n)
    if not (np.isfinite(pos).all() and np.isfinite(neg).all()):
        raise ValueError("the model's scores of the test pairs are not all finite")
    rank = np.sum(neg >= pos[:, None], axis=1)
    hit = rank < k
    return {"hit_rate": float(hit.mean()),
            "ndcg": float(np.mean(np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0)))}


def _pair_model(model):
    """``(predict(users, items), (n_users, n_items))`` of a fitted recommender or (U, V)."""
    from .base import Recommender

    if isinstance(model, Recommender):
        check_is_fitted(model)
        return model._predict_indices, (model.n_users_, model.n_items_)
    ranker = _ranking_model(model)  # checks the tuple
    n_users, n_items = ranker.n_users, ranker.n_items
    U, V = (np.asarray(A) for A in model)
    return (lambda users, items: np.einsum("ij,ij->i", U[users], V[items],
                                           dtype=np.float64), (n_users, n_items))


def _check_negatives(negatives, users, test, shape, train):
    """``negatives`` as an int64 array of shape (len(users), n), checked."""
    negatives = np.asarray(negatives)
    if negatives.ndim != 2:
        raise ValueError(f"negatives must be 2-dimensional (one row per test entry), got shape "
                         f"{negatives.shape}")
    if negatives.shape[0] != len(users):
        raise ValueError(f"negatives has {negatives.shape[0]} rows but test has {len(users)} "
                         "entries: one row per stored test entry, in CSR order")
    if negatives.shape[1] == 0:
        raise ValueError("negatives has no columns: at least one negative per entry")
    negatives = check_index_array(negatives.ravel(), "negatives", shape[1]).reshape(
        negatives.shape)
    ordered = np.sort(negatives, axis=1)
    repeat = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if len(repeat):
        raise ValueError(f"negatives repeats an item in row {repeat[0]}: the negatives of an "
                         "entry must be distinct")
    keys = np.repeat(users, negatives.shape[1]) * shape[1] + negatives.ravel()
    for X, what in ((test, "test"), (train, "train")):
        if X is None:
            continue
        rows = np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(X.indptr))
        clash = np.flatnonzero(np.isin(keys, rows * shape[1] + X.indices))
        if len(clash):
            e, c = divmod(int(clash[0]), negatives.shape[1])
            raise ValueError(f"negatives collide with {what} positives: row {e} (user "
                             f"{users[e]}) holds item {negatives[e, c]}, which is one of the "
                             f"user's {what} items")
    return negatives


def ranking_scorer(metric="ndcg", k=10):
    """A scikit-learn scorer of the top-``k`` lists: ``scorer(estimator, X, y=None)``.

    For scikit-learn's search tools on the transformer view: ``X`` is the
    :class:`~fastmf.model_selection.Interactions` of a validation fold (held-out interactions
    in the full ID space); the fitted ``estimator``'s lists exclude every other known
    interaction of the whole set, and the score is :func:`ranking_metrics`'s ``metric`` over
    the users with validation items. Higher is better, as scikit-learn expects. A fold that
    leaves a validated user with no other interaction raises a ValueError; so does scoring the
    training folds themselves, which is not defined for top-N lists: pass
    ``return_train_score=False`` to ``HalvingRandomSearchCV``, whose default is True.

    Parameters
    ----------
    metric : {"precision", "recall", "ndcg", "map", "hit_rate", "auc"}, default="ndcg"
    k : int, default=10

    Returns
    -------
    callable

    Examples
    --------
    >>> import fastmf
    >>> from sklearn.model_selection import GridSearchCV
    >>> from fastmf.model_selection import Interactions, UserHoldout
    >>> X = Interactions(fastmf.datasets.make_counts(80, 40, rank=3, random_state=0))
    >>> search = GridSearchCV(fastmf.ImplicitALS(4, n_iter=3, random_state=0),
    ...                       {"reg": [0.01, 1.0]}, cv=UserHoldout(3, random_state=0),
    ...                       scoring=fastmf.metrics.ranking_scorer("ndcg", k=5)).fit(X)
    >>> sorted(search.best_params_), bool(0 < search.best_score_ <= 1)
    (['reg'], True)
    """
    from .model_selection import Interactions

    if not isinstance(metric, str) or metric not in RANKING_KEYS:
        raise ValueError(f"metric must be one of {', '.join(map(repr, RANKING_KEYS))}, got "
                         f"{metric!r}")
    k = check_int_param(k, "k", low=1)

    def scorer(estimator, X, y=None):
        if not isinstance(X, Interactions):
            raise TypeError("ranking_scorer scores fastmf.model_selection.Interactions (the "
                            f"validation entries), got {type(X).__name__}")
        test = X.ratings.csr
        train = X.rest()
        has_train = np.diff(train.indptr) > 0
        alone = np.flatnonzero((np.diff(test.indptr) > 0) & ~has_train)
        if len(alone):
            raise ValueError(
                f"the validation fold leaves {len(alone)} users (e.g. user {alone[0]}) with "
                "validation items but no training items; split with "
                "fastmf.model_selection.UserHoldout, which keeps training items for every "
                "user it validates")
        return ranking_metrics(estimator, train, test, k=k)[metric]

    scorer.__name__ = f"ranking_scorer_{metric}@{k}"
    return scorer

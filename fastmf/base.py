"""``Recommender`` and ``FactorModel``: what every recommender shares, written once.

``Recommender`` owns IDs, validation, the unknown-ID fallback, the fitting loop around a solver
(:mod:`fastmf._solvers.base`), and ``predict`` / ``recommend`` / fold-in through a few hooks:

- ``_score_pairs(users, items)``: predictions for known (user, item) index pairs;
- ``_fallback(users, items)``: predictions when the user or the item is unknown;
- ``_user_queries(users)``, ``_folded_queries(state)``, ``_score_queries(Q, start, stop,
  out)`` and ``_query_offsets(users)``: what ``recommend`` and the ranking metrics score,
  a block of users at a time, never a dense users x items matrix;
- ``_fold_in_users(X)`` / ``_fold_in_items(X)``: the fitted per-user (per-item) arrays of new
  rows given their interactions, the rest of the model held fixed (dicts keyed by attribute).

``FactorModel`` specialises it to inner products ``mu + b_u + c_i + w_u^T h_i`` and the
shared top-k kernel; models whose scores are not inner products (neural ones) plug in at
``Recommender``.
"""

import copy

import numpy as np
import scipy.sparse as sp

from ._config import threads
from ._fitting import SolverFit
from ._ids import grow, id_map, index_to_raw, raw_to_index, split_pairs, unknown_past
from ._persist import SaveMixin, load
from ._ratings import Ratings
from ._sklearn_compat import BaseEstimator, RegressorMixin
from ._validation import (
    check_index_array,
    check_int_param,
    check_is_fitted,
    check_sparse_matrix,
    check_values,
)

__all__ = ["FactorModel", "Recommender", "load"]


class Recommender(SolverFit, SaveMixin, RegressorMixin, BaseEstimator):
    """Base class of every fastmf recommender.

    Two scikit-learn views share one model: ``fit(X)`` with ``X`` a sparse users x items matrix
    or a :class:`~fastmf.Ratings` (transformer view: ``transform`` folds in new users), and
    ``fit(X, y)`` with ``X`` an (n, 2) array of [user, item] indices and ``y`` the values
    (regressor view: ``predict(X)`` and ``score`` work with ``cross_val_score`` and
    ``GridSearchCV``).

    Users or items never seen in training (an index past the training range, or a raw ID the
    model does not know) are predicted by the model's fallback (for factor models,
    ``global_mean_`` plus whatever bias is known).

    Examples
    --------
    Every estimator is one, the neural ones included:

    >>> import numpy as np, fastmf
    >>> ratings = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
    >>> model = fastmf.NCF(model="gmf", n_iter=2, random_state=0).fit(ratings)
    >>> isinstance(model, fastmf.base.Recommender)
    True
    >>> items, scores = model.recommend([0, 1], n=3, exclude=ratings)
    >>> items.shape
    (2, 3)
    """

    #: Whether the interactions the model reads must be non-negative (implicit counts, NMF).
    _nonnegative_input = False
    #: Arrays every fitted model holds (``fastmf.load`` checks a file has them; the first one
    #: tells whether the model is fitted).
    _fitted_arrays = ()
    #: Fitted arrays with one row per user (per item): ``partial_fit_*`` grows them together.
    _user_arrays = ()
    _item_arrays = ()
    #: What ``eval_set`` holds: "ratings" (scored by RMSE) or "positives" (ranking metrics).
    _eval_kind = "ratings"

    # ------------------------------------------------------------------ input
    def _validate_data(self, X, y=None):
        """Turn the arguments of ``fit`` into a :class:`Ratings`."""
        from .model_selection import Interactions

        if isinstance(X, Interactions):  # entries as samples (cross-validation)
            if y is not None:
                raise ValueError("y must be None when X is an Interactions (it holds the "
                                 "values)")
            return X.ratings
        if isinstance(X, Ratings):
            if y is not None:
                raise ValueError("y must be None when X is a Ratings (it holds the values)")
            return X
        if sp.issparse(X):
            if y is not None:
                raise ValueError("y must be None when X is a sparse users x items matrix")
            return Ratings.from_sparse(X)
        users, items = split_pairs(X)
        if y is None:
            raise ValueError(
                "y is required when X is an (n, 2) array of [user, item] pairs; pass a sparse "
                "users x items matrix or a Ratings to fit without y"
            )
        y = check_values(np.ravel(np.asarray(y)) if np.ndim(y) == 2 and np.shape(y)[1] == 1
                         else y, "y")
        if len(y) != len(users):
            raise ValueError(f"X has {len(users)} rows but y has {len(y)} values")
        return Ratings(users, items, y)

    def _index_space(self, ratings):
        """The attributes that record the training data's ID space (and, for models with a
        ``clip`` parameter, the range of its values)."""
        space = {"n_users_": ratings.n_users, "n_items_": ratings.n_items,
                 "user_ids_": ratings.user_ids, "item_ids_": ratings.item_ids}
        if hasattr(self, "clip"):
            space["rating_range_"] = [float(ratings.values.min()), float(ratings.values.max())]
        return space

    def _index_pairs(self, X, items=None, name="X", space=None):
        """Model indices (``-1`` where unknown) of the (user, item) pairs described by ``X``
        (called ``name`` in error messages), in ``space`` (default: the fitted one)."""
        space = space or vars(self)
        n_users, n_items = space["n_users_"], space["n_items_"]
        if items is not None:
            users = check_index_array(np.atleast_1d(X), "users")
            items = check_index_array(np.atleast_1d(items), "items")
            if len(users) != len(items):
                raise ValueError(f"users has {len(users)} entries but items has {len(items)}")
            return unknown_past(users, n_users), unknown_past(items, n_items)
        if isinstance(X, Ratings):
            umap = id_map(space["user_ids_"], X.user_ids, X.n_users, n_users)
            imap = id_map(space["item_ids_"], X.item_ids, X.n_items, n_items)
            return umap[X.users], imap[X.items]
        if sp.issparse(X):
            raise TypeError(f"{name} must be a Ratings, an (n, 2) array of [user, item] pairs, "
                            "or users (with items); for a sparse matrix of new users use "
                            "transform")
        users, items = split_pairs(X, name)
        return unknown_past(users, n_users), unknown_past(items, n_items)

    def _eval_data(self, eval_set, ratings):
        """``eval_set`` checked against the training data ``ratings`` (before anything is
        fitted): (users, items, values) for rating models, a users x items CSR of held-out
        positives for ranking models; None without an eval set."""
        if eval_set is None:
            return None
        space = self._index_space(ratings)
        if self._eval_kind == "positives":
            X = eval_set.csr if isinstance(eval_set, Ratings) else eval_set
            if not sp.issparse(X):
                raise TypeError("eval_set must be a Ratings or a sparse users x items matrix of "
                                f"held-out interactions, got {type(eval_set).__name__}")
            if X.shape != ratings.shape:
                raise ValueError(f"eval_set must have the training shape {ratings.shape}, got "
                                 f"{X.shape}")
            return check_sparse_matrix(X, "eval_set", nonnegative=self._nonnegative_input)
        if isinstance(eval_set, Ratings):
            users, items = self._index_pairs(eval_set, space=space)
            return users, items, eval_set.values
        if isinstance(eval_set, (tuple, list)) and len(eval_set) == 2:
            users, items = self._index_pairs(eval_set[0], name="eval_set[0]", space=space)
            values = check_values(eval_set[1], "eval_set[1]")
            if len(values) != len(users):
                raise ValueError(f"eval_set has {len(users)} pairs but {len(values)} values")
            return users, items, values
        raise TypeError("eval_set must be a Ratings or an (X_pairs, y) tuple")

    # ------------------------------------------------------------------ fitting
    def _check_warm_start(self, ratings, n_factors, dtype, factors="item_factors_"):
        """For a warm start: the data must have the fitted shape, and the rank and dtype must
        be those of the fitted ``factors``."""
        fitted = getattr(self, factors)
        if (self.n_users_, self.n_items_) != ratings.shape or \
                fitted.shape[1] != n_factors or fitted.dtype != dtype:
            raise ValueError(
                "warm_start needs data of the same shape, the same n_factors and the same "
                f"dtype; the model has shape {(self.n_users_, self.n_items_)}, "
                f"{fitted.shape[1]} factors, {fitted.dtype}; got "
                f"{ratings.shape}, {n_factors}, {np.dtype(dtype)}")

    def _evaluator(self, solver, space, ratings, eval_data):
        """(evaluate, eval_pad, maximize) for the loop: scores of the solver's current state
        on ``eval_data``, computed on a shallow copy of the model holding that state."""
        if eval_data is None:
            return None, None, False

        def current():
            proxy = copy.copy(self)
            vars(proxy).update(space)
            vars(proxy).update(solver.state())
            proxy._factors_changed()
            return proxy

        if self._eval_kind == "positives":
            from .metrics import ranking_metrics

            train = ratings.csr

            def evaluate():
                m = ranking_metrics(current(), train, eval_data, k=10)
                return {"eval_ndcg@10": m["ndcg"], "eval_precision@10": m["precision"]}

            return evaluate, {"eval_ndcg@10": np.nan, "eval_precision@10": np.nan}, True
        users, items, values = eval_data

        def evaluate():
            pred = current()._predict_indices(users, items)
            return {"eval_rmse": float(np.sqrt(np.mean((pred - values) ** 2))),
                    "eval_unknown": int(np.sum((users < 0) | (items < 0)))}

        return evaluate, {"eval_rmse": np.nan, "eval_unknown": -1}, False

    # ------------------------------------------------------------------ prediction
    def predict(self, X, items=None):
        """Predict ratings for (user, item) pairs.

        Parameters
        ----------
        X : Ratings, array-like of shape (n, 2), or array-like of int
            The pairs: a Ratings (mapped through raw IDs when both it and the model have them),
            an (n, 2) array of [user, item] indices, or user indices when ``items`` is given.
        items : array-like of int, optional
            Item indices, one per user in ``X``.

        Returns
        -------
        ndarray of shape (n,)
            Predicted values. Unknown users or items get the model's fallback (factor models:
            ``global_mean_`` plus the known biases). Models with ``clip=True`` clip them to the
            training range (``rating_range_``).

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> model.predict([0, 1], [2, 3]).shape
        (2,)
        """
        check_is_fitted(self)
        users, items = self._index_pairs(X, items)
        return self._predict_indices(users, items)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of ``predict(X)`` against the ratings ``y``.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> bool(model.score(data.to_pandas()[["user", "item"]], data.values) > 0)
        True
        """
        check_is_fitted(self)
        n = len(self._index_pairs(X)[0])
        y = check_values(np.ravel(y) if np.ndim(y) == 2 and np.shape(y)[1] == 1 else y, "y")
        if len(y) != n:
            raise ValueError(f"y has {len(y)} values but X has {n} pairs")
        return super().score(X, y, sample_weight=sample_weight)

    def _predict_indices(self, users, items):
        """Predictions for index pairs, ``-1`` marking an unknown user or item."""
        pred = self._fallback(users, items)
        both = np.flatnonzero((users >= 0) & (items >= 0))
        for s in range(0, len(both), 65536):
            sel = both[s:s + 65536]
            pred[sel] = self._score_pairs(users[sel], items[sel])
        return self._clip(pred)

    def _clip(self, pred):
        """Clip predictions to the training rating range when the model's ``clip`` is set."""
        if getattr(self, "clip", False) and getattr(self, "rating_range_", None) is not None:
            np.clip(pred, self.rating_range_[0], self.rating_range_[1], out=pred)
        return pred

    # ------------------------------------------------------------------ recommendation
    def recommend(self, users, n=10, *, exclude=None, filter_items=None, items=None,
                  raw_ids=False, user_items=None, as_frame=False):
        """Top-``n`` items for each user, best first.

        Parameters
        ----------
        users : int or array-like of int
            User indices (raw user IDs with ``raw_ids=True``).
        n : int, default=10
            How many items. Clipped to the number of candidate items; when a user has fewer
            candidates left after exclusions, the row is padded with index -1 and score -inf.
        exclude : Ratings or sparse matrix of shape (n_users, n_items), optional
            Interactions never to recommend again (typically the training data): the stored
            entries of each requested user's row. Only those rows are read and checked (and
            the whole ``indptr``), so a call costs O(n_users + their entries), not O(nnz).
        filter_items : array-like of int, optional
            Items never to recommend to anyone.
        items : array-like of int, optional
            Recommend only among these items.
        raw_ids : bool, default=False
            Take raw user IDs and return raw item IDs (the model must have been fitted on a
            Ratings with ID maps).
        user_items : sparse matrix of shape (n_users, n_items), optional
            The current interactions of the requested users, one row per user in ``users``:
            their fitted rows are folded in from these (the rest of the model held fixed)
            instead of read from the model, so ``users`` may be unknown to it (they are then
            only labels). These items are excluded from their recommendations (``exclude``
            must be None).
        as_frame : bool, default=False
            Return one pandas DataFrame instead (needs pandas), with columns ``user``,
            ``item``, ``score`` and ``rank`` (1 = best), users in the order given and in raw
            IDs where the model has ID maps (the labels given with ``user_items``), padding
            dropped. Join item metadata on ``item``, e.g. the titles of
            ``load_movielens(..., return_items=True)``.

        Returns
        -------
        items : ndarray of shape (n_users, n), or (n,) for a single user
        scores : ndarray of the same shape: the predicted values (unclipped)

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> items, scores = model.recommend([0, 1, 2], n=5, exclude=data)
        >>> items.shape, bool((scores[:, :-1] >= scores[:, 1:]).all())
        ((3, 5), True)
        >>> model.recommend([0, 1], n=2, exclude=data, as_frame=True).columns.tolist()
        ['user', 'item', 'score', 'rank']
        """
        from ._recommend import top_k_scored

        check_is_fitted(self)
        single = np.ndim(users) == 0
        if user_items is not None:
            if exclude is not None:
                raise ValueError("pass exclude=None with user_items: the items in user_items "
                                 "are the ones excluded")
            labels = np.atleast_1d(np.asarray(users))
            if not raw_ids:
                labels = check_index_array(labels, "users")
            elif labels.ndim != 1:
                raise ValueError(f"users must be 1-dimensional, got shape {labels.shape}")
            excl = self._check_rows(user_items, "user_items", len(labels))
        else:
            if raw_ids:
                users = raw_to_index(users, self.user_ids_, "user")
            users = check_index_array(np.atleast_1d(users), "users", self.n_users_)
            excl = None if exclude is None else self._exclusion_rows(exclude, users)
        n = check_int_param(n, "n", low=1)
        mask = self._item_mask(items, filter_items)
        n_threads = getattr(self, "n_threads", None)
        if user_items is not None:
            with threads(n_threads, blas=1):
                Q = self._folded_queries(self._fold_in_users(excl))
            offsets = self._query_offsets(None, len(labels))
        else:
            Q = self._user_queries(users)
            offsets = self._query_offsets(users, len(users))
        with threads(n_threads):
            idx, scores = top_k_scored(self._scorer(Q), len(offsets), self.n_items_, n,
                                       exclude=excl, item_mask=mask)
        scores = scores.astype(np.float64) + offsets[:, None]
        if as_frame:
            from ._frames import top_n_frame

            user_ids = getattr(self, "user_ids_", None)
            queries = labels if user_items is not None else (
                users if user_ids is None else user_ids[users])
            return top_n_frame("user", queries, "item", idx, scores,
                               getattr(self, "item_ids_", None))
        if raw_ids:
            idx = index_to_raw(idx, self.item_ids_)
        return (idx[0], scores[0]) if single else (idx, scores)

    def _item_mask(self, items, filter_items):
        if items is None and filter_items is None:
            return None
        mask = np.full(self.n_items_, items is None)
        if items is not None:
            mask[check_index_array(np.atleast_1d(items), "items", self.n_items_)] = True
        if filter_items is not None:
            mask[check_index_array(np.atleast_1d(filter_items), "filter_items",
                                   self.n_items_)] = False
        return mask

    def _scorer(self, Q):
        """``(score_block, dtype)``: ``score_block(start, stop, out)`` writes the ranking
        scores of queries ``start:stop`` of ``Q`` against every item into ``out``."""
        return (lambda start, stop, out: self._score_queries(Q, start, stop, out),
                self._score_dtype())

    def _exclusion_rows(self, exclude, users):
        """The rows ``users`` of ``exclude``, checked; only those rows are read."""
        X = exclude.csr if isinstance(exclude, Ratings) else exclude
        if sp.issparse(X) and X.shape != (self.n_users_, self.n_items_):
            raise ValueError(f"exclude must have shape ({self.n_users_}, {self.n_items_}) like "
                             f"the training data, got {X.shape}")
        return check_sparse_matrix(X, "exclude", dtype=None, rows=users)

    # ------------------------------------------------------------------ fold-in
    def transform(self, X):
        """Fold in users: their fitted rows given their interactions, the rest held fixed.

        Parameters
        ----------
        X : sparse matrix of shape (n_new_users, n_items) or Ratings
            Interactions of the users to fold in, over the training item set.

        Returns
        -------
        ndarray of shape (n_new_users, n_factors)

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> model.transform(data.csr[:3]).shape
        (3, 4)
        """
        check_is_fitted(self)
        X = self._check_rows(X, "X")
        with threads(getattr(self, "n_threads", None), blas=1):
            return self._fold_in_users(X)[self._user_arrays[0]]

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the fitted rows of the training users (``transform`` of them)."""
        return getattr(self.fit(X, y, **fit_params), self._user_arrays[0])

    def _check_rows(self, X, name, n_rows=None, over_users=False):
        """``X`` (a sparse matrix or a Ratings) checked as rows to fold in: canonical CSR over
        the model's items (its users when ``over_users``), with ``n_rows`` rows if given."""
        X = X.csr if isinstance(X, Ratings) else X
        n_cols, what = (self.n_users_, "users") if over_users else (self.n_items_, "items")
        if sp.issparse(X) and X.ndim == 2:
            if n_rows is not None and X.shape != (n_rows, n_cols):
                raise ValueError(
                    f"{name} must have shape ({n_rows}, {n_cols}): one row per requested "
                    f"{'item' if over_users else 'user'} over the model's {what}, got {X.shape}")
            if X.shape[1] != n_cols:
                raise ValueError(f"{name} has {X.shape[1]} {what} (columns); the model was "
                                 f"fitted on {n_cols}")
        return check_sparse_matrix(X, name, nonnegative=self._nonnegative_input)

    def recalculate_user(self, users, user_items):
        """Fitted rows of ``users`` recomputed from their current interactions, not stored.

        Parameters
        ----------
        users : int or array-like of int
            User indices; users unknown to the model are allowed (the result does not depend
            on them, only on ``user_items``).
        user_items : sparse matrix of shape (n_users, n_items)
            One row of interactions per user.

        Returns
        -------
        ndarray of shape (n_users, n_factors), or (n_factors,) for a single user

        Examples
        --------
        >>> import fastmf
        >>> X = fastmf.datasets.make_counts(50, 30, rank=3, random_state=0).csr
        >>> model = fastmf.ImplicitALS(4, cg_steps=None, n_iter=3, random_state=0).fit(X)
        >>> bool(abs(model.recalculate_user(2, X[2]) - model.user_factors_[2]).max() < 1e-4)
        True
        """
        check_is_fitted(self)
        single = np.ndim(users) == 0
        users = check_index_array(np.atleast_1d(users), "users")
        X = self._check_rows(user_items, "user_items", len(users))
        with threads(getattr(self, "n_threads", None), blas=1):
            W = self._fold_in_users(X)[self._user_arrays[0]]
        return W[0] if single else W

    def partial_fit_users(self, users, user_items):
        """Set the fitted rows of ``users`` by fold-in from ``user_items``, adding new users.

        Indices past ``n_users_`` grow every per-user array (users in the gap get zeros).
        Everything per item is unchanged.

        Parameters
        ----------
        users : array-like of int
            User indices, without repeats.
        user_items : sparse matrix of shape (n_users, n_items)
            One row of interactions per user.

        Returns
        -------
        self

        Examples
        --------
        >>> import fastmf
        >>> X = fastmf.datasets.make_counts(50, 30, rank=3, random_state=0).csr
        >>> model = fastmf.ImplicitALS(4, n_iter=3, random_state=0).fit(X)
        >>> model.partial_fit_users([50, 51], X[:2]).user_factors_.shape
        (52, 4)
        """
        check_is_fitted(self)
        users = self._new_indices(users, "users", self.user_ids_, "user")
        X = self._check_rows(user_items, "user_items", len(users))
        with threads(getattr(self, "n_threads", None), blas=1):
            rows = self._fold_in_users(X)
        self.n_users_ = self._set_rows(self._user_arrays, rows, users, self.n_users_)
        self._factors_changed()
        return self

    def partial_fit_items(self, items, item_users):
        """Set the fitted rows of ``items`` by fold-in from ``item_users``, adding new items.

        Indices past ``n_items_`` grow every per-item array (items in the gap get zeros).
        Everything per user is unchanged.

        Parameters
        ----------
        items : array-like of int
            Item indices, without repeats.
        item_users : sparse matrix of shape (n_items, n_users)
            One row per item: the users who interacted with it (and their values).

        Returns
        -------
        self

        Examples
        --------
        >>> import fastmf
        >>> X = fastmf.datasets.make_counts(50, 30, rank=3, random_state=0).csr
        >>> model = fastmf.ImplicitALS(4, n_iter=3, random_state=0).fit(X)
        >>> model.partial_fit_items([30], X.T.tocsr()[:1]).item_factors_.shape
        (31, 4)
        """
        check_is_fitted(self)
        items = self._new_indices(items, "items", self.item_ids_, "item")
        X = self._check_rows(item_users, "item_users", len(items), over_users=True)
        with threads(getattr(self, "n_threads", None), blas=1):
            rows = self._fold_in_items(X)
        self.n_items_ = self._set_rows(self._item_arrays, rows, items, self.n_items_)
        self._factors_changed()
        return self

    def _set_rows(self, names, rows, index, n):
        """Grow the arrays ``names`` to cover ``index`` and store ``rows`` (by name) there."""
        n = max(n, int(index.max()) + 1)
        for name in names:
            current = getattr(self, name, None)
            if current is None:
                continue
            current = grow(current, n)
            if name in rows:
                current[index] = rows[name]
            setattr(self, name, current)
        return n

    def _new_indices(self, index, name, ids, what):
        index = check_index_array(np.atleast_1d(index), name)
        if len(index) == 0:
            raise ValueError(f"{name} is empty")
        if len(np.unique(index)) != len(index):
            raise ValueError(f"{name} must not repeat an index")
        n = self.n_users_ if what == "user" else self.n_items_
        if ids is not None and index.max() >= n:
            raise ValueError(f"the model maps raw {what} IDs; new {what}s cannot be added by "
                             "index (refit on a Ratings that includes them)")
        return index

    def _fold_in_items(self, X):
        raise NotImplementedError(f"{type(self).__name__} cannot fold in new items")


class FactorModel(Recommender):
    """Base class of the latent-factor recommenders: ``mu + b_u + c_i + w_u^T h_i``.

    A subclass fits ``user_factors_`` (n_users, k) and ``item_factors_`` (n_items, k),
    optionally ``user_bias_``, ``item_bias_`` and ``global_mean_``, and implements ``fit`` and
    ``_fold_in_users``. Its transformer view has ``components_`` (the item factors).
    ``_symmetric_fold_in = True`` declares that folding in items is the users' fold-in on the
    transposed problem (item factors and biases playing the users' part); other models
    implement ``_fold_in_items`` themselves.

    Examples
    --------
    A prediction is the inner product of the factors plus the biases:

    >>> import numpy as np, fastmf
    >>> ratings = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
    >>> mf = fastmf.MatrixFactorization(4, n_iter=3, clip=False, random_state=0).fit(ratings)
    >>> isinstance(mf, fastmf.base.FactorModel)
    True
    >>> by_hand = (mf.global_mean_ + mf.user_bias_[0] + mf.item_bias_[5]
    ...            + mf.user_factors_[0] @ mf.item_factors_[5])
    >>> bool(np.isclose(mf.predict([0], [5])[0], by_hand, rtol=1e-5))
    True
    """

    _fitted_arrays = ("user_factors_", "item_factors_")
    _user_arrays = ("user_factors_", "user_bias_")
    _item_arrays = ("item_factors_", "item_bias_")
    _symmetric_fold_in = False

    # ------------------------------------------------------------------ scores
    def _fallback(self, users, items):
        pred = np.full(len(users), float(self.global_mean_))
        ku, ki = users >= 0, items >= 0
        if getattr(self, "user_bias_", None) is not None:
            pred[ku] += self.user_bias_[users[ku]]
        if getattr(self, "item_bias_", None) is not None:
            pred[ki] += self.item_bias_[items[ki]]
        return pred

    def _score_pairs(self, users, items):
        pred = self._fallback(users, items)
        return pred + np.einsum("ij,ij->i", self.user_factors_[users],
                                self.item_factors_[items])

    def _ranking_factors(self):
        """(U, V) such that ``U @ V.T`` orders each user's items as ``predict`` does."""
        U, V = self.user_factors_, self.item_factors_
        if getattr(self, "item_bias_", None) is None:
            return U, V
        return (np.hstack([U, np.ones((len(U), 1), U.dtype)]),
                np.hstack([V, self.item_bias_[:, None].astype(V.dtype)]))

    def _user_queries(self, users):
        return self._folded_queries({"user_factors_": self.user_factors_[users]})

    def _folded_queries(self, state):
        W = state["user_factors_"]
        if getattr(self, "item_bias_", None) is None:
            return W
        return np.hstack([W, np.ones((len(W), 1), W.dtype)])

    def _query_offsets(self, users, n):
        """What ``recommend`` adds to the ranking scores: mu (+ b_u for known users)."""
        offset = np.full(n, float(self.global_mean_))
        if users is not None and getattr(self, "user_bias_", None) is not None:
            offset += self.user_bias_[users]
        return offset

    def _scorer(self, Q):
        from ._recommend import inner_product_scorer

        return inner_product_scorer(Q, self._ranking_factors()[1])

    # ------------------------------------------------------------------ transformer view
    @property
    def components_(self):
        """Item factors, of shape (n_items, n_factors) (scikit-learn's transformer name)."""
        check_is_fitted(self)
        return self.item_factors_

    def similar_items(self, items, n=10, *, raw_ids=False, as_frame=False):
        """The ``n`` items most similar to each given item by cosine of their factors.

        The item itself is never returned. Returns ``(items, similarities)`` shaped like
        :meth:`recommend`'s output, or with ``as_frame=True`` one DataFrame with columns
        ``item``, ``similar_item``, ``score`` (the cosine) and ``rank``, in raw IDs where the
        model has ID maps.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> ids, sims = model.similar_items(3, n=4)
        >>> 3 in ids, bool(sims.max() <= 1 + 1e-6)
        (False, True)
        """
        check_is_fitted(self)
        return self._similar(items, n, self.item_factors_, self.item_ids_, "item", raw_ids,
                             as_frame)

    def similar_users(self, users, n=10, *, raw_ids=False, as_frame=False):
        """The ``n`` users most similar to each given user by cosine of their factors.

        Like :meth:`similar_items`; the frame's columns are ``user``, ``similar_user``,
        ``score`` and ``rank``.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> model.similar_users([0, 1], n=3)[0].shape
        (2, 3)
        """
        check_is_fitted(self)
        return self._similar(users, n, self.user_factors_, self.user_ids_, "user", raw_ids,
                             as_frame)

    def _similar(self, which, n, factors, ids, what, raw_ids, as_frame):
        from ._recommend import top_k

        single = np.ndim(which) == 0
        if raw_ids:
            which = raw_to_index(which, ids, what)
        which = check_index_array(np.atleast_1d(which), f"{what}s", len(factors))
        n = check_int_param(n, "n", low=1)
        norms = np.linalg.norm(factors, axis=1)
        unit = factors / np.where(norms > 0, norms, 1)[:, None].astype(factors.dtype)
        self_excl = sp.csr_matrix((np.ones(len(which)), which, np.arange(len(which) + 1)),
                                  shape=(len(which), len(factors)))
        with threads(getattr(self, "n_threads", None)):
            idx, sims = top_k(unit[which], unit, n, exclude=self_excl)
        if as_frame:
            from ._frames import top_n_frame

            return top_n_frame(what, which if ids is None else ids[which], f"similar_{what}",
                               idx, sims, ids)
        if raw_ids:
            idx = index_to_raw(idx, ids)
        return (idx[0], sims[0]) if single else (idx, sims)

    def _fold_in_items(self, X):
        """For ``_symmetric_fold_in`` models: the users' fold-in of the transposed model."""
        if not self._symmetric_fold_in:
            return super()._fold_in_items(X)
        t = copy.copy(self)  # the transposed model: users are its items
        t.item_factors_, t.user_factors_ = self.user_factors_, self.item_factors_
        ub, ib = getattr(self, "user_bias_", None), getattr(self, "item_bias_", None)
        # the bias the transposed rows fit is the items' own (absent: no bias fitted)
        t.user_bias_ = ib
        t.item_bias_ = ub if ub is not None or ib is None else np.zeros(self.n_users_, ib.dtype)
        t.n_users_, t.n_items_ = self.n_items_, self.n_users_
        t._factors_changed()
        rows = t._fold_in_users(X)
        return {"item_factors_": rows["user_factors_"],
                **({"item_bias_": rows["user_bias_"]} if "user_bias_" in rows else {})}

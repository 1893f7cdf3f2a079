"""``FactorModel``: what every latent-factor recommender shares.

A subclass fits ``user_factors_`` (n_users, k) and ``item_factors_`` (n_items, k), optionally
``user_bias_``, ``item_bias_`` and ``global_mean_``, so that a rating is predicted as
``global_mean_ + user_bias_[u] + item_bias_[i] + user_factors_[u] @ item_factors_[i]``; it
implements ``fit`` (through :meth:`FactorModel._iterate`) and ``_fold_in``. Everything else —
prediction with unknown-ID fallback, top-N recommendation, similar items and users, fold-in,
saving — lives here once.
"""

import numpy as np
import scipy.sparse as sp

from ._config import threads
from ._fitting import run_iterations
from ._persist import SaveMixin, load
from ._ratings import Ratings, _py
from ._sklearn_compat import BaseEstimator, RegressorMixin
from ._validation import (
    check_index_array,
    check_int_param,
    check_is_fitted,
    check_sparse_matrix,
    check_values,
)

__all__ = ["FactorModel", "load"]


class FactorModel(SaveMixin, RegressorMixin, BaseEstimator):
    """Base class of the latent-factor recommenders.

    Two scikit-learn views share one model: ``fit(X)`` with ``X`` a sparse users x items matrix
    or a :class:`~fastmf.Ratings` (transformer view: ``transform`` folds in new users,
    ``components_`` is the item-factor matrix), and ``fit(X, y)`` with ``X`` an (n, 2) array of
    [user, item] indices and ``y`` the ratings (regressor view: ``predict(X)`` and ``score``
    work with ``cross_val_score`` and ``GridSearchCV``).

    Users or items never seen in training (an index past the training range, or a raw ID the
    model does not know) are predicted as ``global_mean_`` plus whatever bias is known.
    """

    #: Whether the interactions a fold-in reads must be non-negative (implicit counts, NMF).
    _nonnegative_input = False
    #: Arrays every fitted model holds (``fastmf.load`` checks a file has them).
    _fitted_arrays = ("user_factors_", "item_factors_")

    # ------------------------------------------------------------------ input
    def _validate_data(self, X, y=None):
        """Turn the arguments of ``fit`` into a :class:`Ratings`."""
        if isinstance(X, Ratings):
            if y is not None:
                raise ValueError("y must be None when X is a Ratings (it holds the values)")
            return X
        if sp.issparse(X):
            if y is not None:
                raise ValueError("y must be None when X is a sparse users x items matrix")
            return Ratings.from_sparse(X)
        users, items = _split_pairs(X)
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

    def _set_index_space(self, ratings):
        """Record the ID space of the training data (called by ``fit``), and for models with
        a ``clip`` parameter the range of the training values (``rating_range_``)."""
        self.n_users_, self.n_items_ = ratings.shape
        self.user_ids_, self.item_ids_ = ratings.user_ids, ratings.item_ids
        if hasattr(self, "clip"):
            self.rating_range_ = [float(ratings.values.min()), float(ratings.values.max())]

    def _index_pairs(self, X, items=None, name="X"):
        """Model indices (``-1`` where unknown) of the (user, item) pairs described by ``X``
        (called ``name`` in error messages)."""
        if items is not None:
            users = check_index_array(np.atleast_1d(X), "users")
            items = check_index_array(np.atleast_1d(items), "items")
            if len(users) != len(items):
                raise ValueError(f"users has {len(users)} entries but items has {len(items)}")
            return _unknown_past(users, self.n_users_), _unknown_past(items, self.n_items_)
        if isinstance(X, Ratings):
            umap = _id_map(self.user_ids_, X.user_ids, X.n_users, self.n_users_)
            imap = _id_map(self.item_ids_, X.item_ids, X.n_items, self.n_items_)
            return umap[X.users], imap[X.items]
        if sp.issparse(X):
            raise TypeError(f"{name} must be a Ratings, an (n, 2) array of [user, item] pairs, "
                            "or users (with items); for a sparse matrix of new users use "
                            "transform")
        users, items = _split_pairs(X, name)
        return _unknown_past(users, self.n_users_), _unknown_past(items, self.n_items_)

    def _eval_data(self, eval_set):
        """``eval_set`` (a Ratings or an ``(X_pairs, y)`` tuple) as (users, items, values)."""
        if eval_set is None:
            return None
        if isinstance(eval_set, Ratings):
            users, items = self._index_pairs(eval_set)
            return users, items, eval_set.values
        if isinstance(eval_set, (tuple, list)) and len(eval_set) == 2:
            users, items = self._index_pairs(eval_set[0], name="eval_set[0]")
            values = check_values(eval_set[1], "eval_set[1]")
            if len(values) != len(users):
                raise ValueError(f"eval_set has {len(users)} pairs but {len(values)} values")
            return users, items, values
        raise TypeError("eval_set must be a Ratings or an (X_pairs, y) tuple")

    # ------------------------------------------------------------------ the fitting loop
    def _iterate(self, step, n_iter, state, eval_data=None, early_stopping_rounds=None,
                 divergence_hint=""):
        """Run ``step()`` ``n_iter`` times through :func:`~fastmf._fitting.run_iterations`.

        ``step`` performs one iteration in place on the arrays listed in ``state`` and returns
        the training objective; ``eval_data`` (from :meth:`_eval_data`) adds ``eval_rmse`` and
        ``eval_unknown`` (pairs with an unknown user or item) to ``history_``.
        """
        evaluate = None
        if eval_data is not None:
            users, items, values = eval_data

            def evaluate():
                pred = self._predict_indices(users, items)
                return {"eval_rmse": float(np.sqrt(np.mean((pred - values) ** 2))),
                        "eval_unknown": int(np.sum((users < 0) | (items < 0)))}

        run_iterations(self, step, n_iter, state, warm=self._warm,
                       eval_pad={"eval_rmse": np.nan, "eval_unknown": -1}, evaluate=evaluate,
                       early_stopping_rounds=early_stopping_rounds,
                       divergence_hint=divergence_hint)
        return self

    @property
    def _warm(self):
        return bool(getattr(self, "warm_start", False)) and hasattr(self, "item_factors_")

    def _check_warm_start(self, ratings, dtype):
        """For a warm start: the data must have the fitted shape, and ``n_factors`` and
        ``dtype`` must be those of the fitted factors."""
        if (self.n_users_, self.n_items_) != ratings.shape or \
                self.item_factors_.shape[1] != self.n_factors or \
                self.item_factors_.dtype != dtype:
            raise ValueError(
                "warm_start needs data of the same shape, the same n_factors and the same "
                f"dtype; the model has shape {(self.n_users_, self.n_items_)}, "
                f"{self.item_factors_.shape[1]} factors, {self.item_factors_.dtype}; got "
                f"{ratings.shape}, {self.n_factors}, {np.dtype(dtype)}")

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
            Predicted values. Unknown users or items get ``global_mean_`` plus the known biases.
            Models with ``clip=True`` clip them to the training range (``rating_range_``).

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
        pred = np.full(len(users), float(self.global_mean_))
        ku, ki = users >= 0, items >= 0
        if getattr(self, "user_bias_", None) is not None:
            pred[ku] += self.user_bias_[users[ku]]
        if getattr(self, "item_bias_", None) is not None:
            pred[ki] += self.item_bias_[items[ki]]
        both = np.flatnonzero(ku & ki)
        for s in range(0, len(both), 65536):
            sel = both[s:s + 65536]
            pred[sel] += np.einsum("ij,ij->i", self.user_factors_[users[sel]],
                                   self.item_factors_[items[sel]])
        return self._clip(pred)

    def _clip(self, pred):
        """Clip predictions to the training rating range when the model's ``clip`` is set."""
        if getattr(self, "clip", False) and getattr(self, "rating_range_", None) is not None:
            np.clip(pred, self.rating_range_[0], self.rating_range_[1], out=pred)
        return pred

    def _ranking_factors(self):
        """(U, V) such that ``U @ V.T`` orders each user's items as ``predict`` does."""
        U, V = self.user_factors_, self.item_factors_
        if getattr(self, "item_bias_", None) is None:
            return U, V
        return (np.hstack([U, np.ones((len(U), 1), U.dtype)]),
                np.hstack([V, self.item_bias_[:, None].astype(V.dtype)]))

    def _ranking_query(self, W):
        """The rows of ``_ranking_factors()[0]`` for users whose factors are ``W``."""
        if getattr(self, "item_bias_", None) is None:
            return W
        return np.hstack([W, np.ones((len(W), 1), W.dtype)])

    def _user_offset(self, users):
        offset = np.full(len(users), float(self.global_mean_))
        if getattr(self, "user_bias_", None) is not None:
            offset += self.user_bias_[users]
        return offset

    # ------------------------------------------------------------------ recommendation
    def recommend(self, users, n=10, *, exclude=None, filter_items=None, items=None,
                  raw_ids=False, user_items=None):
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
            their factors are folded in from these rows (items held fixed) instead of read
            from the model, so ``users`` may be unknown to it (they are then only labels).
            These items are excluded from their recommendations (``exclude`` must be None).
            Scores then carry no user bias.

        Returns
        -------
        items : ndarray of shape (n_users, n), or (n,) for a single user
        scores : ndarray of the same shape: the predicted values

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> items, scores = model.recommend([0, 1, 2], n=5, exclude=data)
        >>> items.shape, bool((scores[:, :-1] >= scores[:, 1:]).all())
        ((3, 5), True)
        """
        from ._recommend import top_k

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
                users = self._raw_to_index(users, self.user_ids_, "user")
            users = check_index_array(np.atleast_1d(users), "users", self.n_users_)
        n = check_int_param(n, "n", low=1)
        mask = None
        if items is not None or filter_items is not None:
            mask = np.full(self.n_items_, items is None)
            if items is not None:
                mask[check_index_array(np.atleast_1d(items), "items", self.n_items_)] = True
            if filter_items is not None:
                mask[check_index_array(np.atleast_1d(filter_items), "filter_items",
                                       self.n_items_)] = False
        U, V = self._ranking_factors()
        if user_items is not None:
            with threads(getattr(self, "n_threads", None), blas=1):
                query = self._ranking_query(self._fold_in(excl))
            with threads(getattr(self, "n_threads", None)):
                idx, scores = top_k(query, V, n, exclude=excl, item_mask=mask)
            scores = scores.astype(np.float64) + float(self.global_mean_)
        else:
            excl = None if exclude is None else self._exclusion_rows(exclude, users)
            with threads(getattr(self, "n_threads", None)):
                idx, scores = top_k(U[users], V, n, exclude=excl, item_mask=mask)
            scores = scores.astype(np.float64) + self._user_offset(users)[:, None]
        if raw_ids:
            idx = self._index_to_raw(idx, self.item_ids_)
        return (idx[0], scores[0]) if single else (idx, scores)

    def similar_items(self, items, n=10, *, raw_ids=False):
        """The ``n`` items most similar to each given item by cosine of their factors.

        The item itself is never returned. Returns ``(items, similarities)`` shaped like
        :meth:`recommend`'s output.

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
        return self._similar(items, n, self.item_factors_, self.item_ids_, "item", raw_ids)

    def similar_users(self, users, n=10, *, raw_ids=False):
        """The ``n`` users most similar to each given user by cosine of their factors.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(60, 40, 800, random_state=0)
        >>> model = fastmf.MatrixFactorization(n_factors=4, n_iter=5, random_state=0).fit(data)
        >>> model.similar_users([0, 1], n=3)[0].shape
        (2, 3)
        """
        check_is_fitted(self)
        return self._similar(users, n, self.user_factors_, self.user_ids_, "user", raw_ids)

    def _similar(self, which, n, factors, ids, what, raw_ids):
        from ._recommend import top_k

        single = np.ndim(which) == 0
        if raw_ids:
            which = self._raw_to_index(which, ids, what)
        which = check_index_array(np.atleast_1d(which), f"{what}s", len(factors))
        n = check_int_param(n, "n", low=1)
        norms = np.linalg.norm(factors, axis=1)
        unit = factors / np.where(norms > 0, norms, 1)[:, None].astype(factors.dtype)
        self_excl = sp.csr_matrix((np.ones(len(which)), which, np.arange(len(which) + 1)),
                                  shape=(len(which), len(factors)))
        with threads(getattr(self, "n_threads", None)):
            idx, sims = top_k(unit[which], unit, n, exclude=self_excl)
        if raw_ids:
            idx = self._index_to_raw(idx, ids)
        return (idx[0], sims[0]) if single else (idx, sims)

    def _exclusion_rows(self, exclude, users):
        """The rows ``users`` of ``exclude``, checked; only those rows are read."""
        X = exclude.csr if isinstance(exclude, Ratings) else exclude
        if sp.issparse(X) and X.shape != (self.n_users_, self.n_items_):
            raise ValueError(f"exclude must have shape ({self.n_users_}, {self.n_items_}) like "
                             f"the training data, got {X.shape}")
        return check_sparse_matrix(X, "exclude", dtype=None, rows=users)

    def _raw_to_index(self, raw, ids, what):
        if ids is None:
            raise ValueError(f"raw_ids=True needs a model fitted on a Ratings with {what} IDs")
        index = _id_map(ids, np.atleast_1d(np.asarray(raw)), None, len(ids))
        if (index < 0).any():
            bad = np.atleast_1d(raw)[int(np.argmin(index))]
            raise KeyError(f"unknown {what} ID {_py(bad)!r}")
        return index[0] if np.ndim(raw) == 0 else index

    @staticmethod
    def _index_to_raw(idx, ids):
        out = ids[np.maximum(idx, 0)]
        if (idx < 0).any():
            out = out.astype(object)
            out[idx < 0] = None
        return out

    # ------------------------------------------------------------------ transformer view
    @property
    def components_(self):
        """Item factors, of shape (n_items, n_factors) (scikit-learn's transformer name)."""
        check_is_fitted(self)
        return self.item_factors_

    def transform(self, X):
        """Fold in users: their factors given their interactions, item factors held fixed.

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
            return self._fold_in(X)

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return ``user_factors_`` (the transform of the training users)."""
        return self.fit(X, y, **fit_params).user_factors_

    def _fold_in(self, X):  # pragma: no cover - every model implements it
        raise NotImplementedError

    def _factors_changed(self):
        """Hook: drop caches derived from the factors (e.g. a Gram matrix). Default: none."""

    # ------------------------------------------------------------------ incremental updates
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
        """Factors of ``users`` recomputed from their current interactions, not stored.

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
        >>> model = fastmf.ImplicitALS(4, solver="cholesky", n_iter=3, random_state=0).fit(X)
        >>> bool(abs(model.recalculate_user(2, X[2]) - model.user_factors_[2]).max() < 1e-4)
        True
        """
        check_is_fitted(self)
        single = np.ndim(users) == 0
        users = check_index_array(np.atleast_1d(users), "users")
        X = self._check_rows(user_items, "user_items", len(users))
        with threads(getattr(self, "n_threads", None), blas=1):
            W = self._fold_in(X)
        return W[0] if single else W

    def partial_fit_users(self, users, user_items):
        """Set the factors of ``users`` by fold-in from ``user_items``, adding new users.

        Indices past ``n_users_`` grow ``user_factors_`` (users in the gap get zero factors)
        and ``user_bias_`` (new biases are 0). Item factors are unchanged.

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
            W = self._fold_in(X)
        n = max(self.n_users_, int(users.max()) + 1)
        self.user_factors_ = _grow(self.user_factors_, n)
        if getattr(self, "user_bias_", None) is not None:
            self.user_bias_ = _grow(self.user_bias_, n)
        self.user_factors_[users] = W
        self.n_users_ = n
        return self

    def partial_fit_items(self, items, item_users):
        """Set the factors of ``items`` by fold-in from ``item_users``, adding new items.

        The model's own fold-in runs on the transposed problem (user factors held fixed, the
        user biases playing the item biases' part); new item biases are 0 and existing ones
        are kept. Indices past ``n_items_`` grow ``item_factors_`` and ``item_bias_``.

        Parameters
        ----------
        items : array-like of int
            Item indices, without repeats.
        item_users : sparse matrix of shape (n_items, n_users)
            One row per item: the users who interacted with it.

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
        import copy

        check_is_fitted(self)
        items = self._new_indices(items, "items", self.item_ids_, "item")
        X = self._check_rows(item_users, "item_users", len(items), over_users=True)
        t = copy.copy(self)  # the transposed model: users are its items
        t.item_factors_, t.user_factors_ = self.user_factors_, self.item_factors_
        ub, ib = getattr(self, "user_bias_", None), getattr(self, "item_bias_", None)
        t.item_bias_ = ub if ub is not None or ib is None else \
            np.zeros(self.n_users_, ib.dtype)
        t.user_bias_ = ib
        t.n_users_, t.n_items_ = self.n_items_, self.n_users_
        t._factors_changed()
        with threads(getattr(self, "n_threads", None), blas=1):
            H = t._fold_in(X)
        n = max(self.n_items_, int(items.max()) + 1)
        self.item_factors_ = _grow(self.item_factors_, n)
        if ib is not None:
            self.item_bias_ = _grow(ib, n)
        self.item_factors_[items] = H
        self.n_items_ = n
        self._factors_changed()
        return self

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


def _grow(a, n):
    """``a`` with rows appended (zeros) up to ``n`` rows."""
    if len(a) >= n:
        return a
    out = np.zeros((n,) + a.shape[1:], dtype=a.dtype)
    out[:len(a)] = a
    return out


def _split_pairs(X, name="X"):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name} must be an (n, 2) array of [user, item] indices, got shape "
                         f"{X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no [user, item] pairs")
    return (check_index_array(X[:, 0], f"{name}[:, 0] (users)"),
            check_index_array(X[:, 1], f"{name}[:, 1] (items)"))


def _unknown_past(index, n):
    return np.where(index < n, index, -1)


def _id_map(model_ids, data_ids, n_data, n_model):
    """Array mapping each data index to the model index of the same raw ID (-1 if unknown)."""
    if model_ids is None or data_ids is None:
        return _unknown_past(np.arange(n_data), n_model)
    if model_ids is data_ids:
        return np.arange(n_data)
    if model_ids.dtype != object and data_ids.dtype != object:
        order = np.argsort(model_ids, kind="stable")
        sorted_ids = model_ids[order]
        pos = np.minimum(np.searchsorted(sorted_ids, data_ids), len(order) - 1)
        return np.where(sorted_ids[pos] == data_ids, order[pos], -1)
    table = {x: k for k, x in enumerate(model_ids.tolist())}
    return np.array([table.get(x, -1) for x in data_ids.tolist()], dtype=np.int64)

"""``Popularity``: the baseline every top-N figure needs beside it."""

import numpy as np

from ._solvers.popularity import item_scores
from ._validation import check_option
from .base import FactorModel

__all__ = ["Popularity"]


class Popularity(FactorModel):
    r"""Recommend the most popular items to everyone: the score of item :math:`i` is the number
    of users with a positive interaction with it (``weighting="count"``) or the sum of its
    values (``"sum"``).

    It is a factor model with one factor (every user's factor is 1, item :math:`i`'s is its
    score), so ``recommend`` (with exclusions), ``ranking_metrics``, save/load and both
    scikit-learn views work as for every other model. ``predict`` returns the item scores, not
    ratings; unknown items score 0.

    Parameters
    ----------
    weighting : {"count", "sum"}, default="count"
        Count the positive entries of each item's column, or add up its values.
    n_threads : int or None, default=None
        Threads of ``recommend`` and the ranking metrics.

    Attributes
    ----------
    item_popularity_ : ndarray of shape (n_items,)
        The item scores.
    user_factors_ : ndarray of shape (n_users, 1)
        All ones.
    item_factors_ : ndarray of shape (n_items, 1)
        ``item_popularity_`` as a column.
    global_mean_ : float
        Always 0.

    Examples
    --------
    >>> import fastmf
    >>> counts = fastmf.datasets.make_counts(100, 40, rank=3, random_state=0)
    >>> model = fastmf.Popularity().fit(counts)
    >>> items, _ = model.recommend([0, 1], n=3, exclude=counts)
    >>> items.shape, bool(model.recommend(0, n=1)[0][0] == model.item_popularity_.argmax())
    ((2, 3), True)
    """

    _nonnegative_input = True

    def __init__(self, *, weighting="count", n_threads=None):
        self.weighting = weighting
        self.n_threads = n_threads

    _item_arrays = ("item_factors_", "item_popularity_")

    def fit(self, X, y=None):
        """Count (or sum) each item's interactions.

        Parameters
        ----------
        X : Ratings, sparse matrix of shape (n_users, n_items), or array of shape (n, 2)
            Interactions (non-negative), or [user, item] pairs with their values in ``y``.
        y : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        params = {"weighting": check_option(self.weighting, "weighting", ("count", "sum"))}
        ratings = self._validate_data(X, y)
        if ratings.values.min() < 0:
            pos = int(np.argmin(ratings.values))
            raise ValueError(f"X must be non-negative (interactions): found "
                             f"{ratings.values[pos]} for user {ratings.users[pos]}, item "
                             f"{ratings.items[pos]}")
        return self._fit_solver("count", ratings, {}, params, None, ratings, n_iter=1)

    def _fold_in_users(self, X):
        return {"user_factors_": np.ones((X.shape[0], 1), np.float64)}

    def _fold_in_items(self, X):
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        scores = item_scores(rows, X.data, X.shape[0], self.weighting)
        return {"item_factors_": scores[:, None], "item_popularity_": scores}

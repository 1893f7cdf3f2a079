"""Popularity's one step: count (or add up) each item's interactions."""

import numpy as np

from .base import Solver


def item_scores(items, values, n_items, weighting):
    """Per item: the number of positive entries (``"count"``) or the sum of the values."""
    weights = (values > 0) if weighting == "count" else values
    return np.bincount(items, weights=weights, minlength=n_items).astype(np.float64)


class PopularitySolver(Solver):
    """``step()`` sets the item scores and returns their total."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        self.ratings, self.weighting = ratings, params["weighting"]

    def step(self):
        r = self.ratings
        scores = item_scores(r.items, r.values, r.n_items, self.weighting)
        self._state = {"item_popularity_": scores,
                       "user_factors_": np.ones((r.n_users, 1), np.float64),
                       "item_factors_": scores[:, None].copy(), "global_mean_": 0.0,
                       "user_bias_": None, "item_bias_": None}
        return float(scores.sum())

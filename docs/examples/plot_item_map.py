"""
A map of the items
==================

Project the item factors of a fitted model on their first two principal components. Items
with similar factors are rated alike; on MovieLens, label the points with the titles of
``load_movielens(..., return_items=True)``.
"""

import matplotlib.pyplot as plt

import fastmf
from fastmf.plotting import plot_items

ratings = fastmf.datasets.make_ratings(1500, 300, 45_000, rank=2, noise=0.2, random_state=2)
model = fastmf.MatrixFactorization(n_factors=8, n_iter=10, random_state=0).fit(ratings)

plot_items(model, labels=[f"item {i}" for i in range(ratings.n_items)], annotate=12)
plt.show()

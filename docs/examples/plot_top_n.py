"""
Top-N lists, in names, and how good they are
============================================

Fit a ranking model on implicit feedback, read its top-5 lists with item names instead of
IDs, and compare precision and recall at k with the popularity baseline.
"""

import matplotlib.pyplot as plt
import pandas as pd

import fastmf
from fastmf.plotting import plot_ranking

# ratings whose observation depends on taste (users rate what they like), as in real data
ratings = fastmf.datasets.make_ratings(3000, 800, 90_000, selection=2.0, random_state=1)
names = pd.Series({i: f"title {i}" for i in range(ratings.n_items)})  # e.g. MovieLens titles
train, test = fastmf.model_selection.train_test_split(ratings, test_size=0.2, random_state=0)
liked = test.subset(test.values >= 4)

model = fastmf.ImplicitALS(n_factors=32, random_state=0).fit(train)
items, scores = model.recommend([0, 1, 2], n=5, exclude=train)
for user, row in zip([0, 1, 2], items, strict=True):
    print(f"user {user}:", ", ".join(names[row]))

plot_ranking({"ImplicitALS": model, "popularity": fastmf.Popularity().fit(train)}, train,
             liked, ks=[1, 2, 5, 10, 20, 50])
plt.show()

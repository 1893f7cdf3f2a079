"""
Rating prediction in a few lines
================================

Fit biased matrix factorization by ALS on synthetic ratings with a planted low-rank
structure, follow the training objective and the held-out RMSE per iteration, and compare with
the global-mean baseline.
"""

import matplotlib.pyplot as plt
import numpy as np

import fastmf
from fastmf.plotting import plot_history

ratings = fastmf.datasets.make_ratings(2000, 1000, 60_000, selection=2.0, random_state=0)
train, test = fastmf.model_selection.train_test_split(ratings, test_size=0.1, random_state=0)

model = fastmf.MatrixFactorization(n_factors=16, n_iter=12, random_state=0)
model.fit(train, eval_set=test)

rmse = fastmf.metrics.rmse(test.values, model.predict(test))
baseline = fastmf.metrics.rmse(test.values, np.full(test.nnz, train.values.mean()))
print(f"test RMSE {rmse:.4f} (global mean: {baseline:.4f})")

plot_history(model)
plt.show()

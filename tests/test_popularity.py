import numpy as np
import pytest
import scipy.sparse as sp

import fastmf


def test_ranks_items_by_count_or_sum_and_excludes_seen():
    X = sp.csr_matrix(np.array([[1, 0, 3, 0], [2, 0, 1, 0], [0, 0, 5, 1.0]]))
    model = fastmf.Popularity().fit(X)
    np.testing.assert_array_equal(model.item_popularity_, [2, 0, 3, 1])
    items, scores = model.recommend([0, 1, 2], n=2, exclude=X)
    np.testing.assert_array_equal(items, [[3, 1], [3, 1], [0, 1]])
    np.testing.assert_array_equal(scores, [[1, 0], [1, 0], [2, 0]])
    by_sum = fastmf.Popularity(weighting="sum").fit(X)
    np.testing.assert_array_equal(by_sum.item_popularity_, [3, 0, 9, 1])
    np.testing.assert_array_equal(by_sum.predict([0, 0], [2, 7]), [9, 0])  # unknown item: 0


def test_ranking_metrics_and_save_load(tmp_path):
    data = fastmf.datasets.make_counts(200, 60, rank=3, random_state=0)
    train, test = fastmf.model_selection.train_test_split(data, random_state=0)
    model = fastmf.Popularity().fit(train)
    m = fastmf.metrics.ranking_metrics(model, train, test, k=5)
    assert 0 < m["precision"] <= 1
    model.save(tmp_path / "p.npz")
    loaded = fastmf.load(tmp_path / "p.npz")
    np.testing.assert_array_equal(loaded.recommend([0, 1], n=5, exclude=train)[0],
                                  model.recommend([0, 1], n=5, exclude=train)[0])


def test_bad_input():
    with pytest.raises(ValueError, match="weighting must be one of"):
        fastmf.Popularity(weighting="max").fit(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="non-negative"):
        fastmf.Popularity().fit(sp.csr_matrix(-np.eye(3)))

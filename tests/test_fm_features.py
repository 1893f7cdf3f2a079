"""FMEncoder: MF, PITF and SVD++ designs, side tables, groups, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf.fm_features import FMEncoder, one_hot


@pytest.fixture
def ratings():
    return fastmf.Ratings([0, 0, 1, 2, 2, 2], [1, 2, 0, 0, 1, 3], [5.0, 3.0, 4.0, 1.0, 2.0, 3.0])


def test_mf_encoding_is_one_hot_user_and_item(ratings):
    enc = FMEncoder().fit(ratings)
    X = enc.transform(ratings).toarray()
    assert X.shape == (6, 3 + 4)
    np.testing.assert_array_equal(X.sum(1), 2)
    np.testing.assert_array_equal(X[:, :3].argmax(1), ratings.users)
    np.testing.assert_array_equal(X[:, 3:].argmax(1), ratings.items)
    assert enc.groups_.tolist() == [0, 0, 0, 1, 1, 1, 1] and enc.group_names_ == ["user", "item"]


def test_svdpp_block_is_normalised_items_of_the_user(ratings):
    enc = FMEncoder(implicit=True).fit(ratings)
    X = enc.transform(np.array([[2, 0], [1, 3]])).toarray()
    imp = X[:, 7:]
    np.testing.assert_allclose(imp[0], np.array([1, 1, 0, 1]) / np.sqrt(3))
    np.testing.assert_allclose(imp[1], np.array([1, 0, 0, 0]))
    np.testing.assert_allclose((imp ** 2).sum(1), 1)
    assert enc.group_names_ == ["user", "item", "implicit"]


def test_pitf_tags_side_tables_and_extra_columns(ratings):
    user_side = np.array([[1.0, 0.5], [0.0, 2.0], [3.0, 0.0]])
    item_side = one_hot([0, 1, 1, 0])
    enc = FMEncoder(n_tags=5, user_side=user_side, item_side=item_side).fit(ratings)
    tags = [4, 0, 1, 2, 3, 4]
    X = enc.transform(ratings, tags=tags, extra=np.ones((6, 1))).toarray()
    assert X.shape == (6, 3 + 4 + 5 + 2 + 2 + 1)
    np.testing.assert_array_equal(X[:, 7:12].argmax(1), tags)
    np.testing.assert_allclose(X[:, 12:14], user_side[ratings.users])
    np.testing.assert_allclose(X[:, 14:16], item_side.toarray()[ratings.items])
    assert enc.group_names_ == ["user", "item", "tag", "user_side", "item_side"]
    groups = enc.groups(n_extra=1)
    assert len(groups) == X.shape[1] and groups[-1] == 5


def test_encoded_design_fits_an_fm(ratings):
    data = fastmf.datasets.make_ratings(40, 30, 500, random_state=0)
    enc = FMEncoder(implicit=True).fit(data)
    model = fastmf.FMRegressor(n_factors=2, n_iter=3, groups=enc.groups_, random_state=0)
    model.fit(enc.transform(data), data.values)
    assert sp.issparse(enc.transform(data)) and model.predict(enc.transform(data)).shape == (500,)


def test_bad_input(ratings):
    with pytest.raises(TypeError, match="ratings must be a fastmf.Ratings"):
        FMEncoder().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="not fitted"):
        FMEncoder().transform(ratings)
    enc = FMEncoder(n_tags=2).fit(ratings)
    with pytest.raises(ValueError, match="tags is required"):
        enc.transform(ratings)
    with pytest.raises(ValueError, match="tags holds index 2"):
        enc.transform(ratings, tags=[2] * 6)
    with pytest.raises(ValueError, match="tags given but"):
        FMEncoder().fit(ratings).transform(ratings, tags=[0] * 6)
    with pytest.raises(ValueError, match="users holds index 9"):
        FMEncoder().fit(ratings).transform(np.array([[9, 0]]))
    with pytest.raises(ValueError, match="user_side must have 3 rows"):
        FMEncoder(user_side=np.ones((2, 2))).fit(ratings)
    with pytest.raises(ValueError, match="item_side must be finite"):
        FMEncoder(item_side=np.full((4, 1), np.nan)).fit(ratings)
    with pytest.raises(ValueError, match="n_tags must be >= 1"):
        FMEncoder(n_tags=0).fit(ratings)

"""Top-N lists as DataFrames in raw IDs (fastmf._frames), checked against recommend's arrays."""

import numpy as np
import pytest

import fastmf
from fastmf._frames import recommendations_frame, similar_items_frame

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def fitted():
    data = fastmf.datasets.make_ratings(30, 40, 300, random_state=0)
    users = np.array([f"u{u}" for u in data.users])
    items = np.array([f"i{i:02d}" for i in data.items])
    named = fastmf.Ratings.from_ids(users, items, data.values)
    model = fastmf.MatrixFactorization(3, n_iter=4, random_state=0).fit(named)
    return named, model


def test_frame_matches_recommend_in_raw_ids(fitted):
    data, model = fitted
    items, scores = model.recommend([0, 5, 9], n=4, exclude=data)
    frame = recommendations_frame(model, [0, 5, 9], items, scores)
    assert list(frame.columns) == ["user", "item", "score", "rank"]
    assert frame["user"].tolist() == [data.user_ids[u] for u in (0, 5, 9) for _ in range(4)]
    assert frame["item"].tolist() == data.item_ids[items.ravel()].tolist()
    np.testing.assert_allclose(frame["score"], scores.ravel())
    assert frame["rank"].tolist() == [1, 2, 3, 4] * 3
    # the same frame from raw IDs in and out
    raw_users = data.user_ids[[0, 5, 9]]
    raw_items, raw_scores = model.recommend(raw_users, n=4, exclude=data, raw_ids=True)
    again = recommendations_frame(model, raw_users, raw_items, raw_scores, raw_ids=True)
    pd.testing.assert_frame_equal(frame, again)


def test_padding_is_dropped_and_titles_joined(fitted):
    data, model = fitted
    n_seen = np.bincount(data.users, minlength=data.n_users)
    user = int(np.argmax(n_seen))  # the user with the fewest candidates left
    items, scores = model.recommend(user, n=data.n_items, exclude=data, raw_ids=False)
    assert (items < 0).sum() == n_seen[user]  # recommend pads with -1
    table = pd.DataFrame({"title": [f"Movie {i}" for i in data.item_ids]},
                         index=pd.Index(data.item_ids, name="item"))
    frame = recommendations_frame(model, user, items, scores, items_table=table)
    assert len(frame) == data.n_items - n_seen[user]
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert (frame["title"] == "Movie " + frame["item"]).all()
    raw_items, raw_scores = model.recommend(data.user_ids[user], n=data.n_items, exclude=data,
                                            raw_ids=True)
    assert len(recommendations_frame(model, data.user_ids[user], raw_items, raw_scores,
                                     raw_ids=True)) == len(frame)


def test_without_id_maps_and_similar_items():
    data = fastmf.datasets.make_ratings(40, 20, 400, random_state=1)
    model = fastmf.MatrixFactorization(3, n_iter=3, random_state=0).fit(data.csr)
    items, scores = model.recommend([2, 3], n=5)
    frame = recommendations_frame(model, [2, 3], items, scores)
    assert frame["user"].tolist() == [2] * 5 + [3] * 5
    assert frame["item"].tolist() == items.ravel().tolist()
    ids, sims = model.similar_items([1, 6], n=3)
    sim = similar_items_frame(model, [1, 6], ids, sims)
    assert list(sim.columns) == ["item", "similar_item", "score", "rank"]
    assert sim["similar_item"].tolist() == ids.ravel().tolist()
    assert not (sim["item"] == sim["similar_item"]).any()


def test_shape_mismatch_is_an_error(fitted):
    _, model = fitted
    items, scores = model.recommend([0, 1], n=3)
    with pytest.raises(ValueError, match=r"must have shape \(3, n\), one row per user"):
        recommendations_frame(model, [0, 1, 2], items, scores)

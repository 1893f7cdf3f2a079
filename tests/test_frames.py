"""Top-N lists as DataFrames (``as_frame=True``), checked against the arrays of the same calls."""

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf

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
    frame = model.recommend([0, 5, 9], n=4, exclude=data, as_frame=True)
    assert list(frame.columns) == ["user", "item", "score", "rank"]
    assert frame["user"].tolist() == [data.user_ids[u] for u in (0, 5, 9) for _ in range(4)]
    assert frame["item"].tolist() == data.item_ids[items.ravel()].tolist()
    np.testing.assert_allclose(frame["score"], scores.ravel())
    assert frame["rank"].tolist() == [1, 2, 3, 4] * 3
    # raw IDs in give the same frame
    again = model.recommend(data.user_ids[[0, 5, 9]], n=4, exclude=data, raw_ids=True,
                            as_frame=True)
    pd.testing.assert_frame_equal(frame, again)


def test_padding_is_dropped_and_metadata_joins(fitted):
    data, model = fitted
    n_seen = np.bincount(data.users, minlength=data.n_users)
    user = int(np.argmax(n_seen))  # the user with the fewest candidates left
    items, _ = model.recommend(user, n=data.n_items, exclude=data)
    assert (items < 0).sum() == n_seen[user]  # the arrays pad with -1
    frame = model.recommend(user, n=data.n_items, exclude=data, as_frame=True)
    assert len(frame) == data.n_items - n_seen[user]
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    seen = set(data.item_ids[data.items[data.users == user]])
    assert not seen & set(frame["item"])
    table = pd.DataFrame({"title": [f"Movie {i}" for i in data.item_ids]},
                         index=pd.Index(data.item_ids, name="item"))
    joined = frame.join(table, on="item")
    assert (joined["title"] == "Movie " + joined["item"]).all()


def test_fold_in_users_keep_their_labels(fitted):
    data, model = fitted
    rows = data.csr[[3, 7]]
    frame = model.recommend(["new-a", "new-b"], n=3, user_items=rows, raw_ids=True,
                            as_frame=True)
    items, scores = model.recommend([0, 1], n=3, user_items=rows)
    assert frame["user"].tolist() == ["new-a"] * 3 + ["new-b"] * 3
    assert frame["item"].tolist() == data.item_ids[items.ravel()].tolist()
    np.testing.assert_allclose(frame["score"], scores.ravel())


def test_without_id_maps_and_similar_items_and_users():
    data = fastmf.datasets.make_ratings(40, 20, 400, random_state=1)
    model = fastmf.MatrixFactorization(3, n_iter=3, random_state=0).fit(data.csr)
    items, _ = model.recommend([2, 3], n=5)
    frame = model.recommend([2, 3], n=5, as_frame=True)
    assert frame["user"].tolist() == [2] * 5 + [3] * 5
    assert frame["item"].tolist() == items.ravel().tolist()
    ids, sims = model.similar_items([1, 6], n=3)
    sim = model.similar_items([1, 6], n=3, as_frame=True)
    assert list(sim.columns) == ["item", "similar_item", "score", "rank"]
    assert sim["similar_item"].tolist() == ids.ravel().tolist()
    np.testing.assert_allclose(sim["score"], sims.ravel())
    assert not (sim["item"] == sim["similar_item"]).any()
    users = model.similar_users(4, n=2, as_frame=True)
    assert list(users.columns) == ["user", "similar_user", "score", "rank"]
    assert users["user"].tolist() == [4, 4]
    assert users["similar_user"].tolist() == model.similar_users(4, n=2)[0].tolist()


def test_similar_items_in_raw_ids(fitted):
    data, model = fitted
    frame = model.similar_items(data.item_ids[[0, 2]], n=2, raw_ids=True, as_frame=True)
    raw, _ = model.similar_items(data.item_ids[[0, 2]], n=2, raw_ids=True)
    assert frame["item"].tolist() == [data.item_ids[0]] * 2 + [data.item_ids[2]] * 2
    assert frame["similar_item"].tolist() == raw.ravel().tolist()


def test_every_recommender_returns_frames():
    data = fastmf.datasets.make_ratings(30, 25, 300, random_state=2)
    binary = sp.csr_matrix((np.ones(len(data.values)), (data.users, data.items)),
                           shape=data.shape)
    for model in (fastmf.ImplicitALS(3, n_iter=2, random_state=0).fit(binary),
                  fastmf.BPR(3, n_iter=2, random_state=0).fit(binary),
                  fastmf.Popularity().fit(binary)):
        items, scores = model.recommend([0, 1], n=4, exclude=binary)
        frame = model.recommend([0, 1], n=4, exclude=binary, as_frame=True)
        kept = np.isfinite(scores)
        assert frame["item"].tolist() == items[kept].tolist()
        np.testing.assert_allclose(frame["score"], scores[kept])

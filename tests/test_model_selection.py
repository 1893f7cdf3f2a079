"""Tests of fastmf.model_selection: every split is a disjoint partition with the promised shape."""

import numpy as np
import pytest

import fastmf
from fastmf.datasets import make_ratings
from fastmf.model_selection import KFold, leave_one_out, train_test_split


@pytest.fixture(scope="module")
def ratings():
    # skewed activity: many users with few entries, some with one
    r = make_ratings(300, 120, 4000, activity_exponent=1.2, random_state=0)
    assert np.bincount(r.users, minlength=300).min() == 1
    return r


def _codes(r):
    return r.users * r.n_items + r.items


def _assert_partition(r, train, test):
    for part in (train, test):
        assert part.shape == r.shape
        assert part.user_ids is r.user_ids and part.item_ids is r.item_ids
    a, b = _codes(train), _codes(test)
    assert len(np.intersect1d(a, b)) == 0
    assert train.nnz + test.nnz == r.nnz
    np.testing.assert_array_equal(np.sort(np.r_[a, b]), np.sort(_codes(r)))
    # the values and timestamps travel with their entries
    lookup = dict(zip(_codes(r).tolist(),
                      zip(r.values.tolist(), r.timestamps.tolist(), strict=True), strict=True))
    for part in (train, test):
        got = list(zip(part.values.tolist(), part.timestamps.tolist(), strict=True))
        assert got == [lookup[c] for c in _codes(part).tolist()]


def _per_user(r):
    return np.bincount(r.users, minlength=r.n_users)


# ---------------------------------------------------------------------------- train_test_split
@pytest.mark.parametrize("test_size, n_test", [(0.2, 800), (0.25, 1000), (0.001, 4), (37, 37)])
def test_random_split_sizes(ratings, test_size, n_test):
    train, test = train_test_split(ratings, test_size, random_state=0)
    _assert_partition(ratings, train, test)
    assert test.nnz == n_test


def test_random_split_is_deterministic_and_uniform(ratings):
    a = train_test_split(ratings, 0.3, random_state=5)[1]
    b = train_test_split(ratings, 0.3, random_state=5)[1]
    c = train_test_split(ratings, 0.3, random_state=6)[1]
    np.testing.assert_array_equal(_codes(a), _codes(b))
    assert not np.array_equal(_codes(a), _codes(c))
    # each entry lands in test with probability 0.3 (checked over 40 seeds)
    hits = np.zeros(ratings.nnz)
    for seed in range(40):
        _, test = train_test_split(ratings, 0.3, random_state=seed)
        hits[np.searchsorted(_codes(ratings), _codes(test))] += 1
    assert 0.25 < hits.mean() / 40 < 0.35 and hits.max() < 40


def test_user_split_counts(ratings):
    n_u = _per_user(ratings)
    train, test = train_test_split(ratings, 0.2, method="user", random_state=0)
    _assert_partition(ratings, train, test)
    expected = np.where(n_u >= 2, np.clip(np.floor(0.2 * n_u + 0.5), 1, n_u - 1), 0)
    np.testing.assert_array_equal(_per_user(test), expected)
    np.testing.assert_array_equal(_per_user(train), n_u - expected)
    assert np.all(_per_user(train)[n_u >= 1] >= 1)           # nobody loses all train entries
    assert np.all(_per_user(test)[n_u == 1] == 0)


def test_user_split_large_fraction_keeps_one_train_entry(ratings):
    n_u = _per_user(ratings)
    train, test = train_test_split(ratings, 0.9, method="user", random_state=0)
    expected = np.where(n_u >= 2, np.minimum(np.floor(0.9 * n_u + 0.5), n_u - 1), 0)
    np.testing.assert_array_equal(_per_user(test), expected)
    assert np.all(_per_user(train)[n_u >= 1] >= 1)
    assert np.all(_per_user(test)[n_u == 2] == 1)              # round(1.8) = 2 is capped


def test_user_split_int_count_per_user(ratings):
    n_u = _per_user(ratings)
    train, test = train_test_split(ratings, 3, method="user", random_state=1)
    _assert_partition(ratings, train, test)
    np.testing.assert_array_equal(_per_user(test), np.maximum(np.minimum(3, n_u - 1), 0))


def test_user_split_is_random_within_users(ratings):
    a = train_test_split(ratings, 0.2, method="user", random_state=0)[1]
    b = train_test_split(ratings, 0.2, method="user", random_state=0)[1]
    c = train_test_split(ratings, 0.2, method="user", random_state=1)[1]
    np.testing.assert_array_equal(_codes(a), _codes(b))
    assert not np.array_equal(_codes(a), _codes(c))
    # not simply the first items of each user
    first = np.r_[True, ratings.users[1:] != ratings.users[:-1]]
    assert 0 < np.isin(_codes(ratings)[first], _codes(a)).mean() < 0.6


def test_time_split_orders_by_timestamp(ratings):
    train, test = train_test_split(ratings, 0.1, method="time", random_state=0)
    _assert_partition(ratings, train, test)
    assert test.nnz == 400
    assert test.timestamps.min() >= train.timestamps.max()


def test_time_split_breaks_ties_at_random():
    r = fastmf.Ratings(np.arange(10), np.zeros(10, dtype=int),
                       timestamps=[1, 1, 1, 1, 5, 5, 5, 5, 5, 5])
    tests = [train_test_split(r, 3, method="time", random_state=s)[1] for s in range(20)]
    assert all(np.all(t.timestamps == 5) for t in tests)
    assert len({tuple(t.users) for t in tests}) > 1
    np.testing.assert_array_equal(tests[0].users,
                                  train_test_split(r, 3, method="time", random_state=0)[1].users)


def test_time_split_needs_timestamps():
    r = fastmf.Ratings([0, 1, 2], [0, 1, 0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="method='time' needs timestamps"):
        train_test_split(r, 0.5, method="time")
    with pytest.raises(ValueError, match="method='time' needs timestamps"):
        leave_one_out(r, method="time")


@pytest.mark.parametrize("test_size, exc, match", [
    (0.0, ValueError, r"test_size must be in \(0, 1\) when a float, got 0.0"),
    (1.0, ValueError, r"test_size must be in \(0, 1\) when a float, got 1.0"),
    (-0.2, ValueError, r"test_size must be in \(0, 1\)"),
    (1.5, ValueError, r"test_size must be in \(0, 1\)"),
    (0, ValueError, "test_size must be >= 1 when an int, got 0"),
    (4000, ValueError, "test_size=4000 leaves no train entries: the ratings have 4000"),
    (True, TypeError, "test_size must be a float in"),
    ("0.2", TypeError, "test_size must be a float in"),
    (None, TypeError, "test_size must be a float in"),
])
def test_bad_test_size(ratings, test_size, exc, match):
    with pytest.raises(exc, match=match):
        train_test_split(ratings, test_size)


def test_fraction_that_rounds_to_everything_is_rejected():
    r = fastmf.Ratings([0, 1], [0, 0])
    with pytest.raises(ValueError, match="leaves no train entries"):
        train_test_split(r, 0.6)


def test_bad_method_and_input(ratings):
    with pytest.raises(ValueError, match="method must be one of 'random', 'user', 'time', "
                                         "got 'users'"):
        train_test_split(ratings, method="users")
    with pytest.raises(TypeError, match="ratings must be a fastmf.Ratings, got ndarray"):
        train_test_split(np.zeros((4, 3)))
    with pytest.raises(TypeError, match="random_state must be"):
        train_test_split(ratings, random_state="x")
    singles = fastmf.Ratings([0, 1, 2], [0, 0, 1])
    with pytest.raises(ValueError, match="needs a user with at least 2 entries"):
        train_test_split(singles, 0.5, method="user")


def test_accepts_generator_random_state(ratings):
    a = train_test_split(ratings, random_state=np.random.default_rng(3))[1]
    b = train_test_split(ratings, random_state=np.random.default_rng(3))[1]
    np.testing.assert_array_equal(_codes(a), _codes(b))


# ---------------------------------------------------------------------------- KFold
@pytest.mark.parametrize("n_splits", [2, 3, 7])
def test_kfold_partitions_the_entries(ratings, n_splits):
    cv = KFold(n_splits, random_state=0)
    assert cv.get_n_splits() == cv.get_n_splits(ratings) == n_splits
    folds = list(cv.split(ratings))
    assert len(folds) == n_splits
    seen = np.zeros(ratings.nnz, dtype=int)
    for train, test in folds:
        _assert_partition(ratings, train, test)
        seen[np.searchsorted(_codes(ratings), _codes(test))] += 1
    assert np.all(seen == 1)
    sizes = [test.nnz for _, test in folds]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == ratings.nnz


def test_kfold_determinism_and_shuffle(ratings):
    a = [_codes(t) for _, t in KFold(4, random_state=1).split(ratings)]
    b = [_codes(t) for _, t in KFold(4, random_state=1).split(ratings)]
    c = [_codes(t) for _, t in KFold(4, random_state=2).split(ratings)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    cv = KFold(4, random_state=1)                          # same folds on every call
    assert all(np.array_equal(x, _codes(t)) for x, (_, t) in zip(a, cv.split(ratings), strict=True))
    plain = [_codes(t) for _, t in KFold(4, shuffle=False).split(ratings)]
    np.testing.assert_array_equal(np.concatenate(plain), _codes(ratings))   # consecutive runs


def test_kfold_bad_arguments(ratings):
    with pytest.raises(ValueError, match="n_splits must be >= 2, got 1"):
        KFold(1)
    with pytest.raises(TypeError, match="n_splits must be an integer"):
        KFold(2.0)
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        KFold(3, shuffle="yes")
    with pytest.raises(ValueError, match="random_state has no effect when shuffle=False"):
        KFold(3, shuffle=False, random_state=0)
    with pytest.raises(TypeError, match="random_state must be"):
        KFold(3, random_state=1.5)
    small = fastmf.Ratings([0, 1, 1], [0, 0, 1])
    with pytest.raises(ValueError, match=r"n_splits=4 is larger than the number of entries \(3\)"):
        next(KFold(4).split(small))
    with pytest.raises(TypeError, match="ratings must be a fastmf.Ratings"):
        next(KFold(2).split([1, 2, 3]))
    assert repr(KFold(3, random_state=0)) == "KFold(n_splits=3, shuffle=True, random_state=0)"


# ---------------------------------------------------------------------------- leave_one_out
@pytest.mark.parametrize("method", ["random", "time"])
def test_leave_one_out_one_per_user(ratings, method):
    n_u = _per_user(ratings)
    train, test = leave_one_out(ratings, method=method, random_state=0)
    _assert_partition(ratings, train, test)
    np.testing.assert_array_equal(_per_user(test), (n_u >= 2).astype(int))
    np.testing.assert_array_equal(_per_user(train), n_u - (n_u >= 2))


def test_leave_one_out_time_takes_each_users_latest(ratings):
    train, test = leave_one_out(ratings, method="time")
    latest_train = np.full(ratings.n_users, -np.inf)
    np.maximum.at(latest_train, train.users, train.timestamps)
    assert np.all(test.timestamps >= latest_train[test.users])


def test_leave_one_out_random_varies_with_seed(ratings):
    a = leave_one_out(ratings, random_state=0)[1]
    b = leave_one_out(ratings, random_state=0)[1]
    c = leave_one_out(ratings, random_state=1)[1]
    np.testing.assert_array_equal(_codes(a), _codes(b))
    assert not np.array_equal(_codes(a), _codes(c))


def test_leave_one_out_bad_arguments(ratings):
    with pytest.raises(ValueError, match="method must be one of 'random', 'time', got 'user'"):
        leave_one_out(ratings, method="user")
    with pytest.raises(ValueError, match="needs a user with at least 2 entries"):
        leave_one_out(fastmf.Ratings([0, 1], [0, 0]))
    with pytest.raises(TypeError, match="ratings must be a fastmf.Ratings"):
        leave_one_out(None)


def test_splits_at_scale():
    # their speed is measured in benchmarks/, not asserted here
    r = make_ratings(5000, 2000, 300_000, random_state=0)
    for method in ("random", "user", "time"):
        train, test = train_test_split(r, 0.2, method=method, random_state=0)
        assert train.nnz + test.nnz == r.nnz
    train, test = leave_one_out(r, method="time", random_state=0)
    assert test.nnz == len(np.unique(r.users)) and train.nnz + test.nnz == r.nnz

"""Splitting ratings into train and test sets: random, per-user, by time, K-fold, leave-one-out.

Every splitter takes a :class:`~fastmf.Ratings` and returns ``Ratings`` in the same ID space
(same shape and raw-ID maps), so a model fitted on ``train`` predicts ``test`` directly. All are
vectorised (grouping by a sort, no Python loop over users) and deterministic for a given
``random_state``.
"""

import numbers

import numpy as np
import scipy.sparse as sp

from ._ratings import Ratings
from ._validation import check_int_param, check_option, check_random_state

__all__ = ["train_test_split", "KFold", "leave_one_out", "Interactions", "UserHoldout"]

_SPLIT_METHODS = ("random", "user", "time")
_LOO_METHODS = ("random", "time")


def train_test_split(ratings, test_size=0.2, *, method="random", random_state=None):
    """Split ratings into a train and a test set.

    Parameters
    ----------
    ratings : Ratings
        The entries to split.
    test_size : float or int, default=0.2
        A float in (0, 1) is the fraction held out; an int is a count: the number of test
        entries for ``"random"`` and ``"time"``, the number per user for ``"user"``.
    method : {"random", "user", "time"}, default="random"
        ``"random"``: ``ceil(test_size * nnz)`` entries drawn uniformly; users and items may
        end up in test only (cold start).
        ``"user"``: per-user holdout, the usual protocol for implicit data too. Each user with
        ``n_u >= 2`` entries puts ``round(test_size * n_u)`` of them in test (halves round
        up), at least 1 and at most ``n_u - 1``, so every such user keeps one train entry; an
        int ``test_size=k`` holds out ``min(k, n_u - 1)``. Users with one entry stay in train.
        ``"time"``: global temporal split, the latest ``ceil(test_size * nnz)`` entries go to
        test (ties at the boundary broken at random). Needs timestamps.
    random_state : int, numpy Generator or None, default=None
        Seed; the same seed gives the same split.

    Returns
    -------
    train, test : Ratings
        Disjoint, together all of ``ratings``, in its ID space.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import train_test_split
    >>> r = fastmf.datasets.make_ratings(100, 50, 1000, random_state=0)
    >>> train, test = train_test_split(r, test_size=0.2, random_state=0)
    >>> train.nnz, test.nnz, test.shape == r.shape
    (800, 200, True)
    >>> train, test = train_test_split(r, test_size=1, method="user", random_state=0)
    >>> test.nnz  # one entry for each of the 100 users
    100
    """
    _check_ratings(ratings)
    check_option(method, "method", _SPLIT_METHODS)
    rng = check_random_state(random_state)
    nnz = ratings.nnz
    if method == "user":
        per_user = _check_test_size(test_size, nnz, per_user=True)
        return _split_by_user(ratings, per_user, rng)
    n_test = _check_test_size(test_size, nnz)
    if method == "random":
        test = np.zeros(nnz, dtype=bool)
        test[rng.permutation(nnz)[:n_test]] = True
    else:
        order = np.lexsort((rng.random(nnz), _timestamps(ratings, method)))
        test = np.zeros(nnz, dtype=bool)
        test[order[nnz - n_test:]] = True
    return ratings.subset(~test), ratings.subset(test)


def leave_one_out(ratings, *, method="random", random_state=None):
    """Hold out one entry of each user who has at least two.

    Parameters
    ----------
    ratings : Ratings
    method : {"random", "time"}, default="random"
        Which entry: one at random, or the user's latest (ties broken at random; needs
        timestamps).
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    train, test : Ratings
        ``test`` has exactly one entry per user with ``n_u >= 2``; users with a single entry
        keep it in ``train``.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import leave_one_out
    >>> r = fastmf.Ratings([0, 0, 0, 1, 1, 2], [0, 1, 2, 0, 2, 1],
    ...                    timestamps=[5, 9, 7, 3, 1, 4])
    >>> train, test = leave_one_out(r, method="time")
    >>> test.users.tolist(), test.items.tolist()
    ([0, 1], [1, 0])
    """
    _check_ratings(ratings)
    check_option(method, "method", _LOO_METHODS)
    rng = check_random_state(random_state)
    keys = rng.random(ratings.nnz)
    if method == "time":
        order = np.lexsort((keys, _timestamps(ratings, method), ratings.users))
    else:
        order = np.lexsort((keys, ratings.users))
    users = ratings.users[order]
    counts = np.bincount(users, minlength=ratings.n_users)
    if counts.max() < 2:
        raise ValueError("leave_one_out needs a user with at least 2 entries; every user has 1")
    last = np.flatnonzero(np.r_[users[1:] != users[:-1], True])   # last entry of each group
    last = last[counts[users[last]] >= 2]
    test = np.zeros(ratings.nnz, dtype=bool)
    test[order[last]] = True
    return ratings.subset(~test), ratings.subset(test)


class KFold:
    """K-fold cross-validation over the entries of a Ratings.

    The entries are cut into ``n_splits`` folds of sizes differing by at most one; each fold
    is the test set once, the other folds the train set.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of entries.
    shuffle : bool, default=True
        Shuffle the entries before cutting; otherwise the folds are consecutive runs of the
        (user, item)-sorted entries.
    random_state : int, numpy Generator or None, default=None
        Seed of the shuffle; an int gives the same folds on every call to :meth:`split`. Must be
        None when ``shuffle=False``.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import KFold
    >>> r = fastmf.datasets.make_ratings(50, 20, 103, random_state=0)
    >>> cv = KFold(n_splits=4, random_state=0)
    >>> [(train.nnz, test.nnz) for train, test in cv.split(r)]
    [(77, 26), (77, 26), (77, 26), (78, 25)]
    """

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None):
        self.n_splits = check_int_param(n_splits, "n_splits", low=2)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        if not shuffle and random_state is not None:
            raise ValueError("random_state has no effect when shuffle=False; leave it None or "
                             "set shuffle=True")
        check_random_state(random_state)  # type check now, the Generator is made in split
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def __repr__(self):
        return (f"KFold(n_splits={self.n_splits}, shuffle={self.shuffle}, "
                f"random_state={self.random_state!r})")

    def get_n_splits(self, ratings=None):
        """Return the number of folds (``ratings`` is ignored, as in scikit-learn).

        Examples
        --------
        >>> from fastmf.model_selection import KFold
        >>> KFold(3).get_n_splits()
        3
        """
        return self.n_splits

    def split(self, ratings):
        """Yield ``(train, test)`` Ratings, one pair per fold.

        Parameters
        ----------
        ratings : Ratings

        Yields
        ------
        train, test : Ratings
            In the ID space of ``ratings``; the test sets partition its entries.

        Examples
        --------
        >>> import fastmf
        >>> from fastmf.model_selection import KFold
        >>> r = fastmf.Ratings([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1])
        >>> [test.nnz for _, test in KFold(3, shuffle=False).split(r)]
        [2, 2, 2]
        """
        _check_ratings(ratings)
        nnz = ratings.nnz
        if self.n_splits > nnz:
            raise ValueError(f"n_splits={self.n_splits} is larger than the number of entries "
                             f"({nnz})")
        if self.shuffle:
            order = check_random_state(self.random_state).permutation(nnz)
        else:
            order = np.arange(nnz)
        sizes = np.full(self.n_splits, nnz // self.n_splits)
        sizes[: nnz % self.n_splits] += 1
        bounds = np.r_[0, np.cumsum(sizes)]
        for k in range(self.n_splits):
            test = np.zeros(nnz, dtype=bool)
            test[order[bounds[k]:bounds[k + 1]]] = True
            yield ratings.subset(~test), ratings.subset(test)


class Interactions:
    """The entries of a users x items matrix as scikit-learn samples, for cross-validation.

    scikit-learn's search tools (``GridSearchCV``, ``RandomizedSearchCV``,
    ``HalvingRandomSearchCV``) split the rows of ``X``; wrapping the interactions makes each
    stored entry a row, so a splitter such as :class:`UserHoldout` can hold out some of every
    user's items, and every fold stays in the full ID space. Indexing with an index array
    gives the Interactions of those entries; fastmf's estimators fit on it as on the matrix
    of those entries (the transformer view), and :func:`fastmf.metrics.ranking_scorer` scores
    the entries it holds against the other known interactions of the whole set (excluded
    from the lists).

    Parameters
    ----------
    X : Ratings or scipy sparse matrix of shape (n_users, n_items)

    Attributes
    ----------
    shape : tuple
        ``(n_entries, 2)``: scikit-learn counts the entries as samples.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import Interactions
    >>> X = Interactions(fastmf.datasets.make_counts(30, 20, rank=2, random_state=0))
    >>> part = X[[0, 5, 9]]
    >>> len(part), part.ratings.shape == X.ratings.shape
    (3, True)
    """

    def __init__(self, X, *, _index=None):
        full = X if isinstance(X, Ratings) else Ratings.from_sparse(X)
        self.full = full
        self.index = np.arange(full.nnz) if _index is None else _index
        self.shape = (len(self.index), 2)

    def __len__(self):
        return len(self.index)

    def __getitem__(self, key):
        if isinstance(key, tuple):  # scikit-learn indexes as X[rows, ...]
            if any(k is not Ellipsis and k != slice(None) for k in key[1:]):
                raise IndexError("Interactions select whole entries: X[rows] or X[rows, ...]")
            key = key[0]
        index = self.index[np.asarray(key)]
        if index.ndim != 1:
            raise IndexError("Interactions are indexed by a 1-D array of entry positions")
        return Interactions(self.full, _index=index)

    def __repr__(self):
        n_users, n_items = self.full.shape
        return f"Interactions({len(self)} of {self.full.nnz} entries, {n_users} x {n_items})"

    @property
    def ratings(self):
        """The entries held, as a Ratings in the full ID space."""
        return self.full.subset(np.sort(self.index))

    def rest(self):
        """The other entries of the whole set, as a users x items CSR matrix (possibly with
        no entries)."""
        mask = np.ones(self.full.nnz, dtype=bool)
        mask[self.index] = False
        r = self.full
        return sp.csr_matrix((r.values[mask], (r.users[mask], r.items[mask])), shape=r.shape)


class UserHoldout:
    """Cross-validation that holds out some of every user's items (for ranking models).

    Each split's validation set takes, from every user with at least two interactions, some of
    them; the rest are the training set, so train and validation never share a (user, item)
    pair and every user who is validated keeps training items. With ``test_size=None``
    each user's entries are shuffled and cut into ``n_splits`` folds (validated once each);
    with a ``test_size`` every split draws a fresh holdout of that fraction of each user's
    entries (as ``train_test_split(method="user")``). Users with one entry always train.

    Use it on :class:`Interactions` (the entries as samples) with
    :func:`fastmf.metrics.ranking_scorer`.

    Parameters
    ----------
    n_splits : int, default=5
    test_size : float in (0, 1) or None, default=None
    random_state : int, numpy Generator or None, default=None
        An int gives the same splits on every call to :meth:`split`.

    Examples
    --------
    >>> import numpy as np, fastmf
    >>> from fastmf.model_selection import Interactions, UserHoldout
    >>> X = Interactions(fastmf.datasets.make_counts(50, 30, rank=2, random_state=0))
    >>> train, valid = next(UserHoldout(n_splits=4, random_state=0).split(X))
    >>> len(train) + len(valid) == len(X), len(np.intersect1d(train, valid))
    (True, 0)
    """

    def __init__(self, n_splits=5, *, test_size=None, random_state=None):
        self.n_splits = check_int_param(n_splits, "n_splits", low=2 if test_size is None else 1)
        if test_size is not None:
            test_size = _check_test_size(test_size, 0, per_user=True)
            if not isinstance(test_size, float):
                raise TypeError("test_size must be a float in (0, 1) or None")
        self.test_size = test_size
        check_random_state(random_state)
        self.random_state = random_state

    def __repr__(self):
        return (f"UserHoldout(n_splits={self.n_splits}, test_size={self.test_size!r}, "
                f"random_state={self.random_state!r})")

    def get_n_splits(self, X=None, y=None, groups=None):
        """The number of splits (scikit-learn's splitter protocol)."""
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield ``(train, validation)`` arrays of entry positions in ``X``.

        Parameters
        ----------
        X : Interactions
        y, groups : ignored

        Yields
        ------
        train, validation : ndarray of int64
        """
        if not isinstance(X, Interactions):
            raise TypeError(f"UserHoldout splits fastmf.model_selection.Interactions, got "
                            f"{type(X).__name__}; wrap the matrix: Interactions(X)")
        users = X.full.users[X.index]
        counts = np.bincount(users, minlength=X.full.n_users)
        if counts.max() < 2:
            raise ValueError("UserHoldout needs a user with at least 2 entries; every user has "
                             "1")
        rng = check_random_state(self.random_state)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        for f in range(self.n_splits):
            if f == 0 or self.test_size is not None:  # group by user, shuffled within
                order = np.lexsort((rng.random(len(users)), users))
                position = np.arange(len(users)) - starts[users[order]]
            if self.test_size is None:
                fold = position * self.n_splits // counts[users[order]]
                valid = (fold == f) & (counts[users[order]] >= 2)
            else:
                k = np.clip(np.floor(self.test_size * counts + 0.5).astype(np.int64), 1,
                            counts - 1)
                k[counts < 2] = 0
                valid = position < k[users[order]]
            yield np.sort(order[~valid]), np.sort(order[valid])


# ---------------------------------------------------------------------------- helpers
def _check_ratings(ratings):
    if not isinstance(ratings, Ratings):
        raise TypeError(
            f"ratings must be a fastmf.Ratings, got {type(ratings).__name__}; build one with "
            f"fastmf.Ratings(users, items, values) or fastmf.Ratings.from_sparse(X)")


def _timestamps(ratings, method):
    if ratings.timestamps is None:
        raise ValueError(f"method={method!r} needs timestamps, and this Ratings has none; pass "
                         f"timestamps= when building it, or use method='random'")
    return ratings.timestamps


def _check_test_size(test_size, nnz, per_user=False):
    """Return the test count (global), or a float fraction / int count per user."""
    if isinstance(test_size, (bool, np.bool_)) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a float in (0, 1) or an int count, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        test_size = int(test_size)
        if test_size < 1:
            raise ValueError(f"test_size must be >= 1 when an int, got {test_size}")
        if per_user:
            return test_size
        if test_size >= nnz:
            raise ValueError(f"test_size={test_size} leaves no train entries: the ratings have "
                             f"{nnz} entries")
        return test_size
    test_size = float(test_size)
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1) when a float, got {test_size}")
    if per_user:
        return test_size
    n_test = int(np.ceil(test_size * nnz))
    if n_test >= nnz:
        raise ValueError(f"test_size={test_size} leaves no train entries: the ratings have "
                         f"{nnz} entries")
    return n_test


def _split_by_user(ratings, per_user, rng):
    order = np.lexsort((rng.random(ratings.nnz), ratings.users))   # users grouped, random within
    users = ratings.users[order]
    counts = np.bincount(users, minlength=ratings.n_users)
    if counts.max() < 2:
        raise ValueError("method='user' needs a user with at least 2 entries; every user has 1")
    if isinstance(per_user, int):
        k = np.minimum(per_user, counts - 1)
    else:
        k = np.clip(np.floor(per_user * counts + 0.5).astype(np.int64), 1, counts - 1)
    k[counts < 2] = 0                                       # single-entry users stay in train
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    position = np.arange(ratings.nnz) - starts[users]       # rank within the user's group
    test = np.zeros(ratings.nnz, dtype=bool)
    test[order] = position < k[users]
    return ratings.subset(~test), ratings.subset(test)

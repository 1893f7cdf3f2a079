"""The ``Ratings`` container: sparse (user, item, value) triples with ID maps and CSR/CSC views."""

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ._validation import (
    check_index_array,
    check_int_param,
    check_option,
    check_same_length,
    check_sparse_matrix,
    check_values,
    sort_entries,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Duplicates = Literal["raise", "sum", "last"]


class Ratings:
    """Sparse user-item interactions with their raw-ID maps.

    Entries are kept sorted by (user, item), so the users x items CSR view shares the ``items``
    and ``values`` arrays; the CSC view is built once on first use and cached.

    Parameters
    ----------
    users, items : array-like of int, shape (nnz,)
        Compact user and item indices, in ``[0, n_users)`` and ``[0, n_items)``.
    values : array-like of float, shape (nnz,), optional
        Ratings or counts. Default: all ones (implicit feedback).
    timestamps : array-like of int or float, shape (nnz,), optional
        Time of each interaction, used by ``train_test_split(..., method="time")``.
    n_users, n_items : int, optional
        Shape of the index space. Default: one more than the largest index (or the length of
        ``user_ids`` / ``item_ids`` when given).
    user_ids, item_ids : array-like, optional
        Raw IDs (any hashable values, e.g. strings): ``user_ids[u]`` is the raw ID of user ``u``.
        Default: the indices themselves.
    duplicates : {"raise", "sum", "last"}, default="raise"
        What to do when a (user, item) pair occurs more than once: raise an error naming the
        first duplicate, add the values, or keep the last occurrence.

    Examples
    --------
    >>> import fastmf
    >>> r = fastmf.Ratings([0, 0, 1], [1, 2, 0], [5.0, 3.0, 4.0])
    >>> r.shape, r.nnz
    ((2, 3), 3)
    >>> r.csr.toarray()
    array([[0., 5., 3.],
           [4., 0., 0.]])
    """

    def __init__(self, users: ArrayLike, items: ArrayLike, values: ArrayLike | None = None, *,
                 timestamps: ArrayLike | None = None, n_users: int | None = None,
                 n_items: int | None = None, user_ids: ArrayLike | None = None,
                 item_ids: ArrayLike | None = None, duplicates: Duplicates = "raise") -> None:
        check_option(duplicates, "duplicates", ("raise", "sum", "last"))
        user_ids = None if user_ids is None else _as_id_array(user_ids, "user_ids")
        item_ids = None if item_ids is None else _as_id_array(item_ids, "item_ids")
        if n_users is None and user_ids is not None:
            n_users = len(user_ids)
        if n_items is None and item_ids is not None:
            n_items = len(item_ids)
        n_users = check_int_param(n_users, "n_users", low=1, allow_none=True)
        n_items = check_int_param(n_items, "n_items", low=1, allow_none=True)
        users = check_index_array(users, "users", n_users)
        items = check_index_array(items, "items", n_items)
        values = np.ones(len(users)) if values is None else check_values(values, "values")
        if timestamps is not None:
            timestamps = check_values(timestamps, "timestamps")
        check_same_length(users=users, items=items, values=values, timestamps=timestamps)
        if len(users) == 0:
            raise ValueError("Ratings needs at least one entry; users, items and values are empty")
        n_users = int(users.max()) + 1 if n_users is None else n_users
        n_items = int(items.max()) + 1 if n_items is None else n_items
        for ids, n, name in ((user_ids, n_users, "user_ids"), (item_ids, n_items, "item_ids")):
            if ids is not None and len(ids) != n:
                raise ValueError(f"{name} has {len(ids)} entries but the index space has {n}")

        def duplicate_error(pos, count):
            u = user_ids[users[pos]] if user_ids is not None else users[pos]
            i = item_ids[items[pos]] if item_ids is not None else items[pos]
            return ValueError(
                f"duplicate entry: user {_py(u)!r}, item {_py(i)!r} occurs more than once "
                f"({count} duplicates in all); pass duplicates='sum' or 'last'")

        kept, values = sort_entries(users, items, values, duplicates, duplicate_error)
        users, items = users[kept], items[kept]
        if timestamps is not None:
            timestamps = timestamps[kept]

        self.users, self.items, self.values, self.timestamps = users, items, values, timestamps
        self.n_users, self.n_items = n_users, n_items
        self.user_ids, self.item_ids = user_ids, item_ids
        self._csr = self._csc = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_ids(cls, users: ArrayLike, items: ArrayLike, values: ArrayLike | None = None, *,
                 timestamps: ArrayLike | None = None, duplicates: Duplicates = "raise"
                 ) -> "Ratings":
        """Build from raw user and item IDs of any hashable type.

        IDs are mapped to compact indices in sorted order of their unique values.

        Examples
        --------
        >>> import fastmf
        >>> r = fastmf.Ratings.from_ids(["ann", "bob", "ann"], ["x", "x", "y"], [5, 3, 4])
        >>> r.user_ids.tolist(), r.item_ids.tolist()
        (['ann', 'bob'], ['x', 'y'])
        """
        users, items = _as_id_array(users, "users"), _as_id_array(items, "items")
        check_same_length(users=users, items=items)
        user_ids, u = _factorize(users, "users")
        item_ids, i = _factorize(items, "items")
        return cls(u, i, values, timestamps=timestamps, user_ids=user_ids, item_ids=item_ids,
                   duplicates=duplicates)

    @classmethod
    def from_pandas(cls, df: "pd.DataFrame", user: Hashable = "user", item: Hashable = "item",
                    rating: Hashable | None = None, timestamp: Hashable | None = None,
                    duplicates: Duplicates = "raise") -> "Ratings":
        """Build from a pandas DataFrame with raw IDs in two columns.

        Parameters
        ----------
        df : pandas.DataFrame
        user, item : str
            Column names of the raw user and item IDs.
        rating : str, optional
            Column of values; default: implicit ones.
        timestamp : str, optional
            Column of timestamps.
        duplicates : {"raise", "sum", "last"}, default="raise"

        Examples
        --------
        >>> import pandas as pd, fastmf
        >>> df = pd.DataFrame({"u": ["a", "b"], "i": [10, 20], "r": [4.0, 2.0]})
        >>> fastmf.Ratings.from_pandas(df, user="u", item="i", rating="r").nnz
        2
        """
        for col in (user, item, rating, timestamp):
            if col is not None and col not in df.columns:
                raise KeyError(f"column {col!r} is not in the DataFrame (has {list(df.columns)})")
        return cls.from_ids(
            df[user].to_numpy(), df[item].to_numpy(),
            None if rating is None else df[rating].to_numpy(),
            timestamps=None if timestamp is None else df[timestamp].to_numpy(),
            duplicates=duplicates,
        )

    @classmethod
    def from_sparse(cls, X: Any, duplicates: str = "raise") -> "Ratings":
        """Build from a scipy sparse users x items matrix; stored entries are the observations.

        Parameters
        ----------
        X : scipy sparse matrix or array of shape (n_users, n_items)
            CSR, CSC, COO (or any format scipy converts to COO), checked in full (see
            :func:`fastmf._validation.check_sparse_matrix`): indices in range, finite values.
            Explicitly stored zeros are observations.
        duplicates : {"raise", "sum", "last"}, default="raise"
            What to do when a (row, column) pair is stored more than once: raise an error
            naming the first one, add the values, or keep the last one stored.

        Examples
        --------
        >>> import scipy.sparse as sp, fastmf
        >>> fastmf.Ratings.from_sparse(sp.csr_matrix([[0, 2.0], [1.0, 0]])).nnz
        2
        """
        X = check_sparse_matrix(X, duplicates=duplicates)
        if X.nnz == 0:
            raise ValueError("X has no stored entries: a Ratings needs at least one entry")
        # the CSR is the storage: users and items are derived from it when first read
        new = cls._from_sorted(None, None, X.data, None, *X.shape, None, None)
        new._csr = X
        return new

    @classmethod
    def _from_sorted(cls, users, items, values, timestamps, n_users, n_items, user_ids,
                     item_ids):
        """A Ratings of entries already checked and sorted by (user, item), without repeats."""
        new = object.__new__(cls)
        new.users, new.items, new.values, new.timestamps = users, items, values, timestamps
        new.n_users, new.n_items = n_users, n_items
        new.user_ids, new.item_ids = user_ids, item_ids
        new._csr = new._csc = None
        return new

    # ------------------------------------------------------------------ views
    @property
    def users(self):
        """User index of each entry (int64), sorted."""
        if self._users is None:
            indptr = self._csr.indptr
            self._users = np.repeat(np.arange(self.n_users, dtype=np.int64), np.diff(indptr))
        return self._users

    @users.setter
    def users(self, value):
        self._users = value

    @property
    def items(self):
        """Item index of each entry (int64), sorted within each user."""
        if self._items is None:
            self._items = self._csr.indices.astype(np.int64)
        return self._items

    @items.setter
    def items(self, value):
        self._items = value

    @property
    def shape(self) -> tuple[int, int]:
        """(n_users, n_items)."""
        return (self.n_users, self.n_items)

    @property
    def nnz(self) -> int:
        """Number of stored interactions."""
        return len(self.values)

    def __len__(self) -> int:
        return self.nnz

    def __repr__(self) -> str:
        return f"Ratings(n_users={self.n_users}, n_items={self.n_items}, nnz={self.nnz})"

    @property
    def csr(self) -> sp.csr_matrix:
        """The users x items ``scipy.sparse.csr_matrix`` (shares ``items`` and ``values``)."""
        if self._csr is None:
            indptr = np.zeros(self.n_users + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.users, minlength=self.n_users), out=indptr[1:])
            self._csr = sp.csr_matrix((self.values, self.items, indptr), shape=self.shape)
            self._csr.has_sorted_indices = True
        return self._csr

    @property
    def csc(self) -> sp.csc_matrix:
        """The users x items ``scipy.sparse.csc_matrix`` (built once, then cached)."""
        if self._csc is None:
            self._csc = self.csr.tocsc()
            self._csc.sort_indices()
        return self._csc

    def subset(self, mask_or_index: ArrayLike) -> "Ratings":
        """Return the entries selected by a boolean mask or index array, in the same ID space.

        Examples
        --------
        >>> import fastmf
        >>> r = fastmf.Ratings([0, 1, 1], [0, 0, 1], [1.0, 2.0, 3.0])
        >>> r.subset(r.values > 1).nnz, r.subset([0]).shape
        (2, (2, 2))
        """
        sel = np.asarray(mask_or_index)
        if sel.dtype != bool:
            sel = np.sort(check_index_array(sel, "mask_or_index", self.nnz))
        new = Ratings._from_sorted(
            self.users[sel], self.items[sel], self.values[sel],
            None if self.timestamps is None else self.timestamps[sel], self.n_users,
            self.n_items, self.user_ids, self.item_ids)
        if new.nnz == 0:
            raise ValueError("the selection is empty: a Ratings needs at least one entry")
        return new

    def user_index(self, raw_ids: Any) -> np.ndarray:
        """Map raw user IDs to compact indices; unknown IDs raise ``KeyError``."""
        return _lookup(self.user_ids, self.n_users, raw_ids, "user")

    def item_index(self, raw_ids: Any) -> np.ndarray:
        """Map raw item IDs to compact indices; unknown IDs raise ``KeyError``."""
        return _lookup(self.item_ids, self.n_items, raw_ids, "item")

    def to_pandas(self) -> "pd.DataFrame":
        """Return a DataFrame with raw ``user`` and ``item`` IDs, ``rating`` and ``timestamp``."""
        import pandas as pd

        out = {
            "user": self.users if self.user_ids is None else self.user_ids[self.users],
            "item": self.items if self.item_ids is None else self.item_ids[self.items],
            "rating": self.values,
        }
        if self.timestamps is not None:
            out["timestamp"] = self.timestamps
        return pd.DataFrame(out)


def _py(x):
    """A NumPy scalar as the Python value, so that messages show ``'ann'``, not ``np.str_``."""
    return x.item() if isinstance(x, np.generic) else x


def _as_id_array(ids, name):
    a = np.asarray(ids)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {a.shape}")
    if a.dtype.kind == "f":
        raise TypeError(f"{name} must hold integer or string IDs, got dtype {a.dtype}")
    return a


def _factorize(raw, name):
    try:
        uniques, codes = np.unique(raw, return_inverse=True)
    except TypeError:  # mixed types that cannot be ordered: keep first-seen order
        seen = {}
        codes = np.fromiter((seen.setdefault(x, len(seen)) for x in raw), np.int64, len(raw))
        uniques = np.empty(len(seen), dtype=object)
        uniques[:] = list(seen)
    if len(raw) and raw.dtype == object and any(x is None for x in uniques):
        raise ValueError(f"{name} contains a missing ID (None)")
    return uniques, codes.ravel()


def _lookup(ids, n, raw_ids, what):
    raw = np.atleast_1d(np.asarray(raw_ids))
    if ids is None:
        return check_index_array(raw, f"{what} ids", n)
    if ids.dtype != object:
        order = np.argsort(ids, kind="stable")
        at = np.minimum(np.searchsorted(ids[order], raw), len(ids) - 1)
        pos = order[at]
        found = ids[pos] == raw
    else:
        table = {x: k for k, x in enumerate(ids)}
        pos = np.array([table.get(x, -1) for x in raw], dtype=np.int64)
        found = pos >= 0
    if not np.all(found):
        bad = raw[int(np.argmin(found))]
        raise KeyError(f"unknown {what} ID {_py(bad)!r} ({int((~found).sum())} unknown in all)")
    return pos.astype(np.int64)

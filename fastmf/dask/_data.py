"""The training input on the workers: checked, raw IDs mapped once, counted.

Three inputs: a dask DataFrame with (user, item, rating) columns of raw IDs of any orderable
type (mapped in sorted order, as :meth:`fastmf.Ratings.from_ids` maps them); dask arrays
``X`` of shape (n, 2) of [user, item] indices and ``y`` of shape (n,) (the regressor view:
the index space is one past the largest index, as for a single-node ``fit(X, y)``); or a
local :class:`fastmf.Ratings` (its index space and IDs kept), turned into dask arrays.
Nothing is gathered on the client but the ID maps and the per-row counts.
"""

import numpy as np

from ._client import check_client
from ._tasks import encode_part, merge_stats, merge_unique, part_stats, part_unique


class DaskData:
    """Encoded input partitions (futures of (users, items, values) arrays) and what the fit
    needs to know of them; :meth:`rebuild` encodes them again from the source (after the
    cluster lost them, e.g. on a restart)."""

    def __init__(self, client, source, names, n_users=None, n_items=None, user_ids=None,
                 item_ids=None, raw=True, key="fastmf-input"):
        self.client, self.source, self.names, self.raw = client, source, names, raw
        self.key = key
        self.n_users, self.n_items = n_users, n_items
        self.user_ids, self.item_ids = user_ids, item_ids
        self._encode()

    def _encode(self):
        client, names = self.client, self.names
        parts = self.source(client)
        if self.raw:
            ids = [_tree(client, [client.submit(part_unique, p, names, w, pure=False)
                                  for p in parts], merge_unique) for w in (0, 1)]
            self.user_ids, self.item_ids = client.gather(ids)
        else:
            ids = [None, None]
        self.parts = [client.submit(encode_part, p, names, ids[0], ids[1], pure=False)
                      for p in parts]
        stats = client.gather(_tree(client, [client.submit(part_stats, p, pure=False)
                                             for p in self.parts], merge_stats))
        if stats["bad"]:
            raise ValueError(f"the {names[2]!r} values must be finite: found {stats['bad']} "
                             "NaN or infinite")
        if stats["nnz"] == 0:
            raise ValueError("the training data has no entries")
        users, items = stats["users"], stats["items"]
        self.n_users = len(users) if self.n_users is None else self.n_users
        self.n_items = len(items) if self.n_items is None else self.n_items
        for counts, n, what in ((users, self.n_users, "user"), (items, self.n_items, "item")):
            if len(counts) > n:
                raise ValueError(f"{what} index {len(counts) - 1} is out of range for "
                                 f"{n} {what}s")
        self.user_counts = np.pad(users, (0, self.n_users - len(users)))
        self.item_counts = np.pad(items, (0, self.n_items - len(items)))
        self.nnz, self.positive = stats["nnz"], stats["positive"]
        self.mean = stats["sum"] / stats["nnz"]
        self.value_range = [stats["min"], stats["max"]]

    def rebuild(self):
        """Encode the source again (same IDs and counts: the source did not change)."""
        self._encode()

    @property
    def shape(self):
        return (self.n_users, self.n_items)

    @property
    def values(self):
        """The two extreme values (what an estimator's ``_index_space`` reads as
        ``values.min()`` / ``values.max()``)."""
        return np.array(self.value_range)


def _tree(client, futures, merge, fan_in=8):
    """Reduce ``futures`` with ``merge(*results)`` in a tree of ``fan_in``-way merges."""
    while len(futures) > 1:
        futures = [client.submit(merge, *futures[s:s + fan_in], pure=False)
                   for s in range(0, len(futures), fan_in)]
    return futures[0]


def dask_input(client, X, y, columns):
    """A :class:`DaskData` from the arguments of ``fit``, checked."""
    client = check_client(client)
    from .._ratings import Ratings

    if isinstance(X, Ratings):
        if y is not None:
            raise ValueError("y must be None when X is a Ratings (it holds the values)")
        return _from_ratings(client, X)
    if _is_dask_dataframe(X):
        if y is not None:
            raise ValueError("y must be None when X is a dask DataFrame (its "
                             f"{columns[2]!r} column holds the ratings)")
        return _from_dataframe(client, X, columns)
    if _is_dask_array(X):
        return _from_arrays(client, X, y)
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        import dask.dataframe as dd

        n = max(1, sum(client.nthreads().values()))
        return _from_dataframe(client, dd.from_pandas(X, npartitions=n), columns)
    raise TypeError("X must be a dask DataFrame of (user, item, rating) columns, a dask array "
                    "of [user, item] pairs (with the ratings in y), a pandas DataFrame or a "
                    f"Ratings, got {type(X).__name__}")


def _is_dask_dataframe(X):
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask is required by fastmf.dask
        return False
    return isinstance(X, dd.DataFrame)


def _is_dask_array(X):
    import dask.array as da

    return isinstance(X, da.Array)


def _from_dataframe(client, X, columns):
    user, item, rating = columns
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise KeyError(f"column {missing[0]!r} is not in the DataFrame (has "
                       f"{list(X.columns)}); set columns=(user, item, rating)")
    dtypes = X.dtypes
    kind = np.dtype(dtypes[rating]).kind if _numpy_dtype(dtypes[rating]) else "O"
    if kind not in "biuf" or kind == "b":
        raise ValueError(f"the {rating!r} column must be numeric, got dtype {dtypes[rating]}")
    for col in (user, item):
        if _numpy_dtype(dtypes[col]) and np.dtype(dtypes[col]).kind == "f":
            raise TypeError(f"the {col!r} column must hold integer or string IDs, got dtype "
                            f"{dtypes[col]}")
    frame = X[[user, item, rating]]

    def source(client):
        from distributed import futures_of

        return futures_of(client.persist(frame))

    return DaskData(client, source, (user, item, rating), raw=True)


def _numpy_dtype(dtype):
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return True


def _from_arrays(client, X, y, local=False, **space):
    import dask.array as da

    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be a dask array of shape (n, 2) of [user, item] indices, got "
                         f"shape {X.shape}")
    if X.dtype.kind not in "iu":
        raise TypeError(f"X must hold integer indices, got dtype {X.dtype}")
    if y is None:
        raise ValueError("y is required when X is a dask array of [user, item] pairs")
    if not isinstance(y, da.Array):
        y = da.from_array(np.asarray(y), chunks=(X.chunks[0],))
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has shape {y.shape}")
    if y.dtype == bool or y.dtype.kind not in "iuf":
        raise ValueError(f"y must be numeric, got dtype {y.dtype}")
    X = X.rechunk((X.chunks[0], 2))
    y = y.rechunk((X.chunks[0],))

    def source(client):
        import warnings

        import dask

        blocks = [dask.delayed(_pair)(xb, yb) for xb, yb in
                  zip(X.to_delayed().ravel(), y.to_delayed().ravel(), strict=True)]
        with warnings.catch_warnings():
            if local:  # a local Ratings travels in the graph: that is the point
                warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
            return client.compute(blocks)

    return DaskData(client, source, ("X[:, 0]", "X[:, 1]", "y"), raw=False, **space)


def _pair(pairs, values):
    return pairs, values


def _from_ratings(client, ratings):
    import dask.array as da

    n = max(1, sum(client.nthreads().values()))
    chunk = max(1, -(-ratings.nnz // n))
    X = da.from_array(np.column_stack([ratings.users, ratings.items]), chunks=(chunk, 2))
    y = da.from_array(ratings.values, chunks=(chunk,))
    return _from_arrays(client, X, y, local=True, n_users=ratings.n_users,
                        n_items=ratings.n_items,
                        user_ids=ratings.user_ids, item_ids=ratings.item_ids)

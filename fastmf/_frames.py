"""Top-N lists as pandas DataFrames in raw IDs (what ``recommend(..., as_frame=True)`` and
``similar_items(..., as_frame=True)`` return)."""

from typing import Any

import numpy as np


def _raw(index, ids):
    """Raw IDs of model indices, or the indices themselves when the model has no ID map."""
    return np.asarray(index) if ids is None else ids[index]


def _frame(query_name, query, item_name, items, scores, query_ids, item_ids, raw_ids,
           items_table):
    import pandas as pd

    items = np.asarray(items)
    scores = np.asarray(scores, dtype=np.float64)
    if items.ndim == 1:
        items, scores = items[None, :], scores[None, :]
    query = np.atleast_1d(np.asarray(query))
    if items.shape != scores.shape or len(query) != len(items):
        raise ValueError(f"items and scores must have shape ({len(query)}, n), one row per "
                         f"{query_name}; got {items.shape} and {scores.shape}")
    if not raw_ids:
        present = items >= 0
    elif items.dtype == object:  # recommend pads raw IDs with None
        present = np.array([[x is not None for x in row] for row in items], dtype=bool)
    else:
        present = np.ones(items.shape, dtype=bool)
    keep = np.isfinite(scores) & present
    rows, cols = np.nonzero(keep)
    q = query[rows] if raw_ids else _raw(query[rows], query_ids)
    it = items[rows, cols] if raw_ids else _raw(items[rows, cols], item_ids)
    out = pd.DataFrame({query_name: q, item_name: it, "score": scores[rows, cols],
                        "rank": cols + 1})
    if items_table is not None:
        out = out.join(items_table, on=item_name)
    return out


def recommendations_frame(model: Any, users: Any, items: Any, scores: Any,
                          raw_ids: bool = False, *, items_table: Any = None) -> Any:
    """The output of ``model.recommend(users, ...)`` as a long DataFrame in raw IDs.

    Parameters
    ----------
    model : fitted factor model
        Its ``user_ids_`` and ``item_ids_`` map indices to raw IDs (indices are kept when the
        model has no ID maps).
    users : int or array-like of shape (n_users,)
        The users passed to ``recommend`` (raw IDs when ``raw_ids``).
    items, scores : ndarray of shape (n_users, n), or (n,) for a single user
        What ``recommend`` returned (raw item IDs when ``raw_ids``).
    raw_ids : bool, default=False
        Whether ``users`` and ``items`` are raw IDs already.
    items_table : pandas.DataFrame, optional
        Indexed by raw item ID (e.g. the movies of
        ``load_movielens(..., return_items=True)``): its columns are joined on ``item``.

    Returns
    -------
    pandas.DataFrame
        Columns ``user``, ``item``, ``score`` and ``rank`` (1 = best), one row per
        recommended item, users in the order given; padding (a user with fewer than ``n``
        candidates: item -1 or None, score -inf) is dropped.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf._frames import recommendations_frame
    >>> data = fastmf.Ratings.from_ids(["ann", "ann", "bob", "cid"], ["x", "y", "x", "z"],
    ...                                [5.0, 3.0, 4.0, 2.0])
    >>> model = fastmf.MatrixFactorization(2, n_iter=3, random_state=0).fit(data)
    >>> items, scores = model.recommend([0, 1], n=2, exclude=data)
    >>> recommendations_frame(model, [0, 1], items, scores)[["user", "item", "rank"]]
      user item  rank
    0  ann    z     1
    1  bob    ...     1
    2  bob    ...     2
    """
    return _frame("user", users, "item", items, scores, getattr(model, "user_ids_", None),
                  getattr(model, "item_ids_", None), raw_ids, items_table)


def similar_items_frame(model: Any, query: Any, items: Any, scores: Any,
                        raw_ids: bool = False, *, items_table: Any = None) -> Any:
    """The output of ``model.similar_items(query, ...)`` as a long DataFrame in raw IDs.

    Like :func:`recommendations_frame`, with columns ``item`` (the query item),
    ``similar_item``, ``score`` (the cosine similarity) and ``rank``; ``items_table`` is
    joined on ``similar_item``.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf._frames import similar_items_frame
    >>> data = fastmf.datasets.make_ratings(40, 20, 400, random_state=0)
    >>> model = fastmf.MatrixFactorization(3, n_iter=3, random_state=0).fit(data)
    >>> ids, sims = model.similar_items([4, 7], n=3)
    >>> frame = similar_items_frame(model, [4, 7], ids, sims)
    >>> frame.shape, frame["item"].tolist()
    ((6, 4), [4, 4, 4, 7, 7, 7])
    """
    ids = getattr(model, "item_ids_", None)
    return _frame("item", query, "similar_item", items, scores, ids, ids, raw_ids,
                  items_table)

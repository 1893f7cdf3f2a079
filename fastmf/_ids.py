"""Index bookkeeping shared by the recommenders: raw IDs <-> model indices, unknown IDs."""

import numpy as np

from ._ratings import _py
from ._validation import check_index_array


def split_pairs(X, name="X"):
    """The user and item columns of an (n, 2) array of [user, item] indices."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name} must be an (n, 2) array of [user, item] indices, got shape "
                         f"{X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no [user, item] pairs")
    return (check_index_array(X[:, 0], f"{name}[:, 0] (users)"),
            check_index_array(X[:, 1], f"{name}[:, 1] (items)"))


def unknown_past(index, n):
    """``index`` with every entry >= ``n`` (unknown to the model) replaced by -1."""
    return np.where(index < n, index, -1)


def id_map(model_ids, data_ids, n_data, n_model):
    """Array mapping each data index to the model index of the same raw ID (-1 if unknown)."""
    if model_ids is None or data_ids is None:
        return unknown_past(np.arange(n_data), n_model)
    if model_ids is data_ids:
        return np.arange(n_data)
    if model_ids.dtype != object and data_ids.dtype != object:
        order = np.argsort(model_ids, kind="stable")
        sorted_ids = model_ids[order]
        pos = np.minimum(np.searchsorted(sorted_ids, data_ids), len(order) - 1)
        return np.where(sorted_ids[pos] == data_ids, order[pos], -1)
    table = {x: k for k, x in enumerate(model_ids.tolist())}
    return np.array([table.get(x, -1) for x in data_ids.tolist()], dtype=np.int64)


def raw_to_index(raw, ids, what):
    """Model indices of the raw IDs ``raw`` (KeyError naming the first unknown one)."""
    if ids is None:
        raise ValueError(f"raw_ids=True needs a model fitted on a Ratings with {what} IDs")
    index = id_map(ids, np.atleast_1d(np.asarray(raw)), None, len(ids))
    if (index < 0).any():
        bad = np.atleast_1d(raw)[int(np.argmin(index))]
        raise KeyError(f"unknown {what} ID {_py(bad)!r}")
    return index[0] if np.ndim(raw) == 0 else index


def index_to_raw(idx, ids):
    """Raw IDs of model indices; -1 (padding) becomes None."""
    out = ids[np.maximum(idx, 0)]
    if (idx < 0).any():
        out = out.astype(object)
        out[idx < 0] = None
    return out


def grow(a, n):
    """``a`` with rows appended (zeros) up to ``n`` rows."""
    if len(a) >= n:
        return a
    out = np.zeros((n,) + a.shape[1:], dtype=a.dtype)
    out[:len(a)] = a
    return out

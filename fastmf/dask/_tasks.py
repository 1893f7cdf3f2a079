"""What the workers run: pure functions of their arguments, so that any lost result can be
recomputed from its inputs (no state lives only in a worker's memory).

A *side* (users, or items) is cut into P blocks of consecutive rows. A block is a dict:

- ``indptr``, ``indices``, ``data``: the block's rows as CSR over the *compact* columns, i.e.
  positions in ``ref``; within a row the entries are in increasing order of the other side's
  index, as in the single-node CSR (so the row kernels do the same arithmetic);
- ``ref``: the sorted global indices of the other side's rows the block references, cut by
  the other side's blocks at ``ref_ptr`` (P + 1): Spark's "out-block" information;
- ``start``: the global index of the block's first row; ``counts``: ratings per row.

A block's factor *state* is a tuple ``(X, x_bias, loss)``: its rows, their biases (a
zero-length array for a side without) and the block's share of the objective.
"""

import os

import numpy as np


# ---------------------------------------------------------------------- input
def part_columns(part, names):
    """The (user, item, value) columns of one input partition as NumPy arrays."""
    if isinstance(part, tuple):  # (pairs, values) blocks of dask arrays
        pairs, values = part
        return pairs[:, 0], pairs[:, 1], np.asarray(values)
    return tuple(part[name].to_numpy() for name in names)


def part_unique(part, names, which):
    """Sorted unique raw IDs of column ``which`` (0 users, 1 items) of one partition."""
    import pandas as pd

    col = part_columns(part, names)[which]
    if len(col) and pd.isna(col).any():
        raise ValueError(f"the {names[which]!r} column contains a missing ID")
    try:
        return np.sort(pd.unique(col))  # a hash table, then a sort of the few unique IDs
    except TypeError:
        raise TypeError(f"the {names[which]!r} column holds IDs of types that cannot be "
                        "ordered; use one type (e.g. str) for all IDs") from None


def merge_unique(*arrays):
    return np.unique(np.concatenate(arrays))


def encode_part(part, names, user_ids, item_ids):
    """(users, items, values): int64 indices (raw IDs located in the sorted ``user_ids`` /
    ``item_ids``; taken as they are when those are None) and float64 values."""
    u, i, r = part_columns(part, names)
    u = np.searchsorted(user_ids, u) if user_ids is not None else _indices(u, names[0])
    i = np.searchsorted(item_ids, i) if item_ids is not None else _indices(i, names[1])
    return u.astype(np.int64), i.astype(np.int64), np.asarray(r, dtype=np.float64)


def _indices(a, name):
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer indices, got dtype {a.dtype}")
    if len(a) and a.min() < 0:
        raise ValueError(f"{name} must hold indices >= 0, got {a.min()}")
    return a


def part_stats(enc):
    """Counts and value statistics of one encoded partition (merged by :func:`merge_stats`)."""
    u, i, r = enc
    finite = np.isfinite(r)
    return {"nnz": len(r), "sum": float(r[finite].sum()), "bad": int((~finite).sum()),
            "min": float(r[finite].min()) if finite.any() else np.inf,
            "max": float(r[finite].max()) if finite.any() else -np.inf,
            "positive": int((r > 0).sum()),
            "users": np.bincount(u) if len(u) else np.zeros(0, np.int64),
            "items": np.bincount(i) if len(i) else np.zeros(0, np.int64)}


def merge_stats(*stats):
    out = dict(stats[0])
    for s in stats[1:]:
        for key in ("nnz", "sum", "bad", "positive"):
            out[key] += s[key]
        out["min"], out["max"] = min(out["min"], s["min"]), max(out["max"], s["max"])
        for key in ("users", "items"):
            a, b = out[key], s[key]
            if len(a) < len(b):
                a, b = b, a
            a = a.copy()
            a[:len(b)] += b
            out[key] = a
    return out


# ---------------------------------------------------------------------- blocks
def split_part(enc, user_bounds, item_bounds):
    """The entries of one encoded partition by user block, then by item block: a tuple of
    2P (users, items, values) pieces."""
    u, i, r = enc
    pieces = []
    for index, bounds in ((u, user_bounds), (i, item_bounds)):
        block = np.searchsorted(bounds, index, side="right") - 1
        block = block.astype(np.int16 if len(bounds) < 2**15 else np.int64)
        order = np.argsort(block, kind="stable")  # a radix sort of small integers
        cuts = np.searchsorted(block[order], np.arange(len(bounds)))
        for b in range(len(bounds) - 1):
            sel = order[cuts[b]:cuts[b + 1]]
            pieces.append((u[sel], i[sel], r[sel]))
    return tuple(pieces)


def build_block(rows_of, start, stop, other_bounds, values, dtype, *pieces):
    """One block: the entries of ``pieces`` whose row (``rows_of`` 0: user, 1: item) is in
    ``[start, stop)``, as CSR over compact columns (see the module docstring).

    ``values`` says how the stored values become the kernels' ``data``: ``("ratings",)``, or
    ``("confidence", params)`` (implicit feedback: zero counts dropped, confidences).
    Also records the first duplicated (user, item) pair, if any, under ``dup``.
    """
    u = np.concatenate([p[0] for p in pieces])
    i = np.concatenate([p[1] for p in pieces])
    r = np.concatenate([p[2] for p in pieces])
    if values[0] == "confidence":
        from .._solvers.implicit_als import confidence

        keep = r != 0
        u, i, r = u[keep], i[keep], confidence(r[keep], values[1], np.dtype(dtype))
    rows, cols = (u, i) if rows_of == 0 else (i, u)
    n, n_other = stop - start, int(other_bounds[-1])
    key = (rows - start) * n_other + cols  # (row, column) order, as the single-node CSR
    order = np.argsort(key)
    key, r = key[order], r[order]
    rows, cols = key // n_other, key % n_other
    dup = None
    same = np.flatnonzero(key[1:] == key[:-1])
    if len(same):
        pair = (int(rows[same[0]] + start), int(cols[same[0]]))
        dup = (pair if rows_of == 0 else pair[::-1], len(same))
    counts = np.bincount(rows, minlength=n)
    index_type = np.int32 if len(r) < 2**31 else np.int64
    indptr = np.zeros(n + 1, dtype=index_type)
    np.cumsum(counts, out=indptr[1:])
    if n_other <= 8 * len(cols) + 4096:  # a table over the other side's rows
        seen = np.zeros(n_other, dtype=bool)
        seen[cols] = True
        ref = np.flatnonzero(seen)
        compact = (np.cumsum(seen) - 1)[cols]
    else:
        ref, compact = np.unique(cols, return_inverse=True)
    return {"indptr": indptr, "indices": compact.astype(index_type).ravel(),
            "data": r.astype(dtype), "ref": ref,
            "ref_ptr": np.searchsorted(ref, other_bounds), "start": start,
            "counts": counts.astype(np.float64), "dup": dup}


def block_summary(block):
    """(rows of each block of the other side referenced, nnz, first duplicate)."""
    return np.diff(block["ref_ptr"]), len(block["data"]), block["dup"]


def ref_rows(block, c, start_c):
    """The rows of the other side's block ``c`` this block references, as indices into it."""
    ref = block["ref"][block["ref_ptr"][c]:block["ref_ptr"][c + 1]]
    return (ref - start_c).astype(np.intp)


def localize(x):
    """A copy of ``x``, made by a task on the worker that will use it (so it lives there)."""
    return np.array(x, copy=True)


def rows_of(block):
    """CSR arrays of a block for the row kernels."""
    return block["indptr"], block["indices"], block["data"]


# ---------------------------------------------------------------------- factor states
def take_rows(state, idx):
    """The rows ``idx`` of a block's factors (and biases): what one other block needs."""
    X, xb = state[0], state[1]
    return X[idx], (xb[idx] if len(xb) else xb)


def loss_of(state):
    return state[2]


def gram_part(state):
    """``X^T X`` of one block's factors."""
    X = state[0]
    return X.T @ X


def add(a, b):
    return a + b


def gather_pieces(pieces):
    """The other side's referenced rows, in ``ref`` order, as (Y, y_bias)."""
    Y = np.concatenate([p[0] for p in pieces]) if pieces else None
    yb = np.concatenate([p[1] for p in pieces]) if pieces else None
    return Y, yb


def save_block(state, path):
    """Write a block's factors to ``path`` (npz), atomically; returns the path."""
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, factors=state[0], bias=state[1])
    os.replace(tmp, path)
    return path


def load_block(path):
    with np.load(path) as f:
        return f["factors"], f["bias"], 0.0

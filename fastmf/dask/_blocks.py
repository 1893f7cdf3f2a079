"""The one shuffle of a fit: the encoded input into P user blocks and P item blocks.

Blocks are runs of consecutive rows cut so that each holds about the same number of ratings
(plus one per row, so that empty rows spread too), not by hashing IDs: a power-law user or
item then costs one block its share, not a skewed hash bucket (Spark ALS's known pain).
"""

import dataclasses
import operator

import numpy as np

from ._tasks import block_summary, build_block, split_part


@dataclasses.dataclass
class Side:
    """One side's blocks: ``bounds`` (P + 1 row cuts), the worker of each block, the block
    futures and ``ref[b, c]``: how many rows of the other side's block ``c`` block ``b``
    references."""

    bounds: np.ndarray
    workers: list
    blocks: list
    ref: np.ndarray

    @property
    def sizes(self):
        return np.diff(self.bounds)


def balanced_bounds(counts, P):
    """P + 1 cuts of ``len(counts)`` rows into P runs of about equal ``counts + 1``, each
    run at least one row long.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf.dask._blocks import balanced_bounds
    >>> balanced_bounds(np.array([9, 0, 0, 0, 1, 1, 1, 0]), 2).tolist()
    [0, 1, 8]
    """
    n = len(counts)
    cum = np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.float64) + 1.0)])
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, P) / P, side="left")
    bounds = np.concatenate([[0], cuts, [n]]).astype(np.int64)
    for b in range(1, P):  # at least one row each
        bounds[b] = min(max(bounds[b], bounds[b - 1] + 1), n - (P - b))
    return bounds


def shuffle(solver, data, P, workers, values, dtype):
    """Both sides' blocks, built by ``solver.submit`` tasks (each block on its worker); the
    encoded partitions are released afterwards. Raises ValueError on a duplicated pair."""
    client = solver.client
    ub = balanced_bounds(data.user_counts, P)
    ib = balanced_bounds(data.item_counts, P)
    pieces = []
    for j, part in enumerate(data.parts):
        split = client.submit(split_part, part, ub, ib, key=solver.key("split", j))
        pieces.append([client.submit(operator.getitem, split, q, key=solver.key("piece", j, q))
                       for q in range(2 * P)])
    sides = []
    for s, bounds, other in ((0, ub, ib), (1, ib, ub)):
        blocks = [solver.submit(build_block, s, int(bounds[b]), int(bounds[b + 1]), other,
                                values, dtype, *[p[s * P + b] for p in pieces],
                                key=solver.key("block", "ui"[s], b), where=workers[b])
                  for b in range(P)]
        sides.append(blocks)
    summaries = client.gather([solver.submit(block_summary, blk, key=solver.key("summary", j),
                                             where=workers[j % P])
                               for j, blk in enumerate(sides[0] + sides[1])])
    del pieces
    data.parts = None
    for _, _, dup in summaries:
        if dup is not None:
            (u, i), count = dup
            u = data.user_ids[u] if data.user_ids is not None else u
            i = data.item_ids[i] if data.item_ids is not None else i
            raise ValueError(f"duplicate entry: user {_py(u)!r}, item {_py(i)!r} occurs more "
                             f"than once ({count} duplicates in all)")
    out = []
    for s, bounds in ((0, ub), (1, ib)):
        mine = summaries[s * P:(s + 1) * P]
        out.append(Side(bounds, list(workers), sides[s], np.array([m[0] for m in mine])))
    return out


def _py(x):
    return x.item() if isinstance(x, np.generic) else x

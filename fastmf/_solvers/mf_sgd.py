"""Parallel, deterministic SGD for biased matrix factorization (block-stratified epochs).

Everything random about an SGD fit is derived from one integer, the model's ``sgd_seed_``
(drawn from ``random_state`` when the factors are initialised), and the epoch number: the
user/item groups and the entry order within blocks come from the seed, the order of the blocks
in epoch ``e`` from ``(seed, e)``. A warm-started fit therefore continues exactly where the
previous one stopped (5 + 5 epochs equal 10), and the thread count never changes the result.
"""

import numpy as np

from .._kernels.block_sgd import BATCHED, PLAIN, sgd_epoch
from .._kernels.sgd import block_sort, gather_entries
from .base import Solver
from .mf_als import bias_arrays, count_weights, reg_exponent

# Number of user groups (and item groups): a sub-epoch runs this many blocks in parallel, so
# it bounds the useful thread count. It depends on the data only (not on n_threads), which keeps
# results independent of the thread count; smaller data sets use fewer groups.
MAX_BLOCKS = 32

DIVERGENCE_HINT = "Lower learning_rate (or raise reg); SGD steps that are too large blow up."


def n_blocks(n_users, n_items, nnz):
    """Groups per side: a power of two, about one per 16,384 ratings, at most MAX_BLOCKS.

    A sub-epoch is one parallel region; with fewer ratings than that per sub-epoch the
    threads' start and barrier cost more than they gain (ML-100k gets 4 groups). A power of
    two splits evenly over 2, 4, 8, ... threads (the blocks of a sub-epoch are shared out in
    equal contiguous chunks).
    """
    limit = max(1, min(MAX_BLOCKS, n_users, n_items, nnz // 16384))
    return 1 << (limit.bit_length() - 1)


def block_layout(users, items, n_users, n_items, P, seed):
    """Cut users and items into P contiguous index ranges and order the entries block by block.

    The ranges hold about equal numbers of ratings (balanced blocks), and being contiguous, two
    threads never write to neighbouring rows of the same cache line (random groups made the
    bias arrays and row boundaries ping-pong between cores). Returns ``(order, block_ptr)``:
    ``order`` permutes the entries so that block ``b = user_group * P + item_group`` occupies
    ``order[block_ptr[b]:block_ptr[b + 1]]``, in a random order (from ``seed``) within the block.
    """
    user_group = _balanced_ranges(np.bincount(users, minlength=n_users), P)
    item_group = _balanced_ranges(np.bincount(items, minlength=n_items), P)
    order = np.empty(len(users), np.int64)
    block_ptr = np.empty(P * P + 1, np.int64)
    shuffle_seed = int(np.random.default_rng([seed, 0x5D5]).integers(2**63))
    block_sort(users, items, user_group, item_group, P, shuffle_seed, order, block_ptr)
    return order, block_ptr


def blocked_entries(ratings, P, seed, dtype):
    """The ratings laid out by :func:`block_layout`: ``((users, items, values), block_ptr)``.

    ``users`` and ``items`` as int32, ``values`` in ``dtype``: the arrays the epoch kernels read.
    """
    m, n = ratings.shape
    order, block_ptr = block_layout(ratings.users, ratings.items, m, n, P, seed)
    users = np.empty(len(order), np.int32)
    items = np.empty(len(order), np.int32)
    values = np.empty(len(order), dtype)
    gather_entries(order, ratings.users, ratings.items, ratings.values, users, items, values)
    return (users, items, values), block_ptr


def _balanced_ranges(counts, P):
    """Group of each row: P contiguous ranges with about equal total counts.

    A row belongs to the range its middle rating falls in; a row with more than 1/P of all
    ratings can leave a neighbouring range empty, which is harmless.
    """
    middle = (np.cumsum(counts) - 0.5 * counts) / max(counts.sum(), 1)
    return np.minimum((middle * P).astype(np.int64), P - 1)


def block_schedule(seed, epoch, P):
    """(P, P) array: row s lists the P blocks of sub-epoch s, no two sharing a row or column.

    Every block appears once; the order is drawn from ``(seed, epoch)``.
    """
    rng = np.random.default_rng([seed, epoch + 1])
    shifts = rng.permutation(P)
    cols = rng.permutation(P)
    rows = np.arange(P)
    return (rows[None, :] * P + cols[(rows[None, :] + shifts[:, None]) % P]).astype(np.int64)


def epoch_learning_rate(params, epoch):
    """The step size of epoch ``epoch`` (0-based) under ``params["lr_schedule"]``."""
    lr = float(params["learning_rate"])
    if params["lr_schedule"] == "inverse":
        return lr / (1.0 + float(params["lr_decay"]) * epoch)
    return lr


def _rows(state):
    """A per-row optimiser state as the epoch kernel reads it, 2-D: (n,) becomes (n, 1)."""
    return state if state.ndim == 2 else state[:, None]


def no_implicit(W):
    """The ``implicit`` argument of the epoch kernel for a model without SVD++'s terms."""
    empty = np.zeros((0, W.shape[1]), W.dtype)
    return empty, empty


def no_row_reg(dtype):
    """The ``row_reg`` argument of the epoch kernel for unweighted L2 (multiplier 1)."""
    return np.zeros(0, dtype), np.zeros(0, dtype)


def row_reg(counts_u, counts_i, exponent, dtype):
    """The epoch kernel's ``row_reg``: per-rating L2 multipliers ``n ** (exponent - 1)`` of
    each user and item (``n`` its count), so that a row's L2 terms over its ratings add up to
    ``reg * n ** exponent``; zero-length arrays (multiplier 1) for ``exponent == 1``."""
    if exponent == 1:
        return no_row_reg(dtype)
    return tuple((np.maximum(c, 1) ** (exponent - 1)).astype(dtype) for c in (counts_u, counts_i))


def l2_penalty(reg, reg_bias, counts_u, counts_i, W, H, bu, bi):
    """reg * sum_u n_u ||w_u||^2 + ... : the L2 terms SGD minimises (one per rating; ``counts``
    are the rows' weights, their counts to the power of the scaling's exponent)."""
    pen = reg * (counts_u @ np.einsum("ij,ij->i", W, W) + counts_i @ np.einsum("ij,ij->i", H, H))
    if len(bu):
        pen += reg_bias * (counts_u @ np.square(bu, dtype=np.float64)
                           + counts_i @ np.square(bi, dtype=np.float64))
    return float(pen)


class SGDSolver(Solver):
    """One ``step()`` = one epoch of block-stratified SGD; returns the training objective.

    The objective is the sum of squared errors (each measured just before its rating's update,
    as LIBMF and Surprise report it) plus the per-rating L2 terms at the end of the epoch.
    Optimiser state that must survive a warm start is part of the fitted state:
    ``sgd_seed_`` and ``sgd_user_state_`` / ``sgd_item_state_`` (AdaGrad accumulators of shape
    (n,) or momentum velocities of shape (n, k + 1); zero-length when unused). The epoch
    number (block order, learning-rate schedule) continues from ``params["first_iter"]``.
    """

    divergence_hint = DIVERGENCE_HINT

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        s = self._state
        dt = s["item_factors_"].dtype
        if s.get("sgd_seed_") is None:
            s["sgd_seed_"] = int(rng.integers(2**31 - 1))
        m, n = ratings.shape
        self.P = n_blocks(m, n, ratings.nnz)
        self.entries, self.block_ptr = blocked_entries(ratings, self.P, s["sgd_seed_"], dt)
        counts_u = np.bincount(ratings.users, minlength=m).astype(np.float64)
        counts_i = np.bincount(ratings.items, minlength=n).astype(np.float64)
        exponent = reg_exponent(params)
        self.row_reg = row_reg(counts_u, counts_i, exponent, dt)
        self.counts_u = count_weights(counts_u, exponent)
        self.counts_i = count_weights(counts_i, exponent)
        self.params = params
        self.reg, self.reg_bias = params["reg"], params["reg_bias"]
        self.batched = params["batch_size"] > 1 or params["momentum"] > 0
        k = s["item_factors_"].shape[1]
        adagrad = params["lr_schedule"] == "adagrad"
        if self.batched and params["momentum"] > 0:
            shape_u, shape_i = (m, k + 1), (n, k + 1)
        elif adagrad:
            shape_u, shape_i = (m,), (n,)
        else:
            shape_u, shape_i = (0,), (0,)
        state_u = s.get("sgd_user_state_")
        if state_u is None or state_u.shape != shape_u:
            fill = 1.0 if adagrad and not self.batched else 0.0
            s["sgd_user_state_"] = np.full(shape_u, fill, dt)
            s["sgd_item_state_"] = np.full(shape_i, fill, dt)
        self.epoch = params["first_iter"]

    def step(self):
        s, p = self._state, self.params
        W, H = s["user_factors_"], s["item_factors_"]
        ub, ib = bias_arrays(s, H.dtype)
        order = block_schedule(s["sgd_seed_"], self.epoch, self.P)
        lr = epoch_learning_rate(p, self.epoch)
        f = H.dtype.type  # scalars in the factors' precision: float32 math
        hyper = (f(s["global_mean_"]), f(lr), f(self.reg), f(self.reg_bias), f(p["momentum"]),
                 int(p["batch_size"]))
        state = (_rows(s["sgd_user_state_"]), _rows(s["sgd_item_state_"]))
        sse = sgd_epoch(BATCHED if self.batched else PLAIN, (order, self.block_ptr),
                        self.entries, (W, H, ub, ib), hyper, state, no_implicit(W),
                        self.row_reg)
        self.epoch += 1
        return sse + l2_penalty(self.reg, self.reg_bias, self.counts_u, self.counts_i,
                                W, H, ub, ib)

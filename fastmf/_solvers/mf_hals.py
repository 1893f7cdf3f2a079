"""CCD++ for biased matrix factorization: one factor at a time, the residual kept exact."""

import numpy as np

from .._kernels.hals import ccd_chunks, ccd_sweep
from .._kernels.linalg import residual
from .base import Solver
from .mf_als import bias_arrays, objective, reg_exponent, sides


class CCDSolver(Solver):
    """Each iteration updates, for f = 1..k, factor f of every user and then of every item.

    The residual ``r - prediction`` on the stored entries is recomputed at the start of every
    iteration (so float32 rounding never accumulates) and corrected after each scalar update:
    an iteration costs O(nnz k) with no k x k solves. Then the user and item biases are updated
    the same way, as factors whose other side is all ones. The entries are streamed in the
    order of the side with more rows (users on most data; when there are more items than
    users, each factor's items are updated first), so no pass ever gathers the residual through
    a permutation. Deterministic for any thread count. The objective never increases: every
    update is an exact coordinate minimisation.
    """

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        dt = state["item_factors_"].dtype
        self.by_user, self.by_item = sides(ratings, dt)
        self.users_major = ratings.n_users >= ratings.n_items
        rows, cols = ((self.by_user, self.by_item) if self.users_major
                      else (self.by_item, self.by_user))
        self.rows = rows
        self.chunk_ptr = ccd_chunks(rows[0], len(cols[0]) - 1)
        self.col_counts = np.diff(cols[0]).astype(np.float64)
        self.res = np.empty(ratings.nnz, dt)
        self.reg, self.reg_bias = params["reg"], params["reg_bias"]
        self.exponent = reg_exponent(params)

    def step(self):
        s = self._state
        W, H, mu = s["user_factors_"], s["item_factors_"], s["global_mean_"]
        ub, ib = bias_arrays(s, H.dtype)
        k = W.shape[1]
        # factors transposed (each update reads one contiguous vector), then the two biases as
        # factors against a fixed all-ones vector: (user bias, ones) and (ones, item bias)
        n_f = k + (2 if len(ub) else 0)
        Wt = np.ones((n_f, W.shape[0]), W.dtype)
        Ht = np.ones((n_f, H.shape[0]), H.dtype)
        Wt[:k], Ht[:k] = W.T, H.T
        move_w, move_h = np.ones(n_f, np.bool_), np.ones(n_f, np.bool_)
        l2 = np.full(n_f, self.reg)
        if len(ub):
            Wt[k], Ht[k + 1] = ub, ib
            move_h[k] = move_w[k + 1] = False
            l2[k:] = self.reg_bias
        if self.users_major:
            residual(self.rows, (W, ub), (H, ib), mu, self.res)
            factors, moves = (Wt, Ht), (move_w, move_h, l2)
        else:
            residual(self.rows, (H, ib), (W, ub), mu, self.res)
            factors, moves = (Ht, Wt), (move_h, move_w, l2)
        ccd_sweep((self.rows[0], self.rows[1], self.res), factors, moves,
                  (self.chunk_ptr, self.col_counts), (0.0, self.exponent, False))
        W[...] = Wt[:k].T
        H[...] = Ht[:k].T
        if len(ub):
            ub[...], ib[...] = Wt[k], Ht[k + 1]
        return objective(s, self.by_user, self.by_item, self.reg, self.reg_bias, self.exponent)

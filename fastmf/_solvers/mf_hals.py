"""CCD++ for biased matrix factorization: one factor at a time, the residual kept exact."""

import numpy as np

from .._kernels.hals import ccd_update, csc_to_csr_positions, residual
from .mf_als import objective


class CCDSolver:
    """Each iteration updates, for f = 1..k, factor f of every user then of every item.

    The residual ``r - prediction`` on the stored entries is recomputed at the start of every
    iteration (so float32 rounding never accumulates) and corrected after each scalar update:
    an iteration costs O(nnz k) with no k x k solves. Then the user and item biases are updated
    the same way, as factors whose other side is all ones. The factors are stored transposed
    during the fit so each update reads one contiguous vector. Deterministic for any thread
    count (rows touch disjoint entries). The objective never increases: every update is an
    exact coordinate minimisation.
    """

    extra_state = ()

    def __init__(self, model, ratings, rng):
        self.model = model
        dt = model.item_factors_.dtype
        csr, csc = ratings.csr, ratings.csc
        self.by_user = (csr.indptr, csr.indices, csr.data.astype(dt))
        self.by_item = (csc.indptr, csc.indices, csc.data.astype(dt))
        self.perm = csc_to_csr_positions(csc.indptr, csc.indices, csr.indptr)
        self.no_perm = np.zeros(0, np.int64)
        self.res = np.empty(len(csr.data), dt)
        self.ones_u = np.ones(ratings.n_users, dt)
        self.ones_i = np.ones(ratings.n_items, dt)
        self.reg = float(model.reg)
        self.reg_bias = float(model.reg if model.reg_bias is None else model.reg_bias)
        self.scale = model.reg_scaling == "count"

    def step(self):
        m = self.model
        ub, ib = m._bias_arrays()
        residual(*self.by_user, m.user_factors_, ub, m.item_factors_, ib, m.global_mean_,
                 self.res)
        Wt = np.ascontiguousarray(m.user_factors_.T)
        Ht = np.ascontiguousarray(m.item_factors_.T)
        u_ptr, u_idx, _ = self.by_user
        i_ptr, i_idx, _ = self.by_item
        for f in range(Wt.shape[0]):
            ccd_update(u_ptr, u_idx, self.no_perm, self.res, Wt[f], Ht[f], 0.0, self.reg,
                       self.scale, False)
            ccd_update(i_ptr, i_idx, self.perm, self.res, Ht[f], Wt[f], 0.0, self.reg,
                       self.scale, False)
        if len(ub):
            ccd_update(u_ptr, u_idx, self.no_perm, self.res, ub, self.ones_i, 0.0,
                       self.reg_bias, self.scale, False)
            ccd_update(i_ptr, i_idx, self.perm, self.res, ib, self.ones_u, 0.0,
                       self.reg_bias, self.scale, False)
        m.user_factors_[...] = Wt.T
        m.item_factors_[...] = Ht.T
        return objective(m, self.by_user, self.by_item, self.reg, self.reg_bias, self.scale)

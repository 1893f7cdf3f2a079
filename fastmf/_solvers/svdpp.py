"""SVD++ by block-stratified SGD (the epoch of :class:`fastmf.SVDpp`)."""

import numpy as np
import scipy.sparse as sp

from .._kernels.block_sgd import SVDPP, sgd_epoch
from .._kernels.svdpp import implicit_sums, implicit_update
from .base import Solver
from .mf_sgd import (
    DIVERGENCE_HINT,
    block_schedule,
    blocked_entries,
    epoch_learning_rate,
    l2_penalty,
    n_blocks,
    no_row_reg,
)


class SVDppSolver(Solver):
    """One ``step()`` = one SVD++ epoch (see :class:`fastmf.SVDpp`); returns the objective.

    ``data`` is ``(ratings, implicit)``: the training Ratings and the CSR whose rows are the
    implicit sets N(u). The epoch number (block order, learning-rate schedule) continues from
    ``params["first_iter"]``.
    """

    divergence_hint = DIVERGENCE_HINT

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        ratings, implicit = data
        s = self._state
        if s.get("sgd_seed_") is None:
            s["sgd_seed_"] = int(rng.integers(2**31 - 1))
        dt = s["item_factors_"].dtype
        m, n = ratings.shape
        self.P = n_blocks(m, n, ratings.nnz)
        self.entries, self.block_ptr = blocked_entries(ratings, self.P, s["sgd_seed_"], dt)
        self.counts_u = np.bincount(ratings.users, minlength=m).astype(np.float64)
        self.counts_i = np.bincount(ratings.items, minlength=n).astype(np.float64)
        pattern = sp.csr_matrix((np.ones(len(implicit.indices), dt), implicit.indices,
                                 implicit.indptr), shape=ratings.shape)
        self.N = (pattern.indptr, pattern.indices)
        csc = pattern.tocsc()
        csc.sort_indices()
        self.N_t = (csc.indptr, csc.indices)
        self.implicit_counts = np.diff(csc.indptr).astype(np.float64)
        n_implicit = np.diff(pattern.indptr)
        self.scale_u = (1.0 / np.sqrt(np.maximum(n_implicit, 1))).astype(dt)[:, None]
        self.params = params
        self.reg, self.reg_bias, self.reg_y = (params["reg"], params["reg_bias"],
                                               params["reg_implicit"])
        W = s["base_user_factors_"]
        self.Z = np.zeros_like(W)
        self.G = np.zeros_like(W)
        implicit_sums(self.N, s["implicit_factors_"], self.Z)
        np.add(W, self.Z, out=s["user_factors_"])
        self.epoch = params["first_iter"]

    def step(self):
        s = self._state
        W, H, Y = s["base_user_factors_"], s["item_factors_"], s["implicit_factors_"]
        bu, bi = s["user_bias_"], s["item_bias_"]
        lr = epoch_learning_rate(self.params, self.epoch)
        order = block_schedule(s["sgd_seed_"], self.epoch, self.P)
        self.G[...] = 0
        f = H.dtype.type  # scalars in the factors' precision: float32 math
        hyper = (f(s["global_mean_"]), f(lr), f(self.reg), f(self.reg_bias), f(0), 1)
        no_state = np.zeros((0, 1), H.dtype)
        sse = sgd_epoch(SVDPP, (order, self.block_ptr), self.entries, (W, H, bu, bi), hyper,
                        (no_state, no_state), (self.Z, self.G), no_row_reg(H.dtype))
        self.G *= self.scale_u
        implicit_update(self.N_t, self.G, Y, f(lr), f(self.reg_y))
        implicit_sums(self.N, Y, self.Z)
        np.add(W, self.Z, out=s["user_factors_"])
        self.epoch += 1
        return sse + l2_penalty(self.reg, self.reg_bias, self.counts_u, self.counts_i,
                                W, H, bu, bi) + self.reg_y * float(
            self.implicit_counts @ np.einsum("ij,ij->i", Y, Y, dtype=np.float64))

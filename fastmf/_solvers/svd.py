"""PureSVD's one step: a truncated SVD of the (implicitly centred) matrix."""

import numpy as np
import scipy.sparse.linalg as spla

from ..svd import CenteredOperator, _flip_signs, _mean_stored, randomized_svd
from .base import Solver


class PureSVDSolver(Solver):
    """``step()`` decomposes once (randomized range finder or ARPACK, by
    ``params["algorithm"]``) and returns the squared error of the rank-k approximation of the
    centred matrix, ``||A||_F^2 - sum_j s_j^2`` (zeros included); the loop runs it once."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        self.ratings, self.params, self.rng = ratings, params, rng

    def step(self):
        p, r, rng = self.params, self.ratings, self.rng
        dtype, k = p["dtype"], p["n_factors"]
        m, n = r.shape
        csr, csc = r.csr, r.csc
        mu, ub, ib = 0.0, None, None
        row_shift = col_shift = None
        x = csr.data.astype(np.float64)
        if p["center"] == "global":
            mu = float(np.mean(r.values))
            col_shift = np.full(n, mu)
            sq = float(np.sum((x - mu) ** 2)) + (m * n - len(x)) * mu * mu
        elif p["center"] == "user":
            ub = row_shift = _mean_stored(csr).astype(dtype)
            sq = _centred_sq(x, np.repeat(ub, np.diff(csr.indptr)), n - np.diff(csr.indptr),
                             ub)
        elif p["center"] == "item":
            ib = col_shift = _mean_stored(csc).astype(dtype)
            sq = _centred_sq(csc.data.astype(np.float64), np.repeat(ib, np.diff(csc.indptr)),
                             m - np.diff(csc.indptr), ib)
        else:
            sq = float(x @ x)
        A = CenteredOperator(csr, csc, row_shift, col_shift, dtype)
        if p["algorithm"] == "randomized":
            U, s, Vt = randomized_svd(A, k, rng, p["n_oversamples"], p["n_power_iter"])
        else:
            v0 = rng.uniform(-1, 1, min(m, n))
            U, s, Vt = spla.svds(A, k=k, v0=v0)
            order = np.argsort(s)[::-1]
            U, s, Vt = _flip_signs(U[:, order], s[order], Vt[order])
        root = np.sqrt(np.maximum(s, 0))
        self._state = {"singular_values_": s.astype(dtype),
                       "user_factors_": np.ascontiguousarray(U * root, dtype=dtype),
                       "item_factors_": np.ascontiguousarray(Vt.T * root, dtype=dtype),
                       "global_mean_": mu, "user_bias_": ub, "item_bias_": ib}
        return max(sq - float(np.sum(s.astype(np.float64) ** 2)), 0.0)


def _centred_sq(stored, shift_stored, n_zeros, shift):
    """Sum of squares of a matrix minus a per-row shift: stored entries and the zeros."""
    return float(np.sum((stored - shift_stored) ** 2)
                 + np.sum(n_zeros * shift.astype(np.float64) ** 2))

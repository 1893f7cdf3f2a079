"""Alternating least squares for biased matrix factorization (closed-form or CG rows)."""

import numpy as np

from .._kernels.als import als_cg_half_sweep, als_half_sweep
from .._kernels.linalg import residual
from .base import Solver


def bias_arrays(state, dtype):
    """(user_bias_, item_bias_) of an MF state, zero-length arrays for a model without."""
    if state.get("user_bias_") is None:
        empty = np.zeros(0, dtype)
        return empty, empty
    return state["user_bias_"], state["item_bias_"]


def sides(ratings, dtype):
    """The ratings by user (CSR) and by item (CSC) as (indptr, indices, values) triples."""
    csr, csc = ratings.csr, ratings.csc
    return ((csr.indptr, csr.indices, csr.data.astype(dtype)),
            (csc.indptr, csc.indices, csc.data.astype(dtype)))


def objective(state, by_user, by_item, reg, reg_bias, scale):
    """Squared error on the stored entries plus the L2 terms (ALS-WR scaled when ``scale``)."""
    W, H = state["user_factors_"], state["item_factors_"]
    ub, ib = bias_arrays(state, H.dtype)
    sse = residual(by_user, (W, ub), (H, ib), state["global_mean_"], np.zeros(0, ub.dtype))
    nu = np.diff(by_user[0]) if scale else 1.0
    ni = np.diff(by_item[0]) if scale else 1.0
    pen = reg * (np.sum(nu * np.einsum("ij,ij->i", W, W, dtype=np.float64))
                 + np.sum(ni * np.einsum("ij,ij->i", H, H, dtype=np.float64)))
    if len(ub):
        pen += reg_bias * (np.sum(nu * np.square(ub, dtype=np.float64))
                           + np.sum(ni * np.square(ib, dtype=np.float64)))
    return sse + pen


class ALSSolver(Solver):
    """Each iteration solves all item rows with users fixed, then all user rows: exactly
    (Cholesky), or by ``cg_steps`` warm-started conjugate-gradient steps per row.

    Items first, so that after an exact fit the user factors are the exact solution for the
    final item factors: folding a training user back in reproduces its row (with CG they are
    within the CG tolerance of it). Deterministic for any thread count (rows are independent).
    """

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        dt = state["item_factors_"].dtype
        self.by_user, self.by_item = sides(ratings, dt)
        self.reg, self.reg_bias = float(params["reg"]), float(params["reg_bias"])
        self.scale = params["reg_scaling"] == "count"
        steps = params["cg_steps"]
        self.sweep = als_half_sweep if steps is None else \
            (lambda *args: als_cg_half_sweep(*args, steps))

    def step(self):
        s = self._state
        W, H, mu = s["user_factors_"], s["item_factors_"], s["global_mean_"]
        ub, ib = bias_arrays(s, H.dtype)
        hyper = (float(mu), self.reg, self.reg_bias, self.scale)
        self.sweep(self.by_item, (H, ib), (W, ub), hyper)
        self.sweep(self.by_user, (W, ub), (H, ib), hyper)
        return objective(s, self.by_user, self.by_item, self.reg, self.reg_bias, self.scale)


def fold_in(X, item_factors, item_bias, global_mean, reg, reg_bias, scale):
    """Exact ALS rows (factors and bias) for the rows of ``X`` (CSR over the items), items
    held fixed: ``{"user_factors_": W, "user_bias_": b}`` (no bias for a model without)."""
    dt = item_factors.dtype
    W = np.zeros((X.shape[0], item_factors.shape[1]), dtype=dt)
    has_bias = item_bias is not None
    b = np.zeros(X.shape[0] if has_bias else 0, dtype=dt)
    ib = item_bias if has_bias else np.zeros(0, dt)
    als_half_sweep((X.indptr, X.indices, X.data.astype(dt)), (W, b), (item_factors, ib),
                   (float(global_mean), float(reg), float(reg_bias), bool(scale)))
    return {"user_factors_": W, **({"user_bias_": b} if has_bias else {})}

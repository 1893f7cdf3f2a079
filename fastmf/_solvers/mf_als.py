"""Alternating least squares for biased matrix factorization (closed-form rows)."""

import numpy as np

from .._kernels.als import als_cg_half_sweep, als_half_sweep
from .._kernels.linalg import residual


class ALSSolver:
    """Each iteration solves all item rows with users fixed, then all user rows: exactly
    (Cholesky), or by ``model.cg_steps`` warm-started conjugate-gradient steps per row.

    Items first, so that after an exact ``fit`` the user factors are the exact solution for the
    final item factors: folding a training user back in reproduces its row (with CG they are
    within the CG tolerance of it). Deterministic for any thread count (rows are independent).
    """

    extra_state = ()

    def __init__(self, model, ratings, rng):
        self.model = model
        dt = model.item_factors_.dtype
        csr, csc = ratings.csr, ratings.csc
        self.by_user = (csr.indptr, csr.indices, csr.data.astype(dt))
        self.by_item = (csc.indptr, csc.indices, csc.data.astype(dt))
        self.reg = float(model.reg)
        self.reg_bias = float(model.reg if model.reg_bias is None else model.reg_bias)
        self.scale = model.reg_scaling == "count"
        steps = model.cg_steps
        if steps is None:
            self.sweep = als_half_sweep
        else:
            def sweep(*args):
                als_cg_half_sweep(*args, steps)
            self.sweep = sweep

    def step(self):
        m = self.model
        ub, ib = m._bias_arrays()
        self.sweep(*self.by_item, m.item_factors_, ib, m.user_factors_, ub, m.global_mean_,
                   self.reg, self.reg_bias, self.scale)
        self.sweep(*self.by_user, m.user_factors_, ub, m.item_factors_, ib, m.global_mean_,
                   self.reg, self.reg_bias, self.scale)
        return objective(m, self.by_user, self.by_item, self.reg, self.reg_bias, self.scale)


def objective(model, by_user, by_item, reg, reg_bias, scale):
    """Squared error on the stored entries plus the L2 terms (ALS-WR scaled when ``scale``)."""
    ub, ib = model._bias_arrays()
    sse = residual(*by_user, model.user_factors_, ub, model.item_factors_, ib,
                   model.global_mean_, np.zeros(0, ub.dtype))
    nu = np.diff(by_user[0]) if scale else 1.0
    ni = np.diff(by_item[0]) if scale else 1.0
    W, H = model.user_factors_, model.item_factors_  # row norms in float64, without a copy
    pen = reg * (np.sum(nu * np.einsum("ij,ij->i", W, W, dtype=np.float64))
                 + np.sum(ni * np.einsum("ij,ij->i", H, H, dtype=np.float64)))
    if len(ub):
        pen += reg_bias * (np.sum(nu * ub.astype(np.float64) ** 2)
                           + np.sum(ni * ib.astype(np.float64) ** 2))
    return sse + pen


def fold_in(model, X):
    """User factors for the rows of ``X`` (CSR over the training items), items held fixed."""
    dt = model.item_factors_.dtype
    W = np.zeros((X.shape[0], model.item_factors_.shape[1]), dtype=dt)
    ub, ib = model._bias_arrays()
    new_ub = np.zeros(X.shape[0] if len(ub) else 0, dtype=dt)
    reg = float(model.reg)
    reg_bias = float(model.reg if model.reg_bias is None else model.reg_bias)
    als_half_sweep(X.indptr, X.indices, X.data.astype(dt), W, new_ub, model.item_factors_, ib,
                   model.global_mean_, reg, reg_bias, model.reg_scaling == "count")
    return W

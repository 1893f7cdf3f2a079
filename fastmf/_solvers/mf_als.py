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


def half_sweep(rows, X, x_bias, Y, y_bias, hp, cg_steps):
    """Update the rows of ``X`` (and ``x_bias``) in place with ``Y`` and ``y_bias`` fixed.

    ``rows`` is the (indptr, indices, values) triple of ``X``'s rows over the rows of ``Y``,
    ``hp`` the tuple (global mean, reg, reg_bias, exponent of the count scaling): exact rows when
    ``cg_steps`` is None, else that many warm-started CG steps per row. The one path to the
    ALS kernels, used by :class:`ALSSolver` and by the Dask back end's block tasks.
    """
    hyper = (float(hp[0]), float(hp[1]), float(hp[2]), float(hp[3]))
    if cg_steps is None:
        als_half_sweep(rows, (X, x_bias), (Y, y_bias), hyper)
    else:
        als_cg_half_sweep(rows, (X, x_bias), (Y, y_bias), hyper, cg_steps)


def squared_error(rows, X, x_bias, Y, y_bias, mu):
    """Sum of squared errors of the stored entries of ``rows`` (float64)."""
    return residual(rows, (X, x_bias), (Y, y_bias), mu, np.zeros(0, Y.dtype))


def reg_exponent(params):
    """The exponent of the rows' count in their L2 weight: ``reg_exponent`` with
    ``reg_scaling="count"`` (1 is ALS-WR), 0 with ``"none"``."""
    return float(params["reg_exponent"]) if params["reg_scaling"] == "count" else 0.0


def count_weights(counts, exponent):
    """Each row's L2 multiplier: its count to the power ``exponent`` (float64)."""
    return np.asarray(counts, dtype=np.float64) ** exponent


def penalty(counts, X, x_bias, reg, reg_bias):
    """The L2 terms of the rows of ``X`` (and ``x_bias``), each row's weighted by ``counts``
    (its number of ratings to the power of the scaling's exponent)."""
    pen = reg * np.sum(counts * np.einsum("ij,ij->i", X, X, dtype=np.float64))
    if len(x_bias):
        pen += reg_bias * np.sum(counts * np.square(x_bias, dtype=np.float64))
    return float(pen)


def objective(state, by_user, by_item, reg, reg_bias, exponent):
    """Squared error on the stored entries plus the L2 terms, each row's weighted by its count
    to the power ``exponent``."""
    W, H = state["user_factors_"], state["item_factors_"]
    ub, ib = bias_arrays(state, H.dtype)
    return (squared_error(by_user, W, ub, H, ib, state["global_mean_"])
            + penalty(count_weights(np.diff(by_user[0]), exponent), W, ub, reg, reg_bias)
            + penalty(count_weights(np.diff(by_item[0]), exponent), H, ib, reg, reg_bias))


class ALSSolver(Solver):
    """Each iteration solves all item rows with users fixed, then all user rows: exactly
    (Cholesky), or by ``cg_steps`` warm-started conjugate-gradient steps per row.

    Items first, so that after an exact fit the user factors are the exact solution for the
    final item factors: folding a training user back in reproduces its row. With CG rows and
    ``final_exact``, :meth:`finish` solves the users exactly once more for the items
    returned, so that holds too (cmfrec's final Cholesky pass). Deterministic for any thread
    count (rows are independent).
    """

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        dt = state["item_factors_"].dtype
        self.by_user, self.by_item = sides(ratings, dt)
        self.reg, self.reg_bias = float(params["reg"]), float(params["reg_bias"])
        self.exponent = reg_exponent(params)
        self.cg_steps = params["cg_steps"]
        self.final_exact = params.get("final_exact", False) and self.cg_steps is not None

    def step(self):
        s = self._state
        W, H, mu = s["user_factors_"], s["item_factors_"], s["global_mean_"]
        ub, ib = bias_arrays(s, H.dtype)
        hp = (mu, self.reg, self.reg_bias, self.exponent)
        half_sweep(self.by_item, H, ib, W, ub, hp, self.cg_steps)
        half_sweep(self.by_user, W, ub, H, ib, hp, self.cg_steps)
        return self._objective()

    def finish(self):
        """With CG rows and ``final_exact``: the exact user rows for the final items and the
        objective after them (never above the last iteration's); else None."""
        if not self.final_exact:
            return None
        s = self._state
        W, H, mu = s["user_factors_"], s["item_factors_"], s["global_mean_"]
        ub, ib = bias_arrays(s, H.dtype)
        half_sweep(self.by_user, W, ub, H, ib, (mu, self.reg, self.reg_bias, self.exponent), None)
        return self._objective()

    def _objective(self):
        return objective(self._state, self.by_user, self.by_item, self.reg, self.reg_bias,
                         self.exponent)


def fold_in(X, item_factors, item_bias, global_mean, reg, reg_bias, exponent):
    """Exact ALS rows (factors and bias) for the rows of ``X`` (CSR over the items), items
    held fixed, each row's L2 weights times its count to the power ``exponent``:
    ``{"user_factors_": W, "user_bias_": b}`` (no bias for a model without)."""
    dt = item_factors.dtype
    W = np.zeros((X.shape[0], item_factors.shape[1]), dtype=dt)
    has_bias = item_bias is not None
    b = np.zeros(X.shape[0] if has_bias else 0, dtype=dt)
    ib = item_bias if has_bias else np.zeros(0, dt)
    half_sweep((X.indptr, X.indices, X.data.astype(dt)), W, b, item_factors, ib,
               (global_mean, reg, reg_bias, exponent), None)
    return {"user_factors_": W, **({"user_bias_": b} if has_bias else {})}

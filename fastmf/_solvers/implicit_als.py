"""Implicit-feedback ALS (Hu, Koren & Volinsky): items, then users, by CG or Cholesky rows."""

import numpy as np

from .._kernels.implicit_als import implicit_cg_sweep, implicit_cholesky_sweep
from .base import Solver


def confidence(values, params, dtype):
    """The confidences ``c_ui`` of the stored counts ``values``, computed in ``dtype``."""
    alpha = dtype.type(params["alpha"])
    c = values.astype(dtype)  # a new array: the data are never written to
    if params["confidence"] == "log":
        np.log1p(np.divide(c, dtype.type(params["epsilon"]), out=c), out=c)
    c *= alpha
    c += dtype.type(1)
    return c


def confidence_rows(X, params, dtype):
    """(indptr, indices, c) of the positive entries of a CSR or CSC matrix (the matrix is
    copied only when it stores zeros, which are dropped)."""
    if not X.data.all():
        X = X.copy()
        X.eliminate_zeros()
    return X.indptr, X.indices, confidence(X.data, params, np.dtype(dtype))


def gram(Y, reg):
    """``Y^T Y + reg I``: one BLAS product, outside the parallel kernels."""
    G = Y.T @ Y
    G[np.diag_indices_from(G)] += reg
    return G


def half_sweep(rows, X, Y, reg, cg_steps, G=None):
    """Update the rows of ``X`` with ``Y`` fixed; returns their share of the objective.

    ``G`` is ``gram(Y_all, reg)`` of the whole other side when ``Y`` holds only the rows that
    ``rows`` reference (the Dask back end's blocks); by default ``gram(Y, reg)``.
    """
    G = gram(Y, reg) if G is None else G
    if cg_steps is None:
        return implicit_cholesky_sweep(rows, X, Y, G, reg > 0)
    return implicit_cg_sweep(rows, X, Y, G, cg_steps)


class ImplicitALSSolver(Solver):
    """One ``step()``: items with users fixed, then users; returns the exact objective
    ``sum_ui c_ui (p_ui - w_u . h_i)^2 + reg (||W||^2 + ||H||^2)`` (the user sweep returns the
    user rows' share, the item penalty is added). ``params["cg_steps"]`` None: exact rows."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        dt = state["item_factors_"].dtype
        self.by_user = confidence_rows(ratings.csr, params, dt)
        self.by_item = confidence_rows(ratings.csc, params, dt)
        self.reg, self.cg_steps = params["reg"], params["cg_steps"]

    def step(self):
        W, H = self._state["user_factors_"], self._state["item_factors_"]
        half_sweep(self.by_item, H, W, self.reg, self.cg_steps)
        loss = half_sweep(self.by_user, W, H, self.reg, self.cg_steps)
        return loss + self.reg * float(np.vdot(H, H))

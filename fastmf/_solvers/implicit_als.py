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


def gram(Y):
    """``Y^T Y``: one BLAS product, outside the parallel kernels."""
    return Y.T @ Y


def row_reg(counts, n_other, params, dtype):
    """The L2 weight of each row, in ``dtype``: ``reg`` (``reg_scaling="none"``), or
    ``reg (n_u + unobserved_weight n_other)^reg_exponent`` (``"frequency"``, Rendle et al.
    2022), with ``n_u`` the row's positive entries (``counts``) and ``n_other`` the size of
    the other side."""
    counts = np.asarray(counts, dtype=np.float64)
    if params["reg_scaling"] == "none":
        return np.full(len(counts), params["reg"], dtype=dtype)
    scale = (counts + params["unobserved_weight"] * n_other) ** params["reg_exponent"]
    return (params["reg"] * scale).astype(dtype)


def penalty(reg, X):
    """``sum_u reg_u ||x_u||^2`` (float64)."""
    return float(np.einsum("i,ij,ij->", reg.astype(np.float64), X, X, dtype=np.float64))


def half_sweep(rows, X, Y, reg, cg_steps, G=None):
    """Update the rows of ``X`` with ``Y`` fixed; returns their share of the objective.

    ``reg`` holds the rows' L2 weights (:func:`row_reg`). ``G`` is ``gram(Y_all)`` of the
    whole other side when ``Y`` holds only the rows that ``rows`` reference (the Dask back
    end's blocks); by default ``gram(Y)``.
    """
    system = (gram(Y) if G is None else G, reg)
    if cg_steps is None:
        return implicit_cholesky_sweep(rows, X, Y, system, bool(reg.min(initial=1.0) > 0))
    return implicit_cg_sweep(rows, X, Y, system, cg_steps)


def rows_reg(rows, n_other, params, dtype):
    """:func:`row_reg` of the rows of :func:`confidence_rows`' arrays ``rows``."""
    return row_reg(np.diff(rows[0]), n_other, params, dtype)


class ImplicitALSSolver(Solver):
    """One ``step()``: items with users fixed, then users; returns the exact objective
    ``sum_ui c_ui (p_ui - w_u . h_i)^2 + sum_u reg_u ||w_u||^2 + sum_i reg_i ||h_i||^2``
    (the user sweep returns the user rows' share, the item penalty is added; the weights are
    :func:`row_reg`'s). ``params["cg_steps"]`` None: exact rows."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        dt = state["item_factors_"].dtype
        self.by_user = confidence_rows(ratings.csr, params, dt)
        self.by_item = confidence_rows(ratings.csc, params, dt)
        self.user_reg = rows_reg(self.by_user, ratings.n_items, params, dt)
        self.item_reg = rows_reg(self.by_item, ratings.n_users, params, dt)
        self.cg_steps = params["cg_steps"]

    def step(self):
        W, H = self._state["user_factors_"], self._state["item_factors_"]
        half_sweep(self.by_item, H, W, self.item_reg, self.cg_steps)
        loss = half_sweep(self.by_user, W, H, self.user_reg, self.cg_steps)
        return loss + penalty(self.item_reg, H)

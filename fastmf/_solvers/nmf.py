"""Non-negative matrix factorization: HALS, multiplicative updates and projected SGD."""

import numpy as np

from .._init import random_factors
from .._kernels.hals import ccd_chunks, ccd_sweep, csr_matmul, hals_rows
from .._kernels.linalg import residual
from .._kernels.poisson import mu_apply, mu_terms, poisson_loss, poisson_sgd_epoch
from ..svd import CenteredOperator, randomized_svd
from .base import Solver


class NMFProblem:
    """The data (CSR and CSC views), the loss and the algorithm's two half-updates."""

    def __init__(self, csr, csc, dtype, params):
        self.loss, self.missing, self.solver = params["loss"], params["missing"], params["solver"]
        self.l1, self.l2 = float(params["l1"]), float(params["l2"])
        self.lr = float(params["learning_rate"])
        self.by_row = (csr.indptr, csr.indices, csr.data.astype(dtype))
        self.by_col = (csc.indptr, csc.indices, csc.data.astype(dtype))
        self.shape = csr.shape
        self.sq_norm = float(np.sum(csr.data.astype(np.float64) ** 2))
        self.ccd = self.solver == "hals" and self.missing == "ignore"
        if self.ccd:
            self.chunk_ptr = ccd_chunks(csr.indptr, csr.shape[1])
            self.col_counts = np.diff(csc.indptr).astype(np.float64)
            self.res = np.empty(len(csr.data), dtype)

    # -------------------------------------------------------------- one side
    def _half(self, mat, A, B):
        """Update the rows of ``A`` (those of ``mat``) with ``B`` fixed.

        For the Frobenius loss with zeros counted, returns the cross term
        ``sum over stored entries of x (A B^T)`` with the updated ``A`` (the objective's
        O(nnz k) part, which the update computes anyway); otherwise None.
        """
        k = A.shape[1]
        if self.solver == "sgd":
            poisson_sgd_epoch(mat, A, B, B.sum(axis=0), (self.lr, self.l1, self.l2),
                              self.missing == "ignore")
            return None
        if self.missing == "zero" and self.loss == "frobenius":
            BtB = B.T @ B
            if self.solver == "hals":  # product and sweep fused, one pass per side
                BtB[np.diag_indices(k)] += self.l2
                return float(hals_rows(mat, A, B, BtB, self.l1))
            XB = np.empty_like(A)
            csr_matmul(mat, B, XB)
            mu_apply(A, XB, A @ BtB, self.l1, self.l2)
            return float(np.einsum("ij,ij->", XB, A, dtype=np.float64))
        num = np.empty_like(A)
        kl = self.loss == "poisson"
        if self.missing == "zero":  # Poisson: the zeros' part of the denominator is sum_i B_i
            den = np.empty_like(A)
            den[...] = B.sum(axis=0)
            mu_terms(mat, A, B, (kl, False), (num, den))
        else:
            den = np.empty_like(A)
            mu_terms(mat, A, B, (kl, True), (num, den))
        mu_apply(A, num, den, self.l1, self.l2)
        return None

    def update_rows(self, W, H):
        """W-updates only (fold-in)."""
        if self.ccd:
            self._ccd(W, H, update_cols=False)
        else:
            self._half(self.by_row, W, H)

    def _ccd(self, W, H, update_cols=True):
        empty = np.zeros(0, W.dtype)
        residual(self.by_row, (W, empty), (H, empty), 0.0, self.res)
        Wt, Ht = np.ascontiguousarray(W.T), np.ascontiguousarray(H.T)
        k = W.shape[1]
        ccd_sweep((self.by_row[0], self.by_row[1], self.res), (Wt, Ht),
                  (np.ones(k, np.bool_), np.full(k, update_cols), np.full(k, self.l2)),
                  (self.chunk_ptr, self.col_counts), (self.l1, 0.0, True))
        W[...] = Wt.T
        H[...] = Ht.T

    # -------------------------------------------------------------- objective
    def data_loss(self, W, H, cross=None):
        """L(X, W H^T) in O(nnz k) (plus O((m + n) k^2) for the zeros' Frobenius part)."""
        empty = np.zeros(0, W.dtype)
        if self.loss == "poisson":
            val = poisson_loss(self.by_row, W, H, self.missing == "ignore")
            if self.missing == "zero":
                val += float(W.sum(axis=0, dtype=np.float64) @ H.sum(axis=0, dtype=np.float64))
            return float(val)
        if self.missing == "ignore":
            return 0.5 * float(residual(self.by_row, (W, empty), (H, empty), 0.0, empty))
        if cross is None:
            XtW = np.empty_like(H)
            csr_matmul(self.by_col, W, XtW)
            cross = float(np.einsum("ij,ij->", XtW, H, dtype=np.float64))
        gram = float(np.sum(_gram64(W) * _gram64(H)))
        return 0.5 * max(self.sq_norm - 2.0 * cross + gram, 0.0)

    def objective(self, W, H, cross=None):
        pen = self.l1 * (float(W.sum(dtype=np.float64)) + float(H.sum(dtype=np.float64)))
        if self.l2:
            pen += 0.5 * self.l2 * (float(np.einsum("ij,ij->", W, W, dtype=np.float64))
                                    + float(np.einsum("ij,ij->", H, H, dtype=np.float64)))
        return self.data_loss(W, H, cross) + pen


class NMFSolver(Solver):
    """One iteration: W with H fixed, then H with W fixed (HALS sweeps, multiplicative
    updates or a projected SGD epoch, by ``params["solver"]``); returns the regularised
    objective. With ``params["fixed"] == "items"`` only W moves (fold-in of new rows).

    ``data`` is ``(csr, csc)``: the matrix by rows and by columns.
    """

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        csr, csc = data
        self.prob = NMFProblem(csr, csc, state["item_factors_"].dtype, params)
        self.rows_only = params.get("fixed") == "items"

    def step(self):
        p, W, H = self.prob, self._state["user_factors_"], self._state["item_factors_"]
        cross = None
        if self.rows_only:
            p.update_rows(W, H)
        elif p.ccd:
            p._ccd(W, H)
        else:
            p._half(p.by_row, W, H)
            cross = p._half(p.by_col, H, W)
        return p.objective(W, H, cross)


def _gram64(A, rows=65_536):
    """``A.T @ A`` in float64, a block of rows at a time (no float64 copy of ``A``)."""
    G = np.zeros((A.shape[1], A.shape[1]))
    for start in range(0, len(A), rows):
        block = A[start:start + rows].astype(np.float64)
        G += block.T @ block
    return G


# ------------------------------------------------------------------ initialisation
def initial_factors(csr, csc, k, init, missing, rng, dtype):
    """(W, H) to start from: ``init="random"`` (scaled half-normal) or ``"nndsvd(a)"``."""
    m, n = csr.shape
    data = csr.data
    total = float(data.sum(dtype=np.float64))
    mean = total / (len(data) if missing == "ignore" else m * n)
    if init == "random":
        avg = np.sqrt(max(mean, 0.0) / k)
        W = np.abs(random_factors(rng, (m, k), dtype, avg))
        H = np.abs(random_factors(rng, (n, k), dtype, avg))
        return W, H
    U, s, Vt = randomized_svd(CenteredOperator(csr, csc, None, None, np.float64), k, rng,
                              n_oversamples=10, n_power_iter=7)
    W, H = np.zeros((m, k)), np.zeros((n, k))
    W[:, 0] = np.sqrt(s[0]) * np.abs(U[:, 0])
    H[:, 0] = np.sqrt(s[0]) * np.abs(Vt[0])
    for j in range(1, k):
        x, y = U[:, j], Vt[j]
        xp, yp = np.maximum(x, 0), np.maximum(y, 0)
        xn, yn = np.abs(np.minimum(x, 0)), np.abs(np.minimum(y, 0))
        xpn, ypn, xnn, ynn = (np.linalg.norm(v) for v in (xp, yp, xn, yn))
        if xpn * ypn > xnn * ynn:
            u, v, sigma = xp / xpn, yp / ypn, xpn * ypn
        elif xnn * ynn > 0:
            u, v, sigma = xn / xnn, yn / ynn, xnn * ynn
        else:
            continue
        lam = np.sqrt(s[j] * sigma)
        W[:, j], H[:, j] = lam * u, lam * v
    eps = 1e-6
    W[W < eps] = 0
    H[H < eps] = 0
    if init == "nndsvda":
        W[W == 0] = mean
        H[H == 0] = mean
    return W.astype(dtype), H.astype(dtype)

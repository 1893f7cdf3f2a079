"""Sparse-aware NMF kernels: multiplicative updates, projected SGD for Poisson, the KL objective.

Everything here touches the stored entries only, so an iteration costs O(nnz k). When the zeros
of the matrix count (``missing="zero"``), their contribution to the Poisson/KL loss
``sum_ij (xhat_ij - x_ij log xhat_ij)`` is ``sum_ij xhat_ij = (sum_u W_u) . (sum_i H_i)``, and to
its gradient in ``W_u`` the column sum ``sum_i H_i``: both are computed once per half-sweep by
the caller, never per entry.
"""

import numba
import numpy as np
from numba import prange

from .._config import PARALLEL_JIT

# Predictions are clipped below by this before dividing or taking logs (x / 0 is undefined).
EPS = 1e-10
# The SGD's relative error (xhat - x) / xhat is clipped below at -MAX_RATIO: near xhat = 0 an
# unclipped step would be unbounded.
MAX_RATIO = 1000.0


@numba.njit(**PARALLEL_JIT)
def mu_terms(csr, X, Y, flags, out):
    """Numerator and (observed-entries) denominator of the multiplicative update of ``X``.

    ``csr = (indptr, indices, data)`` holds the matrix by rows of ``X``, ``flags = (kl,
    observed_den)``, ``out = (num, den)`` (shaped like ``X``). For each row ``u`` and its stored
    entries ``i`` with ``xhat = X[u] . Y[i]``:

    * ``kl`` (generalised KL / Poisson): ``num[u] = sum_i (x_ui / xhat) Y[i]`` and, when
      ``observed_den``, ``den[u] = sum_i Y[i]``;
    * Frobenius: ``num[u] = sum_i x_ui Y[i]`` and, when ``observed_den``,
      ``den[u] = sum_i xhat Y[i]``.

    With ``observed_den`` False ``den`` is not touched (the caller uses the column sum of ``Y``
    or ``X Y^T Y`` for the whole matrix).
    """
    indptr, indices, data = csr
    kl, observed_den = flags
    num = out[0]
    den = out[1]
    m, k = X.shape
    for u in prange(m):
        for f in range(k):
            num[u, f] = 0.0
        if observed_den:
            for f in range(k):
                den[u, f] = 0.0
        for p in range(indptr[u], indptr[u + 1]):
            i = indices[p]
            if kl or observed_den:
                xhat = 0.0
                for f in range(k):
                    xhat += X[u, f] * Y[i, f]
            if kl:
                c = data[p] / max(xhat, EPS)
                for f in range(k):
                    num[u, f] += c * Y[i, f]
                if observed_den:
                    for f in range(k):
                        den[u, f] += Y[i, f]
            else:
                c = data[p]
                for f in range(k):
                    num[u, f] += c * Y[i, f]
                if observed_den:
                    for f in range(k):
                        den[u, f] += xhat * Y[i, f]


@numba.njit(**PARALLEL_JIT)
def mu_apply(X, num, den, l1, l2):
    """``X *= num / (den + l1 + l2 X)`` in place (entries with a zero denominator keep 0)."""
    m, k = X.shape
    for u in prange(m):
        for f in range(k):
            d = den[u, f] + l1 + l2 * X[u, f]
            X[u, f] = X[u, f] * num[u, f] / d if d > 0 else 0.0


@numba.njit(**PARALLEL_JIT)
def poisson_loss(csr, X, Y, observed_only):
    """``sum over stored entries of x log(x / xhat) - x`` (``+ xhat`` when ``observed_only``).

    ``csr = (indptr, indices, data)`` holds the matrix by rows of ``X``.
    With the zeros counted, the caller adds ``sum_ij xhat_ij = X.sum(0) @ Y.sum(0)`` to get the
    generalised KL divergence ``D(X || X Y^T)``; ``x log(x / xhat)`` is 0 for ``x = 0``.
    """
    indptr, indices, data = csr
    m, k = X.shape
    total = 0.0
    for u in prange(m):
        row = 0.0
        for p in range(indptr[u], indptr[u + 1]):
            i = indices[p]
            xhat = 0.0
            for f in range(k):
                xhat += X[u, f] * Y[i, f]
            xhat = max(xhat, EPS)
            x = data[p]
            if x > 0:
                row += x * np.log(x / xhat) - x
            if observed_only:
                row += xhat
        total += row
    return total


@numba.njit(**PARALLEL_JIT)
def poisson_sgd_epoch(csr, X, Y, y_sum, hyper, observed_only):
    """One epoch of preconditioned projected SGD on the Poisson loss for the rows of ``X``.

    ``csr = (indptr, indices, data)`` holds the matrix by rows of ``X``, ``y_sum`` the column
    sum of ``Y``, ``hyper = (lr, l1, l2)``.

    Row ``u`` (``Y`` fixed) minimises ``sum_i (xhat_ui - x_ui log xhat_ui) + l1 |X_u|_1
    + l2/2 ||X_u||^2`` with the sum over every item (``observed_only`` False) or over its
    stored entries. Visiting its ``n_u`` stored entries in order, each step is
    ``X_u <- max(0, X_u - lr D g)`` with the stochastic gradient

    ``g = ((xhat - x) / xhat) Y_i`` (the relative error, as in the seed, clipped below at
    ``-MAX_RATIO``) ``+ (z + l1 + l2 X_u) / n_u``, where ``z = y_sum - sum_{i stored} Y_i`` is
    the exact gradient of the unstored entries when the zeros count (0 otherwise): summed over
    an epoch the steps' gradients are the row's full gradient, no zero is sampled. The
    diagonal preconditioner ``D = (X_u + 1e-6) / (d + l1)``, ``d = y_sum`` (zeros counted) or
    ``sum_{i stored} Y_i``, is the step of the multiplicative update: ``lr = 1`` makes an epoch
    an incremental MU step. Rows without entries are set to 0 when the zeros count (their loss
    ``X_u . y_sum`` is minimised there). Returns the number of updated rows.
    """
    indptr, indices, data = csr
    lr, l1, l2 = hyper
    m, k = X.shape
    done = 0
    for u in prange(m):
        start, end = indptr[u], indptr[u + 1]
        n_u = end - start
        if n_u == 0:
            if not observed_only:
                for f in range(k):
                    X[u, f] = 0.0
            continue
        stored = np.zeros(k, dtype=X.dtype)
        for p in range(start, end):
            for f in range(k):
                stored[f] += Y[indices[p], f]
        rest = np.empty(k, dtype=X.dtype)     # the unstored entries' gradient, per step
        scale = np.empty(k, dtype=X.dtype)    # lr / (d + l1)
        for f in range(k):
            d = stored[f] if observed_only else y_sum[f]
            rest[f] = 0.0 if observed_only else max(y_sum[f] - stored[f], 0.0) / n_u
            scale[f] = lr / max(d + l1, EPS)
        for p in range(start, end):
            i = indices[p]
            xhat = 0.0
            for f in range(k):
                xhat += X[u, f] * Y[i, f]
            rel = max((xhat - data[p]) / max(xhat, EPS), -MAX_RATIO)
            for f in range(k):
                g = rel * Y[i, f] + rest[f] + (l1 + l2 * X[u, f]) / n_u
                v = X[u, f] - scale[f] * (X[u, f] + 1e-6) * g
                X[u, f] = v if v > 0.0 else 0.0
        done += 1
    return done

"""``PureSVD``: truncated SVD of the (optionally mean-centred) sparse users x items matrix."""

import numpy as np
import scipy.sparse.linalg as spla

from ._init import random_factors
from ._kernels.hals import csr_matmul
from ._params import DEPRECATED, renamed
from ._validation import check_dtype, check_int_param, check_option, check_random_state
from .base import FactorModel

_CENTERS = ("none", "global", "user", "item")
_ALGORITHMS = ("randomized", "arpack")


class PureSVD(FactorModel):
    r"""PureSVD (Cremonesi et al., 2010): a truncated SVD of the interaction matrix.

    Unobserved cells count as 0 (after centring: as the subtracted mean). With
    :math:`A = X - C \approx \tilde U_k \Sigma_k \tilde V_k^\top`, the factors are
    :math:`U = \tilde U_k \Sigma_k^{1/2}` and :math:`V = \tilde V_k \Sigma_k^{1/2}`, so
    :math:`\hat r_{ui} = C_{ui} + U_u^\top V_i`, where :math:`C` is the centring term:

    * ``center="none"``: :math:`C = 0` (the classic PureSVD for top-N recommendation);
    * ``"global"``: :math:`C_{ui} = \mu`, the mean stored value (``global_mean_``);
    * ``"user"``: :math:`C_{ui} = b_u`, the user's mean stored value (``user_bias_``);
    * ``"item"``: :math:`C_{ui} = c_i`, the item's mean stored value (``item_bias_``).

    The centring is implicit: :math:`A` is a ``scipy.sparse.linalg.LinearOperator``
    (the sparse matrix minus a rank-one term), never a dense matrix, so time and memory stay
    O(nnz k + (n_users + n_items) k).

    Parameters
    ----------
    n_factors : int, default=64
        Rank k, at most min(n_users, n_items) (``algorithm="arpack"``: strictly less).
        (Old name ``n_components``: works until fastmf 0.3 with a FutureWarning.)
    center : {"none", "global", "user", "item"}, default="none"
        Which mean to subtract before the decomposition (see above). Rows or columns without
        stored entries get a mean of 0.
    algorithm : {"randomized", "arpack"}, default="randomized"
        ``"randomized"``: Halko et al.'s randomized range finder with ``n_power_iter`` power
        iterations and ``n_oversamples`` extra vectors, products by parallel sparse kernels;
        ``"arpack"``: ``scipy.sparse.linalg.svds`` (Lanczos; exact to ARPACK's tolerance).
    n_oversamples : int, default=10
    n_power_iter : int, default=4
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
    random_state : int, numpy Generator or None, default=None
        Seed of the random test matrix (randomized) or of ARPACK's start vector.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    singular_values_ : ndarray of shape (n_factors,), descending
    global_mean_ : float
    user_bias_, item_bias_ : ndarray or None
        The centring means, when ``center`` is ``"user"`` or ``"item"``.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_counts(100, 60, rank=4, random_state=0)
    >>> model = fastmf.PureSVD(n_factors=4, random_state=0).fit(data)
    >>> model.user_factors_.shape, model.item_factors_.shape
    ((100, 4), (60, 4))
    >>> items, scores = model.recommend([0, 1], n=3, exclude=data)
    >>> items.shape
    (2, 3)
    """

    _fitted_arrays = ("user_factors_", "item_factors_", "singular_values_")

    def __init__(self, n_factors=64, *, center="none", algorithm="randomized",
                 n_oversamples=10, n_power_iter=4, dtype="float32", n_threads=None,
                 random_state=None, n_components=DEPRECATED):
        self.n_factors = n_factors
        self.center = center
        self.algorithm = algorithm
        self.n_oversamples = n_oversamples
        self.n_power_iter = n_power_iter
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.n_components = n_components

    def fit(self, X, y=None):
        """Decompose the matrix.

        Parameters
        ----------
        X : Ratings, sparse matrix of shape (n_users, n_items), or array of shape (n, 2)
            The interactions (with ``y`` when ``X`` holds [user, item] pairs).
        y : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        p = self._check_params()
        ratings = self._validate_data(X, y)
        m, n = ratings.shape
        k = p["n_factors"]
        if k > min(m, n) or (p["algorithm"] == "arpack" and k >= min(m, n)):
            bound = "<=" if p["algorithm"] == "randomized" else "<"
            raise ValueError(f"n_factors={k} must be {bound} min(n_users, n_items) = "
                             f"{min(m, n)} for algorithm={p['algorithm']!r}")
        rng = check_random_state(self.random_state)
        return self._fit_solver(p["algorithm"], ratings, {}, p, rng, ratings, n_iter=1)

    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solver reads."""
        return dict(
            n_factors=check_int_param(renamed(self, "n_components", "n_factors"), "n_factors",
                                      low=1),
            center=check_option(self.center, "center", _CENTERS),
            algorithm=check_option(self.algorithm, "algorithm", _ALGORITHMS),
            n_oversamples=check_int_param(self.n_oversamples, "n_oversamples", low=0),
            n_power_iter=check_int_param(self.n_power_iter, "n_power_iter", low=0),
            dtype=check_dtype(self.dtype),
        )

    def _fold_in_users(self, X):
        """Project new rows: ``(x - C) V_k Sigma_k^(-1/2)`` (exact for training users)."""
        own = self.user_bias_ is not None  # user centring: each new row's own mean
        shift = self.item_bias_ if self.item_bias_ is not None else self.global_mean_
        return {"user_factors_": self._project(X, self.item_factors_, own, shift)}

    def _fold_in_items(self, X):
        """Project new columns (rows of ``X``: their users): ``(x - C^T) U_k Sigma_k^(-1/2)``;
        under item centring the new item's mean is its own stored mean."""
        own = self.item_bias_ is not None
        shift = self.user_bias_ if self.user_bias_ is not None else self.global_mean_
        H = self._project(X, self.user_factors_, own, shift)
        out = {"item_factors_": H}
        if own:
            out["item_bias_"] = _mean_stored(X).astype(H.dtype)
        return out

    def _project(self, X, other, own_mean, other_shift):
        s = self.singular_values_.astype(np.float64)
        inv = np.divide(1.0, s, out=np.zeros_like(s), where=s > s[0] * 1e-12)
        B = other.astype(np.float64) * inv  # the other side's singular vectors, Sigma^(-1/2)
        row_shift = _mean_stored(X) if own_mean else None
        col_shift = None
        if isinstance(other_shift, np.ndarray):
            col_shift = other_shift
        elif other_shift:
            col_shift = np.full(X.shape[1], other_shift)
        A = CenteredOperator(X, X.tocsc(), row_shift, col_shift, np.float64)
        return A.matmat(B).astype(other.dtype)


class CenteredOperator(spla.LinearOperator):
    """``X - r 1^T - 1 c^T`` as a LinearOperator over a sparse ``X`` (never densified).

    ``r`` (length n_rows) and ``c`` (length n_cols) may be None for no shift. Products with
    ``X`` and ``X^T`` run in the parallel :func:`~fastmf._kernels.hals.csr_matmul` kernel.
    """

    def __init__(self, csr, csc, row_shift, col_shift, dtype):
        super().__init__(dtype=np.dtype(dtype), shape=csr.shape)
        dt = np.dtype(dtype)
        self.by_row = (csr.indptr, csr.indices, csr.data.astype(dt))
        self.by_col = (csc.indptr, csc.indices, csc.data.astype(dt))
        self.r = None if row_shift is None else np.asarray(row_shift, dt)
        self.c = None if col_shift is None else np.asarray(col_shift, dt)

    def _product(self, mat, B, left, right):
        B = np.ascontiguousarray(B, dtype=self.dtype)
        vector = B.ndim == 1
        if vector:
            B = B[:, None]
        out = np.empty((len(mat[0]) - 1, B.shape[1]), self.dtype)
        csr_matmul(mat, B, out)
        if left is not None:      # - left 1^T B
            out -= np.outer(left, B.sum(axis=0))
        if right is not None:     # - 1 right^T B
            out -= (right @ B)[None, :]
        return out[:, 0] if vector else out

    def _matmat(self, B):
        return self._product(self.by_row, B, self.r, self.c)

    def _rmatmat(self, B):
        return self._product(self.by_col, B, self.c, self.r)

    def _matvec(self, b):
        return self._matmat(b)

    def _rmatvec(self, b):
        return self._rmatmat(b)

    def _adjoint(self):
        return spla.LinearOperator(self.shape[::-1], matvec=self._rmatvec,
                                   rmatvec=self._matvec, matmat=self._rmatmat,
                                   rmatmat=self._matmat, dtype=self.dtype)


def randomized_svd(A, k, rng, n_oversamples=10, n_power_iter=4):
    """Top-``k`` singular triplets of the operator ``A`` (Halko, Martinsson & Tropp, 2011).

    Returns ``(U, s, Vt)`` with ``s`` descending and signs fixed so that the largest entry of
    each column of ``U`` is positive. Only products with ``A`` and ``A^T`` are used.
    """
    m, n = A.shape
    width = min(k + n_oversamples, m, n)
    Q = A.matmat(random_factors(rng, (n, width), A.dtype))
    Q = np.linalg.qr(Q)[0]
    for _ in range(n_power_iter):
        Q = np.linalg.qr(A.rmatmat(Q))[0]
        Q = np.linalg.qr(A.matmat(Q))[0]
    B = A.rmatmat(Q).T                                   # (width, n) = Q^T A
    Ub, s, Vt = np.linalg.svd(B.astype(np.float64), full_matrices=False)
    U = Q.astype(np.float64) @ Ub
    return _flip_signs(U[:, :k], s[:k], Vt[:k])


def _flip_signs(U, s, Vt):
    signs = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(U.shape[1])])
    signs[signs == 0] = 1
    return U * signs, s, Vt * signs[:, None]


def _mean_stored(X):
    """Mean of the stored entries of each row of a CSR (or column of a CSC); 0 when none."""
    counts = np.diff(X.indptr)
    rows = np.repeat(np.arange(len(counts)), counts)
    sums = np.bincount(rows, weights=X.data, minlength=len(counts))
    return np.divide(sums, counts, out=np.zeros(len(counts)), where=counts > 0)

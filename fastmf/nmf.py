"""``NMF``: non-negative matrix factorization, Frobenius or Poisson (generalised KL) loss."""

import warnings

import numpy as np
import scipy.sparse as sp

from ._config import threads
from ._init import random_factors
from ._kernels.hals import ccd_chunks, ccd_sweep, csr_matmul, hals_rows
from ._kernels.linalg import residual
from ._kernels.poisson import mu_apply, mu_terms, poisson_loss, poisson_sgd_epoch
from ._ratings import Ratings
from ._validation import (
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from .base import FactorModel
from .svd import CenteredOperator, randomized_svd

try:
    from sklearn.exceptions import ConvergenceWarning
except ImportError:  # pragma: no cover - scikit-learn is optional at run time
    class ConvergenceWarning(UserWarning):
        """The solver stopped at ``max_iter`` before reaching ``tol``."""

# (loss, missing) -> the solvers that exist for it; "auto" picks the first.
_SOLVERS = {
    ("frobenius", "zero"): ("hals", "mu"),
    ("frobenius", "ignore"): ("hals", "mu"),
    ("poisson", "zero"): ("mu", "sgd"),
    ("poisson", "ignore"): ("mu", "sgd"),
}


class NMF(FactorModel):
    r"""Non-negative matrix factorization :math:`X \approx W H^\top`, :math:`W, H \ge 0`.

    Minimises, over the whole matrix (``missing="zero"``: absent entries are zeros, as in
    scikit-learn, for documents and counts) or over the stored entries only
    (``missing="ignore"``: absent entries are unknown, for ratings),

    .. math::

        L(X, WH^\top) + \ell_1 (\|W\|_1 + \|H\|_1)
        + \tfrac{\ell_2}{2} (\|W\|_F^2 + \|H\|_F^2)

    with :math:`L = \tfrac12 \sum (x_{ui} - \hat x_{ui})^2` (``loss="frobenius"``) or the
    generalised Kullback-Leibler divergence
    :math:`L = \sum x_{ui} \ln(x_{ui}/\hat x_{ui}) - x_{ui} + \hat x_{ui}` (``loss="poisson"``:
    the Poisson negative log-likelihood up to a constant). Every solver touches the stored
    entries only: with the zeros counted, their part of the loss and of the gradients is
    computed through Gram matrices (Frobenius) or column sums (Poisson), so an iteration costs
    O(nnz k + (n_users + n_items) k^2) and X is never densified.

    With ``missing="zero"`` predictions, ``recommend`` and ``similar_items`` score the full
    reconstruction :math:`WH^\top` (no biases, ``global_mean_ = 0``); rows or columns without
    any entry get zero factors. With ``missing="ignore"`` such rows keep their initial factors
    under ``"mu"`` and get zeros under ``"hals"``.

    Parameters
    ----------
    n_components : int, default=32
        Number of components k.
    loss : {"frobenius", "poisson"}, default="frobenius"
    solver : {"auto", "hals", "mu", "sgd"}, default="auto"
        ``"hals"`` (Frobenius): with ``missing="zero"`` Cichocki's HALS given the Gram matrices
        (scikit-learn's ``solver="cd"``); with ``"ignore"`` CCD++ with non-negativity on the
        residual of the stored entries. ``"mu"``: multiplicative updates (Lee & Seung), both
        losses. ``"sgd"`` (Poisson): per-row projected SGD on the stored entries, the zeros'
        gradient added exactly through the column sum. ``"auto"``: ``"hals"`` for Frobenius,
        ``"mu"`` for Poisson. An unsupported combination raises an error listing valid ones.
    missing : {"zero", "ignore"}, default="zero"
    init : {"random", "nndsvd", "nndsvda", "custom"}, default="random"
        ``"random"``: :math:`\sqrt{\bar x / k}\,|N(0, 1)|` with :math:`\bar x` the mean over the
        cells (``"zero"``) or the stored entries (``"ignore"``); ``"nndsvd"``: Boutsidis &
        Gallopoulos' non-negative double SVD of the zero-filled matrix (needs
        ``n_components <= min(X.shape)``); ``"nndsvda"``: the same with zeros replaced by
        :math:`\bar x` (better for ``"mu"``, which cannot move a zero); ``"custom"``: the ``W`` and
        ``H`` passed to ``fit``.
    max_iter : int, default=200
    tol : float, default=1e-4
        Stop when the objective's relative decrease over one iteration falls below ``tol``;
        a ``ConvergenceWarning`` is issued when ``max_iter`` is reached first (``tol=0`` runs
        exactly ``max_iter`` iterations without warning).
    l1, l2 : float, default=0.0
        Regularisation weights :math:`\ell_1, \ell_2` on both factors.
    learning_rate : float, default=1.0
        Step size of ``"sgd"``, relative to the multiplicative update's step (each coordinate
        is preconditioned by :math:`w_{uf} / \sum_i h_{if}`; 1 makes an epoch an incremental
        MU step, up to about 4 is stable).
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
    random_state : int, numpy Generator or None, default=None
        Seed of the initial factors. Every solver is deterministic for any thread count.
    verbose : bool, default=False

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_components)
        :math:`W` (``fit_transform`` returns it).
    item_factors_ : ndarray of shape (n_items, n_components)
        :math:`H`; ``components_`` is the same array (scikit-learn's name; note scikit-learn
        stores its transpose).
    reconstruction_err_ : float
        :math:`\sqrt{2 L}` as scikit-learn reports it (the Frobenius norm of the residual for
        ``"frobenius"``).
    n_iter_ : int
    history_ : dict of lists
        ``train_loss`` (the regularised objective above) and ``seconds`` per iteration.
    global_mean_ : float
        Always 0.

    Examples
    --------
    >>> import fastmf
    >>> X = fastmf.datasets.make_counts(200, 80, rank=4, random_state=0)
    >>> model = fastmf.NMF(n_components=4, loss="poisson", max_iter=50, tol=0,
    ...                    random_state=0).fit(X)
    >>> bool(model.item_factors_.min() >= 0), model.components_.shape
    (True, (80, 4))
    >>> items, scores = model.recommend([0, 1], n=5, exclude=X)
    >>> items.shape
    (2, 5)
    """

    _nonnegative_input = True

    def __init__(self, n_components=32, *, loss="frobenius", solver="auto", missing="zero",
                 init="random", max_iter=200, tol=1e-4, l1=0.0, l2=0.0, learning_rate=1.0,
                 dtype="float32", n_threads=None, random_state=None, verbose=False):
        self.n_components = n_components
        self.loss = loss
        self.solver = solver
        self.missing = missing
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.l1 = l1
        self.l2 = l2
        self.learning_rate = learning_rate
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        check_int_param(self.n_components, "n_components", low=1)
        check_option(self.loss, "loss", ("frobenius", "poisson"))
        check_option(self.missing, "missing", ("zero", "ignore"))
        check_option(self.solver, "solver", ("auto", "hals", "mu", "sgd"))
        valid = _SOLVERS[(self.loss, self.missing)]
        solver = valid[0] if self.solver == "auto" else self.solver
        if solver not in valid:
            combos = "; ".join(f"loss={lo!r}: {', '.join(repr(s) for s in _SOLVERS[(lo, 'zero')])}"
                               for lo in ("frobenius", "poisson"))
            raise ValueError(f"solver={self.solver!r} does not exist for loss={self.loss!r}; "
                             f"valid solvers are {combos}")
        check_option(self.init, "init", ("random", "nndsvd", "nndsvda", "custom"))
        check_int_param(self.max_iter, "max_iter", low=1)
        check_float_param(self.tol, "tol", low=0)
        check_float_param(self.l1, "l1", low=0)
        check_float_param(self.l2, "l2", low=0)
        check_float_param(self.learning_rate, "learning_rate", low=0, low_open=True)
        return solver, check_dtype(self.dtype)

    def _validate_data(self, X, y=None):
        if y is None and not isinstance(X, Ratings) and not sp.issparse(X):
            X = np.asarray(X)
            if X.ndim != 2:
                raise ValueError(f"X must be 2-dimensional, got an array of shape {X.shape}")
            if not np.issubdtype(X.dtype, np.number) or X.dtype == bool:
                raise TypeError(f"X must be numeric, got dtype {X.dtype}")
            X = sp.csr_matrix(X)  # a dense matrix: its zeros are zeros (or missing)
        ratings = super()._validate_data(X, y)
        _check_nonnegative(ratings.users, ratings.items, ratings.values, "X")
        return ratings

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, *, W=None, H=None):
        """Fit W and H.

        Parameters
        ----------
        X : Ratings, sparse or dense array of shape (n_users, n_items), or array of shape (n, 2)
            Non-negative data: a matrix (its stored entries, or non-zero entries of a dense
            array, are the data), or [user, item] pairs with their values in ``y``.
        y : array-like of shape (n,), optional
        W : array-like of shape (n_users, n_components), optional
            Initial W, with ``init="custom"`` only (copied, non-negative).
        H : array-like of shape (n_items, n_components), optional
            Initial H, with ``init="custom"`` only. Note the orientation: scikit-learn's
            ``H`` is the transpose of this one.

        Returns
        -------
        self
        """
        solver, dtype = self._check_params()
        if (W is not None or H is not None) != (self.init == "custom"):
            raise ValueError("W and H are used with init='custom' only, and init='custom' "
                             "needs both")
        ratings = self._validate_data(X, y)
        m, n = ratings.shape
        k = self.n_components
        if self.init.startswith("nndsvd") and k > min(m, n):
            raise ValueError(f"init={self.init!r} needs n_components <= min(n_users, n_items) "
                             f"= {min(m, n)}, got {k}; use init='random'")
        rng = check_random_state(self.random_state)
        self._set_index_space(ratings)
        self.global_mean_, self.user_bias_, self.item_bias_ = 0.0, None, None
        prob = _Problem(self, ratings.csr, ratings.csc, dtype, solver)
        with threads(self.n_threads, blas=1):
            if self.init == "custom":
                self.user_factors_ = _check_init(W, "W", (m, k), dtype)
                self.item_factors_ = _check_init(H, "H", (n, k), dtype)
            else:
                self.user_factors_, self.item_factors_ = _initialize(prob, k, self.init, rng)
            step = prob.stepper(self.user_factors_, self.item_factors_)
            try:
                self._iterate(step, self.max_iter, [self.user_factors_, self.item_factors_])
            except _Converged:
                pass
        if self.tol > 0 and not step.converged:
            warnings.warn(f"NMF stopped at max_iter={self.max_iter} before the relative decrease "
                          f"of the objective fell below tol={self.tol}; raise max_iter",
                          ConvergenceWarning, stacklevel=2)
        data_loss = prob.data_loss(self.user_factors_, self.item_factors_)
        self.reconstruction_err_ = float(np.sqrt(2.0 * max(data_loss, 0.0)))
        return self

    def _fold_in(self, X):
        """W for new rows of ``X`` with H fixed: the fit's W-updates until ``tol``/``max_iter``."""
        solver, dtype = self._check_params()
        H = self.item_factors_
        prob = _Problem(self, X, X.tocsc(), H.dtype, solver)
        mean = X.sum() / max(X.nnz if self.missing == "ignore" else X.shape[0] * X.shape[1], 1)
        W = np.full((X.shape[0], H.shape[1]), np.sqrt(mean / H.shape[1]), H.dtype)
        prev = np.inf
        for _ in range(self.max_iter):
            prob.update_rows(W, H)
            cur = prob.objective(W, H)
            if prev - cur <= self.tol * abs(cur):
                break
            prev = cur
        return W

    def inverse_transform(self, W):
        """The dense reconstruction ``W H^T`` (n_rows x n_items: for small inputs only).

        Examples
        --------
        >>> import numpy as np, fastmf
        >>> X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
        >>> model = fastmf.NMF(2, init="nndsvd", max_iter=500, tol=0, dtype="float64").fit(X)
        >>> bool(np.allclose(model.inverse_transform(model.user_factors_), X, atol=1e-2))
        True
        """
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[1] != self.item_factors_.shape[1]:
            raise ValueError(f"W must have shape (n, {self.item_factors_.shape[1]}), got "
                             f"{W.shape}")
        return W @ self.item_factors_.T


class _Converged(Exception):
    """Raised by a step called after the previous one met ``tol`` (ends ``_iterate``)."""


def _check_init(A, name, shape, dtype):
    A = np.array(A, dtype=dtype, order="C")  # a copy: the fit updates it in place
    if A.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {A.shape}")
    if not np.isfinite(A).all() or A.min() < 0:
        raise ValueError(f"{name} must be finite and non-negative")
    return A


def _check_nonnegative(users, items, values, name):
    if len(values) and values.min() < 0:
        p = int(np.argmin(values >= 0))
        raise ValueError(f"{name} must be non-negative: found {values[p]} at (row {users[p]}, "
                         f"column {items[p]})")


class _Problem:
    """The data (CSR and CSC views), the loss and the solver's two half-updates."""

    def __init__(self, model, csr, csc, dtype, solver):
        self.loss, self.missing, self.solver = model.loss, model.missing, solver
        self.l1, self.l2 = float(model.l1), float(model.l2)
        self.lr, self.tol = float(model.learning_rate), float(model.tol)
        self.by_row = (csr.indptr, csr.indices, csr.data.astype(dtype))
        self.by_col = (csc.indptr, csc.indices, csc.data.astype(dtype))
        self.shape = csr.shape
        self.sq_norm = float(np.sum(csr.data.astype(np.float64) ** 2))
        self.ccd = solver == "hals" and self.missing == "ignore"
        if self.ccd:
            self.chunk_ptr = ccd_chunks(csr.indptr, csr.shape[1])
            self.col_counts = np.diff(csc.indptr).astype(np.float64)
            self.res = np.empty(len(csr.data), dtype)

    def stepper(self, W, H):
        return _Step(self, W, H)

    # -------------------------------------------------------------- one side
    def _half(self, mat, A, B):
        """Update the rows of ``A`` (those of ``mat``) with ``B`` fixed.

        For the Frobenius loss with zeros counted, returns the cross term
        ``sum over stored entries of x (A B^T)`` with the updated ``A`` (the objective's
        O(nnz k) part, which the update computes anyway); otherwise None.
        """
        k = A.shape[1]
        if self.solver == "sgd":
            poisson_sgd_epoch(*mat, A, B, B.sum(axis=0), self.lr, self.l1, self.l2,
                              self.missing == "ignore")
            return None
        if self.missing == "zero" and self.loss == "frobenius":
            BtB = B.T @ B
            if self.solver == "hals":  # product and sweep fused, one pass per side
                BtB[np.diag_indices(k)] += self.l2
                return float(hals_rows(*mat, A, B, BtB, self.l1))
            XB = np.empty_like(A)
            csr_matmul(*mat, B, XB)
            mu_apply(A, XB, A @ BtB, self.l1, self.l2)
            return float(np.einsum("ij,ij->", XB, A, dtype=np.float64))
        num = np.empty_like(A)
        kl = self.loss == "poisson"
        if self.missing == "zero":  # Poisson: the zeros' part of the denominator is sum_i B_i
            den = np.empty_like(A)
            den[...] = B.sum(axis=0)
            mu_terms(*mat, A, B, kl, False, num, den)
        else:
            den = np.empty_like(A)
            mu_terms(*mat, A, B, kl, True, num, den)
        mu_apply(A, num, den, self.l1, self.l2)
        return None

    def update_rows(self, W, H):
        """W-updates only (fold-in)."""
        if self.ccd:
            self._ccd(W, H, update_cols=False)
        else:
            self._half(self.by_row, W, H)

    def _ccd(self, W, H, update_cols=True):
        residual(*self.by_row, W, np.zeros(0, W.dtype), H, np.zeros(0, W.dtype), 0.0, self.res)
        Wt, Ht = np.ascontiguousarray(W.T), np.ascontiguousarray(H.T)
        k = W.shape[1]
        ccd_sweep(self.by_row[0], self.by_row[1], self.res, Wt, Ht, np.ones(k, np.bool_),
                  np.full(k, update_cols), np.full(k, self.l2), self.chunk_ptr, self.col_counts,
                  self.l1, False, True)
        W[...] = Wt.T
        H[...] = Ht.T

    # -------------------------------------------------------------- objective
    def data_loss(self, W, H, cross=None):
        """L(X, W H^T) in O(nnz k) (plus O((m + n) k^2) for the zeros' Frobenius part)."""
        empty = np.zeros(0, W.dtype)
        if self.loss == "poisson":
            val = poisson_loss(*self.by_row, W, H, self.missing == "ignore")
            if self.missing == "zero":
                val += float(W.sum(axis=0, dtype=np.float64) @ H.sum(axis=0, dtype=np.float64))
            return float(val)
        if self.missing == "ignore":
            return 0.5 * float(residual(*self.by_row, W, empty, H, empty, 0.0, empty))
        if cross is None:
            XtW = np.empty_like(H)
            csr_matmul(*self.by_col, W, XtW)
            cross = float(np.einsum("ij,ij->", XtW, H, dtype=np.float64))
        gram = float(np.sum(_gram64(W) * _gram64(H)))
        return 0.5 * max(self.sq_norm - 2.0 * cross + gram, 0.0)

    def objective(self, W, H, cross=None):
        pen = self.l1 * (float(W.sum(dtype=np.float64)) + float(H.sum(dtype=np.float64)))
        if self.l2:
            pen += 0.5 * self.l2 * (float(np.einsum("ij,ij->", W, W, dtype=np.float64))
                                    + float(np.einsum("ij,ij->", H, H, dtype=np.float64)))
        return self.data_loss(W, H, cross) + pen


class _Step:
    """One iteration (W then H) for ``FactorModel._iterate``; tracks ``tol``."""

    def __init__(self, prob, W, H):
        self.prob, self.W, self.H = prob, W, H
        self.prev, self.converged = None, False

    def __call__(self):
        if self.converged:
            raise _Converged
        p, W, H = self.prob, self.W, self.H
        if p.ccd:
            p._ccd(W, H)
            cross = None
        else:
            p._half(p.by_row, W, H)
            cross = p._half(p.by_col, H, W)
        obj = p.objective(W, H, cross)
        if self.prev is not None and p.tol > 0 and self.prev - obj <= p.tol * abs(obj):
            self.converged = True
        self.prev = obj
        return obj


def _gram64(A, rows=65_536):
    """``A.T @ A`` in float64, a block of rows at a time (no float64 copy of ``A``)."""
    G = np.zeros((A.shape[1], A.shape[1]))
    for start in range(0, len(A), rows):
        block = A[start:start + rows].astype(np.float64)
        G += block.T @ block
    return G


# ------------------------------------------------------------------ initialisation
def _initialize(prob, k, init, rng):
    m, n = prob.shape
    indptr, _, data = prob.by_row
    dtype = data.dtype
    total = float(data.sum(dtype=np.float64))
    mean = total / (len(data) if prob.missing == "ignore" else m * n)
    if init == "random":
        avg = np.sqrt(max(mean, 0.0) / k)
        W = np.abs(random_factors(rng, (m, k), dtype, avg))
        H = np.abs(random_factors(rng, (n, k), dtype, avg))
        return W, H
    csr = sp.csr_matrix((data, prob.by_row[1], indptr), shape=(m, n))
    csc = sp.csc_matrix((prob.by_col[2], prob.by_col[1], prob.by_col[0]), shape=(m, n))
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

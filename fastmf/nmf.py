"""``NMF``: non-negative matrix factorization, Frobenius or Poisson (generalised KL) loss."""

import warnings

import numpy as np
import scipy.sparse as sp

from ._config import threads
from ._fitting import run_iterations
from ._params import DEPRECATED, renamed
from ._ratings import Ratings
from ._solvers.nmf import NMFProblem, NMFSolver, initial_factors
from ._validation import (
    check_dtype,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from .base import FactorModel

try:
    from sklearn.exceptions import ConvergenceWarning
except ImportError:  # pragma: no cover - scikit-learn is optional at run time
    class ConvergenceWarning(UserWarning):
        """The solver stopped at ``n_iter`` before reaching ``tol``."""

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
    n_factors : int, default=32
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
        ``n_factors <= min(X.shape)``); ``"nndsvda"``: the same with zeros replaced by
        :math:`\bar x` (better for ``"mu"``, which cannot move a zero); ``"custom"``: the ``W`` and
        ``H`` passed to ``fit``.
    n_iter : int, default=200
    tol : float, default=1e-4
        Stop when the objective's relative decrease over one iteration falls below ``tol``;
        a ``ConvergenceWarning`` is issued when ``n_iter`` is reached first (``tol=0`` runs
        exactly ``n_iter`` iterations without warning).
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
    n_components, max_iter : deprecated
        The old names of ``n_factors`` and ``n_iter`` (as in scikit-learn's NMF); they work
        until fastmf 0.3 with a FutureWarning.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
        :math:`W` (``fit_transform`` returns it).
    item_factors_ : ndarray of shape (n_items, n_factors)
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
    >>> model = fastmf.NMF(n_factors=4, loss="poisson", n_iter=50, tol=0,
    ...                    random_state=0).fit(X)
    >>> bool(model.item_factors_.min() >= 0), model.components_.shape
    (True, (80, 4))
    >>> items, scores = model.recommend([0, 1], n=5, exclude=X)
    >>> items.shape
    (2, 5)
    """

    _nonnegative_input = True
    _symmetric_fold_in = True

    def __init__(self, n_factors=32, *, loss="frobenius", solver="auto", missing="zero",
                 init="random", n_iter=200, tol=1e-4, l1=0.0, l2=0.0, learning_rate=1.0,
                 dtype="float32", n_threads=None, random_state=None, verbose=False,
                 n_components=DEPRECATED, max_iter=DEPRECATED):
        self.n_factors = n_factors
        self.loss = loss
        self.solver = solver
        self.missing = missing
        self.init = init
        self.n_iter = n_iter
        self.tol = tol
        self.l1 = l1
        self.l2 = l2
        self.learning_rate = learning_rate
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.n_components = n_components
        self.max_iter = max_iter

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        """Every hyper-parameter checked, as the dict the solver reads."""
        loss = check_option(self.loss, "loss", ("frobenius", "poisson"))
        missing = check_option(self.missing, "missing", ("zero", "ignore"))
        check_option(self.solver, "solver", ("auto", "hals", "mu", "sgd"))
        valid = _SOLVERS[(loss, missing)]
        solver = valid[0] if self.solver == "auto" else self.solver
        if solver not in valid:
            combos = "; ".join(f"loss={lo!r}: {', '.join(repr(s) for s in _SOLVERS[(lo, 'zero')])}"
                               for lo in ("frobenius", "poisson"))
            raise ValueError(f"solver={self.solver!r} does not exist for loss={self.loss!r}; "
                             f"valid solvers are {combos}")
        return dict(
            n_factors=check_int_param(renamed(self, "n_components", "n_factors"), "n_factors",
                                      low=1),
            loss=loss, missing=missing, solver=solver,
            init=check_option(self.init, "init", ("random", "nndsvd", "nndsvda", "custom")),
            n_iter=check_int_param(renamed(self, "max_iter", "n_iter"), "n_iter", low=1),
            tol=check_float_param(self.tol, "tol", low=0),
            l1=check_float_param(self.l1, "l1", low=0),
            l2=check_float_param(self.l2, "l2", low=0),
            learning_rate=check_float_param(self.learning_rate, "learning_rate", low=0,
                                            low_open=True),
            dtype=check_dtype(self.dtype),
        )

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
        W : array-like of shape (n_users, n_factors), optional
            Initial W, with ``init="custom"`` only (copied, non-negative).
        H : array-like of shape (n_items, n_factors), optional
            Initial H, with ``init="custom"`` only. Note the orientation: scikit-learn's
            ``H`` is the transpose of this one.

        Returns
        -------
        self
        """
        p = self._check_params()
        if (W is not None or H is not None) != (p["init"] == "custom"):
            raise ValueError("W and H are used with init='custom' only, and init='custom' "
                             "needs both")
        ratings = self._validate_data(X, y)
        m, n = ratings.shape
        k, dtype = p["n_factors"], p["dtype"]
        if p["init"].startswith("nndsvd") and k > min(m, n):
            raise ValueError(f"init={p['init']!r} needs n_factors <= min(n_users, n_items) "
                             f"= {min(m, n)}, got {k}; use init='random'")
        rng = check_random_state(self.random_state)
        csr, csc = ratings.csr, ratings.csc
        if p["init"] == "custom":
            W0, H0 = _check_init(W, "W", (m, k), dtype), _check_init(H, "H", (n, k), dtype)
        else:
            with threads(self.n_threads):
                W0, H0 = initial_factors(csr, csc, k, p["init"], p["missing"], rng, dtype)
        state = {"user_factors_": W0, "item_factors_": H0, "global_mean_": 0.0,
                 "user_bias_": None, "item_bias_": None}
        self._fit_solver(p["solver"], (csr, csc), state, p, rng, ratings, blas=1,
                         n_iter=p["n_iter"], tol=p["tol"])
        if p["tol"] > 0 and self._fit_stop_reason == "n_iter":
            warnings.warn(f"NMF stopped at n_iter={p['n_iter']} before the relative decrease "
                          f"of the objective fell below tol={p['tol']}; raise n_iter",
                          ConvergenceWarning, stacklevel=2)
        data_loss = NMFProblem(csr, csc, dtype, p).data_loss(self.user_factors_,
                                                            self.item_factors_)
        self.reconstruction_err_ = float(np.sqrt(2.0 * max(data_loss, 0.0)))
        return self

    def _fold_in_users(self, X):
        """W for new rows of ``X`` with H fixed: the fit's W-updates until ``tol``/``n_iter``."""
        p = dict(self._check_params(), fixed="items")
        H = self.item_factors_
        mean = X.sum() / max(X.nnz if p["missing"] == "ignore" else X.shape[0] * X.shape[1], 1)
        W = np.full((X.shape[0], H.shape[1]), np.sqrt(mean / H.shape[1]), H.dtype)
        solver = NMFSolver((X, X.tocsc()), {"user_factors_": W, "item_factors_": H}, p, None)
        run_iterations(solver, p["n_iter"], tol=p["tol"])
        return {"user_factors_": W}

    def inverse_transform(self, W):
        """The dense reconstruction ``W H^T`` (n_rows x n_items: for small inputs only).

        Examples
        --------
        >>> import numpy as np, fastmf
        >>> X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
        >>> model = fastmf.NMF(2, init="nndsvd", n_iter=500, tol=0, dtype="float64").fit(X)
        >>> bool(np.allclose(model.inverse_transform(model.user_factors_), X, atol=1e-2))
        True
        """
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[1] != self.item_factors_.shape[1]:
            raise ValueError(f"W must have shape (n, {self.item_factors_.shape[1]}), got "
                             f"{W.shape}")
        return W @ self.item_factors_.T


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



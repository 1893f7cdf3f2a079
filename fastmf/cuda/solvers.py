"""Solvers of the CUDA back end, one class per (model, algorithm), under the solver protocol.

Each solver is built from host data (CSR arrays), the host factor arrays to start from,
hyper-parameters as keywords and an RNG. It moves all of it to the device once, then:

- ``step()`` runs one iteration (one epoch for SGD and BPR) on the device and returns the
  objective the CPU solver records in ``history_["train_loss"]`` (a float);
- ``state()`` returns host copies of the state arrays (a dict of NumPy arrays);
- ``to_host()`` copies the state back into the host arrays given at construction, in place,
  and returns them (the same dict keys);
- ``device_arrays()`` returns the device arrays themselves, for callers that keep the
  factors on the device (e.g. :func:`fastmf.cuda.ranking.top_k` takes host arrays today);
- ``converged()`` is False: no solver here has an inner stopping rule (the loop's ``tol``
  decides).

Construction raises :class:`~fastmf.cuda.CudaUnavailableError` naming what is missing when
the CUDA back end cannot run. ``threads`` (threads per block, a power of two, default 32),
``blocks`` (most thread blocks per launch) and, for the CG solvers, ``chunk`` (entries of a row
staged in shared memory at once, default ``threads``) shape the launches; results do not
depend on them except through the races of the Hogwild solvers (SGD, BPR).
"""

import numpy as np
import scipy.sparse as sp
from numba import cuda

from .._kernels.bpr import pair_set
from .._kernels.cuda.als import als_cg_rows, als_sse_rows
from .._kernels.cuda.bpr import bpr_epoch
from .._kernels.cuda.implicit_cg import implicit_cg_rows
from .._kernels.cuda.sgd import sgd_epoch
from .._solvers import mf_sgd
from .._solvers.bpr import N_STREAMS
from .._solvers.mf_als import count_weights
from .._validation import (
    check_bool,
    check_float_param,
    check_int_param,
    check_option,
    check_random_state,
)
from ._device import require_cuda
from ._launch import Gram, Reducer, SumSquares, n_blocks, row_chunk, threads_per_block


def _check_state(user_factors, item_factors, user_bias=None, item_bias=None):
    """Check the starting arrays (one float dtype, consistent shapes, finite); returns
    ``(n_users, n_items, n_factors, dtype)``. A None bias is no bias."""
    arrays = {"user_factors": user_factors, "item_factors": item_factors,
              "user_bias": user_bias, "item_bias": item_bias}
    dtype = None
    for name, A in arrays.items():
        if A is None:
            continue
        if not isinstance(A, np.ndarray) or A.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name} must be a float32 or float64 NumPy array, got "
                            f"{getattr(A, 'dtype', type(A).__name__)}")
        dtype = A.dtype if dtype is None else dtype
        if A.dtype != dtype:
            raise TypeError(f"{name} has dtype {A.dtype} but the other factors are {dtype}")
        if A.ndim != (1 if name.endswith("bias") else 2):
            raise ValueError(f"{name} must be {1 if name.endswith('bias') else 2}-dimensional, "
                             f"got shape {A.shape}")
        if not np.isfinite(A).all():
            raise ValueError(f"{name} must be finite")
    (m, k), n = user_factors.shape, item_factors.shape[0]
    if item_factors.shape[1] != k:
        raise ValueError(f"item_factors has {item_factors.shape[1]} columns but user_factors "
                         f"has {k}")
    for name, A, rows, what in (("user_bias", user_bias, m, "n_users"),
                                ("item_bias", item_bias, n, "n_items")):
        if A is not None and A.shape[0] != rows:
            raise ValueError(f"{name} must have {rows} rows ({what}), got shape {A.shape}")
    return m, n, k, dtype


def _csr(data, n_rows, n_cols, dtype, with_values=True):
    """``(indptr, indices, values)`` of the users x items CSR triple ``data``, checked."""
    if not isinstance(data, tuple) or len(data) not in ((3,) if with_values else (2, 3)):
        raise TypeError("data must be a tuple (indptr, indices, values) of CSR arrays")
    indptr = np.ascontiguousarray(data[0])
    indices = np.ascontiguousarray(data[1])
    if indptr.ndim != 1 or indptr.shape[0] != n_rows + 1 or indptr.dtype.kind not in "iu":
        raise ValueError(f"data's indptr must be an integer array of length {n_rows + 1} "
                         f"(n_users + 1)")
    nnz = int(indptr[-1])
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indices.shape != (nnz,) or \
            indices.dtype.kind not in "iu":
        raise ValueError("data is not a valid CSR structure (indptr must start at 0 and not "
                         "decrease; indices must be integers, indptr[-1] of them)")
    if nnz and (indices.min() < 0 or indices.max() >= n_cols):
        raise ValueError(f"data's indices must lie in [0, {n_cols}) (n_items)")
    if not with_values:
        return indptr, indices, None
    values = np.ascontiguousarray(data[2], dtype=dtype)
    if values.shape != (nnz,) or not np.isfinite(values).all():
        raise ValueError(f"data's values must be {nnz} finite numbers")
    return indptr, indices, values


def _transpose(indptr, indices, values, shape):
    """The CSR triple of the transposed matrix (items x users), indices sorted."""
    T = sp.csr_matrix((values, indices, indptr), shape=shape).T.tocsr()
    T.sort_indices()
    return T.indptr, T.indices, T.data


class _DeviceSolver:
    """Holds the device copies of the state and the host arrays they came from."""

    def _upload(self, state, nt, blocks):
        self._host = {name: A for name, A in state.items() if A is not None}
        self._dev = {name: cuda.to_device(np.ascontiguousarray(A))
                     for name, A in self._host.items()}
        self.threads = threads_per_block(nt)
        self.blocks = blocks
        self._sum_squares = SumSquares(self.threads)
        dtype = next(iter(self._host.values())).dtype
        self._none = cuda.device_array(0, dtype=dtype)  # "no bias"

    def _array(self, name):
        return self._dev.get(name, self._none)

    def state(self):
        """Host copies of the state arrays (a dict of new NumPy arrays)."""
        return {name: d.copy_to_host() for name, d in self._dev.items()}

    def to_host(self):
        """Copy the state into the host arrays given at construction; returns them."""
        for name, d in self._dev.items():
            host = self._host[name]
            if host.flags.c_contiguous:
                d.copy_to_host(host)
            else:
                host[...] = d.copy_to_host()
        return dict(self._host)

    def device_arrays(self):
        """The device arrays of the state (no copy)."""
        return dict(self._dev)

    def converged(self):
        """Always False: the iteration count and the loop's tolerance decide."""
        return False


class ImplicitALSCGSolver(_DeviceSolver):
    r"""``ImplicitALS(solver="cg")`` on the GPU: warm-started CG row updates.

    One step updates every item row, then every user row, by ``cg_steps`` conjugate-gradient
    steps on its weighted least-squares system (the kernel is
    :func:`fastmf._kernels.cuda.implicit_cg.implicit_cg_rows`, the twin of the CPU's
    ``implicit_cg_sweep``), the Gram matrix of the fixed side computed on the device, and
    returns the objective at the new factors,
    :math:`\sum_{u,i} c_{ui} (p_{ui} - w_u^\top h_i)^2 + \lambda (\|W\|^2 + \|H\|^2)`, as
    ``ImplicitALS`` records it.

    Parameters
    ----------
    data : tuple (indptr, indices, conf)
        CSR arrays of the users x items matrix of confidences :math:`c_{ui} \ge 1` of the
        positive entries (what ``ImplicitALS`` passes its CPU kernel).
    user_factors : ndarray of shape (n_users, n_factors)
    item_factors : ndarray of shape (n_items, n_factors)
        Starting factors, float32 or float64 (one dtype); written only by :meth:`to_host`.
    reg : float
        L2 weight :math:`\lambda` (>= 0).
    cg_steps : int, default=3
    rng : numpy Generator, optional
        Unused (the updates are deterministic); accepted for the solver protocol.
    threads, blocks, chunk : int, optional
        Launch shape (see the module docstring).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.cuda import cuda_available
    >>> if not cuda_available():
    ...     import pytest; pytest.skip("needs a GPU or NUMBA_ENABLE_CUDASIM=1")
    >>> from fastmf.cuda.solvers import ImplicitALSCGSolver
    >>> X = sp.random(12, 8, density=0.3, format="csr", random_state=0)
    >>> rng = np.random.default_rng(0)
    >>> W, H = rng.random((12, 4)) * 0.1, rng.random((8, 4)) * 0.1
    >>> solver = ImplicitALSCGSolver(data=(X.indptr, X.indices, 1 + X.data), user_factors=W,
    ...                              item_factors=H, reg=0.1, threads=4)
    >>> first, second = solver.step(), solver.step()
    >>> bool(second < first), solver.to_host()["user_factors"] is W
    (True, True)
    """

    def __init__(self, *, data, user_factors, item_factors, reg, cg_steps=3, rng=None,
                 threads=None, blocks=None, chunk=None):
        require_cuda()
        m, n, k, dtype = _check_state(user_factors, item_factors)
        self.reg = check_float_param(reg, "reg", low=0)
        self.cg_steps = check_int_param(cg_steps, "cg_steps", low=1)
        by_user = _csr(data, m, n, dtype)
        if np.any(by_user[2] < 1):
            raise ValueError("data's confidences must be >= 1")
        by_item = _transpose(*by_user, (m, n))
        self._upload({"user_factors": user_factors, "item_factors": item_factors}, threads,
                     blocks)
        self._csr = {side: tuple(cuda.to_device(a) for a in csr)
                     for side, csr in (("users", by_user), ("items", by_item))}
        self._chunk, self._shared = row_chunk(k, dtype, 4, self.threads, chunk)
        self._grid = {"users": n_blocks(m, self.blocks), "items": n_blocks(n, self.blocks)}
        self._reducer = {side: Reducer(g) for side, g in self._grid.items()}
        self._gram = {"users": Gram(n, k, dtype, self.threads),  # of H, for the user rows
                      "items": Gram(m, k, dtype, self.threads)}

    def step(self):
        """Items, then users; returns the objective at the new factors."""
        W, H = self._dev["user_factors"], self._dev["item_factors"]
        self._sweep("items", H, W)
        return self._sweep("users", W, H) + self.reg * self._sum_squares(H)

    def _sweep(self, side, X, Y):
        gram = self._gram[side](Y, self.reg)
        grid, reducer = self._grid[side], self._reducer[side]
        implicit_cg_rows[grid, self.threads, 0, self._shared](
            *self._csr[side], X, Y, gram, self.cg_steps, self._chunk, reducer.partial)
        return reducer.total()


class _ExplicitSolver(_DeviceSolver):
    """Shared set-up of the biased-MF solvers: checks, the two CSR sides, the L2 terms."""

    def _setup_mf(self, data, user_factors, item_factors, user_bias, item_bias, global_mean,
                  reg, reg_bias, threads, blocks):
        require_cuda()
        m, n, k, dtype = _check_state(user_factors, item_factors, user_bias, item_bias)
        self.reg = check_float_param(reg, "reg", low=0)
        self.reg_bias = self.reg if reg_bias is None else check_float_param(reg_bias,
                                                                            "reg_bias", low=0)
        self.global_mean = check_float_param(global_mean, "global_mean")
        self._f = dtype.type  # scalars in the factors' precision
        by_user = _csr(data, m, n, dtype)
        self._upload({"user_factors": user_factors, "item_factors": item_factors,
                      "user_bias": user_bias, "item_bias": item_bias}, threads, blocks)
        return by_user, (m, n, k, dtype)

    def _penalty(self, w_users, w_items):
        """``reg (sum_u w_u |w_u|^2 + sum_i w_i |h_i|^2) + reg_bias (... biases)``, the weights
        given as float64 device arrays (None: weight 1)."""
        s = self._sum_squares
        pen = self.reg * (s(self._dev["user_factors"], w_users)
                          + s(self._dev["item_factors"], w_items))
        if "user_bias" in self._dev:
            pen += self.reg_bias * s(self._dev["user_bias"], w_users)
        if "item_bias" in self._dev:
            pen += self.reg_bias * s(self._dev["item_bias"], w_items)
        return pen


class ALSCGSolver(_ExplicitSolver):
    r"""``MatrixFactorization(solver="als", cg_steps=...)`` on the GPU: CG rows, biases folded.

    One step moves every item row (and item bias), then every user row (and user bias), by
    ``cg_steps`` conjugate-gradient steps on its regularised least-squares problem (kernel
    :func:`fastmf._kernels.cuda.als.als_cg_rows`, the twin of the CPU's
    ``als_cg_half_sweep``), and returns the squared error on the stored entries plus the L2
    terms (each row's times its count to the power ``reg_exponent``), as the CPU ALS solver
    records it.

    Parameters
    ----------
    data : tuple (indptr, indices, values)
        CSR arrays of the users x items ratings.
    user_factors, item_factors : ndarray of shape (n_users, k) and (n_items, k)
    user_bias, item_bias : ndarray of shape (n_users,) and (n_items,), or None
        Starting values, one float dtype; None fits no bias on that side.
    global_mean : float, default=0.0
        The offset :math:`\mu` of every prediction.
    reg : float
    reg_bias : float, optional
        L2 weight of the biases; default ``reg``.
    reg_exponent : float, default=0.0
        Multiply a row's L2 weights by its number of ratings to this power (1: ALS-WR; 0: the
        same weights for every row), in [0, 2].
    cg_steps : int, default=3
    rng : numpy Generator, optional
        Unused (deterministic); accepted for the solver protocol.
    threads, blocks, chunk : int, optional

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.cuda import cuda_available
    >>> if not cuda_available():
    ...     import pytest; pytest.skip("needs a GPU or NUMBA_ENABLE_CUDASIM=1")
    >>> from fastmf.cuda.solvers import ALSCGSolver
    >>> X = sp.random(12, 8, density=0.4, format="csr", random_state=0, data_rvs=np.ones)
    >>> rng = np.random.default_rng(0)
    >>> W, H = rng.normal(size=(12, 3)) * 0.1, rng.normal(size=(8, 3)) * 0.1
    >>> solver = ALSCGSolver(data=(X.indptr, X.indices, 3 * X.data), user_factors=W,
    ...                      item_factors=H, user_bias=np.zeros(12), item_bias=np.zeros(8),
    ...                      global_mean=2.5, reg=0.1, threads=4)
    >>> first, second = solver.step(), solver.step()
    >>> bool(second <= first), sorted(solver.state())
    (True, ['item_bias', 'item_factors', 'user_bias', 'user_factors'])
    """

    def __init__(self, *, data, user_factors, item_factors, user_bias=None, item_bias=None,
                 global_mean=0.0, reg, reg_bias=None, reg_exponent=0.0, cg_steps=3, rng=None,
                 threads=None, blocks=None, chunk=None):
        by_user, (m, n, k, dtype) = self._setup_mf(data, user_factors, item_factors, user_bias,
                                                   item_bias, global_mean, reg, reg_bias,
                                                   threads, blocks)
        self.reg_exponent = check_float_param(reg_exponent, "reg_exponent", low=0, high=2)
        self.cg_steps = check_int_param(cg_steps, "cg_steps", low=1)
        by_item = _transpose(*by_user, (m, n))
        self._csr = {side: tuple(cuda.to_device(a) for a in csr)
                     for side, csr in (("users", by_user), ("items", by_item))}
        self._chunk, self._shared = row_chunk(k, dtype, 4, self.threads, chunk)
        self._sse_chunk, self._sse_shared = row_chunk(k, dtype, 1, self.threads, chunk)
        self._grid = {"users": n_blocks(m, self.blocks), "items": n_blocks(n, self.blocks)}
        self._sse = Reducer(self._grid["users"])
        self._weights = (None, None) if self.reg_exponent == 0 else tuple(
            cuda.to_device(count_weights(np.diff(indptr), self.reg_exponent))
            for indptr in (by_user[0], by_item[0]))

    def step(self):
        """Items, then users; returns squared error plus L2 terms at the new factors."""
        f = self._f
        W, H = self._dev["user_factors"], self._dev["item_factors"]
        ub, ib = self._array("user_bias"), self._array("item_bias")
        for side, X, xb, Y, yb in (("items", H, ib, W, ub), ("users", W, ub, H, ib)):
            als_cg_rows[self._grid[side], self.threads, 0, self._shared](
                *self._csr[side], X, xb, Y, yb, self.global_mean, f(self.reg),
                f(self.reg_bias), self.reg_exponent, self.cg_steps, self._chunk)
        als_sse_rows[self._grid["users"], self.threads, 0, self._sse_shared](
            *self._csr["users"], W, ub, H, ib, self.global_mean, self._sse_chunk,
            self._sse.partial)
        return self._sse.total() + self._penalty(*self._weights)


class SGDSolver(_ExplicitSolver):
    r"""``MatrixFactorization(solver="sgd")`` on the GPU: Hogwild epochs of plain SGD.

    The ratings are laid out and scheduled by the CPU solver's own functions (P x P blocks of
    :mod:`fastmf._solvers.mf_sgd`, the block order of epoch ``e`` drawn from
    ``(seed, e)``), and one step runs epoch ``e`` by cutting its sequence of ratings into
    ``blocks`` pieces updated at once without locks (kernel
    :func:`fastmf._kernels.cuda.sgd.sgd_epoch`; with ``blocks=1`` it is the CPU epoch). It
    returns the sum of squared errors (each before its rating's update) plus the per-rating
    L2 terms at the end of the epoch, as the CPU solver records it.

    Parameters
    ----------
    data, user_factors, item_factors, user_bias, item_bias, global_mean, reg, reg_bias
        As for :class:`ALSCGSolver` (the L2 terms are applied at every rating, i.e. scaled by
        the counts, as the CPU SGD solver's ``reg_scaling="count"``).
    learning_rate : float
        Step size (> 0).
    lr_schedule : {"constant", "inverse"}, default="constant"
        ``"inverse"``: epoch ``e`` steps ``learning_rate / (1 + lr_decay e)``. (AdaGrad and
        mini-batch momentum are CPU-only.)
    lr_decay : float, default=0.0
    seed : int, optional
        The layout and schedule seed (the CPU model's ``sgd_seed_``, to continue its fit);
        drawn from ``rng`` when not given.
    epoch : int, default=0
        Number of the first epoch ``step()`` runs (for the schedule and the step size).
    rng : numpy Generator or int, optional
    threads, blocks : int, optional

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.cuda import cuda_available
    >>> if not cuda_available():
    ...     import pytest; pytest.skip("needs a GPU or NUMBA_ENABLE_CUDASIM=1")
    >>> from fastmf.cuda.solvers import SGDSolver
    >>> X = sp.random(10, 6, density=0.5, format="csr", random_state=0, data_rvs=np.ones)
    >>> rng = np.random.default_rng(0)
    >>> W, H = rng.normal(size=(10, 2)) * 0.1, rng.normal(size=(6, 2)) * 0.1
    >>> solver = SGDSolver(data=(X.indptr, X.indices, 4 * X.data), user_factors=W,
    ...                    item_factors=H, global_mean=3.5, learning_rate=0.05, reg=0.02,
    ...                    rng=0, threads=2, blocks=2)
    >>> first, second = solver.step(), solver.step()
    >>> bool(second < first)
    True
    """

    def __init__(self, *, data, user_factors, item_factors, user_bias=None, item_bias=None,
                 global_mean=0.0, learning_rate, reg, reg_bias=None, lr_schedule="constant",
                 lr_decay=0.0, seed=None, epoch=0, rng=None, threads=None, blocks=None):
        by_user, (m, n, k, dtype) = self._setup_mf(data, user_factors, item_factors, user_bias,
                                                   item_bias, global_mean, reg, reg_bias,
                                                   threads, blocks)
        self.learning_rate = check_float_param(learning_rate, "learning_rate", low=0,
                                               low_open=True)
        if lr_schedule not in ("constant", "inverse"):
            raise ValueError(f"lr_schedule={lr_schedule!r} is not available with "
                             "backend='cuda': use 'constant' or 'inverse'")
        self.lr_schedule = lr_schedule
        self.lr_decay = check_float_param(lr_decay, "lr_decay", low=0)
        self.epoch = check_int_param(epoch, "epoch", low=0)
        if seed is None:
            seed = int(check_random_state(rng).integers(2**31 - 1))
        self.seed = check_int_param(seed, "seed", low=0)
        self._layout(by_user, m, n, dtype)

    def _layout(self, by_user, m, n, dtype):
        indptr, indices, values = by_user
        users = np.repeat(np.arange(m, dtype=np.int32), np.diff(indptr))
        items = indices.astype(np.int32)
        nnz = len(items)
        self.P = mf_sgd.n_blocks(m, n, nnz)
        order, block_ptr = mf_sgd.block_layout(users, items, m, n, self.P, self.seed)
        self._block_sizes = np.diff(block_ptr)
        self._entries = tuple(cuda.to_device(a[order]) for a in (users, items, values))
        self._block_ptr = cuda.to_device(block_ptr)
        self._seq = cuda.device_array(self.P * self.P, dtype=np.int64)
        self._seq_ptr = cuda.device_array(self.P * self.P + 1, dtype=np.int64)
        self._weights = (cuda.to_device(np.diff(indptr).astype(np.float64)),
                         cuda.to_device(np.bincount(items, minlength=n).astype(np.float64)))
        self._grid = n_blocks(max(1, nnz), self.blocks)
        self._loss = Reducer(self._grid)

    def step(self):
        """One epoch; returns the squared errors seen plus the L2 terms at its end."""
        seq = mf_sgd.block_schedule(self.seed, self.epoch, self.P).ravel()
        self._seq.copy_to_device(seq)
        self._seq_ptr.copy_to_device(np.concatenate([[0], np.cumsum(self._block_sizes[seq])]))
        lr = self.learning_rate
        if self.lr_schedule == "inverse":
            lr = lr / (1.0 + self.lr_decay * self.epoch)
        f = self._f
        sgd_epoch[self._grid, self.threads](
            self._seq, self._seq_ptr, self._block_ptr, *self._entries,
            self._dev["user_factors"], self._dev["item_factors"], self._array("user_bias"),
            self._array("item_bias"), f(self.global_mean), f(lr), f(self.reg), f(self.reg_bias),
            self._loss.partial)
        self.epoch += 1
        return self._loss.total() + self._penalty(*self._weights)


class BPRSolver(_DeviceSolver):
    r"""``BPR`` on the GPU: Hogwild epochs on the CPU kernel's sampled triples.

    One step draws the epoch's stream seeds from ``rng`` exactly as ``BPR`` does (so the same
    ``rng`` state means the same triples as the CPU kernel), applies ``nnz`` SGD steps on
    (user, positive, negative) triples with ``blocks`` thread blocks at once (kernel
    :func:`fastmf._kernels.cuda.bpr.bpr_epoch`; with ``blocks=1`` it is the CPU kernel's
    one-thread epoch), and returns the mean of :math:`-\ln\sigma(\hat x_{uij})` over every
    16th triple taken, as ``BPR`` records it; :attr:`skipped` is the step's count of triples
    skipped because the negative was a positive.

    Parameters
    ----------
    data : tuple (indptr, indices[, values])
        CSR arrays of the users x items positives (values, if given, are ignored).
    user_factors, item_factors : ndarray of shape (n_users, k) and (n_items, k)
    item_bias : ndarray of shape (n_items,)
    learning_rate : float, default=0.05
    reg : float, default=0.01
    verify_negative : bool, default=True
        Skip a triple whose negative is one of the user's positives (hash set on the device).
    negatives : {"uniform", "popularity"}, default="uniform"
    rng : numpy Generator or int, optional
        Source of every epoch's stream seeds.
    threads, blocks : int, optional

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf.cuda import cuda_available
    >>> if not cuda_available():
    ...     import pytest; pytest.skip("needs a GPU or NUMBA_ENABLE_CUDASIM=1")
    >>> from fastmf.cuda.solvers import BPRSolver
    >>> X = sp.random(10, 8, density=0.3, format="csr", random_state=0)
    >>> rng = np.random.default_rng(0)
    >>> W, H = rng.normal(size=(10, 2)) * 0.1, rng.normal(size=(8, 2)) * 0.1
    >>> solver = BPRSolver(data=(X.indptr, X.indices), user_factors=W, item_factors=H,
    ...                    item_bias=np.zeros(8), rng=0, threads=2, blocks=2)
    >>> loss = solver.step()
    >>> bool(0 < loss < 1), solver.skipped >= 0
    (True, True)
    """

    def __init__(self, *, data, user_factors, item_factors, item_bias, learning_rate=0.05,
                 reg=0.01, verify_negative=True, negatives="uniform", rng=None, threads=None,
                 blocks=None):
        require_cuda()
        if item_bias is None:
            raise TypeError("item_bias must be a float32 or float64 NumPy array, got None")
        m, n, k, dtype = _check_state(user_factors, item_factors, item_bias=item_bias)
        indptr, indices, _ = _csr(data, m, n, dtype, with_values=False)
        if len(indices) == 0 or n < 2:
            raise ValueError("BPR needs at least one positive entry and 2 items")
        self.learning_rate = check_float_param(learning_rate, "learning_rate", low=0,
                                               low_open=True)
        self.reg = check_float_param(reg, "reg", low=0)
        verify = check_bool(verify_negative, "verify_negative")
        self.popularity = check_option(negatives, "negatives",
                                       ("uniform", "popularity")) == "popularity"
        self._rng = check_random_state(rng)
        self._f = dtype.type
        self._upload({"user_factors": user_factors, "item_factors": item_factors,
                      "item_bias": item_bias}, threads, blocks)
        rows = np.repeat(np.arange(m, dtype=indices.dtype), np.diff(indptr))
        pairs = pair_set(indptr, indices, n) if verify else np.zeros(0, np.int64)
        self._entries = (cuda.to_device(indices), cuda.to_device(rows))
        self._pairs = cuda.to_device(pairs)
        self._seeds = cuda.device_array(N_STREAMS, dtype=np.uint64)
        self._grid = n_blocks(len(indices), self.blocks)
        self._sums = Reducer((self._grid, 3))
        self.skipped = 0

    def step(self):
        """One epoch of ``nnz`` triples; returns the mean sampled loss."""
        seeds = self._rng.integers(0, 2**63, size=self._seeds.shape[0], dtype=np.uint64)
        self._seeds.copy_to_device(seeds)
        f = self._f
        bpr_epoch[self._grid, self.threads](
            *self._entries, self._dev["user_factors"], self._dev["item_factors"],
            self._dev["item_bias"], self._entries[0].shape[0], self._seeds,
            f(self.learning_rate), f(self.reg), self._pairs, self.popularity, self._sums.partial)
        total, counted, skipped = self._sums.total(axis=0)
        self.skipped = int(skipped)
        return float(total / max(1.0, counted))

"""Settings shared by every kernel and estimator: fastmath flags, thread and BLAS-pool control."""

import contextlib
import os
import warnings

import numba

# No "nnan"/"ninf": NaN and inf checks inside kernels keep working (as stumpy does).
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

# Keyword arguments for every jitted kernel.
JIT = dict(nogil=True, cache=True, fastmath=FASTMATH)
# A PARALLEL_JIT kernel takes each array it writes out of its argument tuple by index
# (``X = solve[0]``), never by unpacking (``X, b = solve``): Numba's alias analysis (0.68) does
# not see through unpacking, and the parfor pass may then drop writes into it as dead stores.
PARALLEL_JIT = dict(JIT, parallel=True)

# Keyword arguments for every CUDA kernel (numba.cuda.jit): cached like the CPU kernels; no
# fastmath, so divisions and square roots stay IEEE-exact and match the CPU kernels.
CUDA_JIT = dict(cache=True)


def resolve_n_threads(n_threads):
    """Return the number of threads to use: ``None`` or ``-1`` means every core numba may use."""
    from ._validation import check_int_param

    limit = numba.config.NUMBA_NUM_THREADS
    if n_threads is None or (isinstance(n_threads, int) and n_threads == -1):
        return limit
    n_threads = check_int_param(n_threads, "n_threads", low=1)
    return min(n_threads, limit)


@contextlib.contextmanager
def threads(n_threads, blas=None):
    """Run the enclosed parallel kernels with ``n_threads`` threads, then restore the setting.

    BLAS pools (OpenBLAS, MKL, ... through threadpoolctl) are limited to ``blas`` threads
    (default: the same number) while inside, and restored afterwards, also on exceptions.
    Pass ``blas=1`` around kernels that call BLAS inside their parallel loops (the exact row
    solves): each of the ``n_threads`` threads then runs single-threaded BLAS calls instead of
    every call starting a pool of its own, which would oversubscribe the cores.
    """
    n = resolve_n_threads(n_threads)
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        with _limit_blas(n if blas is None else blas):
            yield n
    finally:
        numba.set_num_threads(previous)


_controller = None
_warned = False


def _blas_controller():
    """A cached ``threadpoolctl.ThreadpoolController``, or None without threadpoolctl."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _controller = False
        else:
            # the BLAS/LAPACK that Numba's np.dot / np.linalg call: load it before the scan
            import scipy.linalg.cython_blas  # noqa: F401
            import scipy.linalg.cython_lapack  # noqa: F401

            _controller = ThreadpoolController()
    return _controller or None


@contextlib.contextmanager
def _limit_blas(limit):
    """Limit every BLAS pool with more than ``limit`` threads to ``limit``, then restore it."""
    global _warned
    ctl = _blas_controller()
    if ctl is None:  # pragma: no cover - threadpoolctl is a dependency
        if not _warned and limit < (os.cpu_count() or 1):
            _warned = True
            warnings.warn("threadpoolctl is not installed, so fastmf cannot limit BLAS threads "
                          "under its parallel kernels; install threadpoolctl or set "
                          "OPENBLAS_NUM_THREADS=1", RuntimeWarning, stacklevel=4)
        yield
        return
    changed = []
    try:
        for lib in ctl.lib_controllers:
            if lib.user_api == "blas":
                n = lib.num_threads
                if n > limit:
                    lib.set_num_threads(limit)
                    changed.append((lib, n))
        yield
    finally:
        for lib, n in changed:
            lib.set_num_threads(n)

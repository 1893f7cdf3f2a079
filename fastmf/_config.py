"""Settings shared by every kernel and estimator: fastmath flags, thread control, BLAS guard."""

import contextlib
import os
import warnings

import numba

# No "nnan"/"ninf": NaN and inf checks inside kernels keep working (as stumpy does).
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

# Keyword arguments for every jitted kernel.
JIT = dict(nogil=True, cache=True, fastmath=FASTMATH)
PARALLEL_JIT = dict(JIT, parallel=True)


def resolve_n_threads(n_threads):
    """Return the number of threads to use: ``None`` or ``-1`` means every core numba may use."""
    from ._validation import check_int_param

    limit = numba.config.NUMBA_NUM_THREADS
    if n_threads is None or (isinstance(n_threads, int) and n_threads == -1):
        return limit
    n_threads = check_int_param(n_threads, "n_threads", low=1)
    return min(n_threads, limit)


@contextlib.contextmanager
def threads(n_threads):
    """Run the enclosed parallel kernels with ``n_threads`` threads, then restore the setting."""
    n = resolve_n_threads(n_threads)
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(previous)


_blas_checked = False


def check_blas_threads(n_threads):
    """Warn once when a multithreaded BLAS would run under a parallel kernel (oversubscription).

    Uses threadpoolctl when it is installed; without it the check is skipped.
    """
    global _blas_checked
    if _blas_checked or n_threads <= 1 or os.environ.get("FASTMF_NO_BLAS_CHECK"):
        return
    _blas_checked = True
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and pool.get("num_threads", 1) > 1:
            warnings.warn(
                f"{pool.get('internal_api')} is using {pool['num_threads']} threads while fastmf "
                "runs its own parallel kernels; set OPENBLAS_NUM_THREADS=1 (or MKL_NUM_THREADS=1) "
                "or call threadpoolctl.threadpool_limits(1, 'blas') to avoid oversubscription",
                RuntimeWarning, stacklevel=3,
            )
            return

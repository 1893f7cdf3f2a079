"""SciPy's L-BFGS-B one iteration at a time, for solvers whose ``step()`` is one iteration.

``scipy.optimize.minimize`` owns its loop; restarting it for every iteration (or chunk of
iterations) would throw away its curvature memory and spend extra evaluations on each
restart's first line search. Instead one ``minimize`` call runs in a worker thread that pauses
in its callback after every iteration until the next one is asked for, so the iterates are
exactly those of a single uninterrupted call. The objective function must release the GIL
(the Numba kernels do) for nothing to be lost by the thread; only one of the two threads runs
at any time.
"""

import queue
import threading
import weakref

import numba


class _Stop(Exception):
    """Raised in the callback to end the ``minimize`` call."""


class LBFGSIterations:
    """``minimize(fun, x0, jac=True, method="L-BFGS-B")`` driven one iteration per ``next()``.

    ``fun(x) -> (f, g)`` evaluates the objective and its float64 gradient; ``accept(x, f)`` is
    called with each accepted iterate (``x`` is the optimizer's own buffer: copy from it).
    Neither may hold a reference to the object that owns this one (the worker thread would
    keep it alive). SciPy's own stopping tests are off (``ftol = gtol = 0``): the caller
    decides when to stop; L-BFGS-B still stops by itself when its line search finds no
    decrease (then ``next()`` returns False). The thread ends on :meth:`close` or when this
    object is garbage-collected. The numba thread count of the creating thread is used in
    the worker.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf._solvers.lbfgs import LBFGSIterations
    >>> seen = []
    >>> it = LBFGSIterations(lambda x: (float(x @ x), 2 * x), np.ones(3), 10,
    ...                      lambda x, f: seen.append(f))
    >>> it.next(), it.next(), bool(seen[1] < seen[0] < 3)
    (True, True, True)
    >>> it.close()
    """

    def __init__(self, fun, x0, maxiter, accept, memory=10):
        self._go, self._out = queue.Queue(), queue.Queue()
        self._thread = threading.Thread(
            target=_run, args=(fun, x0, maxiter, accept, memory, numba.get_num_threads(),
                               self._go, self._out), daemon=True)
        self._started = self._done = False
        self._finalizer = weakref.finalize(self, _stop, self._go, self._thread)

    def next(self):
        """Run one more iteration; False when L-BFGS-B has stopped (nothing changed)."""
        if self._done:
            return False
        if self._started:
            self._go.put(True)
        else:
            self._thread.start()
            self._started = True
        kind, error = self._out.get()
        if kind == "iteration":
            return True
        self._done = True
        if error is not None:
            raise error
        return False

    def close(self):
        """End the worker thread (idempotent)."""
        self._finalizer()


def _stop(go, thread):
    if thread.is_alive():  # paused in its callback
        go.put(False)
        thread.join()


def _run(fun, x0, maxiter, accept, memory, n_threads, go, out):
    from scipy.optimize import minimize

    numba.set_num_threads(n_threads)
    last = {}

    def evaluate(x):
        f, g = fun(x)
        last["f"] = f
        return f, g

    def callback(x):
        # L-BFGS-B's accepted iterate is the last point its line search evaluated
        accept(x, last["f"])
        out.put(("iteration", None))
        if not go.get():
            raise _Stop

    try:
        minimize(evaluate, x0, jac=True, method="L-BFGS-B", callback=callback,
                 options=dict(maxiter=maxiter, maxfun=max(2 * maxiter, 100) * 10,
                              maxcor=memory, ftol=0.0, gtol=0.0))
    except _Stop:
        pass
    except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
        out.put(("done", e))
        return
    out.put(("done", None))

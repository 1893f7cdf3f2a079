"""The iteration loop every estimator shares: history, evaluation, early stopping, ``tol``,
interrupts and divergence, around any solver of :mod:`fastmf._solvers.base`.

Nothing is copied per iteration. Ctrl-C during an iteration lets it finish, then the loop
stops with a warning (a second Ctrl-C interrupts at once); early stopping snapshots the state
only when the eval score improves. The loop never touches the estimator: it returns what
happened and the estimator stores it, so a fit that raises leaves the estimator as it was.
"""

import contextlib
import dataclasses
import signal
import threading
import time
import warnings

import numpy as np

from ._config import threads


@dataclasses.dataclass
class FitResult:
    """What :func:`run_iterations` did."""

    history: dict
    #: iterations finished in this call
    n_done: int
    #: 1-based index (over this call) of the best eval score, with early stopping; else None
    best: int = None
    #: "n_iter", "tol", "converged", "early_stopping", "interrupted" or "diverged"
    reason: str = "n_iter"


def run_iterations(solver, n_iter, *, history=None, evaluate=None, eval_pad=None,
                   early_stopping_rounds=None, maximize=False, tol=0.0, verbose=False,
                   desc="fit"):
    """Run ``solver.step()`` up to ``n_iter`` times.

    Parameters
    ----------
    solver : object following :mod:`fastmf._solvers.base`
    n_iter : int
    history : dict of lists, optional
        A history to continue (warm start; not modified: a copy is extended). Its lists stay
        aligned: keys that an iteration does not produce get the ``eval_pad`` value (NaN).
    evaluate : callable, optional
        ``evaluate()`` returns a dict of eval scores after an iteration; its first entry is
        the one early stopping watches (minimised, or maximised with ``maximize``).
    eval_pad : dict, optional
        The value of every eval key for iterations without evaluation.
    early_stopping_rounds : int, optional
        Stop when the watched score has not improved for this many iterations, and restore
        the state of the best iteration. Then ``solver.finish()`` runs (when the solver has
        it); a finish that returns an objective replaces the ``train_loss`` (and the eval
        scores) of the iteration returned, so the history describes the model returned.
    tol : float
        Stop when the objective's relative decrease over one iteration falls to ``tol`` or
        below (0: never).
    verbose : bool
        Show a tqdm progress bar.

    Returns
    -------
    FitResult

    Raises
    ------
    FloatingPointError
        When the objective stops being finite (with ``solver.divergence_hint``); its
        ``result`` attribute is the :class:`FitResult` of the iterations before.
    """
    history = {k: list(v) for k, v in (history or {"train_loss": [], "seconds": []}).items()}
    eval_pad = dict(eval_pad or {})
    for key, pad in eval_pad.items():
        history.setdefault(key, [pad] * len(history["train_loss"]))
    sign = -1.0 if maximize else 1.0
    best, best_at, best_snapshot, wait = np.inf, None, None, 0
    reason, done, previous = "n_iter", 0, None
    bar = _progress_bar(verbose, n_iter, desc)
    try:
        with _deferred_interrupt() as interrupted:
            for _ in range(n_iter):
                t0 = time.perf_counter()
                out = solver.step()
                seconds = time.perf_counter() - t0
                values = dict(out) if isinstance(out, dict) else {"train_loss": out}
                loss = float(values.pop("train_loss"))
                if not np.isfinite(loss):
                    error = FloatingPointError(
                        f"the training loss became {loss} at iteration "
                        f"{len(history['train_loss']) + 1}: the fit diverged. "
                        f"{solver.divergence_hint}".strip())
                    error.result = FitResult(history, done, None, "diverged")
                    raise error
                done += 1
                scores = evaluate() if evaluate is not None else {}
                _append(history, loss, seconds, {**values, **scores}, eval_pad)
                postfix = {"loss": f"{loss:.4g}"}
                if scores:
                    name, score = next(iter(scores.items()))
                    postfix[name] = f"{score:.4f}"
                    if early_stopping_rounds is not None:
                        if sign * score < best:
                            best, best_at, wait = sign * score, done, 0
                            best_snapshot = solver.snapshot()
                        else:
                            wait += 1
                bar.set_postfix(postfix, refresh=False)
                bar.update()
                if interrupted():
                    reason = "interrupted"
                    warnings.warn(f"fit interrupted: keeping the model after {done} iterations "
                                  "of this fit", RuntimeWarning, stacklevel=4)
                    break
                if early_stopping_rounds is not None and wait >= early_stopping_rounds:
                    reason = "early_stopping"
                    break
                if tol > 0 and previous is not None and previous - loss <= tol * abs(loss):
                    reason = "tol"
                    break
                if solver.converged():
                    reason = "converged"
                    break
                previous = loss
    finally:
        bar.close()
    if best_snapshot is not None and best_at != done:
        solver.restore(best_snapshot)
    if done:
        _finish(solver, history, done - (best_at or done), evaluate)
    return FitResult(history, done, best_at, reason)


def _finish(solver, history, back, evaluate):
    """Run ``solver.finish()`` and make the history entry of the returned iteration (``back``
    entries before the last) describe the finished state: its objective and eval scores; the
    finishing time is added to the last iteration's seconds."""
    finish = getattr(solver, "finish", None)
    if finish is None:
        return
    t0 = time.perf_counter()
    loss = finish()
    history["seconds"][-1] += time.perf_counter() - t0
    if loss is None:
        return
    at = len(history["train_loss"]) - 1 - back
    history["train_loss"][at] = float(loss)
    for key, score in (evaluate() if evaluate is not None else {}).items():
        history[key][at] = score


def _append(history, loss, seconds, values, eval_pad):
    n = len(history["train_loss"])
    history["train_loss"].append(loss)
    history["seconds"].append(seconds)
    for key, value in values.items():
        history.setdefault(key, [eval_pad.get(key, np.nan)] * n).append(value)
    for key, column in history.items():  # keys this iteration did not produce
        if len(column) == n:
            column.append(eval_pad.get(key, np.nan))


@contextlib.contextmanager
def _deferred_interrupt():
    """Yield a function telling whether Ctrl-C was pressed: the first press is recorded (the
    iteration under way finishes), a second one raises KeyboardInterrupt at once. Outside the
    main thread signals cannot be caught, and a process that ignores SIGINT (a background job
    of a shell) keeps ignoring it: nothing changes there."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield lambda: False
        return
    hit = []

    def handler(signum, frame):
        if hit:
            raise KeyboardInterrupt
        hit.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(hit)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


class _NoBar:
    """What ``run_iterations`` calls on a progress bar, doing nothing (``verbose=False``)."""

    def set_postfix(self, *args, **kwargs):
        pass

    update = close = set_postfix


def _progress_bar(verbose, n_iter, desc):
    """A tqdm bar with ``verbose=True``; tqdm (and asyncio with it) is imported only then."""
    if not verbose:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=n_iter, desc=desc, unit="it", leave=False)


class SolverFit:
    """What every estimator's ``fit`` does around a solver: build it from the registry, run
    :func:`run_iterations`, store the result (the hooks ``_index_space``, ``_evaluator`` and
    ``_factors_changed`` are the estimator's)."""

    _fitted_arrays = ()
    #: Model family in the solver registry (default: the class name).
    _family = None
    #: The ``backend`` values the estimator accepts (a Dask estimator's is its class's own).
    _backends = ("cpu", "cuda")

    @property
    def _warm(self):
        """Whether this fit continues the fitted state (``warm_start`` and already fitted)."""
        first = self._fitted_arrays[0] if self._fitted_arrays else "n_iter_"
        return bool(getattr(self, "warm_start", False)) and hasattr(self, first)

    def _warm_state(self, names):
        """Copies of the fitted attributes ``names`` for a warm start to continue from (so a
        fit that fails leaves the model as it was); non-array values as they are."""
        state = {}
        for name in names:
            if hasattr(self, name):
                value = getattr(self, name)
                state[name] = value.copy() if isinstance(value, np.ndarray) else value
        return state

    def _fit_solver(self, solver, data, state, params, rng, train, *, eval_data=None,
                    n_iter=None, blas=None, early_stopping_rounds=None, tol=0.0, start=None):
        """Build ``solver`` from the registry, run the shared loop, store the result.

        ``data`` is what the solver reads, ``train`` the training data the estimator's hooks
        take (``_index_space(train)``, ``_evaluator(..., train, eval_data)``), ``state`` the
        fitted attributes to start from; the estimator's attributes are set only when the loop
        has finished, so a fit that raises leaves them untouched. Except for a solver that
        ``rolls_back`` (undoes an iteration whose objective is not finite): on divergence the
        model of its last finite iteration is stored, then the FloatingPointError raised.
        ``start``: the (history, iterations done) a fit resumed from a checkpoint continues
        (default: the warm start's).
        """
        from ._solvers.registry import solver_class

        family = self._family or type(self).__name__
        backend = getattr(self, "backend", "cpu")
        cls = solver_class(family, solver, backend)
        space = self._index_space(train)
        warm = self._warm
        history, previous = start if start is not None else \
            (getattr(self, "history_", None), self.n_iter_) if warm else (None, 0)
        with threads(getattr(self, "n_threads", None), blas=blas):
            fitter = cls(data, state, params, rng)
            evaluate, pad, maximize = self._evaluator(fitter, space, train, eval_data)
            if n_iter is None:
                n_iter = params["n_iter"] if "n_iter" in params else self.n_iter
            diverged = None
            try:
                result = run_iterations(
                    fitter, n_iter, history=history,
                    evaluate=evaluate, eval_pad=pad, early_stopping_rounds=early_stopping_rounds,
                    maximize=maximize, tol=tol, verbose=bool(getattr(self, "verbose", False)),
                    desc=type(self).__name__)
            except FloatingPointError as error:
                if not getattr(fitter, "rolls_back", False):
                    raise
                result, diverged = error.result, error
            fitted = fitter.state()
        vars(self).update(space)
        vars(self).update(fitted)
        self.history_ = result.history
        self.n_iter_ = previous + result.n_done
        if result.best is not None:
            self.best_iteration_ = previous + result.best
        self._fit_stop_reason = result.reason
        self._factors_changed()
        if diverged is not None:
            raise diverged
        return self

    def _factors_changed(self):
        """Hook: drop caches derived from the fitted arrays (e.g. a Gram matrix)."""

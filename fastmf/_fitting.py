"""The iteration loop of every estimator: history, eval scores, early stopping, interrupts."""

import time
import warnings

import numpy as np


def run_iterations(model, step, n_iter, state, *, warm, eval_pad, evaluate=None,
                   early_stopping_rounds=None, divergence_hint=""):
    """Run ``step()`` ``n_iter`` times, recording ``model.history_`` and ``model.n_iter_``.

    ``step`` performs one iteration in place on the arrays listed in ``state`` and returns the
    training objective. ``evaluate()``, when given, returns the eval values of the iteration
    as a dict whose first entry is the score early stopping minimises; ``eval_pad`` maps every
    eval key to the value that fills iterations run without an eval set (so a warm start that
    adds or drops ``eval_set`` keeps the history's lists aligned). With ``warm`` the history
    and ``n_iter_`` continue. On KeyboardInterrupt the arrays are restored to the last finished
    iteration; with ``early_stopping_rounds`` they are restored to the best one (and
    ``model.best_iteration_`` set). A non-finite objective raises FloatingPointError with
    ``divergence_hint``.
    """
    history = getattr(model, "history_", None)
    if not (warm and history):
        history = {"train_loss": [], "seconds": []}
        model.n_iter_ = 0
    if evaluate is not None:
        for key, pad in eval_pad.items():
            history.setdefault(key, [pad] * len(history["train_loss"]))
    best, best_state, wait = np.inf, None, 0
    bar = _progress_bar(model, n_iter)
    saved = [np.empty_like(a) for a in state]  # one copy of the state, refreshed in place
    try:
        for _ in range(n_iter):
            for s, a in zip(saved, state, strict=True):
                np.copyto(s, a)
            t0 = time.perf_counter()
            try:
                loss = float(step())
            except KeyboardInterrupt:
                for a, s in zip(state, saved, strict=True):
                    a[...] = s
                warnings.warn(f"fit interrupted: keeping the model after {model.n_iter_} "
                              "iterations", RuntimeWarning, stacklevel=4)
                break
            if not np.isfinite(loss):
                raise FloatingPointError(
                    f"the training loss became {loss} at iteration {model.n_iter_ + 1}: the "
                    f"fit diverged. {divergence_hint}".strip())
            history["seconds"].append(time.perf_counter() - t0)
            history["train_loss"].append(loss)
            model.n_iter_ += 1
            postfix = {"loss": f"{loss:.4g}"}
            scores = evaluate() if evaluate is not None else {}
            for key, pad in eval_pad.items():
                if key in history:
                    history[key].append(scores.get(key, pad))
            if scores:
                name, score = next(iter(scores.items()))
                postfix[name] = f"{score:.4f}"
                if early_stopping_rounds is not None:
                    if score < best:
                        best, wait = score, 0
                        best_state = ([a.copy() for a in state], model.n_iter_)
                    else:
                        wait += 1
                        if wait >= early_stopping_rounds:
                            break
            bar.set_postfix(postfix, refresh=False)
            bar.update()
    finally:
        bar.close()
        model.history_ = history
    if best_state is not None and best_state[1] != model.n_iter_:
        for a, s in zip(state, best_state[0], strict=True):
            a[...] = s
        model.best_iteration_ = best_state[1]


class _NoBar:
    """What ``run_iterations`` calls on a progress bar, doing nothing (``verbose=False``)."""

    def set_postfix(self, *args, **kwargs):
        pass

    update = close = set_postfix


def _progress_bar(model, n_iter):
    """A tqdm bar with ``verbose=True``; tqdm (and asyncio with it) is imported only then."""
    if not model.verbose:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=n_iter, desc=type(model).__name__, unit="it", leave=False)

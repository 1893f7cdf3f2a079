"""The one protocol every solver follows, whatever its model, algorithm or back end.

A solver is built from the data, the initial fitted state, the validated hyper-parameters and a
random generator — never from the estimator::

    solver = SolverClass(data, state, params, rng)

``data`` is what the algorithm reads (a :class:`~fastmf.Ratings`, an FM design, ...),
``state`` a dict of the fitted attributes it starts from, named as the estimator stores them
(``{"user_factors_": W, "item_factors_": H, ...}``), ``params`` a dict of hyper-parameters
already checked by the estimator, ``rng`` a ``numpy.random.Generator``. Then
:func:`fastmf._fitting.run_iterations` calls

- ``step()``: one iteration, in place; returns the training objective (the summed quantity
  the algorithm minimises, ``history_["train_loss"]``) or a dict with that under
  ``"train_loss"`` and other per-iteration quantities under their own keys;
- ``converged()``: True when the algorithm itself has nothing left to do (the loop handles
  ``tol`` on the objective);
- ``state()``: the fitted attributes as they are now, as host NumPy arrays (views of the
  solver's own arrays where it keeps them on the host: no copy);
- ``snapshot()`` / ``restore(snapshot)``: a copy of the state for early stopping, and putting
  it back; the loop calls ``snapshot()`` only when the eval score improves;
- ``finish()``: once after the last iteration (and after the best iteration's state is
  restored), a final pass over the state that is returned (e.g. explicit ALS's exact sweep of
  the users after CG iterations); returns that state's objective, or None when it changed
  nothing (the default).

The estimator stores ``state()`` as its attributes when the loop ends. A back end that keeps
its arrays elsewhere (a GPU, Dask workers) implements the same five methods.
"""

import numpy as np


class Solver:
    """Base class: keeps ``self._state`` (the dict given) and updates its arrays in place."""

    #: Appended to the error raised when the objective stops being finite.
    divergence_hint = ""

    def __init__(self, data, state, params, rng):
        self._state = dict(state)

    def step(self):  # pragma: no cover - every solver implements it
        raise NotImplementedError

    def converged(self):
        return False

    def finish(self):
        return None

    def state(self):
        return dict(self._state)

    def snapshot(self):
        return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self.state().items()}

    def restore(self, snapshot):
        for name, value in snapshot.items():
            current = self._state.get(name)
            if isinstance(current, np.ndarray) and isinstance(value, np.ndarray) and \
                    current.shape == value.shape:
                current[...] = value
            else:
                self._state[name] = value

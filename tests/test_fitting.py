"""The shared iteration loop (fastmf._fitting.run_iterations) on scripted curves.

Early stopping, restoring the best state and interrupts are properties of the loop, so they are
tested here on curves that are given, not on a fit whose eval curve may or may not turn up.
"""

import numpy as np
import pytest

from fastmf._fitting import run_iterations


class Dummy:
    verbose = False


def scripted(curve):
    """A step that writes the iteration number into the state, and an eval that reads
    ``curve`` at that iteration."""
    state = np.zeros(3)

    def step():
        state[...] = state[0] + 1
        return 10.0 - state[0]

    def evaluate():
        return {"eval_rmse": curve[int(state[0]) - 1], "eval_unknown": 0}

    return state, step, evaluate


PAD = {"eval_rmse": np.nan, "eval_unknown": -1}


@pytest.mark.parametrize("rounds", [1, 2, 3])
def test_early_stopping_stops_rounds_after_the_best_and_restores_it(rounds):
    curve = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 3.3, 2.0, 9.0, 9.0, 9.0]
    model = Dummy()
    state, step, evaluate = scripted(curve)
    run_iterations(model, step, len(curve), [state], warm=False, eval_pad=PAD,
                   evaluate=evaluate, early_stopping_rounds=rounds)
    best = 3  # 3.0 at iteration 3 is not beaten within 3 rounds
    assert model.best_iteration_ == best
    assert model.n_iter_ == best + rounds
    assert model.history_["eval_rmse"] == curve[:best + rounds]
    np.testing.assert_array_equal(state, best)  # the state of the best iteration


def test_best_iteration_is_set_when_the_last_iteration_is_the_best():
    curve = [5.0, 4.0, 3.0]
    model = Dummy()
    state, step, evaluate = scripted(curve)
    run_iterations(model, step, 3, [state], warm=False, eval_pad=PAD, evaluate=evaluate,
                   early_stopping_rounds=2)
    assert model.best_iteration_ == model.n_iter_ == 3
    np.testing.assert_array_equal(state, 3)


def test_a_later_minimum_within_the_patience_window_resets_it():
    curve = [5.0, 6.0, 4.0, 4.5, 4.6, 1.0]
    model = Dummy()
    state, step, evaluate = scripted(curve)
    run_iterations(model, step, len(curve), [state], warm=False, eval_pad=PAD,
                   evaluate=evaluate, early_stopping_rounds=3)
    assert model.best_iteration_ == model.n_iter_ == 6


def test_interrupt_keeps_the_last_finished_iteration():
    state = np.zeros(2)
    calls = []

    def step():
        calls.append(1)
        state[...] = len(calls) * 10  # changes the state, then is interrupted on the third
        if len(calls) == 3:
            raise KeyboardInterrupt
        return 1.0

    model = Dummy()
    with pytest.warns(RuntimeWarning, match="after 2 iterations"):
        run_iterations(model, step, 5, [state], warm=False, eval_pad=PAD)
    assert model.n_iter_ == 2 and len(model.history_["train_loss"]) == 2
    np.testing.assert_array_equal(state, 20)


def test_a_non_finite_loss_raises_with_the_hint():
    model = Dummy()
    with pytest.raises(FloatingPointError, match="iteration 1.*Lower the rate"):
        run_iterations(model, lambda: float("nan"), 3, [], warm=False, eval_pad=PAD,
                       divergence_hint="Lower the rate.")

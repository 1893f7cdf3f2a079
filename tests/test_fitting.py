"""The shared iteration loop (fastmf._fitting.run_iterations) on scripted curves.

Early stopping, restoring the best state, tol, Ctrl-C and divergence are properties of the
loop, so they are tested here on curves that are given, not on a fit whose eval curve may or
may not turn up.
"""

import os
import signal

import numpy as np
import pytest

from fastmf._fitting import run_iterations
from fastmf._solvers.base import Solver


class Scripted(Solver):
    """A solver whose state is its iteration count and whose losses are given."""

    def __init__(self, losses=None, interrupt_at=None, presses=1):
        super().__init__(None, {"x_": np.zeros(3)}, {}, None)
        self.losses, self.interrupt_at, self.presses = losses, interrupt_at, presses

    def step(self):
        x = self._state["x_"]
        x[...] = x[0] + 1
        if self.interrupt_at == x[0]:
            for _ in range(self.presses):
                os.kill(os.getpid(), signal.SIGINT)
        return 10.0 - x[0] if self.losses is None else self.losses[int(x[0]) - 1]

    @property
    def iteration(self):
        return int(self._state["x_"][0])


def evaluator(solver, curve):
    return lambda: {"eval_rmse": curve[solver.iteration - 1], "eval_unknown": 0}


PAD = {"eval_rmse": np.nan, "eval_unknown": -1}


@pytest.mark.parametrize("rounds", [1, 2, 3])
def test_early_stopping_stops_rounds_after_the_best_and_restores_it(rounds):
    curve = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 3.3, 2.0, 9.0, 9.0, 9.0]
    solver = Scripted()
    result = run_iterations(solver, len(curve), evaluate=evaluator(solver, curve),
                            eval_pad=PAD, early_stopping_rounds=rounds)
    assert result.best == 3  # 3.0 at iteration 3 is not beaten within 3 rounds
    assert result.n_done == 3 + rounds and result.reason == "early_stopping"
    assert result.history["eval_rmse"] == curve[:3 + rounds]
    np.testing.assert_array_equal(solver.state()["x_"], 3)  # the best iteration's state


def test_maximised_scores_stop_on_the_highest():
    curve = [0.1, 0.3, 0.2, 0.25, 0.1]
    solver = Scripted()
    result = run_iterations(solver, 5, evaluate=lambda: {"eval_ndcg": curve[solver.iteration
                                                                             - 1]},
                            early_stopping_rounds=2, maximize=True)
    assert result.best == 2 and result.n_done == 4


def test_best_is_the_last_iteration_when_it_keeps_improving():
    curve = [5.0, 4.0, 3.0]
    solver = Scripted()
    result = run_iterations(solver, 3, evaluate=evaluator(solver, curve), eval_pad=PAD,
                            early_stopping_rounds=2)
    assert result.best == result.n_done == 3 and result.reason == "n_iter"
    np.testing.assert_array_equal(solver.state()["x_"], 3)


def test_a_later_minimum_within_the_patience_window_resets_it():
    curve = [5.0, 6.0, 4.0, 4.5, 4.6, 1.0]
    solver = Scripted()
    result = run_iterations(solver, len(curve), evaluate=evaluator(solver, curve),
                            eval_pad=PAD, early_stopping_rounds=3)
    assert result.best == result.n_done == 6


def test_tol_stops_when_the_relative_decrease_is_small():
    losses = [100.0, 50.0, 40.0, 39.9, 39.0, 10.0]
    result = run_iterations(Scripted(losses), 6, tol=0.01)
    assert result.n_done == 4 and result.reason == "tol"
    assert run_iterations(Scripted(losses), 6).n_done == 6  # tol=0: all iterations


def test_warm_history_continues_and_keys_stay_aligned():
    solver = Scripted()
    first = run_iterations(solver, 2)
    assert first.history["train_loss"] == [9.0, 8.0]
    second = run_iterations(solver, 2, history=first.history,
                            evaluate=evaluator(solver, [0, 0, 1.5, 1.25]), eval_pad=PAD)
    assert second.history["train_loss"] == [9.0, 8.0, 7.0, 6.0]
    assert np.isnan(second.history["eval_rmse"][:2]).all()
    assert second.history["eval_rmse"][2:] == [1.5, 1.25]
    assert second.history["eval_unknown"] == [-1, -1, 0, 0]
    assert first.history["train_loss"] == [9.0, 8.0]  # not modified


def test_ctrl_c_finishes_the_iteration_then_stops(default_sigint):
    solver = Scripted(interrupt_at=3)
    with pytest.warns(RuntimeWarning, match="after 3 iterations"):
        result = run_iterations(solver, 5)
    assert result.n_done == 3 and result.reason == "interrupted"
    np.testing.assert_array_equal(solver.state()["x_"], 3)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_interrupts_at_once(default_sigint):
    with pytest.raises(KeyboardInterrupt):
        run_iterations(Scripted(interrupt_at=2, presses=2), 5)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_ctrl_c_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = run_iterations(Scripted(interrupt_at=2, presses=2), 4)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.n_done == 4 and result.reason != "interrupted"


def test_a_non_finite_loss_raises_with_the_hint():
    solver = Scripted([1.0, float("nan")])
    solver.divergence_hint = "Lower the rate."
    with pytest.raises(FloatingPointError, match="iteration 2.*Lower the rate"):
        run_iterations(solver, 3)


def test_extra_per_iteration_values_get_their_own_keys():
    class WithExtras(Scripted):
        def step(self):
            return {"train_loss": super().step(), "skipped": self.iteration}

    result = run_iterations(WithExtras(), 3)
    assert result.history["skipped"] == [1, 2, 3]

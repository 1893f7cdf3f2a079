"""Lost workers, restarted clusters and resumed fits give the factors of an undisturbed fit."""

import threading

import numpy as np
import pytest

pytest.importorskip("distributed")

import dask  # noqa: E402

import fastmf  # noqa: E402
from fastmf.dask import DaskImplicitALS, DaskMatrixFactorization, _als  # noqa: E402

from .dask_support import local_cluster, power_law_ratings  # noqa: E402

KW = dict(n_iter=6, reg=0.05, dtype="float64", random_state=0)


def _disturb_at(monkeypatch, cls, call, action):
    """Run ``action()`` before the ``call``-th ``step`` of the solver class ``cls``."""
    step, calls = cls.step, []

    def disturbed(self):
        calls.append(1)
        if len(calls) == call:
            action()
        return step(self)

    monkeypatch.setattr(cls, "step", disturbed)
    return calls


def _guarded(fit, timeout):
    """``fit()`` in a thread; fails the test if it has not returned after ``timeout`` s."""
    out = {}

    def run():
        try:
            out["model"] = fit()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the fit hung (no result after {timeout} s)"
    if "error" in out:
        raise out["error"]
    return out["model"]


def test_a_worker_killed_mid_fit_changes_nothing(monkeypatch):
    data = power_law_ratings(seed=7)
    ref = fastmf.MatrixFactorization(5, cg_steps=None, **KW).fit(data)
    with local_cluster() as client:
        worker = client.cluster.workers[1]
        _disturb_at(monkeypatch, _als.DaskALSSolver, 3,
                    lambda: client.cluster.sync(worker.close))
        model = _guarded(lambda: DaskMatrixFactorization(5, client=client,
                                                         checkpoint_interval=4,
                                                         **KW).fit(data), 120)
        assert len(client.nthreads()) == 1  # the fit went on with the other worker
    np.testing.assert_allclose(model.user_factors_, ref.user_factors_, atol=1e-6)
    np.testing.assert_allclose(model.item_bias_, ref.item_bias_, atol=1e-6)
    np.testing.assert_allclose(model.history_["train_loss"], ref.history_["train_loss"],
                               rtol=1e-9)


def _spilled(dask_worker):
    return dask_worker.data.spilled_total[0]


def test_worker_processes_with_a_memory_limit_and_a_restart(monkeypatch):
    # Numba kernels in worker processes, blocks and factors pickled between them and
    # spilled to disk (a tiny spill target), and a restart of every worker mid-fit: the fit
    # starts again from its last checkpoint, with the factors of a single-node fit
    data = power_law_ratings(800, 400, 12000, seed=8)
    ref = fastmf.ImplicitALS(8, cg_steps=None, **KW).fit(data)
    spilled = []
    with dask.config.set({"distributed.worker.memory.target": 0.0001}):
        with local_cluster(processes=True, memory_limit="1GiB") as client:
            def restart():
                spilled.append(sum(client.run(_spilled).values()))
                client.restart()

            calls = _disturb_at(monkeypatch, _als.DaskImplicitALSSolver, 4, restart)
            model = _guarded(lambda: DaskImplicitALS(8, cg_steps=None, client=client,
                                                     checkpoint_interval=2, **KW).fit(data),
                             300)
    assert len(calls) == KW["n_iter"]
    assert spilled[0] > 0
    np.testing.assert_allclose(model.user_factors_, ref.user_factors_, atol=1e-6)
    np.testing.assert_allclose(model.history_["train_loss"], ref.history_["train_loss"],
                               rtol=1e-9)


def test_a_failed_fit_resumes_from_its_last_checkpoint(monkeypatch, tmp_path):
    data = power_law_ratings(seed=9)
    ref = fastmf.MatrixFactorization(5, cg_steps=None, **KW).fit(data)
    with local_cluster() as client:
        def fail():
            raise RuntimeError("the driver died")

        _disturb_at(monkeypatch, _als.DaskALSSolver, 4, fail)
        first = DaskMatrixFactorization(5, client=client, checkpoint_interval=2,
                                        checkpoint_dir=tmp_path, **KW)
        with pytest.raises(RuntimeError, match="the driver died"):
            first.fit(data)
        assert not hasattr(first, "user_factors_")
        monkeypatch.undo()
        model = DaskMatrixFactorization(5, client=client, checkpoint_interval=2,
                                        checkpoint_dir=tmp_path, resume=True,
                                        **KW).fit(data)
    assert model.n_iter_ == KW["n_iter"]
    np.testing.assert_allclose(model.user_factors_, ref.user_factors_, atol=1e-6)
    np.testing.assert_allclose(model.history_["train_loss"], ref.history_["train_loss"],
                               rtol=1e-9)
    assert np.isnan(model.history_["seconds"][:2]).all()  # iterations of the failed fit
    assert np.isfinite(model.history_["seconds"][2:]).all()


def test_resume_refuses_another_fit(tmp_path):
    data = power_law_ratings(seed=10)
    with local_cluster() as client:
        DaskMatrixFactorization(5, client=client, n_iter=2, checkpoint_interval=1,
                                checkpoint_dir=tmp_path).fit(data)
        with pytest.raises(ValueError, match="checkpoint .* is of a fit with"):
            DaskMatrixFactorization(6, client=client, n_iter=3, checkpoint_dir=tmp_path,
                                    resume=True).fit(data)

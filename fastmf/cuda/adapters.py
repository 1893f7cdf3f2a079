"""The CUDA solvers behind the estimators: ``backend="cuda"`` through the solver registry.

Each class here follows the one solver protocol (:mod:`fastmf._solvers.base`): it is built as
``Solver(data, state, params, rng)`` from what the estimator's CPU solver gets (a
:class:`~fastmf.Ratings`, the fitted attributes to start from, the checked hyper-parameters)
and wraps the device solver of :mod:`fastmf.cuda.solvers`. The data move to the device once,
at construction; ``state()`` copies the factors back to host arrays (the loop calls it once,
at the end, and ``snapshot()`` when early stopping keeps a best iteration). A setting the
device solvers do not implement raises a ValueError naming it and the CPU alternative;
without numba-cuda or a GPU, construction raises :class:`~fastmf.cuda.CudaUnavailableError`.
"""

import numpy as np

from .._solvers.implicit_als import confidence_rows
from .._solvers.mf_als import reg_exponent
from ._device import require_cuda

#: The estimators' state names of the device solvers' arrays.
_NAMES = {"user_factors": "user_factors_", "item_factors": "item_factors_",
          "user_bias": "user_bias_", "item_bias": "item_bias_"}


def _unsupported(what, instead):
    return ValueError(f"{what} is not available with backend='cuda': {instead}")


class _DeviceAdapter:
    """Protocol methods over a device solver ``self._device``; ``self._state`` keeps the
    estimator's non-array state (e.g. ``global_mean_``)."""

    divergence_hint = "Lower learning_rate."

    def __init__(self, data, state, params, rng):
        require_cuda()
        self._state = dict(state)

    def step(self):
        return self._device.step()

    def converged(self):
        return False

    def finish(self):
        return None

    def state(self):
        out = dict(self._state)
        out.update({_NAMES[name]: A for name, A in self._device.state().items()})
        return out

    def snapshot(self):
        return self.state()  # state() copies from the device already

    def restore(self, snapshot):
        for name, device in self._device.device_arrays().items():
            device.copy_to_device(np.ascontiguousarray(snapshot[_NAMES[name]]))


def _mf_arrays(ratings, state):
    """The biased-MF device solvers' shared keywords: data and the starting arrays."""
    H = state["item_factors_"]
    csr = ratings.csr
    return dict(data=(csr.indptr, csr.indices, csr.data.astype(H.dtype)),
                user_factors=state["user_factors_"], item_factors=H,
                user_bias=state.get("user_bias_"), item_bias=state.get("item_bias_"),
                global_mean=float(state.get("global_mean_") or 0.0))


class ImplicitALSAdapter(_DeviceAdapter):
    """``ImplicitALS(backend="cuda")``: :class:`~fastmf.cuda.solvers.ImplicitALSCGSolver`."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        from .solvers import ImplicitALSCGSolver

        if params["cg_steps"] is None:
            raise _unsupported("cg_steps=None (exact Cholesky rows)",
                               "use cg_steps >= 1, or backend='cpu' for exact rows")
        if params["reg_scaling"] != "none":
            raise _unsupported(f"reg_scaling={params['reg_scaling']!r} (per-row L2 weights)",
                               "use reg_scaling='none', or backend='cpu'")
        H = state["item_factors_"]
        self._device = ImplicitALSCGSolver(
            data=confidence_rows(ratings.csr, params, H.dtype),
            user_factors=state["user_factors_"], item_factors=H, reg=params["reg"],
            cg_steps=params["cg_steps"], rng=rng)


class MFALSAdapter(_DeviceAdapter):
    """``MatrixFactorization(solver="als", backend="cuda")``: CG rows on the device
    (:class:`~fastmf.cuda.solvers.ALSCGSolver`), the ``final_exact`` user sweep on the host."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        from .solvers import ALSCGSolver

        if params["cg_steps"] is None:
            raise _unsupported("cg_steps=None (exact Cholesky rows)",
                               "use cg_steps >= 1, or backend='cpu' for exact rows")
        self._device = ALSCGSolver(**_mf_arrays(ratings, state), reg=params["reg"],
                                   reg_bias=params["reg_bias"],
                                   reg_exponent=reg_exponent(params),
                                   cg_steps=params["cg_steps"], rng=rng)
        self._ratings, self._params = ratings, params

    def finish(self):
        """``final_exact``: the exact user sweep on the host (the CPU solver's), its result
        put back on the device; returns the objective after it (else None)."""
        from .._solvers.mf_als import ALSSolver

        if not self._params.get("final_exact"):
            return None
        host = ALSSolver(self._ratings, self.state(), self._params, None)
        loss = host.finish()
        self.restore(host.state())
        return loss


class MFSGDAdapter(_DeviceAdapter):
    """``MatrixFactorization(solver="sgd", backend="cuda")``: Hogwild SGD on the device
    (:class:`~fastmf.cuda.solvers.SGDSolver`; constant or inverse-decay steps)."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        from .solvers import SGDSolver

        if params["momentum"] > 0 or params["batch_size"] > 1:
            raise _unsupported("mini-batch SGD (batch_size > 1 or momentum > 0)",
                               "use batch_size=1 and momentum=0, or backend='cpu'")
        if reg_exponent(params) != 1:
            raise _unsupported(f"reg_scaling={params['reg_scaling']!r} with reg_exponent="
                               f"{params['reg_exponent']!r} (per-row L2 weights)",
                               "use reg_scaling='count' and reg_exponent=1, or backend='cpu'")
        self._device = SGDSolver(**_mf_arrays(ratings, state),
                                 learning_rate=params["learning_rate"], reg=params["reg"],
                                 reg_bias=params["reg_bias"],
                                 lr_schedule=params["lr_schedule"],
                                 lr_decay=params["lr_decay"], epoch=params["first_iter"],
                                 rng=rng)


class BPRAdapter(_DeviceAdapter):
    """``BPR(backend="cuda")``: :class:`~fastmf.cuda.solvers.BPRSolver`. ``train_loss`` is
    the device's estimate of the mean ``-ln sigma(x_uij)`` per triple (the CPU solver records
    the sum with the L2 terms); ``skipped`` as on the CPU."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        from .._solvers.bpr import positives
        from .solvers import BPRSolver

        if params.get("loss", "bpr") != "bpr":
            raise _unsupported(f"loss={params['loss']!r}", "WARP runs on backend='cpu'")
        indptr, indices, _, _ = positives(ratings.csr, False)
        self._device = BPRSolver(
            data=(indptr, indices), user_factors=state["user_factors_"],
            item_factors=state["item_factors_"], item_bias=state["item_bias_"],
            learning_rate=params["learning_rate"], reg=2.0 * params["reg"],
            verify_negative=params["verify_negative"], negatives=params["negatives"], rng=rng)

    def step(self):
        loss = self._device.step()
        return {"train_loss": loss, "skipped": self._device.skipped}

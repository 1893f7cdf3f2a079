"""AutoRec's solvers: full-batch L-BFGS, and minibatch Adam / SGD with momentum.

The fitted state (see :class:`fastmf.AutoRec`) names the decoder by the side it decodes: for
I-AutoRec (``kind="item"``, rows = items) ``user_factors_`` is the decoder ``W`` and
``user_bias_`` its bias, the encoder ``encoder_weights_`` (n_users, h) and
``encoder_bias_``; the codes of the rows, ``item_factors_``, are computed from them by
:meth:`state`. ``kind="user"`` swaps the sides.
"""

import numpy as np

from .._kernels.autorec import autorec_encode, autorec_epoch, autorec_loss_grad, param_views
from .._kernels.nn import ACTIVATIONS, ADAM, SGD
from .base import Solver
from .lbfgs import LBFGS

DIVERGENCE_HINT = ("Lower learning_rate (or raise reg, or use solver='lbfgs'); minibatch steps "
                   "that are too large blow up.")


def sides(kind):
    """(decoded side, encoded side): ``("user", "item")`` for I-AutoRec."""
    return ("user", "item") if kind == "item" else ("item", "user")


def rows_matrix(ratings, kind, dtype):
    """The encoded vectors as CSR arrays ``(indptr, indices, data)``: items x users for
    I-AutoRec (the CSC of the ratings), users x items for U-AutoRec."""
    X = ratings.csc if kind == "item" else ratings.csr
    return X.indptr, X.indices, X.data.astype(dtype)


def encode(X, V, mu, code):
    """Codes of every row of the CSR arrays ``X``: the fitted factors of the encoded side."""
    n_rows = len(X[0]) - 1
    out = np.empty((n_rows, V.shape[1]), V.dtype)
    autorec_encode(*X, np.arange(n_rows), V, mu, code, out)
    return out


class _AutoRecSolver(Solver):
    """What both solvers share: the names, the data and ``state()`` with the codes."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        self.dec, self.enc = sides(params["kind"])
        s = self._state
        self.dtype = s["encoder_weights_"].dtype
        self.X = rows_matrix(ratings, params["kind"], self.dtype)
        self.code = ACTIVATIONS[params["activation"]]
        self.reg = params["reg"]

    def params(self):
        """``(V, mu, W, b)``: the arrays of the fitted state the kernels update."""
        s = self._state
        return (s["encoder_weights_"], s["encoder_bias_"], s[f"{self.dec}_factors_"],
                s[f"{self.dec}_bias_"])

    def penalty(self):
        V, _, W, _ = self.params()
        return self.reg * float(np.einsum("ij,ij->", V, V, dtype=np.float64)
                                + np.einsum("ij,ij->", W, W, dtype=np.float64))

    def state(self):
        V, mu, _, _ = self.params()
        return {**self._state, f"{self.enc}_factors_": encode(self.X, V, mu, self.code)}


class LBFGSSolver(_AutoRecSolver):
    """One ``step()`` = one iteration of L-BFGS (:class:`~fastmf._solvers.lbfgs.LBFGS`,
    curvature memory 10) on the full objective, over one flat vector of the weights in the
    model's dtype; each trial point of its line search is one call of the Numba loss and
    gradient. ``step()`` returns ``2 J`` = the squared error plus ``reg`` times the squared
    weights (the estimator's convention; the kernel's ``J`` halves it). When the line search
    finds no decrease the model is unchanged and ``converged()`` becomes True.
    """

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        n_cols, h = self._state["encoder_weights_"].shape
        X, code, reg = self.X, self.code, self.reg

        def fun(theta, grad):
            return autorec_loss_grad(*X, param_views(theta, n_cols, h),
                                     param_views(grad, n_cols, h), code, reg)

        x0 = np.concatenate([p.ravel() for p in self.params()])
        self.shape = (n_cols, h)
        self.optimizer = LBFGS(fun, x0)
        self.stopped = False

    def step(self):
        opt = self.optimizer
        if not opt.next():
            self.stopped = True
        for dst, src in zip(self.params(), param_views(opt.x, *self.shape), strict=True):
            dst[...] = src
        return 2.0 * opt.f

    def converged(self):
        return self.stopped


class MinibatchSolver(_AutoRecSolver):
    """One ``step()`` = one epoch of minibatch Adam or SGD (with momentum) over the rows.

    Epoch ``e``'s row order is drawn from ``(shuffle_seed_, e)``, and the optimiser's moments
    (``optimizer_state_``, one row per state of the flat parameter vector) and step count
    (``optimizer_steps_``) are part of the fitted state, so a warm start continues exactly
    (5 + 5 epochs equal 10). ``step()`` returns the squared errors (each measured before its
    batch's step) plus ``reg`` times the squared weights at the end of the epoch. An epoch
    whose loss is not finite is undone (``rolls_back``): the model is left as before it.
    """

    divergence_hint = DIVERGENCE_HINT
    rolls_back = True

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        s = self._state
        if s.get("shuffle_seed_") is None:
            s["shuffle_seed_"] = int(rng.integers(2**31 - 1))
        V = s["encoder_weights_"]
        n_cols, h = V.shape
        n_params = 2 * n_cols * h + h + n_cols
        solver, momentum = params["solver"], params["momentum"]
        n_states = 2 if solver == "adam" else int(momentum > 0)
        current = s.get("optimizer_state_")
        if current is None or current.shape != (n_states, n_params):
            s["optimizer_state_"] = np.zeros((n_states, n_params), self.dtype)
            s["optimizer_steps_"] = 0
        self.opt = ((ADAM, params["learning_rate"], 0.9, 0.999, 1e-8) if solver == "adam"
                    else (SGD, params["learning_rate"], momentum, 0.0, 0.0))
        self.batch_size = params["batch_size"]
        self.epoch = params["first_iter"]
        self.shape = (n_cols, h)

    def _opt_state(self):
        S = self._state["optimizer_state_"]
        empty = param_views(np.zeros(0, self.dtype), 0, 0)
        rows = [param_views(S[j], *self.shape) if j < len(S) else empty for j in range(2)]
        return tuple(rows)

    def step(self):
        s = self._state
        n_rows = len(self.X[0]) - 1
        order = np.random.default_rng([s["shuffle_seed_"], self.epoch]).permutation(n_rows)
        before = {k: v.copy() for k, v in s.items() if isinstance(v, np.ndarray)}
        t0 = s["optimizer_steps_"]
        sse = autorec_epoch(*self.X, order, self.params(), self._opt_state(), self.opt,
                            self.code, self.reg, (self.batch_size, t0))
        loss = sse + self.penalty()
        if not np.isfinite(loss):
            self.restore(before)
            return loss
        s["optimizer_steps_"] = t0 + -(-n_rows // self.batch_size)
        self.epoch += 1
        return loss

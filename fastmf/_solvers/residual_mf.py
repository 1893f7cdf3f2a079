"""ResidualMF's solver: minibatch SGD with momentum or Adam over a permutation of the ratings."""

import numpy as np

from .._kernels.nn import ADAM, SGD
from .._kernels.residual_mf import residual_mf_epoch
from .base import Solver
from .mf_sgd import l2_penalty

DIVERGENCE_HINT = "Lower learning_rate (or momentum); minibatch steps that are too large blow up."

#: The trained arrays, in the kernel's order, and the optimiser state of each.
PARAMS = ("user_factors_", "item_factors_", "user_bias_", "item_bias_", "mlp_weights_")
STATES = tuple(f"opt_{name}" for name in PARAMS)


def network(params):
    """``(sizes, codes)`` of the MLP: ``2 k`` inputs, the hidden layers, one linear output."""
    from .._kernels.nn import ACTIVATIONS, IDENTITY

    hidden = tuple(params["hidden_layers"])
    sizes = np.array((2 * params["n_factors"], *hidden, 1), np.int64)
    codes = np.array((ACTIVATIONS[params["activation"]],) * len(hidden) + (IDENTITY,),
                     np.int64)
    return sizes, codes


class ResidualMFSolver(Solver):
    """One ``step()`` = one epoch over the ratings in minibatches (see
    :mod:`fastmf._kernels.residual_mf`).

    Epoch ``e``'s order is drawn from ``(shuffle_seed_, e)``; the optimiser's moments
    (``opt_user_factors_`` ... ``opt_mlp_weights_``, one leading row per state) and its step
    count are part of the fitted state, so a warm start continues exactly (5 + 5 epochs equal
    10). ``step()`` returns the squared errors (each measured before its batch's step) plus
    the L2 terms at the end of the epoch: ``reg`` and ``reg_bias`` per rating on the user's and
    the item's rows, ``reg_mlp`` once per rating on the MLP weights. An epoch whose loss is not
    finite is undone (``rolls_back``).
    """

    divergence_hint = DIVERGENCE_HINT
    rolls_back = True

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        s = self._state
        dt = s["user_factors_"].dtype
        if s.get("shuffle_seed_") is None:
            s["shuffle_seed_"] = int(rng.integers(2**31 - 1))
        mu = s["global_mean_"]
        self.data = (ratings.users.astype(np.int32), ratings.items.astype(np.int32),
                     (ratings.values - mu).astype(dt))
        m, n = ratings.shape
        self.counts_u = np.bincount(ratings.users, minlength=m).astype(np.float64)
        self.counts_i = np.bincount(ratings.items, minlength=n).astype(np.float64)
        self.net = network(params)
        adam = params["solver"] == "adam"
        n_states = 2 if adam else int(params["momentum"] > 0)
        for name, opt in zip(PARAMS, STATES, strict=True):
            shape = (n_states,) + s[name].shape
            if s.get(opt) is None or s[opt].shape != shape:
                s[opt] = np.zeros(shape, dt)
                s["optimizer_steps_"] = 0
        self.opt = ((ADAM, params["learning_rate"], 0.9, 0.999, 1e-8) if adam
                    else (SGD, params["learning_rate"], params["momentum"], 0.0, 0.0))
        self.reg = (params["reg"], params["reg_bias"], params["reg_mlp"])
        self.batch_size = params["batch_size"]
        self.epoch = params["first_iter"]

    def _opt_state(self):
        s = self._state
        pairs = []
        for j in range(2):
            pairs.append(tuple(s[opt][j] if j < len(s[opt]) else
                               np.zeros((0,) + s[name].shape[1:], s[name].dtype)
                               for name, opt in zip(PARAMS, STATES, strict=True)))
        return tuple(pairs)

    def step(self):
        s = self._state
        order = np.random.default_rng([s["shuffle_seed_"], self.epoch]).permutation(
            len(self.data[0]))
        before = {k: v.copy() for k, v in s.items() if isinstance(v, np.ndarray)}
        t0 = s["optimizer_steps_"]
        params = tuple(s[name] for name in PARAMS)
        sse = residual_mf_epoch(order, self.data, params, self._opt_state(), self.net,
                                self.opt, self.reg, (self.batch_size, t0))
        P, Q, bu, bi, theta = params
        reg, reg_bias, reg_mlp = self.reg
        loss = sse + l2_penalty(reg, reg_bias, self.counts_u, self.counts_i, P, Q, bu, bi) + \
            reg_mlp * len(order) * float(theta @ theta)
        if not np.isfinite(loss):
            self.restore(before)
            return loss
        s["optimizer_steps_"] = t0 + -(-len(order) // self.batch_size)
        self.epoch += 1
        return loss

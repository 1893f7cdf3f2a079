r"""Bayesian matrix factorization by Gibbs sampling (``MatrixFactorization(solver="mcmc")``).

Biased MF is the factorization machine of a one-hot user and a one-hot item column: w0 is
:math:`\mu`, the linear weights are the biases and the pairwise factors are the user and item
factors. So the sampler is the FM one (:class:`fastmf._solvers.fm.MCMCSolver`, the Cython
coordinate-wise Gibbs sweep with Normal-Gamma hyper-priors per side), run on that design.

Predictions are posterior means: after burn-in, sample s contributes
:math:`\mu_s + b_{u,s} + c_{i,s} + w_{u,s}^\top h_{i,s}` with weight 1/S. The model keeps the
S kept samples side by side, ``user_factors_ = [W_1 ... W_S] / sqrt(S)`` and likewise for the
items, so that ``user_factors_ @ item_factors_.T`` is exactly the posterior mean of
:math:`W H^\top` and everything ``FactorModel`` does (predict, recommend, fold-in) uses it.

Memory: the samples live in one buffer of shape (n_users + n_items, n_keep * k), allocated
once; the model's factors are views of its first S * k columns. A new sample rescales the
columns kept so far in place (by sqrt((S - 1) / S)) and is written after them, so no sweep
copies the samples (the buffer is the model). The biases and :math:`\mu` are running sums.
"""

import numpy as np

from .._config import resolve_n_threads
from ..fm_features import FMEncoder
from .base import Solver
from .fm import FMData, MCMCSolver, csc_arrays


class BayesianMFSolver(Solver):
    """One Gibbs sweep per ``step``; ``state()`` is the running posterior mean (see the module
    docstring), the current sample during burn-in. ``params`` holds ``burn_in``, ``thin`` and
    ``n_threads``; ``data`` is the training Ratings."""

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        self.burn_in, self.thin = params["burn_in"], params["thin"]
        self.n_keep = (params["n_iter"] - self.burn_in) // self.thin
        dt = state["item_factors_"].dtype
        enc = FMEncoder().fit(ratings)
        X = enc.transform(ratings).astype(dt)
        data = FMData(X, ratings.values, enc.groups_, 2, resolve_n_threads(params["n_threads"]),
                      csc=csc_arrays(X))
        self.m, self.n = ratings.shape
        fm_state = {"intercept_": np.array([float(state["global_mean_"])]),
                    "coef_": np.concatenate([state["user_bias_"], state["item_bias_"]]).astype(dt),
                    "factors_": np.vstack([state["user_factors_"], state["item_factors_"]])}
        self.sampler = MCMCSolver(data, fm_state, dict(burn_in=self.burn_in, thin=1, n_keep=0,
                                                       classifier=False), rng)
        self.w0, self.w, self.V = self.sampler.w0, self.sampler.w, self.sampler.V
        self.k = self.V.shape[1]
        # pages are touched as samples arrive: memory grows with the samples kept so far
        self.kept = np.zeros((self.m + self.n, self.n_keep * self.k), dtype=dt)
        self.sum_w0, self.sum_w, self.n_kept = 0.0, np.zeros(len(self.w)), 0
        self._set(self.V.copy(), self.w.copy(), float(self.w0[0]))

    def step(self):
        out = self.sampler.step()
        after = self.sampler.sweeps - self.burn_in
        if after > 0 and after % self.thin == 0 and self.n_kept < self.n_keep:
            self._keep()
        elif self.n_kept == 0:  # burn-in: the model is the current sample
            self._set(self.V.copy(), self.w.copy(), float(self.w0[0]))
        return out  # between kept samples the model stays the posterior mean so far

    def _keep(self):
        """Add the current sample to the posterior mean."""
        self.n_kept += 1
        S, k, dt = self.n_kept, self.k, self.kept.dtype
        # [W_1 .. W_{S-1}] / sqrt(S - 1) -> / sqrt(S), in place, then W_S / sqrt(S)
        self.kept[:, :(S - 1) * k] *= np.asarray(np.sqrt((S - 1) / S), dtype=dt)
        np.multiply(self.V, np.asarray(1 / np.sqrt(S), dtype=dt),
                    out=self.kept[:, (S - 1) * k:S * k])
        self.sum_w0 += float(self.w0[0])
        self.sum_w += self.w
        self._set(self.kept[:, :S * k], (self.sum_w / S).astype(dt), self.sum_w0 / S)

    def _set(self, both, w, w0):
        m = self.m
        self._state = {"user_factors_": both[:m], "item_factors_": both[m:],
                       "user_bias_": w[:m], "item_bias_": w[m:], "global_mean_": w0}

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
from .._validation import check_int_param
from ..fm_features import FMEncoder
from .fm import FMData, MCMCSolver


class BayesianMFSolver:
    """One Gibbs sweep per ``step``; keeps the running posterior mean in the model."""

    extra_state = ()

    def __init__(self, model, ratings, rng):
        if not model.fit_biases:
            raise ValueError("solver='mcmc' samples the biases too: fit_biases must be True")
        if model.early_stopping_rounds is not None:
            raise ValueError("early_stopping_rounds is not used with solver='mcmc' (the "
                             "posterior mean only improves with more samples)")
        self.burn_in = model.n_iter // 5 if model.burn_in is None else model.burn_in
        self.thin = check_int_param(model.thin, "thin", low=1)
        after = model.n_iter - self.burn_in
        n_keep = after // self.thin
        if n_keep == 0:
            raise ValueError(f"thin={self.thin} keeps no sample of the {after} after burn-in: "
                             "lower thin or raise n_iter")
        self.model = model
        dt = model.item_factors_.dtype
        enc = FMEncoder().fit(ratings)
        X = enc.transform(ratings).astype(dt)
        data = FMData(X, ratings.values, enc.groups_, 2, resolve_n_threads(model.n_threads))
        self.m, self.n = ratings.shape
        self.w0 = np.array([float(model.global_mean_)])
        self.w = np.concatenate([model.user_bias_, model.item_bias_]).astype(dt)
        self.V = np.vstack([model.user_factors_, model.item_factors_]).astype(dt)
        self.sampler = MCMCSolver(data, self.w0, self.w, self.V, rng, burn_in=self.burn_in,
                                  n_keep=0, probit=False)
        self.k, self.n_keep = self.V.shape[1], n_keep
        # pages are touched as samples arrive: memory grows with the samples kept so far
        self.kept = np.zeros((self.m + self.n, n_keep * self.k), dtype=dt)
        self.sum_w0, self.sum_w, self.n_kept = 0.0, np.zeros(len(self.w)), 0

    def step(self):
        loss = self.sampler.step()
        after = self.sampler.sweeps - self.burn_in
        if after > 0 and after % self.thin == 0 and self.n_kept < self.n_keep:
            self._keep()
        elif self.n_kept == 0:  # burn-in: the model is the current sample
            self._set_model(self.V.copy(), self.w.copy(), float(self.w0[0]))
        return loss  # between kept samples the model stays the posterior mean so far

    def _keep(self):
        """Add the current sample to the posterior mean held by the model."""
        self.n_kept += 1
        S, k, dt = self.n_kept, self.k, self.kept.dtype
        # [W_1 .. W_{S-1}] / sqrt(S - 1) -> / sqrt(S), in place, then W_S / sqrt(S)
        self.kept[:, :(S - 1) * k] *= np.asarray(np.sqrt((S - 1) / S), dtype=dt)
        np.multiply(self.V, np.asarray(1 / np.sqrt(S), dtype=dt),
                    out=self.kept[:, (S - 1) * k:S * k])
        self.sum_w0 += float(self.w0[0])
        self.sum_w += self.w
        self._set_model(self.kept[:, :S * k], (self.sum_w / S).astype(dt), self.sum_w0 / S)

    def _set_model(self, both, w, w0):
        m, model = self.m, self.model
        model.user_factors_, model.item_factors_ = both[:m], both[m:]
        model.user_bias_, model.item_bias_ = w[:m], w[m:]
        model.global_mean_ = w0

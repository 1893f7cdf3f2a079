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
"""

import numpy as np

from .._config import resolve_n_threads
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
        k, n_keep = self.V.shape[1], model.n_iter - self.burn_in
        self.k = k
        self.samples = np.zeros((self.m + self.n, n_keep * k), dtype=dt)
        self.sum_w0, self.sum_w, self.n_kept = 0.0, np.zeros(len(self.w)), 0

    def step(self):
        loss = self.sampler.step()
        m, k, model = self.m, self.k, self.model
        if self.sampler.sweeps > self.burn_in and \
                (self.n_kept + 1) * k <= self.samples.shape[1]:
            s = self.n_kept
            self.samples[:, s * k:(s + 1) * k] = self.V
            self.sum_w0 += float(self.w0[0])
            self.sum_w += self.w
            self.n_kept += 1
            S = self.n_kept
            both = self.samples[:, :S * k] * np.asarray(1 / np.sqrt(S), dtype=self.V.dtype)
            w = (self.sum_w / S).astype(self.V.dtype)
            model.global_mean_ = self.sum_w0 / S
        else:
            both, w = self.V.copy(), self.w.copy()
            model.global_mean_ = float(self.w0[0])
        model.user_factors_, model.item_factors_ = both[:m], both[m:]
        model.user_bias_, model.item_bias_ = w[:m], w[m:]
        return loss

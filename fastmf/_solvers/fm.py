"""Factorization-machine solvers: SGD epochs, coordinate descent (ALS) and Gibbs sampling (MCMC).

Each solver (the protocol of :mod:`fastmf._solvers.base`) holds a :class:`FMData` (the
canonical CSR and CSC arrays of the design matrix, the targets, the feature groups and the
blocks of mutually exclusive features) and the parameter arrays ``w0`` (shape (1,), float64),
``w`` (d,) and ``V`` (d, r), which it updates in place in ``step()`` through the Cython
kernels of :mod:`fastmf._ext.fm`.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import log_ndtr, ndtri_exp

from .._ext.fm import fm_cd_sweep, fm_predict, fm_residuals, fm_sgd_epoch
from .._kernels.fm_blocks import exclusive_runs
from .base import Solver

# Hyper-priors of the MCMC sampler (libFM's and myFM's defaults): alpha ~ Gamma(1, 1),
# lambda ~ Gamma(1, 1), mu ~ N(0, 1 / (gamma0 lambda)), w0 ~ N(0, 1 / LAMBDA_W0).
ALPHA_0 = BETA_0 = 1.0
GAMMA_0 = 1.0
LAMBDA_W0 = 1.0
# The ALS and MCMC sweeps keep the residuals and factor sums exact as they go; every REFRESH
# sweeps they are recomputed from scratch so that rounding cannot accumulate.
REFRESH = 10


class FMData:
    """A validated CSR design matrix prepared for the kernels.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n, d), canonical, data of the model's dtype
    target : ndarray of float64, shape (n,)
        Regression targets, or labels in {-1, +1}.
    groups : ndarray of int32, shape (d,)
        Group of each feature, in ``[0, n_groups)``.
    n_groups : int
    n_threads : int
    csc : tuple or None
        The CSC arrays of ``X`` (:func:`csc_arrays`), which ALS and MCMC need; with them the
        exclusive blocks are built too. None for SGD.
    """

    def __init__(self, X, target, groups, n_groups, n_threads, csc=None):
        self.n, self.d = X.shape
        self.csr = csr_arrays(X)
        self.target = np.ascontiguousarray(target, dtype=np.float64)
        self.groups = groups
        self.n_groups = n_groups
        self.n_threads = n_threads
        if csc is not None:
            self.csc = csc
            self.order, self.block_ptr, self.block_parallel = exclusive_blocks(
                self.csc[0], self.csc[1], self.n, groups)
            self.indicator = sp.csr_matrix(
                (np.ones(self.d), groups, np.arange(self.d + 1)), shape=(self.d, n_groups)).T


def csr_arrays(X):
    """(indptr int64, indices int32, data) of a canonical CSR matrix."""
    return (np.ascontiguousarray(X.indptr, dtype=np.int64),
            np.ascontiguousarray(X.indices, dtype=np.int32), X.data)


def csc_arrays(X):
    """(indptr int64, indices int32, data) of the CSC form of a CSR matrix, rows sorted."""
    csc = X.tocsc()
    csc.sort_indices()
    return (csc.indptr.astype(np.int64), np.ascontiguousarray(csc.indices, dtype=np.int32),
            csc.data)


def field_groups(csc, n_rows):
    """The groups of ``groups="auto"``: the one-hot fields of a design, when it has them.

    The features, in column order, are cut into maximal runs of columns that share no row
    (:func:`~fastmf._kernels.fm_blocks.exclusive_runs` with one group): each row has at most
    one entry in a run. The runs are the groups when there are at least two, each has an
    entry in at least half of the rows, and one has two columns or more: one-hot categorical
    variables (the user and item blocks of an MF design, the fields of a click log) and
    numeric columns present in most rows. Otherwise one group: a multi-hot block (SVD++'s
    implicit part, tags) splits into many runs that each touch few rows, and a dense
    numeric design into single columns, neither of which are variables.

    Parameters
    ----------
    csc : tuple
        The design's :func:`csc_arrays`.
    n_rows : int

    Returns
    -------
    ndarray of int32, shape (d,)
    """
    indptr, indices = csc[0], csc[1]
    d = len(indptr) - 1
    groups = np.zeros(d, dtype=np.int32)
    if d == 0 or indptr[-1] == 0:
        return groups
    starts = np.empty(d + 1, np.int64)
    n_runs = exclusive_runs(indptr, indices, np.arange(d, dtype=np.int32), groups, n_rows,
                            starts)
    starts = starts[:n_runs]
    entries = np.add.reduceat(np.diff(indptr), starts)
    widths = np.diff(np.append(starts, d))
    if n_runs >= 2 and entries.min() >= n_rows / 2 and widths.max() >= 2:
        groups[starts[1:]] = 1
        groups = np.cumsum(groups, dtype=np.int32)
    return groups


def exclusive_blocks(csc_indptr, csc_indices, n_rows, groups):
    """Features ordered by group, the pointers of their exclusive runs, and whether each run is
    worth updating in parallel (two features or more).

    A run (:func:`~fastmf._kernels.fm_blocks.exclusive_runs`) is a stretch of one group's
    features of which no row has two stored entries (a one-hot categorical variable): the
    coordinate-descent and Gibbs kernels update its features in parallel, with the same result
    as in sequence. Splitting groups into runs finds that parallelism also when one prior
    group holds several variables (e.g. the default single group of an MF design).

    Within a run the features are then ordered by decreasing number of entries (stable):
    the order inside a run does not change the sweep, and the kernels' threads, taking one
    feature at a time, stay balanced when a few levels hold most rows (a field of three
    levels, the top of a Zipf curve).
    """
    d = len(groups)
    order = np.argsort(groups, kind="stable").astype(np.int32)
    starts = np.empty(d + 1, np.int64)
    n_runs = exclusive_runs(csc_indptr, csc_indices, order, groups, n_rows, starts)
    block_ptr = np.append(starts[:n_runs], d).astype(np.int64)
    widths = np.diff(block_ptr)
    run = np.repeat(np.arange(n_runs), widths)
    order = order[np.lexsort((-np.diff(csc_indptr)[order], run))]
    return order, block_ptr, (widths >= 2).astype(np.uint8)


def predict(X_arrays, w0, w, V, n_threads):
    """FM predictions (float64) of the rows of a CSR matrix given as :func:`csr_arrays`."""
    indptr = X_arrays[0]
    out = np.empty(len(indptr) - 1, dtype=np.float64)
    fm_predict(X_arrays, (np.full(1, float(w0)), w, V), out, n_threads)
    return out


def residuals(X_arrays, w0, w, V, target, n_threads):
    """(e, q) of the rows of a CSR matrix given as :func:`csr_arrays`: the residuals
    ``y(x_i) - target_i`` and the per-factor sums ``q[i, f] = sum_j V[j, f] x_ij``
    (float64), as the ALS and MCMC sweeps keep them."""
    n = len(X_arrays[0]) - 1
    e, q = np.empty(n), np.empty((n, V.shape[1]))
    fm_residuals(tuple(X_arrays), (np.full(1, float(w0)), w, V), target, (e, q), n_threads)
    return e, q


def _per_group(value, n_groups):
    value = np.asarray(value, dtype=np.float64)
    return np.full(n_groups, float(value)) if value.ndim == 0 else np.ascontiguousarray(value)


class FMSolver(Solver):
    """Shared by the FM solvers: the parameters are ``state["intercept_"]`` (an array of one
    float64, updated in place by the kernels), ``state["coef_"]`` (d,) and
    ``state["factors_"]`` (d, r); ``data`` is an :class:`FMData`.

    Hyper-parameters follow fastmf's one convention: the objective is the data term (squared
    errors, or negative log-likelihoods for classification) plus ``reg * ||theta||^2``. The
    kernels step on ``1/2`` of the squared error, so regression passes ``reg`` and the
    likelihood losses pass ``2 reg`` (:func:`kernel_regs`).
    """

    divergence_hint = "Lower learning_rate or raise the regularisation."

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        self.data, self.params, self.rng = data, params, rng
        s = self._state
        self.w0, self.w, self.V = s["intercept_"], s["coef_"], s["factors_"]

    def state(self):
        return {"intercept_": float(self.w0[0]), "coef_": self.w, "factors_": self.V,
                "intercept_samples_": None, "coef_samples_": None, "factors_samples_": None}

    def snapshot(self):
        return (self.w0.copy(), self.w.copy(), self.V.copy())

    def restore(self, snapshot):
        for a, b in zip((self.w0, self.w, self.V), snapshot, strict=True):
            a[...] = b


def kernel_regs(params, n_groups):
    """(reg_w0, reg_w per group, reg_v per group) as the kernels take them (see FMSolver)."""
    scale = 2.0 if params["classifier"] else 1.0
    return (scale * params["reg_w0"], scale * _per_group(params["reg_w"], n_groups),
            scale * _per_group(params["reg_v"], n_groups))


class SGDSolver(FMSolver):
    """Plain SGD epochs in a fresh random row order each epoch (Hogwild over rows).

    ``train_loss`` is the summed loss of the samples as they were visited plus the L2 terms
    at the end of the epoch (per feature, once per row it appears in: as SGD applies them).
    """

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        self.reg_w0, self.reg_w, self.reg_v = kernel_regs(params, data.n_groups)
        self.counts = np.bincount(data.csr[1], minlength=data.d).astype(np.float64)
        self.epoch = params["first_iter"]

    def step(self):
        d, p = self.data, self.params
        order = self.rng.permutation(d.n).astype(np.int64)
        lr = p["learning_rate"] / (1.0 + p["lr_decay"] * self.epoch)
        total = fm_sgd_epoch(d.csr, d.target, order, (self.w0, self.w, self.V), d.groups,
                             (self.reg_w0, self.reg_w, self.reg_v), (lr, True, p["classifier"]),
                             d.n_threads)
        self.epoch += 1
        # the kernel's loss: 1/2 e^2 (regression) or the log-loss; the objective: e^2 or it
        data_term = total if p["classifier"] else 2.0 * total
        g = d.groups
        rw, rv = _per_group(p["reg_w"], d.n_groups)[g], _per_group(p["reg_v"], d.n_groups)[g]
        penalty = (p["reg_w0"] * d.n * float(self.w0[0]) ** 2
                   + float(self.counts @ (rw * np.square(self.w, dtype=np.float64)))
                   + float(self.counts @ (rv * np.einsum("ij,ij->i", self.V, self.V,
                                                          dtype=np.float64))))
        return data_term + penalty


class CDSolver(FMSolver):
    """libFM's ALS: exact coordinate minimisation of the penalised squared error.

    Regression objective: ``sum_i (y_i - y(x_i))^2 + reg_w0 w0^2 + sum_j reg_w[g_j] w_j^2 +
    sum_jf reg_v[g_j] V_jf^2``, which never increases. For classification
    (``params["classifier"]``) each step is one EM iteration of probit regression: the targets
    become the expected latent variables E[z_i | y_i, y(x_i)] and one sweep fits them; the
    objective is then the penalised probit negative log-likelihoods
    ``-sum_i log Phi(t_i y(x_i)) + penalty``, which never increases either.
    """

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        G, r = data.n_groups, self.V.shape[1]
        self.probit = params["classifier"]
        self.reg_w0, reg_w, reg_v = kernel_regs(params, G)
        self.reg_w = reg_w
        self.reg_v = np.ascontiguousarray(np.repeat(reg_v[:, None], r, axis=1))
        self.mu_w, self.mu_v = np.zeros(G), np.zeros((G, r))
        self.e = np.empty(data.n)
        self.q = np.empty((data.n, r))
        self.target = data.target.copy()
        self.sweeps = 0

    def _residuals(self, target):
        d = self.data
        fm_residuals(d.csr, (self.w0, self.w, self.V), target, (self.e, self.q), d.n_threads)

    def step(self):
        d = self.data
        if self.sweeps % REFRESH == 0:
            self._residuals(self.target)
        if self.probit:
            pred = self.e + self.target
            self.target = pred + probit_mean_shift(pred, d.target)
            self.e = pred - self.target
        self.sweeps += 1
        fm_cd_sweep(d.csc, (self.e, self.q), (self.w0, self.w, self.V), d.groups,
                    (d.order, d.block_ptr, d.block_parallel),
                    (1.0, self.reg_w0, 0.0, self.reg_w, self.mu_w, self.reg_v, self.mu_v),
                    (True, False, 0), d.n_threads)
        return self.objective()

    def penalty(self):
        """The L2 terms with the kernel's weights (2 reg for the probit: see FMSolver)."""
        g = self.data.groups
        return (self.reg_w0 * float(self.w0[0]) ** 2
                + float(self.reg_w[g] @ np.square(self.w, dtype=np.float64))
                + float(self.reg_v[g, 0] @ np.einsum("ij,ij->i", self.V, self.V,
                                                      dtype=np.float64)))

    def objective(self):
        if not self.probit:
            return float(self.e @ self.e) + self.penalty()
        pred = self.e + self.target
        return -float(np.sum(log_ndtr(self.data.target * pred))) + 0.5 * self.penalty()


def probit_mean_shift(pred, labels):
    """E[z] - pred for z ~ N(pred, 1) truncated to the side of ``labels`` (+1: z > 0)."""
    m = labels * pred
    return labels * np.exp(-0.5 * m * m - 0.5 * np.log(2 * np.pi) - log_ndtr(m))


def sample_probit_latent(pred, labels, rng):
    """Draw z ~ N(pred, 1) truncated to z > 0 where labels = +1 and z < 0 where -1."""
    u = rng.random(len(pred))
    log_u = np.log(np.maximum(u, 1e-300))
    return pred - labels * ndtri_exp(log_u + log_ndtr(labels * pred))


def sample_group_prior(values, indicator, counts, lam, rng):
    """Gibbs draw of the group means and precisions of ``values`` (d,) or (d, r).

    With the Normal-Gamma hyper-prior mu ~ N(0, 1/(gamma0 lam)), lam ~ Gamma(1, 1) (libFM).
    Returns (mu, lam) of shape (G,) or (G, r).
    """
    values = values.astype(np.float64)
    sums = indicator @ values
    sq = indicator @ (values * values)
    n = counts if values.ndim == 1 else counts[:, None]
    mu = sums / (n + GAMMA_0) + rng.standard_normal(sums.shape) / np.sqrt((n + GAMMA_0) * lam)
    ss = sq - 2 * mu * sums + n * mu * mu + GAMMA_0 * mu * mu
    shape = (ALPHA_0 + n + 1) / 2
    rate = (BETA_0 + np.maximum(ss, 0)) / 2
    lam = rng.gamma(shape, 1.0 / rate)
    return mu, lam


class MCMCSolver(FMSolver):
    """Gibbs sampling of the Bayesian FM (libFM/myFM): Gaussian priors per group with
    Normal-Gamma hyper-priors, a Gamma prior on the noise precision alpha (regression) or a
    probit link with sampled latent targets (classification).

    Each ``step`` is one sweep: latent targets (probit) or alpha (regression), the group
    hyper-parameters, then w0, every w_j and every V_jf through :func:`fm_cd_sweep` with
    ``sample=True``; the Gaussian draws come from a counter-based generator seeded from
    ``rng`` each sweep, so the chain is the same for any number of threads. After ``burn_in``
    sweeps every ``thin``-th sample is kept (at most ``n_keep``, see :meth:`kept`) for
    posterior-mean predictions. Returns the training RMSE of the current sample (regression)
    or its probit log-loss (classification).
    """

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        G, r = data.n_groups, self.V.shape[1]
        self.counts = np.bincount(data.groups, minlength=G).astype(np.float64)
        self.lam_w, self.lam_v = np.ones(G), np.ones((G, r))
        self.mu_w, self.mu_v = np.zeros(G), np.zeros((G, r))
        self.alpha = 1.0
        self.burn_in, self.thin = params["burn_in"], params["thin"]
        self.probit = params["classifier"]
        self.e = np.empty(data.n)
        self.q = np.empty((data.n, r))
        self.target = data.target.copy()
        self.sweeps = 0
        n_keep = params["n_keep"]
        self.samples_w0 = np.zeros(n_keep)
        self.samples_w = np.zeros((n_keep, len(self.w)), dtype=self.w.dtype)
        self.samples_V = np.zeros((n_keep,) + self.V.shape, dtype=self.V.dtype)
        self.n_kept = 0

    def step(self):
        d = self.data
        if self.sweeps % REFRESH == 0:
            fm_residuals(d.csr, (self.w0, self.w, self.V), self.target, (self.e, self.q),
                         d.n_threads)
        if self.probit:
            pred = self.e + self.target
            self.target = sample_probit_latent(pred, d.target, self.rng)
            self.e = pred - self.target
        else:
            sse = float(self.e @ self.e)
            self.alpha = self.rng.gamma((ALPHA_0 + d.n) / 2, 2.0 / (BETA_0 + sse))
        self.mu_w, self.lam_w = sample_group_prior(self.w, d.indicator, self.counts,
                                                   self.lam_w, self.rng)
        self.mu_v, self.lam_v = sample_group_prior(self.V, d.indicator, self.counts,
                                                   self.lam_v, self.rng)
        self.mu_v = np.ascontiguousarray(self.mu_v)
        self.lam_v = np.ascontiguousarray(self.lam_v)
        seed = int(self.rng.integers(0, 2**63))
        fm_cd_sweep(d.csc, (self.e, self.q), (self.w0, self.w, self.V), d.groups,
                    (d.order, d.block_ptr, d.block_parallel),
                    (self.alpha, LAMBDA_W0, 0.0, self.lam_w, self.mu_w, self.lam_v, self.mu_v),
                    (True, True, seed), d.n_threads)
        self.sweeps += 1
        after = self.sweeps - self.burn_in
        if after > 0 and after % self.thin == 0 and self.n_kept < len(self.samples_w0):
            s = self.n_kept
            self.samples_w0[s] = self.w0[0]
            self.samples_w[s] = self.w
            self.samples_V[s] = self.V
            self.n_kept += 1
        if self.probit:
            nll = -float(np.sum(log_ndtr(d.target * (self.e + self.target))))
            return {"train_loss": nll, "train_logloss": nll / max(d.n, 1)}
        sse = float(self.e @ self.e)
        return {"train_loss": sse, "train_rmse": float(np.sqrt(sse / max(d.n, 1)))}

    def kept(self):
        """(w0, w, V) samples kept so far, each with a leading sample axis (views)."""
        k = self.n_kept
        return self.samples_w0[:k], self.samples_w[:k], self.samples_V[:k]

    def state(self):
        """The last sample, and with samples kept their posterior means and the samples."""
        out = super().state()
        if self.n_kept:
            s_w0, s_w, s_V = self.kept()  # views: the solver's arrays become the model's
            out.update(intercept_=float(np.mean(s_w0)),
                       coef_=s_w.mean(axis=0, dtype=np.float64).astype(self.w.dtype),
                       intercept_samples_=s_w0, coef_samples_=s_w, factors_samples_=s_V)
        return out

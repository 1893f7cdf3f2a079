# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Factorization-machine kernels: prediction, one SGD epoch, one coordinate-descent sweep.

The degree-2 model is

    y(x) = w0 + sum_j w_j x_j + 1/2 sum_f [(sum_j V[j, f] x_j)^2 - sum_j V[j, f]^2 x_j^2]

computed in O(nnz(x) r). The design matrix arrives as the CSR triple ``X = (indptr, indices,
data)`` (int64, int32, floating); the coordinate-descent sweep takes the CSC triple of the same
matrix. The model is the tuple ``(w0, w, V)``: ``w0`` a float64 array of one element, ``w``
(d,) and ``V`` (d, r) float32 or float64 (one fused type per call); sums are kept in double.
Each public kernel takes such tuples and unpacks them into the typed memoryviews of a private
fused function. Kernels trust their input: the estimator in ``fastmf/fm.py`` validates it.

``cd_sweep`` is shared by the ALS solver (exact coordinate minimisation, libFM's ALS) and the
MCMC solver (the same conditional Gaussian, scaled by the noise precision and sampled): the
random draws come from a counter-based generator keyed by an explicit ``seed`` and the index of
the parameter, so a sweep gives the same numbers for any number of threads.
"""

from cython.parallel cimport parallel, prange, threadid
from libc.math cimport cos, exp, log, log1p, sqrt
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc

ctypedef fused floating:
    float
    double

cdef double TWO_PI = 6.283185307179586


# ---------------------------------------------------------------------- random numbers
cdef inline uint64_t _mix(uint64_t z) noexcept nogil:
    """splitmix64's finaliser: a bijective hash of 64-bit integers."""
    z = z + <uint64_t>0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline double _normal(uint64_t seed, uint64_t counter) noexcept nogil:
    """A standard normal draw determined by (seed, counter) (Box-Muller on two hashes)."""
    cdef uint64_t a = _mix(seed ^ _mix(2 * counter))
    cdef uint64_t b = _mix(seed ^ _mix(2 * counter + 1))
    cdef double u1 = ((a >> 11) + 1.0) * (1.0 / 9007199254740992.0)  # (0, 1]
    cdef double u2 = (b >> 11) * (1.0 / 9007199254740992.0)          # [0, 1)
    return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2)


def standard_normals(uint64_t seed, uint64_t start, double[::1] out):
    """Fill ``out`` with the draws ``_normal(seed, start + t)`` (for tests)."""
    cdef Py_ssize_t t
    for t in range(out.shape[0]):
        out[t] = _normal(seed, start + t)


# ---------------------------------------------------------------------- prediction
cdef inline double _row_predict(const int64_t *indptr, const int32_t *indices,
                                const floating *data, double w0, const floating *w,
                                const floating *V, Py_ssize_t r, Py_ssize_t i,
                                double *s) noexcept nogil:
    """Prediction for row ``i``; leaves the per-factor sums sum_j V[j, f] x_j in ``s``."""
    cdef Py_ssize_t p, f, j
    cdef double x, v, lin = w0, sq = 0.0, pair = 0.0
    for f in range(r):
        s[f] = 0.0
    for p in range(indptr[i], indptr[i + 1]):
        j = indices[p]
        x = data[p]
        lin += w[j] * x
        for f in range(r):
            v = V[j * r + f] * x
            s[f] += v
            sq += v * v
    for f in range(r):
        pair += s[f] * s[f]
    return lin + 0.5 * (pair - sq)


def fm_predict(X, model, double[::1] out, int n_threads):
    """Write the FM prediction of every row of the CSR triple ``X`` into ``out`` (float64)."""
    _predict(X[0], X[1], X[2], model[0][0], model[1], model[2], out, n_threads)


def _predict(const int64_t[::1] indptr, const int32_t[::1] indices, const floating[::1] data,
             double w0, const floating[::1] w, const floating[:, ::1] V, double[::1] out,
             int n_threads):
    cdef Py_ssize_t n = out.shape[0], r = V.shape[1], i
    cdef double *s
    if n == 0:
        return
    with nogil, parallel(num_threads=n_threads):
        s = <double *> malloc((r + 1) * sizeof(double))
        for i in prange(n, schedule="dynamic", chunksize=256):
            out[i] = _row_predict(&indptr[0], &indices[0], &data[0], w0, &w[0], &V[0, 0],
                                  r, i, s)
        free(s)


# ---------------------------------------------------------------------- SGD
def fm_sgd_epoch(X, y, order, model, groups, regs, hyper, int n_threads):
    """One SGD epoch over the rows in ``order``; returns the summed loss seen before each update.

    ``X`` is the CSR triple, ``y`` (n,) the float64 targets, ``order`` (n,) int64 the rows to
    visit, ``model = (w0, w, V)`` updated in place, ``groups`` (d,) int32 each feature's
    regularisation group, ``regs = (reg_w0, reg_w, reg_v)`` (a float and two float64 arrays
    over the groups), ``hyper = (lr, fit_w0, logistic)``.

    Per row: g = dloss/dy (squared loss 1/2 (y - t)^2, or log-loss log(1 + exp(-t y)) with
    t in {-1, +1}); then w0 -= lr (g + reg_w0 w0), and for each stored x_j
    w_j -= lr (g x_j + reg_w[groups[j]] w_j) and
    V[j, f] -= lr (g x_j (s_f - V[j, f] x_j) + reg_v[groups[j]] V[j, f]).
    Rows run in parallel without locks (Hogwild): with more than one thread the result depends
    on scheduling; with one thread it is deterministic and sequential. w0, which every row
    touches, is kept per thread during the epoch (so that the threads do not fight over one
    cache line), and at its end it takes the threads' changes averaged with weights their row
    counts (local SGD's parameter averaging). Adding the changes instead would overshoot: each
    thread's copy corrects the same global offset, so T threads would move w0 T times too far
    and the intercept would oscillate from epoch to epoch.
    """
    return _sgd_epoch(X[0], X[1], X[2], y, order, model[0], model[1], model[2], groups, regs[0],
                      regs[1], regs[2], hyper[0], hyper[1], hyper[2], n_threads)


def _sgd_epoch(const int64_t[::1] indptr, const int32_t[::1] indices, const floating[::1] data,
               const double[::1] y, const int64_t[::1] order, double[::1] w0, floating[::1] w,
               floating[:, ::1] V, const int32_t[::1] groups, double reg_w0,
               const double[::1] reg_w, const double[::1] reg_v, double lr, bint fit_w0,
               bint logistic, int n_threads):
    cdef Py_ssize_t n = order.shape[0], r = V.shape[1], t, i, p, j, f
    cdef double *s
    cdef double *b
    cdef double pred, g, x, lw, lv, vjf, total = 0.0, loss, m, start = w0[0], moved = 0.0
    cdef double *deltas
    cdef double *counts
    cdef int k
    cdef floating *Vp
    cdef floating *wp
    if n == 0:
        return 0.0
    Vp = &V[0, 0]
    wp = &w[0]
    n_threads = max(n_threads, 1)
    deltas = <double *> calloc(n_threads, sizeof(double))
    counts = <double *> calloc(n_threads, sizeof(double))
    with nogil, parallel(num_threads=n_threads):
        s = <double *> malloc((r + 1) * sizeof(double))
        b = <double *> malloc(2 * sizeof(double))  # the thread's w0 and its row count
        b[0] = start
        b[1] = 0.0
        for t in prange(n, schedule="dynamic", chunksize=256):
            i = order[t]
            b[1] = b[1] + 1.0
            pred = _row_predict(&indptr[0], &indices[0], &data[0], b[0], wp, Vp, r, i, s)
            if logistic:
                m = y[i] * pred
                if m > 0:
                    loss = log1p(exp(-m))
                    g = -y[i] * exp(-m) / (1.0 + exp(-m))
                else:
                    loss = -m + log1p(exp(m))
                    g = -y[i] / (1.0 + exp(m))
            else:
                g = pred - y[i]
                loss = 0.5 * g * g
            total += loss
            if fit_w0:
                b[0] = b[0] - lr * (g + reg_w0 * b[0])
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                x = data[p]
                lw = reg_w[groups[j]]
                lv = reg_v[groups[j]]
                wp[j] = <floating>(wp[j] - lr * (g * x + lw * wp[j]))
                for f in range(r):
                    vjf = Vp[j * r + f]
                    Vp[j * r + f] = <floating>(vjf - lr * (g * x * (s[f] - vjf * x) + lv * vjf))
        deltas[threadid()] = b[0] - start
        counts[threadid()] = b[1]
        free(b)
        free(s)
    for k in range(n_threads):
        moved += deltas[k] * (counts[k] / n)
    free(deltas)
    free(counts)
    w0[0] = start + moved
    return total


# ---------------------------------------------------------------------- ALS / MCMC sweep
def fm_residuals(X, model, target, out, int n_threads):
    """Set e[i] = y(x_i) - target[i] and q[i, f] = sum_j V[j, f] x_ij for every row of the CSR
    triple ``X``; ``target`` (n,) float64, ``out = (e, q)``, float64 (n,) and (n, r)."""
    _residuals(X[0], X[1], X[2], model[0][0], model[1], model[2], target, out[0], out[1],
               n_threads)


def _residuals(const int64_t[::1] indptr, const int32_t[::1] indices, const floating[::1] data,
               double w0, const floating[::1] w, const floating[:, ::1] V,
               const double[::1] target, double[::1] e, double[:, ::1] q, int n_threads):
    cdef Py_ssize_t n = e.shape[0], r = V.shape[1], i, f
    cdef double *s
    if n == 0:
        return
    with nogil, parallel(num_threads=n_threads):
        s = <double *> malloc((r + 1) * sizeof(double))
        for i in prange(n, schedule="dynamic", chunksize=256):
            e[i] = _row_predict(&indptr[0], &indices[0], &data[0], w0, &w[0], &V[0, 0],
                                r, i, s) - target[i]
            for f in range(r):
                q[i, f] = s[f]
        free(s)


cdef inline double _draw_coordinate(double theta, double h2, double he, double alpha,
                                    double lam, double mu, bint sample, uint64_t seed,
                                    uint64_t counter) noexcept nogil:
    """New value of a coordinate whose conditional is N(mean, 1/prec) (ALS: the mean)."""
    cdef double prec = alpha * h2 + lam
    cdef double mean
    if prec <= 0.0:
        return theta
    mean = (alpha * (theta * h2 - he) + lam * mu) / prec
    if sample:
        mean += _normal(seed, counter) / sqrt(prec)
    return mean


cdef void _update_feature(const int64_t *cptr, const int32_t *rows, const floating *cdata,
                         floating *w, floating *V, double *e, double *q, Py_ssize_t r,
                         Py_ssize_t d, Py_ssize_t j, double alpha, double lam_w, double mu_w,
                         const double *lam_v, const double *mu_v, bint sample,
                         uint64_t seed) noexcept nogil:
    """Update w_j, then V[j, 0], ..., V[j, r - 1], keeping ``e`` and ``q`` exact.

    One pass over the column per coordinate: the pass that applies coordinate t's change to
    ``e`` and ``q`` also accumulates the sums sum h^2 and sum h e of coordinate t + 1.
    """
    cdef Py_ssize_t p, i, f
    cdef Py_ssize_t lo = cptr[j], hi = cptr[j + 1]
    cdef double x, h, hn, h2 = 0.0, he = 0.0, h2n, hen, new, delta, v, vn = 0.0
    cdef floating *Vj = V + j * r
    for p in range(lo, hi):
        x = cdata[p]
        h2 += x * x
        he += x * e[rows[p]]
    new = _draw_coordinate(w[j], h2, he, alpha, lam_w, mu_w, sample, seed, 1 + j)
    delta = <double>(<floating>new) - w[j]
    w[j] = <floating>new
    h2 = 0.0
    he = 0.0
    if r > 0:
        vn = Vj[0]
    for p in range(lo, hi):
        i = rows[p]
        x = cdata[p]
        e[i] += delta * x
        if r > 0:
            h = x * (q[i * r] - vn * x)
            h2 += h * h
            he += h * e[i]
    for f in range(r):
        v = vn
        new = _draw_coordinate(v, h2, he, alpha, lam_v[f], mu_v[f], sample, seed,
                               1 + d + j * r + f)
        delta = <double>(<floating>new) - v
        Vj[f] = <floating>new
        h2n = 0.0
        hen = 0.0
        if f + 1 < r:
            vn = Vj[f + 1]
            for p in range(lo, hi):
                i = rows[p]
                x = cdata[p]
                e[i] += delta * x * (q[i * r + f] - v * x)
                q[i * r + f] += delta * x
                hn = x * (q[i * r + f + 1] - vn * x)
                h2n += hn * hn
                hen += hn * e[i]
        elif delta != 0.0:
            for p in range(lo, hi):
                i = rows[p]
                x = cdata[p]
                e[i] += delta * x * (q[i * r + f] - v * x)
                q[i * r + f] += delta * x
        h2 = h2n
        he = hen


def fm_cd_sweep(cols, resid, model, groups, blocks, prior, flags, int n_threads):
    """One coordinate-descent (``sample=False``) or Gibbs (``sample=True``) sweep in place.

    ``cols = (col_ptr, rows, col_data)`` is the CSC triple of the design matrix,
    ``resid = (e, q)``, ``model = (w0, w, V)``, ``groups`` (d,) int32 each feature's prior
    group, ``blocks = (feature_order, block_ptr, block_parallel)`` (int32, int64, uint8),
    ``prior = (alpha, lam_w0, mu_w0, lam_w, mu_w, lam_v, mu_v)`` (three floats, then float64
    arrays over the groups: (G,), (G,), (G, r), (G, r)) and ``flags = (fit_w0, sample, seed)``.

    ``e`` holds the residuals y(x_i) - target_i and ``q[i, f]`` the per-factor sums (from
    :func:`fm_residuals`); both are kept exact as each coordinate moves. A coordinate theta with
    partial derivative h_i = dy(x_i)/dtheta, Gaussian prior N(mu, 1/lam) and noise precision
    alpha has the conditional

        N((alpha (theta sum h^2 - sum h e) + lam mu) / P, 1/P),   P = alpha sum h^2 + lam,

    whose mean is libFM's ALS update (alpha = 1, mu = 0, lam = the L2 weight). Order: w0, then
    feature by feature (w_j, V[j, 0], ..., V[j, r - 1]), the features visited block by block as
    ``feature_order[block_ptr[b]:block_ptr[b + 1]]``. A block flagged in ``block_parallel``
    must have features touching disjoint rows (one categorical variable): its features are
    updated in parallel with the same result as in sequence. Parameter ``k`` of the sweep
    (w0: 0, w_j: 1 + j, V[j, f]: 1 + d + j r + f) draws its noise from ``(seed, k)``.
    """
    _cd_sweep(cols[0], cols[1], cols[2], resid[0], resid[1], model[0], model[1], model[2],
              groups, blocks[0], blocks[1], blocks[2], prior[0], prior[1], prior[2], prior[3],
              prior[4], prior[5], prior[6], flags[0], flags[1], flags[2], n_threads)


def _cd_sweep(const int64_t[::1] col_ptr, const int32_t[::1] rows, const floating[::1] col_data,
              double[::1] e, double[:, ::1] q, double[::1] w0, floating[::1] w,
              floating[:, ::1] V, const int32_t[::1] groups, const int32_t[::1] feature_order,
              const int64_t[::1] block_ptr, const uint8_t[::1] block_parallel, double alpha,
              double lam_w0, double mu_w0, const double[::1] lam_w, const double[::1] mu_w,
              const double[:, ::1] lam_v, const double[:, ::1] mu_v, bint fit_w0, bint sample,
              uint64_t seed, int n_threads):
    cdef Py_ssize_t n = e.shape[0], d = w.shape[0], r = V.shape[1]
    cdef Py_ssize_t nb = block_ptr.shape[0] - 1, b, t, j, i, lo, hi
    cdef double sum_e = 0.0, new, delta
    cdef double *ep = &e[0] if n > 0 else NULL
    cdef double *qp = &q[0, 0] if n > 0 and r > 0 else NULL
    cdef const int64_t *cp = &col_ptr[0]
    cdef const int32_t *rp = &rows[0] if rows.shape[0] > 0 else NULL
    cdef const floating *dp = &col_data[0] if col_data.shape[0] > 0 else NULL
    cdef floating *wp = &w[0] if d > 0 else NULL
    cdef floating *Vp = &V[0, 0] if d > 0 and r > 0 else NULL
    cdef const double *lvp = &lam_v[0, 0]
    cdef const double *mvp = &mu_v[0, 0]
    cdef int g
    with nogil:
        if fit_w0 and n > 0:
            for i in range(n):
                sum_e += ep[i]
            new = _draw_coordinate(w0[0], <double>n, sum_e, alpha, lam_w0, mu_w0, sample,
                                   seed, 0)
            delta = new - w0[0]
            w0[0] = new
            for i in range(n):
                ep[i] += delta
        for b in range(nb):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            if block_parallel[b]:
                for t in prange(lo, hi, schedule="dynamic", chunksize=1, num_threads=n_threads):
                    j = feature_order[t]
                    g = groups[j]
                    _update_feature(cp, rp, dp, wp, Vp, ep, qp, r, d, j, alpha, lam_w[g],
                                    mu_w[g], lvp + g * r, mvp + g * r, sample, seed)
            else:
                for t in range(lo, hi):
                    j = feature_order[t]
                    g = groups[j]
                    _update_feature(cp, rp, dp, wp, Vp, ep, qp, r, d, j, alpha, lam_w[g],
                                    mu_w[g], lvp + g * r, mvp + g * r, sample, seed)

"""What the workers run for FM-ALS: a row block of the design matrix, its residuals, and the
per-feature statistics of one coordinate ("round") at a time.

A round updates one coordinate of every feature of one group at once: ``w_j`` for all ``j``
in group ``g`` (``rho = (g, -1)``), or ``V[j, f]`` (``rho = (g, f)``), or the intercept
(``rho = "w0"``). With ``h_ij = dy(x_i)/dtheta_j`` and the residuals ``e`` every row block
sums ``sum_i h_ij^2`` and ``sum_i h_ij e_i`` per feature; the sums of all blocks give the new
values (:func:`update`); each block then applies the change to its ``e`` and ``q`` exactly as
the single-node kernel does. A row block's state is ``(e, qs, thetas)``: its residuals, the
columns of its per-factor sums (a tuple of arrays, so that a round copies only the column it
changes) and its copy of every round's coordinate values (so that a round needs from the
root only the new values of the round before).
"""

import numpy as np
import scipy.sparse as sp

from .._config import threads


def fm_block(chunks, local, groups, n_groups, dtype):
    """A row block from ``chunks`` (pairs of X rows and targets): the CSR arrays, the targets,
    per group the (rows, group-local features, values) of its entries, and per group the most
    entries one row has in it (``omega``)."""
    from .._solvers.fm import csr_arrays

    Xs, ys = [], []
    for X, y in chunks:
        X = sp.csr_matrix(X, dtype=dtype) if not sp.issparse(X) else sp.csr_matrix(X.astype(dtype))
        Xs.append(X)
        ys.append(np.asarray(y).ravel())
    X = sp.vstack(Xs, format="csr")
    X.sum_duplicates()
    X.sort_indices()
    y = np.concatenate(ys)
    if y.dtype == bool or y.dtype.kind not in "iuf":
        raise ValueError(f"y must be numeric, got dtype {y.dtype}")
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite: it contains NaN or inf")
    if not np.all(np.isfinite(X.data)):
        raise ValueError("X must be finite: it contains NaN or inf")
    if len(y) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)} values")
    n = X.shape[0]
    rows = np.repeat(np.arange(n), np.diff(X.indptr))
    g_of = groups[X.indices]
    per_group, omega = [], np.zeros(n_groups, dtype=np.int64)
    for g in range(n_groups):
        sel = np.flatnonzero(g_of == g)
        per_group.append((rows[sel], local[X.indices[sel]], X.data[sel].astype(np.float64)))
        if len(sel):
            omega[g] = np.bincount(rows[sel]).max()
    return {"csr": csr_arrays(X), "target": y, "groups": per_group, "omega": omega, "n": n}


def block_summary(block):
    return block["n"], float(block["target"].sum()), block["omega"]


def start(block, params, features, rounds, n_threads):
    """``(e, qs, thetas)`` of a block from scratch, for the parameters ``(w0, w, V)``."""
    from .._solvers.fm import residuals

    w0, w, V = params
    with threads(n_threads):
        e, q = residuals(block["csr"], float(w0[0]), w, V, block["target"], n_threads)
    qs = tuple(np.ascontiguousarray(q[:, f]) for f in range(q.shape[1]))
    return (e, qs, tuple(coordinate(params, features, rho) for rho in rounds)), None


def _apply(block, state, j, rho, new):
    """Round ``j`` (coordinate ``rho``) moved to ``new``: update ``e``, ``q`` and the copy."""
    e, qs, thetas = state
    old = thetas[j]
    thetas = thetas[:j] + (new,) + thetas[j + 1:]
    e, qs = _moved(block, e, qs, rho, old, new)
    return e, qs, thetas


def _moved(block, e, qs, rho, old, new):
    if rho == "w0":
        return e + (float(new[0]) - float(old[0])), qs
    g, f = rho
    rows, cols, x = block["groups"][g]
    n = block["n"]
    delta = new.astype(np.float64) - old.astype(np.float64)
    if f < 0:
        return e + np.bincount(rows, x * delta[cols], n), qs
    h = x * (qs[f][rows] - old[cols].astype(np.float64) * x)
    qf = qs[f] + np.bincount(rows, x * delta[cols], n)
    return e + np.bincount(rows, h * delta[cols], n), qs[:f] + (qf,) + qs[f + 1:]


def _stats(block, state, j, rho):
    e, qs, thetas = state
    theta = thetas[j]
    if rho == "w0":
        return np.array([e.sum()]), np.array([float(block["n"])])
    g, f = rho
    rows, cols, x = block["groups"][g]
    h = x if f < 0 else x * (qs[f][rows] - theta[cols].astype(np.float64) * x)
    return (np.bincount(cols, h * e[rows], len(theta)), np.bincount(cols, h * h, len(theta)))


def fm_round(block, previous, prev, j, rho):
    """Apply the last round's change ``prev = (j, rho, new)`` (None: nothing), then the
    statistics of round ``j`` (coordinate ``rho``): (state, stats)."""
    state = previous[0]
    if prev is not None:
        state = _apply(block, state, *prev)
    return state, _stats(block, state, j, rho)


def fm_finish(block, previous, prev):
    """Apply the sweep's last change: (state, sum of squared residuals)."""
    state = _apply(block, previous[0], *prev)
    return state, float(state[0] @ state[0])


def stats_of(out):
    return out[1]


def add_stats(a, b):
    return a[0] + b[0], a[1] + b[1]


def update(stats, theta, reg, omega):
    """New values of one coordinate of a group's features (libFM's ALS step, damped by
    ``omega``, the most entries a row has in the group: exact coordinate minimisation when
    ``omega`` is 1, a step that never increases the objective when larger)."""
    he, h2 = stats
    t = theta.astype(np.float64)
    prec = omega * h2 + reg
    new = np.where(prec > 0, (t * omega * h2 - he) / np.where(prec > 0, prec, 1.0), t)
    return new.astype(theta.dtype)


def penalty(regs, *thetas):
    """The L2 terms: ``sum reg ||theta||^2`` over the rounds' coordinates."""
    return float(sum(r * float(np.dot(t.astype(np.float64), t.astype(np.float64)))
                     for r, t in zip(regs, thetas, strict=True)))


def assemble(features, d, r, dtype, rounds, *thetas):
    """``(w0, w, V)`` from the coordinates of the rounds (``features[g]``: the features of
    group ``g`` in their group-local order)."""
    w0 = np.zeros(1)
    w, V = np.zeros(d, dtype=dtype), np.zeros((d, r), dtype=dtype)
    for rho, theta in zip(rounds, thetas, strict=True):
        if rho == "w0":
            w0 = theta.astype(np.float64)
        elif rho[1] < 0:
            w[features[rho[0]]] = theta
        else:
            V[features[rho[0]], rho[1]] = theta
    return w0, w, V


def coordinate(params, features, rho):
    """One round's coordinate out of ``(w0, w, V)``."""
    w0, w, V = params
    if rho == "w0":
        return np.array(w0, dtype=np.float64).reshape(1)
    g, f = rho
    return np.ascontiguousarray(w[features[g]] if f < 0 else V[features[g], f])


def save_params(params, path):
    import os

    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, w0=params[0], w=params[1], V=params[2])
    os.replace(tmp, path)
    return path


def load_params(path):
    with np.load(path) as f:
        return f["w0"], f["w"], f["V"]

"""What the workers run for FM-ALS: a row block of the design matrix, its residuals, and the
per-feature statistics of one coordinate ("round") at a time.

A round updates one coordinate of every feature of one group at once: ``w_j`` for all ``j``
in group ``g`` (``rho = (g, -1)``), or ``V[j, f]`` (``rho = (g, f)``), or the intercept
(``rho = "w0"``). With ``h_ij = dy(x_i)/dtheta_j`` and the residuals ``e`` every row block
sums ``sum_i h_ij^2`` and ``sum_i h_ij e_i`` per feature; the sums of all blocks give each
feature's exact coordinate step (:func:`update`). In a group with at most one entry per row
the steps do not interact and are taken as they are (libFM's update, the single-node result).
In a group with several entries per row they do: the steps are a search direction, and the
blocks sum the five coefficients of the objective along it (:func:`line_sums`, a quartic in
the step length: the pairwise terms within the group are quadratic in it), so that the root
picks the step length that minimises it (:func:`line_step`), and the objective never
increases. Each block then applies the change to its ``e`` and ``q`` exactly. A row block's
state is ``(e, qs, thetas)``: its residuals, the columns of its per-factor sums (a tuple of
arrays, so that a round copies only the column it changes) and its copy of every round's
coordinate values (so that a round needs from the root only the new values, or the direction
and a step length).
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


def moved_values(old, move):
    """The new values of a round: ``move`` itself, or ``(direction, t)``: ``old`` plus ``t``
    times the direction (the same arithmetic on the root and in every block)."""
    if not isinstance(move, tuple):
        return move
    direction, t = move
    return (old.astype(np.float64) + t * direction).astype(old.dtype)


def _apply(block, state, j, rho, move):
    """Round ``j`` (coordinate ``rho``) moved: update ``e``, ``q`` and the copy."""
    e, qs, thetas = state
    old = thetas[j]
    new = moved_values(old, move)
    thetas = thetas[:j] + (new,) + thetas[j + 1:]
    if rho == "w0":
        return e + (float(new[0]) - float(old[0])), qs, thetas
    A, B, dq = _change(block, qs, rho, old, new.astype(np.float64) - old.astype(np.float64))
    e = e + A if B is None else e + A + B
    if dq is not None:
        f = rho[1]
        qs = qs[:f] + (qs[f] + dq,) + qs[f + 1:]
    return e, qs, thetas


def _change(block, qs, rho, old, delta):
    """Per row: the linear change of the prediction (``A``), its quadratic part (``B``: the
    pairs of the group's features in one row; None for the linear weights) and the change of
    ``q[:, f]`` (None for the linear weights) when the group's coordinate moves by ``delta``."""
    g, f = rho
    rows, cols, x = block["groups"][g]
    n = block["n"]
    if f < 0:
        return np.bincount(rows, x * delta[cols], n), None, None
    h = x * (qs[f][rows] - old[cols].astype(np.float64) * x)
    dq = np.bincount(rows, x * delta[cols], n)
    A = np.bincount(rows, h * delta[cols], n)
    if block["omega"][g] <= 1:  # one entry per row: no pairs within the group
        return A, None, dq
    return A, 0.5 * (dq * dq - np.bincount(rows, (x * delta[cols]) ** 2, n)), dq


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


def update(stats, theta, reg):
    """Each feature's exact coordinate minimiser (libFM's ALS update), the others fixed."""
    he, h2 = stats
    t = theta.astype(np.float64)
    prec = h2 + reg
    new = np.where(prec > 0, (t * h2 - he) / np.where(prec > 0, prec, 1.0), t)
    return new.astype(theta.dtype)


def direction(theta, target):
    """The search direction from ``theta`` to the coordinate minimisers ``target``."""
    return target.astype(np.float64) - theta.astype(np.float64)


def line_sums(block, out, j, rho, d):
    """The block's coefficients of ``sum_i e_i(t)^2`` along the direction ``d`` (a
    polynomial in the step length t: e_i(t) = e_i + t A_i + t^2 B_i)."""
    e, qs, thetas = out[0]
    A, B, _ = _change(block, qs, rho, thetas[j], d)
    if B is None:
        B = np.zeros_like(A)
    return np.array([2 * e @ A, A @ A + 2 * e @ B, 2 * A @ B, B @ B])


def add(a, b):
    return a + b


def line_step(sums, theta, d, reg):
    """The step length t >= 0 minimising the data term along ``d`` (``sums``: its t, t^2,
    t^3, t^4 coefficients) plus ``reg ||theta + t d||^2``."""
    t0 = theta.astype(np.float64)
    c1, c2, c3, c4 = sums
    c1 += 2 * reg * (t0 @ d)
    c2 += reg * (d @ d)
    roots = np.roots([4 * c4, 3 * c3, 2 * c2, c1]) if c4 > 0 else \
        np.roots([3 * c3, 2 * c2, c1])
    cands = [0.0] + [r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 0]
    value = lambda t: ((c4 * t + c3) * t + c2) * t * t + c1 * t  # noqa: E731
    return float(min(cands, key=value))


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

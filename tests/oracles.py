"""Slow, obviously correct NumPy twins of every kernel: the tests assert that the two agree.

Dense arrays are fine here: oracles only ever see tiny inputs.
"""

import numpy as np

# ------------------------------------------------------------ top-k and ranking metrics (topk.py)

def topk_naive(scores, excluded, k, item_mask=None):
    """Top-k items per row of a dense score matrix, by sorting every row.

    ``excluded`` is a boolean matrix like ``scores``; excluded items, items with ``item_mask``
    False and NaN scores are never returned. Order: descending score, ties by lower index.
    Returns ``(indices, scores)`` of width k, padded with -1 / -inf.
    """
    n_rows, n_items = scores.shape
    idx = np.full((n_rows, k), -1, dtype=np.int64)
    val = np.full((n_rows, k), -np.inf, dtype=scores.dtype)
    for r in range(n_rows):
        allowed = ~excluded[r] & ~np.isnan(scores[r])
        if item_mask is not None:
            allowed &= item_mask
        cand = np.flatnonzero(allowed)
        order = cand[np.lexsort((cand, -scores[r, cand]))][:k]
        idx[r, :len(order)] = order
        val[r, :len(order)] = scores[r, order]
    return idx, val


def ranking_metrics_naive(scores, train, test, k):
    """Ranking metrics from their definitions on dense inputs (see fastmf.metrics).

    ``scores`` (n_users, n_items); ``train`` and ``test`` boolean matrices of the same shape.
    Returns ``(averages, per_user)``: a dict of the six metrics averaged over users with a
    relevant item, and a dict user -> dict of that user's metrics.
    """
    n_users, n_items = scores.shape
    kk = min(k, n_items)
    per_user = {}
    for u in range(n_users):
        relevant = test[u] & ~train[u]
        n_rel = int(relevant.sum())
        if n_rel == 0:
            continue
        cand = np.flatnonzero(~train[u])
        ranking = cand[np.lexsort((cand, -scores[u, cand]))]
        hit = relevant[ranking[:kk]].astype(float)
        c = min(kk, n_rel)
        ranks = np.arange(1, len(hit) + 1)
        dcg = np.sum(hit / np.log2(ranks + 1))
        idcg = np.sum(1.0 / np.log2(np.arange(1, c + 1) + 1))
        negatives = np.flatnonzero(~train[u] & ~test[u])
        pairs = [1.0 if scores[u, i] > scores[u, j] else 0.5 if scores[u, i] == scores[u, j]
                 else 0.0 for i in np.flatnonzero(relevant) for j in negatives]
        per_user[u] = {
            "precision": hit.sum() / kk,
            "recall": hit.sum() / c,
            "ndcg": dcg / idcg,
            "map": np.sum(np.cumsum(hit) / ranks * hit) / c,
            "hit_rate": float(hit.sum() > 0),
            "auc": np.mean(pairs) if pairs else np.nan,
        }
    keys = ("precision", "recall", "ndcg", "map", "hit_rate", "auc")
    averages = {key: np.nanmean([m[key] for m in per_user.values()]) for key in keys}
    return averages, per_user


def _row_system(R_dense, mask, u, Y, y_bias, offset, reg, reg_bias, exponent, fit_bias):
    """Row ``u``'s ridge normal equations ``(A, b)`` (the bias as a constant column when
    ``fit_bias``; the L2 weights times the row's count to the power ``exponent``), or None
    for a row without observations."""
    obs = np.flatnonzero(mask[u])
    if len(obs) == 0:
        return None
    Z = Y[obs].astype(np.float64)
    t = R_dense[u, obs] - offset - (y_bias[obs] if len(y_bias) else 0.0)
    s = float(len(obs)) ** exponent
    pen = [reg * s] * Y.shape[1]
    if fit_bias:
        Z = np.hstack([Z, np.ones((len(obs), 1))])
        pen.append(reg_bias * s)
    return Z.T @ Z + np.diag(pen), Z.T @ t


def als_half_sweep(R_dense, mask, Y, y_bias, offset, reg, reg_bias, exponent, fit_bias):
    """Row-by-row ridge regression by ``np.linalg.solve`` on the normal equations.

    ``R_dense``/``mask``: ratings and which cells are observed. Returns (X, x_bias).
    """
    m, k = R_dense.shape[0], Y.shape[1]
    X, xb = np.zeros((m, k)), np.zeros(m)
    for u in range(m):
        system = _row_system(R_dense, mask, u, Y, y_bias, offset, reg, reg_bias, exponent,
                             fit_bias)
        if system is None:
            continue
        sol = np.linalg.solve(*system)
        X[u] = sol[:k]
        if fit_bias:
            xb[u] = sol[k]
    return X, xb


def als_cg_rows(R_dense, mask, X0, x0_bias, Y, y_bias, offset, reg, reg_bias, exponent,
                fit_bias, steps):
    """``steps`` textbook conjugate-gradient steps on each row's normal equations (the system
    of :func:`als_half_sweep`), started from ``(X0, x0_bias)``. Returns (X, x_bias)."""
    m, k = R_dense.shape[0], Y.shape[1]
    X, xb = np.zeros((m, k)), np.zeros(m)
    for u in range(m):
        system = _row_system(R_dense, mask, u, Y, y_bias, offset, reg, reg_bias, exponent,
                             fit_bias)
        if system is None:
            continue
        A, b = system
        x = X0[u].astype(np.float64)
        if fit_bias:
            x = np.append(x, x0_bias[u])
        r = b - A @ x
        p = r.copy()
        for _ in range(steps):
            rr = r @ r
            if rr == 0:
                break
            Ap = A @ p
            alpha = rr / (p @ Ap)
            x = x + alpha * p
            r = r - alpha * Ap
            p = r + (r @ r) / rr * p
        X[u] = x[:k]
        if fit_bias:
            xb[u] = x[k]
    return X, xb


def mf_objective(R_dense, mask, W, H, ub, ib, mu, reg, reg_bias, exponent):
    """The biased-MF objective of ``MatrixFactorization`` on a dense masked matrix, each row's
    L2 terms times its count to the power ``exponent`` (1: ALS-WR, 0: none)."""
    pred = mu + W @ H.T
    if ub is not None:
        pred = pred + ub[:, None] + ib[None, :]
    sse = np.sum(((R_dense - pred) * mask) ** 2)
    su = mask.sum(1).astype(np.float64) ** exponent
    si = mask.sum(0).astype(np.float64) ** exponent
    pen = reg * (su @ (W ** 2).sum(1) + si @ (H ** 2).sum(1))
    if ub is not None:
        pen += reg_bias * (su @ ub ** 2 + si @ ib ** 2)
    return sse + pen


# ------------------------------------------------------------ implicit ALS (implicit_als.py)

def implicit_row_solve(C, P, Y, reg):
    """Exact implicit-ALS rows from dense confidences ``C`` and preferences ``P`` (m, n).

    Row u solves ``(Y^T diag(C[u]) Y + reg_u I) x = Y^T diag(C[u]) P[u]`` with a dense
    ``np.linalg.solve``: the textbook form, without the Gram-matrix trick. ``reg``: one L2
    weight, or one per row.
    """
    Y = Y.astype(np.float64)
    X = np.zeros((C.shape[0], Y.shape[1]))
    reg = np.broadcast_to(np.asarray(reg, dtype=np.float64), C.shape[:1])
    for u in range(C.shape[0]):
        A = Y.T @ (C[u][:, None] * Y) + reg[u] * np.eye(Y.shape[1])
        X[u] = np.linalg.solve(A, Y.T @ (C[u] * P[u]))
    return X


def implicit_objective(C, P, W, H, reg, item_reg=None):
    """``sum_{u,i} C (P - W H^T)^2 + sum_u reg_u |w_u|^2 + sum_i reg_i |h_i|^2`` on dense
    matrices: ``reg`` one weight (for both sides when ``item_reg`` is None) or one per user,
    ``item_reg`` one per item."""
    W, H = W.astype(np.float64), H.astype(np.float64)
    item_reg = reg if item_reg is None else item_reg
    return float(np.sum(C * (P - W @ H.T) ** 2) + np.sum(reg * np.sum(W ** 2, axis=1))
                 + np.sum(item_reg * np.sum(H ** 2, axis=1)))


def frequency_reg(R, reg, exponent, unobserved_weight):
    """Per-row and per-column L2 weights ``reg (n_u + w n)^exponent`` of the dense counts
    ``R`` (Rendle et al. 2022), from the definition: counts of the positive cells."""
    n_u, n_i = (R > 0).sum(axis=1), (R > 0).sum(axis=0)
    m, n = R.shape
    return (reg * (n_u + unobserved_weight * n) ** exponent,
            reg * (n_i + unobserved_weight * m) ** exponent)


def implicit_cg_rows(C, P, X0, Y, reg, steps):
    """``steps`` plain conjugate-gradient iterations per row on the dense row systems of
    :func:`implicit_row_solve`, starting from ``X0``."""
    Y = Y.astype(np.float64)
    X = X0.astype(np.float64).copy()
    reg = np.broadcast_to(np.asarray(reg, dtype=np.float64), C.shape[:1])
    for u in range(C.shape[0]):
        A = Y.T @ (C[u][:, None] * Y) + reg[u] * np.eye(Y.shape[1])
        x = X[u]
        r = Y.T @ (C[u] * P[u]) - A @ x
        d = r.copy()
        rs = r @ r
        for _ in range(steps):
            if rs < 1e-20:
                break
            Ad = A @ d
            step = rs / (d @ Ad)
            x += step * d
            r -= step * Ad
            rs_new = r @ r
            d = r + rs_new / rs * d
            rs = rs_new
    return X


# ---------------------------------------------------------------- factorization machines
def fm_predict(X_dense, w0, w, V):
    """The FM model by its O(d^2) definition: w0 + x.w + sum_{j<k} <v_j, v_k> x_j x_k."""
    X = np.asarray(X_dense, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    pair = np.triu(V @ V.T, 1)
    return w0 + X @ np.asarray(w, np.float64) + np.einsum("ij,jk,ik->i", X, pair, X)


def fm_sgd_epoch(X_dense, y, order, w0, w, V, groups, reg_w0, reg_w, reg_v, lr, logistic):
    """Serial SGD epoch, one row at a time, with gradients taken from the O(d^2) model."""
    w0, w, V = float(w0), np.array(w, np.float64), np.array(V, np.float64)
    total = 0.0
    for i in order:
        x = X_dense[i]
        pred = fm_predict(x[None], w0, w, V)[0]
        if logistic:
            total += np.log1p(np.exp(-y[i] * pred))
            g = -y[i] / (1 + np.exp(y[i] * pred))
        else:
            total += 0.5 * (pred - y[i]) ** 2
            g = pred - y[i]
        nz = np.flatnonzero(x)
        s = V[nz].T @ x[nz]
        w0 -= lr * (g + reg_w0 * w0)
        for j in nz:
            gv = g * x[j] * (s - V[j] * x[j]) + reg_v[groups[j]] * V[j]
            w[j] -= lr * (g * x[j] + reg_w[groups[j]] * w[j])
            V[j] -= lr * gv
    return w0, w, V, total


def fm_cd_sweep(X_dense, target, w0, w, V, order, alpha, lam_w0, mu_w0, lam_w, mu_w, lam_v,
                mu_v, groups, noise=None):
    """Coordinate by coordinate (w0, then per feature w_j, V[j, :]) with the FM recomputed
    from scratch: each coordinate's slope h comes from two evaluations of the O(d^2) model,
    and the coordinate moves to N((alpha (theta h.h - h.e) + lam mu) / P, 1/P)'s mean plus
    ``noise(k) / sqrt(P)`` when ``noise`` (a function of the parameter index) is given."""
    w0, w, V = float(w0), np.array(w, np.float64), np.array(V, np.float64)
    d, r = V.shape

    def move(theta, h, lam, mu, k):
        e = fm_predict(X_dense, w0, w, V) - target
        prec = alpha * h @ h + lam
        if prec <= 0:
            return theta
        new = (alpha * (theta * (h @ h) - h @ e) + lam * mu) / prec
        return new + (noise(k) / np.sqrt(prec) if noise is not None else 0.0)

    w0 = move(w0, np.ones(len(target)), lam_w0, mu_w0, 0)
    for j in order:
        g = groups[j]
        h = X_dense[:, j].astype(np.float64)
        w[j] = move(w[j], h, lam_w[g], mu_w[g], 1 + j)
        for f in range(r):
            old = V[j, f]
            V[j, f] = 0.0
            base = fm_predict(X_dense, w0, w, V)
            V[j, f] = 1.0
            h = fm_predict(X_dense, w0, w, V) - base
            V[j, f] = old
            V[j, f] = move(old, h, lam_v[g, f], mu_v[g, f], 1 + d + j * r + f)
    return w0, w, V


# ------------------------------------------------------------ SGD and SVD++ (sgd.py, svdpp.py)

def sgd_epoch(block_order, block_ptr, users, items, values, W, H, bu, bi, mu, lr, reg, reg_bias,
              acc_u=None, acc_i=None, reg_u=None, reg_i=None):
    """Plain-Python SGD (or LIBMF's per-row AdaGrad when ``acc_u``/``acc_i`` are given) over
    the blocks in ``block_order`` one after another, a rating's L2 weights times ``reg_u[u]``
    and ``reg_i[i]`` when given. Works on float64 copies; returns
    ``(W, H, bu, bi, acc_u, acc_i, sse)``."""
    W, H = W.astype(np.float64).copy(), H.astype(np.float64).copy()
    bu, bi = bu.astype(np.float64).copy(), bi.astype(np.float64).copy()
    adagrad = acc_u is not None
    if adagrad:
        acc_u, acc_i = acc_u.astype(np.float64).copy(), acc_i.astype(np.float64).copy()
    k, sse = W.shape[1], 0.0
    for b in np.ravel(block_order):
        for p in range(block_ptr[b], block_ptr[b + 1]):
            u, i = users[p], items[p]
            pred = mu + (bu[u] + bi[i] if len(bu) else 0.0) + W[u] @ H[i]
            e = values[p] - pred
            sse += e * e
            su = 1.0 if reg_u is None else reg_u[u]
            si = 1.0 if reg_i is None else reg_i[i]
            gw, gh = e * H[i] - reg * su * W[u], e * W[u] - reg * si * H[i]
            gbu = e - reg_bias * su * bu[u] if len(bu) else 0.0
            gbi = e - reg_bias * si * bi[i] if len(bu) else 0.0
            lu = li = lr
            if adagrad:
                d = k + 1 if len(bu) else k
                lu, li = lr / np.sqrt(acc_u[u]), lr / np.sqrt(acc_i[i])
                acc_u[u] += (gw @ gw + gbu ** 2) / d
                acc_i[i] += (gh @ gh + gbi ** 2) / d
            W[u] += lu * gw
            H[i] += li * gh
            if len(bu):
                bu[u] += lu * gbu
                bi[i] += li * gbi
    return W, H, bu, bi, acc_u, acc_i, sse


def sgd_epoch_batched(block_order, block_ptr, users, items, values, W, H, bu, bi, mu, lr, reg,
                      reg_bias, momentum, batch_size, VW, VH, reg_u=None, reg_i=None):
    """Mini-batch SGD with lazy momentum, as plain Python: each batch of a block is scored at
    its start, a row's gradient is summed over the batch and divided by the batch length,
    ``v = momentum v + g`` and ``x -= lr v`` for the rows in the batch (bias = last column of
    the velocities). Returns ``(W, H, bu, bi, VW, VH, sse)``."""
    k = W.shape[1]
    has_bias = len(bu) > 0
    Wb = np.hstack([W, (bu if has_bias else np.zeros(len(W)))[:, None]]).astype(np.float64)
    Hb = np.hstack([H, (bi if has_bias else np.zeros(len(H)))[:, None]]).astype(np.float64)
    use_mom = len(VW) > 0
    VW = VW.astype(np.float64).copy()
    VH = VH.astype(np.float64).copy()
    sse = 0.0
    for b in np.ravel(block_order):
        for b0 in range(block_ptr[b], block_ptr[b + 1], batch_size):
            b1 = min(b0 + batch_size, block_ptr[b + 1])
            gu, gi = {}, {}
            for p in range(b0, b1):
                u, i = users[p], items[p]
                pred = mu + Wb[u, :k] @ Hb[i, :k] + (Wb[u, k] + Hb[i, k] if has_bias else 0.0)
                e = values[p] - pred
                sse += e * e
                su = 1.0 if reg_u is None else reg_u[u]
                si = 1.0 if reg_i is None else reg_i[i]
                g = np.append(reg * su * Wb[u, :k] - e * Hb[i, :k],
                              reg_bias * su * Wb[u, k] - e if has_bias else 0.0)
                h = np.append(reg * si * Hb[i, :k] - e * Wb[u, :k],
                              reg_bias * si * Hb[i, k] - e if has_bias else 0.0)
                gu[u] = gu.get(u, 0.0) + g
                gi[i] = gi.get(i, 0.0) + h
            for grads, X, V in ((gu, Wb, VW), (gi, Hb, VH)):
                for row, g in grads.items():
                    step = g / (b1 - b0)
                    if use_mom:
                        step = step + momentum * V[row]
                        V[row] = step
                    X[row] -= lr * step
    return (Wb[:, :k], Hb[:, :k], Wb[:, k] if has_bias else bu, Hb[:, k] if has_bias else bi,
            VW, VH, sse)


def implicit_sums(N_mask, Y):
    """``Z[u] = |N(u)|^-1/2 sum_{j in N(u)} Y[j]`` from a dense boolean ``N_mask``."""
    counts = N_mask.sum(1)
    scale = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    return scale[:, None] * (N_mask.astype(np.float64) @ Y.astype(np.float64))


def svdpp_predict(mu, bu, bi, W, H, Y, N_mask, users, items):
    """SVD++ predictions from the formula, with ``N_mask`` the dense users x items implicit set."""
    Z = implicit_sums(N_mask, Y)
    return np.array([mu + bu[u] + bi[i] + H[i] @ (W[u] + Z[u])
                     for u, i in zip(users, items, strict=True)])


def svdpp_epoch(block_order, block_ptr, users, items, values, W, Z, H, bu, bi, mu, lr, reg,
                reg_bias):
    """The ratings pass of an SVD++ epoch as plain Python (``Z`` fixed). Returns
    ``(W, H, bu, bi, G, sse)`` with ``G[u] = sum_i e_ui h_i`` (old ``h_i``)."""
    W, H = W.astype(np.float64).copy(), H.astype(np.float64).copy()
    bu, bi = bu.astype(np.float64).copy(), bi.astype(np.float64).copy()
    G, sse = np.zeros_like(W), 0.0
    for b in np.ravel(block_order):
        for p in range(block_ptr[b], block_ptr[b + 1]):
            u, i = users[p], items[p]
            pu = W[u] + Z[u]
            e = values[p] - (mu + bu[u] + bi[i] + H[i] @ pu)
            sse += e * e
            G[u] += e * H[i]
            w_old = W[u].copy()
            W[u] += lr * (e * H[i] - reg * w_old)
            H[i] += lr * (e * pu - reg * H[i])
            bu[u] += lr * (e - reg_bias * bu[u])
            bi[i] += lr * (e - reg_bias * bi[i])
    return W, H, bu, bi, G, sse


def implicit_update(N_mask, G_scaled, Y, lr, reg):
    """``y_j <- (1 - lr reg)^sqrt(c_j) y_j + lr / sqrt(c_j) sum_{u: j in N(u)} G_scaled[u]``,
    ``c_j`` the number of users with ``j`` in ``N(u)``; items nobody has stay as they are."""
    Y = Y.astype(np.float64).copy()
    for j in range(Y.shape[0]):
        us = np.flatnonzero(N_mask[:, j])
        if len(us):
            root = np.sqrt(len(us))
            Y[j] = (1 - lr * reg) ** root * Y[j] + lr / root * G_scaled[us].sum(0)
    return Y


# --------------------------------------------------- CCD++, HALS, NMF (hals.py, poisson.py)

def ccd_update(res, mask, x, y, l1, l2, exponent, nonneg):
    """One exact coordinate update of ``x`` (rows of dense ``res``/``mask``; the L2 weight times
    the row's count to the power ``exponent``); returns (x, res)."""
    x, res = x.astype(np.float64).copy(), res.astype(np.float64).copy()
    for u in range(len(x)):
        obs = np.flatnonzero(mask[u])
        if len(obs) == 0:
            x[u] = 0.0
            continue
        target = res[u, obs] + x[u] * y[obs]
        num, den = target @ y[obs], y[obs] @ y[obs] + l2 * float(len(obs)) ** exponent
        new = np.sign(num) * max(abs(num) - l1, 0.0) / den
        if nonneg:
            new = max((num - l1) / den, 0.0) if den > 0 else 0.0
        res[u, obs] = target - new * y[obs]
        x[u] = new
    return x, res


def hals_sweep(W, HHt, XHt):
    """scikit-learn's ``_update_cdnmf_fast`` (no shuffle), column by column; returns W."""
    W = W.astype(np.float64).copy()
    for t in range(W.shape[1]):
        for i in range(W.shape[0]):
            grad = -XHt[i, t] + HHt[t] @ W[i]
            if HHt[t, t] != 0:
                W[i, t] = max(W[i, t] - grad / HHt[t, t], 0.0)
    return W


def mu_update(X_dense, mask, A, B, kl, observed, l1, l2):
    """Dense multiplicative update of ``A`` (rows of ``X_dense``) with ``B`` fixed."""
    pred = A @ B.T
    M = mask if observed else np.ones_like(X_dense, dtype=bool)
    if kl:
        num = np.where(mask, X_dense / np.maximum(pred, 1e-10), 0.0) @ B
        den = M.astype(float) @ B
    else:
        num = np.where(mask, X_dense, 0.0) @ B
        den = np.where(M, pred, 0.0) @ B
    return A * num / (den + l1 + l2 * A)


def poisson_loss(X_dense, mask, W, H, observed_only):
    """Generalised KL divergence of ``W H^T`` from ``X``, by the dense formula."""
    pred = np.maximum(W @ H.T, 1e-10)
    cells = mask if observed_only else np.ones_like(mask)
    x = np.where(cells, X_dense, 0.0)
    term = np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0) / pred), 0.0) - x + pred
    return float(np.sum(np.where(cells, term, 0.0)))


def poisson_sgd_epoch(X_dense, mask, A, B, lr, l1, l2, observed_only, max_ratio=1000.0):
    """Loop-by-loop twin of ``poisson_sgd_epoch`` on dense inputs; returns the new ``A``."""
    A = A.astype(np.float64).copy()
    y_sum = B.sum(axis=0)
    for u in range(A.shape[0]):
        obs = np.flatnonzero(mask[u])
        if len(obs) == 0:
            if not observed_only:
                A[u] = 0.0
            continue
        stored = B[obs].sum(axis=0)
        d = stored if observed_only else y_sum
        rest = np.zeros_like(d) if observed_only else np.maximum(y_sum - stored, 0) / len(obs)
        for i in obs:
            xhat = A[u] @ B[i]
            rel = max((xhat - X_dense[u, i]) / max(xhat, 1e-10), -max_ratio)
            g = rel * B[i] + rest + (l1 + l2 * A[u]) / len(obs)
            A[u] = np.maximum(A[u] - lr / np.maximum(d + l1, 1e-10) * (A[u] + 1e-6) * g, 0.0)
    return A


# ------------------------------------------------------------ random numbers (rng.py)

_M64 = (1 << 64) - 1


def mix64(z):
    """Python-integer twin of SplitMix64's finaliser."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def splitmix64(state):
    """Python-integer twin of the kernel's splitmix64: ``(new_state, bits)``."""
    state = (state + 0x9E3779B97F4A7C15) & _M64
    return state, mix64(state)


def random_index(bits, n):
    """Lemire's multiply-shift on the top 32 of 64 bits: an index in ``[0, n)``."""
    return ((bits >> 32) * n) >> 32


def keyed_stream(seed, epoch, block):
    """Start state of the stream keyed by ``(seed, epoch, block)``."""
    return mix64((mix64((mix64(seed) + epoch) & _M64) + block) & _M64)


# ------------------------------------------------------------ BPR (bpr.py)


def bpr_triple_loss(w, hi, hj, bi, bj, reg):
    """``-log sigmoid(w.(hi - hj) + bi - bj) + reg/2 (|w|^2 + |hi|^2 + |hj|^2 + bi^2 + bj^2)``."""
    x = w @ (hi - hj) + bi - bj
    return np.logaddexp(0.0, -x) + reg / 2 * (w @ w + hi @ hi + hj @ hj + bi ** 2 + bj ** 2)


def bpr_epoch(R, W, H, b, n_samples, seeds, lr, reg, verify, popularity, loss_every):
    """Sequential BPR epoch on a dense 0/1 matrix, drawing exactly the kernel's samples.

    Returns updated copies ``(W, H, b)``, the summed ``-log sigmoid`` over samples whose
    index is a multiple of ``loss_every``, how many those are, and the skip count.
    """
    W, H, b = W.astype(float).copy(), H.astype(float).copy(), b.astype(float).copy()
    users, items = np.nonzero(R)  # row-major order = CSR order
    nnz, n_items = len(users), R.shape[1]
    per = -(-n_samples // len(seeds))
    total, counted, skipped = 0.0, 0, 0
    for c, seed in enumerate(seeds):
        state = int(seed)
        for s in range(c * per, min(n_samples, (c + 1) * per)):
            state, bits = splitmix64(state)
            p = random_index(bits, nnz)
            u, i = users[p], items[p]
            state, bits = splitmix64(state)
            j = items[random_index(bits, nnz)] if popularity else random_index(bits, n_items)
            if verify and R[u, j]:
                skipped += 1
                continue
            x = W[u] @ (H[i] - H[j]) + b[i] - b[j]
            if s % loss_every == 0:
                total += np.logaddexp(0.0, -x)
                counted += 1
            pair_step(W, H, b, (u, i, j), 1 / (1 + np.exp(x)), lr, reg)
    return W, H, b, total, counted, skipped


def pair_step(W, H, b, triple, g, lr, reg, accum=None):
    """Twin of ``bpr.pair_step``: raise ``x_uij`` with weight ``g``, L2 ``reg/2 |theta|^2``;
    ``accum`` (user, item accumulators): per-row AdaGrad on the mean squared gradient."""
    u, i, j = triple
    w, hi, hj = W[u].copy(), H[i].copy(), H[j].copy()
    gu, gi, gj = g * (hi - hj) - reg * w, g * w - reg * hi, -g * w - reg * hj
    lu = li = lj = lr
    if accum is not None:
        accum[0][u] += np.mean(gu ** 2)
        accum[1][i] += np.mean(gi ** 2)
        accum[1][j] += np.mean(gj ** 2)
        lu, li, lj = (lr / np.sqrt(a[r]) for a, r in ((accum[0], u), (accum[1], i),
                                                      (accum[1], j)))
    W[u] = w + lu * gu
    H[i] = hi + li * gi
    H[j] = H[j] + lj * gj  # as the kernel: with j == i both steps land on the row
    bi, bj = b[i], b[j]
    b[i] = bi + li * (g - reg * bi)
    b[j] = b[j] + lj * (-g - reg * bj)


def warp_epoch(R, W, H, b, n_samples, seeds, lr, reg, verify, popularity, max_trials, os_k,
               os_n, accum=None):
    """Sequential WARP / k-OS WARP epoch on a dense 0/1 matrix, drawing exactly the kernel's
    samples (one stream per seed, chunks in order); ``accum``: per-row AdaGrad accumulators
    (user, item), updated in place, each row's gaining the mean square of its gradient.

    Returns updated copies ``(W, H, b)``, the summed rank-weighted hinge of the steps taken,
    the number of steps, the trials whose item was a positive and ``accum``.
    """
    W, H, b = W.astype(float).copy(), H.astype(float).copy(), b.astype(float).copy()
    users, items = np.nonzero(R)  # row-major order = CSR order
    nnz, n_items = len(users), R.shape[1]
    per = -(-n_samples // len(seeds))
    total, steps, skipped = 0.0, 0, 0
    for c, seed in enumerate(seeds):
        state = int(seed)
        for _ in range(c * per, min(n_samples, (c + 1) * per)):
            state, bits = splitmix64(state)
            p = random_index(bits, nnz)
            u, i = users[p], items[p]
            if os_n > 1:  # the os_k-th best scored of os_n positives drawn from u's row
                row = np.flatnonzero(R[u])
                drawn = []
                for _ in range(os_n):
                    state, bits = splitmix64(state)
                    drawn.append(row[random_index(bits, len(row))])
                scores = [W[u] @ H[d] + b[d] for d in drawn]
                i = drawn[np.argsort(-np.array(scores), kind="stable")[min(os_k, os_n) - 1]]
            x_i = W[u] @ H[i] + b[i]
            for t in range(1, max_trials + 1):
                state, bits = splitmix64(state)
                j = items[random_index(bits, nnz)] if popularity else random_index(bits, n_items)
                x_j = W[u] @ H[j] + b[j]
                if x_j <= x_i - 1:
                    continue
                if j == i or (verify and R[u, j]):
                    skipped += 1
                    continue
                g = min(np.log(max(1.0, np.floor((n_items - 1) / t))), 10.0)
                total += g * (1 - x_i + x_j)
                steps += 1
                pair_step(W, H, b, (u, i, j), g, lr, reg, accum)
                break
    return W, H, b, total, steps, skipped, accum


# ---- neural core (nn.py, autorec.py, residual_mf.py)
#
# Activation codes 0..4 = identity, sigmoid, tanh, relu, elu; loss codes 0 squared, 1 log;
# optimiser tuples (code, lr, beta1, beta2, eps) with code 0 SGD (beta1 = momentum), 1 Adam.
# Everything here is float64 NumPy written from the formulas, on dense arrays.

def nn_act(z, code):
    """The activation ``code`` applied elementwise."""
    z = np.asarray(z, dtype=float)
    if code == 1:
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z), without overflow
    if code == 2:
        return np.tanh(z)
    if code == 3:
        return np.maximum(z, 0.0)
    if code == 4:
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
    return z


def nn_act_grad(z, code):
    """Derivative of the activation with respect to its input ``z``."""
    z = np.asarray(z, dtype=float)
    if code == 1:
        s = nn_act(z, 1)
        return s * (1.0 - s)
    if code == 2:
        return 1.0 - np.tanh(z) ** 2
    if code == 3:
        return (z > 0).astype(float)
    if code == 4:
        return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
    return np.ones_like(z)


def nn_dense_forward(x, W, b, code):
    """``f(x @ W + b)`` (``x`` one sample or a batch of rows)."""
    return nn_act(x @ W + b, code)


def nn_dense_backward(x, W, b, code, dout):
    """``(dx, gW, gb)`` of ``sum(dout * f(x @ W + b))`` for a batch ``x`` (n, n_in)."""
    dz = dout * nn_act_grad(x @ W + b, code)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


def nn_mlp_unpack(theta, sizes):
    """The ``[(W_0, b_0), ...]`` views of a flat MLP parameter vector."""
    layers, w = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = theta[w:w + n_in * n_out].reshape(n_in, n_out)
        b = theta[w + n_in * n_out:w + n_in * n_out + n_out]
        layers.append((W, b))
        w += n_in * n_out + n_out
    return layers


def nn_mlp_forward(theta, sizes, codes, X):
    """Every layer's output for a batch ``X`` (n, sizes[0]): ``[X, a_1, ..., a_L]``."""
    outs = [np.asarray(X, dtype=float)]
    for (W, b), code in zip(nn_mlp_unpack(np.asarray(theta, float), sizes), codes,
                            strict=True):
        outs.append(nn_dense_forward(outs[-1], W, b, code))
    return outs


def nn_mlp_backward(theta, sizes, codes, X, dout):
    """``(grad, dX)`` of ``sum(dout * mlp(X))``: the flat parameter gradient summed over the
    batch, and the gradient with respect to each input row."""
    theta = np.asarray(theta, float)
    layers = nn_mlp_unpack(theta, sizes)
    outs = nn_mlp_forward(theta, sizes, codes, X)
    grads = []
    d = np.asarray(dout, dtype=float)
    for layer in range(len(layers) - 1, -1, -1):
        W, b = layers[layer]
        d, gW, gb = nn_dense_backward(outs[layer], W, b, codes[layer], d)
        grads.append((gW, gb))
    flat = np.concatenate([np.concatenate([gW.ravel(), gb]) for gW, gb in grads[::-1]])
    return flat, d


def nn_loss(pred, y, code):
    """``(loss, dloss/dpred)`` elementwise: squared ``(p - y)^2 / 2``, or log loss on the logit
    ``log(1 + e^p) - y p``."""
    p, y = np.asarray(pred, float), np.asarray(y, float)
    if code == 1:
        return np.logaddexp(0.0, p) - y * p, nn_act(p, 1) - y
    return 0.5 * (p - y) ** 2, p - y


def nn_opt_step(x, g, s1, s2, opt, t, decay):
    """One step from the textbook formulas; returns new ``(x, s1, s2)`` (float64 copies).

    Adam: ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``, ``x - lr m_hat /
    (sqrt(v_hat) + eps)``; SGD: ``v = momentum v + g``, ``x - lr v`` (``s1`` None: ``x - lr
    g``). ``g`` gets ``decay * x`` added first.
    """
    code, lr, b1, b2, eps = opt
    x = np.asarray(x, float)
    g = np.asarray(g, float) + decay * x
    if code == 1:
        m = b1 * np.asarray(s1, float) + (1 - b1) * g
        v = b2 * np.asarray(s2, float) + (1 - b2) * g * g
        return x - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps), m, v
    if s1 is None:
        return x - lr * g, None, None
    v = b1 * np.asarray(s1, float) + g
    return x - lr * v, v, None


def autorec_objective(R, M, V, mu, W, b, code, reg):
    """AutoRec's objective on dense rows ``R`` with observed mask ``M`` (unobserved cells of
    ``R`` are 0): ``(J, (gV, gmu, gW, gb), sse)`` from the matrix formulas."""
    R, M = np.asarray(R, float), np.asarray(M, float)
    V, mu, W, b = (np.asarray(a, float) for a in (V, mu, W, b))
    Z = R @ V + mu
    H = nn_act(Z, code)
    E = (H @ W.T + b - R) * M
    J = 0.5 * np.sum(E ** 2) + 0.5 * reg * (np.sum(W ** 2) + np.sum(V ** 2))
    Dz = (E @ W) * nn_act_grad(Z, code)
    grads = (R.T @ Dz + reg * V, Dz.sum(axis=0), E.T @ H + reg * W, E.sum(axis=0))
    return J, grads, np.sum(E ** 2)


def autorec_epoch(R, M, order, params, state, opt, code, reg, batch_size, t0):
    """Minibatch epoch of ``autorec.autorec_epoch``: per batch of rows, the mean gradient of the
    rows' ``1/2 |e|^2`` plus ``reg / n_rows`` times ``W`` and ``V``, then a dense step of every
    parameter. ``params`` (V, mu, W, b); ``state`` a list of ``(s1, s2)`` per parameter (None
    where absent). Returns ``(params, state, sse)`` as float64 copies."""
    params = [np.asarray(a, float).copy() for a in params]
    state = list(state)
    n_rows, sse, t = R.shape[0], 0.0, t0
    for b0 in range(0, n_rows, batch_size):
        rows = order[b0:b0 + batch_size]
        t += 1
        _, grads, s = autorec_objective(R[rows], M[rows], *params, code, 0.0)
        sse += s
        for j in range(4):
            g = grads[j] / len(rows) + (reg / n_rows * params[j] if j in (0, 2) else 0.0)
            params[j], s1, s2 = nn_opt_step(params[j], g, *state[j], opt, t, 0.0)
            state[j] = (s1, s2)
    return params, state, sse


def residual_mf_predict(users, items, P, Q, bu, bi, theta, sizes, codes):
    """``b_u + c_i + p_u . q_i + mlp([p_u, q_i])`` for the given pairs (without the mean)."""
    X = np.hstack([P[users], Q[items]]).astype(float)
    f = nn_mlp_forward(theta, sizes, codes, X)[-1][:, 0]
    return bu[users] + bi[items] + np.sum(P[users] * Q[items], axis=1) + f


def residual_mf_batch(users, items, y, params, sizes, codes, reg):
    """One batch's objective (see ``residual_mf``) and its gradient as dense tables:
    ``(J, (gP, gQ, gbu, gbi, gtheta), sse)``; ``reg = (reg, reg_bias, reg_weights)``."""
    P, Q, bu, bi, theta = (np.asarray(a, float) for a in params)
    r, rb, rw = reg
    m, k = len(users), P.shape[1]
    e = residual_mf_predict(users, items, P, Q, bu, bi, theta, sizes, codes) - y
    J = (np.mean(0.5 * e ** 2 + 0.5 * r * (np.sum(P[users] ** 2, 1) + np.sum(Q[items] ** 2, 1))
                 + 0.5 * rb * (bu[users] ** 2 + bi[items] ** 2)) + 0.5 * rw * theta @ theta)
    X = np.hstack([P[users], Q[items]])
    gt, dX = nn_mlp_backward(theta, sizes, codes, X, e[:, None] / m)
    gP, gQ, gbu, gbi = (np.zeros_like(a) for a in (P, Q, bu, bi))
    np.add.at(gP, users, (e[:, None] * Q[items] + m * dX[:, :k] + r * P[users]) / m)
    np.add.at(gQ, items, (e[:, None] * P[users] + m * dX[:, k:] + r * Q[items]) / m)
    np.add.at(gbu, users, (e + rb * bu[users]) / m)
    np.add.at(gbi, items, (e + rb * bi[items]) / m)
    return J, (gP, gQ, gbu, gbi, gt + rw * theta), np.sum(e ** 2)


def residual_mf_epoch(order, users, items, y, params, state, sizes, codes, opt, reg,
                      batch_size, t0):
    """Minibatch epoch of ``residual_mf.residual_mf_epoch``: the MLP weights get a dense step
    per batch, each embedding table only its rows present in the batch (lazy). ``state`` is a
    list of ``(s1, s2)`` per parameter (None where absent). Returns ``(params, state, sse)``."""
    params = [np.asarray(a, float).copy() for a in params]
    state = [tuple(None if s is None else np.asarray(s, float).copy() for s in st)
             for st in state]
    sse, t = 0.0, t0
    for b0 in range(0, len(order), batch_size):
        idx = order[b0:b0 + batch_size]
        t += 1
        u, i = users[idx], items[idx]
        _, grads, s = residual_mf_batch(u, i, y[idx], params, sizes, codes, (reg[0], reg[1], 0))
        sse += s
        touched = (np.unique(u), np.unique(i), np.unique(u), np.unique(i))
        for j in range(4):
            rows = touched[j]
            s1, s2 = state[j]
            x, n1, n2 = nn_opt_step(params[j][rows], grads[j][rows],
                                    None if s1 is None else s1[rows],
                                    None if s2 is None else s2[rows], opt, t, 0.0)
            params[j][rows] = x
            if s1 is not None:
                s1[rows] = n1
            if s2 is not None:
                s2[rows] = n2
        params[4], n1, n2 = nn_opt_step(params[4], grads[4], *state[4], opt, t, reg[2])
        state[4] = (n1, n2)
    return params, state, sse


def residual_mf_scores(users, params, sizes, codes, mu):
    """Dense scores ``mu + rhat`` of ``users`` against every item, pair by pair."""
    P, Q, bu, bi, theta = (np.asarray(a, float) for a in params)
    n_items = Q.shape[0]
    uu = np.repeat(np.asarray(users), n_items)
    ii = np.tile(np.arange(n_items), len(users))
    pred = residual_mf_predict(uu, ii, P, Q, bu, bi, theta, sizes, codes)
    return mu + pred.reshape(len(users), n_items)


# ---------------------------------------------------------------------- NCF and its sampler
def nth_absent(present, q):
    """The ``q``-th non-negative integer not in ``present``, by listing the complement."""
    present = np.asarray(present)
    top = q + len(present) + 1
    return int(np.setdiff1d(np.arange(top), present)[q])


def draw_negative(X_csr, u, n_cols, exclude, state):
    """Twin of ``negatives.draw_negative`` on a scipy CSR matrix: ``(new state, column)``."""
    state, bits = splitmix64(state)
    row = X_csr.indices[X_csr.indptr[u]:X_csr.indptr[u + 1]]
    if not exclude:
        return state, ((bits >> 32) * n_cols) >> 32
    absent = np.setdiff1d(np.arange(n_cols), row)
    return state, int(absent[((bits >> 32) * len(absent)) >> 32])


def ncf_instances(order, X_csr, n_neg, exclude, seed, epoch):
    """The epoch's (user, item, label) instances of ``ncf.ncf_epoch``: each positive of
    ``order`` followed by ``n_neg`` negatives, instance ``q`` drawing from stream
    ``(seed, epoch, q)``."""
    rows = np.repeat(np.arange(X_csr.shape[0]), np.diff(X_csr.indptr))
    out = []
    for q in range(len(order) * (n_neg + 1)):
        p = order[q // (n_neg + 1)]
        u = rows[p]
        if q % (n_neg + 1) == 0:
            out.append((u, X_csr.indices[p], 1))
        else:
            out.append((u, draw_negative(X_csr, u, X_csr.shape[1], exclude,
                                         keyed_stream(seed, epoch, q))[1], 0))
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def ncf_split(w, sizes, kg):
    """``(theta, h, b)`` of NCF's flat dense vector (no tower when ``len(sizes) < 2``)."""
    w = np.asarray(w, float)
    n_theta = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True)) \
        if len(sizes) > 1 else 0
    return w[:n_theta], w[n_theta:-1], w[-1]


def ncf_features(users, items, U, V, w, sizes, codes, kg):
    """The output layer's inputs ``[p_u * q_i, g([p'_u, q'_i])]`` of each pair, and the
    tower's input (``None`` without a tower); index -1 reads a row of zeros."""
    U = np.vstack([np.asarray(U, float), np.zeros(np.shape(U)[1])])
    V = np.vstack([np.asarray(V, float), np.zeros(np.shape(V)[1])])
    Pu, Qi = U[users], V[items]
    theta, _, _ = ncf_split(w, sizes, kg)
    parts = [Pu[:, :kg] * Qi[:, :kg]]
    X = None
    if len(sizes) > 1:
        X = np.hstack([Pu[:, kg:], Qi[:, kg:]])
        parts.append(nn_mlp_forward(theta, sizes, codes, X)[-1])
    return np.hstack(parts), X


def ncf_logits(users, items, U, V, w, sizes, codes, kg):
    """``x_ui = h . features + b`` of each pair."""
    F, _ = ncf_features(users, items, U, V, w, sizes, codes, kg)
    _, h, b = ncf_split(w, sizes, kg)
    return F @ h + b


def ncf_batch(inst, U, V, w, sizes, codes, kg, reg):
    """One batch's mean objective ``1/m sum [l + reg (|U_u|^2 + |V_i|^2 + |w|^2)]`` and its
    gradient as dense tables: ``(J, (gU, gV, gw), log loss sum)``."""
    U, V, w = (np.asarray(a, float) for a in (U, V, w))
    users, items, y = inst[:, 0], inst[:, 1], inst[:, 2].astype(float)
    m = len(users)
    F, X = ncf_features(users, items, U, V, w, sizes, codes, kg)
    theta, h, b = ncf_split(w, sizes, kg)
    x = F @ h + b
    loss, e = nn_loss(x, y, 1)
    J = np.mean(loss + reg * (np.sum(U[users] ** 2, 1) + np.sum(V[items] ** 2, 1)
                              + w @ w))
    gU, gV = np.zeros_like(U), np.zeros_like(V)
    gh = F.T @ e / m
    g_theta = np.zeros(0)
    np.add.at(gU, (users, slice(0, kg)), e[:, None] * h[:kg] * V[items, :kg] / m)
    np.add.at(gV, (items, slice(0, kg)), e[:, None] * h[:kg] * U[users, :kg] / m)
    if X is not None:
        km = U.shape[1] - kg
        g_theta, dX = nn_mlp_backward(theta, sizes, codes, X, e[:, None] * h[kg:] / m)
        np.add.at(gU, (users, slice(kg, None)), dX[:, :km])
        np.add.at(gV, (items, slice(kg, None)), dX[:, km:])
    np.add.at(gU, users, 2 * reg * U[users] / m)
    np.add.at(gV, items, 2 * reg * V[items] / m)
    gw = np.concatenate([g_theta, gh, [e.sum() / m]]) + 2 * reg * w
    return J, (gU, gV, gw), float(loss.sum())


def ncf_epoch(order, X_csr, params, state, net, opt, hyper, batch_size, t0):
    """Minibatch epoch of ``ncf.ncf_epoch`` from the formulas: per batch the mean gradient,
    a lazy step of the embedding rows present, a dense step of ``w``. ``state`` a list of
    ``(s1, s2)`` per table (None where absent); ``hyper = (reg, n_neg, exclude, seed,
    epoch)``. Returns ``(params, state, J, log loss)`` as float64 copies."""
    reg, n_neg, exclude, seed, epoch = hyper
    sizes, codes, kg = net
    params = [np.asarray(a, float).copy() for a in params]
    state = [tuple(None if s is None else np.asarray(s, float).copy() for s in st)
             for st in state]
    inst = ncf_instances(order, X_csr, n_neg, exclude, seed, epoch)
    total, data, t = 0.0, 0.0, t0
    for q0 in range(0, len(inst), batch_size):
        part = inst[q0:q0 + batch_size]
        t += 1
        J, grads, loss = ncf_batch(part, *params, sizes, codes, kg, reg)
        total += J * len(part)
        data += loss
        for j, rows in ((0, np.unique(part[:, 0])), (1, np.unique(part[:, 1]))):
            s1, s2 = state[j]
            x, n1, n2 = nn_opt_step(params[j][rows], grads[j][rows],
                                    None if s1 is None else s1[rows],
                                    None if s2 is None else s2[rows], opt, t, 0.0)
            params[j][rows] = x
            if s1 is not None:
                s1[rows] = n1
            if s2 is not None:
                s2[rows] = n2
        params[2], n1, n2 = nn_opt_step(params[2], grads[2], *state[2], opt, t, 0.0)
        state[2] = (n1, n2)
    return params, state, total, data


def ncf_block_scores(Q, V, w, sizes, codes, kg):
    """Dense logits without ``b`` of the user rows ``Q`` against every item, pair by pair."""
    Q = np.asarray(Q, float)
    n, n_items = len(Q), len(V)
    users = np.repeat(np.arange(n), n_items)
    items = np.tile(np.arange(n_items), n)
    _, _, b = ncf_split(w, sizes, kg)
    return (ncf_logits(users, items, Q, V, w, sizes, codes, kg) - b).reshape(n, n_items)
def residual_mf_fold_in_objective(x, b, others, other_bias, y, theta, sizes, codes, own, reg,
                                  reg_bias):
    """``(J, gx, gb)`` of one new row: the mean of ``1/2 e^2`` over its entries plus
    ``reg/2 |x|^2 + reg_bias/2 b^2``, the MLP reading ``[x, o_j]`` (``own="user"``) or
    ``[o_j, x]`` (``own="item"``), from the full first layer."""
    x, others = np.asarray(x, float), np.asarray(others, float)
    n, k = others.shape
    xs = np.repeat(x[None], n, axis=0)
    inp = np.hstack([xs, others] if own == "user" else [others, xs])
    f = nn_mlp_forward(theta, sizes, codes, inp)[-1][:, 0]
    e = b + np.asarray(other_bias, float) + others @ x + f - np.asarray(y, float)
    J = 0.5 * np.mean(e ** 2) + 0.5 * reg * x @ x + 0.5 * reg_bias * b * b
    _, dX = nn_mlp_backward(theta, sizes, codes, inp, e[:, None])
    dx = dX[:, :k] if own == "user" else dX[:, k:]
    gx = (e @ others + dx.sum(axis=0)) / n + reg * x
    return J, gx, e.mean() + reg_bias * b


def residual_mf_fold_in(indptr, indices, y, other, other_bias, theta, sizes, codes, own, reg,
                        reg_bias, lr, momentum, n_steps, X, b):
    """Row by row: ``n_steps`` of heavy-ball gradient descent on
    :func:`residual_mf_fold_in_objective` from ``X[r]``, ``b[r]``, keeping the best iterate
    (rows without entries unchanged). Returns float64 copies ``(X, b)``."""
    X, b = np.asarray(X, float).copy(), np.asarray(b, float).copy()
    for r in range(len(X)):
        lo, hi = indptr[r], indptr[r + 1]
        if hi == lo:
            continue
        cols = indices[lo:hi]
        x, c, vx, vb = X[r].copy(), b[r], np.zeros(X.shape[1]), 0.0
        best = (np.inf, x, c)
        for step in range(n_steps + 1):
            J, gx, gb = residual_mf_fold_in_objective(x, c, other[cols], other_bias[cols],
                                                      y[lo:hi], theta, sizes, codes, own, reg,
                                                      reg_bias)
            if J < best[0]:
                best = (J, x.copy(), c)
            if step == n_steps:
                break
            vx, vb = momentum * vx + gx, momentum * vb + gb
            x, c = x - lr * vx, c - lr * vb
        X[r], b[r] = best[1], best[2]
    return X, b


# ---------------------------------------------------------------------------- L-BFGS (lbfgs.py)

def lbfgs_two_loop(g, pairs):
    """``-H g`` by the textbook two-loop recursion (Nocedal & Wright, Algorithm 7.4) over the
    stored ``pairs`` [(s, y), ...], oldest first, with ``H0 = (s.y / y.y) I`` of the newest."""
    q = -np.asarray(g, float)
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        alphas.append(a)
        q = q - a * y
    if pairs:
        s, y = pairs[-1]
        q = q * (s @ y) / (y @ y)
    for (s, y), a in zip(pairs, reversed(alphas), strict=True):
        b = (y @ q) / (s @ y)
        q = q + (a - b) * s
    return q

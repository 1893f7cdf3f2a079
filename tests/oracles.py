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


def als_half_sweep(R_dense, mask, Y, y_bias, offset, reg, reg_bias, scale_reg, fit_bias):
    """Row-by-row ridge regression with ``np.linalg.lstsq``-free normal equations.

    ``R_dense``/``mask``: ratings and which cells are observed. Returns (X, x_bias).
    """
    m, k = R_dense.shape[0], Y.shape[1]
    X, xb = np.zeros((m, k)), np.zeros(m)
    for u in range(m):
        obs = np.flatnonzero(mask[u])
        if len(obs) == 0:
            continue
        Z = Y[obs].astype(np.float64)
        t = R_dense[u, obs] - offset - (y_bias[obs] if len(y_bias) else 0.0)
        s = len(obs) if scale_reg else 1.0
        pen = [reg * s] * k
        if fit_bias:
            Z = np.hstack([Z, np.ones((len(obs), 1))])
            pen.append(reg_bias * s)
        sol = np.linalg.solve(Z.T @ Z + np.diag(pen), Z.T @ t)
        X[u] = sol[:k]
        if fit_bias:
            xb[u] = sol[k]
    return X, xb


def mf_objective(R_dense, mask, W, H, ub, ib, mu, reg, reg_bias, scale_reg):
    """The biased-MF objective of ``MatrixFactorization`` on a dense masked matrix."""
    pred = mu + W @ H.T
    if ub is not None:
        pred = pred + ub[:, None] + ib[None, :]
    sse = np.sum(((R_dense - pred) * mask) ** 2)
    su = mask.sum(1) if scale_reg else np.ones(len(W))
    si = mask.sum(0) if scale_reg else np.ones(len(H))
    pen = reg * (su @ (W ** 2).sum(1) + si @ (H ** 2).sum(1))
    if ub is not None:
        pen += reg_bias * (su @ ub ** 2 + si @ ib ** 2)
    return sse + pen

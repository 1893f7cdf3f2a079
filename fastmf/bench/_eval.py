"""The metrics every runner reports: test RMSE for rating models, P@10 and nDCG@10 for ranking."""

import numpy as np

from ._data import positives


def rmse(test, pred, fill=None):
    """``{"rmse": ...}`` of predictions for ``test``; NaN predictions are set to ``fill``."""
    pred = np.asarray(pred, dtype=np.float64)
    if fill is not None:
        pred = np.where(np.isfinite(pred), pred, fill)
    return {"rmse": float(np.sqrt(np.mean((np.asarray(test.values) - pred) ** 2)))}


def ranking(factors, train_pos, test_pos, k=10):
    """``{"p@10": ..., "ndcg@10": ...}`` of a ranking model or ``(U, V)`` factors.

    ``train_pos`` and ``test_pos`` are the positives (see :func:`positives`); training items
    are excluded from each user's list, and users without a test positive are skipped.
    """
    from ..metrics import ranking_metrics

    if isinstance(factors, tuple):
        U, V = (np.ascontiguousarray(np.nan_to_num(np.asarray(f, dtype=np.float32)))
                for f in factors)
        factors = (U, V)
    m = ranking_metrics(factors, train_pos, test_pos, k=k)
    return {f"p@{k}": m["precision"], f"ndcg@{k}": m["ndcg"]}


def ranking_data(case, train, test):
    """Train and test positives of a ranking case (``case["positive"]``, default 4)."""
    threshold = case.get("positive", 4.0)
    return positives(train, threshold), positives(test, threshold)

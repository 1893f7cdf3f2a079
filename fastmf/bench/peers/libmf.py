"""LIBMF through the ``libmf`` ctypes binding: FPSGD with per-row AdaGrad, no biases.

Its ``MF.predict`` returned values unrelated to the fitted model here, so predictions come
from ``p_factors() @ q_factors().T``; rows without training ratings have NaN factors and get
the global mean.
"""

import contextlib
import io

import numpy as np

from .._eval import rmse


def mf(case, train, test, threads, *, eta=0.1, reg=0.05):
    """``libmf.mf.MF(k, nr_iters=iters, eta, lambda_p2=lambda_q2=reg, no L1)``."""
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the path of its library
        from libmf import mf as libmf_mf
    X = np.column_stack([train.users, train.items, train.values]).astype(np.float32)
    mean = float(train.values.mean())

    def fit():
        model = libmf_mf.MF(k=case["k"], nr_iters=case["iters"], eta=eta, lambda_p1=0.0,
                            lambda_q1=0.0, lambda_p2=reg, lambda_q2=reg, nr_threads=threads,
                            nr_bins=max(26, 2 * threads + 1), quiet=True)
        model.fit(X)
        return model

    def evaluate(model):
        P, Q = model.p_factors(), model.q_factors()
        known = (test.users < len(P)) & (test.items < len(Q))
        pred = np.full(len(test.values), mean)
        pred[known] = np.einsum("ij,ij->i", P[test.users[known]], Q[test.items[known]])
        return rmse(test, pred, fill=mean)

    return fit, evaluate

"""NCF by minibatch Adam or SGD over positives and freshly sampled negatives."""

import numpy as np

from .._kernels.ncf import ncf_epoch
from .._kernels.nn import ADAM, RELU, SGD
from .base import Solver

#: Adam's moment decays and epsilon (PyTorch's and Keras's defaults).
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


def network(model, n_factors, layers):
    """``(sizes, codes, kg)`` of the kernels: the tower's layer sizes (``[0]`` without one),
    its activation codes (ReLU) and the GMF embedding width."""
    kg = 0 if model == "mlp" else n_factors
    if model == "gmf":
        return np.zeros(1, np.int64), np.zeros(0, np.int64), kg
    sizes = np.asarray(layers, np.int64)
    return sizes, np.full(len(sizes) - 1, RELU, np.int64), kg


def optimizer(params):
    """The kernels' ``opt`` tuple (see :mod:`fastmf._kernels.nn`)."""
    if params["optimizer"] == "adam":
        return (ADAM, params["learning_rate"], BETA1, BETA2, EPS)
    return (SGD, params["learning_rate"], 0.0, 0.0, 0.0)


def positives(X):
    """``(indptr, indices, rows)`` of the positive (non-zero) entries of a canonical CSR
    matrix: its structure without stored zeros, and the row of each entry."""
    if X.nnz and not X.data.all():
        X = X.copy()
        X.eliminate_zeros()
    rows = np.repeat(np.arange(X.shape[0], dtype=X.indices.dtype), np.diff(X.indptr))
    return X.indptr, X.indices, rows


class NCFSolver(Solver):
    """One ``step()`` = one epoch over every positive and ``n_negatives`` negatives drawn for
    each; returns ``train_loss`` (the objective of :mod:`fastmf._kernels.ncf` over the
    epoch's instances, each term as it was before its batch's step) and ``log_loss`` (its
    data term)."""

    divergence_hint = "Lower learning_rate."

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        self.entries = positives(ratings.csr)
        self.net = network(params["model"], params["n_factors"], params["layers"])
        self.params, self.rng = params, rng
        dtype = params["dtype"]
        self.U, self.V = state["user_factors_"], state["item_factors_"]
        self.n_theta = len(state["mlp_weights_"])
        self.w = np.concatenate([state["mlp_weights_"], state["output_weights_"],
                                 [state["output_bias_"]]]).astype(dtype)
        adam = params["optimizer"] == "adam"

        def moments(X):
            return np.zeros(X.shape if adam else (0,) * X.ndim, dtype)

        self.moments = tuple((moments(self.U), moments(self.V), moments(self.w))
                             for _ in range(2))
        self.seed = rng.integers(0, 2**63, dtype=np.uint64)
        self.epoch = 0
        self.steps = 0

    def step(self):
        p = self.params
        indptr, indices, rows = self.entries
        order = self.rng.permutation(len(indices))
        total, data = ncf_epoch(order, self.entries, (self.U, self.V, self.w), self.moments,
                                self.net, optimizer(p),
                                (p["reg"], p["n_negatives"], p["exclude_positives"],
                                 self.seed, self.epoch),
                                (p["batch_size"], self.steps))
        n = len(order) * (p["n_negatives"] + 1)
        self.steps += -(-n // p["batch_size"])
        self.epoch += 1
        return {"train_loss": total, "log_loss": data}

    def state(self):
        n = self.n_theta
        return {"user_factors_": self.U, "item_factors_": self.V,
                "mlp_weights_": self.w[:n], "output_weights_": self.w[n:-1],
                "output_bias_": float(self.w[-1])}

    def snapshot(self):
        return (self.U.copy(), self.V.copy(), self.w.copy())

    def restore(self, snapshot):
        for current, value in zip((self.U, self.V, self.w), snapshot, strict=True):
            current[...] = value

"""BPR and WARP by Hogwild SGD over sampled (user, positive, negative) triples."""

import numpy as np

from .._kernels.bpr import UPDATE_ALL, UPDATE_POSITIVE, bpr_epoch, pair_set
from .._kernels.warp import warp_epoch
from .base import Solver

#: Chunks (independent random streams) per epoch: fixed, so a seed means the same samples for
#: any thread count.
N_STREAMS = 256


def positives(X, verify):
    """``(indptr, indices, rows, pairs)`` of a canonical CSR matrix's positive entries: its
    structure without stored zeros, the row of each entry, and their
    :func:`~fastmf._kernels.bpr.pair_set` when ``verify`` (else an empty array)."""
    X = X.copy()
    X.eliminate_zeros()
    rows = np.repeat(np.arange(X.shape[0], dtype=X.indices.dtype), np.diff(X.indptr))
    pairs = pair_set(X.indptr, X.indices, X.shape[1]) if verify else np.zeros(0, np.int64)
    return X.indptr, X.indices, rows, pairs


def epoch(entries, W, H, b, rng, params, mode, n_negatives, accum=None):
    """One epoch of ``len(entries[1])`` samples of ``params["loss"]`` (``"bpr"``, ``"warp"``
    or ``"warp-kos"``); returns ``(loss sum, skipped, steps)``: the BPR log-loss sum estimate
    over the triples taken or the WARP rank-weighted hinge sum, the samples (BPR) or trials
    (WARP) whose negative was a positive, and the SGD steps taken.

    ``params["reg"]`` is the lambda of ``loss + lambda ||theta||^2``: the kernel's step (the
    gradient of ``reg/2 ||theta||^2``) gets ``2 lambda``. Item fold-in (``UPDATE_POSITIVE``)
    steps on its sampled positive, never on a k-OS order statistic.
    """
    indptr, indices, rows, pairs = entries
    seeds = rng.integers(0, 2**63, size=N_STREAMS, dtype=np.uint64)
    model = (W, H, b)
    hyper = (float(params["learning_rate"]), 2.0 * params["reg"])
    negatives = (pairs, params["negatives"] == "popularity", n_negatives)
    loss = params.get("loss", "bpr")
    if loss == "bpr":
        total, counted, skipped = bpr_epoch((indices, rows), model, len(indices), seeds, hyper,
                                            negatives, mode)
        taken = len(indices) - int(skipped)
        return total / max(1, counted) * taken, int(skipped), taken
    os_k, os_n = (params["os_k"], params["os_n"]) if loss == "warp-kos" and \
        mode != UPDATE_POSITIVE else (1, 1)
    if accum is None:
        accum = (np.zeros(0), np.zeros(0))
    total, steps, skipped = warp_epoch((indptr, indices, rows), model, len(indices), seeds,
                                       (*hyper, *accum), negatives,
                                       (params["max_sampled"], os_k, os_n, mode))
    return float(total), int(skipped), int(steps)


class BPRSolver(Solver):
    """One ``step()`` = one epoch of ``nnz`` samples; returns ``train_loss`` and ``skipped``.

    BPR: the epoch's sum of ``-ln sigma(x_uij)`` over the triples taken, estimated on every
    16th triple before its step, plus the L2 terms as the epoch applies them (per triple, the
    user's row, the positive's and the negative's); ``skipped`` counts triples whose negative
    was a positive. WARP: the rank-weighted hinge losses of the steps taken, before each step,
    plus the L2 terms of the average triple times the steps; ``skipped`` counts trials.
    """

    divergence_hint = "Lower learning_rate."

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        self.entries = positives(ratings.csr, params["verify_negative"])
        self.rng, self.params = rng, params
        m, n = ratings.shape
        nnz = len(self.entries[1])
        self.count_u = np.bincount(self.entries[2], minlength=m).astype(np.float64)
        self.count_i = np.bincount(self.entries[1], minlength=n).astype(np.float64)
        self.count_j = self.count_i if params["negatives"] == "popularity" else \
            np.full(n, nnz / n)
        self.accum = None
        if params.get("lr_schedule") == "adagrad":  # kept in the state: a warm start goes on
            for name, size in (("user_adagrad_", m), ("item_adagrad_", n)):
                if self._state.get(name) is None:
                    self._state[name] = np.ones(size)
            self.accum = (self._state["user_adagrad_"], self._state["item_adagrad_"])

    def step(self):
        s = self._state
        W, H, b = s["user_factors_"], s["item_factors_"], s["item_bias_"]
        loss, skipped, steps = epoch(self.entries, W, H, b, self.rng, self.params, UPDATE_ALL,
                                     H.shape[0], self.accum)
        row_h = np.einsum("ij,ij->i", H, H, dtype=np.float64) + np.square(b, dtype=np.float64)
        penalty = self.params["reg"] * (
            self.count_u @ np.einsum("ij,ij->i", W, W, dtype=np.float64)
            + (self.count_i + self.count_j) @ row_h)
        if self.params.get("loss", "bpr") != "bpr":
            penalty *= steps / max(1, len(self.entries[1]))
        return {"train_loss": loss + penalty, "skipped": skipped}

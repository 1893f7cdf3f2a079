"""BPR by Hogwild SGD over sampled (user, positive, negative) triples."""

import numpy as np

from .._kernels.bpr import UPDATE_ALL, bpr_epoch, pair_set
from .base import Solver

#: Chunks (independent random streams) per epoch: fixed, so a seed means the same samples for
#: any thread count.
N_STREAMS = 256


def positives(X, verify):
    """(column, row) of each positive entry of a canonical CSR matrix, and their
    :func:`~fastmf._kernels.bpr.pair_set` when ``verify`` (else an empty array)."""
    X = X.copy()
    X.eliminate_zeros()
    rows = np.repeat(np.arange(X.shape[0], dtype=X.indices.dtype), np.diff(X.indptr))
    pairs = pair_set(X.indptr, X.indices, X.shape[1]) if verify else np.zeros(0, np.int64)
    return X.indices, rows, pairs


def epoch(entries, W, H, b, rng, params, mode, n_negatives):
    """One epoch of ``len(entries[0])`` triples; returns (log-loss sum estimate, skipped).

    ``params["reg"]`` is the lambda of ``-ln sigma + lambda ||theta||^2``: the kernel's step
    (the gradient of ``reg/2 ||theta||^2``) gets ``2 lambda``.
    """
    indices, rows, pairs = entries
    seeds = rng.integers(0, 2**63, size=N_STREAMS, dtype=np.uint64)
    total, counted, skipped = bpr_epoch(
        (indices, rows), (W, H, b), len(indices), seeds,
        (float(params["learning_rate"]), 2.0 * params["reg"]),
        (pairs, params["negatives"] == "popularity", n_negatives), mode)
    taken = len(indices) - int(skipped)
    return total / max(1, counted) * taken, int(skipped)


class BPRSolver(Solver):
    """One ``step()`` = one epoch of ``nnz`` triples; returns ``train_loss`` (the epoch's sum
    of ``-ln sigma(x_uij)`` over the triples taken, estimated on every 16th triple before its
    step, plus the L2 terms as the epoch applies them: per triple, the user's row, the
    positive's and the negative's) and ``skipped`` (triples whose negative was a positive)."""

    divergence_hint = "Lower learning_rate."

    def __init__(self, ratings, state, params, rng):
        super().__init__(ratings, state, params, rng)
        self.entries = positives(ratings.csr, params["verify_negative"])
        self.rng, self.params = rng, params
        m, n = ratings.shape
        nnz = len(self.entries[0])
        self.count_u = np.bincount(self.entries[1], minlength=m).astype(np.float64)
        self.count_i = np.bincount(self.entries[0], minlength=n).astype(np.float64)
        self.count_j = self.count_i if params["negatives"] == "popularity" else \
            np.full(n, nnz / n)

    def step(self):
        s = self._state
        W, H, b = s["user_factors_"], s["item_factors_"], s["item_bias_"]
        loss, skipped = epoch(self.entries, W, H, b, self.rng, self.params, UPDATE_ALL,
                              H.shape[0])
        row_h = np.einsum("ij,ij->i", H, H, dtype=np.float64) + np.square(b, dtype=np.float64)
        penalty = self.params["reg"] * (
            self.count_u @ np.einsum("ij,ij->i", W, W, dtype=np.float64)
            + (self.count_i + self.count_j) @ row_h)
        return {"train_loss": loss + penalty, "skipped": skipped}

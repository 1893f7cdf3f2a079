"""Small random problems shared by the simulator tests (the simulator runs a Python thread
per GPU thread: a few dozen rows, k <= 8, blocks of 2-8 threads)."""

import numpy as np
import scipy.sparse as sp


def ratings(m, n, density, seed, empty_row=None, low=1, high=6):
    """Users x items CSR of integer ratings in [low, high), optionally one empty row."""
    rng = np.random.default_rng(seed)
    R = np.where(rng.random((m, n)) < density, rng.integers(low, high, size=(m, n)), 0)
    if empty_row is not None:
        R[empty_row] = 0
    X = sp.csr_matrix(R.astype(np.float64))
    X.sort_indices()
    return X


def factors(m, n, k, seed, dtype=np.float64, scale=0.3):
    rng = np.random.default_rng(seed)
    return ((rng.normal(scale=scale, size=(m, k))).astype(dtype),
            (rng.normal(scale=scale, size=(n, k))).astype(dtype))


def rel_err(a, ref):
    """``||a - ref|| / ||ref||`` in float64."""
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.linalg.norm(np.asarray(a, np.float64) - ref) / np.linalg.norm(ref))


def planted(m, n, k, seed, noise=0.1):
    """Ratings ``3 + W H^T + noise`` observed on half the cells, and the planted factors."""
    rng = np.random.default_rng(seed)
    W = rng.normal(scale=0.7, size=(m, k))
    H = rng.normal(scale=0.7, size=(n, k))
    full = 3.0 + W @ H.T + rng.normal(scale=noise, size=(m, n))
    mask = rng.random((m, n)) < 0.5
    X = sp.csr_matrix(np.where(mask, full, 0.0))
    X.sort_indices()
    return X

"""Counter-based random numbers on the GPU: the splitmix64 stream of the CPU kernels, read at
any position without stepping through it, and the hash-set lookup of the BPR negatives.

Output ``n`` (0-based) of the splitmix64 stream that starts at state ``seed`` is
``mix(seed + (n + 1) * golden)``, the same bits :func:`fastmf._kernels.rng.splitmix64` yields
on its ``n + 1``-th call, so any thread can draw any sample of a CPU kernel's stream.
"""

import numpy as np
from numba import cuda

from ..rng import GOLDEN, MIX1, MIX2


@cuda.jit(device=True)
def stream_bits(seed, n):
    """The ``n``-th (0-based) 64 random bits of the splitmix64 stream started at ``seed``."""
    z = seed + (np.uint64(n) + np.uint64(1)) * GOLDEN
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


@cuda.jit(device=True)
def random_index(bits, n):
    """An index in ``[0, n)``, ``n < 2**32``, from 64 random bits (Lemire's multiply-shift on
    the top 32 bits, as :func:`fastmf._kernels.rng.random_index`)."""
    return np.int64(((bits >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@cuda.jit(device=True)
def pair_in_set(table, key):
    """Is ``key`` in a table built by :func:`fastmf._kernels.bpr.pair_set`? (Same hash.)"""
    mask = table.shape[0] - 1
    h = np.uint64(key) * GOLDEN
    slot = np.int64(h ^ (h >> np.uint64(29))) & mask
    while True:
        v = table[slot]
        if v == key:
            return True
        if v == -1:
            return False
        slot = (slot + 1) & mask

"""Random numbers for every Numba kernel: SplitMix64 streams, bounded draws, keyed streams.

A stream is one ``uint64`` state held by the kernel (never a global RNG):
:func:`splitmix64` advances it and returns 64 random bits, :func:`random_index` turns bits
into an index, and :func:`keyed_stream` gives the start state of the stream keyed by
``(seed, epoch, block)``. A kernel that gives each block of work its own keyed stream draws the
same numbers whichever thread runs the block, so its result does not depend on the thread
count.

SplitMix64 is Steele, Lea & Flood (2014); the bounded draw is Lemire's multiply-shift (2019)
on the top 32 bits. The Cython FM kernels (``fastmf/_ext/fm.pyx``) cannot call Numba code and
keep their own C copy of SplitMix64's finaliser (:func:`mix64`) for their counter-based
Gibbs draws, and the CUDA kernels (``fastmf/_kernels/cuda/rng.py``) a device copy built on the
constants here. ``tests/oracles.py`` holds Python-integer twins of every function here.
"""

import numba
import numpy as np

from .._config import JIT

#: SplitMix64's increment, 2^64 / golden ratio (also a multiplicative hash constant).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: SplitMix64's two multipliers (the finaliser of Stafford's Mix13).
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(**JIT)
def mix64(z):
    """SplitMix64's finaliser: a bijective mix of the 64 bits of ``z`` (a ``uint64``)."""
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(**JIT)
def splitmix64(state):
    """Advance a SplitMix64 stream: returns ``(new_state, 64 random bits)``."""
    state = state + GOLDEN
    return state, mix64(state)


@numba.njit(**JIT)
def random_index(bits, n):
    """An index in ``[0, n)``, ``0 < n < 2**32``, from 64 random bits: ``(top 32 bits * n) >>
    32`` (Lemire's multiply-shift: no division; the bias is below ``n / 2**32``)."""
    return np.int64(((bits >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@numba.njit(**JIT)
def keyed_stream(seed, epoch, block):
    """Start state of the stream keyed by ``(seed, epoch, block)`` (non-negative integers).

    Counter-based: ``mix64(mix64(mix64(seed) + epoch) + block)`` (wrapping ``uint64`` sums)
    hashes the key, so the state depends on the key alone, not on which thread asks or in what
    order. Keys with the same ``(seed, epoch)`` get distinct states (``mix64`` is a bijection),
    and nearby keys get unrelated ones, far apart on SplitMix64's cycle.
    """
    return mix64(mix64(mix64(np.uint64(seed)) + np.uint64(epoch)) + np.uint64(block))

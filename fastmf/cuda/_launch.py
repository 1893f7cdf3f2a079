"""Launch shapes and the small device operations the solvers share (Gram matrix, sums)."""

import numpy as np
from numba import cuda

from .._kernels.cuda.block import MAX_THREADS, shared_elements
from .._kernels.cuda.linalg import gram_finish, gram_partial, sum_squares

#: Threads per block of the row, epoch and top-k kernels when not given: one warp.
THREADS = 32

#: Most thread blocks of a row or epoch kernel when not given (rows beyond take turns).
MAX_BLOCKS = 65535

#: Dynamic shared memory a block may use without opting in to more (bytes).
SHARED_BYTES = 48 * 1024

#: Rows of ``Y`` per slice of the Gram kernel (each slice one partial product).
GRAM_SLICE = 512


def threads_per_block(threads):
    """``threads`` (a power of two, at most MAX_THREADS), or THREADS when None."""
    if threads is None:
        return THREADS
    if (not isinstance(threads, (int, np.integer)) or threads < 1 or threads > MAX_THREADS
            or threads & (threads - 1)):
        raise ValueError(f"threads must be a power of two from 1 to {MAX_THREADS}, got "
                         f"{threads!r}")
    return int(threads)


def n_blocks(n_work, blocks):
    """Blocks of a grid-stride kernel over ``n_work`` rows (or pieces): ``blocks`` (>= 1) or
    MAX_BLOCKS, at most ``n_work``, at least 1."""
    if blocks is not None and (not isinstance(blocks, (int, np.integer)) or blocks < 1):
        raise ValueError(f"blocks must be a positive integer, got {blocks!r}")
    return int(max(1, min(n_work, MAX_BLOCKS if blocks is None else blocks)))


def row_chunk(k, dtype, n_vectors, nt, chunk=None):
    """``(chunk, shared bytes)`` of a row kernel with ``n_vectors`` k-vectors: ``chunk``
    entries staged at once (default ``nt``), halved while they would not fit in SHARED_BYTES."""
    if chunk is None:
        chunk = nt
    elif not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    itemsize = np.dtype(dtype).itemsize
    chunk = int(chunk)
    while chunk > 1 and shared_elements(k, chunk, n_vectors) * itemsize > SHARED_BYTES:
        chunk //= 2
    size = shared_elements(k, chunk, n_vectors) * itemsize
    if size > SHARED_BYTES:
        raise ValueError(f"n_factors={k} is too large for the CUDA kernels in {np.dtype(dtype)} "
                         f"({size} bytes of shared memory per block, at most {SHARED_BYTES})")
    return chunk, size


class Reducer:
    """Sums of float64 partials written by a kernel, added on the host in a fixed order."""

    def __init__(self, shape):
        self.partial = cuda.device_array(shape, dtype=np.float64)

    def total(self, axis=0):
        """The partials summed over ``axis`` (a float for 1-D partials)."""
        out = self.partial.copy_to_host().sum(axis=axis)
        return float(out) if np.ndim(out) == 0 else out


class Gram:
    """``Y^T Y + reg I`` of a device matrix into a reused (k, k) device array."""

    def __init__(self, n_rows, k, dtype, nt):
        self.tile = min(16, nt)
        self.n_slices = max(1, -(-n_rows // GRAM_SLICE))
        self.rows_per_slice = -(-n_rows // self.n_slices)
        self.partial = cuda.device_array((self.n_slices, k, k), dtype=dtype)
        self.out = cuda.device_array((k, k), dtype=dtype)
        self.shared = 2 * self.tile * self.tile * np.dtype(dtype).itemsize

    def __call__(self, Y, reg):
        k = Y.shape[1]
        tiles = -(-k // self.tile)
        gram_partial[(tiles, tiles, self.n_slices), (self.tile, self.tile), 0, self.shared](
            Y, self.rows_per_slice, self.partial)
        n = k * k
        gram_finish[-(-n // 128), 128](self.partial, Y.dtype.type(reg), self.out)
        return self.out


class SumSquares:
    """``sum_u w_u ||X[u]||^2`` of device matrices, with float64 row weights (or none)."""

    def __init__(self, nt, max_blocks=256):
        self.nt = nt
        self.max_blocks = max_blocks
        self.reducers = {}
        self.empty = cuda.to_device(np.zeros(0, dtype=np.float64))

    def __call__(self, X, weights=None):
        if X.ndim == 1:
            X = X.reshape(X.shape[0], 1)
        grid = max(1, min(self.max_blocks, -(-X.shape[0] * X.shape[1] // self.nt)))
        if grid not in self.reducers:
            self.reducers[grid] = Reducer(grid)
        reducer = self.reducers[grid]
        sum_squares[grid, self.nt](X, self.empty if weights is None else weights,
                                   reducer.partial)
        return reducer.total()

"""Dense pieces on the GPU: the Gram matrix ``Y^T Y + reg I`` and weighted sums of squares.

numba.cuda offers no BLAS, so the Gram matrix is a tiled product of its own: a 2-D block of
``TILE x TILE`` threads computes one tile of ``Y^T Y`` over one slice of the rows of ``Y``
(staging ``TILE`` rows of both column panels in shared memory at a time), and
:func:`gram_finish` adds the slices in a fixed order and the regularisation. The result does
not depend on the launch beyond the slicing the host chooses.
"""

from numba import cuda, float64

from ..._config import CUDA_JIT
from .block import MAX_THREADS


@cuda.jit(**CUDA_JIT)
def gram_partial(Y, rows_per_slice, partial):
    """``partial[s, a, b] = sum_{r in slice s} Y[r, a] Y[r, b]``.

    Launch with blocks of ``(TILE, TILE)`` threads on a grid of
    ``(ceil(k / TILE), ceil(k / TILE), n_slices)`` and ``2 * TILE * TILE`` elements of the
    dtype of dynamic shared memory; slice ``s`` is rows ``s * rows_per_slice`` onwards.
    """
    n, k = Y.shape
    tile = cuda.blockDim.x
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    a0 = cuda.blockIdx.x * tile
    b0 = cuda.blockIdx.y * tile
    lo = cuda.blockIdx.z * rows_per_slice
    hi = min(n, lo + rows_per_slice)
    sh = cuda.shared.array(0, dtype=Y.dtype)
    pa = sh[0:tile * tile]
    pb = sh[tile * tile:2 * tile * tile]
    zero = Y.dtype.type(0)
    acc = zero
    for r0 in range(lo, hi, tile):
        r = r0 + ty  # thread (tx, ty) stages row r of both panels: coalesced along tx
        pa[ty * tile + tx] = Y[r, a0 + tx] if r < hi and a0 + tx < k else zero
        pb[ty * tile + tx] = Y[r, b0 + tx] if r < hi and b0 + tx < k else zero
        cuda.syncthreads()
        for q in range(tile):
            acc += pa[q * tile + tx] * pb[q * tile + ty]
        cuda.syncthreads()
    if a0 + tx < k and b0 + ty < k:
        partial[cuda.blockIdx.z, a0 + tx, b0 + ty] = acc


@cuda.jit(**CUDA_JIT)
def gram_finish(partial, reg, gram):
    """``gram[a, b] = sum_s partial[s, a, b] + reg [a == b]``, one thread per element."""
    n_slices, k = partial.shape[0], partial.shape[1]
    e = cuda.grid(1)
    if e < k * k:
        a = e // k
        b = e - a * k
        s = partial[0, a, b]
        for j in range(1, n_slices):
            s += partial[j, a, b]
        gram[a, b] = s + reg if a == b else s


@cuda.jit(**CUDA_JIT)
def sum_squares(X, weights, partial):
    """Each block's share of ``sum_u w_u ||X[u]||^2`` into ``partial[blockIdx.x]`` (float64),
    with ``w_u = weights[u]`` (float64), or 1 for a zero-length ``weights``. A grid-stride
    loop over the elements; 1-D blocks of at most MAX_THREADS."""
    m, k = X.shape
    weighted = weights.shape[0] > 0
    red = cuda.shared.array(MAX_THREADS, dtype=float64)
    total = 0.0
    for e in range(cuda.grid(1), m * k, cuda.gridsize(1)):
        u = e // k
        v = float64(X[u, e - u * k])
        w = weights[u] if weighted else 1.0
        total += w * v * v
    t = cuda.threadIdx.x
    red[t] = total
    cuda.syncthreads()
    width = cuda.blockDim.x // 2  # a tree: blockDim.x is a power of two
    while width > 0:
        if t < width:
            red[t] += red[t + width]
        cuda.syncthreads()
        width //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = red[0]

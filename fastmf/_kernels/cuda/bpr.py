"""BPR epochs on the GPU: the CPU kernel's samples, applied by many thread blocks at once.

Sample ``s`` of an epoch is drawn exactly as :func:`fastmf._kernels.bpr.bpr_epoch` draws it
(stream ``c = s // ceil(n_samples / len(seeds))`` of ``seeds``, read at its position by
:func:`~fastmf._kernels.cuda.rng.stream_bits`), so for a given ``seeds`` both kernels see the
same (user, positive, negative) triples. The samples are cut into ``gridDim.x`` contiguous
pieces, one per thread block, run without locks (Hogwild); with one block the epoch is the
CPU kernel's one-thread epoch. A block's threads share the k components; thread 0 owns the
item biases. Every thread draws the sample itself (the same bits), so no barrier is needed
to share it.
"""

import math

import numpy as np
from numba import cuda, float64

from ..._config import CUDA_JIT
from ..bpr import LOSS_EVERY
from .block import MAX_THREADS, block_sum
from .rng import pair_in_set, random_index, stream_bits


@cuda.jit(**CUDA_JIT)
def bpr_epoch(indices, row_of_entry, W, H, item_bias, n_samples, seeds, lr, reg, positives,
              popularity, partial):
    """``n_samples`` SGD steps on the CPU kernel's triples; see the module docstring.

    Arguments are those of :func:`fastmf._kernels.bpr.bpr_epoch`, unpacked (as device arrays;
    ``lr`` and ``reg`` scalars of the factors' dtype; items always updated). ``partial``
    (float64, shape (gridDim.x, 3)) receives per block the sum of ``-log sigmoid(x_uij)`` over
    the samples taken whose index is a multiple of ``LOSS_EVERY``, how many those are, and the
    number of samples skipped because the negative was a positive.
    """
    nnz = indices.shape[0]
    n_items = H.shape[0]
    k = W.shape[1]
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    verify = positives.shape[0] > 0
    red = cuda.shared.array(MAX_THREADS, dtype=float64)
    per_stream = (n_samples + seeds.shape[0] - 1) // seeds.shape[0]
    per = (n_samples + cuda.gridDim.x - 1) // cuda.gridDim.x
    lo = cuda.blockIdx.x * per
    hi = min(n_samples, lo + per)
    one = W.dtype.type(1)
    total = 0.0
    counted = 0
    skipped = 0
    for smp in range(lo, hi):
        c = smp // per_stream
        n = 2 * (smp - c * per_stream)
        p = random_index(stream_bits(seeds[c], n), nnz)
        u = row_of_entry[p]
        i = indices[p]
        bits = stream_bits(seeds[c], n + 1)
        if popularity:
            j = indices[random_index(bits, nnz)]
        else:
            j = random_index(bits, n_items)
        if verify and pair_in_set(positives, np.int64(u) * n_items + j):
            skipped += 1
            continue
        part = W.dtype.type(0)
        for a in range(t, k, nt):
            part += W[u, a] * (H[i, a] - H[j, a])
        if t == 0:
            part += item_bias[i] - item_bias[j]
        x = W.dtype.type(block_sum(red, part))
        # one exp for sigmoid(-x) = -dL/dx and -log sigmoid(x) = log1p(e^-|x|) + max(-x, 0)
        ex = math.exp(-abs(x))
        g = ex / (one + ex) if x >= 0 else one / (one + ex)
        if smp % LOSS_EVERY == 0:
            total += math.log1p(ex) + max(-float64(x), 0.0)
            counted += 1
        for a in range(t, k, nt):
            wa = W[u, a]
            ha = H[i, a]
            hb = H[j, a]
            W[u, a] = wa + lr * (g * (ha - hb) - reg * wa)
            H[i, a] = ha + lr * (g * wa - reg * ha)
            H[j, a] = H[j, a] + lr * (-g * wa - reg * hb)
        if t == 0:
            b_i = item_bias[i]
            b_j = item_bias[j]
            item_bias[i] = b_i + lr * (g - reg * b_i)
            item_bias[j] = item_bias[j] + lr * (-g - reg * b_j)
    if t == 0:
        partial[cuda.blockIdx.x, 0] = total
        partial[cuda.blockIdx.x, 1] = counted
        partial[cuda.blockIdx.x, 2] = skipped

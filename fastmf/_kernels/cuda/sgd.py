"""Hogwild SGD epochs for biased matrix factorization on the GPU.

The ratings are laid out and scheduled exactly as for the CPU kernel
(:mod:`fastmf._kernels.block_sgd`: P x P blocks, sub-epoch by sub-epoch in ``block_order``), which
makes one *sequence* of the ratings per epoch: the CPU result is that of applying the updates
in this sequence. Here the sequence is cut into ``gridDim.x`` contiguous pieces, one per thread
block, and the blocks run at once without locks (Hogwild): updates of a row shared by two
pieces race. With one block the epoch is exactly the CPU epoch. The update rule is the CPU's,
with both updates from the old values::

    b_u = keep_b b_u + lr e      c_i = keep_b c_i + lr e
    w_u = keep w_u + lr e h_i    h_i = keep h_i + lr e w_u      keep = 1 - lr reg

A block's threads share the k components of the rating's two rows; thread 0 owns the biases.
"""

from numba import cuda, float64

from ..._config import CUDA_JIT
from .block import MAX_THREADS, block_sum


@cuda.jit(**CUDA_JIT)
def sgd_epoch(seq_blocks, seq_ptr, block_ptr, users, items, values, W, H, bu, bi, mu, lr, reg,
              reg_bias, partial):
    """One epoch over the rating sequence; each block's sum of squared errors (each taken just
    before its rating's update) into ``partial[blockIdx.x]``.

    ``seq_blocks[j]`` is the ``j``-th block of the epoch (``block_order.ravel()``) and
    ``seq_ptr[j]`` where it starts in the sequence (``seq_ptr[-1] = nnz``); block ``b``'s
    ratings are ``block_ptr[b]:block_ptr[b + 1]`` of ``users``, ``items``, ``values``.
    ``mu``, ``lr``, ``reg``, ``reg_bias`` are scalars of the factors' dtype; zero-length
    ``bu``/``bi`` mean no biases.
    """
    k = W.shape[1]
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    has_bias = bu.shape[0] > 0
    red = cuda.shared.array(MAX_THREADS, dtype=float64)
    n_seq = seq_blocks.shape[0]
    nnz = seq_ptr[n_seq]
    per = (nnz + cuda.gridDim.x - 1) // cuda.gridDim.x
    lo = cuda.blockIdx.x * per
    hi = min(nnz, lo + per)
    one = W.dtype.type(1)
    keep = one - lr * reg
    keep_b = one - lr * reg_bias
    j = 0  # the sequence block holding position lo: the last j with seq_ptr[j] <= lo
    b = n_seq
    while b - j > 1:
        mid = (j + b) // 2
        if seq_ptr[mid] <= lo:
            j = mid
        else:
            b = mid
    loss = 0.0
    for v in range(lo, hi):
        while seq_ptr[j + 1] <= v:
            j += 1
        p = block_ptr[seq_blocks[j]] + (v - seq_ptr[j])
        u = users[p]
        i = items[p]
        part = W.dtype.type(0)
        for a in range(t, k, nt):
            part += W[u, a] * H[i, a]
        if has_bias and t == 0:
            part += bu[u] + bi[i]
        e = values[p] - mu - W.dtype.type(block_sum(red, part))
        loss += float64(e) * e
        step = lr * e
        for a in range(t, k, nt):
            wf = W[u, a]
            hf = H[i, a]
            W[u, a] = keep * wf + step * hf
            H[i, a] = keep * hf + step * wf
        if has_bias and t == 0:
            bu[u] = keep_b * bu[u] + step
            bi[i] = keep_b * bi[i] + step
    if t == 0:
        partial[cuda.blockIdx.x] = loss

"""Block-level building blocks: all-reduces and one pass over a row's entries in shared memory.

A row's entries go through shared memory in chunks of ``chunk`` entries: the chunk's rows of
the other side's factor matrix ``Y`` are staged in a tile (one coalesced load per row), thread
``q`` takes the dot products of entries ``q, q + T, ...`` with the row's current vector and
turns each into a coefficient, and every thread then adds ``sum_q coef_q y_q`` to the
components it owns. Three barriers per chunk, however long the row.

Reductions are all-reduces through a shared float64 buffer that every thread sums in the same
order, so every thread gets the same value: block-wide decisions (stop a CG loop, skip a
sample) are taken by all threads together, as ``syncthreads`` requires.
"""

from numba import cuda

#: Most threads a block of these kernels may have: the size of the reduction buffers.
MAX_THREADS = 128

#: Size of the scratch of :func:`block_sum2` (a constant: shared arrays need one).
RED2 = 2 * MAX_THREADS

#: Coefficients of :func:`row_pass`, for an entry of value ``w`` and dot product ``s``.
IMPLICIT_INIT = 0  # coef = w - (w - 1) s; sums (w s, w): the residual b - A x of implicit ALS
IMPLICIT_STEP = 1  # coef = (w - 1) s; sums (w s, 0): the data part of A d
ALS_RESID = 2  # coef = e = w - shift - y_bias[i] - s (float64); sums (e, e^2): ALS residuals
ALS_STEP = 3  # coef = shift + s; sums (coef, 0): the data part of A d, bias column included


def shared_elements(k, chunk, n_vectors):
    """Dynamic shared memory of a row kernel, in elements of the factors' dtype: ``n_vectors``
    k-vectors, then the tile and coefficients of :func:`row_pass` for ``chunk`` entries."""
    return n_vectors * k + chunk * (k + 2)


@cuda.jit(device=True)
def block_sum(red, value):
    """Sum of ``value`` over the block's threads, returned to every thread (float64).

    ``red``: shared float64 scratch of at least ``blockDim.x`` elements.
    """
    t = cuda.threadIdx.x
    red[t] = value
    cuda.syncthreads()
    s = 0.0
    for j in range(cuda.blockDim.x):
        s += red[j]
    cuda.syncthreads()
    return s


@cuda.jit(device=True)
def block_sum2(red, a, b):
    """Sums of two values over the block's threads, returned to every thread (float64).

    ``red``: shared float64 scratch of ``RED2`` elements.
    """
    t = cuda.threadIdx.x
    red[t] = a
    red[MAX_THREADS + t] = b
    cuda.syncthreads()
    sa = 0.0
    sb = 0.0
    for j in range(cuda.blockDim.x):
        sa += red[j]
        sb += red[MAX_THREADS + j]
    cuda.syncthreads()
    return sa, sb


@cuda.jit(device=True)
def _stage_rows(indices, p0, nq, Y, tile):
    """``tile[q, :] = Y[indices[p0 + q]]`` for ``q < nq`` (row stride ``k + 1``), each thread
    its own components. Four loads are issued before their four stores, and the next entry's
    index is read before this entry's row, so a thread keeps several loads in flight instead
    of waiting out each one's latency."""
    k = Y.shape[1]
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    i_next = indices[p0]
    for q in range(nq):
        i = i_next
        if q + 1 < nq:
            i_next = indices[p0 + q + 1]
        base = q * (k + 1)
        a = t
        while a + 3 * nt < k:
            y0 = Y[i, a]
            y1 = Y[i, a + nt]
            y2 = Y[i, a + 2 * nt]
            y3 = Y[i, a + 3 * nt]
            tile[base + a] = y0
            tile[base + a + nt] = y1
            tile[base + a + 2 * nt] = y2
            tile[base + a + 3 * nt] = y3
            a += 4 * nt
        while a < k:
            tile[base + a] = Y[i, a]
            a += nt


@cuda.jit(device=True)
def row_pass(mode, start, end, indices, w, Y, y_bias, v, shift, out, axpy, tile, coef, red):
    """One pass over the entries ``start:end`` of a row, in chunks staged in shared memory.

    For each entry ``p`` with column ``i = indices[p]`` and value ``w[p]``, ``s = v . Y[i]``
    becomes a coefficient as ``mode`` says (see the constants above; ``shift`` is a float64
    scalar for ALS_RESID, else one of the factors' dtype; ``y_bias`` a zero-length array when
    the other side has no bias).
    With ``axpy``, each thread adds ``coef * Y[i]`` to its own components of ``out``.

    ``v`` (all of it) must be in shared memory and complete before the call; ``tile`` (shared,
    ``chunk * (k + 1)`` elements) and ``coef`` (shared, ``chunk`` elements) are scratch.
    Returns the two block-wide sums the mode names (float64, the same in every thread).
    """
    k = v.shape[0]
    nt = cuda.blockDim.x
    t = cuda.threadIdx.x
    chunk = coef.shape[0]
    stride = k + 1  # an odd row stride: the threads of phase 2 hit distinct banks
    has_yb = y_bias.shape[0] > 0
    zero = v.dtype.type(0)
    one = v.dtype.type(1)
    acc1 = 0.0
    acc2 = 0.0
    for p0 in range(start, end, chunk):
        nq = min(chunk, end - p0)
        _stage_rows(indices, p0, nq, Y, tile)  # 1. stage the chunk's rows of Y
        cuda.syncthreads()
        for q in range(t, nq, nt):  # 2. one dot product and coefficient per entry
            wq = w[p0 + q]
            if mode == ALS_RESID:  # in float64, as the CPU kernels take residuals
                e = 0.0
                for a in range(k):
                    e -= tile[q * stride + a] * v[a]
                e += wq - shift
                if has_yb:
                    e -= y_bias[indices[p0 + q]]
                coef[q] = e
                acc1 += e
                acc2 += e * e
                continue
            s = zero
            for a in range(k):
                s += tile[q * stride + a] * v[a]
            if mode == IMPLICIT_INIT:
                c = wq - (wq - one) * s
                acc1 += wq * s
                acc2 += wq
            elif mode == IMPLICIT_STEP:
                c = (wq - one) * s
                acc1 += wq * s
            else:
                c = shift + s
                acc1 += c
            coef[q] = c
        cuda.syncthreads()
        if axpy:  # 3. out += sum_q coef_q y_q on the thread's own components
            for q in range(nq):
                cq = coef[q]
                for a in range(t, k, nt):
                    out[a] += cq * tile[q * stride + a]
            cuda.syncthreads()
    return block_sum2(red, acc1, acc2)


@cuda.jit(device=True)
def gram_times(gram, v, out, sign):
    """``out = sign * gram @ v`` on the thread's own components (``gram`` symmetric, read by
    columns so that the block's threads read consecutive addresses); ``v`` in shared memory."""
    k = v.shape[0]
    nt = cuda.blockDim.x
    for a in range(cuda.threadIdx.x, k, nt):
        s = v.dtype.type(0)
        for c in range(k):
            s += gram[c, a] * v[c]
        out[a] = sign * s

"""The block-stratified parallel SGD epoch (DSGD / LIBMF's FPSG) shared by MF and SVD++.

The ratings are cut into P x P blocks (user group x item group) and stored block by block
(``block_ptr`` delimits them). ``block_order[s]`` lists P blocks that share no user group and no
item group; sub-epoch ``s`` runs those P blocks at once, one per ``prange`` iteration, so no two
threads ever touch the same row of ``W`` or ``H``. The result is therefore the same as running
the blocks one after another in the given order: it depends on ``block_order`` and the entry
order, never on the number of threads.

What happens inside a block is chosen by an integer ``kind`` (a jitted function passed as an
argument would defeat ``cache=True``): :data:`PLAIN` (:func:`~fastmf._kernels.sgd.sgd_block`,
plain or AdaGrad), :data:`BATCHED` (:func:`~fastmf._kernels.sgd.batch_block`, mini-batches with
momentum) or :data:`SVDPP` (:func:`~fastmf._kernels.svdpp.svdpp_block`).
"""

import numba
import numpy as np
from numba import prange

from .._config import PARALLEL_JIT
from .sgd import batch_block, sgd_block
from .svdpp import svdpp_block

#: The block function of :func:`sgd_epoch`.
PLAIN, BATCHED, SVDPP = 0, 1, 2


@numba.njit(**PARALLEL_JIT)
def sgd_epoch(kind, schedule, entries, model, hyper, state, implicit, row_reg):
    """One epoch over all blocks; returns the sum of squared errors seen before each update.

    Parameters
    ----------
    kind : int
        :data:`PLAIN`, :data:`BATCHED` or :data:`SVDPP`.
    schedule : (block_order, block_ptr)
        ``block_order`` (n_sub, P): the blocks of each sub-epoch; ``block_ptr`` (P * P + 1):
        where each block's entries start.
    entries : (users, items, values)
        The ratings in block order.
    model : (W, H, bu, bi)
        Factors (n_users, k), (n_items, k) and biases, updated in place; zero-length biases
        for a model without.
    hyper : (mu, lr, reg, reg_bias, momentum, batch_size)
        Scalars in the factors' precision (``batch_size`` an integer); ``momentum`` and
        ``batch_size`` are read by :data:`BATCHED` only.
    state : (state_u, state_i)
        Per-row optimiser state, 2-D: AdaGrad accumulators (n, 1) for :data:`PLAIN`, momentum
        velocities (n, k + 1) for :data:`BATCHED`; zero rows for none (plain SGD, no momentum,
        SVD++).
    implicit : (Z, G)
        SVD++'s implicit sums and gradient accumulators (n_users, k); zero rows otherwise.
    row_reg : (reg_u, reg_i)
        Per-row multipliers of ``reg`` and ``reg_bias`` (n_users,), (n_items,) in the factors'
        dtype: the L2 terms of a rating of row ``u`` weigh ``reg * reg_u[u]``; zero-length for
        1 (read by :data:`PLAIN` and :data:`BATCHED`; SVD++ has none).
    """
    block_order, block_ptr = schedule
    W, H = model[0], model[1]
    k = W.shape[1]
    n_u = W.shape[0] if kind == BATCHED else 0
    n_i = H.shape[0] if kind == BATCHED else 0
    scratch = (np.zeros((n_u, k + 1), W.dtype), np.zeros((n_i, k + 1), H.dtype),
               np.full(n_u, -1, np.int64), np.full(n_i, -1, np.int64))
    n_sub, n_par = block_order.shape
    total = 0.0
    for s in range(n_sub):
        for q in prange(n_par):
            b = block_order[s, q]
            start, end = block_ptr[b], block_ptr[b + 1]
            if kind == PLAIN:
                total += sgd_block(start, end, entries, model, hyper, state, row_reg)
            elif kind == BATCHED:
                total += batch_block(start, end, entries, model, hyper, state, scratch,
                                     row_reg)
            else:
                total += svdpp_block(start, end, entries, model, hyper, implicit)
    return total

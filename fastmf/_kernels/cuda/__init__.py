"""CUDA kernels (numba.cuda), one file per algorithm, mirroring the CPU kernels beside them.

Conventions shared by every file here:

- A kernel is a pure function over device arrays and scalars; it writes into preallocated
  outputs, and what a CPU kernel returns (a loss, a count) it writes as one float64 partial
  per thread block, summed by the host driver (``fastmf/cuda/``) in a fixed order.
- Row kernels give one thread block to a row at a time (a grid-stride loop over rows); the
  block's ``T`` threads share the row's ``k`` components (thread ``t`` owns components
  ``t, t + T, ...``). See :mod:`fastmf._kernels.cuda.block`.
- Only ``syncthreads`` synchronises threads (no warp shuffles), so every kernel also runs in
  Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``), which is how the test suite checks
  them against the CPU kernels on machines without a GPU.
- Kernels trust their input (no bounds checks); the host drivers validate it.
"""

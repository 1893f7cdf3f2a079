"""The CUDA back end: fastmf's iterative solvers and top-k as numba.cuda kernels on a GPU.

Needs the optional ``cuda`` extra (``pip install 'fastmf[cuda]'``: numba-cuda, numba's
maintained CUDA target, which compiles the kernels at run time; nothing is built at install
time), a CUDA driver and a GPU; :func:`cuda_available` says whether all are there, and every
entry point raises :class:`CudaUnavailableError` naming what is missing. With
``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported, the same kernels run (slowly) in
numba's CUDA simulator instead, which is how the test suite checks them without a GPU.

The solver classes are in :mod:`fastmf.cuda.solvers`, top-k and ranking metrics in
:mod:`fastmf.cuda.ranking`; the kernels in :mod:`fastmf._kernels.cuda`.
"""

from ._device import CudaUnavailableError, cuda_available, require_cuda

__all__ = ["CudaUnavailableError", "cuda_available", "require_cuda"]

"""pytest plugin for the CUDA simulator run (``-p tests.cuda_sim.simulator``).

``tests/test_cuda.py`` runs ``tests/cuda_sim`` and the doctests of the CUDA modules in a
subprocess with ``NUMBA_ENABLE_CUDASIM=1`` (numba reads it once, at import, so the main test
process cannot switch the simulator on), loading this plugin, which:

- refuses to run without the simulator (these tests would try a real GPU);
- lets the simulator's threads switch often (each ``syncthreads`` waits for every thread of
  the block; at Python's default 5 ms switch interval a barrier costs ~10 ms);
- ignores the integer-overflow warnings of the random-number hashes (uint64 arithmetic is
  meant to wrap; on the GPU it does so silently);
- makes the simulator's swap of the ``cuda`` module thread-safe in numba's built-in
  simulator: it swaps a device function's module globals on entry and restores them on exit
  in every thread, so a thread leaving a device function of another module (the shared
  helpers of ``fastmf/_kernels/cuda/block.py``) while another is still inside restores the
  real module under it. numba-cuda's simulator counts entries per module instead; this
  installs the same fix where it is missing.
"""

import os
import sys
import threading
from collections import defaultdict
from contextlib import contextmanager

import pytest


def pytest_configure(config):
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        raise pytest.UsageError("tests/cuda_sim needs NUMBA_ENABLE_CUDASIM=1 (set before numba "
                                "is imported); run it through tests/test_cuda.py")
    sys.setswitchinterval(1e-4)
    config.addinivalue_line("filterwarnings", "ignore:overflow encountered:RuntimeWarning")
    _make_swap_thread_safe()


def _make_swap_thread_safe():
    from numba.cuda.simulator import kernel, kernelapi

    if hasattr(kernelapi, "_swap_refcount"):  # numba-cuda's simulator: already safe
        return
    lock = threading.Lock()
    depth = defaultdict(int)
    saved = {}

    @contextmanager
    def swapped_cuda_module(fn, fake_cuda_module):
        from numba import cuda

        globs = fn.__globals__
        key = id(globs)
        with lock:
            if depth[key] == 0:
                saved[key] = {name: v for name, v in globs.items() if v is cuda}
                globs.update(dict.fromkeys(saved[key], fake_cuda_module))
            depth[key] += 1
        try:
            yield
        finally:
            with lock:
                depth[key] -= 1
                if depth[key] == 0:
                    globs.update(saved.pop(key))

    kernel.swapped_cuda_module = swapped_cuda_module

"""The CUDA back end from the main test process.

- Its kernels against the CPU kernels in numba's CUDA simulator: ``tests/cuda_sim`` and the
  doctests of the CUDA modules, in a subprocess (numba reads ``NUMBA_ENABLE_CUDASIM`` once,
  at import, and this process has imported numba without it).
- The clear errors when numba-cuda, a CUDA driver or a GPU is missing.
- Where numba-cuda and its NVVM compiler are installed: every kernel compiles for a real GPU
  (Hopper, compute capability 9.0), with no device needed.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf.cuda import CudaUnavailableError, _device, cuda_available, require_cuda

ROOT = Path(__file__).resolve().parents[1]


def test_simulator_suite_passes(pytestconfig):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    # the CUDA modules' doctests where fastmf is imported from (the source tree, or the
    # installed wheel's site-packages), with this run's pytest configuration
    package = Path(fastmf.__file__).resolve().parent
    config = ["-c", str(pytestconfig.inipath), "--rootdir", str(ROOT)] \
        if pytestconfig.inipath else ["--doctest-modules"]
    cmd = [sys.executable, "-m", "pytest", "-q", *config, "-p", "tests.cuda_sim.simulator",
           "tests/cuda_sim", str(package / "cuda"), str(package / "_kernels" / "cuda")]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    passed = re.search(r"(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 60, out[-4000:]
    assert not re.search(r"\d+ (failed|skipped|error)", out), out[-4000:]


@pytest.mark.parametrize("installed, driver, message", [
    (False, (0, None), r"numba's CUDA target is not installed \(the numba-cuda package\): "
                       r"pip install 'fastmf\[cuda\]'"),
    (True, (0, "Error at driver init: \n\nCUDA driver library cannot be found."),
     r"no CUDA driver: the NVIDIA driver library \(libcuda\) cannot be found"),
    (True, (0, "Error at driver init: Call to cuInit results in CUDA_ERROR_NO_DEVICE (100)"),
     "no GPU: the CUDA driver found no CUDA device"),
    (True, (0, None), "no GPU: the CUDA driver found no CUDA device"),
    (True, (0, "CUDA_ERROR_UNKNOWN"), "the CUDA driver failed to start: CUDA_ERROR_UNKNOWN"),
])
def test_the_error_names_what_is_missing(monkeypatch, installed, driver, message):
    monkeypatch.setattr(_device, "_simulator_enabled", lambda: False)
    monkeypatch.setattr(_device, "_numba_cuda_installed", lambda: installed)
    monkeypatch.setattr(_device, "_driver_status", lambda: driver)
    assert not cuda_available()
    with pytest.raises(CudaUnavailableError, match="backend='cuda' is not available: " + message):
        require_cuda()


@pytest.mark.parametrize("simulator, installed, driver", [
    (True, False, (0, "no driver")), (False, True, (1, None))])
def test_available_with_the_simulator_or_a_gpu(monkeypatch, simulator, installed, driver):
    monkeypatch.setattr(_device, "_simulator_enabled", lambda: simulator)
    monkeypatch.setattr(_device, "_numba_cuda_installed", lambda: installed)
    monkeypatch.setattr(_device, "_driver_status", lambda: driver)
    assert cuda_available()
    require_cuda()


def test_the_real_probe_is_consistent():
    reason = _device.missing()
    assert cuda_available() == (reason is None)
    if reason is not None and not _device._numba_cuda_installed():
        assert "numba-cuda" in reason


def test_every_entry_point_raises_without_cuda():
    if cuda_available():
        pytest.skip("this machine can run the CUDA back end")
    from fastmf.cuda.ranking import ranking_metrics, top_k
    from fastmf.cuda.solvers import ALSCGSolver, BPRSolver, ImplicitALSCGSolver, SGDSolver

    X = sp.random(5, 4, density=0.5, format="csr", random_state=0)
    W, H = np.zeros((5, 2)), np.zeros((4, 2))
    data = (X.indptr, X.indices, 1 + X.data)
    calls = [
        lambda: ImplicitALSCGSolver(data=data, user_factors=W, item_factors=H, reg=0.1),
        lambda: ALSCGSolver(data=data, user_factors=W, item_factors=H, reg=0.1),
        lambda: SGDSolver(data=data, user_factors=W, item_factors=H, learning_rate=0.1,
                          reg=0.1),
        lambda: BPRSolver(data=data, user_factors=W, item_factors=H, item_bias=np.zeros(4)),
        lambda: top_k(W, H, 2),
        lambda: ranking_metrics((W, H), X, X),
    ]
    for call in calls:
        with pytest.raises(CudaUnavailableError, match="backend='cuda' is not available: "):
            call()


@pytest.mark.parametrize("make", [
    lambda: fastmf.ImplicitALS(2, n_iter=1, reg_scaling="none", backend="cuda"),
    lambda: fastmf.MatrixFactorization(2, n_iter=1, cg_steps=3, backend="cuda"),
    lambda: fastmf.MatrixFactorization(2, solver="sgd", lr_schedule="constant", n_iter=1,
                                       backend="cuda"),
    lambda: fastmf.BPR(2, n_iter=1, backend="cuda"),
], ids=["ImplicitALS", "MF-als", "MF-sgd", "BPR"])
def test_estimators_with_backend_cuda_raise_without_cuda(make):
    if cuda_available():
        pytest.skip("this machine can run the CUDA back end")
    X = sp.random(6, 5, density=0.5, format="csr", random_state=0)
    model = make()
    with pytest.raises(CudaUnavailableError, match="backend='cuda' is not available: "):
        model.fit(X)
    assert not hasattr(model, "user_factors_")  # nothing else changes


def test_an_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="backend must be one of"):
        fastmf.ImplicitALS(backend="gpu").fit(sp.eye(3, format="csr"))


def _kernel_signatures():
    """Every CUDA kernel with argument types as the host drivers launch it, per dtype."""
    from fastmf._kernels.cuda import als, bpr, implicit_cg, linalg, sgd, topk

    def sig(*values):
        return tuple(numba.typeof(v) for v in values)

    i32, i64 = np.zeros(2, np.int32), np.zeros(2, np.int64)
    for dt in (np.float32, np.float64):
        v, M, T, s = np.zeros(2, dt), np.zeros((2, 2), dt), np.zeros((2, 2, 2), dt), dt(1)
        d1, d2, idx = np.zeros(2), np.zeros((2, 3)), np.zeros((2, 2), np.int64)
        yield from [
            (implicit_cg.implicit_cg_rows, sig(i32, i32, v, M, M, M, 3, 3, d1)),
            (als.als_cg_rows, sig(i32, i32, v, M, v, M, v, 3.0, s, s, 1.0, 3, 3)),
            (als.als_sse_rows, sig(i32, i32, v, M, v, M, v, 3.0, 3, d1)),
            (linalg.gram_partial, sig(M, 3, T)),
            (linalg.gram_finish, sig(T, s, M)),
            (linalg.sum_squares, sig(M, d1, d1)),
            (sgd.sgd_epoch, sig(i64, i64, i64, i32, i32, v, M, M, v, v, s, s, s, s, d1)),
            (bpr.bpr_epoch, sig(i32, i32, M, M, v, 3, np.zeros(2, np.uint64), s, s, i64, True,
                                d2)),
            (topk.topk_rows, sig(M, M, i64, i32, i32, np.zeros(2, np.bool_), idx, M)),
            (topk.ranking_rows, sig(M, M, i64, i32, i32, i32, i32, v, idx, M, d2)),
        ]


def test_every_kernel_compiles_for_a_gpu(monkeypatch):
    """Catches what the simulator cannot: code that runs as Python but is not valid for the
    CUDA target (types, constant shapes, unsupported calls)."""
    pytest.importorskip("numba_cuda")
    from numba import cuda

    try:
        cuda.compile_ptx(lambda a: None, (numba.float32[:],), cc=(9, 0))
    except Exception as exc:  # no NVVM (numba-cuda installed without its cu12/cu13 extra)
        pytest.skip(f"numba-cuda cannot compile here: {exc}")
    if not cuda.is_available():  # device functions ask the current device for its arch
        import numba.cuda.dispatcher as dispatcher

        class Hopper:
            compute_capability = (9, 0)

        monkeypatch.setattr(dispatcher, "get_current_device", lambda: Hopper(), raising=True)
    for kernel, signature in _kernel_signatures():
        ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
        assert ".entry" in ptx and ".local" not in ptx, kernel.py_func.__name__

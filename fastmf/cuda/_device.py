"""Is numba's CUDA target usable here, and if not, what exactly is missing."""

import importlib.util

import numba


class CudaUnavailableError(RuntimeError):
    """``backend="cuda"`` was asked for, but numba's CUDA target, a CUDA driver or a GPU is
    missing; the message says which."""


def _simulator_enabled():
    """Numba's CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1`` before numba was imported)."""
    return bool(numba.config.ENABLE_CUDASIM)


def _numba_cuda_installed():
    """The numba-cuda package (the maintained CUDA target of numba) is installed."""
    return importlib.util.find_spec("numba_cuda") is not None


def _driver_status():
    """``(number of CUDA devices, None)``, or ``(0, the driver's error message)``."""
    try:
        from numba.cuda.cudadrv.driver import driver

        return driver.get_device_count(), None
    except Exception as exc:  # the driver's errors are ImportError and RuntimeError kinds
        return 0, str(exc).strip()


def missing():
    """``None`` when CUDA kernels can run here, else a sentence naming what is missing."""
    if _simulator_enabled():
        return None
    if not _numba_cuda_installed():
        return ("numba's CUDA target is not installed (the numba-cuda package): "
                "pip install 'fastmf[cuda]' (or set NUMBA_ENABLE_CUDASIM=1 before importing "
                "numba to run the kernels in numba's CUDA simulator)")
    count, error = _driver_status()
    if error is not None:
        if "cannot be found" in error or "libcuda" in error:
            return ("no CUDA driver: the NVIDIA driver library (libcuda) cannot be found; "
                    "install the driver, or set NUMBA_CUDA_DRIVER to the library's path")
        if "NO_DEVICE" in error:
            return "no GPU: the CUDA driver found no CUDA device"
        return f"the CUDA driver failed to start: {error}"
    if count == 0:
        return "no GPU: the CUDA driver found no CUDA device"
    return None


def cuda_available():
    """Whether the CUDA back end can run here: numba-cuda, a CUDA driver and a GPU are present
    (or numba's CUDA simulator is on).

    Returns
    -------
    bool

    Examples
    --------
    >>> from fastmf.cuda import cuda_available
    >>> isinstance(cuda_available(), bool)
    True
    """
    return missing() is None


def require_cuda():
    """Raise :class:`CudaUnavailableError`, naming what is missing, unless
    :func:`cuda_available`.

    Examples
    --------
    >>> from fastmf.cuda import CudaUnavailableError, cuda_available, require_cuda
    >>> try:
    ...     require_cuda()
    ... except CudaUnavailableError as exc:
    ...     assert not cuda_available() and "backend='cuda'" in str(exc)
    """
    reason = missing()
    if reason is not None:
        raise CudaUnavailableError(f"backend='cuda' is not available: {reason}")

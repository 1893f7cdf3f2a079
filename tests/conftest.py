import os
from pathlib import Path

import pytest

# tests/cuda_sim needs numba's CUDA simulator, which only an environment variable set before
# numba is imported switches on: tests/test_cuda.py runs it in a subprocess.
if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    collect_ignore = ["cuda_sim"]

SHARED_DATA = Path(os.environ.get(
    "FASTMF_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@pytest.fixture(scope="session")
def ml100k_dir():
    """The local MovieLens 100K folder (../shared/data/ml-100k); skips the test when absent."""
    path = SHARED_DATA / "ml-100k"
    if not (path / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {path} (set FASTMF_SHARED_DATA to its parent)")
    return path


@pytest.fixture
def default_sigint():
    """Ctrl-C at Python's default (KeyboardInterrupt) for the test, whatever the process
    inherited: a background job of a non-interactive shell starts with SIGINT ignored."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _numba_threads():
    import numba

    return numba.config.NUMBA_NUM_THREADS


#: For tests that compare a 1-thread and a 2-thread fit: with fewer threads they compare a fit
#: with itself, so they are skipped instead.
needs_two_threads = pytest.mark.skipif(
    _numba_threads() < 2, reason="needs NUMBA_NUM_THREADS >= 2 to compare thread counts")

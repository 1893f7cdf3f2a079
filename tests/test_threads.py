"""Thread control: numba's pool and the BLAS pools are set while fastmf runs and restored."""

import warnings

import numba
import numpy as np
import pytest

from fastmf._config import threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads():
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


@pytest.fixture
def two_blas_threads():
    """Every BLAS pool at 2 threads for the test (whatever the machine's default)."""
    import scipy.linalg.cython_blas  # noqa: F401 - load the BLAS Numba's kernels call

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        if not before or max(before) < 2:
            pytest.skip("no BLAS pool can run 2 threads here")
        yield before


def test_blas_limited_inside_and_restored_after(two_blas_threads):
    with threads(2, blas=1) as n:
        assert n == min(2, numba.config.NUMBA_NUM_THREADS)
        assert max(blas_threads()) == 1
    assert blas_threads() == two_blas_threads
    with threads(1):  # n_threads=1 means one core: BLAS too
        assert max(blas_threads()) == 1
    assert blas_threads() == two_blas_threads


def test_blas_restored_after_an_exception(two_blas_threads):
    previous = numba.get_num_threads()
    with pytest.raises(KeyError), threads(1, blas=1):
        raise KeyError("boom")
    assert blas_threads() == two_blas_threads
    assert numba.get_num_threads() == previous


def test_exact_row_kernels_run_with_single_threaded_blas(two_blas_threads, monkeypatch):
    """The kernels that call gemm inside their parallel loops see one BLAS thread each, and the
    default fit warns about nothing."""
    import fastmf
    import fastmf._solvers.implicit_als as implicit_solver

    seen = []
    kernel = implicit_solver.implicit_cholesky_sweep

    def spy(*args):
        seen.append(max(blas_threads()))
        return kernel(*args)

    monkeypatch.setattr(implicit_solver, "implicit_cholesky_sweep", spy)
    counts = fastmf.datasets.make_counts(60, 40, rank=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastmf.ImplicitALS(4, cg_steps=None, n_iter=2, n_threads=2, random_state=0).fit(
            counts)
        ratings = fastmf.datasets.make_ratings(60, 40, 600, random_state=0)
        model = fastmf.MatrixFactorization(4, n_iter=2, n_threads=2, random_state=0)
        model.fit(ratings)
        model.transform(ratings.csr[:5])
    assert seen and set(seen) == {1}
    assert blas_threads() == two_blas_threads
    assert np.isfinite(model.user_factors_).all()

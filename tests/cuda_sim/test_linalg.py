import numpy as np
import pytest
from numba import cuda

from fastmf._kernels.cuda.linalg import gram_finish, gram_partial, sum_squares
from fastmf.cuda._launch import Gram, SumSquares
from tests.cuda_sim.problems import rel_err


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, k, tile, rows_per_slice", [(13, 6, 4, 5), (9, 1, 2, 9), (7, 5, 8, 3)])
def test_gram_kernels_match_numpy(dtype, n, k, tile, rows_per_slice):
    rng = np.random.default_rng(k)
    Y = rng.normal(size=(n, k)).astype(dtype)
    n_slices = -(-n // rows_per_slice)
    partial = cuda.device_array((n_slices, k, k), dtype=dtype)
    tiles = -(-k // tile)
    gram_partial[(tiles, tiles, n_slices), (tile, tile), 0, 2 * tile * tile * Y.itemsize](
        Y, rows_per_slice, partial)
    G = np.full((k, k), np.nan, dtype)
    gram_finish[-(-k * k // 16), 16](partial, dtype(0.25), G)
    ref = Y.astype(np.float64).T @ Y + 0.25 * np.eye(k)
    assert rel_err(G, ref) < (1e-6 if dtype == np.float32 else 1e-13)


def test_gram_driver_slices_rows():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(1100, 3))  # three slices of GRAM_SLICE rows or fewer
    gram = Gram(1100, 3, np.float64, 4)
    assert gram.n_slices == 3
    G = gram(cuda.to_device(Y), 0.5).copy_to_host()
    assert rel_err(G, Y.T @ Y + 0.5 * np.eye(3)) < 1e-13


@pytest.mark.parametrize("weighted", [True, False])
def test_sum_squares_matches_numpy(weighted):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(11, 3))
    w = rng.integers(0, 4, 11) ** 0.75 if weighted else np.ones(11)
    total = SumSquares(4, max_blocks=3)(cuda.to_device(X), cuda.to_device(w)
                                        if weighted else None)
    assert total == pytest.approx(float(w @ (X ** 2).sum(1)), rel=1e-13)
    bias = rng.normal(size=11)
    assert SumSquares(2)(cuda.to_device(bias)) == pytest.approx(float(bias @ bias), rel=1e-13)


def test_sum_squares_kernel_partials():
    X = np.arange(12.0).reshape(4, 3)
    partial = np.full(2, np.nan)
    sum_squares[2, 4](X, np.zeros(0), partial)
    assert partial.sum() == pytest.approx((X ** 2).sum())

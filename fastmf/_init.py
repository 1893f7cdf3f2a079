"""Random initial factors without float64 temporaries the size of the factors."""

import numpy as np

#: Bytes of draws made at once.
BLOCK_BYTES = 16 * 2**20


def random_factors(rng, shape, dtype, scale=1.0, *, uniform=False):
    """``scale * draws`` as ``dtype``: standard normal draws, or uniform on [0, 1).

    The draws are float32 whatever ``dtype`` (twice as fast as float64 draws; the precision of
    a random start does not matter, and float32 and float64 models of one seed start from the
    same values), made a block of rows at a time into the result: the values are those of one
    ``rng.standard_normal(shape, dtype=np.float32)`` (or ``rng.random``) call, and memory is
    the result plus 16 MiB (e.g. 10^6 x 32 factors: 128 MB in float32, where drawing float64
    and converting peaked at 640 MB).

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf._init import random_factors
    >>> W = random_factors(np.random.default_rng(0), (5, 3), np.float32, 0.1)
    >>> ref = np.random.default_rng(0).standard_normal((5, 3), dtype=np.float32)
    >>> ref *= np.float32(0.1)
    >>> W.dtype, bool(np.array_equal(W, ref))
    (dtype('float32'), True)
    """
    n, k = shape
    out = np.empty((n, k), dtype=dtype)
    draw = rng.random if uniform else rng.standard_normal
    rows = max(1, BLOCK_BYTES // (4 * max(k, 1)))
    buf = np.empty((min(rows, n), k), np.float32)
    for start in range(0, n, rows):
        block = buf[:min(rows, n - start)]
        draw(block.shape, dtype=np.float32, out=block)
        block *= np.float32(scale)
        out[start:start + len(block)] = block
    return out

"""Random initial factors without float64 temporaries the size of the factors."""

import numpy as np

#: Bytes of float64 draws held at once.
BLOCK_BYTES = 16 * 2**20


def random_factors(rng, shape, dtype, scale=1.0, *, uniform=False):
    """``(scale * draws).astype(dtype)``: standard normal draws, or uniform on [0, 1).

    The draws are made a block of rows at a time into the ``dtype`` result: the values are
    those of one ``rng.standard_normal(shape)`` (or ``rng.random(shape)``) call, but memory is
    the result plus 16 MiB, not three float64 arrays of ``shape`` (e.g. 10^6 x 32 factors:
    128 MB in float32 instead of a 640 MB peak).

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf._init import random_factors
    >>> W = random_factors(np.random.default_rng(0), (5, 3), np.float32, 0.1)
    >>> ref = (np.random.default_rng(0).standard_normal((5, 3)) * 0.1).astype(np.float32)
    >>> W.dtype, bool(np.array_equal(W, ref))
    (dtype('float32'), True)
    """
    n, k = shape
    out = np.empty((n, k), dtype=dtype)
    draw = rng.random if uniform else rng.standard_normal
    rows = max(1, BLOCK_BYTES // (8 * max(k, 1)))
    for start in range(0, n, rows):
        block = draw((min(rows, n - start), k))
        block *= scale
        out[start:start + len(block)] = block
    return out

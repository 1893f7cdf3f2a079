"""Which features of an FM design the coordinate sweeps may update in parallel."""

import numba
import numpy as np

from .._config import JIT


@numba.njit(**JIT)
def exclusive_runs(col_ptr, rows, order, groups, n_rows, starts):
    """Cut ``order`` (features, grouped) into maximal runs of consecutive features of one group
    whose columns share no row; writes each run's first position in ``order`` to ``starts``
    and returns the number of runs.

    The features of a run touch disjoint rows, so a coordinate sweep can update them in
    parallel with the result of updating them one after another in ``order``. A one-hot
    categorical variable (e.g. the user column block of an MF design) is one run, also when
    several variables share a prior group. O(nnz + n_features).
    """
    mark = np.full(n_rows, -1, np.int64)
    run, prev, n_runs = -1, -1, 0
    for t in range(order.shape[0]):
        j = order[t]
        clash = groups[j] != prev
        if not clash:
            for p in range(col_ptr[j], col_ptr[j + 1]):
                if mark[rows[p]] == run:
                    clash = True
                    break
        if clash:
            run += 1
            prev = groups[j]
            starts[n_runs] = t
            n_runs += 1
        for p in range(col_ptr[j], col_ptr[j + 1]):
            mark[rows[p]] = run
    return n_runs

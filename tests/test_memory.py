"""No path of the main models materialises a dense users x items array.

A child process fits, recommends and evaluates at 10^5 users x 10^5 items under an
address-space limit (RLIMIT_AS): a dense users x items matrix (10^10 cells: 9.3 GiB as bool,
37 GiB as float32) cannot even be reserved, so any accidental one raises MemoryError there.
"""

import os
import subprocess
import sys

import pytest

resource = pytest.importorskip("resource")

# RLIMIT_AS counts reserved address space, not resident memory. Measured for the child below
# (2 Numba threads, OpenBLAS 1 thread, Python 3.11, numba 0.68, 2026-12): VmPeak 0.8 GiB with
# the Numba cache warm and 1.0 GiB when it compiles every kernel (the LLVM compiler's memory
# included); the resident peak is 0.45 / 0.65 GiB. 4 GiB leaves 4x margin for other library
# versions and thread layers, and stays far below the 9.3 GiB of the smallest dense
# users x items array. The thread counts are fixed in the child's environment because thread
# stacks, malloc arenas and BLAS buffers reserve address space per thread.
LIMIT = 4 * 2**30
N = 10**5

CHILD = f"""
import resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
limit = {LIMIT} if hard == resource.RLIM_INFINITY else min({LIMIT}, hard)
resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

import numpy as np
import fastmf

n = {N}
data = fastmf.datasets.make_ratings(n, n, 100_000, random_state=0)
train, test = fastmf.model_selection.train_test_split(data, test_size=0.1, random_state=0)
test = test.subset(test.users < 1_000)
users = np.arange(0, n, 200)
kw = dict(n_factors=8, random_state=0)
for model in [fastmf.MatrixFactorization(n_iter=2, **kw),
              fastmf.MatrixFactorization(solver="sgd", n_iter=2, **kw),
              fastmf.ImplicitALS(n_iter=2, **kw),
              fastmf.BPR(n_iter=2, **kw),
              fastmf.NMF(n_components=8, max_iter=2, random_state=0)]:
    model.fit(train)
    items, scores = model.recommend(users, n=10, exclude=train)
    assert items.shape == (len(users), 10) and np.isfinite(scores).all()
    metrics = fastmf.metrics.ranking_metrics(model, train, test, k=10)
    assert 0 <= metrics["ndcg"] <= 1
    print("ok", type(model).__name__, flush=True)
try:
    np.empty((n, n), dtype=np.bool_)
except MemoryError:
    print("dense users x items refused")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_fit_recommend_evaluate_at_1e5_by_1e5_without_a_dense_matrix():
    env = dict(os.environ, NUMBA_NUM_THREADS="2", OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", FASTMF_NO_BLAS_CHECK="1", PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[:5] == ["ok MatrixFactorization", "ok MatrixFactorization", "ok ImplicitALS",
                         "ok BPR", "ok NMF"]
    # the limit is effective: the same process could not reserve a dense users x items array
    assert lines[5] == "dense users x items refused"

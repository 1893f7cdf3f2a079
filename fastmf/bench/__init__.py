"""``fastmf bench``: fastmf against the peer libraries that are installed, on your data.

The method (one process per library, the same thread count for all, BLAS pools at one
thread, data conversion outside the timed region, one untimed warm-up where something
compiles, the median of the repeats) lives in :func:`run_jobs`; :func:`run_benchmark` builds
the jobs for the models in :data:`MODELS` and the peers in :data:`PEERS`, and
``benchmarks/compare_peers.py`` builds its own jobs for the tables of
``benchmarks/RESULTS.md``. The peers are the ``bench`` extra:
``pip install "fastmf[bench]"``.

Examples
--------
$ fastmf bench --data ml-100k --models als,sgd,ials,bpr --threads 2 --repeats 3 \\
      -o results.json --markdown results.md --plot results.png
"""

from ._data import load_data, load_split, positives, save_split, split
from ._engine import Job, missing_modules, run_jobs, worker_env
from ._models import DEFAULT_MODELS, MODELS, Model
from ._report import format_table, read_json, to_markdown, write_json
from ._run import check_models, check_peers, run_benchmark
from .peers import PEERS, Peer

__all__ = [
    "DEFAULT_MODELS", "Job", "MODELS", "Model", "PEERS", "Peer", "check_models", "check_peers",
    "format_table", "load_data", "load_split", "missing_modules", "positives", "read_json",
    "run_benchmark", "run_jobs", "save_split", "split", "to_markdown", "worker_env",
    "write_json",
]

"""How long the NCF protocol's evaluation takes on MovieLens-100k (issue #13).

The split of ``ncf_protocol.py`` (each user's latest interaction held out, 99 sampled
negatives); for each NCF variant (1 training epoch: the cost of scoring does not depend on
training), the median of 5 runs of ``sampled_ranking_metrics`` over every test user and of the
full-ranking ``ranking_metrics`` beside it, after one untimed run of each.

    python benchmarks/ncf_eval_time.py ../shared/data/ml-100k --threads 2
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sgd_floor import median_seconds  # noqa: E402

import fastmf  # noqa: E402
from fastmf.metrics import ranking_metrics, sampled_ranking_metrics  # noqa: E402
from fastmf.model_selection import leave_one_out, sample_negatives  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", help="directory of MovieLens-100k (u.data)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    r = fastmf.datasets.load_movielens("100k", path=args.path)
    binary = fastmf.Ratings(r.users, r.items, np.ones(r.nnz), timestamps=r.timestamps,
                            n_users=r.n_users, n_items=r.n_items)
    train, test = leave_one_out(binary, method="time", random_state=0)
    negatives = sample_negatives(train, test, n=99, random_state=0)
    print(f"{test.nnz} test users, {negatives.shape[1]} negatives each, {args.threads} threads")
    print("| model | sampled_ranking_metrics s | ranking_metrics (all items) s |")
    print("|---|---|---|")
    for model in ("neumf", "mlp", "gmf"):
        m = fastmf.NCF(model=model, pretrain=False, n_iter=1, n_threads=args.threads,
                       random_state=0).fit(train)
        sampled = median_seconds(lambda m=m: sampled_ranking_metrics(m, test, negatives, k=10,
                                                                     train=train), repeats=5)
        full = median_seconds(lambda m=m: ranking_metrics(m, train, test, k=10), repeats=5)
        print(f"| {model} | {sampled:.3f} | {full:.3f} |", flush=True)


if __name__ == "__main__":
    main()

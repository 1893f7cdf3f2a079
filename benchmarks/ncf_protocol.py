"""The NCF protocol on MovieLens-100k (issue #13): every ranking model at its defaults.

He et al. (2017): all ratings are interactions, each user's latest is held out
(``leave_one_out(method="time")``), ranked among 99 sampled items the user never rated
(``sample_negatives``), HR@10 and NDCG@10 (``sampled_ranking_metrics``); the full-ranking
nDCG@10 over all items is printed beside them (Krichene & Rendle 2020). Every model runs at
its defaults; the test split is scored once per model.

    python benchmarks/ncf_protocol.py ../shared/data/ml-100k --threads 2

Prints a markdown table: model, settings, s per epoch (whole fit / epochs), HR@10, NDCG@10 and
the full-ranking nDCG@10.
"""

import argparse
import time

import numpy as np

import fastmf
from fastmf.metrics import ranking_metrics, sampled_ranking_metrics
from fastmf.model_selection import leave_one_out, sample_negatives

MODELS = {
    "NCF NeuMF (pre-trained, defaults)": lambda t: fastmf.NCF(n_threads=t, random_state=0),
    "NCF GMF": lambda t: fastmf.NCF(model="gmf", n_threads=t, random_state=0),
    "NCF MLP": lambda t: fastmf.NCF(model="mlp", n_threads=t, random_state=0),
    "ImplicitALS (defaults)": lambda t: fastmf.ImplicitALS(n_threads=t, random_state=0),
    "BPR (defaults)": lambda t: fastmf.BPR(n_threads=t, random_state=0),
    "WARP (defaults)": lambda t: fastmf.WARP(n_threads=t, random_state=0),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", help="directory of MovieLens-100k (u.data)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    ratings = fastmf.datasets.load_movielens("100k", path=args.path)
    binary = fastmf.Ratings(ratings.users, ratings.items, np.ones(ratings.nnz),
                            timestamps=ratings.timestamps, n_users=ratings.n_users,
                            n_items=ratings.n_items)
    train, test = leave_one_out(binary, method="time", random_state=0)
    negatives = sample_negatives(train, test, n=99, random_state=0)
    print("| model | s / epoch | HR@10 | NDCG@10 | full nDCG@10 |")
    print("|---|---|---|---|---|")
    for name, make in MODELS.items():
        model = make(args.threads)
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        epochs = model.n_iter_ * (3 if name.startswith("NCF NeuMF") else 1)
        m = sampled_ranking_metrics(model, test, negatives, k=10, train=train)
        full = ranking_metrics(model, train, test, k=10)["ndcg"]
        print(f"| {name} | {seconds / epochs:.3f} | {m['hit_rate']:.4f} | {m['ndcg']:.4f} | "
              f"{full:.4f} |", flush=True)


if __name__ == "__main__":
    main()

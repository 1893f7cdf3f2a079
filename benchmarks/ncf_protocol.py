"""The NCF protocol on MovieLens-100k (issue #13): every ranking model at its defaults, and
fastmf's NCF against cornac's (PyTorch backend) at the same settings.

He et al. (2017): all ratings are interactions, each user's latest is held out
(``leave_one_out(method="time")``), ranked among 99 sampled items the user never rated
(``sample_negatives``), HR@10 and NDCG@10 (``sampled_ranking_metrics``); the full-ranking
nDCG@10 over all items is printed beside them (Krichene & Rendle 2020). Every model runs at
its defaults after one untimed 1-epoch fit (the warm-up: Numba's kernels load or compile);
the test split is scored once per model.

    python benchmarks/ncf_protocol.py ../shared/data/ml-100k --threads 2

Prints two markdown tables. The first: model, s per epoch (whole fit / epochs), HR@10,
NDCG@10 and the full-ranking nDCG@10. The second: fastmf's NCF GMF, MLP and NeuMF (the fits
of the first table) beside cornac's GMF, MLP and NeuMF (pre-trained from that GMF and MLP),
fitted by ``ncf_cornac.py`` in its own process (``--cornac-python``: the interpreter that has
cornac and PyTorch; default this one) with fastmf's NCF defaults and the same threads
(``--cornac-threads`` to differ), and ranked on the same split and negatives by the same rule
as ``sampled_ranking_metrics`` (cornac's quirks: ``ncf_cornac.py``). Its "cornac / fastmf"
column is cornac's s per epoch over fastmf's. fastmf's NCF epoch runs in one thread whatever
``n_threads`` is (see ``fastmf._kernels.ncf.ncf_epoch``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
#: The rows of the second table: cornac's model name and the first table's fastmf row.
NCF_ROWS = {"NeuMF (pre-trained)": "NCF NeuMF (pre-trained, defaults)", "GMF": "NCF GMF",
            "MLP": "NCF MLP"}


def sampled_ranks(pos, neg, k):
    """HR@k and NDCG@k of positive scores ``pos`` (n,) among negative scores ``neg`` (n, m):
    ``sampled_ranking_metrics``'s rule (ties count against the positive)."""
    rank = np.sum(neg >= pos[:, None], axis=1)
    hit = rank < k
    return {"hit_rate": float(hit.mean()),
            "ndcg": float(np.mean(np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0)))}


def fastmf_table(train, test, negatives, threads):
    """The first table's rows, printed as they come; returns the NCF rows' results."""
    users = np.repeat(np.arange(test.n_users), np.diff(test.csr.indptr))
    results = {}
    print("| model | s / epoch | HR@10 | NDCG@10 | full nDCG@10 |")
    print("|---|---|---|---|---|")
    for name, make in MODELS.items():
        make(threads).set_params(n_iter=1).fit(train)  # warm-up, untimed
        model = make(threads)
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        epochs = model.n_iter_ * (3 if name.startswith("NCF NeuMF") else 1)
        m = sampled_ranking_metrics(model, test, negatives, k=10, train=train)
        full = ranking_metrics(model, train, test, k=10)["ndcg"]
        if name.startswith("NCF"):
            pos = model.predict(users, test.csr.indices)
            neg = model.predict(np.repeat(users, negatives.shape[1]), negatives.ravel())
            if sampled_ranks(pos, neg.reshape(negatives.shape), 10) != m:
                raise RuntimeError(f"{name}: sampled_ranks disagrees with "
                                   "sampled_ranking_metrics")
            results[name] = dict(m, seconds=seconds / epochs)
        print(f"| {name} | {seconds / epochs:.3f} | {m['hit_rate']:.4f} | {m['ndcg']:.4f} | "
              f"{full:.4f} |", flush=True)
    return results


def run_cornac(train, test, negatives, threads, python):
    """cornac's results from ``ncf_cornac.py`` (a dict with ``"error"`` when it has none)."""
    settings = fastmf.NCF(random_state=0).get_params()
    settings["layers"] = list(settings["layers"])
    users = np.repeat(np.arange(test.n_users), np.diff(test.csr.indptr))
    coo = train.csr.tocoo()
    env = dict(os.environ, **{v: str(threads) for v in
                              ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    with tempfile.TemporaryDirectory() as tmp:
        split, conf = Path(tmp, "split.npz"), Path(tmp, "settings.json")
        np.savez(split, train_users=coo.row, train_items=coo.col, n_users=train.n_users,
                 n_items=train.n_items, test_users=users, test_items=test.csr.indices,
                 negatives=negatives)
        conf.write_text(json.dumps(settings))
        proc = subprocess.run([python, str(Path(__file__).with_name("ncf_cornac.py")),
                               str(split), str(conf), "--threads", str(threads)],
                              capture_output=True, text=True, env=env, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        return {"error": f"cornac: failed ({proc.stderr.strip().splitlines()[-1:]})"}
    return json.loads(lines[-1])


def cornac_table(ours, theirs):
    """The second table: fastmf's NCF rows beside cornac's."""
    print("\n| model | fastmf s / epoch | cornac s / epoch | cornac / fastmf | fastmf HR@10 | "
          "cornac HR@10 | fastmf NDCG@10 | cornac NDCG@10 |")
    print("|---|---|---|---|---|---|---|---|")
    if "error" in theirs:
        print(f"| {theirs['error']} | | | | | | | |")
        return
    for name, row in NCF_ROWS.items():
        f = ours[row]
        if name.startswith("NeuMF"):  # the two pre-training fits and its own
            c = theirs["NeuMF"]
            seconds = sum(theirs[p]["seconds"] for p in ("GMF", "MLP", "NeuMF"))
            epochs = sum(theirs[p]["epochs"] for p in ("GMF", "MLP", "NeuMF"))
        else:
            c = theirs[name]
            seconds, epochs = c["seconds"], c["epochs"]
        m = sampled_ranks(np.asarray(c["pos"]), np.asarray(c["neg"]), 10)
        per = seconds / epochs
        print(f"| {name} | {f['seconds']:.3f} | {per:.2f} | {per / f['seconds']:.0f} | "
              f"{f['hit_rate']:.4f} | {m['hit_rate']:.4f} | {f['ndcg']:.4f} | "
              f"{m['ndcg']:.4f} |", flush=True)
    print(f"\n{theirs['versions']}, {theirs['threads']} thread(s); batches of "
          f"{theirs['batch_positives']} positives and their negatives")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", help="directory of MovieLens-100k (u.data)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cornac-python", default=sys.executable,
                    help="the Python that runs ncf_cornac.py (has cornac and torch)")
    ap.add_argument("--cornac-threads", type=int, default=None,
                    help="cornac's threads (default --threads)")
    args = ap.parse_args()
    ratings = fastmf.datasets.load_movielens("100k", path=args.path)
    binary = fastmf.Ratings(ratings.users, ratings.items, np.ones(ratings.nnz),
                            timestamps=ratings.timestamps, n_users=ratings.n_users,
                            n_items=ratings.n_items)
    train, test = leave_one_out(binary, method="time", random_state=0)
    negatives = sample_negatives(train, test, n=99, random_state=0)
    ours = fastmf_table(train, test, negatives, args.threads)
    cornac_table(ours, run_cornac(train, test, negatives,
                                        args.cornac_threads or args.threads,
                                        args.cornac_python))


if __name__ == "__main__":
    main()

"""How WARP's defaults were chosen: validation nDCG@10 per epoch on a carve of ML-100k's train.

The compare_peers ML-100k split (90/10, seed 0) binarised at >= 4, its train part split again
per user (10 % of each user's positives, seed 0); the test split is never read. Each argument
is a dict of WARP (or, with ``"cls": "BPR"``, BPR) settings; k = 64, 2 threads, seed 0.

    cd benchmarks && python tune_warp.py "dict()" "dict(lr_schedule='constant', \
        learning_rate=0.005, reg=0.5, n_iter=60)" "dict(cls='BPR', n_iter=100)"

prints, per setting, the validation nDCG@10 every 3rd epoch and at the end.
"""

import sys

from compare_peers import load_split

import fastmf
from fastmf.bench._eval import ranking_data


def main(settings):
    train, test = load_split("ml-100k")
    positives, _ = ranking_data({"k": 64}, train, test)
    fit_part, valid = fastmf.model_selection.train_test_split(
        fastmf.Ratings.from_sparse(positives), 0.1, method="user", random_state=0)
    for text in settings:
        kw = eval(text, {"dict": dict})  # noqa: S307 - command-line settings of this script
        cls = getattr(fastmf, kw.pop("cls", "WARP"))
        model = cls(64, n_threads=2, random_state=0, **kw).fit(fit_part.csr,
                                                              eval_set=valid.csr)
        ndcg = model.history_["eval_ndcg@10"]
        print(text, "every 3rd epoch:", [round(v, 3) for v in ndcg[::3]],
              "last:", round(ndcg[-1], 4), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["dict()"])

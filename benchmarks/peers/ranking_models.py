"""Top-N lists (issue #15): fastmf WARP, k-OS WARP and BPR at their defaults vs LightFM.

The data are binarised as in ``implicit_models`` (the driver's 90/10 split of explicit ratings,
ratings >= 4 kept in train and in test), k = 64. fastmf runs every model at its defaults but
the epochs, which the case sets for every library alike: the default WARP's 60, and 10 —
LightFM's best epoch count on ML-100k's test split (nDCG@10 0.221 at 10 epochs, 0.190 at 60;
chosen on the test split, in LightFM's favour). LightFM runs its documented setting (AdaGrad,
learning rate 0.05, ``max_sampled=10``, no L2) with WARP and k-OS WARP (``k=5``, ``n=10``).
"""

from functools import partial

from fastmf.bench._fastmf import estimator
from fastmf.bench.peers import lightfm

TITLE = "Top-N lists (issue #15): fastmf WARP / BPR at defaults vs LightFM WARP"

CASES = [{"label": f"{label}, k=64, {iters} epochs", "data": data, "k": 64, "iters": iters}
         for data, label in (("ml-100k", "MovieLens-100k binarised (>= 4)"),
                             ("synthetic-1m", "synthetic ML-1M size binarised (>= 4)"))
         for iters in (10, 60)]

RUNNERS = {
    "fastmf WARP": partial(estimator, name="WARP", ranking_model=True),
    "fastmf k-OS WARP": partial(estimator, name="WARP", ranking_model=True, loss="warp-kos"),
    "fastmf BPR": partial(estimator, name="BPR", ranking_model=True),
    "LightFM WARP": partial(lightfm.lightfm, loss="warp"),
    "LightFM k-OS WARP": partial(lightfm.lightfm, loss="warp-kos"),
}

NOTES = """
Quality: precision@10 and nDCG@10 of `fastmf.metrics.ranking_metrics` on the held-out
positives, training items excluded, the same code for every library (LightFM scored from its
embeddings and item biases). fastmf's defaults (WARP: learning rate 0.005, L2 0.5 per step,
`max_sampled=20`; BPR: 0.05, 0.005) were chosen on a validation split carved from the train
part (10 % of each user's positives), never on the test split reported here.
"""

"""I-AutoRec: fastmf AutoRec (L-BFGS and Adam) vs a PyTorch reference (dense masked Adam).

Every library fits I-AutoRec with 500 sigmoid hidden units and L2 150 (the paper's lambda
300) on the weights. ``fastmf lbfgs`` is the default ``AutoRec()`` (full-batch L-BFGS, one
iteration per ``iters``); ``fastmf adam`` and ``PyTorch adam`` run the same minibatch objective
(batches of 32 items, learning rate 0.001) for the same number of epochs, so their
"s / epoch" and RMSE compare directly. MF ALS at its defaults is the accuracy reference.
"""

from functools import partial

from fastmf.bench._fastmf import estimator
from fastmf.bench.peers import pytorch

TITLE = "AutoRec (issue #12): fastmf AutoRec vs a PyTorch reference"

CASES = [
    {"label": "MovieLens-100k, 90/10 split (seed 0), h=500, 30 epochs / L-BFGS iterations",
     "data": "ml-100k", "k": 500, "iters": 30},
    {"label": "synthetic ML-1M size (6,040 x 3,706, 1,000,209 ratings), 90/10, h=500, "
              "10 epochs / iterations", "data": "synthetic-1m", "k": 500, "iters": 10},
    {"label": "MovieLens-100k, 90/10 split (seed 0), AutoRec() at its defaults (h=500, 200 "
              "L-BFGS iterations)", "data": "ml-100k", "k": 500, "iters": 200,
     "runners": ["fastmf lbfgs"]},
    {"label": "synthetic ML-1M size, AutoRec() at its defaults (h=500, 200 L-BFGS iterations)",
     "data": "synthetic-1m", "k": 500, "iters": 200, "runners": ["fastmf lbfgs"]},
]

RUNNERS = {
    "fastmf lbfgs": partial(estimator, name="AutoRec"),
    "fastmf adam": partial(estimator, name="AutoRec", solver="adam", learning_rate=1e-3,
                           batch_size=32),
    "PyTorch adam": partial(pytorch.autorec, reg=150.0, learning_rate=1e-3, batch_size=32),
}

NOTES = """
PyTorch 2.13.0 (CPU wheel), `torch.set_num_threads(threads)`, OpenMP's default wait policy; see
`fastmf/bench/peers/pytorch.py` for the reference (items x users dense, masked squared error).
The last two cases are `AutoRec()` as a user gets it; on the same splits
`MatrixFactorization()` at its defaults scores 0.9074 on ML-100k and 0.4948 on the 1M set (the
`defaults` section).
"""

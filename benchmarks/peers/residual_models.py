"""ResidualMF: fastmf ResidualMF vs plain MF by the same recipe and a PyTorch reference.

Every library runs minibatch SGD with momentum (learning rate 0.08, momentum 0.9, batches of
128) for the same epochs, k = 64; ResidualMF and PyTorch add an MLP (400 ELU units, linear
output, weight decay 1e-4) on the concatenated embeddings, with L2 0.05 on the embeddings and
biases per rating. ``fastmf MF`` is ``MatrixFactorization(solver="sgd")`` with the same recipe.
"""

from functools import partial

from fastmf.bench._fastmf import estimator
from fastmf.bench.peers import pytorch

TITLE = "ResidualMF (issue #12): fastmf ResidualMF vs the same recipe's MF and PyTorch"

CASES = [
    {"label": "MovieLens-100k, 90/10 split (seed 0), k=64, 20 epochs", "data": "ml-100k",
     "k": 64, "iters": 20},
    {"label": "synthetic ML-1M size (6,040 x 3,706, 1,000,209 ratings), 90/10, k=64, "
              "3 epochs", "data": "synthetic-1m", "k": 64, "iters": 3},
]

RECIPE = dict(learning_rate=0.08, momentum=0.9, batch_size=128)

RUNNERS = {
    "fastmf ResidualMF": partial(estimator, name="ResidualMF"),
    "fastmf MF (same recipe)": partial(estimator, name="MatrixFactorization", solver="sgd",
                                       reg=0.05, reg_exponent=1.0, **RECIPE),
    "PyTorch": partial(pytorch.residual_mf, **RECIPE),
}

NOTES = """
PyTorch 2.13.0 (CPU wheel), `torch.set_num_threads(threads)`; dense `nn.Embedding` gradients
and `torch.optim.SGD(momentum=0.9)` (every embedding row moves every step by its velocity;
fastmf's steps are lazy, see `fastmf/_kernels/nn.py`).
"""

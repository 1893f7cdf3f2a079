"""cornac's GMF, MLP and NeuMF (PyTorch backend) on a saved NCF-protocol split (issue #13).

Run by ``ncf_protocol.py`` in its own process (so the thread settings hold from the start and
the protocol runs without cornac or PyTorch installed)::

    python benchmarks/ncf_cornac.py split.npz settings.json --threads 2

``split.npz`` holds the training pairs (``train_users``, ``train_items``, in fastmf's index
space, ``n_users``, ``n_items``) and the test entries with their sampled negatives
(``test_users``, ``test_items``, ``negatives``, in the order of
:func:`fastmf.metrics.sampled_ranking_metrics`); ``settings.json`` holds fastmf's NCF
hyper-parameters (``n_factors``, ``layers``, ``n_negatives``, ``batch_size``,
``learning_rate``, ``optimizer``, ``reg``, ``n_iter``, ``alpha``, ``finetune_optimizer``,
``finetune_learning_rate``, ``random_state``). After one untimed 1-epoch NeuMF fit (the
warm-up) it fits a GMF and an MLP with them, then a NeuMF started from the two
(``NeuMF.from_pretrained``, He et al. 3.4.1, as ``fastmf.NCF(pretrain=True)`` does) with the
fine-tuning optimiser and step (cornac's ``learner="sgd"`` is ``torch.optim.SGD``), and
prints one JSON line: per model the seconds of its fit, its epochs, and the logits of the
test pairs and of their negatives, for the caller to rank exactly as it ranks fastmf's.

cornac 3.0.1's quirks, as met here:

- The default backend is TensorFlow: ``backend="pytorch"`` is needed. The PyTorch NeuMF
  asserts ``layers[-1] == num_factors``. ``verbose`` defaults to True (a tqdm bar per fit).
- ``batch_size`` counts *positives*: a batch is ``batch_size`` positives and ``num_neg``
  negatives for each, ``(1 + num_neg) * batch_size`` instances. fastmf's ``batch_size``
  counts instances (positives and negatives together, as the paper's code does), so cornac
  runs with ``batch_size // (1 + n_negatives)`` positives: 51 (255 instances) for 256.
- Negatives are drawn per instance by a Python loop in ``Dataset.uir_iter`` (rejecting a
  user's training items by ``dok_matrix`` look-ups), fresh every epoch, as fastmf's
  ``exclude_positives=True``.
- ``Dataset.from_uir`` numbers users and items in order of first appearance and knows only
  the items of the training data; here ``Dataset.build`` gets identity maps over every user
  and item, so cornac's indices are fastmf's and an item without training interactions is a
  (negatives-only) row in both.
- The Adam optimiser is dense ``torch.optim.Adam`` over every parameter (``reg`` as its
  ``weight_decay``): an embedding row that no batch touched still moves by its moments;
  fastmf's Adam steps embedding rows lazily (as ``torch.optim.SparseAdam``).
- Initialisation: embeddings and the output layer N(0, 0.01), the tower Glorot uniform,
  biases PyTorch's default (uniform in +-1/sqrt(fan_in)); fastmf: embeddings N(0, 0.01), the
  tower Glorot uniform, the output layer LeCun uniform, biases 0.
- ``score(u)`` returns sigmoid probabilities, which tie at 1.0 in float32 for logits above
  about 17; the scores here are the logits, computed from the fitted torch modules
  (``logit(h(u, i))``) and checked against ``score`` for a few users after every fit.
- It trains on CUDA when one is visible (this machine has none).
"""

import argparse
import json
import os
import sys
import time
from collections import OrderedDict


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("split")
    ap.add_argument("settings")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    # PyTorch under its own OpenMP default (PASSIVE, set for Numba's workers, slows its
    # small ops; fastmf.bench.peers.pytorch does the same)
    os.environ.pop("OMP_WAIT_POLICY", None)
    try:
        import cornac
        import torch
    except ImportError as exc:
        print(json.dumps({"error": f"cornac: not installed ({exc})"}))
        return
    import numpy as np

    torch.set_num_threads(args.threads)
    split = dict(np.load(args.split))
    with open(args.settings) as f:
        s = json.load(f)
    n_users, n_items = int(split["n_users"]), int(split["n_items"])
    train = cornac.data.Dataset.build(
        list(zip(split["train_users"].tolist(), split["train_items"].tolist(),
                 [1.0] * len(split["train_users"]), strict=True)),
        global_uid_map=OrderedDict((u, u) for u in range(n_users)),
        global_iid_map=OrderedDict((i, i) for i in range(n_items)), seed=s["random_state"])
    if (train.num_users, train.num_items) != (n_users, n_items):
        sys.exit("cornac's Dataset does not hold every user and item")
    common = dict(num_epochs=s["n_iter"], batch_size=s["batch_size"] // (1 + s["n_negatives"]),
                  num_neg=s["n_negatives"], lr=s["learning_rate"], learner=s["optimizer"],
                  reg=s["reg"], backend="pytorch", verbose=False, seed=s["random_state"])
    tower = dict(layers=tuple(s["layers"]), act_fn="relu")
    finetune = dict(learner=s["finetune_optimizer"], lr=s["finetune_learning_rate"])
    fits = {}
    makers = {
        "GMF": lambda **kw: cornac.models.GMF(num_factors=s["n_factors"], **{**common, **kw}),
        "MLP": lambda **kw: cornac.models.MLP(**tower, **{**common, **kw}),
        "NeuMF": lambda **kw: cornac.models.NeuMF(num_factors=s["n_factors"], **tower,
                                                  **{**common, **finetune, **kw}),
    }
    makers["NeuMF"](num_epochs=1).fit(train)  # warm-up, untimed
    out = {"versions": f"cornac {cornac.__version__}, torch {torch.__version__}",
           "batch_positives": common["batch_size"], "threads": torch.get_num_threads()}
    users, items, negatives = split["test_users"], split["test_items"], split["negatives"]
    for name, make in makers.items():
        train.reset()
        model = make()
        if name == "NeuMF":
            model.from_pretrained(fits["GMF"], fits["MLP"], s["alpha"])
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        fits[name] = model
        _check_logits(model, users[:3])
        neg = logits(model, np.repeat(users, negatives.shape[1]), negatives.ravel())
        out[name] = {"seconds": seconds, "epochs": s["n_iter"],
                     "pos": logits(model, users, items).tolist(),
                     "neg": neg.reshape(negatives.shape).tolist()}
    print(json.dumps(out))


def logits(model, users, items):
    """The logits ``x_ui`` of a fitted cornac GMF, MLP or NeuMF (PyTorch) for index pairs."""
    import torch

    net = model.model
    with torch.no_grad():
        u = torch.as_tensor(users, dtype=torch.long)
        i = torch.as_tensor(items, dtype=torch.long)
        if hasattr(net, "gmf"):  # NeuMF: [GMF's p * q, MLP's tower output]
            h = torch.cat([net.gmf.h(u, i), net.mlp.h(u, i)], dim=-1)
        else:
            h = net.h(u, i)
        return net.logit(h).view(-1).double().numpy()


def _check_logits(model, users):
    """Exit unless ``sigmoid(logits)`` is cornac's own ``score`` of every item for ``users``."""
    import numpy as np

    items = np.arange(model.num_items)
    for u in users:
        ours = 1.0 / (1.0 + np.exp(-logits(model, np.full(len(items), u), items)))
        if not np.allclose(ours, model.score(int(u)), rtol=1e-5, atol=1e-6):
            sys.exit(f"{model.name}: the logits disagree with cornac's score for user {u}")


if __name__ == "__main__":
    main()

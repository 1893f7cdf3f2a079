"""PyTorch references of the neural rating models, written the way framework users write them.

* I-AutoRec: the items x users rating matrix held dense, minibatches of item rows through
  ``Linear(n_users, h) -> sigmoid -> Linear(h, n_users)``, the squared error masked to the
  observed entries, ``torch.optim.Adam``. The batch loss is fastmf's AutoRec minibatch
  objective: ``1/2 sum(mask * (out - x)^2) / batch + reg / 2 / n_items (|W|^2 + |V|^2)``.
* ResidualMF: ``nn.Embedding`` tables (dense gradients) for the user and item embeddings and
  biases, ``nn.Sequential(Linear(2k, h), ELU, Linear(h, 1))`` on their concatenation,
  ``torch.optim.SGD(momentum=0.9)`` (MLP weight decay through a parameter group); the batch
  loss is fastmf's: mean of ``1/2 e^2 + reg/2 (|p|^2 + |q|^2) + reg_bias/2 (b^2 + c^2)``.

Threads: ``torch.set_num_threads(threads)`` (and ``OMP_NUM_THREADS`` from the benchmark), with
OpenMP's default wait policy (see :func:`_torch`).
Predictions are clipped to the training range, as fastmf's ``clip=True``.
"""

import os

import numpy as np

from .._eval import rmse


def _torch(threads, seed):
    # PyTorch runs under its own OpenMP default: the OMP_WAIT_POLICY=PASSIVE the benchmarks
    # set for Numba's workers (see RESULTS.md) made its small-op epochs up to 1.8x slower at
    # 2 threads here. libgomp reads the variable when it loads, i.e. on this import.
    os.environ.pop("OMP_WAIT_POLICY", None)
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return torch


def autorec(case, train, test, threads, *, reg=150.0, learning_rate=1e-3, batch_size=32):
    """I-AutoRec (``case["k"]`` hidden units, ``case["iters"]`` epochs) by dense masked
    minibatches and Adam."""
    torch = _torch(threads, case.get("seed", 0))
    n_users, n_items = train.shape
    R = torch.zeros((n_items, n_users))
    R[torch.as_tensor(train.items), torch.as_tensor(train.users)] = torch.as_tensor(
        train.values, dtype=torch.float32)
    M = (R != 0).float()
    lo, hi = float(train.values.min()), float(train.values.max())

    def fit():
        torch.manual_seed(case.get("seed", 0))
        enc, dec = torch.nn.Linear(n_users, case["k"]), torch.nn.Linear(case["k"], n_users)
        for layer in (enc, dec):
            torch.nn.init.normal_(layer.weight, std=0.03)
            torch.nn.init.zeros_(layer.bias)
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=learning_rate)
        for _ in range(case["iters"]):
            for rows in torch.randperm(n_items).split(batch_size):
                x, m = R[rows], M[rows]
                out = dec(torch.sigmoid(enc(x)))
                loss = 0.5 * ((out - x) ** 2 * m).sum() / len(rows) + 0.5 * reg / n_items * (
                    (enc.weight ** 2).sum() + (dec.weight ** 2).sum())
                opt.zero_grad()
                loss.backward()
                opt.step()
        return enc, dec

    def evaluate(model):
        enc, dec = model
        with torch.no_grad():
            out = dec(torch.sigmoid(enc(R)))
        pred = out[torch.as_tensor(test.items), torch.as_tensor(test.users)].numpy()
        return rmse(test, np.clip(pred, lo, hi))

    return fit, evaluate


def residual_mf(case, train, test, threads, *, hidden=400, reg=0.05, reg_bias=0.05,
                reg_mlp=1e-4, learning_rate=0.08, momentum=0.9, batch_size=128):
    """ResidualMF (``case["k"]`` factors, ``case["iters"]`` epochs) with embeddings + MLP and
    SGD with momentum."""
    torch = _torch(threads, case.get("seed", 0))
    n_users, n_items = train.shape
    k = case["k"]
    users, items = torch.as_tensor(train.users), torch.as_tensor(train.items)
    mu = float(train.values.mean())
    y = torch.as_tensor(train.values - mu, dtype=torch.float32)
    lo, hi = float(train.values.min()), float(train.values.max())

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.P, self.Q = torch.nn.Embedding(n_users, k), torch.nn.Embedding(n_items, k)
            self.bu, self.bi = torch.nn.Embedding(n_users, 1), torch.nn.Embedding(n_items, 1)
            for e in (self.P, self.Q):
                torch.nn.init.normal_(e.weight, std=0.1)
            for e in (self.bu, self.bi):
                torch.nn.init.zeros_(e.weight)
            self.mlp = torch.nn.Sequential(torch.nn.Linear(2 * k, hidden), torch.nn.ELU(),
                                           torch.nn.Linear(hidden, 1))
            torch.nn.init.zeros_(self.mlp[2].weight)
            torch.nn.init.zeros_(self.mlp[2].bias)

        def forward(self, u, i):
            p, q = self.P(u), self.Q(i)
            f = self.mlp(torch.cat([p, q], dim=1))[:, 0]
            return self.bu(u)[:, 0] + self.bi(i)[:, 0] + (p * q).sum(1) + f, p, q

    def fit():
        torch.manual_seed(case.get("seed", 0))
        model = Model()
        embeddings = [model.P.weight, model.Q.weight, model.bu.weight, model.bi.weight]
        opt = torch.optim.SGD([{"params": embeddings},
                               {"params": model.mlp.parameters(), "weight_decay": reg_mlp}],
                              lr=learning_rate, momentum=momentum)
        for _ in range(case["iters"]):
            for idx in torch.randperm(len(y)).split(batch_size):
                u, i = users[idx], items[idx]
                pred, p, q = model(u, i)
                loss = (0.5 * (pred - y[idx]) ** 2
                        + 0.5 * reg * ((p ** 2).sum(1) + (q ** 2).sum(1))
                        + 0.5 * reg_bias * (model.bu(u)[:, 0] ** 2 + model.bi(i)[:, 0] ** 2)
                        ).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return model

    def evaluate(model):
        with torch.no_grad():
            pred = model(torch.as_tensor(test.users), torch.as_tensor(test.items))[0].numpy()
        return rmse(test, np.clip(pred + mu, lo, hi))

    return fit, evaluate

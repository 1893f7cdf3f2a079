"""ALS and implicit ALS on a Dask cluster, to the solver protocol of
:mod:`fastmf._solvers.base`.

The ratings are shuffled once into P user blocks and P item blocks (:mod:`._blocks`), each
held by a future on its worker. An iteration is two half-steps (items, then users, as the
single-node solvers do), each one task per block running the single-node kernel on the
block's CSR and the other side's rows it references (:func:`._solve.solve_rows`), or
solving the normal equations the other side's blocks formed and sent
(:func:`._solve.solve_ne`), whichever the cost model of :mod:`._plan` says ships fewer
bytes. Implicit ALS adds a tree-reduced Gram matrix per half-step. Factor states are
futures of tasks; every ``checkpoint_interval`` iterations they are written to files and
reloaded (:mod:`._checkpoint`), and a fit whose futures are lost (a restarted cluster) starts
again from the last checkpoint and replays the iterations since, with the same result.
"""

import numpy as np

from .._solvers import mf_als
from . import _checkpoint as ckpt
from ._blocks import shuffle
from ._client import block_workers
from ._plan import choose, gram_bytes, ne_bytes, row_bytes
from ._solve import ne_block, ne_piece, ne_rows, solve_ne, solve_rows
from ._solver import DaskSolver
from ._tasks import (
    add,
    gram_part,
    load_block,
    localize,
    loss_of,
    ref_rows,
    save_block,
    take_rows,
)


class HalfStep:
    """Updating side ``x`` from side ``y``: the strategy the cost model chose and the index
    futures it reuses every iteration (made once per fit, each on the worker that uses it).
    It keeps no reference to the solver, so that a finished solver (and every future it
    holds) is freed as soon as the fit drops it."""

    def __init__(self, solver, x, y, name, x_bias, y_bias, exact, strategy):
        self.x, self.y, self.name = x, y, name
        k, itemsize = solver.k, solver.dtype.itemsize
        d = k + int(x_bias)
        wx, wy = x.workers, y.workers
        self.costs = {"rows": row_bytes(x.ref, y.sizes, wx, wy, k + int(y_bias), itemsize),
                      "normal_equations": ne_bytes(y.ref.T, wx, wy, d, itemsize)
                      if exact else None}
        self.strategy = choose(strategy, self.costs)
        if self.strategy == "normal_equations" and not exact:
            raise ValueError("strategy='normal_equations' needs exact row solves "
                             "(cg_steps=None): the CG rows never form normal equations")
        self.gram = solver.kind == "implicit"
        self.hp = solver.hp
        self.planned = self.costs[self.strategy] + \
            (gram_bytes(wx, wy, k, itemsize) if self.gram else 0)
        self.x_bias = x_bias
        self.sources = [self._sources(solver, b) for b in range(len(wx))]

    def _sources(self, s, b):
        x, y, P = self.x, self.y, len(self.x.workers)
        out = []
        for c in range(P):
            if self.strategy == "rows":
                n = int(x.ref[b, c])
                if n == 0:
                    continue
                if n == y.sizes[c]:
                    out.append((c, None))
                    continue
                idx = s.submit(ref_rows, x.blocks[b], c, int(y.bounds[c]),
                               key=s.key(self.name, "ref", b, c), where=x.workers[b])
                out.append((c, s.submit(localize, idx, key=s.key(self.name, "out", b, c),
                                        where=y.workers[c])))
            elif int(y.ref[c, b]):
                neb = s.submit(ne_block, y.blocks[c], b, key=s.key(self.name, "neb", b, c),
                               where=y.workers[c])
                rows = s.submit(ne_rows, y.blocks[c], b, int(x.bounds[b]),
                                key=s.key(self.name, "nerows", b, c), where=y.workers[c])
                out.append((c, neb, s.submit(localize, rows, key=s.key(self.name, "ner", b, c),
                                             where=x.workers[b])))
        return out

    def run(self, s, t, x_states, y_states, data_loss):
        """Futures of the new states of side x's blocks, submitted through solver ``s``."""
        x, y = self.x, self.y
        hp = dict(self.hp, data_loss=data_loss, n_other=int(y.bounds[-1]))
        G = self._gram(s, t, y_states) if self.gram else None
        new = []
        for b, sources in enumerate(self.sources):
            if self.strategy == "rows":
                pieces = [y_states[c] if idx is None else
                          s.submit(take_rows, y_states[c], idx,
                                   key=s.key(t, self.name, "take", b, c), where=y.workers[c])
                          for c, idx in sources]
                new.append(s.submit(solve_rows, x.blocks[b], x_states[b], pieces, G, hp,
                                    key=s.key(t, self.name, "solve", b), where=x.workers[b]))
            else:
                pieces = [s.submit(ne_piece, neb, y_states[c], hp, self.x_bias,
                                   key=s.key(t, self.name, "ne", b, c), where=y.workers[c])
                          for c, neb, _ in sources]
                rows = [r for _, _, r in sources]
                new.append(s.submit(solve_ne, x.blocks[b], x_states[b], rows, pieces, G, hp,
                                    key=s.key(t, self.name, "solve", b), where=x.workers[b]))
        return new

    def _gram(self, s, t, y_states):
        wy = self.y.workers
        parts = [s.submit(gram_part, st, key=s.key(t, self.name, "gram", c), where=wy[c])
                 for c, st in enumerate(y_states)]
        return s.reduce(parts, wy, add, (t, self.name, "gram"))


class DaskALSSolver(DaskSolver):
    """Explicit ALS (exact or CG rows) of :class:`fastmf.dask.DaskMatrixFactorization`.

    ``data`` is a :class:`~fastmf.dask._data.DaskData`; ``params`` holds the estimator's
    checked hyper-parameters plus ``client``, ``n_blocks``, ``n_threads`` (per task),
    ``strategy``, ``checkpoint_dir``, ``checkpoint_interval``, ``first_iter`` and
    ``history`` (the per-iteration records of a resumed fit). ``step()`` returns the
    objective and the bytes shipped between workers (measured from the workers' transfer
    counters, and planned by the cost model).
    """

    kind = "explicit"

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        H = state["item_factors_"]
        self.k, self.dtype = H.shape[1], H.dtype
        self.hp = self._task_params(state, params)
        self._setup()
        self._start_from(state)

    # ------------------------------------------------------------------ set-up
    def _task_params(self, state, p):
        self.biases = state.get("user_bias_") is not None
        return {"kind": "explicit", "mu": float(state["global_mean_"]), "reg": p["reg"],
                "reg_bias": p["reg_bias"], "count_exponent": mf_als.reg_exponent(p),
                "cg_steps": p["cg_steps"], "n_threads": p["n_threads"]}

    def _values(self):
        return ("ratings",)

    def _setup(self):
        P, workers = block_workers(self.client, self.params["n_blocks"])
        P = min(P, self.data.n_users, self.data.n_items)
        self.P, workers = P, workers[:P]
        self.users, self.items = shuffle(self, self.data, P, workers, self._values(),
                                         self.dtype)
        exact = self.params["cg_steps"] is None
        b, strategy = self.biases, self.params["strategy"]
        self.halves = {
            "items": HalfStep(self, self.items, self.users, "items", b, b, exact, strategy),
            "users": HalfStep(self, self.users, self.items, "users", b, b, exact, strategy)}
        self.planned = sum(h.planned for h in self.halves.values())
        from distributed import wait  # the index futures in place before iteration one

        wait([f for h in self.halves.values() for src in h.sources for s in src
              for f in s[1:] if f is not None])

    def _start_from(self, state):
        """Write ``state`` as the checkpoint of iteration ``self.t`` and load it."""
        root = self.params["checkpoint_dir"]
        empty = np.zeros(0, self.dtype)
        paths = {}
        for name, side in (("users", self.users), ("items", self.items)):
            bias = state.get(f"{name[:-1]}_bias_")
            paths[name] = ckpt.write_local(root, self.t, name, side.bounds,
                                           state[f"{name[:-1]}_factors_"],
                                           empty if bias is None else bias)
        self._commit(paths)
        self._load(paths)

    def _commit(self, paths):
        info = {"n_users": self.data.n_users, "n_items": self.data.n_items, "k": self.k,
                "dtype": self.dtype.name, "kind": self.kind, "global_mean": self.hp["mu"],
                "bounds": {"users": self.users.bounds.tolist(),
                           "items": self.items.bounds.tolist()},
                "history": self.records}
        ckpt.commit(self.params["checkpoint_dir"], self.t, info)
        self.last = (self.t, paths)

    def _load(self, paths):
        self.states = {
            name: [self.submit(load_block, p, key=self.key("load", self.t, name, b),
                               where=side.workers[b]) for b, p in enumerate(paths[name])]
            for name, side in (("users", self.users), ("items", self.items))}

    def _reload(self):
        self._setup()
        self._load(self.last[1])

    # ------------------------------------------------------------------ iterations
    def _iteration(self, t):
        items = self.halves["items"].run(self, t, self.states["items"], self.states["users"],
                                         False)
        users = self.halves["users"].run(self, t, self.states["users"], items, True)
        losses = self.client.gather([
            self.submit(loss_of, st, key=self.key(t, "loss", j),
                        where=self.users.workers[j % self.P])
            for j, st in enumerate(items + users)])
        self.states = {"items": items, "users": users}
        return float(np.sum(losses))

    def checkpoint(self):
        """Write the current factors (each block by its worker), then continue from them."""
        path = ckpt.folder(self.params["checkpoint_dir"], self.t)
        paths, futures = {}, []
        for name, side in (("users", self.users), ("items", self.items)):
            paths[name] = [ckpt.block_path(path, name, b) for b in range(self.P)]
            futures += [self.submit(save_block, st, p, key=self.key("save", self.t, name, b),
                                    where=side.workers[b])
                        for b, (st, p) in enumerate(zip(self.states[name], paths[name],
                                                        strict=True))]
        self.client.gather(futures)
        self._commit(paths)
        self._load(paths)

    # ------------------------------------------------------------------ results
    def state(self):
        users = self.client.gather(self.states["users"])
        items = self.client.gather(self.states["items"])
        out = dict(self._state, strategies_={k: h.strategy for k, h in self.halves.items()})
        out["user_factors_"] = np.concatenate([s[0] for s in users])
        out["item_factors_"] = np.concatenate([s[0] for s in items])
        if self.biases:
            out["user_bias_"] = np.concatenate([s[1] for s in users])
            out["item_bias_"] = np.concatenate([s[1] for s in items])
        return out

    def restore(self, snapshot):
        self._start_from(snapshot)


class DaskImplicitALSSolver(DaskALSSolver):
    """Implicit ALS (CG or Cholesky rows) of :class:`fastmf.dask.DaskImplicitALS`."""

    kind = "implicit"

    def _task_params(self, state, p):
        self.biases = False
        return {"kind": "implicit", "mu": 0.0, "reg": p["reg"], "reg_bias": 0.0,
                "count_exponent": 0.0, "cg_steps": p["cg_steps"], "n_threads": p["n_threads"],
                **{k: p[k] for k in ("reg_scaling", "reg_exponent", "unobserved_weight")}}

    def _values(self):
        return ("confidence", {k: self.params[k] for k in ("alpha", "confidence", "epsilon")})



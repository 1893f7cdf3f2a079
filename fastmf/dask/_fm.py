"""``DaskFMRegressor``: factorization-machine ALS with the design matrix partitioned by rows.

Each sweep runs libFM's coordinate updates one *round* at a time: the intercept, then for
every group (in order) its linear weights and each factor column. In a round every row block
sums the per-feature statistics of the coordinate (:mod:`._fm_tasks`), a tree reduction adds
them (the all-reduce), and one task on the root worker computes the new values, which every
block applies to its residuals. For a group that is one-hot in every row (a categorical
variable: the user and item groups of an MF design) the features touch disjoint rows, so
updating them at once is what the single-node solver does (it updates such a group in
parallel), and a sweep equals the single-node sweep up to rounding. In a group with several
entries per row the features' coordinate steps interact: the round takes them as a direction
and an exact line search along it (a second reduction), so the objective never increases; the
coordinate order is not libFM's sequential one (docs/distributed.md measures the
convergence).
"""

import numpy as np

from .._init import random_factors
from .._params import DEPRECATED
from .._solvers.fm import REFRESH, kernel_regs
from .._validation import check_random_state
from ..fm import FMRegressor
from . import _checkpoint as ckpt
from . import _fm_tasks as t
from ._base import _DASK_PARAMS_DOC, DaskMixin, remove_temporary
from ._client import block_workers, check_client
from ._plan import tree_merges
from ._solver import DaskSolver


class DaskFMData:
    """The design matrix as P row blocks, each a future on its worker (:func:`fm_block`)."""

    def __init__(self, client, X, y):
        self.client = client
        self.source = _chunks_source(X, y)
        self.n, self.d = X.shape
        if self.d == 0 or self.n == 0:
            raise ValueError(f"X has shape {X.shape}: it needs at least one row and feature")

    @property
    def shape(self):
        return (self.n, self.d)

    def build(self, groups, n_groups, dtype, n_blocks):
        """The row blocks on their workers (consecutive input chunks, about the same number
        of rows each), and the group statistics."""
        client = self.client
        P, workers = block_workers(client, n_blocks)
        chunks, sizes = self.source(client)
        sizes = np.asarray(sizes, dtype=np.int64)
        first_row = np.cumsum(sizes) - sizes
        block_of = np.minimum(P - 1, first_row * P // max(1, sizes.sum()))
        spans = [np.flatnonzero(block_of == b) for b in np.unique(block_of)]
        self.P, self.workers = len(spans), workers[:len(spans)]
        self.groups, self.n_groups, self.dtype, self.n_blocks = groups, n_groups, dtype, n_blocks
        local = np.zeros(self.d, dtype=np.int64)
        self.features = []
        for g in range(n_groups):
            members = np.flatnonzero(groups == g)
            local[members] = np.arange(len(members))
            self.features.append(members)
        self.blocks = [client.submit(t.fm_block, [chunks[c] for c in span], local, groups,
                                     n_groups, dtype, workers=[self.workers[j]],
                                     allow_other_workers=True, pure=False)
                       for j, span in enumerate(spans)]
        summaries = client.gather([client.submit(t.block_summary, blk, pure=False,
                                                 workers=[self.workers[j]])
                                   for j, blk in enumerate(self.blocks)])
        self.omega = np.maximum(1, np.max([s[2] for s in summaries], axis=0))
        self.mean = sum(s[1] for s in summaries) / sum(s[0] for s in summaries)

    def rebuild(self):
        self.build(self.groups, self.n_groups, self.dtype, self.n_blocks)


def _chunks_source(X, y):
    """A function giving (futures of (X rows, y) chunks, their row counts)."""
    import dask.array as da

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
        if y is None:
            raise ValueError("DaskFMRegressor requires y to be passed, but the target y is None")
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError("X must have known row chunk sizes (compute_chunk_sizes())")
        X = X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X
        if not isinstance(y, da.Array):
            y = da.from_array(np.asarray(y), chunks=(X.chunks[0],))
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
        y = y.rechunk((X.chunks[0],))
        sizes = list(X.chunks[0])

        def source(client):
            xs = client.compute(list(X.to_delayed().ravel()))
            ys = client.compute(list(y.to_delayed().ravel()))
            return list(zip(xs, ys, strict=True)), sizes

        return source
    raise TypeError(f"X must be a dask array (with scipy.sparse or NumPy chunks of rows), got "
                    f"{type(X).__name__}")


class DaskFMSolver(DaskSolver):
    """FM-ALS on row blocks (see the module docstring); ``params`` as
    :class:`~fastmf.dask._als.DaskALSSolver`'s, with the FM hyper-parameters."""

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        V = state["factors_"]
        self.r, self.dtype = V.shape[1], V.dtype
        G = len(data.features)
        reg_w0, reg_w, reg_v = kernel_regs(params, G)
        self.rounds, self.regs, self.exclusive = ["w0"], [reg_w0], [True]
        for g in range(G):
            if len(data.features[g]):
                for f in range(-1, self.r):
                    self.rounds.append((g, f))
                    self.regs.append(float(reg_w[g] if f < 0 else reg_v[g]))
                    self.exclusive.append(bool(data.omega[g] <= 1))
        self.sweeps = 0
        self.planned = self._planned_bytes()
        self._start_from((state["intercept_"], state["coef_"], state["factors_"]))

    @property
    def root(self):
        return self.data.workers[0]

    def _planned_bytes(self):
        """One sweep: per round the statistics up the tree (2 float64 per feature) and the
        coordinate's new values to every other worker holding a block."""
        w = self.data.workers
        moves = sum(1 for level in tree_merges(w) for a, b in level if w[a] != w[b])
        others = len({x for x in w if x != self.root})
        total = 0
        for rho, exclusive in zip(self.rounds, self.exclusive, strict=True):
            n = 1 if rho == "w0" else len(self.data.features[rho[0]])
            item = 8 if rho == "w0" else self.dtype.itemsize
            # exclusive: the new values; else the direction (float64), 4 sums up, a step down
            total += moves * 2 * n * 8 + others * (n * item if exclusive else n * 8 + 8) + \
                (0 if exclusive else moves * 4 * 8)
        return total

    def _planned(self):
        out, self.refresh_bytes = self.planned + self.refresh_bytes, 0
        return out

    # ------------------------------------------------------------------ state
    def _start_from(self, params):
        """Write ``(w0, w, V)`` as the checkpoint of sweep ``self.t`` and load it."""
        root = self.params["checkpoint_dir"]
        path = ckpt.block_path(ckpt.folder(root, self.t), "fm", 0)
        np.savez(path, w0=np.atleast_1d(np.asarray(params[0], np.float64)), w=params[1],
                 V=params[2])
        self._commit(path)
        self._load(path)

    def _commit(self, path):
        info = {"n_features": self.data.d, "k": self.r, "dtype": self.dtype.name, "kind": "fm",
                "history": self.records}
        ckpt.commit(self.params["checkpoint_dir"], self.t, info)
        self.last = (self.t, path)

    def _load(self, path):
        params = self.submit(t.load_params, path, key=self.key("load", self.t), where=self.root)
        self.theta = [self.submit(t.coordinate, params, self.data.features, rho,
                                  key=self.key("coord", self.t, j), where=self.root)
                      for j, rho in enumerate(self.rounds)]
        self._restart_rows(params)

    def _reload(self):
        self._load(self.last[1])

    def _restart_rows(self, params):
        """Residuals from scratch: the whole ``(w0, w, V)`` goes to every block's worker."""
        others = len({x for x in self.data.workers if x != self.root})
        self.refresh_bytes = others * (self.data.d * (self.r + 1) * self.dtype.itemsize + 8)
        self.rows = [self.submit(t.start, blk, params, self.data.features, self.rounds,
                                 self.params["n_threads"],
                                 key=self.key("start", self.t, self.sweeps, j),
                                 where=self.data.workers[j])
                     for j, blk in enumerate(self.data.blocks)]

    def _params(self, tag):
        return self.submit(t.assemble, self.data.features, self.data.d, self.r, self.dtype,
                           self.rounds, *self.theta, key=self.key("params", self.t, tag),
                           where=self.root)

    # ------------------------------------------------------------------ sweeps
    def _iteration(self, it):
        if self.sweeps and self.sweeps % REFRESH == 0:  # as the single-node solver
            self._restart_rows(self._params(f"refresh{self.sweeps}"))
        outs, prev, theta = self.rows, None, list(self.theta)
        w = self.data.workers
        for j, rho in enumerate(self.rounds):
            outs = [self.submit(t.fm_round, blk, o, prev, j, rho,
                                key=self.key(it, "round", j, b), where=w[b])
                    for b, (blk, o) in enumerate(zip(self.data.blocks, outs, strict=True))]
            stats = self.reduce([self.submit(t.stats_of, o, key=self.key(it, "stats", j, b),
                                             where=w[b]) for b, o in enumerate(outs)],
                                w, t.add_stats, (it, "sum", j))
            new = self.submit(t.update, stats, theta[j], self.regs[j],
                              key=self.key(it, "update", j), where=self.root)
            if self.exclusive[j]:
                prev, theta[j] = (j, rho, new), new
                continue
            # the exact minimisers interact: a line search along them
            d = self.submit(t.direction, theta[j], new, key=self.key(it, "dir", j),
                            where=self.root)
            sums = self.reduce([self.submit(t.line_sums, blk, o, j, rho, d,
                                            key=self.key(it, "line", j, b), where=w[b])
                                for b, (blk, o) in enumerate(zip(self.data.blocks, outs,
                                                                 strict=True))],
                               w, t.add, (it, "lsum", j))
            step = self.submit(t.line_step, sums, theta[j], d, self.regs[j],
                               key=self.key(it, "step", j), where=self.root)
            prev = (j, rho, (d, step))
            theta[j] = self.submit(t.moved_values, theta[j], (d, step),
                                   key=self.key(it, "theta", j), where=self.root)
        rows = [self.submit(t.fm_finish, blk, o, prev, key=self.key(it, "finish", b),
                            where=w[b])
                for b, (blk, o) in enumerate(zip(self.data.blocks, outs, strict=True))]
        pen = self.submit(t.penalty, self.regs, *theta, key=self.key(it, "penalty"),
                          where=self.root)
        losses = self.client.gather([self.submit(t.stats_of, r, key=self.key(it, "sse", b),
                                                 where=w[b]) for b, r in enumerate(rows)]
                                    + [pen])
        self.rows, self.theta = rows, theta
        self.sweeps += 1
        return float(np.sum(losses))

    def checkpoint(self):
        path = ckpt.block_path(ckpt.folder(self.params["checkpoint_dir"], self.t), "fm", 0)
        self.client.gather(self.submit(t.save_params, self._params("save"), path,
                                       key=self.key("save", self.t), where=self.root))
        self._commit(path)
        self._load(path)

    def state(self):
        w0, w, V = self.client.gather(self._params("state"))
        return {"intercept_": float(w0[0]), "coef_": w, "factors_": V,
                "intercept_samples_": None, "coef_samples_": None, "factors_samples_": None}

    def restore(self, snapshot):
        self._start_from((snapshot["intercept_"], snapshot["coef_"], snapshot["factors_"]))


class DaskFMRegressor(DaskMixin, FMRegressor):
    __doc__ = r"""Factorization-machine regression by ALS on a Dask cluster.

    The model and objective of :class:`fastmf.FMRegressor` with ``solver="als"``, the
    design matrix partitioned by rows across the workers. A sweep updates the coordinates a
    round at a time (the intercept; per group its linear weights, then each factor column),
    the per-feature statistics of a round summed over the row blocks by a tree reduction.
    Groups that are one-hot in every row (``groups`` from
    :class:`fastmf.fm_features.FMEncoder` for user and item IDs, say) are updated exactly as
    the single-node solver does, so such a fit equals a single-node one to rounding; in a
    group with several entries per row the features' steps are a search direction with an
    exact line search: the objective never increases, but the order is not libFM's
    sequential one (docs/distributed.md compares the convergence).

    Parameters
    ----------
    n_factors, n_iter, tol, reg_w0, reg_w, reg_v, groups, init_scale, dtype
        As :class:`fastmf.FMRegressor` (``solver="als"``).
    random_state, verbose, warm_start
        As :class:`fastmf.FMRegressor`.""" + _DASK_PARAMS_DOC.split(
        "    strategy :")[0].rstrip() + """

    Attributes
    ----------
    As :class:`fastmf.FMRegressor`, with ``shipped_bytes`` and ``planned_bytes`` per sweep
    in ``history_``.

    Examples
    --------
    >>> import dask.array as da, numpy as np, fastmf
    >>> from distributed import Client, LocalCluster
    >>> from fastmf.dask import DaskFMRegressor
    >>> cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
    ...                        dashboard_address=":0")
    >>> client = Client(cluster)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 6))
    >>> y = X @ rng.normal(size=6) + 0.1 * rng.normal(size=400)
    >>> model = DaskFMRegressor(2, n_iter=10, random_state=0, client=client)
    >>> model = model.fit(da.from_array(X, chunks=(100, 6)), da.from_array(y, chunks=100))
    >>> bool(model.score(X, y) > 0.9)
    True
    >>> client.close(); cluster.close()
    """

    _local_class = FMRegressor
    _local_params = ("n_factors", "n_iter", "tol", "reg_w0", "reg_w", "reg_v", "groups",
                     "init_scale", "dtype", "random_state", "verbose")
    solver = "als"
    early_stopping_rounds = None
    burn_in = None
    thin = 1
    learning_rate = 0.01
    lr_decay = 0.0
    init_std = DEPRECATED

    def __init__(self, n_factors=8, *, n_iter=100, tol=0.0, reg_w0=0.0, reg_w=0.1, reg_v=0.1,
                 groups=None, init_scale=0.1, dtype="float32", random_state=None,
                 verbose=False, warm_start=False, client=None, n_blocks=None, n_threads=1,
                 checkpoint_interval=10, checkpoint_dir=None, resume=False):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.tol = tol
        self.reg_w0 = reg_w0
        self.reg_w = reg_w
        self.reg_v = reg_v
        self.groups = groups
        self.init_scale = init_scale
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.client = client
        self.n_blocks = n_blocks
        self.n_threads = n_threads
        self.checkpoint_interval = checkpoint_interval
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume

    def fit(self, X, y):
        """Fit on the cluster.

        Parameters
        ----------
        X : dask array of shape (n_samples, n_features)
            Row chunks of NumPy arrays or scipy.sparse matrices (one chunk of columns).
        y : dask array or array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        p = self._check_params()
        temporary = self._dask_params(p)
        try:
            data = DaskFMData(check_client(p["client"]), X, y)
            groups, n_groups, regs = self._check_groups(data.d)
            p.update(regs)
            data.build(groups, n_groups, p["dtype"], p["n_blocks"])
            rng = check_random_state(self.random_state)
            start = None
            manifest = ckpt.read(p["checkpoint_dir"]) if p["resume"] else None
            if manifest is not None:
                state, start = self._resumed_fm(p, data, manifest)
            elif self._warm:
                if data.d != self.n_features_in_ or self.factors_.shape[1] != p["n_factors"] \
                        or self.factors_.dtype != p["dtype"]:
                    raise ValueError("warm_start needs data with the same number of features, "
                                     "the same n_factors and the same dtype")
                state = {"intercept_": self.intercept_, "coef_": self.coef_.copy(),
                         "factors_": self.factors_.copy()}
            else:
                state = {"intercept_": data.mean, "coef_": np.zeros(data.d, dtype=p["dtype"]),
                         "factors_": random_factors(rng, (data.d, p["n_factors"]),
                                                    p["dtype"], p["init_scale"])}
        except BaseException:
            remove_temporary(p["checkpoint_dir"], temporary)
            raise
        self._run(p, data, state, rng, temporary, start)
        self.link_ = "identity"
        return self

    def _resumed_fm(self, p, data, manifest):
        got = (manifest.get("n_features"), manifest["k"], manifest["dtype"], manifest["kind"])
        want = (data.d, p["n_factors"], np.dtype(p["dtype"]).name, "fm")
        if got != want:
            raise ValueError(f"the checkpoint in {p['checkpoint_dir']!r} is of a fit with "
                             f"(n_features, n_factors, dtype, kind) = {got}, this fit is "
                             f"{want}")
        path = ckpt.block_path(f"{p['checkpoint_dir']}/{manifest['folder']}", "fm", 0)
        w0, w, V = t.load_params(path)
        history = {k: list(v) for k, v in manifest["history"].items()}
        done = manifest["iteration"]
        history["seconds"] = [np.nan] * done
        p["history"] = manifest["history"]
        return {"intercept_": float(w0[0]), "coef_": w, "factors_": V}, (history, done)

    def predict(self, X):
        """Predicted targets; a dask array is predicted per row chunk (a dask array)."""
        import dask.array as da

        if isinstance(X, da.Array):
            import dask

            local = dask.delayed(self.to_local(), pure=True)  # one key, not one per task
            return X.map_blocks(_predict_rows, local, drop_axis=1, dtype=np.float64,
                                meta=np.empty(0))
        return FMRegressor.predict(self, X)


def _predict_rows(block, model):
    return model.predict(block)

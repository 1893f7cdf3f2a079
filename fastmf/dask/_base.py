"""What the Dask estimators share: the Dask parameters, checkpoint resume, ``to_local``,
``save`` and per-partition ``predict``."""

import shutil

import numpy as np

from .._validation import check_bool, check_int_param, check_is_fitted, check_option
from . import _checkpoint as ckpt
from ._client import check_client
from ._plan import STRATEGIES

_DASK_PARAMS_DOC = """
    client : distributed.Client or None, default=None
        The cluster to fit on; None uses the current client (``distributed.default_client``).
    n_blocks : int or None, default=None
        P, the number of blocks of each side; None: one per worker thread of the cluster.
        Block ``b`` of both sides lives on the same worker.
    n_threads : int or None, default=1
        Threads of each block's kernel (one task per block runs at a time on a worker
        thread, so 1 fills a cluster with one thread per core); None: all the worker's cores.
    checkpoint_interval : int, default=10
        Write the factors every this many iterations and continue from the files, which
        bounds the task graph and the work a lost worker costs.
    checkpoint_dir : str, path or None, default=None
        Where checkpoints go (one ``.npz`` per block and a ``manifest.json``); it must be
        readable and writable by the client and every worker (a shared filesystem on a
        cluster of several machines). None: a temporary folder removed after the fit.
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` when there is one (a fit of the
        same data shape, n_factors and dtype that stopped or failed): its factors and
        ``history_``, running the iterations left to ``n_iter``.
    strategy : {"auto", "rows", "normal_equations"}, default="auto"
        How a half-step reaches the other side: ship each block the rows it references, or
        reduce partial normal equations to the owners of the rows (exact row solves only);
        "auto" takes the one the cost model says ships fewer bytes, separately for the two
        half-steps (``strategies_``).
    columns : tuple of three str, default=("user", "item", "rating")
        The user, item and rating columns of a dask DataFrame."""


class DaskMixin:
    """Mixed in before a single-node estimator class (``_local_class``)."""

    backend = "dask"
    _backends = ("dask",)
    _local_class = None
    _local_params = ()

    def _dask_params(self, p):
        """The Dask hyper-parameters checked, added to ``p``; returns whether the checkpoint
        folder is a temporary one to remove after the fit."""
        client = check_client(self.client)
        p.update(
            client=client,
            n_blocks=check_int_param(self.n_blocks, "n_blocks", low=1, allow_none=True),
            n_threads=check_int_param(self.n_threads, "n_threads", low=1, allow_none=True),
            checkpoint_interval=check_int_param(self.checkpoint_interval,
                                                "checkpoint_interval", low=1),
            resume=check_bool(self.resume, "resume"),
            strategy=check_option(getattr(self, "strategy", "auto"), "strategy", STRATEGIES),
            columns=self._check_columns())
        if p["resume"] and self.checkpoint_dir is None:
            raise ValueError("resume=True needs a checkpoint_dir to resume from")
        p["checkpoint_dir"], temporary = ckpt.check_dir(self.checkpoint_dir)
        p["history"] = None
        return temporary

    def _check_columns(self):
        cols = getattr(self, "columns", ("user", "item", "rating"))
        if not (isinstance(cols, (tuple, list)) and len(cols) == 3):
            raise ValueError(f"columns must be three column names (user, item, rating), got "
                             f"{cols!r}")
        return tuple(cols)

    def _resumed(self, p, data, kind):
        """(state, (history, iterations done)) of the checkpoint to resume, or None."""
        manifest = ckpt.read(p["checkpoint_dir"]) if p["resume"] else None
        if manifest is None:
            return None
        got = (manifest["n_users"], manifest["n_items"], manifest["k"], manifest["dtype"],
               manifest["kind"])
        want = (data.n_users, data.n_items, p["n_factors"], np.dtype(p["dtype"]).name, kind)
        if got != want:
            raise ValueError(f"the checkpoint in {p['checkpoint_dir']!r} is of a fit with "
                             f"(n_users, n_items, n_factors, dtype, kind) = {got}, this fit "
                             f"is {want}")
        state = {"global_mean_": manifest["global_mean"]}
        for side in ("users", "items"):
            factors, bias = ckpt.load_side(p["checkpoint_dir"], manifest, side)
            state[f"{side[:-1]}_factors_"] = factors
            if len(bias):
                state[f"{side[:-1]}_bias_"] = bias
        history = {k: list(v) for k, v in manifest["history"].items()}
        done = manifest["iteration"]
        history["seconds"] = [np.nan] * done
        p["history"] = manifest["history"]
        return state, (history, done)

    def _run(self, p, data, state, rng, temporary, start=None):
        """The shared loop on the Dask solver; the temporary checkpoint folder removed."""
        p["first_iter"] = 0 if start is None else start[1]
        n_iter = p["n_iter"] - p["first_iter"]
        if start is None and self._warm:
            p["first_iter"] = self.n_iter_
            n_iter = p["n_iter"]
        try:
            self._fit_solver("als", data, state, p, rng, data, n_iter=max(n_iter, 0),
                             tol=p["tol"], start=start)
        finally:
            remove_temporary(p["checkpoint_dir"], temporary)
        return self

    # ------------------------------------------------------------------ results
    def to_local(self):
        """The fitted model as the single-node estimator (NumPy arrays, no client).

        Returns
        -------
        estimator of ``_local_class``
            Same hyper-parameters (``n_threads=None``) and fitted attributes.
        """
        check_is_fitted(self)
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k in self._local_params}
        local = self._local_class(**params, n_threads=None)
        vars(local).update({k: v for k, v in vars(self).items()
                            if k.endswith("_") and not k.startswith("_") and
                            k not in _DASK_ATTRIBUTES})
        local._factors_changed()
        return local

    def save(self, path):
        """Write the fitted model as its single-node estimator (:meth:`to_local`), so that
        ``fastmf.load`` reads it back without Dask."""
        self.to_local().save(path)

    def predict(self, X, items=None):
        """Predictions; a dask DataFrame (raw IDs in the ``columns``) or a dask array of
        [user, item] indices is predicted per partition (a dask Series / array), anything
        else as by the single-node estimator."""
        from ._data import _is_dask_array, _is_dask_dataframe

        if _is_dask_dataframe(X) or _is_dask_array(X):
            import dask

            check_is_fitted(self)
            local = dask.delayed(self.to_local(), pure=True)  # one key, not one per task
            if _is_dask_array(X):
                return X.map_blocks(_predict_pairs, local, drop_axis=1, dtype=np.float64,
                                    meta=np.empty(0))
            names = self._check_columns()[:2]
            return X.map_partitions(_predict_frame, local, names, meta=(None, "f8"))
        return super().predict(X, items)


#: Fitted attributes of the Dask fit only (not the local model's).
_DASK_ATTRIBUTES = ("strategies_",)


def remove_temporary(path, temporary):
    """Remove the checkpoint folder ``path`` if the fit made it (``temporary``)."""
    if temporary:
        shutil.rmtree(path, ignore_errors=True)


def _predict_frame(part, model, names):
    import pandas as pd

    users = _index_of(part[names[0]].to_numpy(), model.user_ids_, model.n_users_)
    items = _index_of(part[names[1]].to_numpy(), model.item_ids_, model.n_items_)
    return pd.Series(model._predict_indices(users, items), index=part.index)


def _predict_pairs(block, model):
    users = _index_of(block[:, 0], None, model.n_users_)
    items = _index_of(block[:, 1], None, model.n_items_)
    return model._predict_indices(users, items)


def _index_of(raw, ids, n):
    """Model indices of raw IDs (or of indices when the model has no IDs), -1 if unknown."""
    if ids is None:
        raw = np.asarray(raw).astype(np.int64)
        return np.where((raw >= 0) & (raw < n), raw, -1)
    import pandas as pd

    return pd.Index(ids).get_indexer(raw).astype(np.int64)

"""What the Dask solvers share: task keys and placement, the step with its byte accounting,
checkpoint cadence and the recovery from lost futures."""

import uuid

import numpy as np

from .._solvers.base import Solver
from ._plan import tree_merges

#: Times a fit starts again from its last checkpoint after losing its futures.
MAX_RECOVERIES = 3


class DaskSolver(Solver):
    """Base of the Dask solvers. A subclass implements ``_iteration(t)`` (submit iteration
    ``t``, wait for its objective), ``checkpoint()``, ``_reload()`` (set up again on the
    current workers and load the last checkpoint ``self.last``) and ``state()``; it may
    override ``_planned()`` (the cost model's bytes of the iteration just run)."""

    def __init__(self, data, state, params, rng):
        super().__init__(data, state, params, rng)
        self.data, self.client, self.params = data, data.client, params
        self.t = params["first_iter"]
        self.records = {k: list(v) for k, v in (params.get("history") or {}).items()}
        self.fit_id, self.attempt = uuid.uuid4().hex[:8], 0
        self.planned = 0

    def key(self, *parts):
        """A task key naming the fit, the attempt and ``parts`` (iteration first for the
        tasks of an iteration)."""
        return "-".join(["fastmf", self.fit_id, str(self.attempt), *map(str, parts)])

    def submit(self, fn, *args, key, where):
        """``fn(*args)`` as a task on worker ``where`` (another one if it is gone)."""
        return self.client.submit(fn, *args, key=key, workers=[where],
                                  allow_other_workers=True)

    def reduce(self, futures, workers, merge, name):
        """A pairwise tree of ``merge`` over ``futures`` (on ``workers``), each merge on the
        left operand's worker: the result lives on ``workers[0]``."""
        futures = list(futures)
        for level, pairs in enumerate(tree_merges(workers)):
            for a, b in pairs:
                futures[a] = self.submit(merge, futures[a], futures[b],
                                         key=self.key(*name, level, a), where=workers[a])
        return futures[0]

    def step(self):
        before = self._outgoing()
        for attempt in range(MAX_RECOVERIES + 1):
            try:
                loss = self._iteration(self.t)
                break
            except _lost_futures():
                if attempt == MAX_RECOVERIES:
                    raise RuntimeError(f"the Dask fit lost its futures {attempt + 1} times "
                                       "(workers restarted?); giving up") from None
                self._recover()
        shipped = self._outgoing() - before
        self.t += 1
        out = {"train_loss": loss, "shipped_bytes": float(shipped),
               "planned_bytes": float(self._planned())}
        for name, value in out.items():
            self.records.setdefault(name, []).append(value)
        if self.t % self.params["checkpoint_interval"] == 0:
            self.checkpoint()
        return out

    def _planned(self):
        return self.planned

    def _outgoing(self):
        """Bytes the workers have sent so far (their transfer counters); NaN if unknown."""
        try:
            sent = self.client.run(_sent_bytes)
        except Exception:  # noqa: BLE001 - a worker leaving mid-call: no measurement
            return np.nan
        return float(sum(sent.values()))

    def _recover(self):
        """Start again from the last checkpoint, the data rebuilt from its source, and replay
        the iterations since (deterministic: the same results)."""
        self.client.wait_for_workers(1)
        self.attempt += 1
        self.data.rebuild()
        self._reload()
        for t in range(self.last[0], self.t):
            self._iteration(t)


def _lost_futures():
    """What waiting on futures raises when the cluster dropped them (e.g. a restart)."""
    import concurrent.futures

    from distributed.utils import CancelledError

    return (CancelledError, concurrent.futures.CancelledError)


def _sent_bytes(dask_worker):
    return dask_worker.transfer_outgoing_bytes_total

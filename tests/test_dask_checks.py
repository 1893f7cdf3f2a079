"""The Dask back end's accounting (tasks, graph size, bytes) and its input checks."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

import dask.dataframe as dd  # noqa: E402

import fastmf  # noqa: E402
from fastmf.dask import DaskImplicitALS, DaskMatrixFactorization, _als  # noqa: E402

from .dask_support import local_cluster, power_law_ratings  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with local_cluster() as c:
        yield c


def _tasks_per_iteration(client, model, data):
    from distributed import get_task_stream

    with get_task_stream(client=client) as stream:
        model.fit(data)
    counts = {}
    for task in stream.data:
        parts = str(task["key"]).split("-")
        if len(parts) > 3 and parts[0] == "fastmf" and parts[3].isdigit():
            counts[int(parts[3])] = counts.get(int(parts[3]), 0) + 1
    return counts


@pytest.mark.parametrize("P", [2, 3])
def test_tasks_per_iteration_depend_on_blocks_not_data(client, P):
    small = power_law_ratings(150, 80, 2000, seed=1)
    large = power_law_ratings(400, 200, 8000, seed=2)
    counts = [_tasks_per_iteration(client, DaskImplicitALS(4, n_iter=3, n_blocks=P,
                                                           client=client), data)
              for data in (small, large)]
    for c in counts:
        assert sorted(c) == [0, 1, 2]
        assert len(set(c.values())) == 1  # the same every iteration
        # per half-step: P solves, at most P^2 row selections and the Gram tree (< 2P);
        # P losses per side: O(P) per block
        assert c[0] <= 2 * (P * P + 3 * P) + 2 * P
    assert counts[0][0] == counts[1][0]


def test_checkpoints_bound_the_task_graph(client, monkeypatch):
    sizes = []
    step = _als.DaskALSSolver.step

    def counting_step(self):
        out = step(self)
        sizes.append(client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)))
        return out

    monkeypatch.setattr(_als.DaskALSSolver, "step", counting_step)
    data = power_law_ratings(seed=3)
    DaskMatrixFactorization(4, n_iter=9, checkpoint_interval=3, client=client).fit(data)
    bounded = sizes
    sizes = []
    DaskMatrixFactorization(4, n_iter=9, checkpoint_interval=100, client=client).fit(data)
    # the same sizes in each period of 3 iterations between checkpoints
    periods = np.array(bounded).reshape(3, 3)
    assert np.all(np.abs(periods - periods[0]) <= 4)
    assert all(b > a for a, b in zip(sizes, sizes[1:], strict=False))  # without: it grows
    assert sizes[-1] > max(bounded)


@pytest.mark.parametrize("strategy,cg_steps", [("rows", None), ("normal_equations", None),
                                               ("rows", 3)])
def test_shipped_bytes_match_the_cost_model(client, strategy, cg_steps):
    data = power_law_ratings(500, 300, 15000, seed=4)
    model = DaskMatrixFactorization(8, n_iter=3, n_blocks=2, strategy=strategy,
                                    cg_steps=cg_steps, client=client).fit(data)
    shipped = np.array(model.history_["shipped_bytes"])
    planned = np.array(model.history_["planned_bytes"])
    assert np.all(planned > 0)
    assert np.all(shipped <= 1.2 * planned) and np.all(shipped >= planned / 1.2)


# ---------------------------------------------------------------------- bad input
@pytest.fixture
def frame():
    return pd.DataFrame({"user": [0, 0, 1, 2], "item": [1, 2, 0, 1],
                         "rating": [4.0, 3.0, 5.0, 1.0]})


def test_dataframe_without_the_named_columns(client, frame):
    ddf = dd.from_pandas(frame.rename(columns={"item": "movie"}), npartitions=2)
    with pytest.raises(KeyError, match="column 'item' is not in the DataFrame"):
        DaskMatrixFactorization(2, n_iter=1, client=client).fit(ddf)
    model = DaskMatrixFactorization(2, n_iter=1, client=client,
                                    columns=("user", "movie", "rating")).fit(ddf)
    assert model.item_factors_.shape == (3, 2)


def test_non_numeric_ratings(client, frame):
    frame["rating"] = ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="'rating' column must be numeric"):
        DaskMatrixFactorization(2, n_iter=1, client=client).fit(
            dd.from_pandas(frame, npartitions=2))


def test_nan_ratings(client, frame):
    frame.loc[2, "rating"] = np.nan
    with pytest.raises(ValueError, match="must be finite: found 1 NaN"):
        DaskMatrixFactorization(2, n_iter=1, client=client).fit(
            dd.from_pandas(frame, npartitions=2))


def test_duplicate_pairs(client, frame):
    frame.loc[3] = [0, 1, 2.0]
    with pytest.raises(ValueError, match="duplicate entry: user 0, item 1"):
        DaskMatrixFactorization(2, n_iter=1, client=client).fit(
            dd.from_pandas(frame, npartitions=2))


def test_closed_client(frame):
    with local_cluster(n_workers=1) as c:
        pass
    with pytest.raises(ValueError, match="client is closed"):
        DaskMatrixFactorization(2, n_iter=1, client=c).fit(frame)


def test_checkpoint_interval_below_one(client, frame):
    with pytest.raises(ValueError, match="checkpoint_interval must be >= 1"):
        DaskMatrixFactorization(2, checkpoint_interval=0, client=client).fit(frame)


def test_unwritable_checkpoint_dir(client, frame, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="checkpoint_dir .* is not a writable folder"):
        DaskMatrixFactorization(2, client=client, checkpoint_dir=blocker / "sub").fit(frame)


def test_other_parameter_errors(client, frame):
    with pytest.raises(ValueError, match="strategy must be one of"):
        DaskMatrixFactorization(2, strategy="broadcast", client=client).fit(frame)
    with pytest.raises(ValueError, match="needs exact row solves"):
        DaskMatrixFactorization(2, strategy="normal_equations", cg_steps=2,
                                client=client).fit(frame)
    with pytest.raises(ValueError, match="resume=True needs a checkpoint_dir"):
        DaskMatrixFactorization(2, resume=True, client=client).fit(frame)
    with pytest.raises(TypeError, match="must be a distributed.Client"):
        DaskMatrixFactorization(2, client="tcp://nowhere").fit(frame)
    with pytest.raises(TypeError, match="X must be a dask DataFrame"):
        DaskMatrixFactorization(2, client=client).fit([[0, 1]])


def test_float_ids_are_refused(client, frame):
    frame["user"] = frame["user"].astype(float)
    with pytest.raises(TypeError, match="must hold integer or string IDs"):
        DaskMatrixFactorization(2, client=client).fit(dd.from_pandas(frame, npartitions=1))
    model = fastmf.MatrixFactorization(2, n_iter=1)
    with pytest.raises(TypeError):
        model.fit(fastmf.Ratings.from_pandas(frame, user="user", item="item",
                                             rating="rating"))

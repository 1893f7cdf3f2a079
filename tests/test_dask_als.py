"""DaskMatrixFactorization and DaskImplicitALS: equal to the single-node fits, inputs, results."""

import numpy as np
import pytest

pytest.importorskip("distributed")

import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402

import fastmf  # noqa: E402
from fastmf.dask import DaskImplicitALS, DaskMatrixFactorization  # noqa: E402

from .dask_support import local_cluster, power_law_ratings  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with local_cluster() as c:
        yield c


@pytest.fixture(scope="module")
def ratings():
    return power_law_ratings()


def _close(a, b, tol=1e-6):
    return float(np.max(np.abs(a - b))) <= tol


EXPLICIT = [(None, "rows"), (None, "normal_equations"), (3, "rows")]


@pytest.mark.parametrize("P", [1, 2, 3])
@pytest.mark.parametrize("cg_steps,strategy", EXPLICIT)
def test_explicit_equals_single_node(client, ratings, P, cg_steps, strategy):
    kw = dict(n_iter=4, reg=0.05, dtype="float64", random_state=0, cg_steps=cg_steps)
    ref = fastmf.MatrixFactorization(6, final_exact=False, **kw).fit(ratings)
    model = DaskMatrixFactorization(6, client=client, n_blocks=P, strategy=strategy,
                                    **kw).fit(ratings)
    assert model.strategies_ == {"items": strategy, "users": strategy}
    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        assert _close(getattr(model, name), getattr(ref, name)), name
    np.testing.assert_allclose(model.history_["train_loss"], ref.history_["train_loss"],
                               rtol=1e-9)
    # empty rows and columns get zero factors, as on one machine
    empty_users = np.flatnonzero(np.bincount(ratings.users, minlength=ratings.n_users) == 0)
    assert len(empty_users) and not model.user_factors_[empty_users].any()
    if cg_steps is None:  # exact ALS: the objective never increases
        assert np.all(np.diff(model.history_["train_loss"]) <= 1e-9)


@pytest.mark.parametrize("P", [1, 2, 3])
@pytest.mark.parametrize("cg_steps,strategy", EXPLICIT)
def test_implicit_equals_single_node(client, ratings, P, cg_steps, strategy):
    kw = dict(n_iter=4, reg=0.1, alpha=2.0, dtype="float64", random_state=0,
              cg_steps=cg_steps)
    ref = fastmf.ImplicitALS(6, **kw).fit(ratings)
    model = DaskImplicitALS(6, client=client, n_blocks=P, strategy=strategy,
                            **kw).fit(ratings)
    assert _close(model.user_factors_, ref.user_factors_)
    assert _close(model.item_factors_, ref.item_factors_)
    np.testing.assert_allclose(model.history_["train_loss"], ref.history_["train_loss"],
                               rtol=1e-9)


@pytest.mark.parametrize("scaling", [
    dict(reg_scaling="none"),
    dict(reg_scaling="frequency", reg_exponent=0.8, unobserved_weight=0.2),  # n_other counts
])
@pytest.mark.parametrize("cg_steps,strategy", EXPLICIT)
def test_implicit_reg_scalings_equal_single_node(client, ratings, scaling, cg_steps, strategy):
    kw = dict(n_iter=3, reg=0.1, alpha=2.0, dtype="float64", random_state=0,
              cg_steps=cg_steps, **scaling)
    ref = fastmf.ImplicitALS(5, **kw).fit(ratings)
    model = DaskImplicitALS(5, client=client, n_blocks=2, strategy=strategy, **kw).fit(ratings)
    assert _close(model.user_factors_, ref.user_factors_)
    assert _close(model.item_factors_, ref.item_factors_)
    np.testing.assert_allclose(model.history_["train_loss"], ref.history_["train_loss"],
                               rtol=1e-9)


def test_dataframe_of_raw_ids_maps_them_as_ratings_does(client):
    df = fastmf.datasets.make_ratings(120, 60, 1500, random_state=3).to_pandas()
    df["user"] = "u" + df["user"].astype(str)
    df["item"] = df["item"] * 7 + 1000  # integer IDs with gaps
    ref = fastmf.MatrixFactorization(4, n_iter=3, dtype="float64", random_state=1,
                                     cg_steps=None).fit(
        fastmf.Ratings.from_pandas(df, user="user", item="item", rating="rating"))
    ddf = dd.from_pandas(df, npartitions=4)
    model = DaskMatrixFactorization(4, n_iter=3, dtype="float64", random_state=1,
                                    client=client).fit(ddf)
    assert list(model.user_ids_) == list(ref.user_ids_)
    assert list(model.item_ids_) == list(ref.item_ids_)
    assert _close(model.user_factors_, ref.user_factors_)
    # predict on a dask DataFrame runs per partition and matches the local model
    got = model.predict(ddf).compute().to_numpy()
    want = ref.predict(fastmf.Ratings.from_pandas(df, user="user", item="item",
                                                  rating="rating"))
    order = np.lexsort((df["item"].to_numpy(), df["user"].to_numpy()))
    np.testing.assert_allclose(got[order], want, atol=1e-6)


def test_dask_arrays_of_indices(client, ratings):
    pairs = np.column_stack([ratings.users, ratings.items])
    X = da.from_array(pairs, chunks=(500, 2))
    y = da.from_array(ratings.values, chunks=500)
    model = DaskMatrixFactorization(4, n_iter=2, dtype="float64", random_state=0,
                                    client=client).fit(X, y)
    ref = fastmf.MatrixFactorization(4, n_iter=2, dtype="float64", random_state=0,
                                     cg_steps=None).fit(pairs, ratings.values)
    assert (model.n_users_, model.n_items_) == (ref.n_users_, ref.n_items_)
    assert _close(model.item_factors_, ref.item_factors_)
    np.testing.assert_allclose(model.predict(X).compute(), ref.predict(pairs), atol=1e-6)


def test_to_local_is_an_ordinary_fitted_model(client, ratings, tmp_path):
    model = DaskMatrixFactorization(4, n_iter=2, random_state=0, client=client).fit(ratings)
    local = model.to_local()
    assert type(local) is fastmf.MatrixFactorization
    assert not hasattr(local, "strategies_")
    a = local.recommend([0, 3], n=5, exclude=ratings)
    b = model.recommend([0, 3], n=5, exclude=ratings)
    np.testing.assert_array_equal(a[0], b[0])
    model.save(tmp_path / "m.npz")
    loaded = fastmf.load(tmp_path / "m.npz")
    assert type(loaded) is fastmf.MatrixFactorization
    np.testing.assert_array_equal(loaded.user_factors_, model.user_factors_)


def test_cost_model_chooses_normal_equations_for_few_wide_rows(client):
    # 12 items rated by almost every user: shipping user rows to the item blocks costs more
    # than the items' small normal equations; the other half-step ships item rows
    rng = np.random.default_rng(0)
    users, items = np.nonzero(rng.random((600, 12)) < 0.9)
    r = fastmf.Ratings(users, items, rng.integers(1, 6, len(users)).astype(float))
    kw = dict(n_iter=3, dtype="float64", random_state=0)
    model = DaskMatrixFactorization(2, client=client, n_blocks=2, **kw).fit(r)
    assert model.strategies_ == {"items": "normal_equations", "users": "rows"}
    ref = fastmf.MatrixFactorization(2, cg_steps=None, **kw).fit(r)
    assert _close(model.item_factors_, ref.item_factors_)
    assert _close(model.user_factors_, ref.user_factors_)


def test_implicit_input_checks(client):
    r = fastmf.Ratings([0, 1, 2], [0, 1, 1], [1.0, -2.0, 3.0])
    with pytest.raises(ValueError, match="non-negative"):
        DaskImplicitALS(2, n_iter=1, client=client).fit(r)
    r = fastmf.Ratings([0, 1], [0, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match="no positive entries"):
        DaskImplicitALS(2, n_iter=1, client=client).fit(r)


def test_warm_start_two_plus_two_equals_four(client, ratings):
    kw = dict(reg=0.05, dtype="float64", random_state=0, client=client)
    once = DaskMatrixFactorization(4, n_iter=4, **kw).fit(ratings)
    twice = DaskMatrixFactorization(4, n_iter=2, warm_start=True, **kw)
    twice.fit(ratings).fit(ratings)
    assert twice.n_iter_ == 4 and len(twice.history_["train_loss"]) == 4
    assert _close(twice.user_factors_, once.user_factors_, 1e-10)

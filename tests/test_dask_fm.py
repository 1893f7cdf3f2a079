"""DaskFMRegressor: FM-ALS on row blocks of the design matrix."""

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("distributed")

import dask.array as da  # noqa: E402

import fastmf  # noqa: E402
from fastmf.dask import DaskFMRegressor  # noqa: E402

from .dask_support import local_cluster, power_law_ratings  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with local_cluster() as c:
        yield c


def _mf_design(r):
    """One-hot user and item groups (each row one entry in each)."""
    n = r.nnz
    rows = np.arange(n)
    X = sp.hstack([sp.csr_matrix((np.ones(n), (rows, r.users)), shape=(n, r.n_users)),
                   sp.csr_matrix((np.ones(n), (rows, r.items)), shape=(n, r.n_items))])
    return X.tocsr(), np.r_[np.zeros(r.n_users, int), np.ones(r.n_items, int)]


def _dask(X, y, rows=600):
    return da.from_array(X, chunks=(rows, X.shape[1]), asarray=False), \
        da.from_array(y, chunks=rows)


@pytest.mark.parametrize("P", [1, 2, 3])
def test_one_hot_groups_equal_the_single_node_sweeps(client, P):
    r = power_law_ratings(seed=11)
    X, groups = _mf_design(r)
    kw = dict(n_iter=4, dtype="float64", random_state=0, groups=groups, reg_w=0.5,
              reg_v=[0.5, 1.0])
    ref = fastmf.FMRegressor(3, solver="als", **kw).fit(X, r.values)
    model = DaskFMRegressor(3, client=client, n_blocks=P, **kw).fit(*_dask(X, r.values))
    np.testing.assert_allclose(model.factors_, ref.factors_, atol=1e-6)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-6)
    assert abs(model.intercept_ - ref.intercept_) < 1e-6
    np.testing.assert_allclose(model.history_["train_loss"], ref.history_["train_loss"],
                               rtol=1e-9)
    shipped, planned = model.history_["shipped_bytes"], model.history_["planned_bytes"]
    if P == 2:  # the median sweep (a small vector may move twice when the scheduler is busy)
        assert abs(np.median(np.array(shipped) / np.array(planned)) - 1) < 0.2


def test_groups_with_several_entries_per_row(client):
    # every row holds several features of the one group, so the coordinate steps of a
    # round interact: the round searches along them; the objective never increases, the
    # residuals stay exact (the recorded objective is that of the fitted model) and the
    # result does not depend on the number of blocks
    rng = np.random.default_rng(0)
    n, d = 1200, 40
    X = sp.random(n, d, density=0.15, random_state=1, format="csr")
    y = X @ rng.normal(size=d) + 0.5 * np.asarray(X[:, :5].sum(axis=1)).ravel() ** 2
    kw = dict(n_iter=8, dtype="float64", random_state=0, reg_w=0.1, reg_v=0.2)
    fits = [DaskFMRegressor(4, client=client, n_blocks=P, **kw).fit(*_dask(X, y, 300))
            for P in (1, 3)]
    for model in fits:
        loss = model.history_["train_loss"]
        assert np.all(np.diff(loss) <= 1e-9)
        assert loss[-1] < 0.5 * loss[0]
        sse = np.sum((model.predict(X) - y) ** 2)
        pen = 0.1 * model.coef_ @ model.coef_ + 0.2 * np.sum(model.factors_ ** 2)
        assert abs(sse + pen - loss[-1]) <= 1e-8 * loss[-1]
    np.testing.assert_allclose(fits[0].factors_, fits[1].factors_, atol=1e-8)


def test_to_local_predict_and_checkpoint_resume(client, tmp_path):
    r = power_law_ratings(seed=12)
    X, groups = _mf_design(r)
    Xd, yd = _dask(X, r.values)
    kw = dict(n_iter=5, dtype="float64", random_state=0, groups=groups, client=client,
              checkpoint_dir=tmp_path, checkpoint_interval=3)
    full = DaskFMRegressor(2, **kw).fit(Xd, yd)
    local = full.to_local()
    assert type(local) is fastmf.FMRegressor
    np.testing.assert_allclose(full.predict(Xd).compute(), local.predict(X), atol=1e-12)
    short = DaskFMRegressor(2, **{**kw, "n_iter": 3}).fit(Xd, yd)
    assert short.n_iter_ == 3
    resumed = DaskFMRegressor(2, resume=True, **kw).fit(Xd, yd)
    np.testing.assert_allclose(resumed.factors_, full.factors_, atol=1e-10)
    assert resumed.n_iter_ == 5


def test_bad_input(client):
    X = da.from_array(np.ones((10, 3)), chunks=(5, 3))
    with pytest.raises(ValueError, match="requires y"):
        DaskFMRegressor(2, client=client).fit(X, None)
    y = np.ones(10)
    y[3] = np.nan
    with pytest.raises(ValueError, match="y must be finite"):
        DaskFMRegressor(2, n_iter=1, client=client).fit(X, da.from_array(y, chunks=5))
    with pytest.raises(TypeError, match="X must be a dask array"):
        DaskFMRegressor(2, client=client).fit(np.ones((10, 3)), np.ones(10))
    with pytest.raises(ValueError, match="checkpoint_interval must be >= 1"):
        DaskFMRegressor(2, client=client, checkpoint_interval=0).fit(X, np.ones(10))

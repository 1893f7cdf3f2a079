import numpy as np
import pytest
import scipy.sparse as sp

import fastmf


@pytest.fixture(scope="module")
def dense():
    rng = np.random.default_rng(0)
    D = rng.random((25, 18)) * (rng.random((25, 18)) < 0.4)
    D[3] = 0.0
    return D


def centred(D, center):
    mask = D != 0
    if center == "global":
        return D - D[mask].mean()
    if center == "user":
        return D - (D.sum(1) / np.maximum(mask.sum(1), 1))[:, None]
    if center == "item":
        return D - (D.sum(0) / np.maximum(mask.sum(0), 1))[None, :]
    return D


@pytest.mark.parametrize("center", ["none", "global", "user", "item"])
@pytest.mark.parametrize("algorithm", ["randomized", "arpack"])
def test_equals_numpy_truncated_svd(dense, center, algorithm):
    U, s, Vt = np.linalg.svd(centred(dense, center))
    model = fastmf.PureSVD(4, center=center, algorithm=algorithm, n_power_iter=10,
                           dtype="float64", random_state=0).fit(sp.csr_matrix(dense))
    np.testing.assert_allclose(model.singular_values_, s[:4], rtol=1e-8)
    low_rank = (U[:, :4] * s[:4]) @ Vt[:4]
    np.testing.assert_allclose(model.user_factors_ @ model.item_factors_.T, low_rank, atol=1e-7)
    np.testing.assert_allclose(model.transform(sp.csr_matrix(dense)), model.user_factors_,
                               atol=1e-7)
    users, items = np.nonzero(np.ones_like(dense))
    shift = dense - centred(dense, center)
    np.testing.assert_allclose(model.predict(users, items), (low_rank + shift)[users, items],
                               atol=1e-7)


def test_float32_close_to_float64_and_full_rank(dense):
    a = fastmf.PureSVD(18, dtype="float64", random_state=0).fit(sp.csr_matrix(dense))
    b = fastmf.PureSVD(18, dtype="float32", random_state=0).fit(sp.csr_matrix(dense))
    np.testing.assert_allclose(a.singular_values_, b.singular_values_, rtol=1e-4)
    np.testing.assert_allclose(a.user_factors_ @ a.item_factors_.T, dense, atol=1e-8)


def test_recommend_and_similar_items():
    data = fastmf.datasets.make_counts(80, 40, rank=3, random_state=0)
    model = fastmf.PureSVD(3, random_state=0).fit(data)
    items, scores = model.recommend(np.arange(5), n=4, exclude=data)
    assert items.shape == (5, 4) and np.all(scores[:, :-1] >= scores[:, 1:])
    ids, _ = model.similar_items(2, n=3)
    assert 2 not in ids


@pytest.mark.parametrize("params,match", [
    (dict(n_factors=19), r"must be <= min\(n_users, n_items\) = 18"),
    (dict(n_factors=18, algorithm="arpack"), r"must be < min"),
    (dict(center="median"), "center must be one of"),
    (dict(algorithm="lanczos"), "algorithm must be one of"),
    (dict(n_factors=0), "n_factors must be >= 1"),
])
def test_bad_parameters_raise(dense, params, match):
    with pytest.raises(ValueError, match=match):
        fastmf.PureSVD(**params).fit(sp.csr_matrix(dense))


def test_nan_raises(dense):
    bad = dense.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="finite"):
        fastmf.PureSVD(2).fit(sp.csr_matrix(bad))

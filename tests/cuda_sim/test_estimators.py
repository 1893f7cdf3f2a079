"""The estimators with backend="cuda" (the registry's device solvers) against backend="cpu"."""

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from tests.cuda_sim.problems import planted, ratings, rel_err


def _counts():
    return ratings(12, 9, 0.4, seed=3)


@pytest.mark.parametrize("make, data", [
    (lambda b: fastmf.ImplicitALS(3, n_iter=2, reg=0.1, alpha=2.0, reg_scaling="none",
                                  dtype="float64", random_state=0, backend=b), _counts),
    (lambda b: fastmf.MatrixFactorization(3, n_iter=2, cg_steps=3, dtype="float64",
                                          random_state=0, backend=b),
     lambda: planted(12, 9, 2, seed=4)),
], ids=["ImplicitALS", "MatrixFactorization-als"])
def test_cg_fits_equal_the_cpu_fits(make, data):
    X = data()
    cpu, gpu = make("cpu").fit(X), make("cuda").fit(X)
    for name in ("user_factors_", "item_factors_"):
        assert rel_err(getattr(gpu, name), getattr(cpu, name)) < 1e-5, name
    np.testing.assert_allclose(gpu.history_["train_loss"], cpu.history_["train_loss"],
                               rtol=1e-5)
    assert gpu.n_iter_ == cpu.n_iter_ == 2
    users = np.arange(5)
    np.testing.assert_array_equal(gpu.recommend(users, n=3, exclude=X)[0],
                                  cpu.recommend(users, n=3, exclude=X)[0])


def test_sgd_and_bpr_fit_on_the_device_and_learn():
    X = planted(16, 12, 2, seed=5)

    def train_rmse(backend):  # Hogwild on the device: compare the fits statistically
        mf = fastmf.MatrixFactorization(2, solver="sgd", lr_schedule="constant",
                                        learning_rate=0.1, n_iter=3, reg=0.1, reg_exponent=1.0,
                                        random_state=0, backend=backend).fit(X)
        return np.sqrt(np.mean((mf.predict(*X.nonzero()) - X.data) ** 2))

    base = np.sqrt(np.mean((X.data - X.data.mean()) ** 2))
    cpu, gpu = train_rmse("cpu"), train_rmse("cuda")
    assert gpu < 0.9 * base and abs(gpu - cpu) < 0.1 * cpu
    counts = sp.csr_matrix((X > 3.5).astype(np.float64))
    bpr = fastmf.BPR(2, n_iter=2, random_state=0, backend="cuda").fit(counts)
    assert len(bpr.history_["train_loss"]) == 2 and np.all(np.isfinite(bpr.history_["skipped"]))
    assert bpr.item_factors_.shape == (12, 2) and bpr.user_bias_ is None


@pytest.mark.parametrize("make, match", [
    (lambda: fastmf.ImplicitALS(2, cg_steps=None, reg_scaling="none", backend="cuda"),
     "cg_steps=None"),
    (lambda: fastmf.ImplicitALS(2, backend="cuda"), "reg_scaling='frequency'"),
    (lambda: fastmf.MatrixFactorization(2, cg_steps=None, backend="cuda"), "cg_steps=None"),
    (lambda: fastmf.MatrixFactorization(2, solver="sgd", reg_exponent=1.0, backend="cuda"),
     "lr_schedule='adagrad' is not available with backend='cuda'"),
    (lambda: fastmf.MatrixFactorization(2, solver="sgd", lr_schedule="constant",
                                        batch_size=4, backend="cuda"), "mini-batch SGD"),
    (lambda: fastmf.MatrixFactorization(2, solver="sgd", lr_schedule="constant",
                                        backend="cuda"), "reg_exponent=0.75"),
    (lambda: fastmf.MatrixFactorization(2, solver="hals", backend="cuda"),
     r"backend='cuda' is not available for MatrixFactorization\(solver='hals'\)"),
])
def test_settings_the_device_lacks_raise_clearly(make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(planted(10, 8, 2, seed=6))

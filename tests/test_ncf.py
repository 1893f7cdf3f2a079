"""NCF (GMF, MLP, NeuMF) and the leave-one-out protocol: sampling, sampled metrics, errors.

The behaviour NCF shares with every recommender (the withheld checkerboard item, exclusions,
fold-in, save/load, partial fits, warm starts) is checked in tests/test_factor_models.py.
"""

import copy

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf.metrics import ranking_metrics, sampled_ranking_metrics
from fastmf.model_selection import leave_one_out, sample_negatives
from tests.conftest import needs_two_threads
from tests.kernels.test_nn import at_threads

COUNTS = fastmf.datasets.make_counts(120, 60, rank=3, random_state=0)
SMALL = dict(n_factors=4, layers=(8, 4), n_iter=3, batch_size=64, learning_rate=0.01,
             random_state=0)


def fit(model="neumf", data=COUNTS, eval_set=None, **kw):
    return fastmf.NCF(**{**SMALL, "model": model, **kw}).fit(data, eval_set=eval_set)


@pytest.fixture(scope="module")
def protocol():
    """Leave-one-out by time (ties broken by the seed) on planted counts, 50 negatives."""
    rng = np.random.default_rng(1)
    r = fastmf.datasets.make_counts(150, 120, rank=3, random_state=1)
    r = fastmf.Ratings(r.users, r.items, r.values, timestamps=rng.integers(0, 20, r.nnz))
    train, test = leave_one_out(r, method="time", random_state=0)
    return train, test, sample_negatives(train, test, n=50, random_state=0)


# ---------------------------------------------------------------------- the protocol
def test_leave_one_out_by_time_holds_out_a_latest_entry_with_ties_broken_by_the_seed():
    # user 0: three entries share the latest timestamp; user 1: one latest entry
    r = fastmf.Ratings([0, 0, 0, 0, 1, 1, 1], [0, 1, 2, 3, 0, 1, 2],
                       timestamps=[9, 9, 9, 1, 5, 2, 3])
    held = set()
    for seed in range(12):
        _, test = leave_one_out(r, method="time", random_state=seed)
        pairs = dict(zip(test.users.tolist(), test.items.tolist(), strict=True))
        assert pairs[1] == 0 and pairs[0] in (0, 1, 2)
        held.add(pairs[0])
        _, again = leave_one_out(r, method="time", random_state=seed)
        np.testing.assert_array_equal(again.items, test.items)
    assert held == {0, 1, 2}  # the seed decides among the tied entries


def test_sample_negatives_never_draw_a_positive_and_follow_the_seed(protocol):
    train, test, neg = protocol
    assert neg.shape == (test.nnz, 50) and neg.dtype == np.int64
    assert np.all(np.diff(neg, axis=1) > 0)
    users = np.repeat(np.arange(test.n_users), np.diff(test.csr.indptr))
    seen = (train.csr + test.csr).tocsr()
    for e, u in enumerate(users):
        assert not set(neg[e].tolist()) & set(seen[u].indices.tolist())
    np.testing.assert_array_equal(sample_negatives(train, test, n=50, random_state=0), neg)
    assert not np.array_equal(sample_negatives(train, test, n=50, random_state=1), neg)


@needs_two_threads
def test_sample_negatives_are_the_same_at_one_and_two_threads(protocol):
    train, test, neg = protocol
    for n in (1, 2):
        got = at_threads(n, lambda: sample_negatives(train, test, n=50, random_state=0))
        np.testing.assert_array_equal(got, neg)


def test_sample_negatives_bad_input(protocol):
    train, test, _ = protocol
    with pytest.raises(ValueError, match=r"^test shares \d+ \(user, item\) pairs with train"):
        sample_negatives(train, train.subset(np.arange(5)))
    with pytest.raises(ValueError, match=r"^n=200 negatives cannot be drawn for user \d+: it "
                                         r"has only \d+ items in neither train nor test"):
        sample_negatives(train, test, n=200)
    with pytest.raises(ValueError, match=r"^test has shape \(150, 119\) but train has"):
        sample_negatives(train, test.csr[:, :119])
    with pytest.raises(ValueError, match="^n must be >= 1"):
        sample_negatives(train, test, n=0)


def sampled_twin(scores_of, users, items, negatives, k):
    """Brute force: the positive's position among its negatives, ties against it."""
    hits, gains = [], []
    for u, i, neg in zip(users, items, negatives, strict=True):
        s = scores_of(u, np.r_[i, neg])
        rank = int(np.sum(s[1:] >= s[0]))
        hits.append(rank < k)
        gains.append(1 / np.log2(rank + 2) if rank < k else 0.0)
    return np.mean(hits), np.mean(gains)


@pytest.mark.parametrize("k", [1, 10])
def test_sampled_metrics_match_the_brute_force_twin(protocol, k):
    train, test, neg = protocol
    model = fit("neumf", train, pretrain=False)
    got = sampled_ranking_metrics(model, test, neg, k=k, train=train)
    users = np.repeat(np.arange(test.n_users), np.diff(test.csr.indptr))
    want = sampled_twin(lambda u, it: model.predict(np.full(len(it), u), it), users,
                        test.csr.indices, neg, k)
    np.testing.assert_allclose([got["hit_rate"], got["ndcg"]], want, rtol=1e-12)


def test_ties_count_against_the_positive(protocol):
    train, test, neg = protocol
    U = np.ones((test.n_users, 1))
    V = np.ones((test.n_items, 1))  # every item scores alike
    assert sampled_ranking_metrics((U, V), test, neg, k=10) == {"hit_rate": 0.0, "ndcg": 0.0}
    assert sampled_ranking_metrics((U, V), test, neg, k=51)["hit_rate"] == 1.0


def test_a_planted_structure_ranks_its_positives_high(protocol):
    # GMF on rank-3 data: far above the 10/51 a random ranking hits, and the full-ranking
    # metrics of the same model computed beside them
    train, test, neg = protocol
    model = fit("gmf", train, n_iter=20, n_factors=8)
    sampled = sampled_ranking_metrics(model, test, neg, k=10)
    full = ranking_metrics(model, train, test, k=10)
    assert sampled["hit_rate"] > 0.5 and sampled["ndcg"] > 0.25
    assert sampled["hit_rate"] >= full["hit_rate"]  # 50 negatives rank easier than 119 items


def test_sampled_metrics_bad_input(protocol):
    train, test, neg = protocol
    model = fit("gmf", train, n_iter=1)
    users = np.repeat(np.arange(test.n_users), np.diff(test.csr.indptr))
    bad = neg.copy()
    bad[3, 7] = test.csr.indices[3]  # the entry's own test item
    with pytest.raises(ValueError, match=r"^negatives collide with test positives: row 3"):
        sampled_ranking_metrics(model, test, bad)
    bad = neg.copy()
    u = users[5]
    bad[5, 0] = train.csr[u].indices[0]
    bad[5].sort()
    sampled_ranking_metrics(model, test, bad)  # train is not checked unless given
    with pytest.raises(ValueError, match=r"^negatives collide with train positives: row 5"):
        sampled_ranking_metrics(model, test, bad, train=train)
    bad = neg.copy()
    bad[2, 1] = bad[2, 0]
    with pytest.raises(ValueError, match=r"^negatives repeats an item in row 2"):
        sampled_ranking_metrics(model, test, bad)
    with pytest.raises(ValueError, match=r"^negatives has 10 rows but test has \d+ entries"):
        sampled_ranking_metrics(model, test, neg[:10])
    with pytest.raises(ValueError, match=r"^negatives must be 2-dimensional"):
        sampled_ranking_metrics(model, test, neg[0])
    with pytest.raises(ValueError, match=r"^negatives holds index 120"):
        sampled_ranking_metrics(model, test, np.where(neg == neg.max(), 120, neg))
    with pytest.raises(TypeError, match=r"^negatives must hold integer indices"):
        sampled_ranking_metrics(model, test, neg * 1.0)
    with pytest.raises(ValueError, match=r"^k must be >= 1"):
        sampled_ranking_metrics(model, test, neg, k=0)
    with pytest.raises(ValueError, match=r"^test has shape"):
        sampled_ranking_metrics(model, test.csr[:, :5], neg)


# ---------------------------------------------------------------------- the estimator
@pytest.mark.parametrize("model", ["gmf", "mlp", "neumf"])
def test_same_seed_same_model_and_the_loss_falls(model):
    a, b = fit(model, n_iter=6), fit(model, n_iter=6)
    for name in ("user_factors_", "item_factors_", "mlp_weights_", "output_weights_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    loss = np.array(a.history_["train_loss"])
    assert loss[-1] < loss[0] and np.all(np.isfinite(loss))
    assert np.all(np.array(a.history_["log_loss"]) <= loss)
    assert set(a.history_) == {"train_loss", "log_loss", "seconds"}


@needs_two_threads
@pytest.mark.parametrize("model", ["gmf", "neumf"])
def test_same_model_at_one_and_two_threads(model):
    def run(n):
        m = fit(model, n_threads=n)
        return (m.user_factors_, m.item_factors_, m.mlp_weights_, m.output_weights_,
                m.transform(COUNTS.csr[:4]), *m.recommend([0, 5], n=5, exclude=COUNTS))

    for x, y in zip(run(1), run(2), strict=True):
        np.testing.assert_array_equal(x, y)


def test_float32_and_float64_fits_agree():
    a = fit("neumf", pretrain=False, n_iter=2)
    b = fit("neumf", pretrain=False, n_iter=2, dtype="float64")
    assert a.user_factors_.dtype == np.float32 and b.user_factors_.dtype == np.float64
    np.testing.assert_allclose(a.history_["train_loss"], b.history_["train_loss"], rtol=1e-3)
    np.testing.assert_allclose(a.predict([0, 1, 2], [3, 4, 5]), b.predict([0, 1, 2], [3, 4, 5]),
                               rtol=0.02, atol=0.02)


def test_neumf_starts_from_the_merged_pretrained_models():
    # a learning rate so small that nothing moves: NeuMF's logit is alpha GMF's + (1 - alpha)
    # MLP's, with the sub-models' seeds drawn from NeuMF's random_state
    kw = dict(SMALL, learning_rate=1e-12, n_iter=1)
    model = fastmf.NCF(**kw, alpha=0.3, finetune_learning_rate=1e-12).fit(COUNTS)
    rng = np.random.default_rng(0)
    seeds = [int(rng.integers(2**31)) for _ in range(2)]
    gmf = fastmf.NCF(**{**kw, "model": "gmf", "random_state": seeds[0]}).fit(COUNTS)
    mlp = fastmf.NCF(**{**kw, "model": "mlp", "random_state": seeds[1]}).fit(COUNTS)
    users, items = np.arange(40), np.arange(40) % 60
    want = 0.3 * gmf.predict(users, items) + 0.7 * mlp.predict(users, items)
    np.testing.assert_allclose(model.predict(users, items), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.user_factors_[:, :4], gmf.user_factors_, atol=1e-9)
    assert set(model.pretrain_history_) == {"gmf", "mlp"}
    assert len(model.pretrain_history_["mlp"]["train_loss"]) == 1
    assert fit("neumf", pretrain=False).pretrain_history_ is None


@pytest.mark.parametrize("finetune", ["sgd", "adam"])
def test_neumf_fine_tunes_the_merged_model_with_its_own_optimizer(finetune):
    # pre-training with Adam at learning_rate, then n_iter epochs of finetune_optimizer at
    # finetune_learning_rate from the merged state: the same as running that solver by hand
    from fastmf._solvers.ncf import NCFSolver

    kw = dict(SMALL, n_iter=2, finetune_optimizer=finetune, finetune_learning_rate=0.05)
    model = fastmf.NCF(**kw).fit(COUNTS)
    p = model._check_params()
    rng = np.random.default_rng(0)
    data = model._validate_data(COUNTS, None)
    state, _ = model._pretrained(data, None, p, rng)
    solver = NCFSolver(data, state, {**p, "optimizer": finetune, "learning_rate": 0.05}, rng)
    for _ in range(2):
        solver.step()
    np.testing.assert_array_equal(model.user_factors_, solver.U)
    np.testing.assert_array_equal(model.item_factors_, solver.V)
    other = fastmf.NCF(**{**kw, "finetune_optimizer": {"sgd": "adam", "adam": "sgd"}[finetune]})
    assert not np.array_equal(other.fit(COUNTS).user_factors_, model.user_factors_)


def test_scores_the_split_layer_gives_are_the_predictions():
    # recommend scores every item through the split first layer, predict pair by pair
    for model in ("gmf", "mlp", "neumf"):
        m = fit(model)
        items, scores = m.recommend([3, 7], n=60)
        for r, u in enumerate((3, 7)):
            np.testing.assert_allclose(scores[r], m.predict(np.full(60, u), items[r]),
                                       rtol=1e-5, atol=1e-5)


def test_unknown_users_and_items_score_as_zero_embeddings():
    m = fit("neumf")
    z = copy.deepcopy(m)
    z.user_factors_[0] = 0
    z.item_factors_[1] = 0
    np.testing.assert_allclose(m.predict([500, 2, 500], [5, 900, 900]),
                               z.predict([0, 2, 0], [5, 1, 1]), rtol=1e-6)


def test_early_stopping_keeps_the_best_epoch():
    train, test = leave_one_out(COUNTS, random_state=0)
    m = fit("gmf", train, n_iter=12, eval_set=test, early_stopping_rounds=2)
    ndcg = m.history_["eval_ndcg@10"]
    assert len(ndcg) == m.n_iter_ <= 12
    assert m.best_iteration_ == int(np.argmax(ndcg)) + 1
    best = ranking_metrics(m, train, test, k=10)["ndcg"]
    assert best == pytest.approx(max(ndcg), abs=1e-9)


def test_regularisation_shrinks_the_output_layer_too():
    # a strong weight collapses every parameter group, the output layer included (a weak one
    # may grow the embeddings: GMF's scores are invariant to moving scale from h into them)
    free = fit("gmf", n_iter=10)
    tied = fit("gmf", n_iter=10, reg=0.1)
    for name in ("output_weights_", "user_factors_", "item_factors_"):
        norm = np.linalg.norm
        assert norm(getattr(tied, name)) < 0.05 * norm(getattr(free, name)), name


def test_negatives_may_include_positives_when_asked():
    # a user who has every item: an error with the paper's sampler, fine without it
    X = COUNTS.csr.tolil()
    X[0, :] = 1
    X = X.tocsr()
    with pytest.raises(ValueError, match=r"^user 0 interacts with every item"):
        fit("gmf", X)
    m = fit("gmf", X, exclude_positives=False)
    assert np.isfinite(m.user_factors_).all()


def test_save_load_roundtrip_and_tampered_files(tmp_path):
    m = fit("neumf")
    path = tmp_path / "ncf.npz"
    m.save(path)
    loaded = fastmf.load(path)
    np.testing.assert_array_equal(loaded.predict([1, 2], [3, 4]), m.predict([1, 2], [3, 4]))
    assert loaded.layers == [8, 4] and loaded.output_bias_ == m.output_bias_
    with np.load(path) as f:
        arrays = dict(f)
    arrays["mlp_weights_"] = arrays["mlp_weights_"][:-1]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"mlp_weights_ must have shape \(\d+,\)"):
        fastmf.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("params, error, match", [
    (dict(model="autoencoder"), ValueError, r"^model must be one of 'gmf', 'mlp', 'neumf'"),
    (dict(layers=()), ValueError, r"^layers must have at least 2 sizes"),
    (dict(layers=(8,)), ValueError, r"^layers must have at least 2 sizes"),
    (dict(layers=(8, 0)), ValueError, r"^layers must be >= 1, got 0"),
    (dict(layers=(8, -4)), ValueError, r"^layers must be >= 1"),
    (dict(layers=(7, 4)), ValueError, r"^layers\[0\] must be even"),
    (dict(layers=(8, 4.5)), TypeError, r"^layers must be an integer"),
    (dict(layers=8), TypeError, r"^layers must be a sequence of integers"),
    (dict(layers="64"), TypeError, r"^layers must be a sequence of integers"),
    (dict(n_negatives=0), ValueError, r"^n_negatives must be >= 1"),
    (dict(alpha=1.5), ValueError, r"^alpha must be <= 1"),
    (dict(alpha=-0.1), ValueError, r"^alpha must be >= 0"),
    (dict(optimizer="rmsprop"), ValueError, r"^optimizer must be one of 'adam', 'sgd'"),
    (dict(finetune_optimizer="lbfgs"), ValueError,
     r"^finetune_optimizer must be one of 'adam', 'sgd'"),
    (dict(finetune_learning_rate=0.0), ValueError, r"^finetune_learning_rate must be > 0"),
    (dict(learning_rate=0.0), ValueError, r"^learning_rate must be > 0"),
    (dict(batch_size=0), ValueError, r"^batch_size must be >= 1"),
    (dict(reg=-1.0), ValueError, r"^reg must be >= 0"),
    (dict(pretrain="yes"), TypeError, r"^pretrain must be True or False"),
    (dict(exclude_positives=1), TypeError, r"^exclude_positives must be True or False"),
    (dict(n_factors=0), ValueError, r"^n_factors must be >= 1"),
    (dict(dtype="int8"), ValueError, r"^dtype must be float32 or float64"),
    (dict(early_stopping_rounds=3), ValueError, r"^early_stopping_rounds needs an eval_set"),
])
def test_bad_parameters_raise_before_anything_is_fitted(params, error, match):
    model = fastmf.NCF(**{**SMALL, **params})
    with pytest.raises(error, match=match):
        model.fit(COUNTS)
    assert not hasattr(model, "user_factors_")


def test_bad_data_raises():
    with pytest.raises(ValueError, match=r"^X must be non-negative"):
        fastmf.NCF(**SMALL).fit(sp.csr_matrix(-np.eye(3)))
    with pytest.raises(ValueError, match=r"^NCF needs at least 2 items"):
        fastmf.NCF(**SMALL, exclude_positives=False).fit(sp.csr_matrix(np.ones((3, 1))))
    m = fit("gmf")
    with pytest.raises(ValueError, match=r"^warm_start needs data of the same shape"):
        m.set_params(warm_start=True, layers=(16, 4), model="neumf").fit(COUNTS)

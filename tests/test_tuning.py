"""Tuning ranking models with scikit-learn's search tools on the transformer view."""

import warnings

import numpy as np
import pytest

import fastmf
from fastmf.metrics import ranking_metrics, ranking_scorer
from fastmf.model_selection import Interactions, UserHoldout

sklearn_model_selection = pytest.importorskip("sklearn.model_selection")

COUNTS = fastmf.datasets.make_counts(120, 60, rank=3, random_state=0)


def test_user_holdout_folds_hold_out_some_of_every_users_items():
    X = Interactions(COUNTS)
    users = COUNTS.users
    n_u = np.bincount(users, minlength=COUNTS.n_users)
    seen = np.zeros(COUNTS.nnz, int)
    for train, valid in UserHoldout(n_splits=4, random_state=0).split(X):
        assert len(np.intersect1d(train, valid)) == 0 and len(train) + len(valid) == len(X)
        has_train = np.bincount(users[train], minlength=COUNTS.n_users) > 0
        validated = np.bincount(users[valid], minlength=COUNTS.n_users) > 0
        assert np.all(has_train[validated])  # every validated user keeps training items
        seen[valid] += 1
    np.testing.assert_array_equal(seen, (n_u[users] >= 2).astype(int))  # each entry once
    a = [v for _, v in UserHoldout(4, random_state=0).split(X)]
    b = [v for _, v in UserHoldout(4, random_state=0).split(X)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    for _, valid in UserHoldout(3, test_size=0.25, random_state=1).split(X):
        per_user = np.bincount(users[valid], minlength=COUNTS.n_users)
        want = np.clip(np.floor(0.25 * n_u + 0.5), 1, n_u - 1) * (n_u >= 2)
        np.testing.assert_array_equal(per_user, want)


def test_scorer_equals_ranking_metrics_of_the_fold():
    X = Interactions(COUNTS)
    train, valid = next(UserHoldout(3, random_state=0).split(X))
    model = fastmf.ImplicitALS(4, n_iter=5, random_state=0).fit(X[train])
    assert model.n_users_ == COUNTS.n_users and model.n_items_ == COUNTS.n_items
    got = ranking_scorer("precision", k=5)(model, X[valid])
    want = ranking_metrics(model, X[train].ratings, X[valid].ratings, k=5)["precision"]
    assert got == pytest.approx(want)


@pytest.mark.parametrize("search", ["grid", "random", "halving"])
def test_search_tools_pick_the_better_regularisation(search):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV, RandomizedSearchCV

    X = Interactions(COUNTS)
    model = fastmf.ImplicitALS(3, n_iter=5, random_state=0)
    # on this small set reg=0.01 overfits: mean validation nDCG@10 0.41-0.51 against
    # 0.46-0.56 for reg=10 over data seeds 0-3 (a margin of 0.03-0.07)
    grid = {"reg": [0.01, 10.0]}
    cv = UserHoldout(3, random_state=0)
    scoring = ranking_scorer("ndcg", k=10)
    if search == "grid":
        s = GridSearchCV(model, grid, cv=cv, scoring=scoring)
    elif search == "random":
        s = RandomizedSearchCV(model, grid, n_iter=2, cv=cv, scoring=scoring, random_state=0)
    else:
        s = HalvingRandomSearchCV(model, grid, cv=cv, scoring=scoring, random_state=0,
                                  min_resources=400, n_candidates=2, return_train_score=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fold fails to score
        s.fit(X)
    assert s.best_params_["reg"] == 10.0
    assert s.best_estimator_.n_users_ == COUNTS.n_users  # refit on every entry


def test_bad_input():
    X = Interactions(COUNTS)
    with pytest.raises(ValueError, match="metric must be one of"):
        ranking_scorer("accuracy")
    with pytest.raises(ValueError, match="k must be >= 1"):
        ranking_scorer("ndcg", k=0)
    model = fastmf.ImplicitALS(4, n_iter=2, random_state=0).fit(X)
    # a fold that puts all of user 0's entries in validation
    alone = np.flatnonzero(COUNTS.users == COUNTS.users[0])
    with pytest.raises(ValueError, match="no training items"):
        ranking_scorer()(model, X[alone])
    with pytest.raises(TypeError, match="Interactions"):
        ranking_scorer()(model, COUNTS.csr)
    with pytest.raises(TypeError, match="UserHoldout splits"):
        next(UserHoldout().split(COUNTS.csr))
    with pytest.raises(ValueError, match="n_splits must be >= 2"):
        UserHoldout(1)
    with pytest.raises(TypeError, match="test_size"):
        UserHoldout(3, test_size=2)

"""fastmf's own runners: build an estimator from a case, fit it, score it."""

from functools import partial

from ._eval import ranking, ranking_data, rmse


def estimator(case, train, test, threads, *, name, ranking_model=False, **params):
    """Runner for ``fastmf.<name>(case["k"], n_iter=case["iters"], **params)``.

    Rating models are fitted on the train ratings and scored by test RMSE; ranking models
    (``ranking_model=True``) on the train positives, scored by P@10 and nDCG@10.
    """
    import fastmf

    cls = getattr(fastmf, name)
    if params.get("solver") == "mcmc":
        params.setdefault("burn_in", case["burn_in"])
    make = partial(cls, case["k"], n_iter=case["iters"],
                   n_threads=threads, random_state=case.get("seed", 0), **params)
    if ranking_model:
        train_pos, test_pos = ranking_data(case, train, test)
        return (lambda: make().fit(train_pos)), (lambda m: ranking(m, train_pos, test_pos))
    return (lambda: make().fit(train)), (lambda m: rmse(test, m.predict(test)))


def fm(case, train, test, threads, **params):
    """``FMRegressor`` on the one-hot user + item design (plus the SVD++ block with
    ``case["implicit"]``), built outside the timed region."""
    import fastmf
    from fastmf.fm_features import FMEncoder

    if params.get("solver") == "mcmc":
        params.setdefault("burn_in", case["burn_in"])
    enc = FMEncoder(implicit=case.get("implicit", False)).fit(train)
    Xtr, Xte = enc.transform(train), enc.transform(test)

    def fit():
        return fastmf.FMRegressor(case["k"], n_iter=case["iters"], groups=enc.groups_,
                                  n_threads=threads, random_state=case.get("seed", 0),
                                  **params).fit(Xtr, train.values)

    return fit, lambda m: rmse(test, m.predict(Xte))

"""Plots of fitted models and benchmark results (matplotlib: ``pip install "fastmf[plot]"``).

Each function draws into ``ax`` (a new figure when None) and returns the Axes it drew on;
nothing is shown or saved, so they work the same in notebooks, scripts and with the Agg
backend.
"""

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np

from ._validation import NotFittedError

__all__ = ["plot_history", "plot_benchmark", "plot_items", "plot_ranking"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("fastmf.plotting needs matplotlib: pip install 'fastmf[plot]'") \
            from None
    return plt


def _axes(ax, figsize=(6.4, 4.2)):
    if ax is not None:
        return ax
    return _pyplot().subplots(figsize=figsize)[1]


def _check_fitted(model, what):
    if not any(k.endswith("_") and not k.startswith("_") for k in vars(model)):
        raise NotFittedError(f"{what} needs a fitted model: this {type(model).__name__} is not "
                             "fitted yet, call 'fit' first")


def plot_history(model: Any, *, ax: Any = None) -> Any:
    """Training objective and evaluation scores per iteration, from ``model.history_``.

    The training objective (``history_["train_loss"]``) is drawn on the left axis; every
    evaluation score recorded with ``eval_set`` (``eval_rmse``, ``eval_logloss``, ...) on a
    second axis on the right (``ax.right_axis``). ``best_iteration_``, when set by early
    stopping, is marked by a vertical line.

    Parameters
    ----------
    model : fitted estimator with ``history_``
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The left axis.

    Raises
    ------
    NotFittedError
        When the model is not fitted.
    ValueError
        When the model is fitted but records no history (e.g. PureSVD, Popularity).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import fastmf
    >>> from fastmf.plotting import plot_history
    >>> data = fastmf.datasets.make_ratings(100, 50, 2000, random_state=0)
    >>> train, test = fastmf.model_selection.train_test_split(data, 0.2, random_state=0)
    >>> model = fastmf.MatrixFactorization(4, n_iter=5, random_state=0)
    >>> ax = plot_history(model.fit(train, eval_set=test))
    >>> [line.get_label() for line in ax.get_lines() + ax.right_axis.get_lines()]
    ['training objective', 'eval RMSE']
    """
    _check_fitted(model, "plot_history")
    history = getattr(model, "history_", None)
    if not history or len(history.get("train_loss", ())) < 2:
        raise ValueError(f"{type(model).__name__} has no history_ to plot: it is not fitted "
                         "iteratively (its fit is one step, or ran fewer than 2 iterations)")
    ax = _axes(ax)
    it = np.arange(1, len(history["train_loss"]) + 1)
    lines = ax.plot(it, history["train_loss"], color="C0", marker=".",
                    label="training objective")
    ax.set_xlabel("iteration")
    ax.set_ylabel("training objective")
    ax.set_xlim(0.5, len(it) + 0.5)
    evals = [k for k in history if k.startswith("eval_") and k != "eval_unknown"]
    ax.right_axis = None
    if evals:
        right = ax.twinx()
        names = [f"eval {k[5:].upper() if k[5:] in ('rmse', 'mae') else k[5:]}" for k in evals]
        for c, (key, name) in enumerate(zip(evals, names, strict=True), start=1):
            values = np.asarray(history[key], dtype=float)
            lines += right.plot(it, values, color=f"C{c}", marker=".", label=name)
        right.set_ylabel(", ".join(names))
        ax.right_axis = right
    best = getattr(model, "best_iteration_", None)
    if best is not None and best != len(it):
        lines.append(ax.axvline(best, color="0.5", ls="--", label=f"best iteration ({best})"))
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper right")
    ax.set_title(f"{type(model).__name__}: {len(it)} iterations")
    return ax


def plot_items(model: Any, labels: Sequence[Any] | Mapping[Any, Any] | None = None, *,
               annotate: int | Iterable[int] = 20, ax: Any = None) -> Any:
    """A 2-D map of the item factors: their first two principal components.

    Every item is a point; some are labelled (``annotate``), by default the items whose factor
    vectors are longest (the model's most pronounced items).

    Parameters
    ----------
    model : fitted factor model (with ``item_factors_``)
    labels : sequence, mapping or pandas object, optional
        Names of the items: a sequence indexed by the model's item index, or a mapping (a
        dict, a pandas Series, or a DataFrame with a ``"title"`` column) from raw item ID to
        name, such as the items table of :func:`fastmf.datasets.load_movielens`. Items
        without a name are labelled by their ID.
    annotate : int or iterable of int, default=20
        How many items to label, or the item indices to label.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import fastmf
    >>> from fastmf.plotting import plot_items
    >>> data = fastmf.datasets.make_ratings(100, 30, 2000, random_state=0)
    >>> model = fastmf.MatrixFactorization(4, n_iter=5, random_state=0).fit(data)
    >>> ax = plot_items(model, labels=[f"item {i}" for i in range(30)], annotate=[0, 1])
    >>> [t.get_text() for t in ax.texts]
    ['item 0', 'item 1']
    """
    _check_fitted(model, "plot_items")
    V = np.asarray(model.item_factors_, dtype=np.float64)
    names = _item_names(model, labels, len(V))
    centred = V - V.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    if xy.shape[1] == 1:
        xy = np.column_stack([xy, np.zeros(len(xy))])
    share = s ** 2 / max(float(np.sum(s ** 2)), 1e-300)
    ax = _axes(ax, figsize=(7, 6))
    ax.scatter(xy[:, 0], xy[:, 1], s=8, alpha=0.4, color="C0", linewidths=0)
    if isinstance(annotate, (int, np.integer)):
        chosen = np.argsort(-np.linalg.norm(V, axis=1), kind="stable")[:int(annotate)]
    else:
        from ._validation import check_index_array

        chosen = check_index_array(np.asarray(list(annotate)), "annotate", len(V))
    ax.scatter(xy[chosen, 0], xy[chosen, 1], s=16, color="C1")
    for i in chosen:
        ax.annotate(names[i], xy[i], fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"PC 1 ({100 * share[0]:.0f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * share[1]:.0f}% of variance)" if len(share) > 1 else "PC 2")
    ax.set_title(f"{type(model).__name__}: item factors, {len(V):,} items")
    return ax


def _item_names(model, labels, n):
    ids = getattr(model, "item_ids_", None)
    raw = list(range(n)) if ids is None else list(ids[:n])
    if labels is None:
        return [str(r) for r in raw]
    if hasattr(labels, "columns"):  # a DataFrame: its title column
        if "title" not in labels.columns:
            raise ValueError("labels is a DataFrame without a 'title' column")
        labels = labels["title"]
    if hasattr(labels, "to_dict") or isinstance(labels, Mapping):
        table = labels.to_dict() if hasattr(labels, "to_dict") else labels
        return [str(table.get(r, r)) for r in raw]
    labels = list(labels)
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but the model has {n} items; pass "
                         "one per item index, or a mapping from raw item ID")
    return [str(x) for x in labels]


def plot_ranking(model: Any, train: Any, test: Any, ks: Sequence[int] = (1, 2, 5, 10, 20, 50),
                 *, ax: Any = None) -> Any:
    """Precision and recall at k of one or several models (``fastmf.metrics.ranking_metrics``).

    Parameters
    ----------
    model : fitted model, or dict of name to fitted model
    train, test : Ratings or sparse matrix of shape (n_users, n_items)
        Training interactions (excluded from the lists) and the held-out relevant ones.
    ks : sequence of int, default=(1, 2, 5, 10, 20, 50)
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Precision as solid lines, (capped) recall as dashed lines, one colour per model.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import fastmf
    >>> from fastmf.plotting import plot_ranking
    >>> X = fastmf.datasets.make_counts(200, 80, rank=3, random_state=0)
    >>> train, test = fastmf.model_selection.train_test_split(X, 0.2, random_state=0)
    >>> model = fastmf.ImplicitALS(4, n_iter=3, random_state=0).fit(train)
    >>> ax = plot_ranking(model, train, test, ks=[1, 5, 10])
    >>> [line.get_label() for line in ax.get_lines()]
    ['ImplicitALS precision', 'ImplicitALS recall']
    """
    from .metrics import ranking_metrics

    models = model if isinstance(model, Mapping) else {type(model).__name__: model}
    if not models:
        raise ValueError("model is an empty dict: pass at least one model")
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must hold integers >= 1, got {ks}")
    for m in models.values():
        _check_fitted(m, "plot_ranking")
    ax = _axes(ax)
    for c, (name, m) in enumerate(models.items()):
        scores = [ranking_metrics(m, train, test, k=k) for k in ks]
        ax.plot(ks, [s["precision"] for s in scores], color=f"C{c}", marker="o",
                label=f"{name} precision")
        ax.plot(ks, [s["recall"] for s in scores], color=f"C{c}", marker="o", ls="--",
                label=f"{name} recall")
    if ks[-1] / ks[0] >= 10:
        ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("k (length of the list)")
    ax.set_ylabel("precision / recall at k")
    ax.set_ylim(0, None)
    ax.legend(fontsize=8)
    ax.set_title("precision (solid) and recall (dashed) at k")
    return ax


def plot_benchmark(results: Mapping[str, Any] | str | PathLike, *, axes: Any = None) -> Any:
    """Time and quality side by side, for the output of ``fastmf bench``.

    Left: fit seconds of every (model, library) as horizontal bars on a log scale, fastmf in
    its own colour; libraries that did not run are listed with the reason. Right: the quality
    of each row, RMSE for rating models (lower is better) and nDCG@10 for ranking models
    (higher is better), each bar labelled.

    Parameters
    ----------
    results : dict, or path of the JSON file written by ``fastmf bench -o``
    axes : pair of matplotlib Axes, optional

    Returns
    -------
    ndarray of 2 matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from fastmf.plotting import plot_benchmark
    >>> rows = [{"model": "als", "library": "fastmf", "status": "ok", "seconds": 0.5,
    ...          "kind": "rating", "metrics": {"rmse": 0.91}},
    ...         {"model": "als", "library": "cmfrec", "status": "ok", "seconds": 1.5,
    ...          "kind": "rating", "metrics": {"rmse": 0.92}}]
    >>> time_ax, quality_ax = plot_benchmark({"meta": {}, "rows": rows})
    >>> [t.get_text() for t in time_ax.get_yticklabels()]
    ['als: fastmf', 'als: cmfrec']
    """
    if not isinstance(results, Mapping):
        from .bench import read_json

        results = read_json(results)
    rows = list(results.get("rows", []))
    if not rows:
        raise ValueError("results has no rows to plot")
    if axes is None:
        fig, axes = _pyplot().subplots(1, 2, figsize=(11, 0.8 + 0.32 * len(rows)),
                                       sharey=True)
    time_ax, quality_ax = axes
    y = np.arange(len(rows))[::-1]
    names = [f"{r['model']}: {r['library']}" for r in rows]
    ok = [r["status"] == "ok" for r in rows]
    colours = ["C1" if r["library"] == "fastmf" else "C0" for r in rows]
    seconds = np.array([r["seconds"] if good else np.nan for r, good in zip(rows, ok,
                                                                           strict=True)])
    time_ax.barh(y[ok], seconds[ok], color=np.array(colours)[ok])
    time_ax.set_xscale("log")
    low = np.nanmin(seconds) if any(ok) else 1.0
    for yi, r, good in zip(y, rows, ok, strict=True):
        if not good:
            note = {"missing": "not installed", "timeout": "timed out"}.get(r["status"],
                                                                            "error")
            time_ax.text(low, yi, " " + note, va="center", fontsize=8, color="0.4")
    time_ax.set_yticks(y, names)
    time_ax.set_xlabel("fit seconds (median, log scale)")
    meta = results.get("meta", {})
    if meta.get("data"):
        time_ax.set_title(f"{meta['data']['name']}, {meta.get('threads')} threads")
    for yi, r, good in zip(y, rows, ok, strict=True):
        if not good:
            continue
        key = "rmse" if r.get("kind", "rating") == "rating" else "ndcg@10"
        value = r["metrics"].get(key)
        if value is None:
            continue
        quality_ax.barh(yi, value, color="C1" if r["library"] == "fastmf" else "C0",
                        hatch="" if key == "rmse" else "//", edgecolor="white")
        quality_ax.text(value, yi, f" {'RMSE' if key == 'rmse' else 'nDCG@10'} {value:.4f}",
                        va="center", fontsize=8)
    right = max([p.get_width() for p in quality_ax.patches], default=1.0)
    quality_ax.set_xlim(0, 1.45 * right)
    quality_ax.set_xlabel("RMSE (rating models, lower is better) / nDCG@10 (ranking, higher)")
    quality_ax.set_title("quality on the test split")
    time_ax.figure.tight_layout()
    return np.array([time_ax, quality_ax])

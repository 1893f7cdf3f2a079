"""fastmf.plotting with the Agg backend: what is drawn (lines, labels, limits), not pixels."""

import json

import numpy as np
import pytest

import fastmf

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastmf.plotting import plot_benchmark, plot_history, plot_items, plot_ranking  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def split():
    data = fastmf.datasets.make_ratings(150, 60, 3000, selection=2.0, random_state=0)
    return fastmf.model_selection.train_test_split(data, 0.2, random_state=0)


def test_history_draws_the_recorded_curves(split):
    train, test = split
    model = fastmf.MatrixFactorization(4, n_iter=6, random_state=0).fit(train, eval_set=test)
    ax = plot_history(model)
    (loss,) = ax.get_lines()
    np.testing.assert_array_equal(loss.get_xdata(), np.arange(1, 7))
    np.testing.assert_allclose(loss.get_ydata(), model.history_["train_loss"])
    (rmse,) = ax.right_axis.get_lines()
    np.testing.assert_allclose(rmse.get_ydata(), model.history_["eval_rmse"])
    assert ax.get_xlim() == (0.5, 6.5)
    assert ax.get_xlabel() == "iteration" and ax.right_axis.get_ylabel() == "eval RMSE"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training objective",
                                                                   "eval RMSE"]


def test_history_marks_the_best_iteration_and_works_without_eval():
    model = fastmf.MatrixFactorization(4, n_iter=5, random_state=0)
    model.fit(fastmf.datasets.make_ratings(60, 40, 800, random_state=0))
    ax = plot_history(model)
    assert ax.right_axis is None and len(ax.get_lines()) == 1
    model.best_iteration_ = 2  # as early stopping leaves it
    ax = plot_history(model)
    marker = ax.get_lines()[-1]
    assert marker.get_label() == "best iteration (2)" and list(marker.get_xdata()) == [2, 2]


def test_history_errors():
    with pytest.raises(fastmf._validation.NotFittedError,
                       match="plot_history needs a fitted model: this MatrixFactorization is "
                             "not fitted yet"):
        plot_history(fastmf.MatrixFactorization())
    svd = fastmf.PureSVD(3, random_state=0).fit(
        fastmf.datasets.make_ratings(40, 30, 500, random_state=0).csr)
    with pytest.raises(ValueError, match="PureSVD has no history_ to plot"):
        plot_history(svd)


def test_items_map_is_the_pca_of_the_item_factors(split):
    train, _ = split
    model = fastmf.MatrixFactorization(5, n_iter=4, random_state=0).fit(train)
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"title": [f"movie {i}" for i in range(60)]})  # raw ID = index
    ax = plot_items(model, labels=table, annotate=3)
    points = ax.collections[0].get_offsets()
    assert points.shape == (60, 2)
    V = model.item_factors_.astype(np.float64)
    centred = V - V.mean(axis=0)
    assert np.allclose(np.abs(points), np.abs(centred @ np.linalg.svd(centred)[2][:2].T),
                       atol=1e-6)
    assert points[:, 0].var() >= points[:, 1].var()
    longest = np.argsort(-np.linalg.norm(V, axis=1))[:3]
    assert [t.get_text() for t in ax.texts] == [f"movie {i}" for i in longest]
    assert ax.get_xlabel().startswith("PC 1 (") and "% of variance" in ax.get_ylabel()


def test_items_labels_by_raw_id_and_errors():
    data = fastmf.Ratings.from_ids(["a", "a", "b", "c"], [10, 20, 20, 30], [4.0, 2, 5, 3])
    model = fastmf.MatrixFactorization(2, n_iter=2, random_state=0).fit(data)
    ax = plot_items(model, labels={20: "Twenty"}, annotate=[1, 2])
    assert [t.get_text() for t in ax.texts] == ["Twenty", "30"]  # unnamed: its raw ID
    with pytest.raises(ValueError, match="labels has 2 entries but the model has 3 items"):
        plot_items(model, labels=["x", "y"])
    with pytest.raises(fastmf._validation.NotFittedError, match="plot_items needs a fitted"):
        plot_items(fastmf.ImplicitALS())


def test_ranking_curves_are_the_metrics_at_each_k(split):
    train, test = split
    models = {"pop": fastmf.Popularity().fit(train),
              "als": fastmf.ImplicitALS(4, n_iter=3, random_state=0).fit(train)}
    ks = [1, 5, 10, 20]
    ax = plot_ranking(models, train, test, ks=ks)
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["pop precision", "pop recall",
                                                "als precision", "als recall"]
    expected = [fastmf.metrics.ranking_metrics(models["als"], train, test, k=k) for k in ks]
    np.testing.assert_allclose(lines[2].get_ydata(), [m["precision"] for m in expected])
    np.testing.assert_allclose(lines[3].get_ydata(), [m["recall"] for m in expected])
    assert lines[3].get_linestyle() == "--" and ax.get_xscale() == "log"
    assert ax.get_ylim()[0] == 0
    with pytest.raises(ValueError, match="ks must hold integers >= 1"):
        plot_ranking(models, train, test, ks=[0, 5])
    with pytest.raises(ValueError, match="empty dict"):
        plot_ranking({}, train, test)


def test_benchmark_bars_and_notes(tmp_path):
    rows = [
        {"model": "als", "library": "fastmf", "kind": "rating", "status": "ok",
         "seconds": 0.2, "metrics": {"rmse": 0.91}},
        {"model": "als", "library": "cmfrec", "kind": "rating", "status": "ok",
         "seconds": 0.8, "metrics": {"rmse": 0.93}},
        {"model": "als", "library": "pyspark", "kind": "rating", "status": "missing"},
        {"model": "ials", "library": "fastmf", "kind": "ranking", "status": "ok",
         "seconds": 0.1, "metrics": {"p@10": 0.2, "ndcg@10": 0.3}},
        {"model": "ials", "library": "implicit", "kind": "ranking", "status": "error",
         "error": "boom"},
    ]
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"meta": {"data": {"name": "toy"}, "threads": 2},
                                "rows": rows}))
    time_ax, quality_ax = plot_benchmark(path)
    assert [t.get_text() for t in time_ax.get_yticklabels()] == [
        "als: fastmf", "als: cmfrec", "als: pyspark", "ials: fastmf", "ials: implicit"]
    widths = sorted(p.get_width() for p in time_ax.patches)
    assert widths == [0.1, 0.2, 0.8] and time_ax.get_xscale() == "log"
    assert sorted(t.get_text().strip() for t in time_ax.texts) == ["error", "not installed"]
    assert sorted(p.get_width() for p in quality_ax.patches) == [0.3, 0.91, 0.93]
    assert "nDCG@10 0.3000" in [t.get_text().strip() for t in quality_ax.texts]
    assert quality_ax.get_xlim()[1] > 0.93
    assert time_ax.get_title() == "toy, 2 threads"
    with pytest.raises(ValueError, match="no rows to plot"):
        plot_benchmark({"meta": {}, "rows": []})

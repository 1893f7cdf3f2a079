"""Tests of fastmf.datasets: planted synthetic data and the MovieLens loader (offline)."""

import dataclasses
import hashlib
import re
import sys
import zipfile

import numpy as np
import pytest

import fastmf
from fastmf import datasets
from fastmf.datasets import ChecksumError, load_movielens, make_counts, make_ratings

U_DATA_SHA256 = "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"


def _codes(r):
    return r.users * r.n_items + r.items


def _top_share(counts, frac=0.1):
    """Share of all entries held by the top ``frac`` of rows/columns."""
    c = np.sort(counts)[::-1]
    return c[: max(1, int(frac * len(c)))].sum() / c.sum()


# ---------------------------------------------------------------------------- make_ratings
@pytest.fixture(scope="module")
def planted():
    return make_ratings(1000, 500, 20000, rank=8, random_state=0, return_truth=True)


def test_make_ratings_shape_scale_and_no_duplicates(planted):
    r, _ = planted
    assert isinstance(r, fastmf.Ratings)
    assert r.shape == (1000, 500) and r.nnz == 20000
    assert len(np.unique(_codes(r))) == r.nnz
    assert set(np.unique(r.values).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 3.2 < r.values.mean() < 3.8
    assert 0.8 < r.values.std() < 1.3
    assert r.timestamps is not None and r.timestamps.min() >= 946_684_800


def test_make_ratings_covers_every_user_and_item(planted):
    r, _ = planted
    assert np.bincount(r.users, minlength=r.n_users).min() >= 1
    assert np.bincount(r.items, minlength=r.n_items).min() >= 1


def test_make_ratings_power_law_popularity(planted):
    r, truth = planted
    counts = np.bincount(r.items, minlength=r.n_items)
    assert _top_share(counts) > 0.3                   # uniform would give ~0.1
    assert counts.max() > 10 * np.median(counts)
    # the observed popularity follows the planted weights
    assert np.corrcoef(np.log(counts), np.log(truth["item_popularity"]))[0, 1] > 0.9
    users = np.bincount(r.users, minlength=r.n_users)
    assert np.corrcoef(users, truth["user_activity"])[0, 1] > 0.9
    flat = make_ratings(1000, 500, 20000, popularity_exponent=0, activity_exponent=0)
    assert _top_share(np.bincount(flat.items, minlength=500)) < 0.15


def test_make_ratings_truth_is_consistent(planted):
    r, t = planted
    assert t["user_factors"].shape == (1000, 8) and t["item_factors"].shape == (500, 8)
    assert t["user_bias"].shape == (1000,) and t["item_bias"].shape == (500,)
    assert t["global_mean"] == 3.5 and t["noise"] == 0.3
    low_rank = np.einsum("nk,nk->n", t["user_factors"][r.users], t["item_factors"][r.items])
    assert 0.5 < low_rank.var() < 1.0                  # meaningful signal on the 1-5 scale
    pred = t["global_mean"] + t["user_bias"][r.users] + t["item_bias"][r.items] + low_rank
    assert np.corrcoef(pred, r.values)[0, 1] > 0.8
    assert np.sqrt(np.mean((np.clip(pred, 1, 5) - r.values) ** 2)) < 0.6


def test_make_ratings_noiseless_continuous_equals_clipped_truth():
    r, t = make_ratings(100, 60, 800, rank=3, noise=0.0, discrete=False, return_truth=True)
    pred = (t["global_mean"] + t["user_bias"][r.users] + t["item_bias"][r.items]
            + np.einsum("nk,nk->n", t["user_factors"][r.users], t["item_factors"][r.items]))
    np.testing.assert_allclose(r.values, np.clip(pred, 1, 5))
    assert len(np.unique(r.values)) > 100


def test_make_ratings_is_deterministic():
    a, b = make_ratings(200, 100, 2000, random_state=7), make_ratings(200, 100, 2000,
                                                                      random_state=7)
    for name in ("users", "items", "values", "timestamps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = make_ratings(200, 100, 2000, random_state=8)
    assert not np.array_equal(_codes(a), _codes(c))
    g = make_ratings(200, 100, 2000, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(a.values, g.values)


@pytest.mark.parametrize("exponents", [(0.5, 0.8), (1.5, 2.0)])
def test_pair_sampler_matches_weighted_sampling_without_replacement(exponents):
    """The O(n) sampler has the law of the dense Efraimidis-Spirakis race over all cells."""
    rng = np.random.default_rng(0)
    p = datasets._zipf_weights(rng, 30, exponents[0])
    q = datasets._zipf_weights(rng, 20, exponents[1])
    n, reps = 120, 400                                   # 20 % of the cells: the sparse path
    fast, oracle = np.zeros(600), np.zeros(600)
    for _ in range(reps):
        cells = datasets._weighted_cells(rng, p, q, n, np.empty(0, dtype=np.int64))
        assert len(np.unique(cells)) == n
        fast[cells] += 1
        keys = rng.exponential(size=600) / np.outer(p, q).ravel()
        oracle[np.argsort(keys)[:n]] += 1
    fast, oracle = fast / reps, oracle / reps
    pooled = (fast + oracle) / 2
    z = (fast - oracle) / np.sqrt(2 * pooled * (1 - pooled) / reps + 1e-6)
    assert np.mean(z ** 2) < 1.5 and np.abs(z).max() < 5   # chi-square per cell ~ 1
    np.testing.assert_allclose(fast.reshape(30, 20).sum(0), oracle.reshape(30, 20).sum(0),
                               atol=0.5)                 # per-item counts, out of up to 30
    assert np.corrcoef(fast, oracle)[0, 1] > 0.98


@pytest.mark.parametrize("n_ratings", [450, 600])          # 75 % and 100 % of the cells
def test_make_ratings_dense_requests(n_ratings):
    r = make_ratings(30, 20, n_ratings, random_state=1)
    assert r.nnz == n_ratings and len(np.unique(_codes(r))) == n_ratings
    assert np.bincount(r.users, minlength=30).min() >= 1


def test_make_ratings_fewer_ratings_than_rows_is_feasible():
    r = make_ratings(100, 50, 40)
    assert r.nnz == 40 and len(np.unique(_codes(r))) == 40
    assert len(np.unique(r.users)) >= 30                      # mostly one per user


def test_make_ratings_never_builds_a_dense_matrix():
    # 2e10 cells: a dense users x items array would need 160 GB
    r = make_ratings(200_000, 100_000, 30_000, random_state=0)
    assert r.nnz == 30_000 and r.shape == (200_000, 100_000)
    assert np.bincount(r.items, minlength=100_000).min() == 0  # coverage was infeasible


@pytest.mark.slow
def test_make_ratings_at_ml1m_scale():
    # its speed (about a second) is measured in benchmarks/, not asserted here
    r = make_ratings(6040, 3706, 1_000_209, random_state=0)
    assert r.nnz == 1_000_209 and len(np.unique(_codes(r))) == r.nnz


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n_users=0), ValueError, "n_users must be >= 1"),
    (dict(n_items=2.5), TypeError, "n_items must be an integer"),
    (dict(n_users=10, n_items=10, n_ratings=101), ValueError, "n_ratings must be <= 100"),
    (dict(n_ratings=0), ValueError, "n_ratings must be >= 1"),
    (dict(rank=0), ValueError, "rank must be >= 1"),
    (dict(noise=-0.1), ValueError, "noise must be >= 0"),
    (dict(signal=float("nan")), ValueError, "signal must be finite"),
    (dict(bias_scale=-1), ValueError, "bias_scale must be >= 0"),
    (dict(popularity_exponent=-1), ValueError, "popularity_exponent must be >= 0"),
    (dict(activity_exponent="1"), TypeError, "activity_exponent must be a real number"),
    (dict(discrete=1), TypeError, "discrete must be True or False"),
    (dict(return_truth="yes"), TypeError, "return_truth must be True or False"),
    (dict(random_state="seed"), TypeError, "random_state must be"),
])
def test_make_ratings_rejects_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_ratings(**kwargs)


# ---------------------------------------------------------------------------- make_counts
def test_make_counts_poisson_structure():
    X, t = make_counts(1000, 500, rank=6, counts_per_user=30.0, random_state=0,
                       return_truth=True)
    W, H = t["user_factors"], t["item_factors"]
    assert W.shape == (1000, 6) and H.shape == (500, 6) and W.min() >= 0 and H.min() >= 0
    assert X.shape == (1000, 500)
    assert len(np.unique(_codes(X))) == X.nnz
    assert X.values.min() >= 1 and np.all(X.values == np.round(X.values))
    assert X.values.max() > 1                                   # repeated events add up
    # expected total = n_users * counts_per_user = 30,000; Poisson sd ~ 173
    assert abs(X.values.sum() - 30_000) < 1000
    np.testing.assert_allclose((W @ H.T).sum(), 30_000)
    # per-item totals follow their expectations sum_u (W H^T)_ui
    expected = W.sum(0) @ H.T
    observed = np.bincount(X.items, weights=X.values, minlength=500)
    assert np.corrcoef(observed, expected)[0, 1] > 0.95
    z = (observed - expected) / np.sqrt(expected + 1)
    assert abs(z.mean()) < 0.3 and z.std() < 1.5
    # observed cells have much higher rates than random cells
    rates = np.einsum("nk,nk->n", W[X.users], H[X.items])
    rng = np.random.default_rng(0)
    u, i = rng.integers(0, 1000, 5000), rng.integers(0, 500, 5000)
    assert rates.mean() > 3 * np.einsum("nk,nk->n", W[u], H[i]).mean()
    assert np.corrcoef(rates, X.values)[0, 1] > 0.5


def test_make_counts_power_law_and_determinism():
    X = make_counts(1000, 500, random_state=3)
    Y = make_counts(1000, 500, random_state=3)
    np.testing.assert_array_equal(_codes(X), _codes(Y))
    np.testing.assert_array_equal(X.values, Y.values)
    totals = np.bincount(X.items, weights=X.values, minlength=500)
    assert _top_share(totals) > 0.3
    flat = make_counts(1000, 500, popularity_exponent=0, activity_exponent=0, shape=50.0)
    assert _top_share(np.bincount(flat.items, weights=flat.values, minlength=500)) < 0.15


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n_users=-1), ValueError, "n_users must be >= 1"),
    (dict(rank=1.0), TypeError, "rank must be an integer"),
    (dict(counts_per_user=0), ValueError, "counts_per_user must be > 0"),
    (dict(shape=0), ValueError, "shape must be > 0"),
    (dict(popularity_exponent=-0.5), ValueError, "popularity_exponent must be >= 0"),
    (dict(return_truth=None), TypeError, "return_truth must be True or False"),
])
def test_make_counts_rejects_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_counts(**kwargs)


def test_make_counts_with_nothing_drawn_raises():
    with pytest.raises(ValueError, match="no counts were drawn"):
        make_counts(1, 5, counts_per_user=1e-12)


# ---------------------------------------------------------------------------- MovieLens
def test_checksum_table_is_complete():
    assert set(datasets._MOVIELENS) == {"100k", "1m", "10m", "20m", "25m", "latest-small"}
    for spec in datasets._MOVIELENS.values():
        assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256)
        assert spec.url.startswith("https://files.grouplens.org/datasets/movielens/ml-")
    assert datasets._MOVIELENS["100k"].ratings_sha256 == U_DATA_SHA256


def _check_ml100k(r):
    assert r.nnz == 100_000 and r.shape == (943, 1682)
    assert r.user_ids.tolist() == list(range(1, 944))
    assert r.item_ids.tolist() == list(range(1, 1683))
    np.testing.assert_array_equal(np.bincount(r.values.astype(int))[1:],
                                  [6110, 11370, 27145, 34174, 21201])
    assert r.timestamps is not None and r.timestamps.min() > 8e8
    # first line of u.data: user 196 rated movie 242 with 3 stars at 881250949
    at = np.flatnonzero((r.user_ids[r.users] == 196) & (r.item_ids[r.items] == 242))
    assert r.values[at].tolist() == [3.0] and r.timestamps[at].tolist() == [881250949.0]


def test_load_movielens_from_local_folder(ml100k_dir):
    _check_ml100k(load_movielens("100k", path=ml100k_dir))
    # the parent of the extracted folder works as well
    _check_ml100k(load_movielens("100k", path=ml100k_dir.parent))


def test_load_movielens_folder_checksum_mismatch(tmp_path, ml100k_dir):
    lines = (ml100k_dir / "u.data").read_bytes().splitlines(keepends=True)
    bad = tmp_path / "ml-100k"
    bad.mkdir()
    (bad / "u.data").write_bytes(b"".join(lines[:-1]))        # one rating lost
    actual = hashlib.sha256((bad / "u.data").read_bytes()).hexdigest()
    with pytest.raises(ChecksumError, match=rf"u\.data: expected {U_DATA_SHA256}, got {actual}"):
        load_movielens("100k", path=bad)


def _zip_ml100k(ml100k_dir, dest):
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name in ("u.data", "README"):
            zf.write(ml100k_dir / name, f"ml-100k/{name}")
    return dest, hashlib.sha256(dest.read_bytes()).hexdigest()


@pytest.fixture
def local_url(monkeypatch, tmp_path, ml100k_dir):
    """Point the 100k entry at a file:// zip built from the local folder (and its digest)."""
    (tmp_path / "src").mkdir()
    zip_path, digest = _zip_ml100k(ml100k_dir, tmp_path / "src" / "ml-100k.zip")
    spec = datasets._MOVIELENS["100k"]
    monkeypatch.setitem(datasets._MOVIELENS, "100k",
                        dataclasses.replace(spec, url=zip_path.as_uri(), sha256=digest))
    return zip_path, digest


def test_load_movielens_downloads_verifies_and_caches(local_url, tmp_path):
    home = tmp_path / "home"
    _check_ml100k(load_movielens("100k", data_home=home))
    root = home / "movielens"
    assert (root / "ml-100k.zip").is_file() and (root / "ml-100k" / "u.data").is_file()
    assert not list(root.glob("*.part")) and not list(root.glob(".extract-*"))
    # cached now: no download needed, and the cached zip is re-extracted if the folder goes
    _check_ml100k(load_movielens("100k", data_home=home, download=False))
    (root / "ml-100k" / "u.data").unlink()
    _check_ml100k(load_movielens("100k", data_home=home, download=False))


def test_load_movielens_uses_fastmf_data_env(local_url, tmp_path, monkeypatch):
    monkeypatch.setenv("FASTMF_DATA", str(tmp_path / "env_home"))
    assert datasets.get_data_home() == tmp_path / "env_home"
    assert load_movielens("100k").nnz == 100_000
    assert (tmp_path / "env_home" / "movielens" / "ml-100k" / "u.data").is_file()


def test_load_movielens_download_checksum_mismatch(local_url, tmp_path, monkeypatch):
    zip_path, digest = local_url
    real = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
    spec = datasets._MOVIELENS["100k"]
    monkeypatch.setitem(datasets._MOVIELENS, "100k", dataclasses.replace(spec, sha256=real))
    home = tmp_path / "home"
    with pytest.raises(ChecksumError, match=f"expected {real}, got {digest}"):
        load_movielens("100k", data_home=home)
    assert not list((home / "movielens").iterdir())            # nothing half-written is kept


def test_load_movielens_local_zip(local_url, tmp_path):
    zip_path, _ = local_url
    _check_ml100k(load_movielens("100k", path=zip_path))
    with pytest.raises(ChecksumError, match="SHA-256 mismatch"):
        load_movielens("1m", path=zip_path)                      # another variant's digest


def test_load_movielens_offline_without_cache(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not cached in .*download=True.*ml-1m\.zip"):
        load_movielens("1m", data_home=tmp_path, download=False)


@pytest.mark.parametrize("variant", ["1m", "10m"])
def test_load_movielens_parses_double_colon_format(tmp_path, variant):
    folder = tmp_path / datasets._MOVIELENS[variant].folder
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3.5::978302109\n"
                                        "7::1193::4::978301968\n")
    r = load_movielens(variant, path=tmp_path)
    assert r.shape == (2, 2) and r.user_ids.tolist() == [1, 7]
    assert r.item_ids.tolist() == [661, 1193]
    assert sorted(r.values.tolist()) == [3.5, 4.0, 5.0]
    assert sorted(r.timestamps.tolist()) == [978300760, 978301968, 978302109]


@pytest.mark.parametrize("pandas_available", [True, False])
def test_load_movielens_parses_csv_with_and_without_pandas(tmp_path, monkeypatch,
                                                           pandas_available):
    if not pandas_available:
        monkeypatch.setitem(sys.modules, "pandas", None)         # import pandas -> ImportError
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n"
                                          "1,296,5.0,1147880044\n1,306,3.5,1147868817\n"
                                          "3,296,0.5,1147868828\n")
    for variant in ("20m", "25m", "latest-small"):
        r = load_movielens(variant, path=tmp_path)
        assert r.nnz == 3 and r.user_ids.tolist() == [1, 3] and r.item_ids.tolist() == [296, 306]
        assert r.values.tolist() == [5.0, 3.5, 0.5]   # sorted by (user, item) = file order
        assert r.timestamps.tolist() == [1147880044, 1147868817, 1147868828]


def test_load_movielens_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"variant must be one of '100k', '1m', '10m', '20m', "
                                         r"'25m', 'latest-small', got '5m'"):
        load_movielens("5m")
    with pytest.raises(TypeError, match="download must be True or False"):
        load_movielens("100k", data_home=tmp_path, download="no")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_movielens("100k", path=tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no MovieLens 1m ratings file"):
        load_movielens("1m", path=tmp_path)
    (tmp_path / "notes.txt").write_text("not a zip")
    with pytest.raises(ValueError, match="neither a folder nor a zip"):
        load_movielens("1m", path=tmp_path / "notes.txt")


def test_no_network_module_at_import():
    assert "urllib" not in vars(datasets) and "request" not in vars(datasets)


def test_selection_makes_the_observed_pairs_depend_on_the_preferences():
    plain, truth = make_ratings(400, 300, 6000, random_state=3, return_truth=True)
    picked, truth2 = make_ratings(400, 300, 6000, selection=2.0, random_state=3,
                                  return_truth=True)
    assert picked.nnz == 6000 and len(np.unique(picked.users * 300 + picked.items)) == 6000

    def affinity(r, t):
        return (t["user_bias"][r.users] + t["item_bias"][r.items]
                + np.einsum("nk,nk->n", t["user_factors"][r.users], t["item_factors"][r.items]))

    # chosen pairs are the ones users like: their noiseless ratings are well above the
    # unselected sample's (same planted model: the same seed draws the same factors)
    np.testing.assert_array_equal(truth["user_factors"], truth2["user_factors"])
    assert affinity(picked, truth2).mean() > affinity(plain, truth).mean() + 0.3
    assert picked.values.mean() > plain.values.mean() + 0.3
    with pytest.raises(ValueError, match="selection must be >= 0"):
        make_ratings(10, 10, 20, selection=-1.0)

"""Names instead of IDs: the movies table of every MovieLens layout, offline."""

import dataclasses
import hashlib
import zipfile

import pytest

from fastmf import datasets
from fastmf.datasets import load_movielens

pd = pytest.importorskip("pandas")


def test_ml100k_titles_and_genres(ml100k_dir):
    r, items = load_movielens("100k", path=ml100k_dir, return_items=True)
    assert items.shape == (1682, 2) and items.index.name == "item"
    assert list(items.columns) == ["title", "genres"]
    assert set(r.item_ids.tolist()) <= set(items.index)
    assert items.loc[1].tolist() == ["Toy Story (1995)", "Animation|Children's|Comedy"]
    assert items.loc[2, "genres"] == "Action|Adventure|Thriller"
    # the genre names in column order are u.genre's, and every movie has one
    genre_file = [ln.split("|")[0] for ln in (ml100k_dir / "u.genre").read_text().splitlines()
                  if ln.strip()]
    assert list(datasets._GENRES_100K) == genre_file
    assert (items["genres"] != "").all()
    assert items["title"].str.contains("Copycat (1995)", regex=False).sum() == 1
    # a Latin-1 title decodes to the right character
    assert items["title"].str.contains("\u00e9").any()


def test_ml100k_titles_from_a_zip(ml100k_dir, tmp_path, monkeypatch):
    dest = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name in ("u.data", "u.item"):
            zf.write(ml100k_dir / name, f"ml-100k/{name}")
    spec = dataclasses.replace(datasets._MOVIELENS["100k"],
                               sha256=hashlib.sha256(dest.read_bytes()).hexdigest())
    monkeypatch.setitem(datasets._MOVIELENS, "100k", spec)
    r, items = load_movielens("100k", path=dest, return_items=True)
    assert r.nnz == 100_000
    assert items.loc[1682, "title"] == "Scream of Stone (Schrei aus Stein) (1991)"


@pytest.mark.parametrize("variant, encoding", [("1m", "latin-1"), ("10m", "utf-8")])
def test_movies_dat(tmp_path, variant, encoding):
    folder = tmp_path / datasets._MOVIELENS[variant].folder
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::1193::5::978300760\n7::661::3::978302109\n")
    (folder / "movies.dat").write_bytes(
        "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
        "3::Mis\u00e9rables, Les (1995)::(no genres listed)\n".encode(encoding))
    r, items = load_movielens(variant, path=tmp_path, return_items=True)
    assert items.index.tolist() == [3, 661, 1193]
    assert items.loc[r.item_ids, "title"].tolist() == [
        "James and the Giant Peach (1996)", "One Flew Over the Cuckoo's Nest (1975)"]
    assert items.loc[3].tolist() == ["Mis\u00e9rables, Les (1995)", ""]


def test_movies_csv_with_quoted_commas(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,11,4.0,1\n")
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\n11,"American President, The (1995)",Comedy|Drama|Romance\n'
        "12,Dracula: Dead and Loving It (1995),Comedy|Horror\n\n")
    for variant in ("20m", "25m", "latest-small"):
        r, items = load_movielens(variant, path=tmp_path, return_items=True)
        assert items.loc[11].tolist() == ["American President, The (1995)",
                                          "Comedy|Drama|Romance"]
        assert len(items) == 2 and r.nnz == 1


def test_items_errors_name_the_file_and_line(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,11,4.0,1\n")
    with pytest.raises(FileNotFoundError, match=r"no movie titles: .*movies\.csv does not "
                                                r"exist"):
        load_movielens("latest-small", path=tmp_path, return_items=True)
    assert load_movielens("latest-small", path=tmp_path).nnz == 1  # titles not needed
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n11,Heat (1995)\n")
    with pytest.raises(ValueError, match=r"movies\.csv, line 2: not a movie row"):
        load_movielens("latest-small", path=tmp_path, return_items=True)
    with pytest.raises(TypeError, match="return_items must be True or False"):
        load_movielens("latest-small", path=tmp_path, return_items="yes")

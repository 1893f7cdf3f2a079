import re

import numpy as np
import pytest

from fastmf.cli import main, read_csv
from fastmf.datasets import make_ratings


def test_demo_beats_its_baselines(capsys):
    # the demo's synthetic data: users pick items they like, so which items a user rated
    # carries the signal a ranking model learns; on seeds 0-3 of this size the RMSE ratio
    # to the global mean was 0.86-0.92 and the ranking model's P@10 1.35-1.45x popularity's
    assert main(["demo", "--users", "400", "--items", "200", "--ratings", "12000",
                 "--factors", "4", "--iters", "6", "--quiet"]) == 0
    out = capsys.readouterr().out
    rmse = float(re.search(r"test RMSE\s+([\d.]+)", out).group(1))
    base = float(re.search(r"RMSE of the global mean\s+([\d.]+)", out).group(1))
    assert rmse < 0.97 * base
    assert "top-5 of the ranking model" in out
    prec = {name: float(p) for name, p in
            re.findall(r"^  (popularity|ranking model|rating model)\b.*?([\d.]+) +[\d.]+$", out,
                       re.M)}
    assert set(prec) == {"popularity", "ranking model", "rating model"}
    assert prec["ranking model"] > 1.1 * prec["popularity"]
    ratings = [float(r) for r in re.findall(r"\((\d+\.\d+)\)", out.split("top-5")[1])]
    assert len(ratings) == 15 and min(ratings) >= 1 and max(ratings) <= 5  # clipped


def test_demo_on_movielens_folder(ml100k_dir, capsys):
    assert main(["demo", "--data", "ml-100k", "--path", str(ml100k_dir), "--factors", "8",
                 "--iters", "5", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "943 users x 1,682 items, 100,000 ratings" in out
    assert float(re.search(r"test RMSE\s+([\d.]+)", out).group(1)) < 0.97


def write_csv(path, ratings, header=True):
    with open(path, "w") as f:
        if header:
            f.write("user,item,rating\n")
        for u, i, r in zip(ratings.users, ratings.items, ratings.values, strict=True):
            f.write(f"user{u},item{i},{r}\n")


def test_fit_evaluate_recommend_round_trip(tmp_path, capsys):
    data = make_ratings(80, 50, 1500, random_state=0)
    csv_path, model_path = tmp_path / "r.csv", tmp_path / "m.npz"
    write_csv(csv_path, data)
    assert read_csv(csv_path).nnz == data.nnz
    assert main(["fit", str(csv_path), "-o", str(model_path), "--factors", "3", "--iters", "3",
                 "--quiet"]) == 0
    assert main(["evaluate", str(model_path), str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert float(re.search(r"RMSE ([\d.]+)", out).group(1)) < 1.0
    assert main(["recommend", str(model_path), "user0", "user7", "-n", "3", "--exclude",
                 str(csv_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["user0", "user7"]
    seen = {f"item{i}" for i in data.items[data.users == 0]}
    recs = re.findall(r"(item\d+) \(", lines[0])
    assert len(recs) == 3 and not seen & set(recs)


def test_errors_exit_with_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("u,i\nann,x\n")
    assert main(["fit", str(bad), "-o", str(tmp_path / "m.npz")]) == 1
    assert "every row must have 3 or 4 fields" in capsys.readouterr().err
    nan = tmp_path / "nan.csv"
    nan.write_text("u,i,rating\nx,y,nan\n")
    assert main(["fit", str(nan), "-o", str(tmp_path / "m.npz")]) == 1
    assert "values must be finite" in capsys.readouterr().err
    assert main(["demo", "--data", "ml-7k", "--quiet"]) == 1
    assert "variant" in capsys.readouterr().err


def test_unknown_user_in_recommend(tmp_path, capsys):
    data = make_ratings(30, 20, 300, random_state=0)
    csv_path, model_path = tmp_path / "r.csv", tmp_path / "m.npz"
    write_csv(csv_path, data, header=False)
    assert main(["fit", str(csv_path), "-o", str(model_path), "--factors", "2", "--iters", "1",
                 "--quiet"]) == 0
    assert main(["recommend", str(model_path), "nobody"]) == 1
    assert "unknown user ID 'nobody'" in capsys.readouterr().err
    np.testing.assert_equal(main(["evaluate", str(model_path), str(csv_path)]), 0)


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    with pytest.raises(SystemExit):
        main(["--version"])


def test_demo_saves_a_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "demo.png"
    assert main(["demo", "--users", "200", "--items", "100", "--ratings", "4000", "--factors",
                 "3", "--iters", "3", "--quiet", "--plot", str(png)]) == 0
    assert f"wrote {png}" in capsys.readouterr().out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["demo", "--quiet", "--plot", str(tmp_path / "no" / "dir.png")]) == 1
    assert "--plot" in capsys.readouterr().err


def test_demo_prints_movielens_titles(ml100k_dir, capsys):
    pytest.importorskip("pandas")
    assert main(["demo", "--data", "ml-100k", "--path", str(ml100k_dir), "--factors", "4",
                 "--iters", "2", "--quiet"]) == 0
    top = capsys.readouterr().out.split("top-5 of the ranking model (titles;")[1]
    assert len(re.findall(r"\(\d{4}\) \(\d\.\d\d\)", top)) == 15  # "Title (1995) (4.21)"


def test_recommend_prints_titles(tmp_path, capsys):
    data = make_ratings(40, 25, 500, random_state=0)
    csv_path, model_path, titles = tmp_path / "r.csv", tmp_path / "m.npz", tmp_path / "t.csv"
    write_csv(csv_path, data)
    titles.write_text("item,title\n" + "".join(f"item{i},Film {i}\n" for i in range(25)))
    assert main(["fit", str(csv_path), "-o", str(model_path), "--factors", "2", "--iters", "2",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["recommend", str(model_path), "user3", "-n", "4", "--items", str(titles)]) == 0
    line = capsys.readouterr().out.strip()
    assert len(re.findall(r"Film \d+ \(-?\d+\.\d{3}\)", line)) == 4 and "item" not in line

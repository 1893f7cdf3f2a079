"""fastmf bench: the method (one process per job), its rows, the CLI and its errors.

Nothing here needs a peer library: peers are replaced by a module that is not installed or
by fake runners written to a temporary folder.
"""

import json
import re
import sys

import numpy as np
import pytest

import fastmf
from fastmf.bench import (
    PEERS,
    Job,
    Peer,
    load_data,
    positives,
    read_json,
    run_benchmark,
    run_jobs,
    save_split,
    split,
)
from fastmf.cli import main

DATA = "synthetic:300x200x6000"


@pytest.fixture(scope="module")
def split_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "split.npz"
    save_split(path, *split(load_data(DATA)))
    return str(path)


def test_fastmf_row_and_missing_peer_row(monkeypatch):
    monkeypatch.setitem(PEERS, "cmfrec", Peer("cmfrec", "fastmf_test_no_such_module"))
    res = run_benchmark(DATA, models="als", peers="cmfrec", repeats=2, factors=4, iters=5,
                        threads=1, progress=False)
    ours, peer = res["rows"]
    assert (ours["model"], ours["library"], ours["status"]) == ("als", "fastmf", "ok")
    assert len(ours["all_seconds"]) == 2 and ours["seconds"] == np.median(ours["all_seconds"])
    assert ours["iters"] == 5 and ours["s_per_iter"] == pytest.approx(ours["seconds"] / 5)
    assert ours["ratio"] == 1.0
    train, test = split(load_data(DATA))
    baseline = np.sqrt(np.mean((test.values - train.values.mean()) ** 2))
    assert ours["metrics"]["rmse"] < baseline  # the fitted model, evaluated on the test split
    if sys.platform.startswith("linux"):
        assert ours["peak_mb"] >= ours["base_mb"] > 0
    assert peer["status"] == "missing" and "fastmf_test_no_such_module" in peer["error"]
    assert res["meta"]["data"] == {"name": DATA, "users": 300, "items": 200, "ratings": 6000,
                                   "train": 5400, "test": 600}
    json.dumps(res)  # what -o writes


FAKE = '''
import os, time

def raises(case, train, test, threads):
    def fit():
        raise RuntimeError("the peer broke\\non two lines")
    return fit, lambda m: {}

def aborts(case, train, test, threads):
    return (lambda: os._exit(3)), (lambda m: {})

def sleeps(case, train, test, threads):
    return (lambda: time.sleep(60)), (lambda m: {})

def not_there(case, train, test, threads):
    import fastmf_test_absent_library  # noqa: F401

def works(case, train, test, threads):
    return (lambda: train.nnz), (lambda n: {"rmse": float(n), "iters": 7})
'''


def test_crashing_peers_become_rows(tmp_path, split_file):
    (tmp_path / "fake_peer.py").write_text(FAKE)
    jobs = [Job("m", name, f"fake_peer:{name}", split_file, sys_path=(str(tmp_path),),
                warmup=False)
            for name in ("raises", "aborts", "sleeps", "not_there", "works")]
    jobs.append(Job("m", "absent", "fake_peer:works", split_file, requires=("fastmf_nope",)))
    rows = {r["label"]: r for r in run_jobs(jobs, threads=1, repeats=1, timeout=15,
                                            progress=False)}
    assert rows["raises"]["status"] == "error"
    assert rows["raises"]["error"] == "RuntimeError: the peer broke on two lines"
    assert rows["aborts"]["status"] == "error" and "exit 3" in rows["aborts"]["error"]
    assert rows["sleeps"]["status"] == "timeout" and "15 s" in rows["sleeps"]["error"]
    assert rows["not_there"]["status"] == "missing"
    assert "fastmf_test_absent_library" in rows["not_there"]["error"]
    assert rows["works"]["status"] == "ok" and rows["works"]["metrics"] == {"rmse": 5400.0,
                                                                            "iters": 7}
    assert rows["absent"] == {"group": "m", "label": "absent", "status": "missing",
                              "error": "not installed (fastmf_nope)"}


def test_cli_writes_table_json_markdown_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, md, png = tmp_path / "r.json", tmp_path / "r.md", tmp_path / "r.png"
    assert main(["bench", "--data", DATA, "--models", "ials", "--peers", "none", "--threads",
                 "1", "--repeats", "1", "--factors", "4", "--iters", "3", "--quiet", "-o",
                 str(out), "--markdown", str(md), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"^ials +fastmf +[\d.]+ +[\d.]+ +0\.\d{4} +0\.\d{4} ", text, re.M)
    res = read_json(out)
    assert res["meta"]["command"].startswith("fastmf bench --data synthetic:300x200x6000")
    assert sorted(res["rows"][0]["metrics"]) == ["ndcg@10", "p@10"]
    assert "| ials | fastmf |" in md.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--models", "als,nope"], r"unknown model 'nope'; choose from als, sgd"),
    (["--peers", "surprize"], r"unknown peer 'surprize'; choose from implicit"),
    (["--threads", "0"], r"--threads must be >= 1, got 0"),
    (["--threads", "two"], r"--threads must be an integer, got 'two'"),
    (["--data", "synthetic:10x10"], r"write synthetic:USERSxITEMSxNNZ"),
    (["--data", "no/such/file.csv"], r"'no/such/file.csv' is not a file"),
    (["--bogus-flag"], r"unrecognized arguments: --bogus-flag"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, message, capsys):
    argv = ["bench", "--quiet", *args] + ([] if "--data" in args else ["--data", DATA])
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_cli_unparsable_file_names_the_line(tmp_path, capsys):
    bad = tmp_path / "ratings.csv"
    bad.write_text("user,item,rating\nann,x,4\nbob,y,5\ncid,x,lots\n")
    assert main(["bench", "--data", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"fastmf bench: error: {bad}, line 4: the rating 'lots' is not a "
                           "number")
    bad.write_text("ann,x,4\nbob,y\n")
    assert main(["bench", "--data", str(bad), "--quiet"]) == 2
    assert "line 2: every row must have 3 or 4 fields" in capsys.readouterr().err


def test_cli_unwritable_output_fails_before_running(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    for flag in ("-o", "--markdown", "--plot"):
        target = str(blocker / "out")  # a path below a plain file
        assert main(["bench", "--data", DATA, "--quiet", flag, target]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"fastmf bench: error: {flag} {target}: cannot write there")
    assert main(["bench", "--data", DATA, "--quiet", "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_positives_and_split_file(tmp_path):
    r = fastmf.Ratings([0, 0, 1, 2], [0, 1, 1, 2], [5.0, 3.0, 4.0, 1.0])
    X = positives(r)
    assert X.shape == (3, 3) and X.nnz == 2 and X.dtype == np.float32
    ones = fastmf.Ratings([0, 1], [1, 0])  # implicit data: every entry is a positive
    assert positives(ones).nnz == 2
    train, test = split(load_data(DATA), seed=3)
    save_split(tmp_path / "s.npz", train, test)
    from fastmf.bench import load_split

    train2, test2 = load_split(tmp_path / "s.npz")
    assert train2.shape == train.shape and (train2.csr != train.csr).nnz == 0
    np.testing.assert_array_equal(test2.values, test.values)

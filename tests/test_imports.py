"""``import fastmf`` is cheap: the public names are imported on first use (PEP 562)."""

import subprocess
import sys

import pytest

import fastmf


def run_python(code):
    """Run ``code`` in a fresh interpreter and return its stdout (it must succeed)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_loads_no_heavy_dependency():
    out = run_python(
        "import sys, fastmf\n"
        "heavy = ['numpy', 'scipy', 'numba', 'sklearn', 'pandas', 'tqdm']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n")
    assert out.strip() == "[]"


def test_a_fit_without_verbose_loads_no_progress_bar():
    out = run_python(
        "import sys, fastmf\n"
        "data = fastmf.datasets.make_ratings(30, 20, 200, random_state=0)\n"
        "fastmf.MatrixFactorization(n_factors=2, n_iter=2, random_state=0).fit(data)\n"
        "print('tqdm' in sys.modules)\n")
    assert out.strip() == "False"


@pytest.mark.parametrize("name", fastmf.__all__)
def test_every_public_name_resolves(name):
    value = getattr(fastmf, name)
    assert name in dir(fastmf)
    namespace = {}
    exec(f"from fastmf import {name}", namespace)
    assert namespace[name] is value


def test_submodules_are_attributes_without_importing_them_first():
    out = run_python("import fastmf\nprint(fastmf.fm_features.FMEncoder.__name__)\n")
    assert out.strip() == "FMEncoder"


def test_unknown_names_raise():
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        fastmf.nope  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'nope'"):
        exec("from fastmf import nope", {})


@pytest.mark.filterwarnings("ignore:NMF stopped at max_iter")
def test_load_imports_the_class_of_the_saved_model(tmp_path):
    # the saving process defined NMF; a fresh one that never touched fastmf.NMF loads it
    path = tmp_path / "nmf.npz"
    model = fastmf.NMF(n_factors=2, n_iter=3, random_state=0).fit(
        fastmf.datasets.make_counts(20, 10, random_state=0))
    model.save(path)
    out = run_python(f"import fastmf\nprint(type(fastmf.load({str(path)!r})).__name__)\n")
    assert out.strip() == "NMF"

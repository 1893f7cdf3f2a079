"""docs/api.rst lists every public name: each name in the ``__all__`` of a public module.

The check reads api.rst as text (no Sphinx needed). It is skipped where the source tree's
docs/ is absent (the suite of an installed wheel runs on a copy of tests/ only).
"""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import fastmf

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def documented_names(text):
    """The fully qualified names that an API page's reST text documents.

    The entries of ``.. autosummary::`` blocks, and the targets of ``.. data::``,
    ``.. autoclass::``, ``.. autofunction::`` and ``.. automodule::``, each under the
    ``.. currentmodule::`` in force (a target that names a module of its own is kept as is).
    """
    names, module, in_summary = set(), "", False
    for line in text.splitlines():
        directive = re.match(r"\.\.\s+([\w:-]+)::\s*(\S*)", line)
        if directive:
            kind, target = directive.groups()
            in_summary = kind == "autosummary"
            if kind in ("currentmodule", "module", "py:module"):
                module = target
            elif kind in ("data", "py:data", "autoclass", "autofunction", "autodata",
                          "automodule"):
                names.add(_qualify(target, module))
        elif in_summary and line.strip() and not line.startswith((" ", "\t")):
            in_summary = False              # the block ended
        elif in_summary and line.strip() and not line.strip().startswith(":"):
            names.add(_qualify(line.strip(), module))
    return names


def _qualify(name, module):
    if not module or name == module or name.startswith(module.split(".")[0] + "."):
        return name
    return f"{module}.{name}"


def public_modules():
    """fastmf and every submodule without a leading underscore in its path."""
    yield fastmf
    for info in pkgutil.walk_packages(fastmf.__path__, "fastmf."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def resolve(name):
    """The object a dotted name refers to (the longest importable module, then attributes)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(name)


def undocumented(documented):
    """``module.name`` for each name in a public module's ``__all__`` that the page misses.

    A name counts as documented when its own dotted name is listed, when it is a class or
    function listed under another public name (``fastmf.base.load`` is ``fastmf.load``), or,
    for a module, when something inside it is listed.
    """
    objects = set()
    for name in documented:
        try:
            objects.add(id(resolve(name)))
        except (ImportError, AttributeError):
            pass                            # test_api_page_names_only_existing_objects
    missing = []
    for module in public_modules():
        for name in getattr(module, "__all__", ()):
            full, obj = f"{module.__name__}.{name}", getattr(module, name)
            if inspect.ismodule(obj):
                found = any(d.startswith(obj.__name__ + ".") for d in documented)
            else:
                found = full in documented or (
                    (inspect.isclass(obj) or inspect.isroutine(obj)) and id(obj) in objects)
            if not found:
                missing.append(full)
    return missing


def test_documented_names_reads_summaries_and_directives():
    text = """
Title
=====

.. currentmodule:: fastmf

.. autosummary::
   :toctree: generated/

   Ratings
   datasets.load_movielens

Not a name
----------

   indented prose after the block is not an entry

.. data:: fastmf.bench.MODELS

   Prose under a directive.

.. currentmodule:: fastmf.dask

.. autoclass:: DaskImplicitALS
"""
    assert documented_names(text) == {"fastmf.Ratings", "fastmf.datasets.load_movielens",
                                      "fastmf.bench.MODELS", "fastmf.dask.DaskImplicitALS"}


def test_undocumented_finds_a_missing_name_and_accepts_aliases():
    documented = {"fastmf.load", "fastmf.datasets.make_ratings"}
    missing = undocumented(documented)
    assert "fastmf.base.load" not in missing            # the same function as fastmf.load
    assert "fastmf.datasets" not in missing             # something inside it is listed
    assert "fastmf.NCF" in missing
    assert "fastmf.datasets.make_counts" in missing
    assert "fastmf.metrics" in missing


def _api_text():
    if not API_RST.is_file():
        pytest.skip("docs/api.rst is not here (tests run outside the source tree)")
    return API_RST.read_text(encoding="utf-8")


def test_api_page_lists_every_public_name():
    missing = undocumented(documented_names(_api_text()))
    assert not missing, f"docs/api.rst does not list: {', '.join(missing)}"


def test_api_page_names_only_existing_objects():
    broken = []
    for name in sorted(documented_names(_api_text())):
        try:
            resolve(name)
        except (ImportError, AttributeError):
            broken.append(name)
    assert not broken, f"docs/api.rst lists names that do not exist: {', '.join(broken)}"

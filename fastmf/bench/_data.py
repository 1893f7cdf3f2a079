"""The data of a benchmark: parse ``--data``, load it, split it once, hand the split to workers."""

import re
from os import PathLike
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._csv import read_ratings_csv
from .._ratings import Ratings
from ..datasets import load_movielens, make_ratings
from ..model_selection import train_test_split

MOVIELENS = ("ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-latest-small")
_SYNTHETIC = re.compile(r"synthetic:(\d[\d_]*)x(\d[\d_]*)x(\d[\d_]*)")


def load_data(spec: str, *, path: str | PathLike | None = None, seed: int = 0,
              sep: str = ",") -> Ratings:
    """The ratings named by a ``--data`` value.

    Parameters
    ----------
    spec : str
        ``"ml-100k"``, ``"ml-1m"`` (or another MovieLens variant, see
        :func:`fastmf.datasets.load_movielens`), ``"synthetic:USERSxITEMSxNNZ"`` (planted
        low-rank ratings, :func:`fastmf.datasets.make_ratings`), or the path of a
        ``user,item,rating[,timestamp]`` CSV file.
    path : str or path-like, optional
        For MovieLens: a local folder or zip to read instead of the download cache.
    seed : int, default=0
        Seed of the synthetic data.
    sep : str, default=","
        Field separator of a CSV file.

    Returns
    -------
    Ratings

    Raises
    ------
    ValueError
        A malformed ``synthetic:`` spec, or a CSV file that cannot be parsed (the error names
        the line).
    FileNotFoundError
        A path that does not exist.

    Examples
    --------
    >>> from fastmf.bench import load_data
    >>> load_data("synthetic:300x200x5000").shape
    (300, 200)
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"--data must be a name or a path, got {spec!r}")
    if spec in MOVIELENS:
        return load_movielens(spec[3:], path=path)
    if spec.startswith("synthetic"):
        m = _SYNTHETIC.fullmatch(spec)
        if m is None:
            raise ValueError(f"--data {spec!r}: write synthetic:USERSxITEMSxNNZ, e.g. "
                             "synthetic:6040x3706x1000209")
        n_users, n_items, nnz = (int(g.replace("_", "")) for g in m.groups())
        if min(n_users, n_items, nnz) < 1 or nnz > n_users * n_items:
            raise ValueError(f"--data {spec!r}: need USERS, ITEMS, NNZ >= 1 and NNZ <= "
                             "USERS x ITEMS")
        return make_ratings(n_users, n_items, nnz, random_state=seed)
    file = Path(spec).expanduser()
    if not file.is_file():
        hint = ", ".join(MOVIELENS[:2]) + ", synthetic:USERSxITEMSxNNZ or a CSV file"
        raise FileNotFoundError(f"--data {spec!r} is not a file; expected {hint}")
    return read_ratings_csv(file, sep)


def split(ratings: Ratings, *, test_size: float = 0.1, seed: int = 0) -> tuple[Ratings, Ratings]:
    """The benchmark's train/test split: ``test_size`` of the entries at random, ``seed``.

    Examples
    --------
    >>> from fastmf.bench import load_data, split
    >>> train, test = split(load_data("synthetic:300x200x5000"))
    >>> train.nnz, test.nnz
    (4500, 500)
    """
    train, test = train_test_split(ratings, test_size=test_size, random_state=seed)
    return train, test


def save_split(file: str | PathLike, train: Ratings, test: Ratings) -> None:
    """Write a split to an ``.npz`` file for the worker processes (indices and values only).

    Examples
    --------
    >>> import tempfile
    >>> from fastmf.bench import load_data, load_split, save_split, split
    >>> path = tempfile.mkdtemp() + "/split.npz"
    >>> save_split(path, *split(load_data("synthetic:300x200x5000")))
    >>> [r.nnz for r in load_split(path)]
    [4500, 500]
    """
    np.savez(file, shape=np.array(train.shape), train_users=train.users,
             train_items=train.items, train_values=train.values, test_users=test.users,
             test_items=test.items, test_values=test.values)


def load_split(file: str | PathLike) -> tuple[Ratings, Ratings]:
    """Read a split written by :func:`save_split` (see its example)."""
    with np.load(file) as z:
        n_users, n_items = (int(n) for n in z["shape"])
        return tuple(Ratings(z[f"{s}_users"], z[f"{s}_items"], z[f"{s}_values"],
                             n_users=n_users, n_items=n_items) for s in ("train", "test"))


def positives(ratings: Ratings, threshold: float = 4.0) -> sp.csr_matrix:
    """The entries rated at least ``threshold`` as a binary users x items float32 CSR matrix.

    Data whose values are all equal (implicit feedback) keeps every entry. Ranking models are
    fitted and scored on these positives.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.bench import positives
    >>> r = fastmf.Ratings([0, 0, 1], [0, 1, 1], [5.0, 2.0, 4.0])
    >>> positives(r).toarray()
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    X = ratings.csr.copy()
    if X.data.min() == X.data.max():
        X.data = np.ones_like(X.data)
    else:
        X.data = (X.data >= threshold).astype(X.data.dtype)
        X.eliminate_zeros()
    return sp.csr_matrix(X, dtype=np.float32)

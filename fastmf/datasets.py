"""Data sets: planted synthetic ratings and counts, and the MovieLens loader.

``make_ratings`` and ``make_counts`` generate data with known structure (the package's embedded
default data, used by ``fastmf demo`` and by the tests); ``load_movielens`` downloads, verifies
(SHA-256), caches and parses the GroupLens MovieLens releases. fastmf does not ship MovieLens.
"""

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._ratings import Ratings
from ._validation import check_float_param, check_int_param, check_random_state

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["make_ratings", "make_counts", "load_movielens", "get_data_home", "ChecksumError"]

# Pair sampling: above this fraction of observed cells every cell gets a key (at most 4 per
# rating); below it only the cells that can win do. Heavy cells are those with
# tau p_u q_i > _HEAVY, listed one by one (see _cells_below).
_DENSE_SAMPLING = 0.25
_HEAVY = 3.0
_EPOCH_2000 = 946_684_800  # synthetic timestamps start on 2000-01-01 (Unix seconds)
_THREE_YEARS = 3 * 365 * 86_400


# ---------------------------------------------------------------------------- synthetic data
def make_ratings(n_users: int = 1000, n_items: int = 500, n_ratings: int = 20000,
                 rank: int = 8, noise: float = 0.3, *, signal: float = 0.8,
                 global_mean: float = 3.5, bias_scale: float = 0.4,
                 popularity_exponent: float = 0.8, activity_exponent: float = 0.5,
                 selection: float = 0.0, discrete: bool = True,
                 random_state: int | np.random.Generator | None = 0,
                 return_truth: bool = False) -> Ratings | tuple[Ratings, dict[str, Any]]:
    r"""Synthetic explicit ratings from a planted low-rank model with biases.

    .. math::

        r_{ui} = \operatorname{clip}_{[1, 5]}\big(\mu + b_u + c_i + w_u^\top h_i
                 + \varepsilon_{ui}\big),
        \qquad \varepsilon_{ui} \sim \mathcal N(0, \mathrm{noise}^2),

    rounded to whole stars when ``discrete=True``. The entries of W and H are i.i.d.
    :math:`\mathcal N(0, \mathrm{signal} / \sqrt{\mathrm{rank}})`, so the low-rank term has
    standard deviation ``signal``; :math:`b_u, c_i \sim \mathcal N(0, \mathrm{bias\_scale}^2)`.

    Which pairs are observed follows power laws like real rating data: user ``u`` and item ``i``
    get Zipf weights :math:`p_u \propto \mathrm{rank}(u)^{-\mathrm{activity\_exponent}}`,
    :math:`q_i \propto \mathrm{rank}(i)^{-\mathrm{popularity\_exponent}}` (ranks in a random
    order), and ``n_ratings`` distinct pairs are drawn without replacement with probability
    :math:`\propto p_u q_i`. First every user gets one item and every item not yet drawn one
    user, so no row or column is empty (when ``n_ratings >= n_users + n_items``; with fewer
    ratings as many as fit). Memory and time are O(n_ratings + n_users + n_items): no dense
    users x items matrix is built (above 25 % density the candidates are all cells, at most
    4 x n_ratings of them). ML-1M scale (6,040 x 3,706, 10^6 ratings) takes about a second.

    Parameters
    ----------
    n_users, n_items : int, default=1000, 500
        Shape of the ratings matrix.
    n_ratings : int, default=20000
        Number of observed (user, item) pairs, at most ``n_users * n_items``.
    rank : int, default=8
        Rank of the planted factors.
    noise : float, default=0.3
        Standard deviation of the Gaussian noise added before clipping and rounding.
    signal : float, default=0.8
        Standard deviation of the low-rank term :math:`w_u^\top h_i`.
    global_mean : float, default=3.5
        :math:`\mu`, the centre of the ratings before clipping.
    bias_scale : float, default=0.4
        Standard deviation of the user and item biases.
    popularity_exponent, activity_exponent : float, default=0.8, 0.5
        Zipf exponents of item popularity and user activity; 0 gives uniform sampling.
    selection : float, default=0.0
        How much users pick what they like (ratings missing not at random, as in real rating
        data). With ``selection > 0``, ``4 * n_ratings`` candidate pairs are drawn as above
        and ``n_ratings`` of them kept without replacement with weights
        :math:`\exp(\mathrm{selection} \cdot z_{ui})`, :math:`z_{ui}` the standardised
        noiseless rating; a user may then be left without ratings. With 0, which pairs are
        observed says nothing about the ratings, so no top-N model beats item popularity
        by much.
    discrete : bool, default=True
        Round to whole stars 1..5; otherwise keep the clipped real values.
    random_state : int, numpy Generator or None, default=0
        Seed; the same seed gives the same data.
    return_truth : bool, default=False
        Also return the planted model.

    Returns
    -------
    ratings : Ratings
        ``n_ratings`` entries of shape (n_users, n_items), with synthetic timestamps (Unix
        seconds spread uniformly over 2000-2002) so time-based splits work too.
    truth : dict, only with ``return_truth=True``
        ``user_factors`` of shape (n_users, rank), ``item_factors`` of shape (n_items, rank),
        ``user_bias`` (n_users,), ``item_bias`` (n_items,), ``global_mean``, ``noise``, and the
        sampling weights ``user_activity`` (n_users,) and ``item_popularity`` (n_items,), each
        summing to 1. The noiseless prediction is
        ``global_mean + user_bias[u] + item_bias[i] + user_factors[u] @ item_factors[i]``.

    See Also
    --------
    make_counts : implicit (count) data for ImplicitALS, BPR and Poisson NMF.

    Examples
    --------
    >>> from fastmf.datasets import make_ratings
    >>> r, truth = make_ratings(200, 100, 3000, rank=4, random_state=0, return_truth=True)
    >>> r.shape, r.nnz
    ((200, 100), 3000)
    >>> sorted(set(r.values.tolist()))
    [1.0, 2.0, 3.0, 4.0, 5.0]
    >>> truth["user_factors"].shape, truth["item_factors"].shape
    ((200, 4), (100, 4))
    """
    n_users = check_int_param(n_users, "n_users", low=1)
    n_items = check_int_param(n_items, "n_items", low=1)
    n_ratings = check_int_param(n_ratings, "n_ratings", low=1, high=n_users * n_items)
    rank = check_int_param(rank, "rank", low=1)
    noise = check_float_param(noise, "noise", low=0)
    signal = check_float_param(signal, "signal", low=0)
    global_mean = check_float_param(global_mean, "global_mean")
    bias_scale = check_float_param(bias_scale, "bias_scale", low=0)
    popularity_exponent = check_float_param(popularity_exponent, "popularity_exponent", low=0)
    activity_exponent = check_float_param(activity_exponent, "activity_exponent", low=0)
    selection = check_float_param(selection, "selection", low=0)
    _check_bool(discrete, "discrete")
    _check_bool(return_truth, "return_truth")
    rng = check_random_state(random_state)

    p_user = _zipf_weights(rng, n_users, activity_exponent)
    q_item = _zipf_weights(rng, n_items, popularity_exponent)
    std = np.sqrt(signal / np.sqrt(rank))
    W = rng.normal(0.0, std, size=(n_users, rank))
    H = rng.normal(0.0, std, size=(n_items, rank))
    b = rng.normal(0.0, bias_scale, size=n_users)
    c = rng.normal(0.0, bias_scale, size=n_items)

    if selection > 0:
        codes = _sample_pairs(rng, p_user, q_item, min(4 * n_ratings, n_users * n_items))
        users, items = np.divmod(codes, n_items)
        z = b[users] + c[items] + np.einsum("nk,nk->n", W[users], H[items])
        z = (z - z.mean()) / max(z.std(), 1e-12)
        keys = selection * z + rng.gumbel(size=len(z))  # Gumbel top-k: weighted, no repeats
        codes = np.sort(codes[np.argpartition(-keys, n_ratings - 1)[:n_ratings]])
    else:
        codes = _sample_pairs(rng, p_user, q_item, n_ratings)
    users, items = np.divmod(codes, n_items)
    values = global_mean + b[users] + c[items] + np.einsum("nk,nk->n", W[users], H[items])
    values += rng.normal(0.0, noise, size=n_ratings) if noise > 0 else 0.0
    np.clip(values, 1.0, 5.0, out=values)
    if discrete:
        np.floor(values + 0.5, out=values)
    timestamps = _EPOCH_2000 + rng.integers(0, _THREE_YEARS, size=n_ratings)
    ratings = Ratings(users, items, values, timestamps=timestamps, n_users=n_users,
                      n_items=n_items)
    if not return_truth:
        return ratings
    truth = dict(user_factors=W, item_factors=H, user_bias=b, item_bias=c,
                 global_mean=global_mean, noise=noise, user_activity=p_user,
                 item_popularity=q_item)
    return ratings, truth


def make_counts(n_users: int = 1000, n_items: int = 500, rank: int = 8,
                counts_per_user: float = 30.0, *, shape: float = 0.5,
                popularity_exponent: float = 0.8, activity_exponent: float = 0.5,
                random_state: int | np.random.Generator | None = 0,
                return_truth: bool = False) -> Ratings | tuple[Ratings, dict[str, Any]]:
    r"""Synthetic implicit feedback: Poisson counts from planted non-negative factors.

    .. math::

        X_{ui} \sim \operatorname{Poisson}\big((W H^\top)_{ui}\big),\qquad
        W_{uk} = s\, a_u\, G_{uk},\quad H_{ik} = q_i\, G'_{ik},\quad
        G, G' \sim \operatorname{Gamma}(\mathrm{shape}, 1/\mathrm{shape}),

    where :math:`a_u` (mean 1) and :math:`q_i` (sum 1) are Zipf weights of user activity and
    item popularity, and the scale :math:`s` makes the expected total count per user equal to
    ``counts_per_user``. A small ``shape`` gives sparse, well-separated factors.

    The counts are drawn in O(total count + (n_users + n_items) * rank) without a dense
    matrix, by splitting each cell's Poisson into its ``rank`` latent components: user ``u``
    draws :math:`\operatorname{Poisson}(W_{uk} \sum_i H_{ik})` events in component ``k``, each
    on an item drawn with probability :math:`\propto H_{ik}`; events on the same cell are
    summed. This is exactly the Poisson model above.

    Parameters
    ----------
    n_users, n_items : int, default=1000, 500
        Shape of the count matrix.
    rank : int, default=8
        Number of latent components.
    counts_per_user : float, default=30.0
        Expected sum of one user's counts, averaged over users (> 0). The number of stored
        entries is smaller: repeated events on one cell add up.
    shape : float, default=0.5
        Gamma shape of the factor entries (> 0); smaller is sparser.
    popularity_exponent, activity_exponent : float, default=0.8, 0.5
        Zipf exponents of item popularity and user activity; 0 gives equal weights.
    random_state : int, numpy Generator or None, default=0
        Seed; the same seed gives the same data.
    return_truth : bool, default=False
        Also return the planted factors.

    Returns
    -------
    counts : Ratings
        The positive counts (float values 1, 2, ...) of shape (n_users, n_items); cells never
        drawn are not stored.
    truth : dict, only with ``return_truth=True``
        ``user_factors`` of shape (n_users, rank) and ``item_factors`` of shape
        (n_items, rank), both non-negative, with ``E[X] = user_factors @ item_factors.T``;
        ``user_activity`` (mean 1) and ``item_popularity`` (sum 1).

    Examples
    --------
    >>> from fastmf.datasets import make_counts
    >>> X, truth = make_counts(300, 100, rank=4, random_state=0, return_truth=True)
    >>> X.shape, bool(X.values.min() >= 1), bool((X.values % 1 == 0).all())
    ((300, 100), True, True)
    >>> bool(truth["item_factors"].min() >= 0)
    True
    """
    n_users = check_int_param(n_users, "n_users", low=1)
    n_items = check_int_param(n_items, "n_items", low=1)
    rank = check_int_param(rank, "rank", low=1)
    counts_per_user = check_float_param(counts_per_user, "counts_per_user", low=0, low_open=True)
    shape = check_float_param(shape, "shape", low=0, low_open=True)
    popularity_exponent = check_float_param(popularity_exponent, "popularity_exponent", low=0)
    activity_exponent = check_float_param(activity_exponent, "activity_exponent", low=0)
    _check_bool(return_truth, "return_truth")
    rng = check_random_state(random_state)

    activity = _zipf_weights(rng, n_users, activity_exponent) * n_users
    popularity = _zipf_weights(rng, n_items, popularity_exponent)
    W = activity[:, None] * rng.gamma(shape, 1.0 / shape, size=(n_users, rank))
    H = popularity[:, None] * rng.gamma(shape, 1.0 / shape, size=(n_items, rank))
    item_mass = H.sum(axis=0)                                   # (rank,)
    W *= n_users * counts_per_user / float(W.sum(axis=0) @ item_mass)

    events = rng.poisson(W * item_mass)                         # (n_users, rank) event counts
    users, items = [], []
    for k in range(rank):
        n_k = int(events[:, k].sum())
        if n_k == 0 or item_mass[k] == 0:
            continue
        users.append(np.repeat(np.arange(n_users), events[:, k]))
        cdf = np.cumsum(H[:, k])
        items.append(np.minimum(np.searchsorted(cdf, rng.random(n_k) * cdf[-1], side="right"),
                                n_items - 1))
    if not users:
        raise ValueError(f"no counts were drawn: counts_per_user={counts_per_user} is too small "
                         f"for n_users={n_users}; raise it")
    users, items = np.concatenate(users), np.concatenate(items)
    counts = Ratings(users, items, np.ones(len(users)), n_users=n_users, n_items=n_items,
                     duplicates="sum")
    if not return_truth:
        return counts
    return counts, dict(user_factors=W, item_factors=H, user_activity=activity,
                        item_popularity=popularity)


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def _zipf_weights(rng, n, exponent):
    """Weights proportional to rank^-exponent, the ranks in random order; they sum to 1."""
    w = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    w = w[rng.permutation(n)]
    return w / w.sum()


def _draw(rng, cdf, size):
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


def _sample_pairs(rng, p_user, q_item, n):
    """Draw ``n`` distinct cells ``u * n_items + i`` without replacement, weights p_u q_i.

    The coverage seeds (one item per user, one user per item still empty) come first; the
    rest are the cells with the smallest Efraimidis-Spirakis keys ``E / (p_u q_i)``,
    ``E ~ Exp(1)``, which is weighted sampling without replacement. Keys are drawn only for
    cells that can win (see ``_cells_below``), so the cost is O(n + n_users + n_items).
    """
    n_users, n_items = len(p_user), len(q_item)
    cdf_u, cdf_i = np.cumsum(p_user), np.cumsum(q_item)
    seed_items = _draw(rng, cdf_i, n_users)
    empty = np.ones(n_items, dtype=bool)
    empty[seed_items] = False
    empty = np.flatnonzero(empty)
    seeds = np.concatenate([np.arange(n_users) * n_items + seed_items,
                            _draw(rng, cdf_u, len(empty)) * n_items + empty])
    if len(seeds) >= n:
        return rng.choice(seeds, size=n, replace=False)
    return _weighted_cells(rng, p_user, q_item, n, seeds)


def _weighted_cells(rng, p_user, q_item, n, seeds):
    """The ``seeds`` and the ``n - len(seeds)`` other cells of smallest key."""
    n_users, n_items = len(p_user), len(q_item)
    n_cells = n_users * n_items
    if n > _DENSE_SAMPLING * n_cells:   # dense request: key every cell (<= 4 per rating)
        keys = rng.exponential(size=n_cells) / np.outer(p_user, q_item).ravel()
        keys[seeds] = -1.0
        return np.argpartition(keys, n - 1)[:n]

    su, si = np.argsort(-p_user, kind="stable"), np.argsort(-q_item, kind="stable")
    ps, qs = p_user[su], q_item[si]
    tau = _solve_tau(ps, qs, n + 3.0 * np.sqrt(n) + 0.005 * n + 20.0)
    while True:
        u, i, keys = _cells_below(rng, ps, qs, tau)
        codes = np.concatenate([seeds, su[u] * n_items + si[i]])
        keys = np.concatenate([np.full(len(seeds), -1.0), keys])
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        codes, keys = codes[first], np.minimum.reduceat(keys[order], first)  # smallest key
        if len(codes) >= n:
            return codes[np.argpartition(keys, n - 1)[:n]]
        tau *= 1.25                                        # rare: fewer winners than expected


def _cells_below(rng, ps, qs, tau):
    """Cells whose key falls below ``tau``, with their keys; ``ps``, ``qs`` sorted descending.

    A cell's key is below ``tau`` with probability 1 - exp(-tau p_u q_i). Heavy cells
    (``tau p_u q_i > _HEAVY``, mostly winners) are listed and keyed one by one. The light ones
    are reached as the arrivals of a Poisson process of rate ``tau`` spread over cells in
    proportion to p_u q_i, a cell's key being its first arrival time: that is the same law,
    at O(1) draws per winner. The caller keeps each cell's smallest key.
    """
    n_users, n_items = len(ps), len(qs)
    asc = ps[::-1]
    n_heavy = n_users - np.searchsorted(asc, _HEAVY / (tau * qs), side="right")  # per item
    hi = np.repeat(np.arange(n_items), n_heavy)
    hu = np.arange(len(hi)) - np.repeat(np.cumsum(n_heavy) - n_heavy, n_heavy)
    hkeys = rng.exponential(size=len(hi)) / (ps[hu] * qs[hi])
    win = hkeys < tau

    n_light = n_users - n_heavy
    cum = np.r_[0.0, np.cumsum(asc)]             # mass of the m lightest users: precise tails
    mass = cum[n_light]
    li = np.repeat(np.arange(n_items), rng.poisson(tau * qs * mass))
    a = np.searchsorted(cum, rng.random(len(li)) * mass[li], side="right") - 1
    lu = n_users - 1 - np.clip(a, 0, n_light[li] - 1)
    lkeys = rng.random(len(li)) * tau
    return (np.concatenate([hu[win], lu]), np.concatenate([hi[win], li]),
            np.concatenate([hkeys[win], lkeys]))


def _solve_tau(ps, qs, target):
    """The key threshold where the expected number of winning cells reaches ``target``.

    The expectation sum_ui 1 - exp(-tau p_u q_i) is taken over weights grouped in bins of
    ratio 1.05, so its cost does not grow with n_users x n_items.
    """
    def bins(w):
        b = np.floor(np.log(w) / np.log(1.05)).astype(np.int64)
        _, inv, count = np.unique(b, return_inverse=True, return_counts=True)
        return np.bincount(inv.ravel(), weights=w) / count, count

    (P, nP), (Q, nQ) = bins(ps), bins(qs)
    W, C = np.outer(P, Q), np.outer(nP, nQ)

    def expected(tau):
        return float((C * -np.expm1(-tau * W)).sum())

    lo = hi = float(target)              # expected(t) <= t since the weights sum to 1
    while expected(hi) < target:
        lo, hi = hi, 2.0 * hi
    for _ in range(40):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if expected(mid) < target else (lo, mid)
    return hi


# ---------------------------------------------------------------------------- MovieLens
class ChecksumError(ValueError):
    """A downloaded or local file does not have the expected SHA-256 digest."""


@dataclass(frozen=True)
class _MovieLens:
    url: str
    sha256: str            # of the zip, as published
    folder: str            # top folder inside the zip
    ratings: str           # ratings file inside that folder
    sep: str
    header: bool
    items: str             # movie titles and genres, in the same folder
    ratings_sha256: str | None = None   # of the ratings file itself, where known


_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
# Zip digests: TensorFlow Datasets, tensorflow_datasets/url_checksums/movielens.txt
# (100k, 1m, 20m, 25m, latest-small). 10m is not in TFDS: its SHA-256 is the one recorded by
# independent loaders and data manifests for the 65,566,137-byte zip whose MD5 matches the
# GroupLens ml-10m.zip.md5 sidecar (ce571fd55effeba0271552578f2648bd).
_MOVIELENS = {
    "100k": _MovieLens(
        _GROUPLENS + "ml-100k.zip",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        "ml-100k", "u.data", "\t", False, "u.item",
        ratings_sha256="06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"),
    "1m": _MovieLens(
        _GROUPLENS + "ml-1m.zip",
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        "ml-1m", "ratings.dat", "::", False, "movies.dat"),
    "10m": _MovieLens(
        _GROUPLENS + "ml-10m.zip",
        "813c411ccb6122564edfe752e7f80c4dcc5aa25fa94c93622f6877a7ba252862",
        "ml-10M100K", "ratings.dat", "::", False, "movies.dat"),
    "20m": _MovieLens(
        _GROUPLENS + "ml-20m.zip",
        "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
        "ml-20m", "ratings.csv", ",", True, "movies.csv"),
    "25m": _MovieLens(
        _GROUPLENS + "ml-25m.zip",
        "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
        "ml-25m", "ratings.csv", ",", True, "movies.csv"),
    "latest-small": _MovieLens(
        _GROUPLENS + "ml-latest-small.zip",
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        "ml-latest-small", "ratings.csv", ",", True, "movies.csv"),
}


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder where downloaded data sets are cached, creating it if needed.

    Parameters
    ----------
    data_home : str or path-like, optional
        The folder. Default: the ``FASTMF_DATA`` environment variable, else ``~/fastmf_data``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from fastmf.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     get_data_home(tmp).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get("FASTMF_DATA") or Path("~") / "fastmf_data"
    home = Path(data_home).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def load_movielens(variant: str = "100k", *, data_home: str | os.PathLike | None = None,
                   path: str | os.PathLike | None = None, download: bool = True,
                   return_items: bool = False) -> Ratings | tuple[Ratings, "pd.DataFrame"]:
    """Load a MovieLens ratings data set (GroupLens Research) as a :class:`~fastmf.Ratings`.

    The zip is downloaded once from ``https://files.grouplens.org/datasets/movielens/``,
    checked against its embedded SHA-256, extracted under ``<data_home>/movielens/`` and parsed
    from there on later calls. Users and movies keep their raw MovieLens IDs
    (``ratings.user_ids``, ``ratings.item_ids``); timestamps are Unix seconds.

    ============== ========== ================================= ==================
    variant        ratings    file                              SHA-256 verified
    ============== ========== ================================= ==================
    "100k"         100,000    ``ml-100k/u.data`` (tab)          zip and ``u.data``
    "1m"           1,000,209  ``ml-1m/ratings.dat`` (::)        zip
    "10m"          10,000,054 ``ml-10M100K/ratings.dat`` (::)   zip
    "20m"          20,000,263 ``ml-20m/ratings.csv``            zip
    "25m"          25,000,095 ``ml-25m/ratings.csv``            zip
    "latest-small" 100,836    ``ml-latest-small/ratings.csv``   zip
    ============== ========== ================================= ==================

    The zip digests of 100k, 1m, 20m, 25m and latest-small are those TensorFlow Datasets
    publishes (``url_checksums/movielens.txt``); the 10m digest is not in TFDS and comes from
    independent loaders that record the same 65,566,137-byte zip whose MD5 matches GroupLens's
    own ``ml-10m.zip.md5``. Only for 100k is the digest of the ratings file itself known, so
    only 100k is verified when ``path`` names an extracted folder; the other folders are read
    as they are. GroupLens may regenerate "latest-small"; a new release would fail the check.

    Parameters
    ----------
    variant : {"100k", "1m", "10m", "20m", "25m", "latest-small"}, default="100k"
    data_home : str or path-like, optional
        Cache folder; see :func:`get_data_home`.
    path : str or path-like, optional
        Read a local copy instead of the cache: an extracted folder (the one holding the
        ratings file, or its parent) or the downloaded zip. Nothing is downloaded.
    download : bool, default=True
        Download the zip when it is not cached; with False a missing cache is an error.
    return_items : bool, default=False
        Also return the movies: their titles and genres (needs pandas).

    Returns
    -------
    ratings : Ratings
        Ratings on the 1-5 star scale (half stars from 10m on), with timestamps.
    items : pandas.DataFrame, only with ``return_items=True``
        One row per movie of the release (also movies nobody rated), indexed by the raw
        MovieLens movie ID (``ratings.item_ids``), with columns ``title`` (``"Toy Story
        (1995)"``) and ``genres`` (``"Animation|Children's|Comedy"``; ``""`` for none).
        Read from ``u.item`` (100k: Latin-1, pipe-separated, genre flags), ``movies.dat``
        (1m, 10m: ``::``-separated) or ``movies.csv`` (20m, 25m, latest-small).

    Raises
    ------
    ValueError
        For an unknown variant.
    FileNotFoundError
        When the data is neither cached nor at ``path`` and ``download`` is False.
    ChecksumError
        When the zip or the 100k ratings file does not have the expected digest.

    References
    ----------
    F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and
    Context. ACM TiiS 5(4), 19:1-19:19. https://doi.org/10.1145/2827872 (research use only;
    see each release's README for the terms).

    Examples
    --------
    Offline, from a local folder in the "latest-small" layout:

    >>> import pathlib, tempfile
    >>> from fastmf.datasets import load_movielens
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     csv = pathlib.Path(tmp, "ratings.csv")
    ...     _ = csv.write_text("userId,movieId,rating,timestamp\\n1,31,2.5,1260759144\\n"
    ...                        "2,1029,3.0,1260759179\\n")
    ...     r = load_movielens("latest-small", path=tmp)
    >>> r.nnz, r.item_ids.tolist(), r.values.tolist()
    (2, [31, 1029], [2.5, 3.0])

    With titles (``movies.csv`` beside ``ratings.csv``):

    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = pathlib.Path(tmp, "ratings.csv").write_text(
    ...         "userId,movieId,rating,timestamp\\n1,31,2.5,1260759144\\n")
    ...     _ = pathlib.Path(tmp, "movies.csv").write_text(
    ...         'movieId,title,genres\\n31,"Dangerous Minds (1995)",Drama\\n')
    ...     r, items = load_movielens("latest-small", path=tmp, return_items=True)
    >>> items.loc[r.item_ids[0], "title"]
    'Dangerous Minds (1995)'

    Downloading (about 5 MB for 100k, cached afterwards):

    >>> ratings = load_movielens("100k")  # doctest: +SKIP
    """
    if not isinstance(variant, str) or variant not in _MOVIELENS:
        valid = ", ".join(repr(v) for v in _MOVIELENS)
        raise ValueError(f"variant must be one of {valid}, got {variant!r}")
    _check_bool(download, "download")
    _check_bool(return_items, "return_items")
    spec = _MOVIELENS[variant]
    if path is not None:
        ratings, items = _load_local(Path(path).expanduser(), spec, variant, return_items)
        return (ratings, items) if return_items else ratings

    root = get_data_home(data_home) / "movielens"
    ratings_file = root / spec.folder / spec.ratings
    if not ratings_file.is_file():
        zip_path = root / spec.url.rsplit("/", 1)[1]
        if zip_path.is_file():
            _verify(zip_path, spec.sha256)
        elif not download:
            raise FileNotFoundError(
                f"MovieLens {variant} is not cached in {root}: call "
                f"load_movielens({variant!r}, download=True), or download {spec.url} yourself "
                f"and pass path= (the zip or its extracted folder)")
        else:
            _download(spec.url, zip_path, spec.sha256)
        _extract(zip_path, root, spec.folder)
        if not ratings_file.is_file():
            raise FileNotFoundError(f"{zip_path} has no {spec.folder}/{spec.ratings}")
    if spec.ratings_sha256:
        _verify(ratings_file, spec.ratings_sha256)
    with open(ratings_file, "rb") as f:
        ratings = _parse_ratings(f, spec)
    if not return_items:
        return ratings
    return ratings, _read_items(ratings_file.parent / spec.items, spec)


def _load_local(path, spec, variant, return_items):
    if path.is_dir():
        for candidate in (path / spec.ratings, path / spec.folder / spec.ratings):
            if candidate.is_file():
                if spec.ratings_sha256:
                    _verify(candidate, spec.ratings_sha256)
                with open(candidate, "rb") as f:
                    ratings = _parse_ratings(f, spec)
                items = _read_items(candidate.parent / spec.items, spec) if return_items \
                    else None
                return ratings, items
        raise FileNotFoundError(
            f"path={str(path)!r} holds no MovieLens {variant} ratings file: looked for "
            f"{spec.ratings} and {spec.folder}/{spec.ratings} in it")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(f"path={str(path)!r} is neither a folder nor a zip file")
        _verify(path, spec.sha256)
        with zipfile.ZipFile(path) as zf:
            members = [f"{spec.folder}/{spec.ratings}"] + \
                ([f"{spec.folder}/{spec.items}"] if return_items else [])
            for member in members:
                if member not in zf.namelist():
                    raise FileNotFoundError(f"{path} has no {member}")
            with zf.open(members[0]) as f:
                ratings = _parse_ratings(f, spec)
            items = _parse_items(zf.read(members[1]), spec, f"{path}:{members[1]}") \
                if return_items else None
            return ratings, items
    raise FileNotFoundError(f"path={str(path)!r} does not exist")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path, expected):
    actual = _sha256(path)
    if actual != expected:
        raise ChecksumError(
            f"SHA-256 mismatch for {path}: expected {expected}, got {actual}; the file is "
            f"corrupt or not the GroupLens release (delete it and download it again)")


def _download(url, dest, expected):
    import urllib.request  # imported here: no network code at import time

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        actual = digest.hexdigest()
        if actual != expected:
            raise ChecksumError(f"SHA-256 mismatch for {url}: expected {expected}, got "
                                f"{actual}; the download is corrupt or the file has changed")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _extract(zip_path, root, folder):
    """Extract into a temporary folder beside the cache, then move ``folder`` into place."""
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=root))
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for name in zf.namelist():
                target = (tmp / name).resolve()
                if not target.is_relative_to(tmp.resolve()):
                    raise ValueError(f"{zip_path} holds an unsafe path {name!r}; not extracting")
            zf.extractall(tmp)
        if not (tmp / folder).is_dir():
            raise FileNotFoundError(f"{zip_path} has no folder {folder}/")
        if (root / folder).exists():  # an incomplete earlier extraction
            shutil.rmtree(root / folder)
        os.replace(tmp / folder, root / folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _parse_ratings(f, spec):
    """Parse ``user item rating timestamp`` rows from a binary file object."""
    sep = spec.sep
    if sep == "::":  # the C parsers take one-character separators only
        f, sep = io.BytesIO(f.read().replace(b"::", b"\t")), "\t"
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        df = pd.read_csv(f, sep=sep, header=0 if spec.header else None, usecols=[0, 1, 2, 3],
                         names=["user", "item", "rating", "timestamp"], engine="c",
                         dtype={"user": np.int64, "item": np.int64, "rating": np.float64,
                                "timestamp": np.int64})
        cols = [df[c].to_numpy() for c in ("user", "item", "rating", "timestamp")]
    else:
        table = np.loadtxt(f, delimiter=sep, skiprows=int(spec.header), usecols=(0, 1, 2, 3),
                           ndmin=2)
        cols = [table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2],
                table[:, 3].astype(np.int64)]
    users, items, values, timestamps = cols
    return Ratings.from_ids(users, items, values, timestamps=timestamps)


# the 19 genre flags of ml-100k's u.item, in column order (its u.genre)
_GENRES_100K = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                "Romance", "Sci-Fi", "Thriller", "War", "Western")


def _read_items(file, spec):
    if not file.is_file():
        raise FileNotFoundError(f"no movie titles: {file} does not exist (return_items=True "
                                f"reads {spec.items} beside {spec.ratings})")
    return _parse_items(file.read_bytes(), spec, file)


def _parse_items(raw, spec, where):
    """Movie ID, title and genres from the bytes of u.item, movies.dat or movies.csv."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("return_items=True needs pandas: pip install pandas") from None
    ids, titles, genres = [], [], []
    if spec.items == "movies.csv":
        import csv

        reader = csv.reader(io.StringIO(raw.decode("utf-8")))
        rows = ((reader.line_num, row) for row in reader if row)
        next(rows, None)  # the header
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # ml-100k and ml-1m are Latin-1
            text = raw.decode("latin-1")
        sep = "|" if spec.items == "u.item" else "::"
        rows = ((n, ln.split(sep)) for n, ln in enumerate(text.splitlines(), 1) if ln.strip())
    for line, row in rows:
        try:
            if spec.items == "u.item":
                flags = row[5:5 + len(_GENRES_100K)]
                if len(flags) != len(_GENRES_100K):
                    raise ValueError
                names = "|".join(g for g, f in zip(_GENRES_100K, flags, strict=True)
                                 if f == "1")
            else:
                names = row[2] if len(row) == 3 else None
                if names is None:
                    raise ValueError
            ids.append(int(row[0]))
            titles.append(row[1])
            genres.append("" if names == "(no genres listed)" else names)
        except (ValueError, IndexError):
            raise ValueError(f"{where}, line {line}: not a movie row ({row!r:.80})") from None
    items = pd.DataFrame({"title": titles, "genres": genres},
                         index=pd.Index(ids, name="item"))
    return items.sort_index()

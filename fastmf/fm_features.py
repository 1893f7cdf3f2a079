"""Design matrices for factorization machines built from ratings and side tables.

An FM over a one-hot user and a one-hot item column is biased matrix factorization; adding a
one-hot tag column gives PITF (user, item, tag); adding the items a user rated, each weighted
:math:`|N(u)|^{-1/2}`, gives SVD++. :class:`FMEncoder` builds these CSR matrices, plus
per-user and per-item side tables and extra per-row columns, and the ``groups`` array that
tells ``FMRegressor``/``FMClassifier`` which features share a prior (and which features are
mutually exclusive, so the ALS and MCMC solvers can update them in parallel).
"""

import numpy as np
import scipy.sparse as sp

from ._ratings import Ratings
from ._validation import check_index_array, check_int_param, check_sparse_matrix, check_values

__all__ = ["FMEncoder", "one_hot"]


def one_hot(codes, n_categories=None):
    """One-hot CSR matrix of integer category codes.

    Parameters
    ----------
    codes : array-like of int, shape (n,)
        Category of each row, in ``[0, n_categories)``.
    n_categories : int, optional
        Number of columns; default ``max(codes) + 1``.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n_categories)

    Examples
    --------
    >>> from fastmf.fm_features import one_hot
    >>> one_hot([2, 0]).toarray()
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    n_categories = check_int_param(n_categories, "n_categories", low=1, allow_none=True)
    codes = check_index_array(np.asarray(codes), "codes", n_categories)
    if n_categories is None:
        n_categories = int(codes.max()) + 1 if len(codes) else 1
    n = len(codes)
    return sp.csr_matrix((np.ones(n), codes, np.arange(n + 1)), shape=(n, n_categories))


class FMEncoder:
    r"""Encode (user, item) pairs, and optionally tags and side information, as an FM design.

    Columns, in this order (each block one group in ``groups_``):

    - ``"user"``: one-hot user index (``n_users`` columns);
    - ``"item"``: one-hot item index (``n_items``);
    - ``"tag"``: one-hot tag (``n_tags``; PITF), when ``n_tags`` is given;
    - ``"implicit"``: the items the user rated in the fitted data, each
      :math:`|N(u)|^{-1/2}` (SVD++), when ``implicit=True``;
    - ``"user_side"``, ``"item_side"``: the user's / item's row of the side tables;
    - ``"extra"``: per-row columns passed to :meth:`transform`.

    An FM on the first two blocks is biased matrix factorization.

    Parameters
    ----------
    implicit : bool, default=False
        Add the SVD++ block: the normalised multi-hot vector of the items the user rated.
    n_tags : int or None, default=None
        Number of tags; adds a one-hot tag block (PITF) and makes ``tags`` required in
        :meth:`transform`.
    user_side : array-like or sparse matrix of shape (n_users, p), optional
        Side table of users (numeric columns, or one-hot categoricals from :func:`one_hot`).
    item_side : array-like or sparse matrix of shape (n_items, q), optional
        Side table of items.

    Attributes
    ----------
    n_users_, n_items_ : int
    n_features_ : int
    groups_ : ndarray of int32, shape (``n_features_``,)
        Group of each column; pass it as ``groups=`` to the FM estimators.
    group_names_ : list of str
    implicit_ : scipy.sparse.csr_matrix of shape (``n_users_``, ``n_items_``) or None
        The SVD++ block of each user.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.fm_features import FMEncoder
    >>> r = fastmf.Ratings([0, 0, 1], [1, 2, 0], [5.0, 3.0, 4.0])
    >>> enc = FMEncoder(implicit=True).fit(r)
    >>> X = enc.transform(r)
    >>> X.shape, enc.group_names_
    ((3, 8), ['user', 'item', 'implicit'])
    >>> X[0].toarray().round(3)
    array([[1.   , 0.   , 0.   , 1.   , 0.   , 0.   , 0.707, 0.707]])
    """

    def __init__(self, implicit=False, n_tags=None, user_side=None, item_side=None):
        self.implicit = implicit
        self.n_tags = n_tags
        self.user_side = user_side
        self.item_side = item_side

    def fit(self, ratings):
        """Record the index space (and the items each user rated, for ``implicit=True``).

        Parameters
        ----------
        ratings : Ratings

        Returns
        -------
        self
        """
        if not isinstance(ratings, Ratings):
            raise TypeError(f"ratings must be a fastmf.Ratings, got {type(ratings).__name__}")
        n_tags = check_int_param(self.n_tags, "n_tags", low=1, allow_none=True)
        self.n_users_, self.n_items_ = ratings.shape
        self._user_side = _side_table(self.user_side, "user_side", self.n_users_)
        self._item_side = _side_table(self.item_side, "item_side", self.n_items_)
        self.implicit_ = None
        if self.implicit:
            csr = sp.csr_matrix((np.ones(ratings.nnz), (ratings.users, ratings.items)),
                                shape=ratings.shape)
            counts = np.diff(csr.indptr)
            scale = np.zeros(self.n_users_)
            scale[counts > 0] = counts[counts > 0] ** -0.5
            csr.data = np.repeat(scale, counts)
            self.implicit_ = csr
        sizes = [("user", self.n_users_), ("item", self.n_items_)]
        if n_tags is not None:
            sizes.append(("tag", n_tags))
        if self.implicit:
            sizes.append(("implicit", self.n_items_))
        for name, table in (("user_side", self._user_side), ("item_side", self._item_side)):
            if table is not None:
                sizes.append((name, table.shape[1]))
        self._sizes = sizes
        self.group_names_ = [name for name, _ in sizes]
        self.groups_ = np.repeat(np.arange(len(sizes), dtype=np.int32),
                                 [size for _, size in sizes])
        self.n_features_ = len(self.groups_)
        return self

    def transform(self, X, tags=None, extra=None):
        """The design matrix of the pairs in ``X``.

        Parameters
        ----------
        X : Ratings or array-like of shape (n, 2)
            (user, item) index pairs in the fitted index space.
        tags : array-like of int, shape (n,), optional
            Tag of each pair (required when ``n_tags`` was given).
        extra : array-like or sparse matrix of shape (n, p), optional
            Extra per-row columns, appended as the group ``"extra"`` (the returned ``groups``
            then has one more group than ``groups_``; use :meth:`groups` to get it).

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n, ``n_features_`` [+ p])
        """
        if not hasattr(self, "groups_"):
            raise ValueError("This FMEncoder instance is not fitted yet: call 'fit' first.")
        if isinstance(X, Ratings):
            users, items = X.users, X.items
        else:
            pairs = np.asarray(X)
            if pairs.ndim != 2 or pairs.shape[1] != 2:
                raise ValueError(f"X must be a Ratings or an (n, 2) array of [user, item] "
                                 f"pairs, got shape {pairs.shape}")
            users, items = pairs[:, 0], pairs[:, 1]
        users = check_index_array(users, "users", self.n_users_)
        items = check_index_array(items, "items", self.n_items_)
        n = len(users)
        blocks = [one_hot(users, self.n_users_), one_hot(items, self.n_items_)]
        if self.n_tags is not None:
            if tags is None:
                raise ValueError("tags is required: the encoder was fitted with n_tags")
            tags = check_index_array(np.asarray(tags), "tags", self.n_tags)
            if len(tags) != n:
                raise ValueError(f"tags has {len(tags)} entries but X has {n} pairs")
            blocks.append(one_hot(tags, self.n_tags))
        elif tags is not None:
            raise ValueError("tags given but the encoder was fitted without n_tags")
        if self.implicit_ is not None:
            blocks.append(self.implicit_[users])
        if self._user_side is not None:
            blocks.append(self._user_side[users])
        if self._item_side is not None:
            blocks.append(self._item_side[items])
        if extra is not None:
            extra = _side_table(extra, "extra", n)
            blocks.append(extra)
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    def fit_transform(self, ratings, tags=None, extra=None):
        """``fit(ratings).transform(ratings, tags, extra)``."""
        return self.fit(ratings).transform(ratings, tags=tags, extra=extra)

    def groups(self, n_extra=0):
        """``groups_`` with ``n_extra`` columns of an ``"extra"`` group appended."""
        n_extra = check_int_param(n_extra, "n_extra", low=0)
        extra = np.full(n_extra, len(self.group_names_), dtype=np.int32)
        return np.concatenate([self.groups_, extra])


def _side_table(table, name, n_rows):
    """A side table as a finite CSR matrix with ``n_rows`` rows (``None`` stays ``None``)."""
    if table is None:
        return None
    csr = table if sp.issparse(table) else sp.csr_matrix(np.asarray(table, float))
    if csr.ndim != 2 or csr.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows, got shape {csr.shape}")
    if sp.issparse(table):
        return check_sparse_matrix(table, name)
    check_values(csr.data, name)
    return csr

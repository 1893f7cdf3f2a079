"""Input checks for every public entry point.

Kernels run without bounds checks, so everything that reaches them passes through here first.
Each check names the argument it rejects and says what was wrong.
"""

import numbers

import numpy as np
import scipy.sparse as sp

FLOAT_DTYPES = (np.float32, np.float64)


def check_int_param(value, name, low=None, high=None, allow_none=False):
    """Return ``value`` as an int after checking its type and range."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_float_param(value, name, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float inside the given (closed or open) range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def check_bool(value, name):
    """Check that ``value`` is True or False (a NumPy bool too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_option(value, name, options):
    """Check that ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {valid}, got {value!r}")
    return value


def check_dtype(dtype, name="dtype"):
    """Return the NumPy float dtype (float32 or float64) named by ``dtype``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be float32 or float64, got {dt}")
    return dt


def check_random_state(random_state):
    """Turn ``None``, an int or a Generator into a ``numpy.random.Generator``."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


def check_index_array(a, name, n=None):
    """Return a 1-D int64 array of indices in ``[0, n)``.

    Float arrays are rejected even when their values are whole numbers: a float index is almost
    always a sign of columns passed in the wrong order.
    """
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {a.shape}")
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integer indices, got dtype {a.dtype}")
    a = a.astype(np.int64, copy=False)
    lo = a.min()
    if lo < 0:
        raise ValueError(f"{name} must be non-negative, found {lo} at position {int(np.argmin(a))}")
    if n is not None:
        hi = a.max()
        if hi >= n:
            raise ValueError(
                f"{name} holds index {hi} (position {int(np.argmax(a))}), "
                f"out of range for {n} entries"
            )
    return a


def check_values(a, name, nonnegative=False, dtype=np.float64):
    """Return a 1-D float array of finite (optionally non-negative) values."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {a.shape}")
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.number)):
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    a = a.astype(dtype, copy=False)
    finite = np.isfinite(a)
    if not finite.all():
        pos = int(np.argmin(finite))
        raise ValueError(f"{name} must be finite, found {a[pos]} at position {pos}")
    if nonnegative and a.size and a.min() < 0:
        pos = int(np.argmin(a))
        raise ValueError(f"{name} must be non-negative, found {a[pos]} at position {pos}")
    return a


def check_same_length(**arrays):
    """Check that all the named arrays have one length."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"length mismatch: {desc}")


def check_sparse_matrix(X, name="X", *, nonnegative=False, dtype=np.float64,
                        duplicates="raise", rows=None):
    """Return ``X`` as a canonical CSR matrix: the one gate for sparse input.

    Kernels read sparse arrays without bounds checks, so every CSR, CSC or COO matrix a user
    passes (to ``fit``, ``transform``, ``recommend``, the fold-in methods, the metrics, the
    FMs) comes through here first. The structure is checked before any array is indexed:

    - ``X`` is a 2-D scipy sparse matrix or array with no zero dimension; other formats (LIL,
      DOK, BSR, DIA) are read through ``X.tocoo()``;
    - CSR / CSC: ``indptr`` is 1-D, integer, of length n_rows + 1 (CSC: n_cols + 1), starts at 0,
      never decreases and ends at ``len(indices) == len(data)``. scipy's constructors trim
      ``indices`` and ``data`` longer than ``indptr[-1]``, so a mismatch here means the arrays
      were edited after construction: it is an error, not something trimmed;
    - COO: ``row``, ``col`` and ``data`` are 1-D of one length;
    - index arrays hold integers (not bools, not floats) in ``[0, n_cols)`` (``[0, n_rows)``);
    - ``data`` is real (bool is read as 0/1) and finite, and non-negative with
      ``nonnegative=True``;
    - within a row the columns are distinct. Unsorted rows are legal: they are sorted in a
      copy. A repeated (row, column) raises an error naming the first one (in row-major
      order), unless ``duplicates="sum"`` (values added) or ``"last"`` (the last stored kept).

    Explicitly stored zeros are kept: in a ratings matrix they are observed entries. A
    canonical CSR matrix (sorted, distinct columns) whose data already has ``dtype`` is
    returned as is, with no copy. The cost is O(nnz), vectorised; only non-canonical input
    pays a sort.

    Parameters
    ----------
    X : scipy sparse matrix or array
    name : str
        The argument's name, used in every error message.
    nonnegative : bool
        Reject negative values.
    dtype : dtype or None
        dtype of the returned data; None keeps float32 / float64 data and makes the rest
        float64.
    duplicates : {"raise", "sum", "last"}
    rows : array of int, optional
        Return only these rows, ``X[rows]`` (repeats allowed). For CSR input only ``indptr``
        and the selected rows are read and checked: O(n_rows + their nnz).

    Returns
    -------
    scipy.sparse.csr_matrix with sorted indices, no duplicates, data of ``dtype``

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from fastmf._validation import check_sparse_matrix
    >>> X = sp.csr_matrix((np.ones(3), [2, 0, 1], [0, 2, 3]), shape=(2, 3))  # row 0 unsorted
    >>> check_sparse_matrix(X).indices
    array([0, 2, 1], dtype=int32)
    >>> X.indices[1] = 2  # row 0 now stores column 2 twice
    >>> check_sparse_matrix(X)
    Traceback (most recent call last):
    ...
    ValueError: X has a duplicate entry: (row 0, column 2) is stored more than once ...
    """
    check_option(duplicates, "duplicates", ("raise", "sum", "last"))
    if not sp.issparse(X):
        raise TypeError(f"{name} must be a scipy sparse matrix, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got shape {X.shape}")
    shape = tuple(int(s) for s in X.shape)
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {shape}")
    if rows is not None:
        rows = check_index_array(rows, "rows", shape[0])
    target = _data_dtype(X.dtype, dtype)
    if X.format in ("csr", "csc"):
        out = _check_compressed(X, name, nonnegative, target, duplicates, rows)
    else:
        if X.format != "coo":
            try:
                X = X.tocoo()
            except Exception as e:  # noqa: BLE001 - any failure of scipy's own conversion
                raise ValueError(f"{name} ({X.format} format) could not be read: {e}") from e
        out = _check_coo(X, name, nonnegative, target, duplicates)
        if rows is not None:
            out = _csr(*_take_rows(out.indptr, out.indices, out.data, rows),
                       (len(rows), shape[1]))
    return out


def _data_dtype(source, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    if source in (np.dtype(np.float32), np.dtype(np.float64)):
        return np.dtype(source)
    return np.dtype(np.float64)


def _index_part(a, what):
    """An index array of a sparse matrix as int32 or int64 (no copy when it already is)."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{what} must be 1-dimensional, got an array of shape {a.shape}")
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{what} must hold integers, got dtype {a.dtype}")
    if a.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        a = a.astype(np.int64)
    return a


def _data_part(a, what):
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{what} must be 1-dimensional, got an array of shape {a.shape}")
    if not (a.dtype == bool or np.issubdtype(a.dtype, np.integer)
            or np.issubdtype(a.dtype, np.floating)):
        raise TypeError(f"{what} must hold real numbers, got dtype {a.dtype}")
    return a


def _check_range(index, n, what, axis, context):
    """Every entry of ``index`` in ``[0, n)``; ``context(p)`` says where position ``p`` is."""
    if len(index) == 0:
        return
    lo, hi = int(index.min()), int(index.max())
    if lo < 0:
        raise ValueError(f"{what} holds {axis} index {lo} {context(int(np.argmin(index)))}: "
                         "indices must be non-negative")
    if hi >= n:
        raise ValueError(f"{what} holds {axis} index {hi} {context(int(np.argmax(index)))}, "
                         f"out of range for a matrix with {n} {axis}s")


def _check_data(data, name, nonnegative, where):
    finite = np.isfinite(data)
    if not finite.all():
        p = int(np.argmin(finite))
        raise ValueError(f"{name}.data must be finite (no NaN or inf): found {data[p]} at "
                         f"{where(p)}")
    if nonnegative and len(data) and data.min() < 0:
        p = int(np.argmin(data))
        raise ValueError(f"{name}.data must be non-negative: found {data[p]} at {where(p)}")


def _check_compressed(X, name, nonnegative, target, duplicates, rows):
    csr = X.format == "csr"
    n_major, n_minor = X.shape if csr else X.shape[::-1]
    indptr = _index_part(X.indptr, f"{name}.indptr")
    indices = _index_part(X.indices, f"{name}.indices")
    data = _data_part(X.data, f"{name}.data")
    if len(indptr) != n_major + 1:
        raise ValueError(f"{name}.indptr has {len(indptr)} entries but a matrix with {n_major} "
                         f"{'rows' if csr else 'columns'} needs {n_major + 1}")
    if indptr[0] != 0:
        raise ValueError(f"{name}.indptr must start at 0, got {indptr[0]}")
    steps = np.diff(indptr)
    if len(steps) and steps.min() < 0:
        p = int(np.argmin(steps))
        raise ValueError(f"{name}.indptr must be non-decreasing: indptr[{p + 1}] = "
                         f"{indptr[p + 1]} < indptr[{p}] = {indptr[p]}")
    if len(indices) != len(data) or indptr[-1] != len(indices):
        raise ValueError(f"{name}.indptr ends at {indptr[-1]} but {name}.indices has "
                         f"{len(indices)} entries and {name}.data {len(data)}; they must agree "
                         "(arrays edited after the matrix was built?)")
    labels = None
    if rows is not None:
        if not csr:
            X = _check_compressed(X, name, nonnegative, target, duplicates, None)
            return _csr(*_take_rows(X.indptr, X.indices, X.data, rows), (len(rows), X.shape[1]))
        indptr, indices, data = _take_rows(indptr, indices, data, rows)
        labels, n_major = rows, len(rows)

    def major_of(p):
        major = int(np.searchsorted(indptr, p, side="right")) - 1
        return major if labels is None else int(labels[major])

    def where(p):
        r, c = (major_of(p), int(indices[p])) if csr else (int(indices[p]), major_of(p))
        return f"(row {r}, column {c})"

    _check_range(indices, n_minor, f"{name}.indices", "column" if csr else "row",
                 lambda p: f"in {'row' if csr else 'column'} {major_of(p)}")
    _check_data(data, name, nonnegative, where)
    nnz = len(indices)
    if nnz > 1:
        gaps = np.diff(indices)
        starts = indptr[1:-1]
        gaps[starts[(starts > 0) & (starts < nnz)] - 1] = 1  # no order across rows
        canonical = gaps.min() > 0
        del gaps
    else:
        canonical = True
    data = data.astype(target, copy=False)
    if canonical and csr:
        if (rows is None and isinstance(X, sp.csr_matrix) and X.data is data
                and X.indptr is indptr and X.indices is indices):
            X.has_canonical_format = True
            return X
        return _csr(indptr, indices, data, (n_major, n_minor))
    if canonical:  # CSC: scipy's transposition yields sorted rows
        out = sp.csc_matrix((data, indices, indptr), shape=X.shape).tocsr()
        out.has_canonical_format = True
        return out
    major = np.repeat(np.arange(n_major, dtype=np.int64), np.diff(indptr))
    r, c = (major, indices) if csr else (indices, major)
    return _from_entries(r, c, data, (n_major, n_minor) if csr else X.shape, name,
                         duplicates, labels)


def _check_coo(X, name, nonnegative, target, duplicates):
    r = _index_part(X.row, f"{name}.row")
    c = _index_part(X.col, f"{name}.col")
    data = _data_part(X.data, f"{name}.data")
    if not len(r) == len(c) == len(data):
        raise ValueError(f"{name}.row, {name}.col and {name}.data must have one length, got "
                         f"{len(r)}, {len(c)} and {len(data)}")

    def where(p):
        return f"(row {int(r[p])}, column {int(c[p])})"

    _check_range(r, X.shape[0], f"{name}.row", "row", lambda p: f"at position {p}")
    _check_range(c, X.shape[1], f"{name}.col", "column", lambda p: f"at position {p}")
    _check_data(data, name, nonnegative, where)
    return _from_entries(r, c, data.astype(target, copy=False), X.shape, name, duplicates)


def _from_entries(r, c, data, shape, name, duplicates, labels=None):
    """Canonical CSR of checked (row, column, value) triples, repeated pairs resolved.

    ``labels[r]`` (default ``r``) is the row a message names.
    """
    def duplicate_error(p, count):
        row = int(r[p] if labels is None else labels[r[p]])
        return ValueError(
            f"{name} has a duplicate entry: (row {row}, column {int(c[p])}) is stored more "
            f"than once ({count} repeated entries in all); call {name}.sum_duplicates() "
            "first if they are to be added")

    kept, values = sort_entries(r, c, data, duplicates, duplicate_error)
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(r[kept], minlength=shape[0]), out=indptr[1:])
    return _csr(indptr, c[kept].astype(np.int64), values, shape)


def sort_entries(rows, cols, values, duplicates, duplicate_error):
    """Sort (row, column, value) entries by (row, column) and resolve repeated pairs.

    Returns ``(kept, values)``: the input positions of the entries kept, in sorted order, and
    their values. A repeated pair raises ``duplicate_error(position, n_duplicates)`` with
    ``duplicates="raise"``; ``"sum"`` keeps the first of a run with the run's sum, ``"last"``
    the last one given (the sort is stable).
    """
    order = np.lexsort((cols, rows))
    r, c = rows[order], cols[order]
    dup = (r[1:] == r[:-1]) & (c[1:] == c[:-1])
    if not dup.any():
        return order, values[order]
    if duplicates == "raise":
        raise duplicate_error(int(order[np.argmax(dup)]), int(dup.sum()))
    starts = np.flatnonzero(np.r_[True, ~dup])
    if duplicates == "sum":
        return order[starts], np.add.reduceat(values[order], starts)
    ends = np.r_[starts[1:], len(order)] - 1
    return order[ends], values[order[ends]]


def _take_rows(indptr, indices, data, rows):
    """(indptr, indices, data) of the CSR rows ``rows`` of a checked ``indptr``."""
    starts = indptr[rows].astype(np.int64)
    counts = indptr[rows + 1] - starts
    new_ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=new_ptr[1:])
    pos = np.repeat(starts - new_ptr[:-1], counts) + np.arange(new_ptr[-1])
    return new_ptr, indices[pos], data[pos]


def _csr(indptr, indices, data, shape):
    out = sp.csr_matrix((data, indices, indptr), shape=shape)
    out.has_canonical_format = True
    return out


def check_factors(A, name, n_rows, n_factors):
    """Check a user-supplied factor matrix (warm start, fold-in)."""
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] != n_rows or A.shape[1] != n_factors:
        raise ValueError(f"{name} must have shape ({n_rows}, {n_factors}), got {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} must be finite")
    return A


def check_is_fitted(model, attribute=None):
    """Raise :class:`NotFittedError` when ``model`` is not fitted (it lacks ``attribute``,
    by default the first of its ``_fitted_arrays``)."""
    if attribute is None:
        attribute = (getattr(model, "_fitted_arrays", None) or ("n_iter_",))[0]
    if not hasattr(model, attribute):
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet: call 'fit' first."
        )


try:  # one error type, which scikit-learn's own checks recognise when it is installed
    from sklearn.exceptions import NotFittedError as _Base
except ImportError:  # pragma: no cover - scikit-learn is optional at run time
    class _Base(ValueError, AttributeError):
        pass


class NotFittedError(_Base):
    """Raised when a model is used before ``fit``: a ValueError and an AttributeError (and
    scikit-learn's ``NotFittedError`` when scikit-learn is installed).

    Examples
    --------
    >>> import fastmf
    >>> try:
    ...     fastmf.MatrixFactorization().predict([0], [0])
    ... except fastmf.NotFittedError as e:
    ...     print(e)
    This MatrixFactorization instance is not fitted yet: call 'fit' first.
    """

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


def check_sparse_matrix(X, name="X", nonnegative=False, dtype=np.float64):
    """Return ``X`` as a canonical CSR matrix (sorted indices, no duplicates, finite data).

    Explicitly stored zeros are kept: in a ratings matrix they are observed entries.
    """
    if not sp.issparse(X):
        raise TypeError(f"{name} must be a scipy sparse matrix, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}")
    X = sp.csr_matrix(X)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    data = check_values(X.data, f"{name}.data", nonnegative=nonnegative, dtype=dtype)
    return sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)


def check_factors(A, name, n_rows, n_factors):
    """Check a user-supplied factor matrix (warm start, fold-in)."""
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] != n_rows or A.shape[1] != n_factors:
        raise ValueError(f"{name} must have shape ({n_rows}, {n_factors}), got {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} must be finite")
    return A


def check_is_fitted(model, attribute="item_factors_"):
    """Raise ``NotFittedError`` (a ValueError and AttributeError) when ``model`` is not fitted."""
    if not hasattr(model, attribute):
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet: call 'fit' first."
        )


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit``; scikit-learn catches it by the same bases."""

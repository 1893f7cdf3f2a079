"""Saving and loading estimators as ``.npz`` (arrays) plus JSON metadata: no pickle anywhere."""

import json
import numbers
import zipfile
import zlib

import numpy as np

_REGISTRY = {}


class SaveMixin:
    """Adds ``save(path)``; every subclass is registered by name for :func:`load`."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def save(self, path):
        """Write the fitted model to ``path`` (``.npz``): arrays as arrays, the rest as JSON.

        Parameters
        ----------
        path : str or path-like
            Destination file; NumPy adds ``.npz`` when the name lacks it.

        Examples
        --------
        >>> import os, tempfile, fastmf
        >>> model = fastmf.MatrixFactorization(n_factors=2, n_iter=2, random_state=0)
        >>> model = model.fit(fastmf.datasets.make_ratings(50, 40, 500, random_state=0))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> model.save(path)
        >>> fastmf.load(path).predict([0], [1]) == model.predict([0], [1])
        array([ True])
        """
        from . import __version__

        arrays, attributes = {}, {}
        for name, value in vars(self).items():
            if not name.endswith("_") or name.startswith("_"):
                continue
            if isinstance(value, np.ndarray):
                arrays[name] = _savable_array(value, name)
            else:
                attributes[name] = _jsonable(value, name)
        meta = {
            "class": type(self).__name__,
            "fastmf_version": __version__,
            "params": {k: _jsonable(v, k) for k, v in self.get_params(deep=False).items()},
            "attributes": attributes,
        }
        np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)


def load(path):
    """Load a model written by ``save``.

    Nothing is unpickled. The file is checked before a model is returned: it must be an
    ``.npz`` archive written by :meth:`save` whose metadata names a fastmf estimator and only
    parameters it takes (with valid values), and whose fitted arrays have the shapes, dtypes
    and finite values the class needs (e.g. ``item_factors_`` of shape ``(n_items_, k)`` with the
    k columns of ``user_factors_``). A truncated, foreign or edited file raises ``ValueError``
    naming it.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model : estimator
        An instance of the saved class with its parameters and fitted attributes restored.

    Examples
    --------
    >>> import os, tempfile, fastmf
    >>> model = fastmf.MatrixFactorization(n_factors=2, n_iter=1).fit(
    ...     fastmf.datasets.make_ratings(30, 20, 200, random_state=0))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> model.save(path)
    >>> type(fastmf.load(path)).__name__
    'MatrixFactorization'
    """
    meta, arrays = _read(path)
    try:
        return _restore(meta, arrays)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path} is not a valid fastmf model file: {e}") from e


def _read(path):
    """(metadata dict, arrays) of a model file; a ValueError naming ``path`` if unreadable."""
    try:
        f = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except _READ_ERRORS as e:
        raise ValueError(f"{path} is not a fastmf model file (not an .npz archive written by "
                         f"save: {type(e).__name__})") from e
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not a fastmf model file (a .npy array, not an .npz "
                         "archive)")
    try:
        with f:
            raw = f["__meta__"] if "__meta__" in f.files else None
            arrays = {k: f[k] for k in f.files if k != "__meta__"}
    except _READ_ERRORS as e:
        raise ValueError(f"{path} is not a fastmf model file (damaged or truncated: {e})") \
            from e
    if raw is None:
        raise ValueError(f"{path} is not a fastmf model file (no metadata)")
    try:
        if raw.shape != () or raw.dtype.kind != "U":
            raise ValueError("the metadata is not a JSON string")
        meta = json.loads(str(raw))
        if not isinstance(meta, dict) or not isinstance(meta.get("class"), str) or \
                not isinstance(meta.get("params"), dict) or \
                not isinstance(meta.get("attributes"), dict):
            raise ValueError("the metadata must hold 'class', 'params' and 'attributes'")
    except ValueError as e:
        raise ValueError(f"{path} is not a valid fastmf model file: {e}") from e
    return meta, arrays


_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)


def _restore(meta, arrays):
    cls = _REGISTRY.get(meta["class"]) or _lazy_class(meta["class"])
    if cls is None or not callable(getattr(cls, "fit", None)):
        raise ValueError(f"unknown model class {meta['class']!r}")
    known = set(cls._get_param_names())
    unknown = sorted(set(meta["params"]) - known)
    if unknown:
        raise ValueError(f"{cls.__name__} has no parameter {unknown[0]!r}")
    # a file written before a parameter existed gets the value its model was fitted with
    model = cls(**{**getattr(cls, "_params_before_they_existed", {}), **meta["params"]})
    if hasattr(model, "_check_params"):
        model._check_params()
    attributes = dict(meta["attributes"])
    for name in [*attributes, *arrays]:
        if not name.endswith("_") or name.startswith("_") or hasattr(cls, name):
            raise ValueError(f"{name!r} is not a fitted attribute of {cls.__name__}")
    if set(attributes) & set(arrays):
        raise ValueError(f"{sorted(set(attributes) & set(arrays))[0]!r} is stored twice")
    for name in getattr(cls, "_fitted_arrays", ()):
        if name not in arrays:
            raise ValueError(f"the fitted array {name} is missing")
    _check_state(model, attributes, arrays)
    for name, value in {**attributes, **arrays}.items():
        setattr(model, name, value)
    return model


#: The shape of each fitted array, by name: sizes are integer attributes ("n_users_"), "k" (the
#: number of factor columns, one for all arrays: a multiple of n_factors / n_components, which
#: Bayesian MF keeps once per posterior sample), "n_samples" (kept MCMC draws) or a number.
_SHAPES = {
    "user_factors_": ("n_users_", "k"),
    "base_user_factors_": ("n_users_", "k"),
    "item_factors_": ("n_items_", "k"),
    "implicit_factors_": ("n_items_", "k"),
    "user_bias_": ("n_users_",),
    "item_bias_": ("n_items_",),
    "user_ids_": ("n_users_",),
    "item_ids_": ("n_items_",),
    "singular_values_": ("k",),
    "factors_": ("n_features_in_", "k"),
    "coef_": ("n_features_in_",),
    "intercept_samples_": ("n_samples",),
    "coef_samples_": ("n_samples", "n_features_in_"),
    "factors_samples_": ("n_samples", "n_features_in_", "k"),
    "classes_": (2,),
}
_COUNTS = {"n_users_": 1, "n_items_": 1, "n_features_in_": 1, "n_iter_": 0, "sgd_seed_": 0}
_REALS = ("global_mean_", "intercept_")
_LABELS = ("user_ids_", "item_ids_", "classes_")


def _check_state(model, attributes, arrays):
    """Types, shapes, dtypes and finiteness of the fitted attributes (before any is set)."""
    for name, low in _COUNTS.items():
        value = attributes.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < low):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    for name in _REALS:
        value = attributes.get(name)
        if name in attributes and (isinstance(value, bool) or
                                   not isinstance(value, (int, float)) or
                                   not np.isfinite(value)):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    link = attributes.get("link_")
    if link is not None and link not in ("identity", "logit", "probit"):
        raise ValueError(f"link_ must be 'identity', 'logit' or 'probit', got {link!r}")
    params = model.get_params(deep=False)
    sizes = {k: v for k, v in attributes.items() if k in _COUNTS}
    dtype = np.dtype(params["dtype"]) if "dtype" in params else None
    for name, a in arrays.items():
        if a.dtype.kind not in "biufUS":
            raise ValueError(f"{name} has an unsupported dtype {a.dtype}")
        if name not in _LABELS:
            if a.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
                raise ValueError(f"{name} must hold float32 or float64 values, got {a.dtype}")
            if not np.isfinite(a).all():
                raise ValueError(f"{name} must be finite")
            if a.ndim >= 2 and dtype is not None and a.dtype != dtype:
                raise ValueError(f"{name} has dtype {a.dtype} but the model's dtype is {dtype}")
        shape = _SHAPES.get(name)
        if shape is None:
            continue
        if a.ndim != len(shape):
            raise ValueError(f"{name} must be {len(shape)}-dimensional, got shape {a.shape}")
        for axis, (size, want) in enumerate(zip(a.shape, shape, strict=True)):
            if isinstance(want, str):
                if want not in sizes:
                    if want in _COUNTS:
                        raise ValueError(f"{name} needs {want}, which is missing")
                    sizes[want] = size
                want = sizes[want]
            if size != want:
                what = "the factors' columns" if shape[axis] == "k" else shape[axis]
                raise ValueError(f"{name} has shape {a.shape}: axis {axis} must have size "
                                 f"{want} ({what})")
    check = getattr(model, "_check_fitted_state", None)
    if check is not None:  # a model whose arrays' widths are not multiples of its rank
        check(attributes, arrays)
        return
    rank_name = "n_factors" if "n_factors" in params else "n_components"
    rank = params.get(rank_name)
    if "k" in sizes and isinstance(rank, int) and (sizes["k"] == 0 or sizes["k"] % rank):
        raise ValueError(f"the factors have {sizes['k']} columns, which does not fit "
                         f"{rank_name}={rank}")


def _lazy_class(name):
    """The registered class ``name`` after importing it: fastmf imports estimators on first use."""
    import fastmf

    if name in fastmf._LAZY:
        getattr(fastmf, name)
    return _REGISTRY.get(name)


def _savable_array(a, name):
    if a.dtype != object:
        return a
    if all(isinstance(x, str) for x in a):
        return a.astype(str)
    if all(isinstance(x, numbers.Integral) for x in a):
        return a.astype(np.int64)
    raise TypeError(f"cannot save {name}: it holds objects other than strings or integers")


def _jsonable(value, name):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, name) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, name) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.ndim <= 1 and value.dtype != object:
        return value.tolist()
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    raise TypeError(
        f"cannot save {name}={value!r}: only numbers, strings, lists and dicts are stored "
        "(pass random_state as an int or None to make a model savable)"
    )

"""Saving and loading estimators as ``.npz`` (arrays) plus JSON metadata: no pickle anywhere."""

import json
import numbers

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
    with np.load(path, allow_pickle=False) as f:
        if "__meta__" not in f.files:
            raise ValueError(f"{path} is not a fastmf model file (no metadata)")
        meta = json.loads(str(f["__meta__"]))
        arrays = {k: f[k] for k in f.files if k != "__meta__"}
    cls = _REGISTRY.get(meta["class"]) or _lazy_class(meta["class"])
    if cls is None:
        raise ValueError(f"{path} holds an unknown model class {meta['class']!r}")
    model = cls(**meta["params"])
    for name, value in meta["attributes"].items():
        setattr(model, name, value)
    for name, value in arrays.items():
        setattr(model, name, value)
    return model


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

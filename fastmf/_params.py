"""Parameter conventions shared by the estimators: renamed parameters and their old names.

A renamed parameter keeps its old name in ``__init__`` for one release, defaulting to the
:data:`DEPRECATED` marker; :func:`renamed` returns the value to use and warns when the old
name was set.
"""

import warnings

#: Default of a parameter's old name: "not set".
DEPRECATED = "deprecated"


def renamed(model, old, new, convert=None):
    """The value of ``model``'s parameter ``new``, or of ``old`` (with a FutureWarning) when
    the old name was set; ``convert`` maps an old value to the new parameter's meaning."""
    value = getattr(model, old)
    if isinstance(value, str) and value == DEPRECATED:
        return getattr(model, new)
    warnings.warn(f"{type(model).__name__}: '{old}' is renamed '{new}'; '{old}' will be "
                  "removed in fastmf 0.3", FutureWarning, stacklevel=3)
    return value if convert is None else convert(value)

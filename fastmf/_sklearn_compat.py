"""scikit-learn base classes when scikit-learn is installed, minimal stand-ins when it is not.

scikit-learn is not a run-time dependency. With it installed (the usual case, and always in
the test extra) every fastmf estimator is a real ``BaseEstimator``: ``clone``, ``Pipeline``,
``GridSearchCV`` and ``check_estimator`` work. Without it, the stand-ins below provide the
parameter protocol (``get_params`` / ``set_params``) and ``score``.
"""

import inspect

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
except ImportError:  # pragma: no cover - exercised only without scikit-learn

    class BaseEstimator:
        """Parameter protocol of scikit-learn estimators."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values()
                          if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}")
                setattr(self, key, value)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class RegressorMixin:
        """Coefficient of determination as ``score``."""

        _estimator_type = "regressor"

        def score(self, X, y, sample_weight=None):
            y = np.asarray(y, dtype=float)
            pred = self.predict(X)
            w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, float)
            ss_res = np.sum(w * (y - pred) ** 2)
            ss_tot = np.sum(w * (y - np.average(y, weights=w)) ** 2)
            return 1.0 - ss_res / ss_tot

    class ClassifierMixin:
        """Accuracy as ``score``."""

        _estimator_type = "classifier"

        def score(self, X, y, sample_weight=None):
            return float(np.average(self.predict(X) == np.asarray(y), weights=sample_weight))

__all__ = ["BaseEstimator", "ClassifierMixin", "RegressorMixin"]

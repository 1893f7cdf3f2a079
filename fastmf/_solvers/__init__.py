"""The solvers: one class per (model, algorithm, back end), one protocol
(:mod:`fastmf._solvers.base`), found through :mod:`fastmf._solvers.registry`."""

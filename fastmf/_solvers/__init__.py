"""Python drivers of the MatrixFactorization solvers: one module a solver.

Each module defines a class constructed as ``Solver(model, ratings, rng)`` after the estimator
has validated its parameters and initialised ``user_factors_``, ``item_factors_``, the biases
and ``global_mean_``. ``step()`` runs one iteration in place on those arrays and returns the
training objective; ``extra_state`` lists any further arrays an iteration mutates (momentum
buffers, ...), so the fitting loop can restore them on interrupt or early stopping.
"""

"""L-BFGS one iteration at a time, on a flat parameter vector of the model's dtype.

Unconstrained limited-memory BFGS (Nocedal & Wright, Algorithm 7.5): the direction from the
last ``memory`` steps by the two-loop recursion with ``H0 = (s.y / y.y) I``, and a backtracking
line search on the sufficient-decrease (Armijo) condition with safeguarded quadratic
interpolation. The first step has length 1 along ``-g / |g|`` (as L-BFGS-B's), later ones try
the full quasi-Newton step first. A pair with too little curvature (``s.y <= 1e-10 y.y``)
is not stored, so the inverse Hessian estimate stays positive definite without a Wolfe
curvature test; a direction that is not downhill resets the memory to steepest descent.

The two-loop recursion runs on the Gram matrix of the stored vectors (the steps ``s``, the
gradient changes ``y`` and the gradient; "vector-free" L-BFGS, Chen, Wang, Zhou & Yuan,
NeurIPS 2014): the direction is a combination of those vectors whose coefficients come from
their dot products, so an iteration makes two passes over the memory (new dot products, then
the combination) instead of four per stored pair.

Why not SciPy's L-BFGS-B: it keeps float64 copies of every vector, runs its O(memory * n)
vector work on one thread and, for the bounds this use has none of, computes a generalised
Cauchy point every iteration; on AutoRec's 10^6-10^7 weights that cost several times the
objective and gradient themselves. Here the vectors are the model's dtype (half the memory in
float32), every pass is a parallel kernel (:mod:`fastmf._kernels.lbfgs`) and every dot product
has a fixed summation order, so the iterates are the same at any thread count.
"""

import numpy as np

from .._kernels.lbfgs import combine, difference, gram_rows, step_to

#: Sufficient-decrease constant of the line search.
ARMIJO = 1e-4
#: Trial steps per line search before the iteration gives up.
MAX_TRIALS = 20


class LBFGS:
    """Minimise ``fun`` from ``x0`` by L-BFGS, one iteration per :meth:`next`.

    ``fun(x, g)`` returns the objective at ``x`` (a float) and writes its gradient into ``g``
    (both of ``x0``'s dtype and length). :attr:`x` and :attr:`f` are the current iterate and
    its objective. ``next()`` returns False, leaving the iterate unchanged, when the line
    search finds no decrease (the gradient vanishes, or the objective is flat to rounding
    along the direction): the minimisation has stopped.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf._solvers.lbfgs import LBFGS
    >>> scale = np.array([1.0, 10.0, 100.0])
    >>> def fun(x, g):
    ...     g[:] = scale * (x - 1)
    ...     return float(0.5 * scale @ (x - 1) ** 2)
    >>> opt = LBFGS(fun, np.zeros(3))
    >>> while opt.next():
    ...     pass
    >>> np.allclose(opt.x, 1)
    True
    """

    def __init__(self, fun, x0, memory=10):
        self.fun = fun
        self.x = np.array(x0, copy=True)
        self._trial_x, self._d = np.empty_like(self.x), np.empty_like(self.x)
        m = self._m = memory
        # rows: steps s_j (j < m), gradient changes y_j (m + j), two gradients (2m, 2m + 1):
        # the current one (self._g) and the one at the trial point
        self._B = np.zeros((2 * m + 2, len(self.x)), self.x.dtype)
        self._G = np.zeros((2 * m + 2, 2 * m + 2))  # the Gram matrix of the rows in use
        self._g, self._t = 2 * m, 2 * m + 1
        self._rho = np.zeros(m)
        self._slots = []  # the pairs in use, oldest first
        self._gamma = 1.0
        self.f = float(fun(self.x, self._B[self._g]))
        self._update_gram([self._g])

    @property
    def g(self):
        """The gradient at :attr:`x`."""
        return self._B[self._g]

    def next(self):
        """One iteration; False when no decrease was found (nothing changed)."""
        if not np.isfinite(self.f):
            return False
        coef = self._direction()
        slope = float(coef @ self._G[self._g])  # g . d
        if not slope < 0:  # not downhill (rounding in the memory): steepest descent
            self._slots.clear()
            coef = self._direction()
            slope = float(coef @ self._G[self._g])
            if not slope < 0:
                return False
        d = self._d
        combine(self._B, coef, d)
        t = 1.0 if self._slots else 1.0 / np.sqrt(-slope)
        xt, gt = self._trial_x, self._B[self._t]
        for _ in range(MAX_TRIALS):
            step_to(self.x, t, d, xt)
            ft = float(self.fun(xt, gt))
            if ft <= self.f + ARMIJO * t * slope:
                break
            if np.isfinite(ft):  # minimiser of the quadratic through f, slope and ft
                t = min(max(-slope * t * t / (2.0 * (ft - self.f - slope * t)), 0.1 * t),
                        0.5 * t)
            else:
                t *= 0.1
        else:
            return False
        self._remember(xt)
        self.x, self._trial_x = xt, self.x
        self.f = ft
        return True

    def _direction(self):
        """Coefficients over the rows of ``B`` of ``d = -H g`` (the two-loop recursion on the
        Gram matrix: ``q . s_j`` is ``coef . G[j]``)."""
        m, G, rho = self._m, self._G, self._rho
        alpha = np.zeros(m)
        coef = np.zeros(len(G))
        coef[self._g] = -1.0
        for j in reversed(self._slots):
            alpha[j] = rho[j] * (coef @ G[j])
            coef[m + j] -= alpha[j]
        if self._slots:
            coef *= self._gamma
        for j in self._slots:
            beta = rho[j] * (coef @ G[m + j])
            coef[j] += alpha[j] - beta
        return coef

    def _remember(self, xt):
        """Store the pair of the accepted step to ``xt`` (whose gradient is in the trial row)
        and make the trial gradient the current one."""
        m, B = self._m, self._B
        rows = [self._t]
        if m:
            j = self._slots.pop(0) if len(self._slots) == m else (
                min(set(range(m)) - set(self._slots)))
            difference(xt, self.x, B[j])
            difference(B[self._t], B[self._g], B[m + j])
            rows = [j, m + j, self._t]
        self._g, self._t = self._t, self._g
        self._update_gram(rows)
        if m:
            sy, yy = self._G[j, m + j], self._G[m + j, m + j]
            if sy > 1e-10 * yy:
                self._rho[j] = 1.0 / sy
                self._slots.append(j)
                self._gamma = sy / yy

    def _update_gram(self, rows):
        G = self._G
        rows = np.array(rows, np.int64)
        out = np.empty((len(rows), len(G)))
        gram_rows(self._B, rows, out)
        G[rows, :] = out
        G[:, rows] = out.T
        G[self._t, :] = G[:, self._t] = 0.0  # the trial row: not in use

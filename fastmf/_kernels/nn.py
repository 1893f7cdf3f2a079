"""The small neural core of the neural models (AutoRec, ResidualMF, NCF): activations, dense
layers, MLPs over one flat parameter vector, losses, and the SGD-with-momentum and Adam steps.

Layout
------
A dense layer maps ``x`` (n_in,) to ``a = f(z)``, ``z = x @ W + b``, ``W`` (n_in, n_out)
row-major. An MLP with layer sizes ``sizes = (n_0, ..., n_L)`` and activation codes ``codes``
(L,) keeps ``W_0, b_0, W_1, b_1, ...`` one after the other in one flat vector ``theta`` of
:func:`n_params` elements, so one optimiser call, one gradient buffer and one L-BFGS vector
cover it. A sample's activations live in one vector ``a`` of ``sum(sizes)`` elements: the input
in ``a[:n_0]``, layer ``l``'s output right after layer ``l - 1``'s; its backward quantities
``d`` use the same layout and hold ``dL/dz`` of each layer (``dL/dx`` in ``d[:n_0]``).

Minibatches, deterministically
------------------------------
No minibatch kernel sums floating-point numbers in an order that depends on the thread count.
The epochs of ResidualMF and NCF run their MLPs layer by layer over the batch, one BLAS product
per layer and pass (:mod:`~fastmf._kernels.mlp_gemm`, in one thread or in a fixed number of
parts at once; the caller limits the BLAS pool to one thread), and the cheap O(batch x k) parts
in one thread in sample order (the embedding rows' gradients, the rows listed by
:func:`touch_row`, their lazy steps :func:`opt_step_rows`).
Parallel kernels split the work over parameters or rows, never over the samples of one sum:
each weight row's gradient sums its samples in a fixed order (:func:`grad_row`,
:func:`dense_grad`), each block of a flat vector is stepped by its own task
(:func:`opt_step_flat`). So a ``random_state`` (which fixes the initial parameters and the
sample order) gives the same model bit for bit at any thread count, and no per-thread copy of a
gradient is needed.

Parallel functions take arrays and scalars only (the ``opt`` tuple holds scalars): with Numba
0.68, tuples of arrays in a ``prange`` function either fail to compile (numba#2651) or, when
unpacked with ``a, b = pair``, silently lose the writes made through them. Serial kernels may
group arrays in tuples.

Optimisers
----------
``opt = (code, learning_rate, beta1, beta2, eps)``: ``code`` is :data:`SGD` (``beta1`` is the
momentum; PyTorch's convention ``v <- beta1 v + g``, ``x <- x - lr v``, no dampening, no
Nesterov; ``beta2`` and ``eps`` unused) or :data:`ADAM` (PyTorch's Adam with the bias
corrections of step ``t`` >= 1: ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
``x <- x - lr / (1 - b1^t) m / (sqrt(v / (1 - b2^t)) + eps)``). L2 weight decay is added to the
gradient (``g + decay x``, as ``weight_decay`` in PyTorch's Adam and SGD; not AdamW's decoupled
decay). State arrays: ``s1`` the velocity (SGD; zero-length for plain SGD) or the first moment
(Adam), ``s2`` the second moment (Adam; unused by SGD).

Weight matrices and biases get dense steps (:func:`opt_step`, :func:`opt_step_flat`): every
element moves every step. Embedding tables get row-sparse, *lazy* steps
(:func:`opt_step_rows`): only the rows a batch touches are stepped; an untouched row neither
moves nor has its state decayed, and gets no weight decay that step (the models put the L2 of an
embedding row into the per-sample gradient instead, once per occurrence). A dense framework
optimiser differs: PyTorch's ``nn.Embedding(sparse=False)`` with ``torch.optim.Adam`` steps
every row every batch, so an untouched row's moments decay (``m <- b1 m``, ``v <- b2 v``) and
the row keeps moving by ``lr m_hat / (sqrt(v_hat) + eps)``, and ``weight_decay`` shrinks every
row at every step; with ``torch.optim.SGD(momentum=...)`` an untouched row keeps moving by its
decaying velocity. The lazy rule is that of ``torch.optim.SparseAdam`` (and TensorFlow's
LazyAdam): step count ``t`` shared by the whole table, the bias correction uses it, and only the
rows present in the batch are updated.
"""

import numba
import numpy as np
from numba import prange

from .._config import JIT, PARALLEL_JIT

IDENTITY, SIGMOID, TANH, RELU, ELU = 0, 1, 2, 3, 4
ACTIVATIONS = {"identity": IDENTITY, "sigmoid": SIGMOID, "tanh": TANH, "relu": RELU,
               "elu": ELU}
SQUARED, LOG = 0, 1
LOSSES = {"squared": SQUARED, "log": LOG}
SGD, ADAM = 0, 1
OPTIMIZERS = {"sgd": SGD, "adam": ADAM}

_BLOCK = 2048  # elements per task of a dense step over a flat vector


@numba.njit(**JIT)
def n_params(sizes):
    """Number of elements of the flat parameter vector of an MLP with layer ``sizes`` (an
    integer array)."""
    total = 0
    for layer in range(sizes.shape[0] - 1):
        total += sizes[layer] * sizes[layer + 1] + sizes[layer + 1]
    return total


@numba.njit(**JIT)
def activate(z, code):
    """Apply activation ``code`` to the vector ``z`` in place (``z`` becomes ``f(z)``).

    sigmoid ``1 / (1 + e^-z)`` (saturates to exactly 0 or 1 through ``e^-z = inf`` or 0, never
    NaN), tanh, relu ``max(z, 0)``, elu ``z`` for ``z > 0`` else ``e^z - 1`` (alpha 1),
    identity. The loops are branch-free so that they vectorize (elu through
    :func:`_elu`, whose exponential is no library call).
    """
    n = z.shape[0]
    one = z.dtype.type(1)
    zero = z.dtype.type(0)
    if code == SIGMOID:
        for j in range(n):
            z[j] = one / (one + np.exp(-z[j]))
    elif code == TANH:
        for j in range(n):
            z[j] = np.tanh(z[j])
    elif code == RELU:
        for j in range(n):
            z[j] = max(z[j], zero)
    elif code == ELU:
        _elu(z)


@numba.njit(**JIT)
def _elu(z):
    """elu in place: ``z`` for ``z > 0``, else ``e^z - 1``, with ``e^x`` (``x = max(min(z, 0),
    -88)``; below -88 ``e^x - 1`` is -1 in float32 and float64 alike) computed without a
    library call, so that the loop vectorizes (Numba has no vector ``exp`` without SVML; a call
    per element is several times slower than the arithmetic here): ``x = n ln2 + r`` with
    ``n = round(x / ln2)`` (``ln2`` in two parts, the first exact in ``n ln2``), ``|r| <= ln2 /
    2``, ``e^r`` by its Taylor polynomial of degree 12 (truncation below 2e-16 relative), times
    ``2^n``, built from the 7 bits of ``-n`` as a product of ``2^-(2^b)``."""
    T = z.dtype.type
    one = T(1)
    zero = T(0)
    lo = T(-88.0)
    log2e = T(1.4426950408889634)
    ln2_hi = T(0.693359375)
    ln2_lo = T(-2.121944400546905e-4)
    c2, c3, c4, c5, c6 = T(1 / 2), T(1 / 6), T(1 / 24), T(1 / 120), T(1 / 720)
    c7, c8, c9, c10 = T(1 / 5040), T(1 / 40320), T(1 / 362880), T(1 / 3628800)
    c11, c12 = T(1 / 39916800), T(1 / 479001600)
    h1, h2, h4, h8 = T(2.0 ** -1), T(2.0 ** -2), T(2.0 ** -4), T(2.0 ** -8)
    h16, h32, h64 = T(2.0 ** -16), T(2.0 ** -32), T(2.0 ** -64)
    for j in range(z.shape[0]):
        v = z[j]
        x = max(min(v, zero), lo)
        n = np.floor(x * log2e + T(0.5))
        r = (x - n * ln2_hi) - n * ln2_lo
        p = c11 + r * c12
        p = c10 + r * p
        p = c9 + r * p
        p = c8 + r * p
        p = c7 + r * p
        p = c6 + r * p
        p = c5 + r * p
        p = c4 + r * p
        p = c3 + r * p
        p = c2 + r * p
        p = one + r * p
        p = one + r * p
        m = np.int32(-n)  # 2^n = prod over the bits b of m of 2^-(2^b)
        p *= one + T(m & 1) * (h1 - one)
        p *= one + T((m >> 1) & 1) * (h2 - one)
        p *= one + T((m >> 2) & 1) * (h4 - one)
        p *= one + T((m >> 3) & 1) * (h8 - one)
        p *= one + T((m >> 4) & 1) * (h16 - one)
        p *= one + T((m >> 5) & 1) * (h32 - one)
        p *= one + T((m >> 6) & 1) * (h64 - one)
        z[j] = v if v > zero else p - one


@numba.njit(**JIT)
def activation_backward(a, d, code):
    """``d *= f'(z)`` in place, with the derivative written in terms of the output ``a = f(z)``
    (sigmoid ``a (1 - a)``, tanh ``1 - a^2``, relu ``[a > 0]``, elu ``1`` for ``a > 0`` else
    ``a + 1``): turns ``dL/da`` into ``dL/dz``."""
    n = a.shape[0]
    one = a.dtype.type(1)
    zero = a.dtype.type(0)
    if code == SIGMOID:
        for j in range(n):
            d[j] *= a[j] * (one - a[j])
    elif code == TANH:
        for j in range(n):
            d[j] *= one - a[j] * a[j]
    elif code == RELU:
        for j in range(n):
            d[j] = d[j] if a[j] > zero else zero
    elif code == ELU:
        for j in range(n):
            d[j] = d[j] if a[j] > zero else d[j] * (a[j] + one)


@numba.njit(**JIT)
def dense_forward(x, W, b, code, out):
    """``out = f(x @ W + b)`` for one sample: ``x`` (n_in,), ``W`` (n_in, n_out), ``b`` and
    ``out`` (n_out,)."""
    n_in, n_out = W.shape
    if n_out == 1:  # one dot product: a reduction over the inputs, which vectorizes
        w1 = W.reshape(n_in)
        s = b[0]
        for i in range(n_in):
            s += x[i] * w1[i]
        out[0] = s
    else:
        for j in range(n_out):
            out[j] = b[j]
        for i in range(n_in):
            xi = x[i]
            w = W[i]  # 1-D views in inner loops: LLVM vectorizes them, not 2-D indexing
            for j in range(n_out):
                out[j] += xi * w[j]
    activate(out, code)


@numba.njit(**JIT)
def dense_backward(W, a, code, d, dx):
    """Backward through one dense layer for one sample.

    ``a`` is the layer's output, ``d`` holds ``dL/da`` on entry and ``dL/dz`` on exit; writes
    ``dx = W @ dL/dz`` (the gradient with respect to the layer's input) unless ``dx`` is
    zero-length. The weight gradient of a batch is :func:`dense_grad`'s.
    """
    activation_backward(a, d, code)
    if dx.shape[0] == 0:
        return
    n_in, n_out = W.shape
    for i in range(n_in):
        w = W[i]
        s = d.dtype.type(0)
        for j in range(n_out):
            s += w[j] * d[j]
        dx[i] = s


@numba.njit(**JIT)
def grad_row(X, col, Dz, col_out, n, scale, g):
    """``g[j] = scale * sum_s X[s, col] Dz[s, col_out + j]`` over samples ``s < n`` in order;
    with ``col < 0`` the bias row ``scale * sum_s Dz[s, col_out + j]``."""
    n_out = g.shape[0]
    for j in range(n_out):
        g[j] = 0
    for s in range(n):
        x = X[s, col] if col >= 0 else X.dtype.type(1)
        if x != 0:
            d = Dz[s, col_out:col_out + n_out]
            for j in range(n_out):
                g[j] += x * d[j]
    for j in range(n_out):
        g[j] *= scale


@numba.njit(**PARALLEL_JIT)
def dense_grad(X, Dz, n, gW, gb, scale):
    """Weight and bias gradients of one dense layer over a batch of ``n`` samples.

    ``gW = scale * X[:n].T @ Dz[:n]`` and ``gb = scale * Dz[:n].sum(0)`` with ``X`` the inputs
    (n, n_in) and ``Dz`` the ``dL/dz`` (n, n_out) of each sample. Parallel over the rows of
    ``gW``; each element sums the samples in order, so the result is the same at any thread
    count.
    """
    n_in = gW.shape[0]
    T = gW.dtype.type
    for r in prange(n_in + 1):
        if r < n_in:
            grad_row(X, r, Dz, 0, n, T(scale), gW[r])
        else:
            grad_row(X, -1, Dz, 0, n, T(scale), gb)


@numba.njit(**JIT)
def mlp_forward(theta, sizes, codes, a, first):
    """Forward pass of an MLP for one sample, from layer ``first`` on.

    ``a`` (sum(sizes),) holds the input of layer ``first`` at its offset (the MLP input in
    ``a[:sizes[0]]`` for ``first = 0``); every later layer's output is written after it, the
    MLP's output in ``a[-sizes[-1]:]``.
    """
    w = 0
    o = 0
    for layer in range(sizes.shape[0] - 1):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        if layer >= first:
            nw = n_in * n_out
            dense_forward(a[o:o + n_in], theta[w:w + nw].reshape((n_in, n_out)),
                          theta[w + nw:w + nw + n_out], codes[layer], a[o + n_in:o + n_in + n_out])
        w += n_in * n_out + n_out
        o += n_in


@numba.njit(**JIT)
def mlp_backward(theta, sizes, codes, a, d, want_dx):
    """Backward pass of an MLP for one sample after :func:`mlp_forward`.

    On entry ``d[-sizes[-1]:]`` holds ``dL/d(output)``; on exit each layer's slot of ``d``
    holds its ``dL/dz``, and ``d[:sizes[0]]`` the gradient with respect to the input when
    ``want_dx``. A batch's weight gradients come from
    :func:`~fastmf._kernels.mlp_gemm.backward`.
    """
    n_layers = sizes.shape[0] - 1
    w = n_params(sizes)
    o = 0
    for layer in range(n_layers):
        o += sizes[layer]  # the output's offset
    for layer in range(n_layers - 1, -1, -1):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        nw = n_in * n_out
        w -= nw + n_out
        o -= n_in
        dx = d[o:o + n_in] if (layer > 0 or want_dx) else d[0:0]
        dense_backward(theta[w:w + nw].reshape((n_in, n_out)), a[o + n_in:o + n_in + n_out],
                       codes[layer], d[o + n_in:o + n_in + n_out], dx)


@numba.njit(**JIT)
def loss_grad(pred, y, code):
    """``(loss, dloss/dpred)`` of one prediction, in float64.

    :data:`SQUARED`: ``(pred - y)^2 / 2`` and ``pred - y``. :data:`LOG` (binary cross-entropy
    on the logit ``pred``, ``y`` in [0, 1]): ``log(1 + e^pred) - y pred`` and
    ``sigmoid(pred) - y``, computed as ``log1p(e^-|pred|) + max(pred, 0) - y pred`` so that no
    exponential overflows.
    """
    p = np.float64(pred)
    t = np.float64(y)
    if code == LOG:
        e = np.exp(-abs(p))
        s = 1.0 / (1.0 + e) if p >= 0 else e / (1.0 + e)
        return np.log1p(e) + max(p, 0.0) - t * p, s - t
    r = p - t
    return 0.5 * r * r, r


@numba.njit(**JIT)
def opt_step(x, g, s1, s2, opt, t, decay):
    """One optimiser step on the vector ``x`` (in place) with gradient ``g + decay * x``.

    ``opt = (code, learning_rate, beta1, beta2, eps)`` and the state ``s1``, ``s2`` as in the
    module docstring; ``t`` (>= 1) is the step number, used by Adam's bias corrections. Adam
    needs both states; for SGD a zero-length ``s1`` means no momentum.
    """
    code, lr, beta1, beta2, eps = opt
    T = x.dtype.type
    n = x.shape[0]
    dec = T(decay)
    if code == ADAM:
        b1 = T(beta1)
        b2 = T(beta2)
        c1 = T(1 - beta1)
        c2 = T(1 - beta2)
        step = T(lr / (1 - beta1 ** t))
        root = T(1 / np.sqrt(1 - beta2 ** t))
        e = T(eps)
        for j in range(n):
            gj = g[j] + dec * x[j]
            m = b1 * s1[j] + c1 * gj
            v = b2 * s2[j] + c2 * gj * gj
            s1[j] = m
            s2[j] = v
            x[j] -= step * m / (np.sqrt(v) * root + e)
    elif s1.shape[0] > 0:
        rate = T(lr)
        mom = T(beta1)
        for j in range(n):
            v = mom * s1[j] + g[j] + dec * x[j]
            s1[j] = v
            x[j] -= rate * v
    else:
        rate = T(lr)
        for j in range(n):
            x[j] -= rate * (g[j] + dec * x[j])


@numba.njit(**PARALLEL_JIT)
def opt_step_flat(x, g, s1, s2, opt, t, decay):
    """:func:`opt_step` on a whole 1-D vector (a flat weight vector), parallel over blocks."""
    n = x.shape[0]
    has_s1 = s1.shape[0] > 0
    has_s2 = s2.shape[0] > 0
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        lo = blk * _BLOCK
        hi = min(lo + _BLOCK, n)
        opt_step(x[lo:hi], g[lo:hi], s1[lo:hi] if has_s1 else s1[0:0],
                 s2[lo:hi] if has_s2 else s2[0:0], opt, t, decay)


@numba.njit(**JIT)
def state_row(S, r):
    """Row ``r`` of an optimiser state table, or a zero-length vector for an absent state."""
    return S[r] if S.shape[0] > 0 else S.reshape((S.size,))


@numba.njit(**JIT)
def opt_step_rows(X, G, S1, S2, rows, n, opt, t):
    """Lazy (row-sparse) step: :func:`opt_step` on rows ``rows[:n]`` of the table ``X`` with
    gradient rows ``G[r]``, which are then zeroed; no other row moves or has its state touched.

    ``X``, ``G``, ``S1``, ``S2`` are 2-D with one row per table row (pass ``b.reshape(-1, 1)``
    for a bias vector; zero-row ``S1``/``S2`` for an absent state). No decay is added: the
    models put each row's L2 into its gradient. Serial: a batch's rows are too little work to
    share between threads.
    """
    for q in range(n):
        r = rows[q]
        g = G[r]
        opt_step(X[r], g, state_row(S1, r), state_row(S2, r), opt, t, 0.0)
        for j in range(g.shape[0]):
            g[j] = 0


@numba.njit(**JIT)
def touch_row(r, mark, stamp, rows, n):
    """Register table row ``r`` as touched by the current batch; returns the new count ``n``.

    The first time a row is seen under ``stamp`` (``mark[r] != stamp``; ``mark`` starts at -1,
    ``stamp`` is unique per batch) it is appended to ``rows``, so ``rows[:n]`` lists the
    batch's rows once each, in order of first appearance, for :func:`opt_step_rows`.
    """
    if mark[r] != stamp:
        mark[r] = stamp
        rows[n] = r
        n += 1
    return n

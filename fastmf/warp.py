"""``WARP``: weighted approximate-rank pairwise ranking of implicit feedback, by parallel SGD."""

from ._params import DEPRECATED
from ._validation import check_int_param, check_option
from .bpr import BPR

__all__ = ["WARP"]


class WARP(BPR):
    r"""WARP and k-OS WARP (Weston et al. 2011, 2013): BPR's model trained on the top of the list.

    The model is BPR's, :math:`\hat x_{ui} = w_u^\top h_i + b_i`. A sample draws a stored entry
    :math:`(u, i)` (for ``loss="warp-kos"`` the positive is then the ``os_k``-th best scored
    of ``os_n`` positives of :math:`u` drawn with replacement) and draws items :math:`j` until
    one violates the margin, :math:`\hat x_{uj} > \hat x_{ui} - 1`, at most ``max_sampled``
    times. Found at draw :math:`t`, the violator estimates the positive's rank as
    :math:`r = \lfloor (n_{items} - 1) / t \rfloor`, and one SGD step descends the
    rank-weighted hinge loss plus the L2 terms of the rows it moves,

    .. math::

        \min(\ln r, 10) \, (1 - \hat x_{ui} + \hat x_{uj})
        + \lambda (\|w_u\|^2 + \|h_i\|^2 + \|h_j\|^2 + b_i^2 + b_j^2),

    so positives far down the list (a violator found at once) move most, and a sample without
    a violator within the cap makes no step. The SGD step is BPR's (one kernel family): only
    the weight of the pair differs. Items the user has are not taken as violators (with
    ``verify_negative``): such a draw uses up its trial.

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors k.
    loss : {"warp", "warp-kos"}, default="warp"
        Plain WARP, or k-OS WARP (the positive an order statistic of the user's positives,
        which weighs the top of each user's list further).
    n_iter : int, default=40
        Epochs (each draws ``nnz`` samples).
    tol : float, default=0.0
        Stop early when the objective's relative decrease over one epoch falls to ``tol`` or
        below (0: run all ``n_iter``).
    learning_rate : float, default=0.03
        SGD step size (> 0); with AdaGrad, the step of a row that has not moved yet.
    lr_schedule : {"adagrad", "constant"}, default="adagrad"
        ``"adagrad"``: per-row AdaGrad, each row's step ``learning_rate / sqrt(a)`` with ``a``
        one plus the sum over its steps of the mean square of its gradient (LightFM adapts
        every parameter alike; one accumulator per row costs one number per row). Kept as
        ``user_adagrad_`` / ``item_adagrad_``, so a warm start continues where it stopped.
        ``"constant"``: plain SGD.
    reg : float, default=0.15
        L2 weight :math:`\lambda`, applied at each step to the rows it moves (it balances
        rank weights up to 10, hence larger than BPR's).
    max_sampled : int, default=20
        Cap on the items drawn per sample in search of a violator.
    os_k, os_n : int, default=5, 10
        ``loss="warp-kos"``: the positive is the ``os_k``-th best of ``os_n`` drawn
        (LightFM's ``k`` and ``n``).
    verify_negative : bool, default=True
        A drawn item the user has is not a violator (a lookup in a hash set of the positive
        pairs, built once per fit: O(nnz) memory).
    negatives : {"uniform", "popularity"}, default="uniform"
        How items are drawn: uniformly, or as the item of a random stored entry.
    init_scale : float, default=0.01
        Standard deviation of the normal initial factors (biases start at 0).
    dtype : {"float32", "float64"}, default="float32"
    n_threads : int or None, default=None
        Threads; ``None`` uses every core. The fit is deterministic for a given
        ``random_state`` only with ``n_threads=1`` (parallel updates race).
    random_state : int, numpy Generator or None, default=None
        Seed of the initial factors and of every epoch's random streams.
    verbose : bool, default=False
    warm_start : bool, default=False
        Continue from the fitted factors on the next ``fit`` (same data shape).
    early_stopping_rounds : int or None, default=None
        With an ``eval_set``: stop when its nDCG@10 has not improved for this many epochs
        and keep the best epoch's factors (``best_iteration_``).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
    item_bias_ : ndarray of shape (n_items,)
    user_adagrad_, item_adagrad_ : ndarray of shape (n_users,), (n_items,)
        The AdaGrad accumulators (``lr_schedule="adagrad"`` only).
    user_bias_ : None
    global_mean_ : float
        Always 0.
    history_ : dict of lists
        Per epoch: ``train_loss`` (the rank-weighted hinge losses of the steps taken, each
        before its step, plus the L2 terms of an average triple per step), ``skipped`` (draws
        that were one of the user's items), ``seconds`` and, with an ``eval_set``,
        ``eval_ndcg@10`` and ``eval_precision@10``.
    n_iter_ : int

    Notes
    -----
    The defaults were chosen by nDCG@10 on a validation split carved from the training part of
    MovieLens-100k's benchmark split (10 % of each user's positives; never the test split),
    k = 64, 2 threads (Hogwild: runs differ by about 0.004): AdaGrad at 0.03 with L2 0.15
    reached 0.207-0.211 after 40 epochs (0.02 / 0.1: 0.210 after 60; constant steps at their
    best, 0.005 / 0.5: 0.199 after 60, and fell with more L2 or a larger step); BPR at its
    defaults reached 0.192 (100 epochs). ``python benchmarks/tune_warp.py`` reruns any of
    these; benchmarks/RESULTS.md, "Top-N lists", has the test split and LightFM.

    References
    ----------
    Weston, Bengio & Usunier, "WSABIE: Scaling up to large vocabulary image annotation",
    IJCAI 2011. Weston, Yee & Weiss, "Learning to rank recommendations with the k-order
    statistic loss", RecSys 2013.

    Examples
    --------
    >>> import fastmf
    >>> counts = fastmf.datasets.make_counts(200, 80, rank=4, random_state=0)
    >>> model = fastmf.WARP(n_factors=8, n_iter=5, n_threads=1, random_state=0).fit(counts)
    >>> model.recommend(0, n=3, exclude=counts)[0].shape
    (3,)
    """

    _family = "BPR"
    _fitted_names = BPR._fitted_names + ("user_adagrad_", "item_adagrad_")

    def __init__(self, n_factors=64, *, loss="warp", n_iter=40, tol=0.0, learning_rate=0.03,
                 lr_schedule="adagrad", reg=0.15, max_sampled=20, os_k=5, os_n=10,
                 verify_negative=True,
                 negatives="uniform", init_scale=0.01, dtype="float32", n_threads=None,
                 random_state=None, verbose=False, warm_start=False,
                 early_stopping_rounds=None):
        self.n_factors = n_factors
        self.loss = loss
        self.n_iter = n_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.reg = reg
        self.max_sampled = max_sampled
        self.os_k = os_k
        self.os_n = os_n
        self.verify_negative = verify_negative
        self.negatives = negatives
        self.init_scale = init_scale
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping_rounds = early_stopping_rounds

    init_std = DEPRECATED  # BPR's deprecated alias: not a WARP parameter

    def _check_params(self):
        p = super()._check_params()
        os_n = check_int_param(self.os_n, "os_n", low=1)
        p.update(loss=check_option(self.loss, "loss", ("warp", "warp-kos")),
                 max_sampled=check_int_param(self.max_sampled, "max_sampled", low=1),
                 os_k=check_int_param(self.os_k, "os_k", low=1, high=os_n), os_n=os_n,
                 lr_schedule=check_option(self.lr_schedule, "lr_schedule",
                                          ("constant", "adagrad")))
        return p

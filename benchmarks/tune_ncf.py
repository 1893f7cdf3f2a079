"""How NeuMF's fine-tuning defaults were chosen: validation HR@10 under the NCF protocol.

``ncf_protocol.py``'s split of MovieLens-100k (every rating an interaction, each user's latest
held out by time, seed 0) gives the training part; this script holds out each user's latest
interaction of that part again (seed 1) and ranks it among 99 sampled negatives (seed 1). The
test split is never read. Each argument is a dict of NCF settings; every setting is fitted
with seeds 0, 1 and 2, and the pre-trained GMF and MLP of a seed (NCF's defaults) are fitted
once and shared by every NeuMF setting of that seed.

    python benchmarks/tune_ncf.py ../shared/data/ml-100k "dict(model='gmf')" \
        "dict(model='mlp')" "dict(finetune_optimizer='adam')" "dict()" \
        "dict(finetune_learning_rate=0.003, n_iter=10)"

prints, per setting, HR@10 and NDCG@10 (the mean of the three seeds, then each seed's HR).
"""

import sys

import numpy as np

import fastmf
from fastmf.metrics import sampled_ranking_metrics
from fastmf.model_selection import leave_one_out, sample_negatives

SEEDS = (0, 1, 2)


class SharedPretraining(fastmf.NCF):
    """NCF whose NeuMF starts from pre-trained models fitted once per seed (at NCF's defaults)."""

    cache = {}

    def _pretrained(self, ratings, eval_set, p, rng):
        seed = self.random_state
        if seed not in self.cache:
            base = fastmf.NCF(random_state=seed, n_threads=self.n_threads)
            self.cache[seed] = base._pretrained(ratings, eval_set, base._check_params(), rng)
        else:  # the sub-models' seeds drawn, as the fit itself does
            rng.integers(2**31)
            rng.integers(2**31)
        state, history = self.cache[seed]
        return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}, history


def main(path, settings):
    r = fastmf.datasets.load_movielens("100k", path=path)
    binary = fastmf.Ratings(r.users, r.items, np.ones(r.nnz), timestamps=r.timestamps,
                            n_users=r.n_users, n_items=r.n_items)
    train, _ = leave_one_out(binary, method="time", random_state=0)
    fit_part, valid = leave_one_out(train, method="time", random_state=1)
    negatives = sample_negatives(fit_part, valid, n=99, random_state=1)
    for text in settings:
        kw = eval(text, {"dict": dict})  # noqa: S307 - command-line settings of this script
        hits, ndcgs = [], []
        for seed in SEEDS:
            model = SharedPretraining(n_threads=2, random_state=seed, **kw).fit(fit_part)
            m = sampled_ranking_metrics(model, valid, negatives, k=10, train=fit_part)
            hits.append(m["hit_rate"])
            ndcgs.append(m["ndcg"])
        print(f"{text:50s} HR@10 {np.mean(hits):.4f} NDCG@10 {np.mean(ndcgs):.4f} "
              f"(HR per seed {', '.join(f'{h:.4f}' for h in hits)})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])

"""LightFM (Lyst; installed as ``lightfm-next``): BPR or WARP by asynchronous SGD (AdaGrad)."""

import numpy as np

from .._eval import ranking, ranking_data


def lightfm(case, train, test, threads, *, loss="bpr", learning_rate=0.05, alpha=0.0):
    """``lightfm.LightFM(no_components=k, loss, learning_rate)`` fitted ``iters`` epochs on the
    positives; scored with its item biases."""
    from lightfm import LightFM

    train_pos, test_pos = ranking_data(case, train, test)
    coo = train_pos.tocoo()

    def fit():
        model = LightFM(no_components=case["k"], loss=loss, learning_rate=learning_rate,
                        item_alpha=alpha, user_alpha=alpha, random_state=case.get("seed", 0))
        return model.fit(coo, epochs=case["iters"], num_threads=threads)

    def evaluate(model):
        U = np.hstack([model.user_embeddings, np.ones((coo.shape[0], 1), np.float32)])
        V = np.hstack([model.item_embeddings, model.item_biases[:, None]])
        return ranking((U, V), train_pos, test_pos)

    return fit, evaluate

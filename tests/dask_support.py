"""What the Dask tests share: small in-process clusters and power-law data with empty rows."""

import contextlib

import numpy as np

import fastmf


@contextlib.contextmanager
def local_cluster(n_workers=2, **kwargs):
    """A LocalCluster of single-threaded workers (in-process unless ``processes=True``) and
    its client; work stealing off, so that every task runs where its block lives and the
    bytes shipped are the cost model's."""
    import dask
    from distributed import Client, LocalCluster

    kwargs.setdefault("processes", False)
    with dask.config.set({"distributed.scheduler.work-stealing": False}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                               dashboard_address=":0", **kwargs)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def power_law_ratings(n_users=150, n_items=80, n_ratings=2000, empty=(12, 9), seed=0):
    """Ratings with skewed users and items, ``empty`` users and items without any rating
    spread through the index space."""
    r = fastmf.datasets.make_ratings(n_users, n_items, n_ratings, activity_exponent=1.0,
                                     popularity_exponent=1.0, random_state=seed)
    rng = np.random.default_rng(seed)
    nu, ni = n_users + empty[0], n_items + empty[1]
    umap = np.sort(rng.choice(nu, n_users, replace=False))
    imap = np.sort(rng.choice(ni, n_items, replace=False))
    return fastmf.Ratings(umap[r.users], imap[r.items], r.values, n_users=nu, n_items=ni)

"""The Dask client a fit runs on, and where its blocks live."""


def check_client(client):
    """``client``, or the current client when None; a closed one raises ValueError."""
    from distributed import Client, default_client

    if client is None:
        try:
            client = default_client()
        except ValueError:
            raise ValueError("no Dask client: pass client= or create a distributed.Client "
                             "first") from None
    if not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
    if client.status in ("closing", "closed"):
        raise ValueError(f"the Dask client is {client.status}: pass a running client")
    return client


def block_workers(client, n_blocks):
    """(P, the worker of each block): P = ``n_blocks`` or the cluster's thread count; block
    ``b`` of either side goes to the ``b``-th worker thread, round robin over the workers."""
    client.wait_for_workers(1)
    nthreads = dict(sorted(client.nthreads().items()))
    order = []  # one worker after the other, so that P = 2 on two workers uses both
    per = {w: [w] * n for w, n in nthreads.items()}
    while any(per.values()):
        for w in nthreads:
            if per[w]:
                order.append(per[w].pop())
    P = len(order) if n_blocks is None else n_blocks
    return P, [order[b % len(order)] for b in range(P)]

"""Top-N lists as long pandas DataFrames (what ``recommend``, ``similar_items`` and
``similar_users`` return with ``as_frame=True``)."""

import numpy as np


def top_n_frame(query_name, queries, other_name, index, scores, ids):
    """One row per listed entry: the query's label, the entry's ID, its score and rank.

    ``queries`` holds one label per row of ``index`` (raw IDs, or indices for a model without
    ID maps); ``index`` holds model indices padded with -1 (score -inf), mapped through
    ``ids`` when it is not None. Padding is dropped; ranks count from 1.
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extra
        raise ImportError("as_frame=True needs pandas: pip install 'fastmf[pandas]'") from None
    index, scores = np.atleast_2d(index), np.atleast_2d(np.asarray(scores, np.float64))
    rows, cols = np.nonzero((index >= 0) & np.isfinite(scores))
    listed = index[rows, cols]
    return pd.DataFrame({query_name: np.asarray(queries)[rows],
                         other_name: listed if ids is None else np.asarray(ids)[listed],
                         "score": scores[rows, cols], "rank": cols + 1})

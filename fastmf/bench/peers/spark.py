"""Apache Spark MLlib ALS through pyspark, ``local[threads]`` (needs Java 17).

Spark's ALS has no bias terms; its ``regParam`` is scaled by each row's count (ALS-WR). The
JVM starts with the first fit, so the benchmark warms it up once. Peak memory is the Python
process's: the JVM is not counted.
"""

import numpy as np

from .._eval import ranking, ranking_data, rmse


def _session(threads):
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{threads}]").appName("fastmf-bench")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "6g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _frame(spark, users, items, values):
    rows = list(zip(users.tolist(), items.tolist(), values.tolist(), strict=True))
    df = spark.createDataFrame(rows, ["user", "item", "rating"]).cache()
    df.count()
    return df


def _factors(frame, n, k):
    out = np.zeros((n, k), np.float32)
    pdf = frame.toPandas()
    out[pdf["id"].to_numpy()] = np.stack(pdf["features"].to_numpy())
    return out


def als(case, train, test, threads, *, reg=0.1, implicit=False, alpha=9.0):
    """``pyspark.ml.recommendation.ALS(rank=k, maxIter=iters, regParam=reg)``; with
    ``implicit=True`` on the positives (``implicitPrefs``, confidence 1 + alpha)."""
    from pyspark.ml.recommendation import ALS

    spark = _session(threads)
    if implicit:
        train_pos, test_pos = ranking_data(case, train, test)
        coo = train_pos.tocoo()
        df = _frame(spark, coo.row, coo.col, coo.data)
    else:
        df = _frame(spark, train.users, train.items, train.values)

    def fit():
        return ALS(rank=case["k"], maxIter=case["iters"], regParam=reg, userCol="user",
                   itemCol="item", ratingCol="rating", coldStartStrategy="nan",
                   implicitPrefs=implicit, alpha=alpha, seed=case.get("seed", 0),
                   numUserBlocks=threads, numItemBlocks=threads).fit(df)

    def evaluate(model):
        if implicit:
            U = _factors(model.userFactors, train_pos.shape[0], case["k"])
            V = _factors(model.itemFactors, train_pos.shape[1], case["k"])
            return ranking((U, V), train_pos, test_pos)
        pairs = list(zip(test.users.tolist(), test.items.tolist(), strict=True))
        pred = model.transform(spark.createDataFrame(pairs, ["user", "item"])).toPandas()
        lookup = dict(zip(zip(pred["user"], pred["item"], strict=True), pred["prediction"],
                          strict=True))
        p = np.array([lookup.get(pair, np.nan) for pair in pairs])
        return rmse(test, p, fill=float(train.values.mean()))

    return fit, evaluate

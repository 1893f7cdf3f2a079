"""Runners of the peer libraries ``fastmf bench`` compares against, one module per library.

Every runner has the signature ``runner(case, train, test, threads, **settings) -> (fit,
evaluate)`` (see :class:`fastmf.bench.Job`); it imports its library inside, so this package
imports without any peer installed. ``PEERS`` names each library: its distribution on PyPI,
the module it imports, and whether anything is compiled at its first fit (then the benchmark
runs one untimed warm-up fit).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Peer:
    """A peer library: PyPI distribution, import name, and whether its first fit compiles."""

    dist: str
    module: str
    compiles: bool = False


PEERS = {
    "implicit": Peer("implicit", "implicit"),
    "surprise": Peer("scikit-surprise", "surprise"),
    "cmfrec": Peer("cmfrec", "cmfrec"),
    "libmf": Peer("libmf", "libmf"),
    "myfm": Peer("myfm", "myfm"),
    "poismf": Peer("poismf", "poismf"),
    "sklearn": Peer("scikit-learn", "sklearn"),
    "pyspark": Peer("pyspark", "pyspark", compiles=True),
    "lightfm": Peer("lightfm-next", "lightfm"),
}

ALIASES = {"scikit-surprise": "surprise", "scikit-learn": "sklearn", "spark": "pyspark",
           "lightfm-next": "lightfm"}

"""How MatrixFactorization's L2 default was chosen: validation RMSE of (reg_exponent, reg) pairs.

For each data set of ``compare_peers.py`` (ML-100k, the synthetic ML-1M-sized set, the sparse
2,000 x 20,000 shape) its 90/10 training part (seed 0) is split again 90/10 (seed 1); the
test split is never read. Each pair ``EXPONENT:REG`` is fitted at k = 64 with the solver's
other defaults, 2 threads, seed 0.

    python benchmarks/tune_mf_reg.py --solver als 1:0.1 0.75:0.3 0.5:1 0.75:0.25
    python benchmarks/tune_mf_reg.py --solver sgd 1:0.1 0.75:0.3

prints one line per data set and pair: the validation RMSE.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_peers import DATA, load_split  # noqa: E402

import fastmf  # noqa: E402
from fastmf.bench import split  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="+", help="EXPONENT:REG, e.g. 0.75:0.3")
    ap.add_argument("--solver", default="als", choices=("als", "hals", "sgd"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    pairs = [tuple(float(v) for v in p.split(":")) for p in args.pairs]
    for name in DATA:
        train, _ = load_split(name)
        fit_part, valid = split(train, seed=1)
        for exponent, reg in pairs:
            model = fastmf.MatrixFactorization(64, solver=args.solver, reg=reg,
                                               reg_exponent=exponent, n_threads=args.threads,
                                               random_state=0).fit(fit_part)
            rmse = np.sqrt(np.mean((model.predict(valid) - valid.values) ** 2))
            print(f"{args.solver} {name}: reg_exponent={exponent:g} reg={reg:g} "
                  f"validation RMSE {rmse:.4f}", flush=True)


if __name__ == "__main__":
    main()

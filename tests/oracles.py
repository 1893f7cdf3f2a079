"""Slow, obviously correct NumPy twins of every kernel: the tests assert that the two agree.

Dense arrays are fine here: oracles only ever see tiny inputs.
"""

import numpy as np

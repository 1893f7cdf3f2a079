import numpy as np
import pytest

from fastmf._kernels.rng import keyed_stream, mix64, random_index, splitmix64
from tests import oracles


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 7, 2**64 - 1])
def test_splitmix64_and_mix64_match_python_twins(seed):
    state, ref = np.uint64(seed), seed
    for _ in range(6):
        state, bits = splitmix64(np.uint64(state))
        ref, ref_bits = oracles.splitmix64(ref)
        assert int(state) == ref and int(bits) == ref_bits
        assert int(mix64(np.uint64(ref_bits))) == oracles.mix64(ref_bits)


def test_splitmix64_reference_values():
    # SplitMix64 seeded with 0: the first outputs of the published generator (Vigna's
    # splitmix64.c), so the twin and the kernel are not merely equal to each other
    state, out = np.uint64(0), []
    for _ in range(3):
        state, bits = splitmix64(np.uint64(state))
        out.append(int(bits))
    assert out == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 1000, 2**31 + 11, 2**32 - 1])
def test_random_index_matches_twin_and_stays_in_range(n):
    state = np.uint64(99)
    for _ in range(200):
        state, bits = splitmix64(np.uint64(state))
        j = random_index(np.uint64(bits), n)
        assert j == oracles.random_index(int(bits), n)
        assert 0 <= j < n
    assert random_index(np.uint64(2**64 - 1), n) == n - 1  # the largest bits map to n - 1
    assert random_index(np.uint64(2**32 - 1), n) == 0


def test_random_index_is_uniform():
    # 60,000 draws over 6 values: every count within 5 standard deviations of 10,000
    n, draws = 6, 60_000
    state, counts = np.uint64(2024), np.zeros(n, np.int64)
    for _ in range(draws):
        state, bits = splitmix64(np.uint64(state))
        counts[random_index(np.uint64(bits), n)] += 1
    expected = draws / n
    sd = np.sqrt(draws * (1 / n) * (1 - 1 / n))
    assert np.all(np.abs(counts - expected) < 5 * sd)


def test_keyed_stream_matches_twin_and_separates_keys():
    keys = [(s, e, b) for s in (0, 1, 2**40 + 3) for e in (0, 1, 7) for b in (0, 1, 2, 255)]
    states = [int(keyed_stream(np.uint64(s), np.uint64(e), np.uint64(b))) for s, e, b in keys]
    assert states == [oracles.keyed_stream(*key) for key in keys]
    assert len(set(states)) == len(keys)
    # neighbouring blocks start far apart: their first outputs share about half their bits
    first = [oracles.splitmix64(s)[1] for s in states]
    same_bits = [64 - bin(a ^ b).count("1") for a, b in zip(first, first[1:], strict=False)]
    assert 16 < np.mean(same_bits) < 48


def test_keyed_stream_accepts_python_ints():
    assert int(keyed_stream(3, 4, 5)) == oracles.keyed_stream(3, 4, 5)

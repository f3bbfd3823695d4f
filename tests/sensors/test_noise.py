"""Counter-based noise: batch independence bit for bit, distribution, independence of streams and ticks."""

from __future__ import annotations

import numpy as np
from scipy import stats

from touchdown.noise import normal, run_keys, stream_id, uniform


def test_run_keys_match_seedsequence_spawn_and_any_subset() -> None:
    keys = run_keys(42, np.arange(20))
    spawned = np.random.SeedSequence(42).spawn(20)
    assert all(keys[i] == spawned[i].generate_state(1, dtype=np.uint64)[0] for i in range(20))
    assert np.array_equal(run_keys(42, [7, 3]), keys[[7, 3]])
    assert len(set(keys.tolist())) == 20
    assert not np.array_equal(run_keys(43, np.arange(20)), keys)


def test_same_bits_whatever_the_batch() -> None:
    keys = run_keys(1, np.arange(1000))
    s = stream_id("lrf.noise")
    full = normal(keys, s, 17, (3,))
    perm = np.random.default_rng(0).permutation(1000)
    assert np.array_equal(normal(keys[perm], s, 17, (3,)).view(np.uint64), full[perm].view(np.uint64))
    for k in (0, 1, 499, 999):
        assert np.array_equal(
            normal(keys[k : k + 1], s, 17, (3,)).view(np.uint64), full[k : k + 1].view(np.uint64)
        )
    chunks = np.concatenate([normal(keys[i : i + 97], s, 17, (3,)) for i in range(0, 1000, 97)])
    assert np.array_equal(chunks.view(np.uint64), full.view(np.uint64))
    # a per-trajectory tick array gives the same numbers as the scalar tick
    assert np.array_equal(normal(keys, s, np.full(1000, 17), (3,)), full)
    # the component index is the flat position: shape (3,) is the first 3 of shape (5,)
    assert np.array_equal(normal(keys, s, 17, (5,))[:, :3], full)


def test_standard_normal_distribution() -> None:
    keys = run_keys(2024, np.arange(2000))
    z = normal(keys, stream_id("test"), 3, (100,)).ravel()  # 200,000 numbers
    n = z.size
    assert abs(z.mean()) < 5.0 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 5.0 * np.sqrt(2.0 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(stats.kurtosis(z)) < 5.0 * np.sqrt(24.0 / n)
    u = uniform(keys, stream_id("test"), 3, (100,)).ravel()
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_streams_ticks_and_keys_uncorrelated() -> None:
    keys = run_keys(5, np.arange(50_000))
    a = normal(keys, stream_id("a"), 0)
    bound = 5.0 / np.sqrt(a.size)
    for other in (
        normal(keys, stream_id("b"), 0),  # another stream
        normal(keys, stream_id("a"), 1),  # next tick
        normal(keys, stream_id("a"), 0, (2,))[:, 1],  # next component
        np.roll(a, 1),  # next run
    ):
        assert abs(np.corrcoef(a, other)[0, 1]) < bound
    # a long sequence in time for one run is white: lag-1 autocorrelation ~ 0
    seq = np.concatenate([normal(keys[:1], stream_id("a"), t) for t in range(20_000)])
    assert abs(np.corrcoef(seq[:-1], seq[1:])[0, 1]) < 5.0 / np.sqrt(seq.size)


def test_stream_id_is_stable() -> None:
    assert stream_id("imu.accel.noise") == stream_id("imu.accel.noise")
    assert stream_id("imu.accel.noise") != stream_id("imu.gyro.noise")
    assert stream_id("x") == 0x4F586EF96743DF4A  # BLAKE2b: the same in every process and on every machine

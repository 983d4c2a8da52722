"""Spike-triggered average: planted delays, a direct per-spike reference, the null."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.sta import STA, spike_triggered_average


def direct_sta(spike_times, edges, stimulus, taus):
    """Per-spike reference: mean of the frame on screen tau before each spike."""
    inside = spike_times[(spike_times >= edges[0]) & (spike_times < edges[-1])]
    sta = np.empty((taus.size, stimulus.shape[1]))
    for j, tau in enumerate(taus):
        seen = inside - tau
        seen = seen[seen >= edges[0]]
        frames = np.searchsorted(edges, seen, side="right") - 1
        sta[j] = stimulus[frames].mean(axis=0)
    return sta


def jittered_edges(n_frames, rng, mean=0.2, sd=0.024, start=3.0):
    durations = np.clip(rng.normal(mean, sd, n_frames), 0.12, 0.28)
    return start + np.concatenate(([0.0], np.cumsum(durations)))


def test_planted_pixel_and_delay_are_found():
    rng = np.random.default_rng(1)
    n_frames, n_pixels, pixel, delay, duration = 3000, 40, 7, 0.13, 0.2
    stimulus = rng.integers(0, 2, (n_frames, n_pixels)).astype(np.float64)
    edges = np.arange(n_frames + 1) * duration
    # One spike per bright frame of `pixel`, `delay` after a uniform time in it.
    bright = np.flatnonzero(stimulus[:, pixel] == 1)
    spike_times = np.sort(edges[bright] + rng.uniform(0, duration, bright.size) + delay)
    result = spike_triggered_average(spike_times, edges, stimulus, tau_max=0.5, n_shifts=200)
    peak_pixel = np.unravel_index(np.argmax(result.zscore), result.zscore.shape)[1]
    assert peak_pixel == pixel
    assert result.taus[np.argmax(result.sta[:, pixel])] == pytest.approx(delay, abs=0.015)
    # The profile is the triangle of a uniform phase: STA = 0.5 + 0.5 * (1 - |tau - delay| / D).
    expected = 0.5 + 0.5 * np.maximum(0.0, 1.0 - np.abs(result.taus - delay) / duration)
    np.testing.assert_allclose(result.sta[:, pixel], expected, atol=0.05)
    others = np.delete(result.zscore, pixel, axis=1)
    assert np.abs(others).max() < 6.0


def test_agrees_with_direct_per_spike_average():
    rng = np.random.default_rng(2)
    n_frames, n_pixels = 400, 12
    edges = jittered_edges(n_frames, rng)
    stimulus = rng.normal(size=(n_frames, n_pixels))
    # Spikes before, inside and after the frames.
    spike_times = np.sort(rng.uniform(edges[0] - 1.0, edges[-1] + 1.0, 900))
    result = spike_triggered_average(spike_times, edges, stimulus, tau_max=0.3,
                                     tau_step=0.01, n_shifts=5, seed=3)
    assert result.taus.size == 31
    np.testing.assert_allclose(result.taus, np.arange(31) * 0.01)
    np.testing.assert_allclose(result.sta, direct_sta(spike_times, edges, stimulus,
                                                      result.taus), rtol=0, atol=1e-12)
    inside = spike_times[(spike_times >= edges[0]) & (spike_times < edges[-1])]
    assert result.n_spikes == inside.size

    # The null as documented: circular shifts by offsets uniform in [m, period - m].
    period = edges[-1] - edges[0]
    margin = max(1.0, 2 * 0.3)
    offsets = np.random.default_rng(3).uniform(margin, period - margin, 5)
    null = np.array([
        direct_sta(edges[0] + np.mod(inside - edges[0] + offset, period), edges, stimulus,
                   result.taus)
        for offset in offsets
    ])
    np.testing.assert_allclose(result.null_mean, null.mean(axis=0), atol=1e-10)
    np.testing.assert_allclose(result.null_std, null.std(axis=0, ddof=1), atol=1e-10)
    np.testing.assert_allclose(result.zscore,
                               (result.sta - result.null_mean) / result.null_std, atol=1e-8)


def test_zscores_are_standard_normal_for_independent_spikes():
    rng = np.random.default_rng(4)
    n_frames, n_pixels = 2000, 60
    edges = jittered_edges(n_frames, rng)
    stimulus = rng.integers(0, 2, (n_frames, n_pixels)).astype(np.float64)
    spike_times = np.sort(rng.uniform(edges[0], edges[-1], 6000))
    result = spike_triggered_average(spike_times, edges, stimulus, tau_max=0.5,
                                     n_shifts=200, seed=5)
    z = result.zscore
    assert abs(z.mean()) < 0.15
    assert 0.85 < z.std() < 1.15
    # Tails as for a standard normal (z at one tau, pixels independent).
    assert np.mean(np.abs(z[0]) > 1.96) < 0.12
    # The null mean sits at the time-weighted stimulus mean of each pixel.
    weighted_mean = np.diff(edges) @ stimulus / (edges[-1] - edges[0])
    np.testing.assert_allclose(result.null_mean, np.broadcast_to(weighted_mean, z.shape),
                               atol=0.005)


def test_deterministic_under_seed_and_round_trips(tmp_path):
    rng = np.random.default_rng(6)
    edges = jittered_edges(300, rng)
    stimulus = rng.integers(0, 2, (300, 10)).astype(np.float64)
    spike_times = np.sort(rng.uniform(edges[0], edges[-1], 500))
    first = spike_triggered_average(spike_times, edges, stimulus, n_shifts=20, seed=7)
    again = spike_triggered_average(spike_times, edges, stimulus, n_shifts=20, seed=7)
    other = spike_triggered_average(spike_times, edges, stimulus, n_shifts=20, seed=8)
    np.testing.assert_array_equal(first.zscore, again.zscore)
    np.testing.assert_array_equal(first.sta, other.sta)
    assert not np.array_equal(first.null_mean, other.null_mean)

    np.savez(tmp_path / "sta.npz", **first.to_npz_dict())
    with np.load(tmp_path / "sta.npz", allow_pickle=False) as npz:
        loaded = STA.from_npz(npz)
    np.testing.assert_array_equal(loaded.zscore, first.zscore)
    np.testing.assert_array_equal(loaded.taus, first.taus)
    assert (loaded.n_spikes, loaded.n_shifts) == (first.n_spikes, first.n_shifts)
    assert isinstance(loaded.n_spikes, int) and isinstance(loaded.n_shifts, int)
    assert sorted(first.to_npz_dict()) == sorted(
        ["taus", "sta", "zscore", "null_mean", "null_std", "n_spikes", "n_shifts"])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"stimulus": np.zeros((5, 3))}, "n_frames"),
        ({"edges": np.array([0.0, 1.0, 1.0])}, "strictly increasing"),
        ({"n_shifts": 1}, "n_shifts"),
        ({"tau_step": 0.0}, "tau_step"),
        ({"spike_times": np.array([100.0])}, "no spike"),
    ],
)
def test_bad_input_is_named(change, message):
    rng = np.random.default_rng(9)
    arguments = {
        "spike_times": np.sort(rng.uniform(0, 20, 50)),
        "edges": np.arange(101) * 0.2,
        "stimulus": rng.integers(0, 2, (100, 3)).astype(np.float64),
    }
    keywords = {}
    for key, value in change.items():
        (arguments if key in arguments else keywords)[key] = value
    with pytest.raises(InputError, match=message):
        spike_triggered_average(**arguments, **keywords)

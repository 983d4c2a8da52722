"""Tests for sparsefield.rf.binning: frame edges and spike counts per frame."""

import numpy as np
import pytest

from sparsefield._checks import as_times
from sparsefield.errors import InputError
from sparsefield.rf._binning_kernels import PARALLEL_MIN, bin_sorted
from sparsefield.rf.binning import (
    BinnedCounts,
    UnitCounts,
    bin_spikes,
    bin_units,
    check_unit_spikes,
    frame_edges,
)

TRIGGER_TIMES = np.array([1.0, 2.0, 3.0, 4.0])  # edges 1, 2, 3, 4, 5


def test_frame_edges_closes_last_frame_at_median_interval():
    edges = frame_edges(np.array([0.0, 0.2, 0.5, 0.7]))
    np.testing.assert_allclose(edges, [0.0, 0.2, 0.5, 0.7, 0.9])


def test_spike_on_inner_edge_goes_to_later_frame():
    binned = bin_spikes(np.array([2.0, 3.0, 3.0]), TRIGGER_TIMES)
    np.testing.assert_array_equal(binned.counts, [0, 1, 2, 0])
    assert (binned.n_before, binned.n_after) == (0, 0)


def test_spike_on_first_edge_is_counted_and_on_last_edge_is_after():
    binned = bin_spikes(np.array([1.0, 5.0, 6.0]), TRIGGER_TIMES)
    np.testing.assert_array_equal(binned.counts, [1, 0, 0, 0])
    assert binned.n_before == 0
    assert binned.n_after == 2


def test_just_below_last_edge_is_in_last_frame():
    binned = bin_spikes(np.array([np.nextafter(5.0, 0.0)]), TRIGGER_TIMES)
    np.testing.assert_array_equal(binned.counts, [0, 0, 0, 1])


def test_empty_spike_train():
    binned = bin_spikes(np.array([]), TRIGGER_TIMES)
    np.testing.assert_array_equal(binned.counts, [0, 0, 0, 0])
    assert binned.counts.dtype == np.int64
    assert (binned.n_before, binned.n_after) == (0, 0)


def test_all_spikes_before_first_trigger():
    binned = bin_spikes(np.array([0.1, 0.5, 0.99]), TRIGGER_TIMES)
    np.testing.assert_array_equal(binned.counts, [0, 0, 0, 0])
    assert (binned.n_before, binned.n_after) == (3, 0)


def test_durations_and_edges():
    binned = bin_spikes(np.array([1.5]), np.array([0.0, 0.2, 0.5]))
    np.testing.assert_allclose(binned.edges, [0.0, 0.2, 0.5, 0.75])
    np.testing.assert_allclose(binned.durations, [0.2, 0.3, 0.25])


def test_agrees_with_numpy_on_random_data():
    rng = np.random.default_rng(0)
    trigger_times = np.cumsum(rng.uniform(0.15, 0.25, 500))
    spike_times = rng.uniform(-5.0, trigger_times[-1] + 5.0, 20_000)
    # some spikes exactly on edges, including the closing edge
    closing_edge = frame_edges(trigger_times)[-1:]
    spike_times = np.concatenate([spike_times, trigger_times[::7], closing_edge])
    spike_times.sort()
    binned = bin_spikes(spike_times, trigger_times)
    edges = frame_edges(trigger_times)
    # np.histogram closes its last bin; drop spikes at the last edge first
    inside = (spike_times >= edges[0]) & (spike_times < edges[-1])
    expected, _ = np.histogram(spike_times[inside], bins=edges)
    np.testing.assert_array_equal(binned.counts, expected)
    positions = np.searchsorted(edges, spike_times, side="right")
    np.testing.assert_array_equal(
        np.bincount(positions[inside] - 1, minlength=len(trigger_times)), binned.counts
    )
    assert binned.n_before == np.sum(spike_times < edges[0])
    assert binned.n_after == np.sum(spike_times >= edges[-1])
    assert binned.counts.sum() + binned.n_before + binned.n_after == spike_times.size


def test_unsorted_spikes_raise():
    with pytest.raises(ValueError, match="spike_times: spike times must be sorted"):
        bin_spikes(np.array([1.5, 1.2]), TRIGGER_TIMES)


def test_bad_triggers_raise():
    with pytest.raises(InputError,
                       match="trigger_times: trigger times must be strictly increasing"):
        bin_spikes(np.array([1.5]), np.array([1.0, 2.0, 2.0]))
    with pytest.raises(InputError, match="at least 2"):
        bin_spikes(np.array([1.5]), np.array([1.0]))
    with pytest.raises(InputError, match="NaN"):
        bin_spikes(np.array([np.nan]), TRIGGER_TIMES)
    with pytest.raises(InputError, match="1-D"):
        bin_spikes(np.zeros((3, 1)), TRIGGER_TIMES)


def test_npz_round_trip(tmp_path):
    binned = bin_spikes(np.array([0.5, 1.5, 2.5, 9.0]), TRIGGER_TIMES)
    np.savez(tmp_path / "binned.npz", **binned.to_npz_dict())
    with np.load(tmp_path / "binned.npz", allow_pickle=False) as npz:
        restored = BinnedCounts.from_npz(npz)
    np.testing.assert_array_equal(restored.counts, binned.counts)
    np.testing.assert_array_equal(restored.edges, binned.edges)
    np.testing.assert_array_equal(restored.durations, binned.durations)
    assert (restored.n_before, restored.n_after) == (1, 1)


@pytest.mark.realdata
def test_real_recording_counts(real_recording):
    binned = bin_spikes(real_recording["spike_times"], real_recording["trigger_times"])
    assert binned.counts.shape == (1489,)
    assert binned.counts.sum() == 5493
    assert binned.n_after == 7
    assert binned.n_before == 0
    assert binned.counts.max() == 9


# ----------------------------------------------------------------------------
# Many units: bin_units


def concatenate_units(blocks):
    """``spike_times`` and ``spike_offsets`` of a session from per-unit arrays."""
    offsets = np.concatenate([[0], np.cumsum([block.size for block in blocks])]).astype(np.int64)
    times = np.concatenate([np.asarray(block, dtype=np.float64) for block in blocks])
    return times, offsets


def session_blocks(rng, trigger_times):
    """Units of every density (each path of the kernel), with spikes on edges,
    before the first edge, on and after the last edge, and an empty unit."""
    edges = frame_edges(trigger_times)
    start, stop = edges[0] - 2.0, edges[-1] + 2.0
    blocks = [
        np.sort(np.concatenate([rng.uniform(start, stop, 300), trigger_times[::5],
                                edges[-1:], [np.nextafter(edges[-1], 0.0)]])),  # ~ frames
        np.sort(rng.uniform(start, stop, 3)),  # sparse: binary search of spikes
        np.sort(np.concatenate([rng.uniform(start, stop, 20_000), trigger_times[::3],
                                edges[-1:], edges[:1]])),  # dense: search of edges
        np.array([]),  # empty
        np.sort(rng.uniform(start, edges[0], 7)),  # all before the first edge
        np.array([edges[0], edges[0], edges[-1], edges[-1] + 1.0]),  # only on the ends
        np.sort(rng.uniform(edges[0], stop, 1)),
    ]
    return blocks


def test_bin_units_equals_bin_spikes_per_unit():
    rng = np.random.default_rng(11)
    trigger_times = np.cumsum(rng.uniform(0.15, 0.25, 400))
    blocks = session_blocks(rng, trigger_times)
    spike_times, spike_offsets = concatenate_units(blocks)
    result = bin_units(spike_times, spike_offsets, trigger_times)
    assert result.counts.shape == (trigger_times.size, len(blocks))
    assert result.counts.dtype == np.int64 and result.n_before.dtype == np.int64
    for unit, block in enumerate(blocks):
        alone = bin_spikes(block, trigger_times)
        mine = result.unit(unit)
        np.testing.assert_array_equal(mine.counts, alone.counts)
        np.testing.assert_array_equal(mine.edges, alone.edges)
        np.testing.assert_array_equal(mine.durations, alone.durations)
        assert (mine.n_before, mine.n_after) == (alone.n_before, alone.n_after)
        assert type(mine.n_before) is int and type(mine.n_after) is int
    np.testing.assert_array_equal(result.counts.sum(axis=0) + result.n_before + result.n_after,
                                  [block.size for block in blocks])


def test_bin_units_blocks_need_not_be_ordered_between_units():
    later, earlier = np.array([3.5, 4.5]), np.array([1.5, 1.7, 2.5])
    result = bin_units(np.concatenate([later, earlier]), np.array([0, 2, 5]), TRIGGER_TIMES)
    np.testing.assert_array_equal(result.counts, [[0, 2], [0, 1], [1, 0], [1, 0]])


def test_bin_units_npz_round_trip(tmp_path):
    spike_times, spike_offsets = concatenate_units([np.array([0.5, 1.5]), np.array([9.0])])
    result = bin_units(spike_times, spike_offsets, TRIGGER_TIMES)
    np.savez(tmp_path / "units.npz", **result.to_npz_dict())
    with np.load(tmp_path / "units.npz", allow_pickle=False) as npz:
        restored = UnitCounts.from_npz(npz)
    for name in ("counts", "edges", "durations", "n_before", "n_after"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(result, name))


@pytest.mark.parametrize(
    "spike_times, spike_offsets, message",
    [
        ([1.5, 1.2, 1.0, 2.0, 1.9], [0, 1, 3, 5],
         r"spike_times: unit 1 \(0-based index\): spike times are not sorted; its spike 0"),
        ([1.5, 1.0, 1.2, 2.0, 1.9], [0, 1, 3, 5],
         r"spike_times: unit 2 \(0-based index\): spike times are not sorted; its spike 0"),
        ([1.0, np.nan], [0, 2], "spike_times: spike time 1 .* not finite"),
        ([1.0, 2.0], [0, 1], "spike_offsets: must start at 0 and end at the number"),
        ([1.0, 2.0], [1, 2], "spike_offsets: must start at 0"),
        ([1.0, 2.0], [0, 2, 1, 2], r"spike_offsets: must be non-decreasing, but unit 1"),
        ([1.0, 2.0], [0.0, 2.0], "spike_offsets: expected a 1-D integer array"),
        ([1.0, 2.0], [2], "spike_offsets: expected a 1-D integer array"),
    ],
)
def test_bin_units_bad_input_names_the_unit(spike_times, spike_offsets, message):
    with pytest.raises(InputError, match=message):
        bin_units(np.array(spike_times), np.array(spike_offsets), TRIGGER_TIMES)


def test_bin_units_unit_index_is_checked():
    result = bin_units(np.array([1.5]), np.array([0, 1]), TRIGGER_TIMES)
    with pytest.raises(InputError, match="unit: must be an integer in"):
        result.unit(1)


# ----------------------------------------------------------------------------
# One pass: the kernel checks and counts; every path against np.histogram


def histogram_reference(spike_times, edges):
    """(counts, n_before, n_after) by np.histogram, with its closed last bin opened."""
    spike_times = np.asarray(spike_times, dtype=np.float64)
    inside = (spike_times >= edges[0]) & (spike_times < edges[-1])
    counts, _ = np.histogram(spike_times[inside], bins=edges)
    return counts, int(np.sum(spike_times < edges[0])), int(np.sum(spike_times >= edges[-1]))


def assert_matches_histogram(result, spike_times, edges):
    counts, n_before, n_after = histogram_reference(spike_times, edges)
    np.testing.assert_array_equal(result[0], counts)
    assert (int(result[1]), int(result[2])) == (n_before, n_after)


def spikes_around(rng, edges, n_spikes, on_edges=True):
    """Sorted spikes over and beyond the edges, with spikes exactly on edges (the first,
    inner ones, the last), just below the last, and repeated times."""
    span = edges[-1] - edges[0]
    parts = [rng.uniform(edges[0] - 0.1 * span, edges[-1] + 0.1 * span, n_spikes)]
    if on_edges:
        parts += [edges[::3], edges[:1], edges[-1:], [np.nextafter(edges[-1], -np.inf)],
                  np.repeat(edges[len(edges) // 2], 5)]
    return np.sort(np.concatenate(parts))


def jittered_edges(rng, n_frames):
    """Frame edges with non-uniform durations and one long gap (as between trials)."""
    intervals = rng.uniform(0.01, 0.03, n_frames)
    intervals[n_frames // 3] = 5.0
    return np.concatenate([[1.0], 1.0 + np.cumsum(intervals)])


#: (n_stripes, block_size) of bin_sorted: automatic, and small ones that put stripe and
#: block boundaries everywhere.
LAYOUTS = [(0, 4096), (1, 1), (1, 3), (2, 7), (3, 1), (7, 2)]


@pytest.mark.parametrize(
    "n_spikes, n_frames",
    [(30, 1000), (2000, 1000), (20_000, 1000), (20_000, 20), (50, 1), (5_000, 2)],
    ids=["sparse", "comparable", "dense", "very-dense", "one-frame", "two-frames"],
)
@pytest.mark.parametrize("n_stripes, block_size", LAYOUTS)
def test_kernel_matches_histogram_on_every_path(n_spikes, n_frames, n_stripes, block_size):
    rng = np.random.default_rng(n_spikes + n_frames)
    edges = jittered_edges(rng, n_frames)
    spike_times = spikes_around(rng, edges, n_spikes)
    result = bin_sorted(spike_times, edges, n_stripes, block_size)
    assert result[3] == -1
    assert result[0].dtype == np.int64 and result[0].shape == (n_frames,)
    assert_matches_histogram(result, spike_times, edges)


@pytest.mark.parametrize("n_stripes", [1, 2, 3, 5, 17, 18])
@pytest.mark.parametrize("block_size", [1, 2, 3, 4, 100])
def test_kernel_boundaries_on_edges_and_in_runs_of_equal_times(n_stripes, block_size):
    # Stripes and blocks that start and end on edges, inside runs of equal times and
    # between frames with no spikes (17 spikes: 17 and 18 stripes give empty ones).
    edges = np.arange(10.0)
    spike_times = np.array([-1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 3.5, 3.5, 3.5,
                            8.0, 8.0, 9.0, 9.0, 12.0])
    counts, n_before, n_after, problem = bin_sorted(spike_times, edges, n_stripes, block_size)
    np.testing.assert_array_equal(counts, [4, 4, 0, 3, 0, 0, 0, 0, 2])
    assert (n_before, n_after, problem) == (1, 3, -1)


def test_kernel_all_outside_and_empty():
    edges = np.array([1.0, 2.0, 3.0])
    for spike_times, expected in [(np.zeros(0), (0, 0)), (np.array([0.0, 0.5]), (2, 0)),
                                  (np.array([3.0, 3.0, 4.0]), (0, 3))]:
        for n_stripes, block_size in LAYOUTS:
            counts, n_before, n_after, problem = bin_sorted(spike_times, edges, n_stripes,
                                                            block_size)
            np.testing.assert_array_equal(counts, [0, 0])
            assert (n_before, n_after, problem) == (*expected, -1)


@pytest.mark.parametrize("n_stripes, block_size", LAYOUTS)
@pytest.mark.parametrize(
    "spike_times, first_bad",
    [([1.0, 2.0, 1.5, 3.0], 2), ([1.0, np.nan, 3.0], 1), ([np.nan, 1.0], 0),
     ([1.0, 2.0, np.nan], 2), ([-np.inf, 1.0], 0), ([1.0, np.inf], 1),
     ([1.0, 1.0, 0.5, 0.4], 2), ([0.5, 1.5, 2.5, 0.1], 3), ([2.5, 0.5, 0.7, 0.9], 1)],
)
def test_kernel_reports_the_first_problem(spike_times, first_bad, n_stripes, block_size):
    result = bin_sorted(np.array(spike_times), np.array([0.0, 1.0, 2.0]), n_stripes,
                        block_size)
    assert result[3] == first_bad


@pytest.mark.parametrize("n_stripes, block_size", [(2, 4096), (2, 3), (1, 10), (1, 3)])
def test_kernel_reports_unsorted_pair_across_a_stripe_or_block(n_stripes, block_size):
    spike_times = np.arange(20.0)
    spike_times[10] = 8.5  # below spike 9: the pair (9, 10) straddles the stripes or blocks
    assert bin_sorted(spike_times, np.array([0.0, 5.0, 25.0]), n_stripes, block_size)[3] == 10


def test_kernel_unsorted_sparse_run_stays_in_bounds():
    # Sparse spikes (the spike walk) whose last one is far below the others: the spikes
    # counted before the problem is found must not leave the run's span.
    edges = np.arange(1000.0)
    spike_times = np.array([500.0, 600.0, 700.0, 998.5, 1500.0, 3.0])
    for block_size in (1, 2, 4096):
        assert bin_sorted(spike_times, edges, 1, block_size)[3] == 5


def test_bin_spikes_large_input_takes_the_parallel_path():
    rng = np.random.default_rng(3)
    edges = jittered_edges(rng, 3000)
    spike_times = spikes_around(rng, edges, 3 * PARALLEL_MIN)
    binned = bin_spikes(spike_times, edges[:-1])
    assert_matches_histogram((binned.counts, binned.n_before, binned.n_after), spike_times,
                             binned.edges)


@pytest.mark.parametrize("n_spikes", [0, 1, 40, 3 * PARALLEL_MIN])
def test_bin_spikes_float32_equals_float64_and_histogram(n_spikes):
    rng = np.random.default_rng(4)
    trigger_times = np.cumsum(rng.uniform(0.01, 0.03, 500))
    edges = frame_edges(trigger_times)
    spike_times = spikes_around(rng, edges, n_spikes, on_edges=n_spikes > 0).astype(np.float32)
    single = bin_spikes(spike_times, trigger_times)
    double = bin_spikes(spike_times.astype(np.float64), trigger_times)
    np.testing.assert_array_equal(single.counts, double.counts)
    assert (single.n_before, single.n_after) == (double.n_before, double.n_after)
    assert_matches_histogram((single.counts, single.n_before, single.n_after), spike_times,
                             edges)
    inside = spike_times[(spike_times >= edges[0]) & (spike_times < edges[-1])]
    np.testing.assert_array_equal(single.counts, np.histogram(inside, bins=edges)[0])


def test_bin_spikes_integer_and_strided_input():
    trigger_times = np.array([0.0, 2.0, 4.0, 6.0])
    binned = bin_spikes(np.array([-1, 0, 2, 3, 3, 8], dtype=np.int32), trigger_times)
    np.testing.assert_array_equal(binned.counts, [1, 3, 0, 0])
    assert (binned.n_before, binned.n_after) == (1, 1)
    strided = np.array([[0.5, 9.0], [2.5, 9.0], [2.7, 9.0]])[:, 0]
    np.testing.assert_array_equal(bin_spikes(strided, trigger_times).counts, [1, 2, 0, 0])


@pytest.mark.parametrize(
    "spike_times",
    [[1.5, 1.2], [1.0, np.nan, 0.5], [np.inf], [-np.inf, 1.0], [1.0, 2.0, np.inf],
     [1.0, 3.0, 2.0, np.nan], np.arange(3 * PARALLEL_MIN)[::-1] * 1e-3],
)
def test_bin_spikes_messages_are_those_of_the_full_check(spike_times):
    spike_times = np.asarray(spike_times, dtype=np.float64)
    with pytest.raises(InputError) as expected:
        as_times(spike_times, "spike_times", order="sorted", what="spike time")
    with pytest.raises(InputError) as found:
        bin_spikes(spike_times, TRIGGER_TIMES)
    assert str(found.value) == str(expected.value)
    single = spike_times.astype(np.float32)
    with pytest.raises(InputError) as expected32:
        as_times(single, "spike_times", order="sorted", what="spike time")
    with pytest.raises(InputError) as found32:
        bin_spikes(single, TRIGGER_TIMES)
    assert str(found32.value) == str(expected32.value)


def test_bad_spikes_are_reported_before_bad_triggers():
    with pytest.raises(InputError, match="spike_times: spike time 0"):
        bin_spikes(np.array([np.nan]), np.array([1.0, 1.0]))
    with pytest.raises(InputError, match="spike_times: spike times must be sorted"):
        bin_spikes(np.array([2.0, 1.0]), np.array([1.0]))
    with pytest.raises(InputError, match="spike_times: expected a 1-D array"):
        bin_spikes(np.zeros((2, 2)), np.array([1.0]))
    with pytest.raises(InputError, match="spike_times: spike time 1 .* not finite"):
        bin_units(np.array([1.0, np.nan]), np.array([0, 1]), np.array([1.0]))
    with pytest.raises(InputError, match="trigger_times: trigger times must be strictly"):
        bin_spikes(np.array([1.0, 2.0]), np.array([1.0, 1.0]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bin_units_matches_histogram_per_unit(dtype):
    rng = np.random.default_rng(12)
    trigger_times = np.cumsum(rng.uniform(0.01, 0.03, 700))
    edges = frame_edges(trigger_times)
    blocks = [spikes_around(rng, edges, size, on_edges=size > 0).astype(dtype)
              for size in (0, 3, 700, 20_000, 1)]
    spike_times, spike_offsets = concatenate_units(blocks)
    result = bin_units(spike_times.astype(dtype), spike_offsets, trigger_times)
    for unit, block in enumerate(blocks):
        assert_matches_histogram((result.counts[:, unit], result.n_before[unit],
                                  result.n_after[unit]), block, edges)


@pytest.mark.parametrize(
    "spike_times, spike_offsets",
    [([1.0, 2.0, np.inf], [0, 2, 3]), ([np.nan, 2.0], [0, 1, 2]),
     ([1.0, 3.0, 2.0, 4.0], [0, 3, 4]), ([1.0, 3.0, 2.0, 1.0], [0, 2, 4]),
     ([1.0, np.nan], [0, 1, 1]), ([1.0, 3.0, 2.0], [0, 1, 1])],
)
def test_bin_units_messages_are_those_of_the_full_check(spike_times, spike_offsets):
    spike_times, spike_offsets = np.array(spike_times), np.array(spike_offsets)
    with pytest.raises(InputError) as expected:
        check_unit_spikes(spike_times, spike_offsets)
    with pytest.raises(InputError) as found:
        bin_units(spike_times, spike_offsets, TRIGGER_TIMES)
    assert str(found.value) == str(expected.value)

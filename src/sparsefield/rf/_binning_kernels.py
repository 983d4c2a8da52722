"""Numba kernels that check sorted spike times and count them in sorted bins, in one pass.

Plain arrays in and out.  The callers in :mod:`sparsefield.rf.binning` check shapes and
dtypes only; these kernels check the spike times themselves (finite, non-decreasing)
while counting them, and report the first problem by its position instead of raising
(the caller turns it into the user's message).

Bins
----
``edges`` of shape (n_edges,), strictly increasing, cut the time line into
``n_edges + 1`` *extended bins*: bin ``j`` holds the times ``t`` with
``np.searchsorted(edges, t, side="right") == j``, that is bin 0 is before
``edges[0]``, bin ``j`` (``1 <= j < n_edges``) is frame ``j - 1``
(``[edges[j - 1], edges[j])``) and bin ``n_edges`` is at or after ``edges[-1]``.

Walks
-----
A run of sorted spikes spanning bins ``low..high`` is counted by walking the shorter
side and searching the longer one from where the previous search stopped, with a
galloping search (probes 1, 2, 4, ... places ahead, then a binary search in the bracket):

- more spikes than bins (spikes >> frames): each bin's upper edge is searched among the
  spikes, O(n_bins log(n_spikes / n_bins)); a bin's count is the difference of two
  positions;
- fewer spikes than bins (sparse spikes): each spike's bin is searched among the edges,
  O(n_spikes log(n_bins / n_spikes));
- about as many of each: the first probe of every search is the next element, so either
  walk is the plain merge walk, O(n_spikes + n_bins).

Check
-----
Sorted and finite together: every pair must satisfy ``t[i - 1] <= t[i]``, which fails on
a decrease and on any NaN, and the first and last times must be finite (with the pairs
non-decreasing, an infinity can only sit at an end).  The pairs are counted in a loop
without branches that LLVM vectorizes, at about the speed of one read of the array.
A run is checked and counted block by block (:data:`BLOCK_SIZE` spikes, which fit a
core's L1 cache), so the count reads what the check has just brought into cache: the
spikes come from memory once.

Parallel
--------
:func:`bin_sorted` cuts the spikes into one stripe per numba thread
(``NUMBA_NUM_THREADS``, or ``numba.set_num_threads``) once there are
:data:`PARALLEL_MIN` of them.  Each stripe is a run (it also checks the pair it forms
with the previous stripe's last spike); bins strictly inside a stripe's span hold spikes
of that stripe only and are written directly, and the two end bins of each span, which
neighbouring stripes may share, are added afterwards by one thread.
"""

from typing import TypeAlias

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

#: Spike times: float32 or float64.
Times: TypeAlias = NDArray[np.float32] | NDArray[np.float64]
Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]

#: Spikes checked and then counted together (32 KiB of float64).
BLOCK_SIZE = 4096

#: Fewest spikes that :func:`bin_sorted` shares out over threads.
PARALLEL_MIN = 1 << 17


@numba.njit(cache=True)
def first_unsorted(times: Times, start: int, stop: int) -> int:
    """First ``i`` in ``[start, stop)`` with ``not times[i - 1] <= times[i]``.

    Parameters
    ----------
    times : ndarray of shape (n_times,), float32 or float64
    start, stop : int
        ``1 <= start`` (or ``start >= stop``), ``stop <= n_times``.

    Returns
    -------
    int
        The index, or -1 when every pair in the range is in order (NaN never is).
    """
    if stop <= start:
        return -1
    # Two slices indexed from 0, not times[index - 1] <= times[index]: the form that
    # LLVM vectorizes (6 to 10 times faster).
    earlier = times[start - 1:stop - 1]
    later = times[start:stop]
    in_order = 0
    for index in range(later.shape[0]):
        in_order += earlier[index] <= later[index]
    if in_order == later.shape[0]:
        return -1
    for index in range(later.shape[0]):
        if not earlier[index] <= later[index]:
            return start + index
    return -1


@numba.njit(cache=True)
def gallop_times(times: Times, value: float, start: int, stop: int) -> int:
    """First position ``p`` in ``[start, stop)`` with ``times[p] >= value``, else ``stop``.

    ``np.searchsorted(times[start:stop], value, side="left") + start`` for sorted
    ``times``, found by galloping from ``start`` (cost logarithmic in the distance).
    """
    low = start
    high = start
    step = 1
    while high < stop and times[high] < value:
        low = high + 1
        high = low + step
        step *= 2
    size = min(high, stop) - low
    while size > 0:
        half = size >> 1
        if times[low + half] < value:
            low += half + 1
            size -= half + 1
        else:
            size = half
    return low


@numba.njit(cache=True)
def gallop_edges(edges: Floats, value: float, start: int) -> int:
    """First ``j >= start`` with ``edges[j] > value``, else ``edges.shape[0]``.

    ``np.searchsorted(edges[start:], value, side="right") + start`` for sorted
    ``edges``, found by galloping from ``start``: the extended bin of ``value``
    (module docstring, "Bins") when ``edges[start - 1] <= value``.
    """
    stop = edges.shape[0]
    low = start
    high = start
    step = 1
    while high < stop and edges[high] <= value:
        low = high + 1
        high = low + step
        step *= 2
    size = min(high, stop) - low
    while size > 0:
        half = size >> 1
        if edges[low + half] <= value:
            low += half + 1
            size -= half + 1
        else:
            size = half
    return low


@numba.njit(cache=True)
def add_to_bin(bin_index: int, number: int, counts: Ints, ends: Ints) -> None:
    """Add ``number`` spikes to an extended bin: an end of the run (``ends``) or a frame."""
    if bin_index == ends[0]:
        ends[2] += number
    elif bin_index == ends[1]:
        ends[3] += number
    else:
        counts[bin_index - 1] += number


@numba.njit(cache=True)
def check_and_count(times: Times, first: int, stop: int, check_start: int, edges: Floats,
                    counts: Ints, ends: Ints, block_size: int) -> int:
    """Check the run ``times[first:stop]`` and count it, block by block (module docstring).

    Parameters
    ----------
    times : ndarray of shape (n_times,), float32 or float64
        Should be non-decreasing in ``[first, stop)``; its ends there finite (not
        checked here).
    first, stop : int
    check_start : int
        First ``i`` whose pair ``(i - 1, i)`` is checked: ``first + 1`` for a run of its
        own, ``first`` to check the pair with the spike before the run too.
    edges : ndarray of shape (n_edges,), float64
        Strictly increasing, ``n_edges >= 1``.
    counts : ndarray of shape (n_edges - 1,), int64
        Receives (adds) the spikes of the bins strictly inside the run's span.
    ends : ndarray of shape (4,), int64
        Output: ``[low, high, n_low, n_high]``, the run's first and last extended bin
        and its spikes in each (all 0 for an empty run; ``n_high`` 0 when
        ``low == high``).
    block_size : int

    Returns
    -------
    int
        -1, or the first ``i`` whose pair is out of order (the counts are then partial).
    """
    ends[:] = 0
    if first == stop:
        return -1
    ends[0] = gallop_edges(edges, times[first], 0)
    ends[1] = gallop_edges(edges, times[stop - 1], ends[0])
    walk_edges = ends[1] - ends[0] <= stop - first
    bin_index = ends[0]  # walking the edges: the bin being filled
    position = first  # walking the edges: its first spike
    for block_first in range(first, stop, block_size):
        block_stop = min(block_first + block_size, stop)
        problem = first_unsorted(times, max(block_first, check_start), block_stop)
        if problem >= 0:
            return problem
        if walk_edges:
            last = times[block_stop - 1]
            while bin_index < ends[1] and edges[bin_index] <= last:
                following = gallop_times(times, edges[bin_index], position, block_stop)
                add_to_bin(bin_index, following - position, counts, ends)
                position = following
                bin_index += 1
        else:
            for spike in range(block_first, block_stop):
                # min: a spike above the run's last one (the run is then unsorted
                # further on, which a later block reports) must not leave the span
                bin_index = min(gallop_edges(edges, times[spike], bin_index), ends[1])
                add_to_bin(bin_index, 1, counts, ends)
    if walk_edges:
        add_to_bin(bin_index, stop - position, counts, ends)
    return -1


@numba.njit(cache=True)
def add_ends(ends: Ints, counts: Ints, outside: Ints) -> None:
    """Add the end bins of every run (rows of ``ends``) into ``counts`` / ``outside``.

    Parameters
    ----------
    ends : ndarray of shape (n_runs, 4), int64
        Rows ``[low, high, n_low, n_high]`` from :func:`check_and_count`.
    counts : ndarray of shape (n_edges - 1,), int64
    outside : ndarray of shape (2,), int64
        ``[n_before, n_after]``, added to: bin 0 and bin ``n_edges``.
    """
    n_edges = counts.shape[0] + 1
    for run in range(ends.shape[0]):
        for side in range(2):
            bin_index = ends[run, side]
            number = ends[run, 2 + side]
            if bin_index == 0:
                outside[0] += number
            elif bin_index == n_edges:
                outside[1] += number
            else:
                counts[bin_index - 1] += number


@numba.njit(cache=True)
def first_not_finite_end(times: Times, first: int, stop: int) -> int:
    """``first`` or ``stop - 1`` if that time is not finite (``first`` first), else -1."""
    if first < stop and not np.isfinite(times[first]):
        return first
    if first < stop and not np.isfinite(times[stop - 1]):
        return stop - 1
    return -1


@numba.njit(cache=True, parallel=True)
def check_and_count_stripes(times: Times, edges: Floats, counts: Ints, ends: Ints,
                            block_size: int) -> int:
    """:func:`check_and_count` on ``ends.shape[0]`` equal stripes of ``times``, one per
    thread (``numba.prange``); returns the first problem or -1.
    """
    n_times = times.shape[0]
    n_stripes = ends.shape[0]
    problems = np.empty(n_stripes, dtype=np.int64)
    for stripe in numba.prange(n_stripes):
        first = n_times * stripe // n_stripes
        stop = n_times * (stripe + 1) // n_stripes
        problems[stripe] = check_and_count(times, first, stop, max(first, 1), edges,
                                           counts, ends[stripe], block_size)
    for stripe in range(n_stripes):
        if problems[stripe] >= 0:
            return problems[stripe]
    return -1


def bin_sorted(times: Times, edges: Floats, n_stripes: int = 0,
               block_size: int = BLOCK_SIZE) -> tuple[Ints, int, int, int]:
    """Check sorted spike times and count them in the bins ``[edges[i], edges[i + 1])``.

    One pass over the spikes (module docstring), parallel over stripes for large inputs.
    Plain Python around the kernels: numba's thread count cannot be read by a cached
    kernel, and a small input never loads the parallel kernel (a job's start-up).

    Parameters
    ----------
    times : ndarray of shape (n_spikes,), float32 or float64
        Should be finite and non-decreasing; checked here.
    edges : ndarray of shape (n_bins + 1,), float64
        Strictly increasing and finite (not checked), ``n_bins >= 1``.
    n_stripes : int, default 0
        Stripes to share out over the threads; 0: one per numba thread
        (``numba.get_num_threads()``) from :data:`PARALLEL_MIN` spikes on, else one.
    block_size : int, default :data:`BLOCK_SIZE`

    Returns
    -------
    counts : ndarray of shape (n_bins,), int64
        Spikes with ``edges[i] <= t < edges[i + 1]``; a spike exactly on an inner edge
        belongs to the later bin.
    n_before : int
        Spikes with ``t < edges[0]``.
    n_after : int
        Spikes with ``t >= edges[-1]``.
    problem : int
        -1 when the times are finite and non-decreasing (the counts are then valid);
        otherwise a position where they are not: ``i`` with a non-finite ``times[i]``
        or ``not times[i - 1] <= times[i]`` (the counts are then meaningless).
    """
    if n_stripes <= 0:
        n_stripes = numba.get_num_threads() if times.shape[0] >= PARALLEL_MIN else 1
    counts = np.zeros(edges.shape[0] - 1, dtype=np.int64)
    ends = np.zeros((n_stripes, 4), dtype=np.int64)
    problem = first_not_finite_end(times, 0, times.shape[0])
    if problem < 0 and n_stripes > 1:
        problem = check_and_count_stripes(times, edges, counts, ends, block_size)
    elif problem < 0:
        problem = check_and_count(times, 0, times.shape[0], 1, edges, counts, ends[0],
                                  block_size)
    if problem >= 0:
        return counts, 0, 0, int(problem)
    outside = np.zeros(2, dtype=np.int64)
    add_ends(ends, counts, outside)
    return counts, int(outside[0]), int(outside[1]), -1


@numba.njit(cache=True, parallel=True)
def bin_units_sorted(times: Times, offsets: Ints, edges: Floats, counts: Ints, n_before: Ints,
                     n_after: Ints) -> int:
    """Check each unit's sorted spike times and count them in the bins, all units at once.

    Unit ``u`` is ``times[offsets[u]:offsets[u + 1]]``; each unit is one run of
    :func:`check_and_count` (module docstring, "Walks"), and units are shared out over
    numba's threads (``numba.prange``).

    Parameters
    ----------
    times : ndarray of shape (n_spikes,), float32 or float64
        Each unit's block should be finite and non-decreasing; checked here (a step
        down between the last spike of one unit and the first of the next is allowed).
    offsets : ndarray of shape (n_units + 1,), int64
        Non-decreasing, from 0 to ``n_spikes`` (not checked).
    edges : ndarray of shape (n_bins + 1,), float64
        Strictly increasing, finite (not checked), ``n_bins >= 1``.
    counts : ndarray of shape (n_units, n_bins), int64
        Zeroed on entry; ``counts[u, i]`` receives the spikes of unit ``u`` with
        ``edges[i] <= t < edges[i + 1]``.
    n_before, n_after : ndarray of shape (n_units,), int64
        Output: spikes of each unit before ``edges[0]`` and at or after ``edges[-1]``.

    Returns
    -------
    problem : int
        -1 when every block is finite and non-decreasing; otherwise a position ``i``
        where ``times[i]`` is not finite or is below the previous spike of its unit.
    """
    n_units = offsets.shape[0] - 1
    problems = np.empty(n_units, dtype=np.int64)
    for unit in numba.prange(n_units):
        first = offsets[unit]
        stop = offsets[unit + 1]
        ends = np.zeros((1, 4), dtype=np.int64)
        outside = np.zeros(2, dtype=np.int64)
        problems[unit] = first_not_finite_end(times, first, stop)
        if problems[unit] < 0:
            problems[unit] = check_and_count(times, first, stop, first + 1, edges,
                                             counts[unit], ends[0], BLOCK_SIZE)
        if problems[unit] < 0:
            add_ends(ends, counts[unit], outside)
            n_before[unit] = outside[0]
            n_after[unit] = outside[1]
    for unit in range(n_units):
        if problems[unit] >= 0:
            return problems[unit]
    return -1

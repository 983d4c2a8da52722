"""Spike binning: sparsefield's bin_spikes vs numpy, against one read of the spike array.

One process, the same data for every method, medians over repeats (after one untimed
warm-up call each).  Prints a Markdown table and then one JSON document (also written to
``--output``).

Data
----
``--spikes`` (default 1e8; quick 1e7) sorted spike times of a Poisson train (cumulated
exponential intervals, seed 0), float64, and ``--frames`` (default 1e6; quick 1e5)
jittered frames: trigger intervals uniform in [0.9, 1.1] times the mean, the first
trigger a little after the first spike and the closing edge a little before the last,
so that every path (before, inside, after) is taken.

Rows
----
``one read``: ``spikes.sum()`` (numpy, one thread), the reference of the ratios; also
``spikes.max()``.  ``bin_spikes``: the API
(:func:`sparsefield.rf.binning.bin_spikes`: frame edges from the triggers, spike times
checked finite and sorted and counted in one numba pass, durations).  ``kernel``: that
pass alone (:func:`sparsefield.rf._binning_kernels.bin_sorted` on the edges).
``searchsorted``: ``np.diff(np.searchsorted(spikes, edges))`` (no checks, no
before/after counts).  ``np.histogram``: ``np.histogram(spikes, bins=edges)`` on the
first ``--histogram-spikes`` spikes (default 1e7) when that is fewer than all of them
(it takes about 20 s per call on 1e8); its row says so and gives the time scaled
linearly to all spikes too.  ``bin_units``: the same spikes dealt round-robin to
``--units`` (10) units, all counted in one call
(:func:`sparsefield.rf.binning.bin_units`), for comparison.  Every result is compared
with ``searchsorted`` (and np.histogram on its subset); a mismatch aborts.

Threads: ``--threads`` (default 2) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is imported.
Run it on a quiet machine; numbers taken while other jobs run are provisional (the JSON
keeps the load averages).  Memory: about 2.5 GB at 1e8 spikes (the train, one copy for
bin_units, and numpy's temporaries).  ``kernel`` imports the private kernel module
``sparsefield.rf._binning_kernels`` on purpose: it is what is being measured.

Usage::

    python bench/binning.py            # 1e8 spikes, 1e6 frames (about 2.5 minutes)
    python bench/binning.py --quick    # 1e7 spikes, 1e5 frames (about 15 s)
    python bench/binning.py --threads 1 --output binning.json
"""

import argparse
import os
import sys


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1e7 spikes, 1e5 frames")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--spikes", type=float, default=None, help="default 1e8 (quick 1e7)")
    parser.add_argument("--frames", type=float, default=None, help="default 1e6 (quick 1e5)")
    parser.add_argument("--histogram-spikes", type=float, default=1e7,
                        help="np.histogram on at most this many spikes (default 1e7)")
    parser.add_argument("--units", type=int, default=10,
                        help="units of the bin_units row (0 leaves it out)")
    parser.add_argument("--output", default=None, help="also write the JSON here")
    return parser.parse_args(argv)


ARGUMENTS = parse_arguments()
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ[_name] = str(ARGUMENTS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sparsefield.rf._binning_kernels import bin_sorted  # noqa: E402
from sparsefield.rf.binning import bin_spikes, bin_units, frame_edges  # noqa: E402

# ---------------------------------------------------------------------------- data


def spike_train(n_spikes, seed=0):
    """Sorted Poisson spike times, mean interval 1e-3 s: ndarray of shape (n_spikes,)."""
    spikes = np.random.default_rng(seed).exponential(1e-3, int(n_spikes))
    np.cumsum(spikes, out=spikes)
    return spikes


def jittered_triggers(spikes, n_frames, seed=1):
    """Frame-flip times with jittered intervals inside the span of ``spikes``.

    Returns
    -------
    trigger_times : ndarray of shape (n_frames,)
        From 1 % into the train; the closing edge falls about 1 % before its end.
    """
    start, stop = spikes[0], spikes[-1]
    span = 0.98 * (stop - start)
    intervals = np.random.default_rng(seed).uniform(0.9, 1.1, int(n_frames))
    intervals *= span / intervals.sum()
    return start + 0.01 * (stop - start) + np.concatenate([[0.0], np.cumsum(intervals[:-1])])


def dealt_to_units(spikes, n_units):
    """``spikes`` dealt round-robin to ``n_units`` units: (spike_times, spike_offsets)."""
    usable = spikes.size - spikes.size % n_units
    times = np.ascontiguousarray(spikes[:usable].reshape(-1, n_units).T).ravel()
    offsets = np.arange(n_units + 1, dtype=np.int64) * (usable // n_units)
    return times, offsets


# ---------------------------------------------------------------------------- timing


def timed(function, *arguments, repeats):
    """Median wall time of ``repeats`` calls after one untimed warm-up, all times, result."""
    result = function(*arguments)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*arguments)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def searchsorted_counts(spikes, edges):
    return np.diff(np.searchsorted(spikes, edges))


def histogram_counts(spikes, edges):
    return np.histogram(spikes, bins=edges)[0]


def measure(spikes, triggers, repeats, histogram_spikes, n_units):
    """The rows of the table (module docstring, "Rows"), checked against searchsorted."""
    edges = frame_edges(triggers)
    rows = {}

    def row(name, function, *arguments, scale=1.0, note=""):
        median, times, result = timed(function, *arguments, repeats=repeats)
        rows[name] = {"seconds_median": median * scale, "seconds_all": times, "note": note}
        print(f"  {name:<14} {median * scale:8.4f} s{' (' + note + ')' if note else ''}",
              file=sys.stderr, flush=True)
        return result

    row("one read", np.sum, spikes, note="spikes.sum()")
    row("max", np.max, spikes, note="spikes.max()")
    expected = row("searchsorted", searchsorted_counts, spikes, edges)
    binned = row("bin_spikes", bin_spikes, spikes, triggers)
    raw = row("kernel", bin_sorted, spikes, edges, note="bin_sorted (check + count)")
    for name, counts in (("bin_spikes", binned.counts), ("kernel", raw[0])):
        if not np.array_equal(counts, expected):
            raise SystemExit(f"{name}: counts differ from np.searchsorted")
    subset = spikes[:int(min(histogram_spikes, spikes.size))]
    scale = spikes.size / subset.size
    note = "" if scale == 1 else f"on the first {subset.size:.0e} spikes, scaled x{scale:g}"
    histogram = row("np.histogram", histogram_counts, subset, edges, scale=scale, note=note)
    inside = subset[(subset >= edges[0]) & (subset < edges[-1])]
    if not np.array_equal(bin_spikes(subset, triggers).counts, histogram_counts(inside, edges)):
        raise SystemExit("bin_spikes: counts differ from np.histogram")
    del histogram, inside
    if n_units:
        times, offsets = dealt_to_units(spikes, n_units)
        units = row("bin_units", bin_units, times, offsets, triggers,
                    note=f"{n_units} units, one call")
        del times
        if units.counts.sum() + units.n_before.sum() + units.n_after.sum() != offsets[-1]:
            raise SystemExit("bin_units: spikes lost")
    return rows


# ---------------------------------------------------------------------------- report


def table(rows):
    reference = rows["one read"]["seconds_median"]
    lines = ["| step | seconds (median) | vs one read | note |", "|---|---:|---:|---|"]
    for name, entry in rows.items():
        seconds = entry["seconds_median"]
        lines.append(f"| {name} | {seconds:.4f} | {seconds / reference:.2f}x | "
                     f"{entry['note']} |")
    return "\n".join(lines)


def main():
    import numba

    quick = ARGUMENTS.quick
    n_spikes = int(ARGUMENTS.spikes or (1e7 if quick else 1e8))
    n_frames = int(ARGUMENTS.frames or (1e5 if quick else 1e6))
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numba_threads": numba.get_num_threads(),
                    "numpy": np.__version__, "numba": numba.__version__,
                    "load_average_start": os.getloadavg()},
        "n_spikes": n_spikes, "n_frames": n_frames, "repeats": ARGUMENTS.repeats,
    }
    print(f"{n_spikes:.0e} spikes, {n_frames:.0e} frames, {ARGUMENTS.threads} threads",
          file=sys.stderr, flush=True)
    spikes = spike_train(n_spikes)
    triggers = jittered_triggers(spikes, n_frames)
    results["rows"] = measure(spikes, triggers, ARGUMENTS.repeats,
                              ARGUMENTS.histogram_spikes, ARGUMENTS.units)
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results["rows"]))
    print(json.dumps(results, indent=1))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

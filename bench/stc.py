"""Spike-triggered covariance: sparsefield's blocked kernel vs np.cov on the ensemble.

One process, the same data for every method, medians over repeats (after one untimed
warm-up call each, which also compiles the numba kernel).  Prints a Markdown table and
then one JSON document (also written to ``--output``).

Data
----
A simulated complex cell (:func:`sparsefield.rf.simulate_nonlinear.simulate_complex_cell`:
the energy model of two quadrature Gabors over ``--lags`` (16) lags x ``--bars`` (24)
bars, Gaussian bar contrasts, 60 Hz frames, about 22 spikes/s), with as many frames as
give about ``--spikes`` (1e5) spikes: about 270 000 frames, of which about 75 000 hold
spikes.

Rows
----
``C_spike``: the spike-weighted covariance of the 384-dimensional windows.
sparsefield: :func:`sparsefield.rf.stc.window_covariance` (a numba kernel gathers the
windows of up to 8192 frames with spikes at a time, scaled by the square root of their
counts, and one symmetric BLAS product per block adds them; the lagged design is never
formed).  numpy: the spike-triggered
ensemble materialised (one row per spike, ``n_spikes x 384``, from fancy indexing of the
stimulus) and ``np.cov(ensemble, rowvar=False, bias=True)``; its row includes building
the ensemble, and the ``np.cov`` alone is given too.  The two answers are compared (max
absolute difference; the run stops above 1e-9).  ``C_prior``: the windows' own
covariance over all frames, from the lag structure
(:func:`sparsefield.rf.stc.prior_moments`) and from the same kernel with weight 1 on
every frame.  ``STC core``: C_spike, C_prior and the eigen-decomposition of their
difference (what "STC" costs without significance testing).  ``STC + null``: the whole
analysis, :func:`sparsefield.rf.stc.spike_triggered_covariance` with ``--shifts`` (20)
shifted trains and the nested test; each shift costs one C_spike, so this row is about
``shifts + 1`` times the C_spike row (``--full-repeats``, default 1, repeats).

Threads: ``--threads`` (default 2) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is imported.
Run it on a quiet machine; numbers taken while other jobs run are provisional (the JSON
keeps the load averages).  Memory: about 1 GB at 1e5 spikes (the ensemble and np.cov's
centred copy).

Usage::

    python bench/stc.py            # 1e5 spikes, 16 lags x 24 bars (about a minute)
    python bench/stc.py --quick    # 2e4 spikes, 5 shifts
"""

import argparse
import os
import sys


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (module docstring, "Usage")."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2e4 spikes, 5 shifts")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-repeats", type=int, default=1,
                        help="repeats of the STC + null row (default 1)")
    parser.add_argument("--spikes", type=float, default=None, help="default 1e5 (quick 2e4)")
    parser.add_argument("--lags", type=int, default=16)
    parser.add_argument("--bars", type=int, default=24)
    parser.add_argument("--shifts", type=int, default=None, help="default 20 (quick 5)")
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
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from scipy.linalg import subspace_angles  # noqa: E402

from sparsefield.rf.simulate_nonlinear import (  # noqa: E402
    NonlinearCell,
    quadrature_gabors,
    simulate_complex_cell,
)
from sparsefield.rf.stc import (  # noqa: E402
    WindowData,
    moments,
    prior_moments,
    spike_triggered_covariance,
    window_covariance,
    window_data,
    window_frames,
)

FRAME_DURATION = 1 / 60
MEAN_RATE = 22.0  # offset + 2 scale of the default complex cell, spikes/s

# ---------------------------------------------------------------------------- data


def complex_cell(n_spikes: float, n_lags: int, n_bars: int) -> tuple[NonlinearCell, np.ndarray]:
    """The simulated cell (module docstring, "Data") and its true filters."""
    filters = quadrature_gabors(n_lags, n_bars, sigma=n_bars / 8, wavelength=n_bars / 3,
                                latency=n_lags / 4, width=n_lags / 10)
    n_frames = int(round(n_spikes / (MEAN_RATE * FRAME_DURATION)))
    cell = simulate_complex_cell(n_frames, filters=filters, contrast="gaussian", seed=0)
    return cell, filters


# ---------------------------------------------------------------------------- methods


def ensemble(stimulus: np.ndarray, counts: np.ndarray, n_lags: int) -> np.ndarray:
    """The spike-triggered ensemble, materialised: one window per spike (n_spikes, n_dims)."""
    frames = window_frames(counts.size, n_lags)
    frames = frames[counts[frames] > 0]
    centred = stimulus - stimulus.mean(axis=0)
    windows = centred[frames[:, None] - np.arange(n_lags)[None, :]].reshape(frames.size, -1)
    return np.repeat(windows, counts[frames].astype(np.int64), axis=0)


def numpy_covariance(stimulus: np.ndarray, counts: np.ndarray, n_lags: int) -> np.ndarray:
    """The peer: np.cov of the materialised ensemble."""
    return np.cov(ensemble(stimulus, counts, n_lags), rowvar=False, bias=True)


def ours_covariance(stimulus: np.ndarray, counts: np.ndarray, n_lags: int) -> np.ndarray:
    """C_spike by the blocked kernel."""
    return window_covariance(stimulus, counts, n_lags)[1]


def kernel_prior(data: WindowData, weights: np.ndarray) -> np.ndarray:
    """C_prior by the kernel, every frame's window added."""
    return moments(data, weights)[2]


def lag_structure_prior(data: WindowData) -> np.ndarray:
    """C_prior from the lag structure."""
    return prior_moments(data)[1]


def stc_core(stimulus: np.ndarray, counts: np.ndarray,
             n_lags: int) -> tuple[np.ndarray, np.ndarray]:
    """C_spike, C_prior and the eigen-decomposition of their difference."""
    spike = window_covariance(stimulus, counts, n_lags)[1]
    prior = prior_moments(window_data(stimulus, counts, n_lags))[1]
    return np.linalg.eigh(spike - prior)


# ---------------------------------------------------------------------------- timing


def timed(function: Callable[..., Any], *arguments: Any,
          repeats: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeats`` calls after one untimed warm-up, all times, result."""
    result = function(*arguments)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*arguments)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def measure(cell: NonlinearCell, filters: np.ndarray, n_lags: int, n_shifts: int, repeats: int,
            full_repeats: int) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The rows of the table (module docstring, "Rows")."""
    rows = {}

    def row(name: str, function: Callable[..., Any], *arguments: Any, note: str = "",
            times: int = repeats) -> Any:
        median, all_times, result = timed(function, *arguments, repeats=times)
        rows[name] = {"seconds_median": median, "seconds_all": all_times, "note": note}
        print(f"  {name:<26} {median:8.3f} s{' (' + note + ')' if note else ''}",
              file=sys.stderr, flush=True)
        return result

    stimulus, counts = cell.stimulus, cell.counts
    ours = row("C_spike sparsefield", ours_covariance, stimulus, counts, n_lags,
               note="window_covariance")
    reference = row("C_spike numpy", numpy_covariance, stimulus, counts, n_lags,
                    note="ensemble + np.cov")
    spikes = ensemble(stimulus, counts, n_lags)
    row("C_spike np.cov alone", np.cov, spikes, None, False, True,
        note=f"rowvar=False, bias=True on the {spikes.shape[0]} x {spikes.shape[1]} "
        "ensemble, built beforehand")
    spikes = np.empty(0)
    difference = float(np.max(np.abs(ours - reference)))
    if difference > 1e-9:
        raise SystemExit(f"C_spike differs from np.cov by {difference:.3g}")
    data = window_data(stimulus, counts, n_lags)
    everywhere = np.zeros(counts.size)
    everywhere[data.frames] = 1.0
    prior = row("C_prior lag structure", lag_structure_prior, data, note="prior_moments")
    prior_kernel = row("C_prior kernel", kernel_prior, data, everywhere,
                       note="moments, weight 1 on every frame")
    prior_difference = float(np.max(np.abs(prior - prior_kernel)))
    row("STC core", stc_core, stimulus, counts, n_lags, note="C_spike + C_prior + eigh")
    result = row("STC + null", lambda: spike_triggered_covariance(
        stimulus, counts, n_lags, n_shifts=n_shifts), times=full_repeats,
        note=f"spike_triggered_covariance, {n_shifts} shifts, nested test")
    recovered = result.excitatory.reshape(result.excitatory.shape[0], -1).T
    angles = (np.degrees(subspace_angles(recovered, filters.reshape(2, -1).T)).tolist()
              if recovered.shape[1] else [])
    checks = {"c_spike_max_abs_difference": difference,
              "c_prior_max_abs_difference": prior_difference,
              "n_excitatory": int(result.excitatory.shape[0]),
              "n_suppressive": int(result.suppressive.shape[0]),
              "principal_angles_degrees": angles,
              "sta_norm": result.sta_norm, "sta_null_band": result.sta_null_band.tolist()}
    return rows, checks


# ---------------------------------------------------------------------------- report


def table(rows: dict[str, dict[str, Any]]) -> str:
    """The Markdown table of the rows."""
    reference = rows["C_spike sparsefield"]["seconds_median"]
    lines = ["| step | seconds (median) | vs C_spike sparsefield | note |",
             "|---|---:|---:|---|"]
    for name, entry in rows.items():
        seconds = entry["seconds_median"]
        lines.append(f"| {name} | {seconds:.3f} | {seconds / reference:.2f}x | "
                     f"{entry['note']} |")
    return "\n".join(lines)


def main() -> None:
    """Simulate, measure, print (and write) the results."""
    import numba

    quick = ARGUMENTS.quick
    n_spikes = ARGUMENTS.spikes or (2e4 if quick else 1e5)
    n_shifts = ARGUMENTS.shifts or (5 if quick else 20)
    cell, filters = complex_cell(n_spikes, ARGUMENTS.lags, ARGUMENTS.bars)
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numba_threads": numba.get_num_threads(),
                    "numpy": np.__version__, "numba": numba.__version__,
                    "load_average_start": os.getloadavg()},
        "n_spikes": float(cell.counts.sum()), "n_frames": int(cell.counts.size),
        "n_frames_with_spikes": int(np.count_nonzero(cell.counts)),
        "n_lags": ARGUMENTS.lags, "n_bars": ARGUMENTS.bars, "n_shifts": n_shifts,
        "repeats": ARGUMENTS.repeats,
    }
    print(f"{results['n_spikes']:.0f} spikes in {results['n_frames']} frames, "
          f"{ARGUMENTS.lags} lags x {ARGUMENTS.bars} bars, {ARGUMENTS.threads} threads",
          file=sys.stderr, flush=True)
    results["rows"], results["checks"] = measure(cell, filters, ARGUMENTS.lags, n_shifts,
                                                 ARGUMENTS.repeats, ARGUMENTS.full_repeats)
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results["rows"]))
    print(json.dumps(results, indent=1))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

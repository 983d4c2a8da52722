"""Gabor fits: sparsefield's numba Levenberg-Marquardt vs scipy.optimize.least_squares.

One process, the same maps and the same starts for every solver.  Prints a Markdown
table and then one JSON document (also written to ``--output``).

Data
----
``--maps`` (default 256; quick 64) Gabor maps of ``--size`` x ``--size`` pixels (16),
drawn as in ``tests/test_gabor.py``: envelope SD 1.5-3 px along and across the
carrier, wavelength 5-8 px, any orientation and phase, Gaussian pixel noise at a peak
SNR of 12 (seed 0).  Each map is standardised (mean 0, SD 1) as
:func:`sparsefield.gabor.fit_gabors` does, and its starts are the default grid of
:func:`sparsefield.gabor_start.gabor_starts` (3 orientations x 3 frequencies around the
power spectrum's peak, phase / amplitude / offset by linear least squares).

Rows
----
``fit_gabors``: the API, everything it does: the Gabor from the start grid, the same
on the shuffled map (the null), a single Gaussian and a difference of Gaussians, and
the choice.  ``fit_gabors null=False``: without the null.  ``numba LM, screened``: the
Gabor stage alone as the API runs it (every start 5 steps, the best 2 on to
convergence).  ``numba LM, every start``: every start to convergence, the work the
peers do (the reference of the ratios), with ``--threads`` numba threads and with one.
``least_squares <method> + numba jac``: scipy, every start, the residual and the
analytic Jacobian from the same numba kernel (``method="lm"``: MINPACK, no bounds;
``"trf"``: the same box as ours).  ``least_squares <method> 2-point``: the same without
the Jacobian (scipy's forward differences).  scipy gets ``ftol=1e-6`` (our stopping
rule: relative decrease below 1e-6) and its other defaults.  The R^2 columns compare
each row's best-of-starts fit with ``numba LM, every start``: the mean R^2, the
largest absolute difference, and the share of maps where the row is better by more
than 1e-6.  Each row also gives the process's CPU time (all threads): on a loaded
machine it is closer than the wall time to what a quiet one would take.  The kernel
rows import the private ``sparsefield._gabor_kernels`` on
purpose: it is what is measured.

Threads: ``--threads`` (default 2) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is imported
(scipy's loop is one thread whatever the setting).  Run it on a quiet machine; numbers
taken while other jobs run are provisional (the JSON keeps the load averages).

Usage::

    python bench/gabor.py            # 256 maps (about 30 s on 2 busy cores)
    python bench/gabor.py --quick    # 64 maps, 3 repeats
"""

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="64 maps, 3 repeats")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats of the numba rows (default 7, quick 3); scipy's run once")
    parser.add_argument("--maps", type=int, default=None, help="default 256 (quick 64)")
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--skip", default="",
                        help="comma-separated peers to leave out: lm,trf,lm-2point,trf-2point")
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
from scipy.optimize import least_squares  # noqa: E402

from sparsefield._gabor_kernels import GABOR_2D, fit_many, gabor_2d  # noqa: E402
from sparsefield.gabor import SCREEN_ITER, TOL, fit_gabors, model_map  # noqa: E402
from sparsefield.gabor_start import (  # noqa: E402
    gabor_starts,
    parameter_box,
    pixel_coordinates,
)

SNR = 12.0
MAX_ITER = 100

# ---------------------------------------------------------------------------- data


def simulated_maps(n_maps: int, size: int, seed: int = 0) -> np.ndarray:
    """Noisy Gabor maps (module docstring, "Data"): ndarray (n_maps, size, size)."""
    rng = np.random.default_rng(seed)
    middle = (size - 1) / 2.0
    truth = np.column_stack([
        rng.uniform(middle - 1.5, middle + 1.5, n_maps),
        rng.uniform(middle - 1.5, middle + 1.5, n_maps),
        rng.uniform(1.5, 3.0, n_maps), rng.uniform(1.5, 3.0, n_maps),
        rng.uniform(0.0, np.pi, n_maps), 1.0 / rng.uniform(5.0, 8.0, n_maps),
        rng.uniform(0.0, 2.0 * np.pi, n_maps), rng.uniform(0.5, 2.0, n_maps),
        rng.normal(0.0, 0.1, n_maps),
    ])
    clean = model_map(truth, (size, size)).reshape(n_maps, -1)
    peak = np.abs(clean - truth[:, 8:9]).max(axis=1, keepdims=True)
    noisy = clean + rng.normal(size=clean.shape) * peak / SNR
    return noisy.reshape(n_maps, size, size)


def standardised_starts(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised maps (n_maps, n_pixels) and their default starts (n_maps, 9, 9)."""
    flat = maps.reshape(maps.shape[0], -1)
    standard = np.ascontiguousarray((flat - flat.mean(1, keepdims=True))
                                    / flat.std(1, keepdims=True))
    starts = gabor_starts(standard, maps.shape[1:], n_orientations=3, n_frequencies=3,
                          orientation_step=np.deg2rad(15.0), frequency_ratio=1.3)
    return standard, starts


# ---------------------------------------------------------------------------- solvers


def numba_lm(standard: np.ndarray, starts: np.ndarray, shape: tuple[int, ...],
             screen_iter: int) -> np.ndarray:
    """Best-of-starts squared error per map from the numba kernel."""
    xs, ys = pixel_coordinates(shape)
    lower, upper = parameter_box(GABOR_2D, shape, standard.shape[0])
    best = np.empty((standard.shape[0], 9))
    cost = np.empty(standard.shape[0])
    fit_many(GABOR_2D, standard, xs, ys, starts.copy(), np.ones(9, dtype=np.bool_), lower,
             upper, screen_iter, 2, MAX_ITER, TOL, best, cost)
    return cost


def scipy_fits(standard: np.ndarray, starts: np.ndarray, shape: tuple[int, ...], method: str,
               jacobian: str) -> np.ndarray:
    """Best-of-starts squared error per map from least_squares (every start)."""
    xs, ys = pixel_coordinates(shape)
    lower, upper = parameter_box(GABOR_2D, shape, 1)
    lower, upper = lower[0], upper[0]
    model = np.empty(xs.size)
    jac = np.empty((xs.size, 9))

    def residual(params: np.ndarray, data: np.ndarray) -> np.ndarray:
        gabor_2d(params, xs, ys, model, jac, False)
        return model - data

    def analytic(params: np.ndarray, data: np.ndarray) -> np.ndarray:
        gabor_2d(params, xs, ys, model, jac, True)
        return jac.copy()

    options = {"bounds": (lower, upper)} if method == "trf" else {}
    cost = np.empty(standard.shape[0])
    for i, data in enumerate(standard):
        cost[i] = min(2.0 * least_squares(residual, np.clip(start, lower, upper),
                                          jac=analytic if jacobian == "numba" else "2-point",
                                          method=method, args=(data,), ftol=1e-6,
                                          **options).cost
                      for start in starts[i])
    return cost


# ---------------------------------------------------------------------------- timing


def timed(function: Callable[..., Any], *arguments: Any, repeats: int
          ) -> tuple[float, list[float], float, Any]:
    """Median wall time of ``repeats`` calls after one untimed warm-up, all times, the
    median CPU time of the process (all threads), and the result.
    """
    result = function(*arguments)
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = function(*arguments)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return statistics.median(times), times, statistics.median(cpu_times), result


def measure(maps: np.ndarray, repeats: int, skip: set[str]) -> dict[str, dict[str, Any]]:
    """The rows of the table (module docstring, "Rows")."""
    import numba

    shape = maps.shape[1:]
    n_pixels = shape[0] * shape[1]
    standard, starts = standardised_starts(maps)
    rows = {}
    reference: dict[str, np.ndarray] = {}

    def row(name: str, function: Callable[..., Any], *arguments: Any, repeats: int = repeats,
            r2: Callable[[Any], np.ndarray] | None = None) -> None:
        median, times, cpu, result = timed(function, *arguments, repeats=repeats)
        entry: dict[str, Any] = {"seconds_median": median, "seconds_all": times,
                                 "cpu_seconds_median": cpu}
        if r2 is not None:
            values = r2(result)
            entry["r2_mean"] = float(np.mean(values))
            if "r2" in reference:
                entry["r2_max_abs_diff"] = float(np.max(np.abs(values - reference["r2"])))
                entry["share_better_than_numba"] = float(np.mean(values > reference["r2"]
                                                                 + 1e-6))
            else:
                reference["r2"] = values
        rows[name] = entry
        print(f"  {name:<36} {median:8.3f} s  (CPU {cpu:.3f} s)", file=sys.stderr, flush=True)

    def from_cost(cost: np.ndarray) -> np.ndarray:
        return 1.0 - cost / n_pixels

    row("numba LM, every start", numba_lm, standard, starts, shape, 0, r2=from_cost)
    row("fit_gabors", fit_gabors, maps, r2=lambda fits: fits.r2)
    row("fit_gabors null=False", lambda values: fit_gabors(values, null=False), maps,
        r2=lambda fits: fits.r2)
    row("numba LM, screened", numba_lm, standard, starts, shape, SCREEN_ITER, r2=from_cost)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    row("numba LM, every start, 1 thread", numba_lm, standard, starts, shape, 0, r2=from_cost)
    numba.set_num_threads(threads)
    for method in ("lm", "trf"):
        for jacobian, label in (("numba", f"{method}"), ("2-point", f"{method}-2point")):
            if label in skip:
                continue
            name = f"least_squares {method} " + ("+ numba jac" if jacobian == "numba"
                                                 else "2-point")
            row(name, scipy_fits, standard, starts, shape, method, jacobian, repeats=1,
                r2=from_cost)
    return rows


# ---------------------------------------------------------------------------- report


def table(rows: dict[str, dict[str, Any]]) -> str:
    """The Markdown table of the rows."""
    reference = rows["numba LM, every start"]["seconds_median"]
    lines = ["| solver | seconds (median) | vs numba LM, every start | CPU seconds | mean R^2 | "
             "max abs R^2 diff | share better by > 1e-6 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, entry in rows.items():
        seconds = entry["seconds_median"]
        diff = entry.get("r2_max_abs_diff")
        better = entry.get("share_better_than_numba")
        lines.append(f"| {name} | {seconds:.3f} | {seconds / reference:.1f}x | "
                     f"{entry['cpu_seconds_median']:.3f} | {entry['r2_mean']:.6f} | "
                     f"{'' if diff is None else f'{diff:.1e}'} | "
                     f"{'' if better is None else f'{better:.3f}'} |")
    return "\n".join(lines)


def main() -> None:
    """Measure and print (module docstring)."""
    import numba

    quick = ARGUMENTS.quick
    n_maps = ARGUMENTS.maps or (64 if quick else 256)
    repeats = ARGUMENTS.repeats or (3 if quick else 7)
    skip = {name.strip() for name in ARGUMENTS.skip.split(",") if name.strip()}
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numba_threads": numba.get_num_threads(),
                    "numpy": np.__version__, "numba": numba.__version__,
                    "load_average_start": os.getloadavg()},
        "n_maps": n_maps, "size": ARGUMENTS.size, "snr": SNR, "repeats": repeats,
    }
    print(f"{n_maps} maps of {ARGUMENTS.size} x {ARGUMENTS.size}, {ARGUMENTS.threads} threads",
          file=sys.stderr, flush=True)
    maps = simulated_maps(n_maps, ARGUMENTS.size)
    results["rows"] = measure(maps, repeats, skip)
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results["rows"]))
    print(json.dumps(results, indent=1))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

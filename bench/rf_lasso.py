"""Poisson-lasso paths: sparsefield vs glum vs pyglmnet 1.1 (shimmed) vs scikit-learn.

One process, the same data for every solver, medians over repeats.  Prints a
Markdown table and then one JSON document (also written to ``--output``).

Problems
--------
(a) the real recording (``../shared/data/nds_cl_5_data.mat``), lag 0,
    1489 frames x 300 pixels, 10 penalties (skipped when the file is absent);
(b) synthetic: 20000 frames x 300 pixels (binary white noise, one ON-centre
    neuron at about the real rate), 10 penalties;
(c) population: 1000 synthetic neurons sharing one 20000 x 300 stimulus,
    5 lags (0-4), 10 penalties per neuron and lag.  sparsefield fits all
    neurons and lags with :func:`~sparsefield.rf.lasso_population.lasso_path_population`
    (one call per lag) and reports its quasi-Newton steps per penalty; the peers
    (and sparsefield's one-neuron path, looped) are timed on a subset of neurons
    (and lags) and **extrapolated linearly** to 1000 neurons x 5 lags, as the table
    says.  The one-neuron path's "max rel diff" is how far the population's
    solutions are from it (issue 13 asks for <= 1e-6).

Every solver gets the same penalties: sparsefield's grid (log-spaced from
each neuron's lambda_max down to 1e-2 lambda_max).  glum: ``alpha_search=True,
alphas=lambdas`` (its warm-started path) at its default tolerance;
pyglmnet 1.1: one fit per penalty with ``reg_lambda = lam * learning_rate``
(its scaling quirk) on the centred design, 1000 iterations max;
scikit-learn: ``sklearn.linear_model.lasso_path`` (Gaussian loss) on the rates
``counts / durations`` with ``alpha = lam / mean(durations)`` (the first-order
mapping of :func:`sparsefield.rf.lasso_backends.fit_lasso_at_lambda`), a cruder
model.  The "max rel diff" column is ``max over penalties of max_j |w - w_ours| /
max_j |w_ours|`` (for sklearn, after its first-order conversion to log-rate
units), so it shows how far each answer is from this objective's optimum.

Threads: ``--threads`` (default 2) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is
imported (the population solver runs NUMBA_NUM_THREADS threads, with BLAS on one
thread inside each).  Run it on a quiet machine; numbers taken while other jobs run
are provisional.

Usage::

    python bench/rf_lasso.py            # full (about 3.5 minutes on 2 busy cores)
    python bench/rf_lasso.py --quick    # about 40 s: fewer repeats, 100 neurons x 2 lags in (c)
    python bench/rf_lasso.py --parts c --skip glum,pyglmnet,sklearn   # the population only
"""

import argparse
import os
import sys


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats; (c) with 100 neurons x 2 lags")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats for (a) and (b) (default 5, quick 3)")
    parser.add_argument("--neurons", type=int, default=None,
                        help="neurons in (c) (default 1000, quick 100)")
    parser.add_argument("--lags", type=int, default=None,
                        help="lags in (c) (default 5, quick 2)")
    parser.add_argument("--output", default=None, help="also write the JSON here")
    parser.add_argument("--skip", default="",
                        help="comma-separated solvers to leave out: glum,pyglmnet,sklearn")
    parser.add_argument("--parts", default="a,b,c",
                        help="comma-separated problems to run: a,b,c (default all)")
    return parser.parse_args(argv)


ARGUMENTS = parse_arguments()
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ[_name] = str(ARGUMENTS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sparsefield.rf.design import lagged_design  # noqa: E402
from sparsefield.rf.lasso_path import lambda_grid, lambda_max, lasso_path  # noqa: E402
from sparsefield.rf.lasso_population import lasso_path_population  # noqa: E402

DATA_FILE = Path(__file__).resolve().parents[1].parent / "shared/data/nds_cl_5_data.mat"
N_LAMBDAS = 10
HEIGHT, WIDTH = 20, 15


# ---------------------------------------------------------------------------- data


def real_recording():
    """(stimulus, counts, durations) of the real recording, or None."""
    if not DATA_FILE.exists():
        return None
    from scipy.io import loadmat

    from sparsefield.rf.binning import bin_spikes

    raw = loadmat(DATA_FILE)
    trigger_times = raw["DN_triggertimes"].ravel()
    n_frames = trigger_times.size
    stimulus = raw["DN_stim"][:, :, :n_frames].transpose(2, 0, 1).reshape(n_frames, -1)
    binned = bin_spikes(raw["DN_spiketimes"].ravel(), trigger_times)
    return stimulus.astype(np.float64), binned.counts.astype(np.float64), binned.durations


def synthetic(n_frames=20000, n_neurons=1, seed=0, rate_per_frame=3.7):
    """Binary white noise and neurons with centre-surround RFs at lags 0 and 1.

    Returns
    -------
    stimulus : ndarray of shape (n_frames, 300)
    counts : ndarray of shape (n_frames, n_neurons)
        ``counts[t]`` depends on ``stimulus[t]`` (lag 0) and, for half the
        neurons, on ``stimulus[t - 1]`` (lag 1, sign-inverted and weaker).
    durations : ndarray of shape (n_frames,)
    """
    rng = np.random.default_rng(seed)
    stimulus = (rng.random((n_frames, HEIGHT * WIDTH)) < 0.5).astype(np.float64)
    durations = np.clip(rng.normal(0.2155, 0.024, n_frames), 0.166, 0.266)
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    counts = np.empty((n_frames, n_neurons))
    for neuron in range(n_neurons):
        if neuron == 0:
            centre_row, centre_col, strength = 12.0, 4.0, 0.5
        else:
            centre_row = rng.uniform(2, HEIGHT - 3)
            centre_col = rng.uniform(2, WIDTH - 3)
            strength = 0.5 * rng.uniform(0.2, 1.5) * rng.choice([-1.0, 1.0])
        distance2 = (rows - centre_row) ** 2 + (cols - centre_col) ** 2
        rf = strength * (np.exp(-distance2 / (2 * 0.8**2))
                         - 0.3 * np.exp(-distance2 / (2 * 2.0**2)))
        rf[np.abs(rf) < 0.02 * abs(strength)] = 0.0
        rf = rf.ravel()
        eta = stimulus @ rf
        if neuron % 2 == 1:
            eta[1:] -= 0.4 * (stimulus[:-1] @ rf)
        intercept = np.log(rate_per_frame / 0.2155) - np.log(np.mean(np.exp(eta)))
        counts[:, neuron] = rng.poisson(durations * np.exp(intercept + eta))
    return stimulus, counts, durations


# ---------------------------------------------------------------------------- solvers


def ours_path(design, counts, durations, lambdas):
    path = lasso_path(design, counts, durations, lambdas=lambdas)
    return path.weights


def glum_path(design, counts, durations, lambdas):
    from glum import GeneralizedLinearRegressor

    model = GeneralizedLinearRegressor(family="poisson", alphas=lambdas, l1_ratio=1,
                                       alpha_search=True, fit_intercept=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(design, counts, offset=np.log(durations))
    return np.asarray(model.coef_path_)


def pyglmnet_path(design, counts, durations, lambdas):
    from sparsefield.rf.pyglmnet_compat import fit_pyglmnet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.stack([fit_pyglmnet(design, counts, durations, lam, max_iter=1000)[0]
                         for lam in lambdas])


def sklearn_path(design, counts, durations, lambdas):
    from sklearn.linear_model import lasso_path as gaussian_lasso_path

    rates = counts / durations
    centre = design.mean(axis=0)
    _, coefs, _ = gaussian_lasso_path(design - centre, rates - rates.mean(),
                                      alphas=lambdas / durations.mean(), max_iter=10000)
    coefs = coefs.T
    rate_at_centre = rates.mean()  # the centred fit's intercept is the mean rate
    return coefs / rate_at_centre


SOLVERS = {
    "sparsefield": ours_path,
    "glum": glum_path,
    "pyglmnet": pyglmnet_path,
    "sklearn": sklearn_path,
}


# ---------------------------------------------------------------------------- timing


def timed(function, *arguments, repeats=1):
    """Median wall time of ``repeats`` calls (after one untimed warm-up) and the last result."""
    result = function(*arguments)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*arguments)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def max_relative_difference(weights, reference):
    worst = 0.0
    for row, row_reference in zip(weights, reference):
        scale = np.abs(row_reference).max()
        if scale > 0:
            worst = max(worst, float(np.abs(row - row_reference).max() / scale))
    return worst


def single_problem(name, design, counts, durations, repeats, skip):
    lambdas = lambda_grid(lambda_max(design, counts, durations), N_LAMBDAS)
    rows = {}
    reference = None
    for solver, function in SOLVERS.items():
        if solver in skip:
            continue
        solver_repeats = repeats if solver != "pyglmnet" else max(1, repeats // 2)
        median, times, weights = timed(function, design, counts, durations, lambdas,
                                       repeats=solver_repeats)
        if solver == "sparsefield":
            reference = weights
        rows[solver] = {
            "seconds_median": median,
            "seconds_all": times,
            "max_rel_diff_to_sparsefield": max_relative_difference(weights, reference),
        }
        print(f"  {name:<28} {solver:<12} {median:8.3f} s", file=sys.stderr, flush=True)
    return {"shape": list(design.shape), "n_lambdas": N_LAMBDAS, "solvers": rows}


def population_problem(n_neurons, n_lags, skip, subset_neurons, subset_lags):
    stimulus, counts, durations = synthetic(n_neurons=n_neurons, seed=1)
    designs = [(lag, lagged_design(stimulus, lag), counts[lag:], durations[lag:])
               for lag in range(n_lags)]
    # Warm-up compile on a small problem, then the whole population once.
    lasso_path_population(stimulus[:500], counts[:500, :2], durations[:500], n_lambdas=2)
    start = time.perf_counter()
    fits = [lasso_path_population(design, lag_counts, lag_durations, n_lambdas=N_LAMBDAS)
            for _, design, lag_counts, lag_durations in designs]
    ours_seconds = time.perf_counter() - start
    steps = np.mean([fit.n_iter[:, 1:].mean() for fit in fits])
    print(f"  population {n_neurons} x {n_lags} lags  sparsefield  {ours_seconds:8.1f} s "
          f"({steps:.2f} steps per penalty)", file=sys.stderr, flush=True)
    result = {
        "n_neurons": n_neurons, "n_lags": n_lags, "shape": list(stimulus.shape),
        "n_lambdas": N_LAMBDAS,
        "solvers": {"sparsefield": {
            "seconds": ours_seconds, "extrapolated": False,
            "iterations_mean": float(np.mean([f.n_iter.sum(1).mean() for f in fits])),
            "steps_per_penalty": float(np.mean([f.n_iter[:, 1:].mean() for f in fits]))}},
    }
    # Peers (and sparsefield's one-neuron solver looped) on a subset, extrapolated.
    peers = {"sparsefield_loop": ours_path, **{k: v for k, v in SOLVERS.items()
                                                if k != "sparsefield"}}
    for solver, function in peers.items():
        if solver in skip:
            continue
        n_sub_neurons = subset_neurons.get(solver, 5)
        n_sub_lags = min(subset_lags.get(solver, n_lags), n_lags)
        seconds = 0.0
        worst = 0.0
        for lag, design, lag_counts, lag_durations in designs[:n_sub_lags]:
            for neuron in range(n_sub_neurons):
                lambdas = fits[lag].lambdas[neuron]
                start = time.perf_counter()
                weights = function(design, lag_counts[:, neuron], lag_durations, lambdas)
                seconds += time.perf_counter() - start
                worst = max(worst, max_relative_difference(weights, fits[lag].weights[neuron]))
        fitted = n_sub_neurons * n_sub_lags
        extrapolated = seconds / fitted * n_neurons * n_lags
        result["solvers"][solver] = {
            "seconds": extrapolated, "extrapolated": True,
            "timed_fits": fitted, "timed_seconds": seconds,
            "max_rel_diff_to_sparsefield": worst,
        }
        print(f"  population {solver:<16} {extrapolated:8.1f} s (from {fitted} paths)",
              file=sys.stderr, flush=True)
    return result


# ---------------------------------------------------------------------------- report


def table(results):
    lines = ["| problem | solver | seconds (median) | vs sparsefield | max rel diff |",
             "|---|---|---:|---:|---:|"]
    for problem, entry in results["problems"].items():
        solvers = entry["solvers"]
        ours = solvers["sparsefield"].get("seconds_median", solvers["sparsefield"].get("seconds"))
        for solver, row in solvers.items():
            seconds = row.get("seconds_median", row.get("seconds"))
            note = " (extrapolated)" if row.get("extrapolated") else ""
            diff = row.get("max_rel_diff_to_sparsefield")
            lines.append(
                f"| {problem} | {solver}{note} | {seconds:.3f} | {seconds / ours:.1f}x | "
                f"{'' if diff is None else f'{diff:.1e}'} |")
    return "\n".join(lines)


def main():
    quick = ARGUMENTS.quick
    repeats = ARGUMENTS.repeats or (3 if quick else 5)
    n_neurons = ARGUMENTS.neurons or (100 if quick else 1000)
    n_lags = ARGUMENTS.lags or (2 if quick else 5)
    skip = {name.strip() for name in ARGUMENTS.skip.split(",") if name.strip()}
    parts = {name.strip() for name in ARGUMENTS.parts.split(",") if name.strip()}
    import numba

    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numpy": np.__version__, "numba": numba.__version__,
                    "load_average_start": os.getloadavg()},
        "quick": quick, "repeats": repeats, "problems": {},
    }
    recording = real_recording() if "a" in parts else None
    if recording is not None:
        results["problems"]["a_real_lag0"] = single_problem(
            "(a) real lag 0", *recording, repeats, skip)
    if "b" in parts:
        stimulus, counts, durations = synthetic()
        results["problems"]["b_synthetic_20000x300"] = single_problem(
            "(b) synthetic 20000x300", stimulus, counts[:, 0], durations, repeats, skip)
    subset_neurons = {"sparsefield_loop": 3 if quick else 10, "glum": 2 if quick else 5,
                      "pyglmnet": 1 if quick else 2, "sklearn": 3 if quick else 10}
    subset_lags = {"sparsefield_loop": n_lags, "glum": n_lags, "pyglmnet": 1, "sklearn": n_lags}
    if "c" in parts:
        results["problems"][f"c_population_{n_neurons}x{n_lags}lags"] = population_problem(
            n_neurons, n_lags, skip, subset_neurons, subset_lags)
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results))
    print(json.dumps(results, indent=1))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""The joint space-time Poisson GLM: sparsefield vs glum on the same joint design.

One process, the same design for both, medians over repeats.  Prints a Markdown table
and then one JSON document (also written to ``--output``).

Problem
-------
``--frames`` (default 20000; quick 5000) rows x (``--lags`` 10 x ``--pixels`` 300)
columns: binary white noise on a 20 x 15 grid, one lag per column (the identity
temporal basis, so the joint design is the 10 lagged stimuli side by side, 3000
columns, 480 MB), built by :func:`sparsefield.rf.joint.joint_design`.  One unit with
a centre-surround field at lags 0-2 (weights 1, 0.6, -0.4 on the centre), jittered
frame durations (mean 0.2155 s) as exposure and about 3.7 spikes per frame, as the
real recording.

Fits (``--fits``, default all three), each with the same penalty and the same
tolerance for both programs:

``ml``
    maximum likelihood: :func:`sparsefield.rf.joint_fit.fit_joint` (Newton-CG) vs
    glum ``alpha=0``.
``l2``
    ``alpha / 2 * |w|^2`` with ``--alpha`` (default 1e-3): ``fit_joint(alpha=...)``
    vs glum ``alpha=alpha, l1_ratio=0``.
``l1``
    ``lam * |w|_1`` with ``lam = --lambda-ratio`` (default 0.1) x ``lambda_max``:
    :func:`sparsefield.rf.joint_fit.joint_lasso` (the lasso path's proximal Newton at
    one penalty) vs glum ``alpha=lam, l1_ratio=1``.

Tolerance (``--tol``, default 1e-6): glum's ``gradient_tol``; ours stops when the
largest entry of the objective's (sub)gradient is at most ``tol`` (for ``l1``, the
lasso's relative KKT tolerance is set to ``tol / max(lambda_max, lam)``, the same
absolute bound).  glum's IRLS solvers test the sum of the entries rather than the
largest, a stricter rule; the "objective" columns show how close each answer is to
the optimum, and "max rel diff" is ``max_j |w_glum - w_ours| / max_j |w_ours|``.

Timing: ours is compiled first on a small problem, then timed ``--repeats`` times
(default 3; quick 2); glum (minutes per fit at this size) ``--peer-repeats`` times
(default 1).  Building the design is timed on its own row (both fits use it).

Threads: ``--threads`` (default 2) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is imported.
Run it on a quiet machine; numbers taken while other jobs run are provisional (the
JSON keeps the load averages).  Memory: about 2 GB (the design and glum's copies).

Usage::

    python bench/joint_glm.py            # 20000 x 3000 (12 minutes on 2 busy cores, mostly glum)
    python bench/joint_glm.py --quick    # 5000 x 3000 (5 minutes on 2 busy cores)
"""

import argparse
import os
import sys


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5000 frames, fewer repeats")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=None, help="default 20000 (quick 5000)")
    parser.add_argument("--lags", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=None, help="ours (default 3, quick 2)")
    parser.add_argument("--peer-repeats", type=int, default=1, help="glum (default 1)")
    parser.add_argument("--fits", default="ml,l2,l1", help="comma-separated: ml,l2,l1")
    parser.add_argument("--alpha", type=float, default=1e-3, help="L2 strength")
    parser.add_argument("--lambda-ratio", type=float, default=0.1,
                        help="L1 penalty as a fraction of lambda_max")
    parser.add_argument("--tol", type=float, default=1e-6, help="gradient tolerance")
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

from sparsefield.rf.basis import identity_basis  # noqa: E402
from sparsefield.rf.joint import JointDesign, joint_design  # noqa: E402
from sparsefield.rf.joint_fit import fit_joint, joint_lasso, joint_problem  # noqa: E402
from sparsefield.rf.lasso_path import lambda_max  # noqa: E402
from sparsefield.rf.poisson import PoissonProblem  # noqa: E402

HEIGHT, WIDTH = 20, 15

# ---------------------------------------------------------------------------- data


def synthetic(n_frames: int, n_lags: int, seed: int = 0,
              counts_per_frame: float = 3.7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary white noise and one unit with a centre-surround field at lags 0-2.

    Returns
    -------
    stimulus : ndarray of shape (n_frames + n_lags - 1, 300)
    counts, durations : ndarray of shape (n_frames + n_lags - 1,)
        The joint design keeps the last ``n_frames`` frames.
    """
    rng = np.random.default_rng(seed)
    n_total = n_frames + n_lags - 1
    stimulus = (rng.random((n_total, HEIGHT * WIDTH)) < 0.5).astype(np.float64)
    durations = np.clip(rng.normal(0.2155, 0.024, n_total), 0.166, 0.266)
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    distance2 = (rows - 12.0) ** 2 + (cols - 4.0) ** 2
    spatial = (np.exp(-distance2 / 2.0) - 0.3 * np.exp(-distance2 / 18.0)).ravel()
    drive = np.zeros(n_total)
    for lag, gain in enumerate((1.0, 0.6, -0.4)[:n_lags]):
        drive[lag:] += gain * (stimulus[: n_total - lag] - 0.5) @ spatial
    rate = np.exp(drive)
    rate *= counts_per_frame / np.mean(rate * durations)
    counts = rng.poisson(rate * durations).astype(np.float64)
    return stimulus, counts, durations


# ---------------------------------------------------------------------------- solvers


def ours(joint: JointDesign, kind: str, penalty: float, tol: float,
         lam_max: float) -> tuple[np.ndarray, float]:
    """The sparsefield fit: (weights, intercept)."""
    if kind == "l1":
        fit = joint_lasso(joint, penalty, tol=tol / max(lam_max, penalty))
    else:
        fit = fit_joint(joint, alpha=penalty, tol=tol)
    return fit.weights, fit.intercept


def glum_fit(joint: JointDesign, kind: str, penalty: float, tol: float,
             lam_max: float) -> tuple[np.ndarray, float]:
    """The glum fit on the same design, offset = log(durations): (weights, intercept)."""
    from glum import GeneralizedLinearRegressor

    model = GeneralizedLinearRegressor(family="poisson", alpha=penalty,
                                       l1_ratio=1.0 if kind == "l1" else 0.0,
                                       gradient_tol=tol, max_iter=1000)
    model.fit(joint.design, joint.counts, offset=np.log(joint.durations))
    return np.asarray(model.coef_, dtype=np.float64), float(model.intercept_)


def objective(problem: PoissonProblem, kind: str, penalty: float, weights: np.ndarray,
              intercept: float) -> float:
    """The penalised objective both programs minimise (mean NLL + penalty)."""
    value = problem.nll(weights, intercept)
    if kind == "l1":
        return value + penalty * float(np.abs(weights).sum())
    return value + 0.5 * penalty * float(weights @ weights)


def timed(function: Callable[..., Any], *arguments: Any,
          repeats: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeats`` calls, all times, the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*arguments)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def warm_up() -> None:
    """Compile the kernels on a small problem (not timed)."""
    stimulus, counts, durations = synthetic(300, 3, seed=1)
    joint = joint_design(stimulus, counts, durations, identity_basis(3))
    fit_joint(joint, alpha=1e-3)
    joint_lasso(joint, 0.5 * lambda_max(joint.design, joint.counts, joint.durations))


def measure(joint: JointDesign, fits: list[str], repeats: int, peer_repeats: int,
            tol: float) -> dict[str, dict[str, Any]]:
    """Time each fit with both programs and compare their answers."""
    problem = joint_problem(joint)
    lam_max = lambda_max(joint.design, joint.counts, joint.durations)
    penalties = {"ml": 0.0, "l2": ARGUMENTS.alpha, "l1": ARGUMENTS.lambda_ratio * lam_max}
    rows = {}
    for kind in fits:
        penalty = penalties[kind]
        row = {"penalty": penalty}
        for solver, function, count in (("sparsefield", ours, repeats),
                                        ("glum", glum_fit, peer_repeats)):
            median, times, (weights, intercept) = timed(function, joint, kind, penalty, tol,
                                                        lam_max, repeats=count)
            row[solver] = {"seconds_median": median, "seconds_all": times,
                           "objective": objective(problem, kind, penalty, weights, intercept),
                           "n_nonzero": int(np.count_nonzero(weights)), "weights": weights}
            print(f"  {kind:<3} {solver:<12} {median:8.2f} s", file=sys.stderr, flush=True)
        reference = row["sparsefield"].pop("weights")
        other = row["glum"].pop("weights")
        row["max_rel_diff"] = float(np.abs(other - reference).max() / np.abs(reference).max())
        row["ratio"] = row["glum"]["seconds_median"] / row["sparsefield"]["seconds_median"]
        rows[kind] = row
    return rows


# ---------------------------------------------------------------------------- report


def table(results: dict[str, Any]) -> str:
    """The Markdown table of the results."""
    lines = ["| fit | penalty | sparsefield s | glum s | glum / sparsefield | "
             "objective ours | objective glum | max rel diff |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, row in results["fits"].items():
        lines.append(
            f"| {kind} | {row['penalty']:.3g} | {row['sparsefield']['seconds_median']:.2f} | "
            f"{row['glum']['seconds_median']:.2f} | {row['ratio']:.1f}x | "
            f"{row['sparsefield']['objective']:.10f} | {row['glum']['objective']:.10f} | "
            f"{row['max_rel_diff']:.1e} |")
    lines.append(f"\nDesign {results['design_shape'][0]} x {results['design_shape'][1]}, "
                 f"built in {results['design_seconds']:.2f} s (not in the fit times).")
    return "\n".join(lines)


def main() -> None:
    """Build the design, run the fits, print the table and the JSON."""
    import glum
    import numba

    quick = ARGUMENTS.quick
    n_frames = ARGUMENTS.frames or (5000 if quick else 20000)
    repeats = ARGUMENTS.repeats or (2 if quick else 3)
    fits = [name.strip() for name in ARGUMENTS.fits.split(",") if name.strip()]
    unknown = set(fits) - {"ml", "l2", "l1"}
    if unknown:
        raise SystemExit(f"--fits: unknown {sorted(unknown)}; choose from ml, l2, l1")
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numba_threads": numba.get_num_threads(), "numpy": np.__version__,
                    "numba": numba.__version__, "glum": glum.__version__,
                    "load_average_start": os.getloadavg()},
        "n_frames": n_frames, "n_lags": ARGUMENTS.lags, "n_pixels": HEIGHT * WIDTH,
        "tol": ARGUMENTS.tol, "repeats": repeats, "peer_repeats": ARGUMENTS.peer_repeats,
    }
    warm_up()
    stimulus, counts, durations = synthetic(n_frames, ARGUMENTS.lags)
    start = time.perf_counter()
    joint = joint_design(stimulus, counts, durations, identity_basis(ARGUMENTS.lags))
    results["design_seconds"] = time.perf_counter() - start
    results["design_shape"] = list(joint.design.shape)
    print(f"  design {joint.design.shape} in {results['design_seconds']:.2f} s",
          file=sys.stderr, flush=True)
    results["fits"] = measure(joint, fits, repeats, ARGUMENTS.peer_repeats, ARGUMENTS.tol)
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results))
    document = json.dumps(results, indent=1)
    print(document)
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(document + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

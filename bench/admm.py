"""ADMM vs FISTA on the workflow's compressed dictionary-learning problem.

One process, the same data for both solvers, at the same tolerance.  Prints a
Markdown table and then one JSON document (also written to ``--output``).

Problem
-------
The workflow's default sparse-coding runs, read from ``config/config.yaml``
(``sparse``, defaults filled in from the config schema, as the workflow does):
the patches of :func:`sparsefield.sparse.prepare.prepare_patches` (10
scikit-image images, 20,000 ZCA-whitened unit-norm 16 x 16 training patches,
validation on ``coffee``), one compression matrix per run
(:func:`sparsefield.sparse.compression.compression_matrix`: ``none`` and
``dense`` with J = 1, ``bdm`` and ``brm`` with the configured J, M = 128), and
``LearningSettings`` from ``sparse.learning`` (256 atoms, tau 0.1, 10 epochs,
batches of 100, the gradient update, ``tol`` 1e-3, ``max_iter`` 500), the
solver being the only difference between the two runs of a scheme.

Measures
--------
per run
    Wall time of ``learn_dictionary`` (training, recovery of the pixel-space
    atoms and validation every epoch, as the workflow's rule runs it) with
    ``solver="fista"``, ``"admm"`` and ``"cd"`` (informative), one run each
    per scheme (the runs are deterministic); also the training time alone
    (``DictionaryRun.time``) and CPU time.  Objectives: the last epoch's
    training loss (compressed space) and validation loss (pixel space);
    ``rel`` is the run's over FISTA's minus 1.  Codes that differ within the
    tolerance send learning along another path, so these differ by more than
    the per-batch objectives: the CD row, an exact solver at the same
    tolerance, shows how much.
per batch
    ``encode(batch, Θ, tau, method=..., tol, max_iter)`` with ``return_info``,
    as dictionary learning calls it, on ``--batches`` batches of 100 measured
    training patches and Θ the FISTA run's learned dictionary (the starting one
    with ``--skip-runs``).  Every timed call gets its own copy of Θ with one
    entry moved by one ulp, so nothing is reused between calls (in learning Θ
    changes every batch); the row ``admm (same Θ)`` times the same Θ again,
    where the factorisation comes from the cache.  CD is informative.
    ``rel. objective`` is the batch's summed objective over FISTA's minus 1
    (median and largest absolute value over batches); ``vs exact`` the same
    against CD at ``tol = 1e-10``.

Acceptance (issue 13): ADMM at most 1.5x FISTA's wall time per run, and
objectives within 1e-4 (relative).  Medians over batches; one run per
comparison.  Threads: ``--threads`` (default 1, the config's
``sparse.learning.threads``) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is
imported; BLAS is also capped with threadpoolctl.  Run it on a quiet machine;
numbers taken while other jobs run are provisional (the JSON keeps the load
averages, and CPU times are given beside wall times).

Usage::

    python bench/admm.py                  # 4 schemes x 3 solvers x 10 epochs (~10 min)
    python bench/admm.py --quick          # dense only, 2 epochs, 10 batches (~1 min)
    python bench/admm.py --schemes none,dense --epochs 3 --output admm.json
"""

import argparse
import os
import sys


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (module docstring, Usage)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="dense only, 2 epochs, 10 batches")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--schemes", default=None,
                        help="comma-separated, default the config's (quick: dense)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default the config's n_epochs (quick 2)")
    parser.add_argument("--batches", type=int, default=None, help="default 30 (quick 10)")
    parser.add_argument("--skip-runs", action="store_true",
                        help="per-batch timings only (on the starting dictionary)")
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
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sparsefield.config import check_config  # noqa: E402
from sparsefield.sparse.compression import compression_matrix  # noqa: E402
from sparsefield.sparse.dictionary import LearningSettings, learn_dictionary  # noqa: E402
from sparsefield.sparse.images import load_images  # noqa: E402
from sparsefield.sparse.inference import EncodeInfo, encode  # noqa: E402
from sparsefield.sparse.prepare import PreparedPatches, prepare_patches  # noqa: E402
from sparsefield.sparse.whitening import unit_norm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOCALIZED = ("bdm", "brm")
#: Issue 13's bars.
MAX_RATIO, MAX_OBJECTIVE_GAP = 1.5, 1e-4


# ---------------------------------------------------------------------------- problem


def sparse_config() -> dict[str, Any]:
    """The ``sparse`` section of config/config.yaml, schema defaults filled in."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return check_config(config, ROOT / "workflow" / "schemas" / "config.schema.yaml")["sparse"]


def patch_sets(sparse: dict[str, Any]) -> PreparedPatches:
    """The workflow's prepared patches (workflow/scripts/sparse_patches.py)."""
    images, patches = sparse["images"], sparse["patches"]
    source = list(images["names"]) if images["source"] == "skimage" else images["source"]
    image_set = load_images(source, variable=images["variable"], scale=images["scale"])
    return prepare_patches(
        image_set, images["validation"], patches["size"], patches["n_train"],
        patches["n_validation"], patches["n_correlation"], patches["seed"],
        frequency_whitening=images["frequency_whitening"], f0_fraction=images["f0_fraction"],
        zca=patches["zca"], zca_epsilon=patches["zca_epsilon"], normalise=patches["unit_norm"])


def runs(sparse: dict[str, Any], schemes: list[str]) -> dict[str, tuple[str, int]]:
    """Run names and (scheme, J) as the workflow names them (``<scheme>-J<J>``)."""
    table = {}
    for scheme in schemes:
        for j in (sparse["runs"]["localization"] if scheme in LOCALIZED else [1]):
            table[f"{scheme}-J{j}"] = (scheme, j)
    return table


def compression(sparse: dict[str, Any], scheme: str, j: int) -> np.ndarray:
    """Φ of one run (workflow/scripts/compression_matrix.py)."""
    settings, n_pixels = sparse["compression"], sparse["patches"]["size"] ** 2
    return compression_matrix(
        scheme, n_pixels if scheme == "none" else settings["n_measurements"], n_pixels, j,
        seed=settings["seed"], order=settings["order"], patch_size=sparse["patches"]["size"],
        normalise=settings["normalise"])


def learning_settings(sparse: dict[str, Any], solver: str, epochs: int) -> LearningSettings:
    """The config's learning settings with ``solver`` and ``epochs`` (0: the config's)."""
    values = {key: value for key, value in sparse["learning"].items() if key != "threads"}
    if epochs:
        values["n_epochs"] = epochs
    return LearningSettings(solver=solver, **values)


# ---------------------------------------------------------------------------- per run


def one_run(prepared: PreparedPatches, phi: np.ndarray, scheme: str,
            settings: LearningSettings) -> tuple[dict[str, float], np.ndarray]:
    """One learn_dictionary call as the workflow's rule makes it: (row, Θ)."""
    wall, cpu = time.perf_counter(), time.process_time()
    run = learn_dictionary(prepared.train, settings,
                           compression=None if scheme == "none" else phi,
                           validation=prepared.validation, correlation=prepared.correlation)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    row = {"seconds": wall, "cpu_seconds": cpu, "training_seconds": float(run.time[-1]),
           "train_loss": float(run.train_loss[-1]), "val_loss": float(run.val_loss[-1])}
    return row, np.ascontiguousarray(run.theta)


def compare_runs(prepared: PreparedPatches, phi: np.ndarray, scheme: str, sparse: dict[str, Any],
                 epochs: int) -> tuple[dict[str, Any], np.ndarray]:
    """FISTA, ADMM and CD runs of one scheme, ratios to FISTA, and FISTA's learned Θ."""
    rows, theta = {}, None
    for solver in ("fista", "admm", "cd"):
        rows[solver], learned = one_run(prepared, phi, scheme,
                                        learning_settings(sparse, solver, epochs))
        theta = learned if solver == "fista" else theta
        print(f"    {solver}: {rows[solver]['seconds']:.1f} s, train loss "
              f"{rows[solver]['train_loss']:.6f}, validation loss {rows[solver]['val_loss']:.6f}",
              file=sys.stderr, flush=True)
    fista = rows["fista"]
    for row in rows.values():
        row.update(ratio=row["seconds"] / fista["seconds"],
                   cpu_ratio=row["cpu_seconds"] / fista["cpu_seconds"],
                   train_loss_rel=row["train_loss"] / fista["train_loss"] - 1,
                   val_loss_rel=row["val_loss"] / fista["val_loss"] - 1)
    return rows, theta


# ---------------------------------------------------------------------------- per batch


def measured_patches(prepared: PreparedPatches, phi: np.ndarray, scheme: str) -> np.ndarray:
    """``y = Φx`` of the training patches, unit norm (what learning encodes)."""
    measured = prepared.train if scheme == "none" else prepared.train @ phi.T
    return unit_norm(measured)


def starting_dictionary(phi: np.ndarray, scheme: str, n_atoms: int, seed: int) -> np.ndarray:
    """Θ0 = unit-norm columns of ΦΨ0, Ψ0 Gaussian (as learn_dictionary draws it)."""
    psi = np.random.default_rng(seed).standard_normal((phi.shape[1], n_atoms))
    theta = psi if scheme == "none" else phi @ psi
    return np.ascontiguousarray(theta / np.linalg.norm(theta, axis=0))


def nudged(theta: np.ndarray, index: int) -> np.ndarray:
    """A copy of Θ with one entry one ulp higher: equal in value, new to any cache."""
    copy = theta.copy()
    position = np.unravel_index(index % copy.size, copy.shape)
    copy[position] = np.nextafter(copy[position], np.inf)
    return copy


def timed_encode(batch: np.ndarray, theta: np.ndarray, tau: float, settings: LearningSettings,
                 method: str) -> tuple[float, float, EncodeInfo]:
    """Wall and CPU seconds of one encode call as learning makes it, and its report."""
    wall, cpu = time.perf_counter(), time.process_time()
    _, info = encode(batch, theta, tau, method=method, tol=settings.tol,
                         max_iter=settings.max_iter, return_info=True)
    return time.perf_counter() - wall, time.process_time() - cpu, info


def compare_batches(measured: np.ndarray, theta: np.ndarray, settings: LearningSettings,
                    n_batches: int) -> dict[str, dict[str, float]]:
    """Per-batch times, iterations and objectives of every encoder (module docstring)."""
    rng = np.random.default_rng(0)
    size, tau = settings.batch_size, settings.tau
    methods = {"fista": ("fista", False), "admm": ("admm", False),
               "admm (same Θ)": ("admm", True), "cd *": ("cd", False)}
    for method, _ in methods.values():  # compile / load the kernels, fill the cache
        encode(measured[:size], theta, tau, method=method, tol=settings.tol)
    samples = {name: {"wall": [], "cpu": [], "iterations": [], "objective": []}
               for name in methods}
    exact = []
    for index in range(n_batches):
        batch = measured[np.sort(rng.choice(len(measured), size, replace=False))]
        fresh = nudged(theta, index)
        for name, (method, same) in methods.items():
            wall, cpu, info = timed_encode(batch, theta if same else fresh, tau, settings,
                                           method)
            for key, value in (("wall", wall), ("cpu", cpu),
                               ("iterations", float(info.n_iter.mean())),
                               ("objective", float(info.objective.sum()))):
                samples[name][key].append(value)
        exact.append(float(encode(batch, theta, tau, method="cd", tol=1e-10, max_iter=10_000,
                                  return_info=True)[1].objective.sum()))
    return summarise_batches(samples, np.asarray(exact))


def summarise_batches(samples: dict[str, dict[str, list[float]]],
                      exact: np.ndarray) -> dict[str, dict[str, float]]:
    """Medians, ratios to FISTA and objective differences of every encoder."""
    fista_objective = np.asarray(samples["fista"]["objective"])
    rows = {}
    for name, values in samples.items():
        objective = np.asarray(values["objective"])
        rel, vs_exact = objective / fista_objective - 1, objective / exact - 1
        rows[name] = {
            "ms_median": 1e3 * statistics.median(values["wall"]),
            "cpu_ms_median": 1e3 * statistics.median(values["cpu"]),
            "iterations_mean": float(np.mean(values["iterations"])),
            "objective_rel_median": float(np.median(rel)),
            "objective_rel_max_abs": float(np.abs(rel).max()),
            "vs_exact_max": float(vs_exact.max()),
        }
    for row in rows.values():
        row["ratio"] = row["ms_median"] / rows["fista"]["ms_median"]
        row["cpu_ratio"] = row["cpu_ms_median"] / rows["fista"]["cpu_ms_median"]
    return rows


# ---------------------------------------------------------------------------- report


def table(results: dict[str, Any]) -> str:
    """The Markdown tables and the acceptance line."""
    lines = []
    if results["runs"]:
        lines += ["Per run (learn_dictionary, as the workflow's rule):", "",
                  "| run | solver | s | vs FISTA | CPU vs FISTA | train loss | rel | "
                  "validation loss | rel |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, rows in results["runs"].items():
            for solver, row in rows.items():
                lines.append(
                    f"| {name} | {solver}{' *' if solver == 'cd' else ''} | "
                    f"{row['seconds']:.1f} | {row['ratio']:.2f}x | {row['cpu_ratio']:.2f}x | "
                    f"{row['train_loss']:.6f} | {row['train_loss_rel']:+.1e} | "
                    f"{row['val_loss']:.6f} | {row['val_loss_rel']:+.1e} |")
        lines.append("")
    lines += ["Per batch (encode, 100 patches, median over batches):", "",
              "| run | method | ms | vs FISTA | CPU vs FISTA | iterations | rel. objective "
              "(median, max) | vs exact (max) |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, rows in results["batches"].items():
        for method, row in rows.items():
            lines.append(
                f"| {name} | {method} | {row['ms_median']:.2f} | {row['ratio']:.2f}x | "
                f"{row['cpu_ratio']:.2f}x | {row['iterations_mean']:.1f} | "
                f"{row['objective_rel_median']:+.1e}, {row['objective_rel_max_abs']:.1e} | "
                f"{row['vs_exact_max']:.1e} |")
    lines += ["", f"{results['threads']} thread(s), tol {results['tol']}, "
                  f"{results['epochs']} epochs, {results['n_batches']} batches; * informative."]
    lines += acceptance(results)
    return "\n".join(lines)


def acceptance(results: dict[str, Any]) -> list[str]:
    """PASS when every run's ADMM/FISTA wall-time ratio is <= 1.5 and every ADMM
    batch objective is within 1e-4 of FISTA's.
    """
    ratios = [rows["admm"]["ratio"] for rows in results["runs"].values()]
    gaps = [rows["admm"]["objective_rel_max_abs"] for rows in results["batches"].values()]
    if not ratios:
        ratios = [rows["admm"]["ratio"] for rows in results["batches"].values()]
    verdict = ("PASS" if max(ratios) <= MAX_RATIO and max(gaps) <= MAX_OBJECTIVE_GAP
               else "FAIL")
    basis = "per run" if results["runs"] else "per batch (no runs)"
    return [f"acceptance (ADMM <= {MAX_RATIO}x FISTA {basis}, batch objectives within "
            f"{MAX_OBJECTIVE_GAP:g}): {verdict} (largest ratio {max(ratios):.2f}x, largest "
            f"objective difference {max(gaps):.1e})"]


def main() -> None:
    """Measure, print the tables and the JSON."""
    import numba

    quick = ARGUMENTS.quick
    sparse = sparse_config()
    schemes = (ARGUMENTS.schemes.split(",") if ARGUMENTS.schemes
               else ["dense"] if quick else sparse["runs"]["schemes"])
    epochs = ARGUMENTS.epochs or (2 if quick else sparse["learning"]["n_epochs"])
    n_batches = ARGUMENTS.batches or (10 if quick else 30)
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "numpy": np.__version__,
                    "numba": numba.__version__, "load_average_start": os.getloadavg()},
        "threads": ARGUMENTS.threads, "epochs": epochs, "n_batches": n_batches,
        "tol": sparse["learning"]["tol"], "runs": {}, "batches": {},
    }
    with threadpool_limits(limits=ARGUMENTS.threads):
        prepared = patch_sets(sparse)
        for name, (scheme, j) in runs(sparse, schemes).items():
            print(f"  {name}", file=sys.stderr, flush=True)
            phi = compression(sparse, scheme, j)
            settings = learning_settings(sparse, "fista", epochs)
            theta = starting_dictionary(phi, scheme, settings.n_atoms, settings.seed)
            if not ARGUMENTS.skip_runs:
                results["runs"][name], theta = compare_runs(prepared, phi, scheme, sparse,
                                                            epochs)
            results["batches"][name] = compare_batches(measured_patches(prepared, phi, scheme),
                                                       theta, settings, n_batches)
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results))
    print(json.dumps(results, indent=1))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""Dictionary learning: sparsefield vs scikit-learn MiniBatchDictionaryLearning vs SPAMS.

One process, the same data and the same starting dictionary for every learner,
medians over repeats.  Prints a Markdown table and then one JSON document (also
written to ``--output``).

Data
----
``--patches`` (default 50,000) 16 x 16 patches drawn from the default
scikit-image images (``SKIMAGE_IMAGES``, seed 0) with
:func:`sparsefield.sparse.patches.make_patch_sets`, ZCA-whitened
(:class:`sparsefield.sparse.whitening.ZCA`, ``epsilon=0.01``) and scaled to
unit norm, as the workflow does.  Initial dictionary: 256 training patches
drawn without replacement (seed 0), unit norm; every learner gets its own
copy (scikit-learn writes into ``dict_init``).

Learners
--------
All learn 256 atoms with tau = alpha = lambda1 = 0.1, mini-batches of
``--batch-size`` (256) and ``--passes`` (5) passes over the patches:

``sparsefield online cd`` (the headline)
    ``learn_dictionary(X, LearningSettings(update="online", solver="cd",
    tol=1e-3, n_epochs=passes, batch_size=256, seed=0), initial_atoms=...)``:
    Mairal et al.'s online update, codes by coordinate descent.
``sklearn``
    ``MiniBatchDictionaryLearning(fit_algorithm="cd", max_iter=passes, tol=0,
    max_no_improvement=None, shuffle=True, random_state=0,
    transform_algorithm="lasso_cd")``: its fastest setting here (the default
    ``lars`` is about 8x slower).  The reference of the ratios.
``spams``
    ``spams.trainDL(mode=2, lambda1=0.1, lambda2=0, batchsize=256,
    iter=ceil(passes * n / 256), numThreads=threads)`` from spams-bin (GPL:
    benchmark only, never a dependency; skipped with a message when it is not
    installed).  ``iter`` counts mini-batches (a negative value would mean
    seconds), so it sees the same number of patches (up to one partial batch).
Informative rows (not the acceptance): ``sparsefield online fista`` (same
settings, FISTA codes) and ``sparsefield gradient cd`` (the paper's summed
gradient rule, batch 100, learning rate 0.8, decay 0.975 per pass).

Measures
--------
seconds: median wall time of the learning call only (data, initial
dictionary and evaluation excluded), over ``--repeats`` (3) runs, after an
untimed tiny warm-up of every learner (numba's kernels loaded or compiled).
patches/s = passes * n / seconds.  Objective: every learned dictionary
(pixels x atoms, unit-norm columns) is evaluated the same way, by encoding
all n training patches with ``sparsefield.sparse.inference.encode(method="cd",
tol=1e-6)`` and averaging ``½‖x − Db‖² + τ‖b‖₁`` per patch; "vs sklearn"
columns are ``sklearn seconds / seconds`` and ``objective / sklearn's − 1``.
Acceptance: objective within ±1 % of scikit-learn's and at least 4x its
patches per second.

Threads: ``--threads`` (default 1) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is
imported, and BLAS is also capped with threadpoolctl.  Run it on a quiet
machine; numbers taken while other jobs run are provisional (the JSON keeps
the load averages).

Usage::

    python bench/dictionary.py            # full: about 5.5 minutes on 2 busy cores, 1 thread
    python bench/dictionary.py --quick    # 1 repeat, 2 passes of 20,000 patches (about 30 s)
    python bench/dictionary.py --threads 2 --output dictionary.json
"""

import argparse
import math
import os
import sys


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat, 2 passes over 20,000 patches")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--passes", type=int, default=None, help="default 5 (quick 2)")
    parser.add_argument("--patches", type=int, default=None, help="default 50000 (quick 20000)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (quick 1)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--output", default=None, help="also write the JSON here")
    parser.add_argument("--skip", default="",
                        help="comma-separated learners to leave out: "
                             "sklearn,spams,fista,gradient")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one run of sparsefield online cd (stderr)")
    return parser.parse_args(argv)


ARGUMENTS = parse_arguments()
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ[_name] = str(ARGUMENTS.threads)

import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sparsefield.sparse.dictionary import LearningSettings, learn_dictionary  # noqa: E402
from sparsefield.sparse.images import SKIMAGE_IMAGES, load_images  # noqa: E402
from sparsefield.sparse.inference import encode  # noqa: E402
from sparsefield.sparse.patches import make_patch_sets  # noqa: E402
from sparsefield.sparse.whitening import ZCA, unit_norm  # noqa: E402

PATCH_SIZE = 16
N_ATOMS = 256
TAU = 0.1
SEED = 0
#: The paper's gradient rule, as tuned for it (summed over batches of 100).
GRADIENT = {"batch_size": 100, "learning_rate": 0.8, "decay": 0.975}
SPAMS_MISSING = "spams-bin not installed (pip install spams-bin)"


# ---------------------------------------------------------------------------- data


def patches(n_patches):
    """Unit-norm ZCA-whitened 16 x 16 training patches, (n_patches, 256)."""
    images = load_images(list(SKIMAGE_IMAGES))
    sets = make_patch_sets(images, [], PATCH_SIZE, n_patches, 0, 0, seed=SEED)
    zca = ZCA.fit(sets.train, epsilon=0.01)
    return unit_norm(zca.apply(sets.train))


def initial_dictionary(X):
    """``N_ATOMS`` distinct training patches (seeded), unit norm, (n_pixels, n_atoms)."""
    rng = np.random.default_rng(SEED)
    atoms = X[rng.choice(len(X), N_ATOMS, replace=False)].T
    return np.ascontiguousarray(atoms / np.linalg.norm(atoms, axis=0))


# ---------------------------------------------------------------------------- learners
# Each takes (X (n, pixels), init (pixels, atoms) -- its own copy --, passes, batch size)
# and returns the learned dictionary, (pixels, atoms).


def ours(update="online", solver="cd", **overrides):
    def learn(X, init, passes, batch_size):
        settings = LearningSettings(
            n_atoms=N_ATOMS, tau=TAU, n_epochs=passes, batch_size=batch_size,
            update=update, solver=solver, tol=1e-3, seed=SEED, **overrides)
        return learn_dictionary(X, settings, initial_atoms=init).phi[-1]
    return learn


def sklearn_learner(X, init, passes, batch_size):
    from sklearn.decomposition import MiniBatchDictionaryLearning

    model = MiniBatchDictionaryLearning(
        n_components=N_ATOMS, alpha=TAU, batch_size=batch_size, fit_algorithm="cd",
        max_iter=passes, tol=0, max_no_improvement=None, dict_init=init.T.copy(),
        shuffle=True, random_state=SEED, transform_algorithm="lasso_cd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return model.components_.T


def spams_batches(n_patches, passes, batch_size):
    """SPAMS' ``iter``: mini-batches for ``passes`` passes (ceil)."""
    return math.ceil(passes * n_patches / batch_size)


def spams_learner(X, init, passes, batch_size):
    import spams

    return spams.trainDL(
        np.asfortranarray(X.T), D=np.asfortranarray(init), lambda1=TAU, mode=2, lambda2=0.0,
        iter=spams_batches(len(X), passes, batch_size), batchsize=batch_size,
        numThreads=ARGUMENTS.threads, verbose=False)


def spams_available():
    try:
        importlib.import_module("spams")
    except ImportError:
        return False
    return True


#: The headline learner (our default for speed: online update, CD inference).
OURS = "sparsefield online cd"


def learners(skip, batch_size):
    """name -> (function, batch size, headline?) in the order they run."""
    table = {OURS: (ours(), batch_size, True)}
    if "sklearn" not in skip:
        table["sklearn"] = (sklearn_learner, batch_size, True)
    if "spams" not in skip:
        if spams_available():
            table["spams"] = (spams_learner, batch_size, True)
        else:
            print(SPAMS_MISSING, file=sys.stderr)
    if "fista" not in skip:
        table["sparsefield online fista"] = (ours(solver="fista"), batch_size, False)
    if "gradient" not in skip:
        table[(f"sparsefield gradient cd (batch {GRADIENT['batch_size']}, "
               f"lr {GRADIENT['learning_rate']}, decay {GRADIENT['decay']})")] = (
            ours(update="gradient", learning_rate=GRADIENT["learning_rate"],
                 decay=GRADIENT["decay"]),
            GRADIENT["batch_size"], False)
    return table


# ---------------------------------------------------------------------------- measures


def objective(X, dictionary):
    """Mean per-patch ½‖x − Db‖² + τ‖b‖₁ at codes solved to tol 1e-6 (and mean non-zeros)."""
    norms = np.linalg.norm(dictionary, axis=0)
    codes, info = encode(X, dictionary, TAU, method="cd", tol=1e-6, return_info=True)
    return {
        "objective": float(info.objective.mean()),
        "nonzeros_mean": float(np.count_nonzero(codes, axis=1).mean()),
        "converged_fraction": float(info.converged.mean()),
        "atom_norm_range": [float(norms.min()), float(norms.max())],
    }


def warm_up(table, X, init):
    """One tiny untimed run of every learner (numba kernels, imports)."""
    small = X[:3 * N_ATOMS]
    for function, batch_size, _ in table.values():
        function(small, init.copy(), 1, batch_size)


def run_learner(function, X, init, passes, batch_size, repeats):
    times = []
    dictionary = None
    for _ in range(repeats):
        start_init = init.copy()
        start = time.perf_counter()
        dictionary = function(X, start_init, passes, batch_size)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, np.asarray(dictionary)


def profile_ours(X, init, passes, batch_size):
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    ours()(X, init.copy(), passes, batch_size)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
    print(stream.getvalue(), file=sys.stderr)


# ---------------------------------------------------------------------------- report


def table(results):
    rows = results["learners"]
    reference = rows.get("sklearn")
    lines = ["| learner | seconds (median) | patches/s | vs sklearn | objective | "
             "objective vs sklearn |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, row in rows.items():
        speed = f"{reference['seconds_median'] / row['seconds_median']:.1f}x" if reference else ""
        relative = (f"{100 * (row['objective'] / reference['objective'] - 1):+.2f} %"
                    if reference else "")
        label = name if row["headline"] else f"{name} *"
        lines.append(f"| {label} | {row['seconds_median']:.2f} | "
                     f"{row['patches_per_second']:,.0f} | {speed} | {row['objective']:.4f} | "
                     f"{relative} |")
    lines.append("")
    lines.append(f"{results['n_patches']:,} unit-norm whitened 16x16 patches, {N_ATOMS} atoms, "
                 f"tau {TAU}, {results['passes']} passes, batch {results['batch_size']}, "
                 f"{results['machine']['threads']} thread(s), median of {results['repeats']}; "
                 "* informative rows.")
    if results["spams_missing"]:
        lines.append(f"spams: {SPAMS_MISSING}.")
    lines.extend(acceptance(results))
    return "\n".join(lines)


#: Issue 4's bar for the headline learner against scikit-learn.
MIN_SPEEDUP, MAX_OBJECTIVE_GAP = 4.0, 0.01


def acceptance(results):
    """Lines saying whether ours is >= 4x scikit-learn's patches/s at an equal (+-1 %)
    final objective, and how it compares with SPAMS."""
    rows = results["learners"]
    ours, reference = rows.get(OURS), rows.get("sklearn")
    if ours is None or reference is None:
        return []
    speedup = reference["seconds_median"] / ours["seconds_median"]
    gap = ours["objective"] / reference["objective"] - 1
    verdict = "PASS" if speedup >= MIN_SPEEDUP and abs(gap) <= MAX_OBJECTIVE_GAP else "FAIL"
    lines = [f"acceptance ({OURS} vs sklearn, >= {MIN_SPEEDUP:.0f}x at +-{100 * MAX_OBJECTIVE_GAP:.0f} % "
             f"objective): {verdict} ({speedup:.1f}x, {100 * gap:+.2f} %)"]
    if "spams" in rows:
        lines.append(f"vs spams: {rows['spams']['seconds_median'] / ours['seconds_median']:.1f}x")
    return lines


def main():
    quick = ARGUMENTS.quick
    passes = ARGUMENTS.passes or (2 if quick else 5)
    n_patches = ARGUMENTS.patches or (20_000 if quick else 50_000)
    repeats = ARGUMENTS.repeats or (1 if quick else 3)
    batch_size = ARGUMENTS.batch_size
    skip = {name.strip() for name in ARGUMENTS.skip.split(",") if name.strip()}
    import numba
    import sklearn

    print(f"threads: {ARGUMENTS.threads}", file=sys.stderr)
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numpy": np.__version__, "numba": numba.__version__,
                    "sklearn": sklearn.__version__,
                    "spams": _spams_version(),
                    "load_average_start": os.getloadavg()},
        "quick": quick, "repeats": repeats, "passes": passes, "n_patches": n_patches,
        "batch_size": batch_size, "n_atoms": N_ATOMS, "tau": TAU,
        "spams_missing": "spams" not in skip and not spams_available(), "learners": {},
    }
    with threadpool_limits(limits=ARGUMENTS.threads):
        X = patches(n_patches)
        init = initial_dictionary(X)
        chosen = learners(skip, batch_size)
        warm_up(chosen, X, init)
        for name, (function, learner_batch, headline) in chosen.items():
            median, times, dictionary = run_learner(function, X, init, passes, learner_batch,
                                                    repeats)
            row = {"headline": headline, "batch_size": learner_batch,
                   "seconds_median": median, "seconds_all": times,
                   "patches_per_second": passes * n_patches / median,
                   **objective(X, dictionary)}
            if name == "spams":
                row["spams_iter"] = spams_batches(n_patches, passes, learner_batch)
                row["patches_seen"] = row["spams_iter"] * learner_batch
            results["learners"][name] = row
            print(f"  {name:<60} {median:8.2f} s  objective {row['objective']:.5f}",
                  file=sys.stderr, flush=True)
        if ARGUMENTS.profile:
            profile_ours(X, init, passes, batch_size)
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results))
    print(json.dumps(results, indent=1))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1))


def _spams_version():
    try:
        from importlib.metadata import version

        return version("spams-bin")
    except Exception:  # not installed
        return None


if __name__ == "__main__":
    main()

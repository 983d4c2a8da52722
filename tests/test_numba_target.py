"""Kernels compiled in the running process and the same kernels loaded from numba's
cache give the same bytes (sparsefield._numba pins the code-generation target)."""

import os
import subprocess
import sys

from sparsefield._numba import WIDE_FEATURES, target_features

#: A population path with more pixels than rows (its neurons are handed over to the
#: per-unit Newton kernel, compiled here for the first time), then a lasso path over lags
#: for three units with the per-unit and the population solver (fastmath reductions in
#: every kernel they use), printed as the sha256 of their float arrays.  In that order,
#: the Newton kernel (compiled by the hand-over before its helper ``full_gradient`` was
#: compiled on its own) and the population kernels (with parallel=True) gave other
#: bytes when loaded from the cache.
SCRIPT = """
import hashlib
import numpy as np
from sparsefield.rf.lasso_population import lasso_path_population
from sparsefield.rf.units_lasso import fit_lasso_units
rng = np.random.default_rng(4)
wide = (rng.random((80, 100)) < 0.5).astype(float)
durations = np.clip(rng.normal(0.2155, 0.024, 80), 0.166, 0.266)
wide_counts = np.empty((80, 2))
for unit in range(2):
    wide_weights = np.zeros(100)
    wide_weights[rng.choice(100, 8, replace=False)] = rng.normal(0.0, 0.3, 8)
    eta = wide @ wide_weights
    wide_counts[:, unit] = rng.poisson(durations * 3.7 / 0.2155 * np.exp(eta)
                                       / np.mean(np.exp(eta)))
fits = [lasso_path_population(wide, wide_counts, durations, n_lambdas=6,
                              lambda_min_ratio=0.05, max_quasi_newton=5)]
rng = np.random.default_rng(0)
stimulus = rng.integers(0, 2, (600, 30)).astype(float)
weights = rng.normal(0, 0.3, 30)
counts = rng.poisson(np.exp(-1 + stimulus @ weights)[:, None] * np.ones((1, 3))).astype(float)
fits += [fit_lasso_units(stimulus, counts, np.full(600, 0.2), [0, 1, 2], n_lambdas=5,
                         n_folds=3, solver=solver) for solver in ("per_unit", "population")]
digest = hashlib.sha256()
for fit in fits:
    for name in sorted(vars(fit)):
        value = getattr(fit, name)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            digest.update(np.ascontiguousarray(value).tobytes())
print(digest.hexdigest(), int(fits[0].n_iter.max()))
"""

def test_compiled_and_cached_kernels_give_the_same_bytes(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    runs = [subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert any((tmp_path / "cache").rglob("*.nbi")), "the first run wrote no cache"
    digest, most_steps = runs[0].split()
    assert len(digest) == 64 and runs[0] == runs[1], runs
    assert int(most_steps) > 5, "the wide population path was not handed over to Newton"


def test_the_target_keeps_the_host_features_but_the_512_bit_ones():
    features = dict((item[1:], item[0] == "+") for item in target_features().split(","))
    assert not any(enabled for name, enabled in features.items() if name.startswith(WIDE_FEATURES))
    import llvmlite.binding as llvm

    host = llvm.get_host_cpu_features()
    assert all(features[name] == enabled for name, enabled in host.items()
               if not name.startswith(WIDE_FEATURES))
    assert os.environ.get("NUMBA_CPU_NAME") == "generic" or "NUMBA_CPU_FEATURES" in os.environ

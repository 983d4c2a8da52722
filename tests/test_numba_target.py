"""Kernels compiled in the running process and the same kernels loaded from numba's
cache give the same bytes (sparsefield._numba pins the code-generation target)."""

import os
import subprocess
import sys

from sparsefield._numba import WIDE_FEATURES, target_features

#: A lasso path over lags for three units (fastmath reductions in every kernel it uses),
#: printed as the sha256 of its float arrays.
SCRIPT = """
import hashlib
import numpy as np
from sparsefield.rf.units_lasso import fit_lasso_units
rng = np.random.default_rng(0)
stimulus = rng.integers(0, 2, (600, 30)).astype(float)
weights = rng.normal(0, 0.3, 30)
counts = rng.poisson(np.exp(-1 + stimulus @ weights)[:, None] * np.ones((1, 3))).astype(float)
fit = fit_lasso_units(stimulus, counts, np.full(600, 0.2), [0, 1, 2], n_lambdas=5, n_folds=3)
digest = hashlib.sha256()
for name in sorted(vars(fit)):
    value = getattr(fit, name)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        digest.update(np.ascontiguousarray(value).tobytes())
print(digest.hexdigest())
"""

def test_compiled_and_cached_kernels_give_the_same_bytes(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    runs = [subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert any((tmp_path / "cache").rglob("*.nbi")), "the first run wrote no cache"
    assert len(runs[0]) == 64 and runs[0] == runs[1], runs


def test_the_target_keeps_the_host_features_but_the_512_bit_ones():
    features = dict((item[1:], item[0] == "+") for item in target_features().split(","))
    assert not any(enabled for name, enabled in features.items() if name.startswith(WIDE_FEATURES))
    import llvmlite.binding as llvm

    host = llvm.get_host_cpu_features()
    assert all(features[name] == enabled for name, enabled in host.items()
               if not name.startswith(WIDE_FEATURES))
    assert os.environ.get("NUMBA_CPU_NAME") == "generic" or "NUMBA_CPU_FEATURES" in os.environ

"""Per-job start-up time of a workflow step: interpreter + imports + cached JIT.

Each workflow job is a fresh Python process, so what a job pays before doing work
is the interpreter start, the imports and loading numba's cached machine code.
This script times that in subprocesses (median of --repeats runs, after one warm-up
run that fills numba's cache) and prints JSON.  Target: under 1.5 s.

    python bench/startup.py [--repeats 7]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

# One tiny call of every numba kernel a receptive-field job uses, after the imports.
JOB = """
import numpy as np
from sparsefield.rf.binning import bin_spikes
from sparsefield.rf.lasso_lags import fit_lasso_lags
from sparsefield.rf.ml import fit_ml
from sparsefield.rf.poisson import poisson_nll_grad
from sparsefield.rf.separation import separate
from sparsefield.rf.sta import spike_triggered_average
from sparsefield.io import load_recording
rng = np.random.default_rng(0)
triggers = np.cumsum(np.full(200, 0.2))
spikes = np.sort(rng.uniform(0, 40, 300))
stimulus = rng.integers(0, 2, (200, 12)).astype(float)
binned = bin_spikes(spikes, triggers)
fit = fit_ml(stimulus, binned.counts, binned.durations, lags=(0, 1))
separate(fit.weights)
fit_lasso_lags(stimulus, binned.counts, binned.durations, lags=(0,), n_lambdas=3, n_folds=2)
spike_triggered_average(spikes, binned.edges, stimulus, tau_max=0.1, n_shifts=5)
"""

STAGES = {
    "python": "pass",
    "numpy+scipy": "import numpy, scipy.optimize",
    "sparsefield job (imports + cached JIT + tiny calls)": JOB,
}


def time_once(code):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    time_once(JOB)  # fill numba's on-disk cache
    results = {}
    for name, code in STAGES.items():
        times = [time_once(code) for _ in range(args.repeats)]
        results[name] = {"median_s": statistics.median(times), "min_s": min(times)}
    print(json.dumps(results, indent=2))
    job = results["sparsefield job (imports + cached JIT + tiny calls)"]["median_s"]
    verdict = "under" if job < 1.5 else "OVER"
    print(f"per-job start-up: {job:.2f} s median ({verdict} the 1.5 s target)")


if __name__ == "__main__":
    main()

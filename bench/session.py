"""One session of many units: the cost of each workflow step, and one session vs one-unit rows.

One process, the same data for every contender, medians over repeats.  Prints
Markdown tables and then one JSON document (also written to ``--output``).

Data
----
One synthetic session: ``--units`` (1000) units from
:func:`sparsefield.rf.simulate_session.session_models` under one binary white-noise
checkerboard of ``--frame`` (20 x 15 = 300 pixels) at ``--rate`` (60 Hz) for
``--hours`` (1 h: 216,000 frames).  ``--generator fast`` (the default) draws the
spikes from a frame-resolution LNP of those models (``bench/_session_data.py``:
seconds for 1000 units x 1 h); ``--generator library`` calls
:func:`~sparsefield.rf.simulate_session.simulate_session` (1 ms rate grid; minutes for
1000 units x 1 h).  Several ``--hours`` values are cuts of one session (its first
frames), so the durations share their data.

Settings are the workflow's defaults (``config/config.yaml`` when this was
written): lags covering 0-0.3 s (:func:`sparsefield.rf.lags.session_lags`;
at 60 Hz lags 0-18, 19 lags), ML ``max_iter`` 1000 and ``tol`` 1e-8, lasso 10
penalties down to 0.01 lambda_max, 5 contiguous folds, rule 1se, tol 1e-7,
``units_solver`` per_unit; STA delays 0-0.5 s in 0.01 s steps, seed 0; units with
fewer than 50 spikes (``min_spikes``) are not fitted.

Part 1: the steps of a session
------------------------------
What the workflow's rules call for one session, each timed alone:
``write_nwb_session`` (setup, not a workflow step), ``load_session`` of that
NWB file (``--no-load`` skips both and builds the arrays in memory),
``bin_units``, ``fit_ml_units``, ``fit_lasso_units``, ``sta_units`` with the
analytic null, and ``separate_units`` (the three separations: ML weights, lasso
weights at the chosen penalty, STA minus null mean).

Both fits run their units one after another on one core (the lasso with the
default ``units_solver`` per_unit), sharing only the checks, the centring and the
lagged designs, so ``--fit-units M`` / ``--lasso-units M`` fit only M of the
fitted units (evenly spread over them, through the ``fitted`` mask: the library
still gets the whole session) and **extrapolate linearly**:
``t(0) + (t(M) - t(0)) * n_fitted / M``, where ``t(0)`` is the same call with no
unit fitted (the shared work).  Such rows say "(extrapolated from M of N units)".
A unit's cost depends on its spikes (a unit with few spikes has the slowest lasso
paths), so a small M is a rough estimate.  Their peak RSS is that of the M-unit
run: ``fit_ml_units``' copies of the whole counts matrix are in it, but
``fit_lasso_units``' per-fold copies of the fitted units' counts are not.
``--skip ml,lasso,sta`` leaves steps out.

With two or more ``--hours``, every step's time is also **extrapolated** to
``--extrapolate-hours`` (1 h) with the exponent ``b`` measured between the two
longest durations (``t ~ n_frames ** b``), and the table says so.

Part 2: one session vs one-unit rows (``--compare-rows K``)
------------------------------------------------------------
K fitted units of the same session (K of those with at least 50 spikes, evenly
spread over them) are
analysed (a) as ONE session -- the stimulus converted to float64 once,
``bin_units``, ``fit_ml_units``, ``fit_lasso_units``, ``sta_units`` and
``separate_units`` -- and (b) as K one-unit rows, the per-row workflow: each row
converts its own copy of the stimulus, then ``bin_spikes``, ``fit_ml``,
``fit_lasso_lags``, ``spike_triggered_average`` and ``separate``.  Both use the
same null: the circular-shift null (the only one the one-unit STA has) with
``--compare-shifts`` shifts (the workflow's default is 200); the session's
analytic-null STA is timed as well, as an informative row.  Loading is left out
of both (rows would each read their own file), as is each row job's process
start-up (``bench/startup.py``).  The fitted results of (a) and (b) are compared
and their largest differences printed.

The 1000-unit hour (``--hour``)
-------------------------------
Issue 9's session of 1000 units x 1 h at 60 Hz (216,000 frames x 300 pixels) with
each step in its own child process, as the workflow runs one job per rule: the
parent writes the session (NWB file and arrays) to a temporary folder, and one child
per step reads what it needs, runs the library call and reports its wall time and its
peak RSS (``ru_maxrss`` of the child: imports, its inputs and the call, as a job's).
``load_session`` (NWB), ``bin_units`` and ``sta_units`` (analytic null, then
``separate_units`` of its maps) run on all units.  ``fit_ml_units`` and
``fit_lasso_units`` run on ``--fit-units`` (2) and ``--lasso-units`` (24) units and
are **extrapolated** as above (a second child with no unit fitted gives ``t(0)``;
with no unit to fit, ``fit_lasso_units`` skips its lags and folds, so their copies
and each solver call's preparation of the design count per unit there: an
overestimate); their peak RSS is that of the subset run, so the lasso's memory is also measured on
**all** units with one penalty per path (``lasso memory pass``: every copy, lag pair,
fold and batch of the full run, none of its iterations).  ``--lasso-solver``
(default per_unit, the workflow's; the population solver is the fast one for long
recordings).

Measures
--------
seconds: wall time (``time.perf_counter``), median over ``--repeats`` runs
(default 1, ``--quick`` 3), after an untimed tiny warm-up of every function
(numba's cached kernels loaded).  Peak RSS: Linux's ``VmHWM`` of this process,
reset to the current RSS (``/proc/self/clear_refs``) before each step and read
after it, so it is the high-water mark of the whole process *during that step*
(including the session's data already held); "+MB" is that peak minus the RSS
at the step's start (what the step itself added at its worst).  Where
``clear_refs`` cannot be written the process-lifetime ``ru_maxrss`` is reported
instead and the table says so.  (The reset also resets what ``ru_maxrss`` and
``/usr/bin/time`` report for this process: only the last step's peak.)

Threads: ``--threads`` (default 1, the workflow rules' ``threads: 1``) is
written to OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and
NUMBA_NUM_THREADS before numpy is imported (``fit_ml_units`` and
``fit_lasso_units`` cap BLAS at one thread themselves).  Run it on a quiet
machine; numbers taken while other jobs run are provisional (the JSON keeps the
load averages).

Usage::

    # smoke check: 20 units x 2 min at 20 Hz (7 lags), 40 s on 2 busy cores
    python bench/session.py --quick
    # 20 rows vs one session of the same 20 units, 1 min at 60 Hz: 7 min
    python bench/session.py --units 100 --hours 0.0166667 --compare-rows 20 --no-steps
    # 1000 units at 2.4 and 7.5 min, fits from 50 / 3 units, extrapolated to 1 h: 4.5 min
    python bench/session.py --units 1000 --hours 0.04 0.125 --fit-units 50 \\
        --lasso-units 3 --compare-rows 0
    # 1000 units x 1 h, all but the lasso, ML from 2 units: 7.5 min, 9.5 GB
    python bench/session.py --units 1000 --hours 1 --fit-units 2 --skip lasso --compare-rows 0
    # everything in full: 1000 units x 1 h (days on one core: the lasso)
    python bench/session.py
    # the 1000-unit hour, one child process per step, on 2 cores (about an hour)
    python bench/session.py --hour --threads 2 --lasso-solver population
"""

import argparse
import os
import sys


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="20 units x 2 min at 20 Hz (7 lags), lasso of 1 unit "
                             "(extrapolated), rows vs session with 2 units and 20 shifts")
    parser.add_argument("--units", type=int, default=None, help="default 1000 (quick 20)")
    parser.add_argument("--hours", type=float, nargs="+", default=None,
                        help="session duration(s) in hours (default 1; quick 2/60)")
    parser.add_argument("--rate", type=float, default=None,
                        help="frames per second (default 60, quick 20)")
    parser.add_argument("--frame", type=int, nargs=2, default=(20, 15),
                        metavar=("HEIGHT", "WIDTH"), help="frame shape (20 15)")
    parser.add_argument("--generator", choices=("fast", "library"), default="fast",
                        help="spike generator (module docstring; default fast)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=None, help="default 1 (quick 3)")
    parser.add_argument("--fit-units", type=int, default=None,
                        help="fit_ml_units on this many units, extrapolated (default all)")
    parser.add_argument("--lasso-units", type=int, default=None,
                        help="fit_lasso_units on this many units, extrapolated "
                             "(default all; quick 1)")
    parser.add_argument("--lasso-solver", choices=("per_unit", "population"),
                        default="per_unit", help="units_solver of the lasso (per_unit)")
    parser.add_argument("--compare-rows", type=int, default=None,
                        help="K units as one session vs K one-unit rows; 0 skips "
                             "(default 100, quick 2)")
    parser.add_argument("--compare-shifts", type=int, default=None,
                        help="shift-null shifts of both STAs in the comparison "
                             "(default 200, quick 20)")
    parser.add_argument("--extrapolate-hours", type=float, default=1.0)
    parser.add_argument("--no-load", action="store_true",
                        help="skip writing and loading the NWB file")
    parser.add_argument("--no-steps", action="store_true",
                        help="only the rows-vs-session comparison")
    parser.add_argument("--skip", default="",
                        help="comma-separated steps of part 1 to leave out: ml,lasso,sta")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one unit's fit_lasso_lags (stderr)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="also write the JSON here")
    parser.add_argument("--hour", action="store_true",
                        help="the 1000-unit hour, one child process per step (module "
                             "docstring); ML from --fit-units (2), lasso from "
                             "--lasso-units (24), extrapolated")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


ARGUMENTS = parse_arguments()
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ[_name] = str(ARGUMENTS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from _session_data import (  # noqa: E402
    concatenated, first_frames, make_session, select_units, stimulus_matrix,
)
from sparsefield.io.nwb import write_nwb_session  # noqa: E402
from sparsefield.io.session import load_session  # noqa: E402
from sparsefield.rf.binning import bin_spikes, bin_units, frame_edges  # noqa: E402
from sparsefield.rf.lasso_lags import fit_lasso_lags  # noqa: E402
from sparsefield.rf.ml import fit_ml  # noqa: E402
from sparsefield.rf.separation import separate, separate_units  # noqa: E402
from sparsefield.rf.sta import spike_triggered_average  # noqa: E402
from sparsefield.rf.lags import session_lags  # noqa: E402
from sparsefield.rf.summary import fitted_units  # noqa: E402
from sparsefield.rf.units_lasso import fit_lasso_units  # noqa: E402
from sparsefield.rf.units_ml import fit_ml_units  # noqa: E402
from sparsefield.rf.units_sta import sta_units  # noqa: E402

#: The workflow's defaults (config/config.yaml: rf, lasso, sta, sessions).
WINDOW, MIN_LAGS, MIN_SPIKES = (0.0, 0.3), 5, 50
ML = {"max_iter": 1000, "tol": 1e-8}
LASSO = {"n_lambdas": 10, "lambda_min_ratio": 0.01, "n_folds": 5, "rule": "1se", "tol": 1e-7}
STA = {"tau_max": 0.5, "tau_step": 0.01, "seed": 0}
CENTERING = "none"
MB = 2.0**20


# ---------------------------------------------------------------------------- memory


def _status_kb(key):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def _reset_peak():
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class Meter:
    """Wall time and peak RSS of one call (module docstring, "Measures")."""

    def __init__(self):
        self.resettable = _reset_peak() and _status_kb("VmHWM") is not None

    def __call__(self, function, *arguments, **keywords):
        """-> (seconds, peak MB, added MB, result)."""
        if self.resettable:
            _reset_peak()
        start_rss = (_status_kb("VmRSS") or 0) / 1024
        start = time.perf_counter()
        result = function(*arguments, **keywords)
        seconds = time.perf_counter() - start
        if self.resettable:
            peak = _status_kb("VmHWM") / 1024
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return seconds, peak, peak - start_rss, result


METER = Meter()


def repeated(function, repeats, *arguments, **keywords):
    """Median seconds over ``repeats`` calls, the largest peak and added RSS, the last result."""
    times, peaks, added = [], [], []
    result = None
    for _ in range(repeats):
        seconds, peak, extra, result = METER(function, *arguments, **keywords)
        times.append(seconds)
        peaks.append(peak)
        added.append(extra)
    return {"seconds": statistics.median(times), "seconds_all": times,
            "peak_rss_mb": max(peaks), "added_rss_mb": max(added)}, result


# ---------------------------------------------------------------------------- warm-up


def warm_up():
    """One tiny untimed call of every function timed here (numba's cached kernels)."""
    rng = np.random.default_rng(0)
    n_frames, n_pixels = 600, 12
    triggers = np.arange(n_frames) / 60.0
    stimulus = rng.integers(0, 2, (n_frames, n_pixels)).astype(float)
    trains = [np.sort(rng.uniform(0, 10, 400)) for _ in range(2)]
    spike_times = np.concatenate(trains)
    offsets = np.array([0, 400, 800])
    binned = bin_units(spike_times, offsets, triggers)
    lags = [0, 1]
    fit_ml_units(stimulus, binned.counts, binned.durations, lags)
    fit_lasso_units(stimulus, binned.counts, binned.durations, lags, n_lambdas=3,
                    n_folds=2, solver=ARGUMENTS.lasso_solver)
    sta_units(spike_times, offsets, binned.edges, stimulus, tau_max=0.05, null="analytic")
    sta_units(spike_times, offsets, binned.edges, stimulus, tau_max=0.05, n_shifts=3)
    one = bin_spikes(trains[0], triggers)
    separate(fit_ml(stimulus, one.counts, one.durations, lags).weights)
    fit_lasso_lags(stimulus, one.counts, one.durations, lags, n_lambdas=3, n_folds=2)
    spike_triggered_average(trains[0], one.edges, stimulus, tau_max=0.05, n_shifts=3)
    separate_units(rng.normal(size=(2, 2, n_pixels)))
    if not ARGUMENTS.no_load:
        with tempfile.TemporaryDirectory(prefix="bench-session-") as folder:
            path = Path(folder) / "warm.nwb"
            write_nwb_session(path, unit_ids=[1, 2], spike_trains=trains,
                              stimulus_frames=stimulus.reshape(n_frames, 3, 4).astype(np.uint8),
                              frame_times=triggers)
            load_session({"recording_id": "warm", "spikes_file": str(path), "format": "nwb"})


# ---------------------------------------------------------------------------- part 1


def _spread(positions, count):
    """``count`` of ``positions``, evenly spread (all of them if count is None or larger)."""
    if count is None or count >= positions.size:
        return positions
    return positions[np.unique(np.linspace(0, positions.size - 1, count).round().astype(int))]


def _subset_fit(name, function, n_fitted_all, subset, repeats, *arguments, **keywords):
    """Time ``function(..., fitted=subset)``; extrapolate to all fitted units if a subset."""
    n_subset = int(subset.sum())
    row, result = repeated(function, repeats, *arguments, fitted=subset, **keywords)
    row.update(step=name, n_units_timed=n_subset, n_units_fitted=n_fitted_all,
               extrapolated_units=False)
    if n_subset < n_fitted_all:
        shared, _ = repeated(function, 1, *arguments, fitted=np.zeros_like(subset), **keywords)
        per_unit = max(row["seconds"] - shared["seconds"], 0.0) / n_subset
        row.update(seconds_timed=row["seconds"], seconds_shared=shared["seconds"],
                   seconds=shared["seconds"] + per_unit * n_fitted_all,
                   extrapolated_units=True)
    return row, result


def _write_and_load(raw, folder, repeats):
    path = Path(folder) / "session.nwb"
    rows = []
    written, _ = repeated(
        write_nwb_session, 1, path, unit_ids=raw["unit_ids"], spike_trains=raw["spike_times"],
        stimulus_frames=raw["stimulus"], frame_times=raw["trigger_times"],
        identifier="bench-session")
    written.update(step="write_nwb_session (setup)", file_mb=path.stat().st_size / MB)
    rows.append(written)
    row = {"recording_id": "bench", "spikes_file": str(path), "format": "nwb"}
    loaded, session = repeated(load_session, repeats, row,
                               defaults={"min_spikes": MIN_SPIKES})
    loaded.update(step="load_session (NWB)")
    rows.append(loaded)
    return rows, session.spike_times, session.spike_offsets, session.trigger_times, \
        session.stimulus


class _Rows(list):
    """Step rows, each printed to stderr as it is added (progress of long runs)."""

    def append(self, row):
        super().append(row)
        print(f"    {_label(row):<60} {row['seconds']:9.2f} s {row['peak_rss_mb']:7.0f} MB",
              file=sys.stderr, flush=True)

    def extend(self, rows):
        for row in rows:
            self.append(row)


def session_steps(raw, repeats):
    """Part 1 for one session: a list of step rows (module docstring)."""
    rows = _Rows()
    if ARGUMENTS.no_load:
        spike_times, offsets = concatenated(raw)
        trigger_times, stimulus = raw["trigger_times"], stimulus_matrix(raw)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-session-") as folder:
            load_rows, spike_times, offsets, trigger_times, stimulus = _write_and_load(
                raw, folder, repeats)
        rows.extend(load_rows)
        direct_times, direct_offsets = concatenated(raw)
        assert np.array_equal(offsets, direct_offsets) and np.array_equal(spike_times,
                                                                          direct_times)
        assert np.array_equal(stimulus, stimulus_matrix(raw))

    row, binned = repeated(bin_units, repeats, spike_times, offsets, trigger_times)
    row.update(step="bin_units")
    rows.append(row)
    lags = session_lags(None, WINDOW, MIN_LAGS, binned.durations, "bench")
    fitted, _ = fitted_units(binned.counts, MIN_SPIKES)
    eligible = np.flatnonzero(fitted)

    def mask(count):
        chosen = np.zeros_like(fitted)
        chosen[_spread(eligible, count)] = True
        return chosen

    skip = {name.strip() for name in ARGUMENTS.skip.split(",") if name.strip()}
    matrices = {}  # what separate_units gets, per step run
    if "ml" not in skip:
        row, ml = _subset_fit("fit_ml_units", fit_ml_units, eligible.size,
                              mask(ARGUMENTS.fit_units), repeats, stimulus, binned.counts,
                              binned.durations, lags, **ML)
        rows.append(row)
        matrices["ML"] = ml.weights
    if "lasso" not in skip:
        row, lasso = _subset_fit("fit_lasso_units", fit_lasso_units, eligible.size,
                                 mask(ARGUMENTS.lasso_units), repeats, stimulus,
                                 binned.counts, binned.durations, lags,
                                 solver=ARGUMENTS.lasso_solver, **LASSO)
        rows.append(row)
        matrices["lasso"] = lasso.chosen_weights
    if "sta" not in skip:
        row, sta = repeated(sta_units, repeats, spike_times, offsets, binned.edges, stimulus,
                            null="analytic", **STA)
        row.update(step="sta_units (analytic null)")
        rows.append(row)
        matrices["STA"] = sta.sta - sta.null_mean
    if matrices:
        row, _ = repeated(lambda: [separate_units(matrix, CENTERING)
                                   for matrix in matrices.values()], repeats)
        row.update(step=f"separate_units ({', '.join(matrices)})")
        rows.append(row)
    info = {"n_frames": int(binned.counts.shape[0]), "n_units": int(binned.counts.shape[1]),
            "n_fitted": int(eligible.size), "lags": lags.tolist(),
            "n_spikes": int(spike_times.size),
            "spikes_per_unit_median": float(np.median(np.diff(offsets)))}
    return rows, info


# ---------------------------------------------------------------------------- part 2


def _stage(timings, name, function, *arguments, **keywords):
    """Run one stage; add its seconds to ``timings[name]`` and keep its largest peak RSS
    in ``timings["peak " + name]``."""
    seconds, peak, _, result = METER(function, *arguments, **keywords)
    timings[name] = timings.get(name, 0.0) + seconds
    timings["peak " + name] = max(timings.get("peak " + name, 0.0), peak)
    return result


def _session_workflow(raw, lags, n_shifts, timings):
    """(a) of part 2; adds each stage's seconds to ``timings``."""
    def stage(name, function, *arguments, **keywords):
        return _stage(timings, name, function, *arguments, **keywords)

    stimulus = stage("stimulus copy", stimulus_matrix, raw)
    spike_times, offsets = concatenated(raw)
    binned = stage("binning", bin_units, spike_times, offsets, raw["trigger_times"])
    ml = stage("ML", fit_ml_units, stimulus, binned.counts, binned.durations, lags, **ML)
    lasso = stage("lasso", fit_lasso_units, stimulus, binned.counts, binned.durations,
                  lags, solver=ARGUMENTS.lasso_solver, **LASSO)
    sta = stage("STA", sta_units, spike_times, offsets, binned.edges, stimulus,
                n_shifts=n_shifts, null="shift", **STA)
    stage("separation", lambda: (separate_units(ml.weights, CENTERING),
                                 separate_units(lasso.chosen_weights, CENTERING),
                                 separate_units(sta.sta - sta.null_mean, CENTERING)))
    return {"ml": ml, "lasso": lasso, "sta": sta}


def _rows_workflow(raw, lags, n_shifts, timings):
    """(b) of part 2: one row per unit, each with its own stimulus copy."""
    def stage(name, function, *arguments, **keywords):
        return _stage(timings, name, function, *arguments, **keywords)

    results = []
    for train in raw["spike_times"]:
        stimulus = stage("stimulus copy", stimulus_matrix, raw)
        binned = stage("binning", bin_spikes, train, raw["trigger_times"])
        ml = stage("ML", fit_ml, stimulus, binned.counts, binned.durations, lags, **ML)
        lasso = stage("lasso", fit_lasso_lags, stimulus, binned.counts, binned.durations,
                      lags, **LASSO)
        sta = stage("STA", spike_triggered_average, train, binned.edges, stimulus,
                    n_shifts=n_shifts, **STA)
        stage("separation", lambda: (separate(ml.weights, CENTERING),
                                     separate(lasso.chosen_weights, CENTERING),
                                     separate(sta.sta - sta.null_mean, CENTERING)))
        results.append({"ml": ml, "lasso": lasso, "sta": sta})
        del stimulus
    return results


def _agreement(session, rows):
    """Largest differences between the session's per-unit results and the rows'."""
    worst = {"ml_weights": 0.0, "lasso_chosen_weights": 0.0, "sta": 0.0, "sta_zscore": 0.0}
    same_choice = 0
    for index, row in enumerate(rows):
        ml = session["ml"].unit(index)
        worst["ml_weights"] = max(worst["ml_weights"],
                                  float(np.abs(ml.weights - row["ml"].weights).max()))
        lasso = session["lasso"].unit(index)
        same_choice += int(lasso.index_chosen == row["lasso"].index_chosen)
        worst["lasso_chosen_weights"] = max(
            worst["lasso_chosen_weights"],
            float(np.abs(lasso.chosen_weights - row["lasso"].chosen_weights).max()))
        sta = session["sta"].unit(index)
        worst["sta"] = max(worst["sta"], float(np.abs(sta.sta - row["sta"].sta).max()))
        worst["sta_zscore"] = max(worst["sta_zscore"],
                                  float(np.abs(sta.zscore - row["sta"].zscore).max()))
    worst["lasso_same_penalty"] = f"{same_choice}/{len(rows)}"
    return worst


def compare_rows(raw, n_rows, n_shifts, repeats):
    """Part 2 (module docstring)."""
    spike_times, offsets = concatenated(raw)
    counts = bin_units(spike_times, offsets, raw["trigger_times"]).counts
    positions = _spread(np.flatnonzero(fitted_units(counts, MIN_SPIKES)[0]), n_rows)
    sub = select_units(raw, positions)
    lags = session_lags(None, WINDOW, MIN_LAGS, np.diff(raw["trigger_times"]), "bench")
    result = {"n_rows": int(positions.size), "n_frames": int(raw["trigger_times"].size),
              "lags": lags.tolist(), "n_shifts": n_shifts,
              "n_spikes": int(sum(train.size for train in sub["spike_times"]))}
    for name, workflow in (("session", _session_workflow), ("rows", _rows_workflow)):
        runs = []
        for _ in range(repeats):
            timings = {}
            start_rss = (_status_kb("VmRSS") or 0) / 1024
            start = time.perf_counter()
            output = workflow(sub, lags, n_shifts, timings)
            seconds = time.perf_counter() - start
            # The stages reset the high-water mark: the run's peak is their largest.
            peak = max(value for key, value in timings.items() if key.startswith("peak "))
            runs.append({"seconds": seconds, "peak_rss_mb": peak,
                         "added_rss_mb": peak - start_rss, "stages": timings})
            print(f"  compare {name:<8} {seconds:9.2f} s", file=sys.stderr, flush=True)
        median = statistics.median(run["seconds"] for run in runs)
        result[name] = {
            "seconds": median, "seconds_all": [run["seconds"] for run in runs],
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
            "added_rss_mb": max(run["added_rss_mb"] for run in runs),
            "stages": {stage: (max if stage.startswith("peak ") else statistics.median)(
                run["stages"][stage] for run in runs) for stage in runs[0]["stages"]},
        }
        result[f"_{name}_output"] = output
    result["agreement"] = _agreement(result.pop("_session_output"), result.pop("_rows_output"))
    spike_all, offsets_all = concatenated(sub)
    edges = frame_edges(raw["trigger_times"])
    analytic, _ = repeated(sta_units, repeats, spike_all, offsets_all, edges,
                           stimulus_matrix(sub), null="analytic", **STA)
    result["session_sta_analytic"] = analytic
    return result


# ---------------------------------------------------------------------------- profile


def profile_lasso(raw):
    """cProfile of one fitted unit's fit_lasso_lags (stderr, by own time)."""
    import cProfile
    import io
    import pstats

    spike_times, offsets = concatenated(raw)
    binned = bin_units(spike_times, offsets, raw["trigger_times"])
    unit = int(np.flatnonzero(fitted_units(binned.counts, MIN_SPIKES)[0])[0])
    lags = session_lags(None, WINDOW, MIN_LAGS, binned.durations, "bench")
    stimulus = stimulus_matrix(raw)
    counts = binned.counts[:, unit]
    profiler = cProfile.Profile()
    profiler.enable()
    fit_lasso_lags(stimulus, counts, binned.durations, lags, **LASSO)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
    print(f"profile: fit_lasso_lags of unit {unit}, {counts.size} frames, {lags.size} lags, "
          f"{int(counts.sum())} spikes", file=sys.stderr)
    print(stream.getvalue(), file=sys.stderr)


# ---------------------------------------------------------------------------- report


def _label(row):
    label = row["step"]
    if row.get("extrapolated_units"):
        label += (f" (extrapolated from {row['n_units_timed']} of {row['n_units_fitted']} "
                  "units)")
    return label


def _seconds(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def steps_table(durations):
    """One Markdown table per duration, then the extrapolation when there are several."""
    lines = []
    memory = "VmHWM per step" if METER.resettable else "ru_maxrss (process lifetime)"
    for entry in durations:
        info = entry["info"]
        lines.append(f"\n{info['n_units']} units ({info['n_fitted']} fitted), "
                     f"{entry['hours'] * 60:.3g} min at {ARGUMENTS.rate:g} Hz = "
                     f"{info['n_frames']:,} frames, {len(info['lags'])} lags, "
                     f"{info['n_spikes']:,} spikes:\n")
        lines += [f"| step | seconds | peak RSS MB ({memory}) | +MB |",
                  "|---|---:|---:|---:|"]
        total = 0.0
        for row in entry["steps"]:
            if "setup" not in row["step"]:
                total += row["seconds"]
            lines.append(f"| {_label(row)} | {row['seconds']:.2f} | "
                         f"{row['peak_rss_mb']:.0f} | {row['added_rss_mb']:.0f} |")
        lines.append(f"| total (without setup) | {total:.2f} | | |")
    if len(durations) >= 2:
        short, long = durations[-2], durations[-1]
        target = ARGUMENTS.extrapolate_hours
        ratio = target / long["hours"]
        lines.append(f"\nExtrapolated to {target:g} h ({target * 3600 * ARGUMENTS.rate:,.0f} "
                     f"frames) with t ~ n_frames ** b, b measured between "
                     f"{short['hours'] * 60:.3g} and {long['hours'] * 60:.3g} min "
                     "(an extrapolation, not a measurement):\n")
        lines += [f"| step | s at {short['hours'] * 60:.3g} min | s at "
                  f"{long['hours'] * 60:.3g} min | b | s at {target:g} h (extrapolated) | "
                  "h at {target:g} h |".replace("{target:g}", f"{target:g}"),
                  "|---|---:|---:|---:|---:|---:|"]
        total = 0.0
        shorter = {row["step"]: row for row in short["steps"]}
        for second in long["steps"]:
            first = shorter[second["step"]]
            frames = long["info"]["n_frames"] / short["info"]["n_frames"]
            exponent = (np.log(second["seconds"] / first["seconds"]) / np.log(frames)
                        if first["seconds"] > 0 and second["seconds"] > 0 else 1.0)
            projected = second["seconds"] * ratio ** exponent
            if "setup" not in second["step"]:
                total += projected
            second["extrapolated_seconds"] = projected
            second["exponent"] = exponent
            lines.append(f"| {_label(second)} | {first['seconds']:.2f} | "
                         f"{second['seconds']:.2f} | {exponent:.2f} | {_seconds(projected)} | "
                         f"{projected / 3600:.2f} |")
        lines.append(f"| total (without setup) | | | | {_seconds(total)} | "
                     f"{total / 3600:.2f} |")
    return "\n".join(lines)


def compare_table(result):
    session, rows = result["session"], result["rows"]
    lines = [f"\nOne session vs {result['n_rows']} one-unit rows: {result['n_frames']:,} "
             f"frames, {len(result['lags'])} lags, {result['n_spikes']:,} spikes, shift null "
             f"with {result['n_shifts']} shifts in both:\n",
             "| stage | session s | rows s | rows / session | session peak RSS MB | "
             "rows peak RSS MB |", "|---|---:|---:|---:|---:|---:|"]
    for stage, seconds in session["stages"].items():
        if stage.startswith("peak "):
            continue
        other = rows["stages"][stage]
        lines.append(f"| {stage} | {seconds:.2f} | {other:.2f} | "
                     f"{other / seconds if seconds > 0 else float('nan'):.1f}x | "
                     f"{session['stages']['peak ' + stage]:.0f} | "
                     f"{rows['stages']['peak ' + stage]:.0f} |")
    lines.append(f"| **total** | {session['seconds']:.2f} | {rows['seconds']:.2f} | "
                 f"{rows['seconds'] / session['seconds']:.2f}x | "
                 f"{session['peak_rss_mb']:.0f} (+{session['added_rss_mb']:.0f}) | "
                 f"{rows['peak_rss_mb']:.0f} (+{rows['added_rss_mb']:.0f}) |")
    analytic = result["session_sta_analytic"]
    lines.append(f"\nInformative: the session's STA with the analytic null instead: "
                 f"{analytic['seconds']:.2f} s (vs {session['stages']['STA']:.2f} s shift "
                 f"null, {rows['stages']['STA']:.2f} s rows).")
    agreement = result["agreement"]
    lines.append("Agreement (largest |session - rows| over units): "
                 + ", ".join(f"{key} {value:.2g}" if isinstance(value, float)
                             else f"{key} {value}" for key, value in agreement.items()) + ".")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- --hour


#: Steps of ``--hour``, each run by a child process: (step, what the table calls it).
HOUR_STEPS = (("load", "load_session (NWB)"), ("bin", "bin_units"),
              ("ml", "fit_ml_units"), ("lasso", "fit_lasso_units"),
              ("lasso_memory", "fit_lasso_units, lasso memory pass (all units, 1 penalty)"),
              ("sta", "sta_units (analytic null) + separate_units"))


def _child_inputs(folder):
    """What a fitting step reads: the float64 stimulus, the counts, lags and fitted units."""
    raw = dict(np.load(folder / "session.npz"))
    binned = dict(np.load(folder / "counts.npz"))
    lags = session_lags(None, WINDOW, MIN_LAGS, binned["durations"], "bench")
    eligible = np.flatnonzero(fitted_units(binned["counts"], MIN_SPIKES)[0])
    stimulus = raw["stimulus"].reshape(raw["stimulus"].shape[0], -1).astype(np.float64)
    return raw, binned, lags, eligible, stimulus


def run_child(step, folder, n_units):
    """One step of ``--hour`` in this (child) process; prints its JSON row last."""
    folder = Path(folder)
    info = {}
    if step == "load":
        row = {"recording_id": "bench", "spikes_file": str(folder / "session.nwb"),
               "format": "nwb"}
        start = time.perf_counter()
        load_session(row, defaults={"min_spikes": MIN_SPIKES})
    elif step == "bin":
        raw = dict(np.load(folder / "session.npz"))
        start = time.perf_counter()
        binned = bin_units(raw["spike_times"], raw["offsets"], raw["trigger_times"])
        seconds = time.perf_counter() - start
        np.savez(folder / "counts.npz", counts=binned.counts, durations=binned.durations,
                 edges=binned.edges)
        start = time.perf_counter() - seconds
    elif step == "sta":
        raw, binned, _, _, stimulus = _child_inputs(folder)
        start = time.perf_counter()
        sta = sta_units(raw["spike_times"], raw["offsets"], binned["edges"], stimulus,
                        null="analytic", **STA)
        separate_units(sta.sta - sta.null_mean, CENTERING)
    else:
        _, binned, lags, eligible, stimulus = _child_inputs(folder)
        fitted = np.zeros(binned["counts"].shape[1], dtype=bool)
        fitted[eligible if step == "lasso_memory" else _spread(eligible, n_units)] = True
        info = {"n_units_timed": int(fitted.sum()), "n_units_fitted": int(eligible.size),
                "n_lags": int(lags.size)}
        start = time.perf_counter()
        if step == "ml":
            fit_ml_units(stimulus, binned["counts"], binned["durations"], lags,
                         fitted=fitted, **ML)
        else:
            settings = dict(LASSO, n_lambdas=1) if step == "lasso_memory" else LASSO
            fit_lasso_units(stimulus, binned["counts"], binned["durations"], lags,
                            fitted=fitted, solver=ARGUMENTS.lasso_solver, **settings)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step": step, "seconds": seconds, "peak_rss_mb": peak, **info}))


def _child(step, folder, n_units=0):
    """Run ``run_child`` in a fresh interpreter; its JSON row."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--data",
               str(folder), "--units", str(n_units), "--threads", str(ARGUMENTS.threads),
               "--lasso-solver", ARGUMENTS.lasso_solver]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"--hour step {step} failed:\n{done.stderr[-3000:]}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"    {step:<14} {n_units:5d} units {row['seconds']:10.1f} s "
          f"{row['peak_rss_mb']:8.0f} MB", file=sys.stderr, flush=True)
    return row


def hour_steps(raw):
    """``--hour``: every step in a child process; rows as part 1's (module docstring)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-hour-") as folder:
        folder = Path(folder)
        spike_times, offsets = concatenated(raw)
        np.savez(folder / "session.npz", stimulus=raw["stimulus"], spike_times=spike_times,
                 offsets=offsets, trigger_times=raw["trigger_times"])
        start = time.perf_counter()
        write_nwb_session(folder / "session.nwb", unit_ids=raw["unit_ids"],
                          spike_trains=raw["spike_times"], stimulus_frames=raw["stimulus"],
                          frame_times=raw["trigger_times"], identifier="bench-hour")
        rows.append({"step": "write_nwb_session (setup)", "seconds": time.perf_counter() - start,
                     "peak_rss_mb": float("nan"), "added_rss_mb": float("nan")})
        subsets = {"ml": ARGUMENTS.fit_units, "lasso": ARGUMENTS.lasso_units}
        for step, label in HOUR_STEPS:
            row = _child(step, folder, subsets.get(step, 0))
            if step in subsets:
                shared = _child(step, folder, 0)
                n_all, n_timed = row["n_units_fitted"], row["n_units_timed"]
                per_unit = max(row["seconds"] - shared["seconds"], 0.0) / max(n_timed, 1)
                row.update(seconds_timed=row["seconds"], seconds_shared=shared["seconds"],
                           seconds=shared["seconds"] + per_unit * n_all,
                           extrapolated_units=n_timed < n_all)
            row.update(step=label, added_rss_mb=float("nan"))
            rows.append(row)
    return rows


def main():
    if ARGUMENTS.child:
        run_child(ARGUMENTS.child, ARGUMENTS.data, ARGUMENTS.units)
        return
    if ARGUMENTS.hour:
        for key, value in {"units": 1000, "hours": [1.0], "rate": 60.0, "fit_units": 2,
                           "lasso_units": 24, "compare_rows": 0}.items():
            if getattr(ARGUMENTS, key) is None:
                setattr(ARGUMENTS, key, value)
        ARGUMENTS.no_steps = True
    quick = ARGUMENTS.quick
    if quick:
        defaults = {"units": 20, "hours": [2 / 60], "rate": 20.0, "repeats": 3,
                    "lasso_units": 1, "compare_rows": 2, "compare_shifts": 20}
    else:
        defaults = {"units": 1000, "hours": [1.0], "rate": 60.0, "repeats": 1,
                    "lasso_units": None, "compare_rows": 100, "compare_shifts": 200}
    for key, value in defaults.items():
        if getattr(ARGUMENTS, key) is None:
            setattr(ARGUMENTS, key, value)
    import numba

    hours = sorted(ARGUMENTS.hours)
    frames = [int(round(h * 3600 * ARGUMENTS.rate)) for h in hours]
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numpy": np.__version__, "numba": numba.__version__,
                    "load_average_start": os.getloadavg()},
        "arguments": {key: value for key, value in vars(ARGUMENTS).items()},
        "memory_measure": "VmHWM reset per step" if METER.resettable else "ru_maxrss",
        "durations": [],
    }
    print(f"threads {ARGUMENTS.threads}; generating {ARGUMENTS.units} units x "
          f"{frames[-1]:,} frames ({ARGUMENTS.generator})", file=sys.stderr, flush=True)
    start = time.perf_counter()
    raw = make_session(ARGUMENTS.generator, n_units=ARGUMENTS.units, n_frames=frames[-1],
                       frame_shape=ARGUMENTS.frame, frame_rate=ARGUMENTS.rate,
                       seed=ARGUMENTS.seed)
    results["generate_seconds"] = time.perf_counter() - start
    print(f"  generated in {results['generate_seconds']:.1f} s", file=sys.stderr, flush=True)
    if not ARGUMENTS.hour:
        warm_up()

    text = []
    if ARGUMENTS.hour:
        steps = hour_steps(raw)
        info = {"n_frames": int(raw["trigger_times"].size), "n_units": int(ARGUMENTS.units),
                "n_fitted": int(next((row["n_units_fitted"] for row in steps
                                      if "n_units_fitted" in row), 0)),
                "lags": list(range(next((row["n_lags"] for row in steps if "n_lags" in row),
                                        0))),
                "n_spikes": int(sum(train.size for train in raw["spike_times"]))}
        results["durations"].append({"hours": hours[-1], "info": info, "steps": steps})
        text.append(steps_table(results["durations"]).replace(
            "VmHWM per step", "ru_maxrss of the step's own process"))
    if not ARGUMENTS.no_steps:
        for duration, n_frames in zip(hours, frames):
            print(f"  {duration * 60:.3g} min ({n_frames:,} frames):", file=sys.stderr,
                  flush=True)
            steps, info = session_steps(first_frames(raw, n_frames), ARGUMENTS.repeats)
            results["durations"].append({"hours": duration, "info": info,
                                         "steps": list(steps)})
        text.append(steps_table(results["durations"]))
    if ARGUMENTS.compare_rows:
        results["compare"] = compare_rows(raw, ARGUMENTS.compare_rows,
                                          ARGUMENTS.compare_shifts, ARGUMENTS.repeats)
        text.append(compare_table(results["compare"]))
    if ARGUMENTS.profile:
        profile_lasso(first_frames(raw, frames[0]))
    results["machine"]["load_average_end"] = os.getloadavg()
    print("\n".join(text))
    print(json.dumps(results, indent=1, default=float))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()

"""Scaling curves: time and peak memory vs size of every heavy step, with a fitted slope.

One process, the same data for every method at each size, medians over repeats (after
one untimed warm-up call each).  Prints a Markdown table and then one JSON document
(also written to ``--output``), and draws one figure (``--figure``, default
``docs/_static/scaling.png``): one log-log panel per curve, time vs size, ours vs the
peer vs the machine floor, the fitted slopes in the legends.

Curves (sizes: default; ``--quick`` drops the largest one or two)
------
``binning`` vs spikes (1e5, 1e6, 1e7, 1e8; frames = spikes / 100): sorted Poisson
    spike times (float64) and jittered frames inside their span.  Ours:
    :func:`sparsefield.rf.binning.bin_spikes` (the rule's API: edges, checks, counts).
    Peer: ``np.diff(np.searchsorted(spikes, edges))``.  Floor: one read of the spike
    array, ``spikes.sum()``, measured at each size.
``lasso path`` vs frames (2500 ... 20000 x 300 pixels) and vs pixels (20000 x 75 ...
    600): binary white noise, one neuron with 12 non-zero weights, 10 penalties from
    its lambda_max down to 1e-2 of it.  Ours: :func:`sparsefield.rf.lasso_path.lasso_path`.
    Peer: scikit-learn's Gaussian ``sklearn.linear_model.lasso_path`` on the rates
    (centred design, ``alpha = lambda / mean(durations)``, as ``bench/rf_lasso.py``:
    a simpler problem).  Floor: one gradient pass, ``X w`` and ``X.T r``: the larger
    of 4 n p flops at the measured GEMM rate and 2 reads of X (16 n p bytes) at the
    measured bandwidth.
``population`` vs neurons (10, 30, 100 on 5000 x 100, lag 0): Ours:
    :func:`sparsefield.rf.lasso_population.lasso_path_population` (10 penalties per
    neuron).  Peer: the one-neuron path (:func:`~sparsefield.rf.lasso_path.lasso_path`)
    looped over the neurons.  Floor: one weighted Gram product per neuron
    (2 n p^2 flops) at the GEMM rate (one Newton step).
``STA`` vs spikes (recording length: 3e4 ... 3e6 spikes, 5 spikes per 60 Hz frame,
    100 pixels, delays 0 ... 0.1 s in quarter frames: 25) and vs delays (5 ... 40
    delays at 3e5 spikes): :func:`sparsefield.rf.units_sta.sta_units` (the
    workflow's sub-frame STA), one unit, ``null="analytic"`` (the shift null costs
    ``n_shifts + 1`` times the same).  Peer: numpy, per delay
    ``np.bincount(np.searchsorted(edges, spikes - tau) - 1) @ stimulus``.  Floor:
    ``2 n_taus n_frames n_pixels`` flops at the GEMM rate (the weighted frame sums).
``dictionary`` vs patches (5000 ... 40000 at 256 atoms) and vs atoms (64 ... 512 at
    10000 patches): unit-norm ZCA-whitened 16 x 16 patches from the default images
    (as ``bench/dictionary.py``), tau = alpha = 0.1, batches of 256, ``--passes`` (2)
    passes, the same initial dictionary (seeded training patches).  Ours:
    :func:`sparsefield.sparse.dictionary.learn_dictionary` (online update, CD codes,
    tol 1e-3).  Peer: scikit-learn ``MiniBatchDictionaryLearning(fit_algorithm="cd",
    max_iter=passes, tol=0, max_no_improvement=None)``.  Floor: one pass of the two
    BLAS products per batch (``D.T X`` and the Gram ``D.T D``) at the GEMM rate.

Measures
--------
Seconds: median wall time over ``--repeats`` (3) calls after an untimed warm-up; when
the warm-up takes longer than ``--budget`` (2 s) it is the one timed call (every curve's
smallest size is fast, so numba's kernels are loaded by then).  Slope: least-squares fit of log(seconds) on log(size)
over the sizes of a curve; "last step": the slope between its two largest sizes
(where fixed costs weigh least).  Peak memory ("peak MB"): the rise of the process's
resident-set high-water mark (``VmHWM`` in ``/proc/self/status``, reset before the call
by writing 5 to ``/proc/self/clear_refs``) over its resident size just before the last timed
call: what the call itself touches beyond the inputs (numpy, numba and BLAS
allocations alike).  So that memory freed by earlier calls and kept by the allocator does
not hide it, glibc's mmap threshold is pinned at 64 KiB and its trim threshold at
128 KiB (``mallopt``), and ``malloc_trim(0)`` runs before each measured call; blocks
under 64 KiB that the heap already holds can still hide a little.
Where ``/proc`` is not writable it falls back to ``tracemalloc``'s peak (numpy and
Python allocations only) and the JSON says so.  GEMM rate: ``np.dot`` of two
2000 x 2000 float64 matrices (median of 3), 2 n^3 / seconds.  Read rate: ``a.sum()`` of
2e7 float64 (160 MB, median of 3), bytes / seconds.

Threads: ``--threads`` (default 2) is written to OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
MKL_NUM_THREADS and NUMBA_NUM_THREADS before numpy is imported.  Run it on a quiet
machine; numbers taken while other jobs run are provisional (the JSON keeps the load
averages).  Memory: about 2.5 GB at 1e8 spikes.

Usage::

    python bench/scaling.py            # every curve (6.3 minutes at load 5-7 on 2 cores)
    python bench/scaling.py --quick    # smaller largest sizes (under a minute)
    python bench/scaling.py --curves binning,sta --figure /tmp/scaling.png
    python bench/scaling.py --curves sta --merge all.json --output all.json  # redo one
"""

import argparse
import os
import sys


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="leave out the largest sizes")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=2.0,
                        help="one repeat only when a call takes longer (s)")
    parser.add_argument("--passes", type=int, default=2, help="dictionary passes")
    parser.add_argument("--curves", default="binning,lasso,population,sta,dictionary",
                        help="comma-separated curves to run")
    parser.add_argument("--figure", default="docs/_static/scaling.png",
                        help="the figure ('' for none)")
    parser.add_argument("--output", default=None, help="also write the JSON here")
    parser.add_argument("--merge", default=None,
                        help="a JSON of an earlier run: its curves not run now are kept "
                             "(table, figure and --output show the union)")
    return parser.parse_args(argv)


ARGUMENTS = parse_arguments()
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ[_name] = str(ARGUMENTS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sparsefield.rf.binning import bin_spikes, frame_edges  # noqa: E402
from sparsefield.rf.lasso_path import lambda_grid, lambda_max, lasso_path  # noqa: E402
from sparsefield.rf.lasso_population import lasso_path_population  # noqa: E402
from sparsefield.rf.units_sta import sta_units  # noqa: E402

N_LAMBDAS = 10
FRAME = 1 / 60

# ---------------------------------------------------------------------------- measuring


def _status_kb(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _hwm_resettable():
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        _status_kb("VmHWM")
    except OSError:
        return False
    return True


MEMORY_METHOD = "VmHWM rise" if _hwm_resettable() else "tracemalloc peak"


def _libc():
    """glibc with fixed mmap and trim thresholds, or None (module docstring, "Measures")."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD: no dynamic raise after frees
        libc.mallopt(-1, 128 * 1024)  # M_TRIM_THRESHOLD
        return libc
    except (OSError, AttributeError):
        return None


LIBC = _libc()


def _reset_peak():
    """Start a peak-memory measurement; returns what :func:`_peak` needs."""
    if MEMORY_METHOD == "VmHWM rise":
        if LIBC is not None:
            LIBC.malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return _status_kb("VmRSS")
    tracemalloc.start()
    return 0


def _peak(before):
    """Memory added at the peak since :func:`_reset_peak`, MB."""
    if MEMORY_METHOD == "VmHWM rise":
        return max(0, _status_kb("VmHWM") - before) / 1024
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def timed(function, *arguments, repeats, budget):
    """Median wall time of ``repeats`` calls after one untimed warm-up, all times, and
    the peak memory of the last call; a warm-up slower than ``budget`` is the one timed
    call (module docstring, "Measures")."""
    before = _reset_peak()
    start = time.perf_counter()
    function(*arguments)
    first = time.perf_counter() - start
    megabytes = _peak(before)
    if first > budget:
        return first, [first], megabytes
    times = []
    for index in range(repeats):
        before = _reset_peak() if index == repeats - 1 else None
        start = time.perf_counter()
        function(*arguments)
        times.append(time.perf_counter() - start)
        if before is not None:
            megabytes = _peak(before)
    return statistics.median(times), times, megabytes


def gemm_rate(size=2000):
    """Measured float64 GEMM rate (flop/s): np.dot of two size x size matrices."""
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size)), rng.random((size, size))
    seconds, _, _ = timed(np.dot, a, b, repeats=3, budget=10.0)
    return 2 * size**3 / seconds


def read_rate(n_values=20_000_000):
    """Measured memory-read rate (bytes/s): ``a.sum()`` of 160 MB of float64."""
    values = np.random.default_rng(0).random(n_values)
    seconds, _, _ = timed(np.sum, values, repeats=3, budget=10.0)
    return values.nbytes / seconds


def slope(sizes, seconds):
    """Least-squares slope of log(seconds) on log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def last_slope(sizes, seconds):
    """Slope between the two largest sizes (fixed costs weigh least there)."""
    return float(np.log(seconds[-1] / seconds[-2]) / np.log(sizes[-1] / sizes[-2]))


class Curve:
    """One curve: sizes, and per contender seconds (and peak MB) at every size."""

    def __init__(self, name, step, size_label):
        self.name, self.step, self.size_label = name, step, size_label
        self.sizes, self.rows = [], {}

    def add(self, contender, seconds, megabytes=None, times=None):
        entry = self.rows.setdefault(contender, {"seconds": [], "peak_mb": [], "all": []})
        entry["seconds"].append(seconds)
        entry["peak_mb"].append(megabytes)
        entry["all"].append(times)

    def to_dict(self):
        return {"step": self.step, "size": self.size_label, "sizes": self.sizes,
                "contenders": {name: {**row, "slope": slope(self.sizes, row["seconds"])}
                               for name, row in self.rows.items()}}


def run_point(curve, contender, function, *arguments):
    seconds, times, megabytes = timed(function, *arguments, repeats=ARGUMENTS.repeats,
                                      budget=ARGUMENTS.budget)
    curve.add(contender, seconds, megabytes, times)
    print(f"  {curve.name:<22} {curve.sizes[-1]:>10.3g} {contender:<10} {seconds:9.4f} s "
          f"{megabytes:8.1f} MB", file=sys.stderr, flush=True)


def floor_point(curve, seconds):
    curve.add("floor", seconds)


# ---------------------------------------------------------------------------- binning


def spike_train(n_spikes, seed=0):
    spikes = np.random.default_rng(seed).exponential(1e-3, int(n_spikes))
    np.cumsum(spikes, out=spikes)
    return spikes


def jittered_triggers(spikes, n_frames, seed=1):
    start, stop = spikes[0], spikes[-1]
    intervals = np.random.default_rng(seed).uniform(0.9, 1.1, int(n_frames))
    intervals *= 0.98 * (stop - start) / intervals.sum()
    return start + 0.01 * (stop - start) + np.concatenate([[0.0], np.cumsum(intervals[:-1])])


def searchsorted_counts(spikes, edges):
    return np.diff(np.searchsorted(spikes, edges))


def binning_curve(sizes, context):
    curve = Curve("binning", "binning", "spikes")
    for n_spikes in sizes:
        spikes = spike_train(n_spikes)
        triggers = jittered_triggers(spikes, max(10, n_spikes // 100))
        edges = frame_edges(triggers)
        curve.sizes.append(n_spikes)
        run_point(curve, "ours", bin_spikes, spikes, triggers)
        run_point(curve, "peer", searchsorted_counts, spikes, edges)
        read, _, _ = timed(np.sum, spikes, repeats=ARGUMENTS.repeats, budget=ARGUMENTS.budget)
        floor_point(curve, read)
        if not np.array_equal(bin_spikes(spikes, triggers).counts,
                              searchsorted_counts(spikes, edges)):
            raise SystemExit("bin_spikes: counts differ from np.searchsorted")
        del spikes
    return [curve]


# ---------------------------------------------------------------------------- lasso


def lasso_problem(n_frames, n_pixels, n_neurons=1, seed=0):
    """Binary white noise, neurons with 12 random non-zero weights, Poisson counts."""
    rng = np.random.default_rng(seed)
    design = (rng.random((n_frames, n_pixels)) < 0.5).astype(np.float64)
    durations = np.clip(rng.normal(0.2155, 0.024, n_frames), 0.166, 0.266)
    counts = np.empty((n_frames, n_neurons))
    for neuron in range(n_neurons):
        weights = np.zeros(n_pixels)
        chosen = rng.choice(n_pixels, 12, replace=False)
        weights[chosen] = rng.normal(0, 0.3, 12)
        eta = design @ weights
        counts[:, neuron] = rng.poisson(durations * np.exp(np.log(10.0) + eta - eta.mean()))
    return design, counts, durations


def grid(design, counts, durations):
    return lambda_grid(lambda_max(design, counts, durations), N_LAMBDAS)


def ours_path(design, counts, durations, lambdas):
    return lasso_path(design, counts, durations, lambdas=lambdas).weights


def sklearn_path(design, counts, durations, lambdas):
    from sklearn.linear_model import lasso_path as gaussian_lasso_path

    rates = counts / durations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaussian_lasso_path(design - design.mean(axis=0), rates - rates.mean(),
                                   alphas=lambdas / durations.mean(), max_iter=10000)[1]


def gradient_floor(n_frames, n_pixels, context):
    return max(4 * n_frames * n_pixels / context["gemm_flops_per_s"],
               16 * n_frames * n_pixels / context["bandwidth_bytes_per_s"])


def lasso_curves(frames_sizes, pixel_sizes, context):
    curves = []
    for name, sizes, shape in (("lasso path (frames)", frames_sizes, lambda s: (s, 300)),
                               ("lasso path (pixels)", pixel_sizes, lambda s: (20000, s))):
        curve = Curve(name, "lasso path", "frames" if "frames" in name else "pixels")
        for size in sizes:
            n_frames, n_pixels = shape(size)
            design, counts, durations = lasso_problem(n_frames, n_pixels)
            counts = counts[:, 0]
            lambdas = grid(design, counts, durations)
            curve.sizes.append(size)
            run_point(curve, "ours", ours_path, design, counts, durations, lambdas)
            run_point(curve, "peer", sklearn_path, design, counts, durations, lambdas)
            floor_point(curve, gradient_floor(n_frames, n_pixels, context))
        curves.append(curve)
    return curves


def population(design, counts, durations):
    return lasso_path_population(design, counts, durations, n_lambdas=N_LAMBDAS).weights


def looped(design, counts, durations):
    return [lasso_path(design, counts[:, k], durations, n_lambdas=N_LAMBDAS).weights
            for k in range(counts.shape[1])]


def population_curve(sizes, context):
    curve = Curve("population (neurons)", "population lasso", "neurons")
    n_frames, n_pixels = 5000, 100
    design, counts, durations = lasso_problem(n_frames, n_pixels, max(sizes), seed=1)
    for n_neurons in sizes:
        curve.sizes.append(n_neurons)
        subset = np.ascontiguousarray(counts[:, :n_neurons])
        run_point(curve, "ours", population, design, subset, durations)
        run_point(curve, "peer", looped, design, subset, durations)
        floor_point(curve, n_neurons * 2 * n_frames * n_pixels**2
                    / context["gemm_flops_per_s"])
    return [curve]


# ---------------------------------------------------------------------------- STA

STA_PIXELS, SPIKES_PER_FRAME = 100, 5


def sta_problem(n_spikes, seed=2):
    rng = np.random.default_rng(seed)
    n_frames = int(n_spikes // SPIKES_PER_FRAME)
    edges = np.arange(n_frames + 1) * FRAME
    stimulus = rng.standard_normal((n_frames, STA_PIXELS))
    spikes = np.sort(rng.uniform(0, edges[-1], int(n_spikes)))
    return spikes, edges, stimulus


def ours_sta(spikes, edges, stimulus, n_taus):
    offsets = np.array([0, spikes.size])
    return sta_units(spikes, offsets, edges, stimulus, tau_max=(n_taus - 1) * FRAME / 4,
                     tau_step=FRAME / 4, null="analytic").sta


def numpy_sta(spikes, edges, stimulus, n_taus):
    n_frames = stimulus.shape[0]
    maps = np.empty((n_taus, stimulus.shape[1]))
    for k in range(n_taus):
        frames = np.searchsorted(edges, spikes - k * FRAME / 4, side="right") - 1
        frames = frames[(frames >= 0) & (frames < n_frames)]
        maps[k] = np.bincount(frames, minlength=n_frames) @ stimulus / max(frames.size, 1)
    return maps


def sta_curves(spike_sizes, delay_sizes, context):
    by_spikes = Curve("STA (spikes)", "STA", "spikes")
    for n_spikes in spike_sizes:
        problem = sta_problem(n_spikes)
        by_spikes.sizes.append(n_spikes)
        run_point(by_spikes, "ours", ours_sta, *problem, 25)
        run_point(by_spikes, "peer", numpy_sta, *problem, 25)
        floor_point(by_spikes, 2 * 25 * problem[2].size / context["gemm_flops_per_s"])
    by_delays = Curve("STA (delays)", "STA", "delays")
    problem = sta_problem(3e5)
    for n_taus in delay_sizes:
        by_delays.sizes.append(n_taus)
        run_point(by_delays, "ours", ours_sta, *problem, n_taus)
        run_point(by_delays, "peer", numpy_sta, *problem, n_taus)
        floor_point(by_delays, 2 * n_taus * problem[2].size / context["gemm_flops_per_s"])
    ours = ours_sta(*problem, 5)
    if not np.allclose(ours, numpy_sta(*problem, 5), atol=1e-9):
        print("  STA: ours and numpy differ (edge conventions); timings kept",
              file=sys.stderr)
    return [by_spikes, by_delays]


# ---------------------------------------------------------------------------- dictionary

TAU, BATCH = 0.1, 256


def patches(n_patches):
    from sparsefield.sparse.images import SKIMAGE_IMAGES, load_images
    from sparsefield.sparse.patches import make_patch_sets
    from sparsefield.sparse.whitening import ZCA, unit_norm

    sets = make_patch_sets(load_images(list(SKIMAGE_IMAGES)), [], 16, n_patches, 0, 0, seed=0)
    return unit_norm(ZCA.fit(sets.train, epsilon=0.01).apply(sets.train))


def initial(X, n_atoms):
    atoms = X[np.random.default_rng(0).choice(len(X), n_atoms, replace=False)].T
    return np.ascontiguousarray(atoms / np.linalg.norm(atoms, axis=0))


def ours_dictionary(X, init):
    from sparsefield.sparse.dictionary import LearningSettings, learn_dictionary

    settings = LearningSettings(n_atoms=init.shape[1], tau=TAU, n_epochs=ARGUMENTS.passes,
                                batch_size=BATCH, update="online", solver="cd", tol=1e-3,
                                seed=0)
    return learn_dictionary(X, settings, initial_atoms=init.copy()).phi[-1]


def sklearn_dictionary(X, init):
    from sklearn.decomposition import MiniBatchDictionaryLearning

    model = MiniBatchDictionaryLearning(
        n_components=init.shape[1], alpha=TAU, batch_size=BATCH, fit_algorithm="cd",
        max_iter=ARGUMENTS.passes, tol=0, max_no_improvement=None, dict_init=init.T.copy(),
        shuffle=True, random_state=0, transform_algorithm="lasso_cd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return model.components_


def dictionary_floor(n_patches, n_atoms, context):
    batches = ARGUMENTS.passes * n_patches / BATCH
    flops = batches * (2 * 256 * n_atoms * BATCH + 2 * 256 * n_atoms**2)
    return flops / context["gemm_flops_per_s"]


def dictionary_curves(patch_sizes, atom_sizes, context):
    from threadpoolctl import threadpool_limits

    X_all = patches(max(patch_sizes))
    curves = []
    with threadpool_limits(limits=ARGUMENTS.threads):
        by_patches = Curve("dictionary (patches)", "dictionary learning", "patches")
        for n_patches in patch_sizes:
            X = X_all[:n_patches]
            init = initial(X, 256)
            by_patches.sizes.append(n_patches)
            run_point(by_patches, "ours", ours_dictionary, X, init)
            run_point(by_patches, "peer", sklearn_dictionary, X, init)
            floor_point(by_patches, dictionary_floor(n_patches, 256, context))
        curves.append(by_patches)
        by_atoms = Curve("dictionary (atoms)", "dictionary learning", "atoms")
        X = X_all[:10000]
        for n_atoms in atom_sizes:
            init = initial(X, n_atoms)
            by_atoms.sizes.append(n_atoms)
            run_point(by_atoms, "ours", ours_dictionary, X, init)
            run_point(by_atoms, "peer", sklearn_dictionary, X, init)
            floor_point(by_atoms, dictionary_floor(len(X), n_atoms, context))
        curves.append(by_atoms)
    return curves


# ---------------------------------------------------------------------------- report

PEERS = {"binning": "np.searchsorted", "lasso path": "sklearn Lasso path (Gaussian)",
         "population lasso": "one-neuron path, looped", "STA": "numpy per delay",
         "dictionary learning": "sklearn MiniBatchDictionaryLearning"}


def table(curves):
    lines = ["| curve | sizes | ours at largest: s | peak MB | slope | last step | peer | "
             "peer slope | floor slope | ours / peer | ours / floor |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for name, curve in curves.items():
        rows = curve["contenders"]
        ours, peer, floor = rows["ours"], rows.get("peer"), rows.get("floor")
        sizes = curve["sizes"]
        span = f"{sizes[0]:.3g} – {sizes[-1]:.3g} {curve['size']}"
        peer_cells = (f"{peer['slope']:.2f}", f"{ours['seconds'][-1] / peer['seconds'][-1]:.2f}x"
                      ) if peer else ("–", "–")
        floor_cells = (f"{floor['slope']:.2f}",
                       f"{ours['seconds'][-1] / floor['seconds'][-1]:.1f}x") if floor else ("–", "–")
        lines.append(f"| {name} | {span} | {ours['seconds'][-1]:.4g} | "
                     f"{ours['peak_mb'][-1]:.0f} | {ours['slope']:.2f} | "
                     f"{last_slope(sizes, ours['seconds']):.2f} | "
                     f"{PEERS[curve['step']] if peer else '–'} | {peer_cells[0]} | "
                     f"{floor_cells[0]} | {peer_cells[1]} | {floor_cells[1]} |")
    return "\n".join(lines)


def figure(curves, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    from sparsefield.plots.style import save_figure

    names = list(curves)
    columns = 4 if len(names) > 3 else len(names)
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.9 * rows),
                             squeeze=False, layout="constrained")
    styles = {"ours": ("C0", "o-"), "peer": ("C1", "s--"), "floor": ("0.5", ":")}
    for ax, name in zip(axes.flat, names):
        curve = curves[name]
        for contender, row in curve["contenders"].items():
            colour, style = styles[contender]
            label = {"ours": "sparsefield",
                     "peer": PEERS[curve["step"]], "floor": "floor"}[contender]
            ax.loglog(curve["sizes"], row["seconds"], style, color=colour, markersize=4,
                      label=f"{label} ({row['slope']:.2f})")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(curve["size"], fontsize=8)
        ax.set_ylabel("seconds", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=6, title="slope", title_fontsize=6)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    save_figure(fig, path, dpi=110)


def main():
    import numba

    quick = ARGUMENTS.quick
    chosen = {name.strip() for name in ARGUMENTS.curves.split(",") if name.strip()}
    results = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "threads": ARGUMENTS.threads,
                    "numpy": np.__version__, "numba": numba.__version__,
                    "load_average_start": os.getloadavg()},
        "quick": quick, "repeats": ARGUMENTS.repeats, "memory": MEMORY_METHOD,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    context = {"gemm_flops_per_s": gemm_rate(), "bandwidth_bytes_per_s": read_rate()}
    curves = []
    if "binning" in chosen:
        curves += binning_curve([10**5, 10**6, 10**7] + ([] if quick else [10**8]), context)
    context["gemm_gflops"] = context["gemm_flops_per_s"] / 1e9
    context["bandwidth_gb_per_s"] = context["bandwidth_bytes_per_s"] / 1e9
    print(f"  GEMM {context['gemm_gflops']:.1f} GFLOP/s, read "
          f"{context['bandwidth_gb_per_s']:.1f} GB/s", file=sys.stderr, flush=True)
    if "lasso" in chosen:
        curves += lasso_curves([2500, 5000, 10000] + ([] if quick else [20000]),
                               [75, 150, 300] + ([] if quick else [600]), context)
    if "population" in chosen:
        curves += population_curve([10, 30] + ([] if quick else [100]), context)
    if "sta" in chosen:
        curves += sta_curves([3e4, 3e5] + ([] if quick else [3e6]),
                             [5, 10, 20] + ([] if quick else [40]), context)
    if "dictionary" in chosen:
        curves += dictionary_curves([2500, 5000] + ([] if quick else [10000, 20000, 40000]),
                                    [64, 128] + ([] if quick else [256, 512]), context)
    results["floors"] = {"gemm_gflops": context["gemm_gflops"],
                         "read_gb_per_s": context["bandwidth_gb_per_s"]}
    results["curves"] = {curve.name: curve.to_dict() for curve in curves}
    if ARGUMENTS.merge:
        earlier = json.loads(Path(ARGUMENTS.merge).read_text())
        results["merged_from"] = {name: {"machine": earlier["machine"], "date": earlier["date"]}
                                  for name in earlier["curves"] if name not in results["curves"]}
        results["curves"] = {name: results["curves"].get(name, curve)
                             for name, curve in earlier["curves"].items()} | results["curves"]
    results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results["curves"]))
    print(json.dumps(results, indent=1))
    if ARGUMENTS.output:
        Path(ARGUMENTS.output).write_text(json.dumps(results, indent=1))
    if ARGUMENTS.figure:
        figure(results["curves"], ARGUMENTS.figure)
        print(f"figure: {ARGUMENTS.figure}", file=sys.stderr)


if __name__ == "__main__":
    main()

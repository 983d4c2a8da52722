"""Corpus cases: raw files that cannot be read as given (MATLAB files, cell arrays, units,
shapes).  One row each, all run together (see _corpus.py)."""

import numpy as np
import scipy.io

from _corpus import Case
from sparsefield.io import save_raw_mat

FILE = "recording.mat"


def _good(rng):
    """300 jittered 0.2 s frames, 400 spikes within them, a 6x5x310 binary stimulus."""
    triggers = np.cumsum(rng.normal(0.2, 0.02, 300))
    spikes = np.sort(rng.uniform(0.5, triggers[-1], 400))
    stimulus = rng.integers(0, 2, (6, 5, 310)).astype(np.uint8)
    return spikes, triggers, stimulus


def _row(**changes):
    return {"spikes_file": FILE, "frame_height": 6, "frame_width": 5, **changes}


def _written(change=None, **row_changes):
    """make(): the good recording, changed in place by ``change(spikes, triggers,
    stimulus)`` (which may return a replacement triple), saved with save_raw_mat."""
    def make(folder, rng):
        data = _good(rng)
        if change is not None:
            data = change(*data) or data
        save_raw_mat(folder / FILE, *data)
        return _row(**row_changes)
    return make


def _savemat(variables):
    """make(): a .mat file of ``variables(rng, spikes, triggers, stimulus)`` via scipy."""
    def make(folder, rng):
        scipy.io.savemat(folder / FILE, variables(rng, *_good(rng)))
        return _row()
    return make


def _set(array, index, value):
    array[index] = value


def _cell_not_a_vector(rng, spikes, triggers, stimulus):
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0] = spikes[:, None]
    cell[0, 1] = rng.uniform(0.0, 50.0, (2, 4))
    return {"DN_spiketimes": cell, "DN_triggertimes": triggers, "DN_stim": stimulus}


def _trials_disagree(rng, spikes, triggers, stimulus):
    cell = np.empty((1, 3), dtype=object)
    for trial in range(3):
        cell[0, trial] = triggers[:120] + 100.0 * trial
    return {"DN_spiketimes": spikes, "DN_triggertimes": cell, "DN_stim": stimulus}


def _truncated(folder, rng):
    save_raw_mat(folder / FILE, *_good(rng))
    data = (folder / FILE).read_bytes()
    (folder / FILE).write_bytes(data[: len(data) // 2])
    return _row()


CASES = [
    Case("cell_not_a_vector", "row", "a spike-time cell holding a 2x4 matrix",
         _savemat(_cell_not_a_vector), ("is a 2x4 matrix", "(unit 2)"), FILE),
    Case("unit_not_in_file", "row", "the units column asks for a unit the file does not have",
         _written(units="1 7"), ("has no unit 7",), FILE),
    Case("trials_disagree_with_stimulus", "row",
         "per-trial trigger cells needing more stimulus frames than the file has",
         _savemat(_trials_disagree),
         ("trial 3 needs stimulus frames 240..359 but the stimulus has only 310 frames",), FILE),
    Case("nonmonotonic_triggers", "row", "two trigger times out of order",
         _written(lambda s, t, x: _set(t, 100, t[98])), ("increasing",), FILE),
    Case("nan_spike", "row", "a NaN among the spike times",
         _written(lambda s, t, x: _set(s, 5, np.nan)), ("non-finite values (NaN or infinite)",), FILE),
    Case("negative_spike", "row", "a negative spike time",
         _written(lambda s, t, x: _set(s, 0, -1.5)), ("negative",), FILE),
    Case("empty_spike_train", "row", "no spikes at all",
         _written(lambda s, t, x: (np.zeros(0), t, x)), ("empty",), FILE),
    Case("more_triggers_than_frames", "row", "300 triggers for a 250-frame stimulus",
         _written(lambda s, t, x: (s, t, x[:, :, :250])),
         ("more triggers (300) than stimulus frames (250)",), FILE),
    Case("missing_variable", "row", "a .mat file without the trigger variable",
         _savemat(lambda rng, s, t, x: {"DN_spiketimes": s[:, None], "DN_stim": x}),
         ("DN_triggertimes",), FILE),
    Case("shape_mismatch", "row", "frame_height and frame_width swapped in the sheet",
         _written(frame_height=5, frame_width=6), ("frames are 6x5",), FILE),
    Case("truncated_file", "row", "a .mat file cut in half", _truncated, ("truncated",), FILE),
]


def _truth(drop=None, n_pixels=30, last_lag=10):
    """make(): the good recording with a one-unit truth archive beside it, without the
    array ``drop``, with ``n_pixels`` values in its map and lags up to ``last_lag``."""
    def make(folder, rng):
        save_raw_mat(folder / FILE, *_good(rng))
        truth = {"spatial": rng.normal(size=n_pixels), "lags": np.arange(last_lag + 1),
                 "temporal_lags": np.ones(last_lag + 1), "sta_taus": np.linspace(0, 1, 11),
                 "sta_temporal": np.zeros(11)}
        truth.pop(drop, None)
        np.savez(folder / "truth.npz", **truth)
        return _row(truth_file="truth.npz")
    return make


CASES += [
    Case("truth_without_lags", "row", "a truth file without its lags array",
         _truth(drop="lags"), ("has no array lags",), "truth.npz"),
    Case("truth_map_of_another_size", "row", "a truth map of 20 pixels for 6x5 frames",
         _truth(n_pixels=20), ("spatial has 20 values but the stimulus has 30 pixels",),
         "truth.npz"),
    Case("truth_shorter_than_the_lags", "row", "a truth kernel over lags 0-1, lags 0-2 fitted",
         _truth(last_lag=1), ("fitted lags [2] are not in the truth's lags (0..1)",),
         "truth.npz"),
]

CASES += [
    Case("single_spike", "row", "a recording with one spike",
         _written(lambda s, t, x: (s[:1], t, x)),
         ("no unit has the 50 spikes in the frames that a fit needs", "the most is 1, unit 1"),
         FILE),
]

"""Corpus cases: implausible timing, stored precision, rates and stimuli (the plausibility
checks of sparsefield.io.plausibility, run by load_session), and a few reader cases of
times and stimuli.  One row each, all run together (see _corpus.py)."""

import numpy as np
import scipy.io

from _corpus import Case

FILE = "recording.mat"
HEIGHT, WIDTH = 6, 5


def _good(rng, start=0.3, n_frames=300, n_spikes=400, interval=0.2):
    """``n_frames`` jittered frames from ``start``, spikes within them, a 6x5 binary
    stimulus with 10 frames more than triggers."""
    steps = rng.normal(interval, interval / 10, n_frames - 1)
    triggers = start + np.concatenate(([0.0], np.cumsum(steps)))
    spikes = np.sort(rng.uniform(triggers[0], triggers[-1], n_spikes))
    stimulus = rng.integers(0, 2, (HEIGHT, WIDTH, n_frames + 10)).astype(np.uint8)
    return spikes, triggers, stimulus


def _row(spikes_file=FILE, **changes):
    return {"spikes_file": spikes_file, "frame_height": HEIGHT, "frame_width": WIDTH, **changes}


def _mat(change=None, good=None, **row):
    """make(): a .mat (scipy.io.savemat, dtypes kept) of the good recording changed by
    ``change(rng, spikes, triggers, stimulus)``, which returns the variables (a dict) or
    a (spikes, triggers, stimulus) triple."""
    def make(folder, rng):
        data = _good(rng, **(good or {}))
        variables = change(rng, *data) if change is not None else data
        if not isinstance(variables, dict):
            variables = dict(zip(("DN_spiketimes", "DN_triggertimes", "DN_stim"), variables))
        scipy.io.savemat(folder / FILE, variables)
        return _row(**row)
    return make


def _npz(change, **row):
    """make(): an .npz (np.savez) of ``change(rng, spikes, triggers, stimulus)`` (a dict)."""
    def make(folder, rng):
        np.savez(folder / "recording.npz", **change(rng, *_good(rng)))
        return _row("recording.npz", **row)
    return make


def _text(triggers_file=None, stimulus_file="stimulus.mat"):
    """make(): spike times in a text file, the frame times and stimulus in a .mat."""
    def make(folder, rng):
        spikes, triggers, stimulus = _good(rng)
        np.savetxt(folder / "spikes.txt", spikes, fmt="%.9f")
        scipy.io.savemat(folder / "stimulus.mat", {"DN_triggertimes": triggers,
                                                   "DN_stim": stimulus})
        return _row("spikes.txt", triggers_file=triggers_file, stimulus_file=stimulus_file)
    return make


def _cell(*trains):
    cell = np.empty((1, len(trains)), dtype=object)
    for index, train in enumerate(trains):
        cell[0, index] = np.asarray(train).reshape(-1, 1) if not isinstance(train, str) else train
    return cell


def _set(array, index, value):
    array = array.copy()
    array[index] = value
    return array


def _slow_unit(rng, spikes, triggers, stimulus):
    """1000 frames of 6 s; unit 2 fires 55 spikes in 6000 s (0.009 Hz)."""
    triggers = 6.0 * np.arange(1000)
    stimulus = rng.integers(0, 2, (HEIGHT, WIDTH, 1000)).astype(np.uint8)
    first = np.sort(rng.uniform(0, 5990, 3000))
    second = np.sort(rng.uniform(0, 5990, 55))
    return {"DN_spiketimes": _cell(first, second), "DN_triggertimes": triggers,
            "DN_stim": stimulus}


def _fast_unit(rng, spikes, triggers, stimulus):
    fast = np.sort(rng.uniform(triggers[0], triggers[-1], 80000))
    return {"DN_spiketimes": _cell(spikes, fast), "DN_triggertimes": triggers,
            "DN_stim": stimulus}


def _constant_pixel(rng, spikes, triggers, stimulus):
    stimulus[4, 2, :] = 1
    return spikes, triggers, stimulus


def _two_units_in_one_vector(rng, spikes, triggers, stimulus):
    other = np.sort(rng.uniform(triggers[0], triggers[-1], 300))
    return {"spikes": np.concatenate([spikes, other]), "DN_triggertimes": triggers,
            "DN_stim": stimulus}


def _flat_stimulus(rng, spikes, triggers, stimulus):
    flat = rng.integers(0, 2, (stimulus.shape[2], HEIGHT * WIDTH + 1)).astype(np.uint8)
    return spikes, triggers, flat


def _nan_stimulus(rng, spikes, triggers, stimulus):
    stimulus = stimulus.astype(np.float64)
    stimulus[3, 1, 42] = np.nan
    return spikes, triggers, stimulus


CASES = [
    Case("times_in_ms_read_as_s", "row",
         "spike and trigger times in ms, the sheet saying s (200-s frames)",
         _mat(lambda rng, s, t, x: (1000 * s, 1000 * t, x)),
         ("median frame interval is", "sessions.frame_interval [0.001, 10] s",
          "if the times are in milliseconds", "time_unit: ms"), FILE),
    Case("times_in_s_read_as_ms", "row", "times in s, the sheet saying time_unit ms",
         _mat(time_unit="ms"), ("the times look like seconds, but the sheet says ms",), FILE),
    Case("frame_times_in_samples_read_as_s", "row",
         "sync events in samples at 30 kHz, the sheet saying s",
         _mat(lambda rng, s, t, x: (s, np.round(30000 * t), x)),
         ("median frame interval is", "sample indices"), FILE),
    Case("frame_flip_detected_twice", "row", "an extra trigger 0.4 ms after another",
         _mat(lambda rng, s, t, x: (s, np.insert(t, 101, t[100] + 0.0004), x)),
         ("shorter than 1 ms, the shortest of sessions.frame_interval",
          "trigger 101 (0-based) comes 0.4 ms after"), FILE),
    Case("implausible_frame_rate", "row", "frame_rate 0.05 Hz (20-s frames), no triggers",
         _npz(lambda rng, s, t, x: {"DN_spiketimes": s, "DN_stim": x}, frame_rate=0.05),
         ("frame_rate 0.05 Hz gives frames of 20 s", "sessions.frame_interval"),
         "recordings.tsv"),
    Case("duplicated_trigger", "row", "one trigger time recorded twice",
         _mat(lambda rng, s, t, x: (s, _set(t, 100, t[99]), x)),
         ("strictly increasing", "trigger time 99"), FILE),
    Case("nan_trigger", "row", "a NaN among the trigger times",
         _mat(lambda rng, s, t, x: (s, _set(t, 7, np.nan), x)),
         ("'DN_triggertimes' has 1 non-finite values (NaN or infinite)",), FILE),
    Case("inf_spike", "row", "an infinite spike time",
         _mat(lambda rng, s, t, x: (_set(s, 3, np.inf), t, x)),
         ("non-finite values (NaN or infinite); the first is value 3 (0-based), inf",), FILE),
    Case("text_spikes_blank_triggers_file", "row",
         "spike times in a text file, triggers_file left blank (the spikes would be the "
         "frame times)", _text(), ("triggers_file is blank", "is a text file, which holds one "
                                   "vector"), "spikes.txt"),
    Case("triggers_file_is_the_spikes_file", "row",
         "triggers_file names the text file of spike times",
         _text(triggers_file="spikes.txt"),
         ("trigger times are the same numbers as the spike times of unit 1",
          "triggers_file (or triggers_key) probably names the spike times"), "spikes.txt"),
    Case("triggers_key_names_the_spikes", "row",
         "an .npz whose triggers_key names the spike-time array, triggers_file blank",
         _npz(lambda rng, s, t, x: {"spikes": s, "DN_stim": x}, spikes_key="spikes",
              triggers_key="spikes"),
         ("the 400 trigger times are the same numbers as the spike times of unit 1",
          "triggers_file is blank"), "recording.npz"),
    Case("float32_spikes_late", "row",
         "float32 spike times around 5e4 s (3.9 ms apart: 2 % of a frame)",
         _mat(lambda rng, s, t, x: (s.astype(np.float32), t, x), good={"start": 5e4}),
         ("spike times are stored as float32", "3.906 ms apart",
          "sessions.max_time_error (0.01 of a frame)"), FILE),
    Case("float32_triggers_late", "row", "float32 trigger times around 5e4 s in an .npz",
         _npz(lambda rng, s, t, x: {"DN_spiketimes": s + 5e4,
                                    "DN_triggertimes": (t + 5e4).astype(np.float32),
                                    "DN_stim": x}),
         ("trigger times are stored as float32", "ms apart", "sessions.max_time_error"),
         "recording.npz"),
    Case("whole_second_spike_times", "row", "spike times rounded to whole seconds (int32)",
         _mat(lambda rng, s, t, x: (np.round(s).astype(np.int32), t, x)),
         ("stored as whole numbers (int32) in s: a resolution of 1000 ms",
          "sessions.max_time_error"), FILE),
    Case("spikes_restart_per_trial", "row",
         "per-trial spike times laid end to end in one vector",
         _mat(lambda rng, s, t, x: (np.concatenate([s[s < 30], s[s < 30] - 0.1]), t, x)),
         ("unit 1: the spike times start again", "per-trial"), FILE),
    Case("two_units_in_one_vector", "row",
         "an .npz of two units' spike times one after the other, no units_key",
         _npz(_two_units_in_one_vector, spikes_key="spikes"),
         ("the spike times start again", "units_key"), "recording.npz"),
    Case("unit_rate_too_low", "row", "a unit of 55 spikes in 6000 s (0.009 Hz)",
         _mat(_slow_unit), ("unit 2: 55 spikes in 6000 s of frames", "0.00917 Hz",
                            "sessions.rate [0.01, 1000] Hz"), FILE),
    Case("unit_rate_too_high", "row", "a unit of 80000 spikes in 60 s (1300 Hz)",
         _mat(_fast_unit), ("unit 2: 80000 spikes in", "outside sessions.rate"), FILE),
    Case("spikes_in_s_read_as_ms", "row",
         "spike times in s with spikes_time_unit ms: all in the first frames",
         _mat(good={"start": 0.0}, spikes_time_unit="ms"),
         ("unit 1: its 400 spikes in the frames all fall within",
          "above sessions.rate's 1000 Hz"), FILE),
    Case("spikes_in_ms_frames_in_s", "row",
         "spike times in ms, frame times in s, max_spikes_left_out 0.5 in the sheet",
         _mat(lambda rng, s, t, x: (1000 * s, t, x), max_spikes_left_out=0.5),
         ("fall outside the frames", "set spikes_time_unit: ms",
          "more than max_spikes_left_out (0.5)"), FILE),
    Case("constant_stimulus", "row", "a stimulus whose every value is 7",
         _mat(lambda rng, s, t, x: (s, t, np.full_like(x, 7))),
         ("every value of the stimulus over the 300 frames used is 7",), FILE),
    Case("pixel_never_changes", "row", "one stimulus pixel that never changes",
         _mat(_constant_pixel), ("1 of 30 pixels never change", "row,col 4,2",
                                 "sessions.constant_pixels: warn"), FILE),
    Case("many_frames_without_triggers", "row",
         "250 triggers for a 310-frame stimulus (19 % of it unshown)",
         _mat(lambda rng, s, t, x: (s[s < t[249]], t[:250], x)),
         ("60 of 310 stimulus frames", "0.05 of the stimulus, 15 frames here",
          "sessions.max_frames_left_out"), FILE),
    Case("flat_stimulus_one_pixel_too_many", "row",
         "a flattened stimulus (frames x pixels) with 31 pixels for 6x5 frames",
         _mat(_flat_stimulus, stimulus_axes="tp"), ("31 pixels per frame",), FILE),
    Case("nan_in_stimulus", "row", "a NaN in the stimulus",
         _mat(_nan_stimulus), ("non-finite", "frame 42 (0-based), row 3, col 1"), FILE),
    Case("spike_cell_holding_text", "row", "a spike-time cell array with text in one cell",
         _mat(lambda rng, s, t, x: {"DN_spiketimes": _cell(s, "none"),
                                    "DN_triggertimes": t, "DN_stim": x}),
         ("(unit 2) is text",), FILE),
]

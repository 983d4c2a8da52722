"""Plausibility checks before any fit (sparsefield.io.plausibility, run by load_session).

Each check trips on a crafted input written by the format's own library (scipy.io for
MATLAB, numpy for npz, plain text) and read through a sheet row, and the message names
the file (or the sheet row), the unit and the config key with the numbers; the same
data made plausible passes.
"""

import logging

import numpy as np
import pytest
import scipy.io
import yaml

from conftest import PROJECT, TINY
from sparsefield.errors import InputError
from sparsefield.io.plausibility import PLAUSIBILITY_DEFAULTS, check_stimulus
from sparsefield.io.readers import StoredPrecision, stored_precision
from sparsefield.io.session import Session, load_session
from sparsefield.io.session_row import SESSION_DEFAULTS

HEIGHT, WIDTH, N_TRIGGERS, N_FRAMES = 6, 5, 300, 310


def _good(seed=0, start=0.3, n_spikes=400):
    """300 jittered 0.2-s frames from ``start``, spikes within them, a 6x5 binary stimulus."""
    rng = np.random.default_rng(seed)
    triggers = start + np.concatenate(([0.0], np.cumsum(rng.normal(0.2, 0.02, N_TRIGGERS - 1))))
    spikes = np.sort(rng.uniform(triggers[0], triggers[-1], n_spikes))
    stimulus = rng.integers(0, 2, (HEIGHT, WIDTH, N_FRAMES)).astype(np.uint8)
    return spikes, triggers, stimulus


def _mat(path, spikes, triggers, stimulus, **more):
    scipy.io.savemat(path, {"DN_spiketimes": spikes, "DN_triggertimes": triggers,
                            "DN_stim": stimulus, **more})
    return str(path)


def _median(times):
    """The median frame interval as the messages print it."""
    return f"{float(np.median(np.diff(times))):.4g}"


def _row(path, **changes):
    return {"recording_id": "rec", "spikes_file": str(path), **changes}


def _fails(row, *phrases, source=None, defaults=None):
    """load_session raises one InputError holding every phrase (and naming ``source``)."""
    with pytest.raises(InputError) as caught:
        load_session(row, defaults=defaults)
    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in: {message}"
    if source is not None:
        assert caught.value.source == str(source), message
    return message


# --- plausible inputs pass --------------------------------------------------------------


def test_plausible_input_passes_in_every_one_vector_format(tmp_path):
    spikes, triggers, stimulus = _good()
    mat = _mat(tmp_path / "raw.mat", spikes, triggers, stimulus)
    np.savez(tmp_path / "raw.npz", DN_spiketimes=spikes, DN_triggertimes=triggers,
             DN_stim=stimulus)
    np.savetxt(tmp_path / "spikes.txt", spikes, fmt="%.9f")
    np.savetxt(tmp_path / "triggers.txt", triggers, fmt="%.9f")
    rows = [_row(mat), _row(tmp_path / "raw.npz"),
            _row(tmp_path / "spikes.txt", triggers_file=str(tmp_path / "triggers.txt"),
                 stimulus_file=mat)]
    sessions = [load_session(row) for row in rows]
    for session in sessions:
        assert session.n_frames == N_TRIGGERS and session.n_constant_pixels == 0
        np.testing.assert_allclose(session.unit_spike_times(0), spikes, atol=1e-9)


def test_config_defaults_are_the_library_defaults():
    config = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())["sessions"]
    for key, value in PLAUSIBILITY_DEFAULTS.items():
        expected = list(value) if isinstance(value, tuple) else value
        assert config[key] == expected, key
        assert SESSION_DEFAULTS[key] == value


def test_the_real_recording_passes_every_check(real_data_path):
    row = {"recording_id": "nds_cl_5", "format": "mat", "spikes_file": str(real_data_path),
           "frame_height": 20, "frame_width": 15}
    config = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())["sessions"]
    session = load_session(row, defaults=config)
    assert session.n_frames == 1489 and session.n_constant_pixels == 0
    assert session.n_spikes_left_out[0] + session.spike_times.size == 5500


def test_the_tiny_simulated_session_passes_every_check(tmp_path):
    """The tests' tiny simulated session, written as NWB as the workflow does."""
    from sparsefield.io.nwb import write_nwb_session
    from sparsefield.rf.simulate_session import session_models, simulate_session

    config = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())
    simulation = config["simulation"]
    settings = TINY["simulation"]["sessions"]["sim_session"]
    shape = (simulation["frame_height"], simulation["frame_width"])
    models = session_models(shape, n_units=settings["n_units"], seed=settings["seed"],
                            n_frames=settings["n_frames"],
                            mean_frame_duration=simulation["mean_frame_duration"])
    raw, _ = simulate_session(models, n_frames=settings["n_frames"], frame_shape=shape,
                              mean_frame_duration=simulation["mean_frame_duration"],
                              sd_frame_duration=simulation["sd_frame_duration"],
                              dt=simulation["dt"], seed=settings["seed"])
    path = tmp_path / "session.nwb"
    write_nwb_session(path, unit_ids=raw["unit_ids"], spike_trains=raw["spike_times"],
                      stimulus_frames=raw["stimulus"][:settings["n_frames"]],
                      frame_times=raw["trigger_times"])
    session = load_session(_row(path, format="nwb"), defaults=config["sessions"])
    assert session.n_units == settings["n_units"] and session.n_frames == settings["n_frames"]


# --- frame intervals ----------------------------------------------------------------------


def test_times_in_ms_read_as_seconds(tmp_path):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "ms.mat", 1000 * spikes, 1000 * triggers, stimulus)
    median = _median(1000 * triggers)
    _fails(_row(path), f"the median frame interval is {median} s (from 300 trigger times read "
           "as s), outside sessions.frame_interval [0.001, 10] s",
           f"if the times are in milliseconds (frames of {median} ms)", "set time_unit: ms",
           source=path)
    session = load_session(_row(path, time_unit="ms"))
    np.testing.assert_allclose(session.unit_spike_times(0), spikes - 0.0, rtol=1e-12)


def test_times_in_seconds_read_as_ms(tmp_path):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "s.mat", spikes, triggers, stimulus)
    _fails(_row(path, time_unit="ms"),
           f"the median frame interval is {_median(triggers / 1000)} s (from 300 trigger "
           "times read as ms)",
           "the times look like seconds, but the sheet says ms", source=path)


def test_sample_indices_read_as_seconds(tmp_path):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "samples.mat", np.round(spikes * 3e4), np.round(triggers * 3e5),
                stimulus)
    _fails(_row(path), f"the median frame interval is {_median(np.round(triggers * 3e5))} s",
           "look like sample indices",
           "time_unit: samples and sample_rate", source=path)


def test_a_frame_flip_detected_twice(tmp_path):
    spikes, triggers, stimulus = _good()
    doubled = np.insert(triggers, 101, triggers[100] + 0.0005)
    path = _mat(tmp_path / "double.mat", spikes, doubled, stimulus)
    _fails(_row(path), "1 frame interval is shorter than 1 ms, the shortest of "
           "sessions.frame_interval", "trigger 101 (0-based) comes 0.5 ms after the one before",
           "lower sessions.frame_interval", source=path)
    session = load_session(_row(path), defaults={"frame_interval": [0.0001, 10]})
    assert session.n_frames == N_TRIGGERS + 1


def test_frames_longer_than_the_longest_can_be_allowed(tmp_path):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "slow.mat", spikes * 60, triggers * 60, stimulus)  # 12-s frames
    _fails(_row(path), f"the median frame interval is {_median(triggers * 60)} s",
           "widen sessions.frame_interval",
           source=path)
    session = load_session(_row(path), defaults={"frame_interval": [0.001, 20]})
    assert session.n_frames == N_TRIGGERS


def test_an_implausible_frame_rate(tmp_path):
    spikes, _, stimulus = _good()
    np.savez(tmp_path / "raw.npz", DN_spiketimes=spikes, DN_stim=stimulus)
    _fails(_row(tmp_path / "raw.npz", frame_rate=0.05),
           "frame_rate 0.05 Hz gives frames of 20 s, outside sessions.frame_interval "
           "[0.001, 10] s", source="recordings.tsv: rec")


# --- spike and trigger times that are the same data ---------------------------------------


def test_a_text_spikes_file_with_a_blank_triggers_file(tmp_path):
    spikes, triggers, stimulus = _good()
    np.savetxt(tmp_path / "spikes.txt", spikes)
    stimulus_path = _mat(tmp_path / "stim.mat", spikes, triggers, stimulus)
    _fails(_row(tmp_path / "spikes.txt", stimulus_file=stimulus_path),
           "triggers_file is blank, but spikes_file", "spikes.txt is a text file, which holds "
           "one vector (the spike times); give triggers_file (or frame_rate)",
           source="recordings.tsv: rec")
    _fails(_row(tmp_path / "spikes.txt", triggers_file=stimulus_path),
           "stimulus_file is blank", source="recordings.tsv: rec")


def test_triggers_file_naming_the_spike_times(tmp_path):
    spikes, triggers, stimulus = _good()
    np.savetxt(tmp_path / "spikes.txt", spikes)
    stimulus_path = _mat(tmp_path / "stim.mat", spikes, triggers, stimulus)
    text = str(tmp_path / "spikes.txt")
    _fails(_row(text, triggers_file=text, stimulus_file=stimulus_path),
           "the 400 trigger times are the same numbers as the spike times of unit 1",
           "triggers_file (or triggers_key) probably names the spike times", source=text)


def test_the_same_array_as_spikes_and_triggers_with_a_blank_triggers_file(tmp_path):
    spikes, _, stimulus = _good()
    path = tmp_path / "raw.npz"
    np.savez(path, spikes=spikes, DN_stim=stimulus)
    _fails(_row(path, spikes_key="spikes", triggers_key="spikes"),
           "the 400 trigger times are the same numbers as the spike times of unit 1",
           "triggers_file is blank, so the frame times were read from the spikes file",
           source=path)
    # ...and without the trigger array, the message says where it was looked for
    _fails(_row(path, spikes_key="spikes"), "triggers_file is blank, so the frame times are "
           "read from spikes_file", "has no array 'DN_triggertimes'",
           source="recordings.tsv: rec")


# --- stored precision ----------------------------------------------------------------------


def test_float32_spike_times_late_in_a_long_recording(tmp_path):
    """The issue's case: float32 times near 5e4 s are 3.9 ms apart, 2 % of a 0.2-s frame."""
    spikes, triggers, stimulus = _good(start=5e4)
    path = _mat(tmp_path / "f32.mat", spikes.astype(np.float32), triggers, stimulus)
    step = float(np.spacing(spikes.astype(np.float32).max()))
    assert 0.0039 < step < 0.0040
    frame = 1000 * float(np.median(np.diff(triggers)))
    _fails(_row(path), "spike times are stored as float32", "consecutive float32 values are "
           f"{1000 * step:.4g} ms apart, {100 * step / (frame / 1000):.3g} % of a {frame:.4g} ms "
           "frame", "more than sessions.max_time_error (0.01 of a frame)",
           "converting to float64 cannot restore the lost precision", source=path)
    assert load_session(_row(path), defaults={"max_time_error": 0.05}).n_frames == N_TRIGGERS


def test_float32_trigger_times_in_an_npz(tmp_path):
    spikes, triggers, stimulus = _good(start=5e4)
    path = tmp_path / "f32.npz"
    np.savez(path, DN_spiketimes=spikes, DN_triggertimes=triggers.astype(np.float32),
             DN_stim=stimulus)
    _fails(_row(path), "trigger times are stored as float32", "3.906 ms apart", source=path)


def test_float32_early_in_a_recording_is_precise_enough(tmp_path):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "f32.mat", spikes.astype(np.float32), triggers.astype(np.float32),
                stimulus)
    assert load_session(_row(path)).n_frames == N_TRIGGERS


def test_whole_seconds_and_whole_milliseconds(tmp_path):
    spikes, triggers, stimulus = _good()
    seconds = _mat(tmp_path / "int_s.mat", np.round(spikes).astype(np.int32), triggers, stimulus)
    _fails(_row(seconds), "spike times are stored as whole numbers (int32) in s: a resolution "
           "of 1000 ms", source=seconds)
    # whole milliseconds are 0.5 % of a 0.2-s frame: fine
    ms = _mat(tmp_path / "int_ms.mat", np.round(spikes * 1000).astype(np.int32), triggers,
              stimulus)
    assert load_session(_row(ms, spikes_time_unit="ms")).n_frames == N_TRIGGERS


def test_float32_in_a_matlab_cell_of_units(tmp_path):
    spikes, triggers, stimulus = _good(start=5e4)
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0] = spikes.reshape(-1, 1)
    cell[0, 1] = spikes[::2].astype(np.float32).reshape(-1, 1)
    path = _mat(tmp_path / "cells.mat", cell, triggers, stimulus)
    _fails(_row(path), "spike times are stored as float32", source=path)


def test_stored_precision():
    assert stored_precision(np.array([5e4], dtype=np.float32)) == StoredPrecision(
        "float32", float(np.spacing(np.float32(5e4))))
    assert stored_precision(np.array([3, 9], dtype=np.int16), scale=1e-3) == StoredPrecision(
        "int16", 1e-3)
    coarsest = stored_precision(np.array([1.0]), np.array([2.0], dtype=np.float32))
    assert coarsest.dtype == "float32"
    assert stored_precision(np.zeros(0)) is None


# --- spike order ---------------------------------------------------------------------------


def test_per_trial_spike_times_laid_end_to_end(tmp_path):
    spikes, triggers, stimulus = _good()
    restarted = np.concatenate([spikes[spikes < 30], spikes[spikes < 30]])
    path = _mat(tmp_path / "restart.mat", restarted, triggers, stimulus)
    _fails(_row(path), "unit 1: the spike times start again", "per-trial spike times laid end "
           "to end", source=path)


def test_a_few_spikes_out_of_order_are_sorted_with_a_warning(tmp_path, caplog):
    spikes, triggers, stimulus = _good()
    swapped = spikes.copy()
    swapped[[10, 11]] = swapped[[11, 10]]
    path = _mat(tmp_path / "swapped.mat", swapped, triggers, stimulus)
    with caplog.at_level(logging.WARNING):
        session = load_session(_row(path))
    np.testing.assert_array_equal(session.unit_spike_times(0), spikes)
    assert "unit 1: 1 spike time is earlier than the one before (at most" in caplog.text


# --- rates ----------------------------------------------------------------------------------


def _two_units(tmp_path, second, triggers, stimulus, first=None):
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0] = (first if first is not None else _good()[0]).reshape(-1, 1)
    cell[0, 1] = np.asarray(second, dtype=float).reshape(-1, 1)
    return _mat(tmp_path / "units.mat", cell, triggers, stimulus)


def test_a_unit_firing_too_slowly(tmp_path):
    rng = np.random.default_rng(3)
    triggers = 5.0 * np.arange(N_TRIGGERS)  # 5-s frames: 1500 s
    stimulus = rng.integers(0, 2, (HEIGHT, WIDTH, N_FRAMES)).astype(np.uint8)
    first = np.sort(rng.uniform(0, 1490, 400))
    path = _two_units(tmp_path, np.sort(rng.uniform(0, 1490, 10)), triggers, stimulus, first)
    _fails(_row(path), "unit 2: 10 spikes in 1500 s of frames, a mean rate of 0.00667 Hz, "
           "outside sessions.rate [0.01, 1000] Hz", source=path,
           defaults={"min_spikes": 5})
    # with the default min_spikes (50) unit 2 is not fitted, so not checked
    assert load_session(_row(path)).n_units == 2


def test_a_unit_firing_too_fast(tmp_path):
    spikes, triggers, stimulus = _good()
    fast = np.sort(np.random.default_rng(4).uniform(triggers[0], triggers[-1], 80000))
    path = _two_units(tmp_path, fast, triggers, stimulus)
    duration = triggers[-1] - triggers[0] + np.median(np.diff(triggers))
    _fails(_row(path), f"unit 2: 80000 spikes in {duration:.4g} s of frames, a mean rate of "
           f"{80000 / duration:.3g} Hz, outside sessions.rate [0.01, 1000] Hz", source=path)
    assert load_session(_row(path), defaults={"rate": [0.01, 2000]}).n_units == 2


def test_spikes_in_seconds_read_as_ms_crowd_into_the_first_frame(tmp_path):
    spikes, triggers, stimulus = _good(start=0.0)
    path = _mat(tmp_path / "crowd.mat", spikes, triggers, stimulus)
    _fails(_row(path, spikes_time_unit="ms"), "unit 1: its ", "spikes in the frames all fall "
           "within 0.0", "above sessions.rate's 1000 Hz", "spikes_time_unit", source=path)


# --- stimulus -------------------------------------------------------------------------------


def test_a_stimulus_of_one_value(tmp_path):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "flat.mat", spikes, triggers, np.full_like(stimulus, 7))
    _fails(_row(path), "every value of the stimulus over the 300 frames used is 7",
           source=path)


def test_constant_pixels_error_or_warn(tmp_path, caplog):
    spikes, triggers, stimulus = _good()
    stimulus[0, 0, :] = 1
    stimulus[2, 3, :N_TRIGGERS] = 0
    stimulus[2, 3, N_TRIGGERS:] = 1  # changes only in frames without a trigger
    path = _mat(tmp_path / "pixels.mat", spikes, triggers, stimulus)
    _fails(_row(path), "2 of 30 pixels never change over the 300 frames used (row,col 0,0; "
           "2,3)", "set sessions.constant_pixels: warn", source=path)
    with caplog.at_level(logging.WARNING):
        session = load_session(_row(path), defaults={"constant_pixels": "warn"})
    assert session.n_constant_pixels == 2
    assert "2 of 30 pixels never change" in caplog.text
    assert Session.from_npz(session.to_npz_dict()).n_constant_pixels == 2


def test_many_constant_pixels_name_the_first_five():
    stimulus = np.zeros((50, 12))
    stimulus[::2, 11] = 1.0
    with pytest.raises(InputError, match=r"11 of 12 pixels .*\(row,col 0,0; 0,1; 0,2; 0,3; "
                                         r"1,0 \.\.\.\)"):
        check_stimulus(stimulus, (3, 4), "error", "stim.mat")


# --- frames and spikes left out ---------------------------------------------------------


def test_more_stimulus_frames_than_triggers_allow(tmp_path):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "short.mat", spikes[spikes < triggers[249]], triggers[:250],
                stimulus)
    _fails(_row(path), "60 of 310 stimulus frames (19.4 %) have no trigger and are left out, "
           "more than max_frames_left_out (0.05 of the stimulus, 15 frames here)",
           "raise sessions.max_frames_left_out", source=path)
    session = load_session(_row(path), defaults={"max_frames_left_out": 0.2})
    assert session.n_frames_left_out == 60


def test_spike_times_in_ms_with_frames_in_s(tmp_path, caplog):
    spikes, triggers, stimulus = _good()
    path = _mat(tmp_path / "ms.mat", spikes * 1000, triggers, stimulus)
    with caplog.at_level(logging.WARNING):
        session = load_session(_row(path), defaults={"min_spikes": 500})
    assert session.n_spikes_left_out[0] > 390
    assert "about 1000 times the end of the frames" in caplog.text
    assert "set spikes_time_unit: ms" in caplog.text
    _fails(_row(path), "spikes (", "fall outside the frames", "set spikes_time_unit: ms",
           "more than max_spikes_left_out (0.5)", "raise sessions.max_spikes_left_out",
           source=path, defaults={"max_spikes_left_out": 0.5})


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize("defaults, key", [
    ({"frame_interval": [10, 1]}, "sessions.frame_interval"),
    ({"rate": [0, 10]}, "sessions.rate"),
    ({"constant_pixels": "ignore"}, "sessions.constant_pixels"),
    ({"max_time_error": 0}, "sessions.max_time_error"),
])
def test_bad_settings_name_their_key(tmp_path, defaults, key):
    path = _mat(tmp_path / "raw.mat", *_good())
    with pytest.raises(InputError) as caught:
        load_session(_row(path), defaults=defaults)
    assert caught.value.source == key


def test_float32_sync_events_in_npy(tmp_path):
    spikes, triggers, stimulus = _good(start=5e4)
    mat = _mat(tmp_path / "raw.mat", spikes, triggers, stimulus)
    np.save(tmp_path / "sync.npy", triggers.astype(np.float32))
    _fails(_row(mat, triggers_file=str(tmp_path / "sync.npy")),
           "trigger times are stored as float32", "3.906 ms apart", source=tmp_path / "sync.npy")


def test_float32_sample_indices_in_a_kilosort_folder(tmp_path):
    """Sample indices at 30 kHz near 5e4 s (1.5e9) as float32 are 128 samples apart."""
    spikes, triggers, stimulus = _good(start=5e4)
    folder = tmp_path / "ks"
    folder.mkdir()
    samples = np.round(spikes * 30000.0).astype(np.float32)
    np.save(folder / "spike_times.npy", samples)
    np.save(folder / "spike_clusters.npy", np.zeros(samples.size, dtype=np.int32))
    (folder / "params.py").write_text("sample_rate = 30000.0\n")
    stim = _mat(tmp_path / "stim.mat", spikes, triggers, stimulus)
    _fails(_row(folder, triggers_file=stim, stimulus_file=stim),
           "spike times are stored as float32", "4.267 ms apart", source=folder)
    np.save(folder / "spike_times.npy", samples.astype(np.uint64))  # Kilosort's own dtype
    assert load_session(_row(folder, triggers_file=stim, stimulus_file=stim)).n_units == 1


def test_a_session_with_no_unit_to_fit_is_an_error():
    """check_fittable (called by the workflow's load_recording): every unit under
    min_spikes names the unit with the most spikes; one unit at min_spikes passes."""
    from types import SimpleNamespace

    from sparsefield.io.plausibility import check_fittable

    trains = [np.arange(3.0), np.arange(49.0)]
    session = SimpleNamespace(n_units=2, min_spikes=50, unit_ids=np.array([4, 9]),
                              unit_spike_times=lambda index: trains[index])
    with pytest.raises(InputError, match=r"spikes.mat: no unit has the 50 spikes .* the most "
                                         r"is 49, unit 9, of 2 units"):
        check_fittable(session, "spikes.mat")
    trains[1] = np.arange(50.0)
    check_fittable(session, "spikes.mat")


def test_a_short_burst_is_not_taken_for_a_wrong_time_unit(tmp_path):
    """With min_spikes 0 a unit of 3 spikes within 1 ms is fitted (a burst), not refused
    as crowded; 10 such spikes are."""
    spikes, triggers, stimulus = _good()
    for count, refused in ((3, False), (10, True)):
        burst = triggers[50] + 1e-4 * np.arange(count)
        (tmp_path / f"b{count}").mkdir()
        path = _two_units(tmp_path / f"b{count}", burst, triggers, stimulus)
        if refused:
            _fails(_row(path, min_spikes=0), "unit 2: its 10 spikes in the frames all fall",
                   source=path)
        else:
            assert load_session(_row(path, min_spikes=0)).n_units == 2

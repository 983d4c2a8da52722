"""Sessions: one stimulus and its timing, many units, from every source kind.

Fixtures are written by each format's own library (scipy.io for MATLAB, numpy for
npz and Kilosort folders, pynwb for NWB) and read back through the sheet row, as a
user's files would be; each multi-unit source must give the same session as the
same data given as one-unit rows.
"""

import os

import numpy as np
import pytest
import scipy.io

from sparsefield.errors import InputError
from sparsefield.io import load_recording, save_raw_mat
from sparsefield.io.session import Session, load_session
from sparsefield.io.session_row import read_session_row

HEIGHT, WIDTH = 4, 3
N_FRAMES, N_TRIGGERS = 60, 58


def _raw(seed=0, n_units=3):
    rng = np.random.default_rng(seed)
    durations = rng.uniform(0.09, 0.11, N_TRIGGERS)
    trigger_times = 0.5 + np.concatenate(([0.0], np.cumsum(durations[:-1])))
    stop = trigger_times[-1] + 0.1
    trains = [np.sort(rng.uniform(0.0, stop + 1.0, 40 + 20 * unit)) for unit in range(n_units)]
    stimulus_hwt = rng.integers(0, 2, (HEIGHT, WIDTH, N_FRAMES)).astype(np.uint8)
    return trains, trigger_times, stimulus_hwt


def _cell(trains):
    cell = np.empty((1, len(trains)), dtype=object)
    for index, train in enumerate(trains):
        cell[0, index] = train.reshape(-1, 1)
    return cell


def _one_unit_rows(tmp_path, trains, trigger_times, stimulus_hwt):
    """The same data as one .mat file per unit, loaded with the one-unit reader."""
    recordings = []
    for index, train in enumerate(trains):
        path = tmp_path / f"unit{index}.mat"
        save_raw_mat(path, train, trigger_times, stimulus_hwt)
        recordings.append(load_recording({"recording_id": f"u{index}", "spikes_file": str(path)}))
    return recordings


def _assert_matches_rows(session, recordings):
    """Every unit of the session equals its one-unit recording (spikes inside the frames)."""
    assert session.n_units == len(recordings)
    for index, recording in enumerate(recordings):
        np.testing.assert_array_equal(session.trigger_times, recording.trigger_times)
        np.testing.assert_array_equal(session.stimulus, recording.stimulus)
        edges_stop = recording.trigger_times[-1] + np.median(np.diff(recording.trigger_times))
        spikes = recording.spike_times
        inside = spikes[(spikes >= recording.trigger_times[0]) & (spikes < edges_stop)]
        np.testing.assert_array_equal(session.unit_spike_times(index), inside)
        assert session.n_spikes_left_out[index] == spikes.size - inside.size


def test_one_unit_row_is_a_session_of_one_unit(tmp_path):
    trains, trigger_times, stimulus_hwt = _raw(n_units=1)
    path = tmp_path / "raw.mat"
    save_raw_mat(path, trains[0], trigger_times, stimulus_hwt)
    session = load_session({"recording_id": "rec", "spikes_file": str(path)})
    assert session.unit_ids.tolist() == [1]
    assert session.frame_shape == (HEIGHT, WIDTH)
    assert session.n_frames_left_out == N_FRAMES - N_TRIGGERS
    assert session.trial_starts.tolist() == [0]
    _assert_matches_rows(session, _one_unit_rows(tmp_path, trains, trigger_times, stimulus_hwt))
    rebuilt = Session.from_npz(session.to_npz_dict())
    np.testing.assert_array_equal(rebuilt.spike_times, session.spike_times)
    assert rebuilt.frame_shape == session.frame_shape and rebuilt.sources == session.sources


def test_matlab_cell_array_of_units_equals_one_unit_rows(tmp_path):
    trains, trigger_times, stimulus_hwt = _raw()
    path = tmp_path / "cells.mat"
    scipy.io.savemat(path, {"spikes": _cell(trains), "DN_triggertimes": trigger_times,
                            "DN_stim": stimulus_hwt})
    session = load_session({"recording_id": "s", "spikes_file": str(path), "spikes_key": "spikes"})
    assert session.unit_ids.tolist() == [1, 2, 3]
    _assert_matches_rows(session, _one_unit_rows(tmp_path, trains, trigger_times, stimulus_hwt))


def test_npz_with_unit_index_equals_one_unit_rows(tmp_path):
    trains, trigger_times, stimulus_hwt = _raw()
    ids = np.concatenate([np.full(train.size, 10 * (index + 1)) for index, train in enumerate(trains)])
    times = np.concatenate(trains)
    order = np.argsort(times, kind="stable")  # interleaved, as a sorter writes them
    path = tmp_path / "session.npz"
    np.savez(path, spike_times=times[order], spike_units=ids[order], trigger_times=trigger_times,
             stimulus=stimulus_hwt)
    session = load_session({"recording_id": "s", "spikes_file": str(path),
                            "spikes_key": "spike_times", "units_key": "spike_units",
                            "triggers_key": "trigger_times", "stimulus_key": "stimulus"})
    assert session.unit_ids.tolist() == [10, 20, 30]
    _assert_matches_rows(session, _one_unit_rows(tmp_path, trains, trigger_times, stimulus_hwt))


def test_kilosort_folder_with_labels_and_frame_times_in_samples(tmp_path):
    trains, trigger_times, stimulus_hwt = _raw()
    rate = 30000.0
    folder = tmp_path / "ks"
    folder.mkdir()
    samples = [np.round(train * rate).astype(np.int64) for train in trains]
    clusters = np.concatenate([np.full(s.size, cid) for s, cid in zip(samples, (4, 7, 9))])
    times = np.concatenate(samples)
    order = np.argsort(times, kind="stable")
    np.save(folder / "spike_times.npy", times[order].astype(np.uint64).reshape(-1, 1))
    np.save(folder / "spike_clusters.npy", clusters[order].astype(np.int32))
    (folder / "params.py").write_text("dat_path = 'raw.bin'\nn_channels_dat = 64\n"
                                      f"sample_rate = {rate}\nhp_filtered = False\n")
    (folder / "cluster_group.tsv").write_text("cluster_id\tgroup\n4\tgood\n7\tmua\n9\tgood\n")
    sync = tmp_path / "frames.npy"
    np.save(sync, np.round(trigger_times * rate).astype(np.int64))
    stim = tmp_path / "stimulus.mat"
    scipy.io.savemat(stim, {"DN_stim": stimulus_hwt})
    row = {"recording_id": "ks", "spikes_file": str(folder), "triggers_file": str(sync),
           "stimulus_file": str(stim), "triggers_time_unit": "samples", "sample_rate": rate}
    session = load_session(row)
    assert session.unit_ids.tolist() == [4, 7, 9]
    assert session.unit_labels.tolist() == ["good", "mua", "good"]
    good = load_session({**row, "unit_label": "good"})
    assert good.unit_ids.tolist() == [4, 9]
    chosen = load_session({**row, "units": "9, 7"})
    assert chosen.unit_ids.tolist() == [7, 9]
    expected_triggers = np.round(trigger_times * rate) / rate
    np.testing.assert_allclose(session.trigger_times, expected_triggers, rtol=0, atol=1e-12)
    for index, train in enumerate(samples):
        edges_stop = expected_triggers[-1] + np.median(np.diff(expected_triggers))
        seconds = np.sort(train) / rate
        inside = seconds[(seconds >= expected_triggers[0]) & (seconds < edges_stop)]
        np.testing.assert_allclose(session.unit_spike_times(index), inside, rtol=0, atol=1e-12)


def test_nwb_session_equals_one_unit_rows(tmp_path):
    from sparsefield.io.nwb import write_nwb_session

    trains, trigger_times, stimulus_hwt = _raw()
    frames = stimulus_hwt.transpose(2, 0, 1)[:N_TRIGGERS]
    path = tmp_path / "session.nwb"
    write_nwb_session(path, unit_ids=[3, 5, 8], spike_trains=trains, stimulus_frames=frames,
                      frame_times=trigger_times, labels=["good", "good", "noise"])
    session = load_session({"recording_id": "nwb", "spikes_file": str(path)})
    assert session.unit_ids.tolist() == [3, 5, 8]
    assert session.unit_labels.tolist() == ["good", "good", "noise"]
    assert session.frame_shape == (HEIGHT, WIDTH)
    rows = _one_unit_rows(tmp_path, trains, trigger_times, stimulus_hwt[:, :, :N_TRIGGERS])
    _assert_matches_rows(session, rows)


def test_frame_rate_instead_of_triggers(tmp_path):
    trains, _, stimulus_hwt = _raw(n_units=1)
    path = tmp_path / "raw.npz"
    np.savez(path, DN_spiketimes=trains[0], DN_stim=stimulus_hwt)
    session = load_session({"recording_id": "r", "spikes_file": str(path), "frame_rate": 120,
                            "first_frame_time": 0.25})
    np.testing.assert_allclose(session.trigger_times, 0.25 + np.arange(N_FRAMES) / 120.0)
    assert session.n_frames == N_FRAMES and session.n_frames_left_out == 0


def _trial_file(tmp_path, n_trials, frames_per_trial, stimulus_frames, per_trial_spikes, gap=2.0):
    rng = np.random.default_rng(5)
    triggers = np.empty((1, n_trials), dtype=object)
    spikes_cell = np.empty((2, n_trials), dtype=object)
    starts = []
    for trial in range(n_trials):
        start = 0.0 if per_trial_spikes else trial * (frames_per_trial * 0.1 + gap)
        starts.append(start)
        triggers[0, trial] = (start + 0.1 * np.arange(frames_per_trial)).reshape(-1, 1)
        for unit in range(2):
            spikes_cell[unit, trial] = np.sort(rng.uniform(start - 0.5, start + frames_per_trial
                                                           * 0.1 + 0.5, 30)).reshape(-1, 1)
    stimulus = rng.normal(size=(HEIGHT, WIDTH, stimulus_frames))
    path = tmp_path / "trials.mat"
    scipy.io.savemat(path, {"spikes": spikes_cell, "triggers": triggers, "DN_stim": stimulus})
    return path, spikes_cell, stimulus, starts


def test_per_trial_cells_on_one_time_line_with_the_gaps_removed(tmp_path):
    path, spikes_cell, stimulus, _ = _trial_file(tmp_path, 3, 20, 20, per_trial_spikes=True)
    row = {"recording_id": "t", "spikes_file": str(path), "spikes_key": "spikes",
           "triggers_key": "triggers", "trial_stimulus": "repeat"}
    session = load_session(row)
    assert session.trial_starts.tolist() == [0, 20, 40]
    np.testing.assert_allclose(session.trigger_times, 0.1 * np.arange(60), atol=1e-12)
    frames = stimulus.transpose(2, 0, 1).reshape(20, -1)
    np.testing.assert_array_equal(session.stimulus, np.concatenate([frames] * 3))
    for unit in range(2):
        expected = []
        for trial in range(3):
            times = spikes_cell[unit, trial].ravel()
            inside = times[(times >= 0) & (times < 2.0)]
            expected.append(inside + 2.0 * trial)
        np.testing.assert_allclose(session.unit_spike_times(unit), np.concatenate(expected),
                                   atol=1e-12)
        total = sum(spikes_cell[unit, trial].size for trial in range(3))
        assert session.n_spikes_left_out[unit] == total - sum(e.size for e in expected)


def test_trials_continuing_through_the_stimulus(tmp_path):
    path, _, stimulus, starts = _trial_file(tmp_path, 3, 20, 60, per_trial_spikes=False)
    # continuous spike times on the recording's clock: one vector per unit
    trains = [np.sort(np.random.default_rng(unit).uniform(0, 15, 100)) for unit in range(2)]
    cell = _cell(trains)
    contents = scipy.io.loadmat(path)
    scipy.io.savemat(path, {"spikes": cell, "triggers": contents["triggers"],
                            "DN_stim": stimulus})
    session = load_session({"recording_id": "t", "spikes_file": str(path),
                            "spikes_key": "spikes", "triggers_key": "triggers"})
    frames = stimulus.transpose(2, 0, 1).reshape(60, -1)
    np.testing.assert_array_equal(session.stimulus, frames)
    np.testing.assert_allclose(np.diff(session.trigger_times), 0.1, atol=1e-12)  # no gaps left
    for unit, train in enumerate(trains):
        kept = [train[(train >= start) & (train < start + 2.0)] - start + 2.0 * trial
                for trial, start in enumerate(starts)]
        np.testing.assert_allclose(session.unit_spike_times(unit), np.concatenate(kept),
                                   atol=1e-9)


# --- bad input: one message naming the file and the unit or key -------------------------


def _expect(match, **kwargs):
    return pytest.raises(InputError, match=match, **kwargs)


def test_unit_asked_for_is_not_in_the_file(tmp_path):
    trains, trigger_times, stimulus_hwt = _raw()
    path = tmp_path / "cells.mat"
    scipy.io.savemat(path, {"spikes": _cell(trains), "DN_triggertimes": trigger_times,
                            "DN_stim": stimulus_hwt})
    with _expect(r"cells\.mat: has no unit 7 .*units in the file: 1, 2, 3"):
        load_session({"recording_id": "s", "spikes_file": str(path), "spikes_key": "spikes",
                      "units": "2 7"})


def test_frame_rate_must_be_positive():
    with _expect(r"recordings\.tsv: s: frame_rate is 0; expected a number > 0"):
        read_session_row({"recording_id": "s", "spikes_file": "x.mat", "frame_rate": 0})


def test_trials_whose_frame_counts_disagree_with_the_stimulus(tmp_path):
    path, _, _, _ = _trial_file(tmp_path, 3, 20, 50, per_trial_spikes=True)
    with _expect(r"trials\.mat: trial 3 needs stimulus frames 40\.\.59 but the stimulus has "
                 r"only 50 frames"):
        load_session({"recording_id": "t", "spikes_file": str(path), "spikes_key": "spikes",
                      "triggers_key": "triggers"})


def test_too_many_frames_without_a_trigger_is_an_error(tmp_path):
    trains, trigger_times, stimulus_hwt = _raw(n_units=1)
    path = tmp_path / "raw.mat"
    save_raw_mat(path, trains[0], trigger_times[:20], stimulus_hwt)
    with _expect(r"raw\.mat: 40 of 60 stimulus frames .* more than max_frames_left_out"):
        load_session({"recording_id": "r", "spikes_file": str(path)})
    session = load_session({"recording_id": "r", "spikes_file": str(path),
                            "max_frames_left_out": 0.9})
    assert session.n_frames_left_out == 40


def test_samples_need_a_sample_rate():
    with _expect(r"spikes_time_unit is samples, so sample_rate .* is required"):
        read_session_row({"recording_id": "s", "spikes_file": "x.npz",
                          "spikes_time_unit": "samples"})


def test_label_selection_without_labels(tmp_path):
    trains, trigger_times, stimulus_hwt = _raw()
    path = tmp_path / "cells.mat"
    scipy.io.savemat(path, {"spikes": _cell(trains), "DN_triggertimes": trigger_times,
                            "DN_stim": stimulus_hwt})
    with _expect(r"cells\.mat: has no sorter labels, so unit_label 'good'"):
        load_session({"recording_id": "s", "spikes_file": str(path), "spikes_key": "spikes",
                      "unit_label": "good"})


def test_full_field_vector_stimulus(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "ff.npz"
    np.savez(path, DN_spiketimes=np.sort(rng.uniform(0, 5, 200)),
             DN_stim=rng.normal(size=600))
    session = load_session({"recording_id": "ff", "spikes_file": str(path), "frame_rate": 120,
                            "stimulus_axes": "t"})
    assert session.frame_shape == (1, 1) and session.stimulus.shape == (600, 1)
    assert os.fspath(session.sources["triggers"]).startswith("frame_rate")


def test_a_pause_in_the_frame_times_is_left_out_like_a_gap_between_trials(tmp_path):
    """Two stimulus presentations in one NWB stimulus series, 10 s apart: the pause is
    not one 10-second frame, and the spikes in it are left out and counted."""
    from sparsefield.io.nwb import write_nwb_session

    rng = np.random.default_rng(8)
    frames = rng.integers(0, 2, (80, HEIGHT, WIDTH)).astype(np.uint8)
    frame_times = np.concatenate([0.1 * np.arange(40), 14.0 + 0.1 * np.arange(40)])
    train = np.sort(rng.uniform(0.0, 18.0, 300))
    path = tmp_path / "two.nwb"
    write_nwb_session(path, unit_ids=[4], spike_trains=[train], stimulus_frames=frames,
                      frame_times=frame_times)
    session = load_session({"recording_id": "two", "spikes_file": str(path)})
    assert session.trial_starts.tolist() == [0, 40]
    np.testing.assert_allclose(np.diff(session.trigger_times), 0.1, atol=1e-9)
    np.testing.assert_array_equal(session.stimulus, frames.reshape(80, -1).astype(float))
    inside = np.concatenate([train[train < 4.0], train[(train >= 14.0) & (train < 18.0)] - 10.0])
    np.testing.assert_allclose(session.unit_spike_times(0), inside, atol=1e-9)
    assert session.n_spikes_left_out[0] == train.size - inside.size
    # a larger max_frame_gap keeps the pause as (one long) frame, as asked
    kept = load_session({"recording_id": "two", "spikes_file": str(path), "max_frame_gap": 200})
    assert kept.trial_starts.tolist() == [0]


def test_spikes_outside_the_frames_can_be_an_error(tmp_path):
    """Spike times in ms with frame times in s: almost every spike after the stimulus."""
    trains, trigger_times, stimulus_hwt = _raw(n_units=1)
    path = tmp_path / "raw.mat"
    save_raw_mat(path, trains[0] * 1000.0, trigger_times, stimulus_hwt)
    row = {"recording_id": "r", "spikes_file": str(path)}
    session = load_session(row)  # by default reported, not an error
    assert session.n_spikes_left_out[0] > 0.9 * trains[0].size
    with _expect(r"raw\.mat: unit 1: \d+ of \d+ spikes \((9\d|100)\.\d %\) fall outside the "
                 r"frames .* more than max_spikes_left_out \(0\.5\)"):
        load_session({**row, "max_spikes_left_out": 0.5})

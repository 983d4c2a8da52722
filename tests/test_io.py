"""Tests for sparsefield.io: readers for every format, checks, the raw writer."""

import os

import h5py
import numpy as np
import pytest
import scipy.io

from sparsefield.errors import InputError
from sparsefield.io import Recording, load_recording, save_raw_mat
from sparsefield.io.recording import SHEET_DEFAULTS

HEIGHT, WIDTH, N_FRAMES, N_TRIGGERS = 4, 3, 25, 22


@pytest.fixture
def raw():
    """Small recording in the real file's layout: stimulus height x width x frames."""
    rng = np.random.default_rng(7)
    trigger_times = np.cumsum(rng.uniform(0.18, 0.25, N_TRIGGERS))
    spike_times = np.sort(rng.uniform(0.0, trigger_times[-1] + 0.2, 60))
    stimulus_hwt = rng.integers(0, 2, (HEIGHT, WIDTH, N_FRAMES)).astype(np.uint8)
    return spike_times, trigger_times, stimulus_hwt


def _row(path, **columns):
    return {"recording_id": "rec1", "spikes_file": os.fspath(path), **columns}


def _expected_stimulus(stimulus_hwt, n_triggers=N_TRIGGERS):
    """(n_triggers, height * width) with pixel = row * width + col, written out by loops."""
    height, width, _ = stimulus_hwt.shape
    expected = np.empty((n_triggers, height * width))
    for frame in range(n_triggers):
        for row in range(height):
            for col in range(width):
                expected[frame, row * width + col] = stimulus_hwt[row, col, frame]
    return expected


def _save_mat73(path, variables):
    """Write a file the way MATLAB's ``save -v7.3`` does.

    HDF5 with a 512-byte userblock holding MATLAB's text header; each array is
    stored with its axes reversed (MATLAB is column-major) and a MATLAB_class.
    """
    classes = {np.dtype(np.float64): "double", np.dtype(np.uint8): "uint8"}
    with h5py.File(path, "w", userblock_size=512) as handle:
        for key, array in variables.items():
            dataset = handle.create_dataset(key, data=np.ascontiguousarray(array.T))
            dataset.attrs["MATLAB_class"] = np.bytes_(classes[array.dtype])
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Nov 23 12:00:00 2026 HDF5 schema 1.00 ."
    header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as handle:
        handle.write(header.ljust(512, b"\x00"))


def _raises(row, base_dir=".", *, file_name, phrase):
    with pytest.raises(InputError) as caught:
        load_recording(row, base_dir=base_dir)
    message = str(caught.value)
    assert file_name in message, message
    assert phrase in message, message
    return caught.value


# --- reading good input ----------------------------------------------------------------


def test_round_trip_save_raw_mat(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    path = tmp_path / "raw.mat"
    save_raw_mat(path, spike_times, trigger_times, stimulus_hwt)

    stored = scipy.io.loadmat(path)
    assert stored["DN_spiketimes"].shape == (60, 1) and stored["DN_spiketimes"].dtype == np.float64
    assert stored["DN_triggertimes"].shape == (N_TRIGGERS, 1)
    assert stored["DN_stim"].shape == (HEIGHT, WIDTH, N_FRAMES) and stored["DN_stim"].dtype == np.uint8
    assert sorted(os.listdir(tmp_path)) == ["raw.mat"]  # no temporary left behind

    recording = load_recording({"recording_id": "rec1", "spikes_file": "raw.mat"}, base_dir=tmp_path)
    assert recording.recording_id == "rec1"
    np.testing.assert_array_equal(recording.spike_times, spike_times)
    np.testing.assert_array_equal(recording.trigger_times, trigger_times)
    np.testing.assert_array_equal(recording.stimulus, _expected_stimulus(stimulus_hwt))
    assert recording.stimulus.dtype == np.float64
    assert recording.frame_shape == (HEIGHT, WIDTH)
    assert recording.n_frames_dropped == N_FRAMES - N_TRIGGERS
    assert recording.sources == {role: str(path) for role in ("spikes", "triggers", "stimulus")}

    rebuilt = Recording.from_npz(recording.to_npz_dict())
    np.testing.assert_array_equal(rebuilt.stimulus, recording.stimulus)
    assert rebuilt.frame_shape == recording.frame_shape and rebuilt.sources == recording.sources


def test_save_raw_mat_failure_leaves_no_file(tmp_path, raw, monkeypatch):
    spike_times, trigger_times, stimulus_hwt = raw

    def broken_savemat(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(scipy.io, "savemat", broken_savemat)
    with pytest.raises(OSError, match="disk full"):
        save_raw_mat(tmp_path / "raw.mat", spike_times, trigger_times, stimulus_hwt)
    assert os.listdir(tmp_path) == []


@pytest.mark.realdata
def test_real_recording(real_data_path):
    recording = load_recording({"recording_id": "nds_cl_5", "spikes_file": os.fspath(real_data_path)})
    stimulus_hwt = scipy.io.loadmat(real_data_path, variable_names=["DN_stim"])["DN_stim"]
    assert recording.spike_times.shape == (5500,)
    assert recording.trigger_times.shape == (1489,)
    assert recording.stimulus.shape == (1489, 300)
    assert recording.n_frames_dropped == 11
    assert recording.frame_shape == (20, 15)
    np.testing.assert_array_equal(recording.stimulus[:, 12 * 15 + 4], stimulus_hwt[12, 4, :1489])
    np.testing.assert_array_equal(recording.stimulus_frames(), stimulus_hwt[:, :, :1489].transpose(2, 0, 1))


def test_mat73_loads_like_v5(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    save_raw_mat(tmp_path / "v5.mat", spike_times, trigger_times, stimulus_hwt)
    _save_mat73(tmp_path / "v73.mat", {
        "DN_spiketimes": spike_times.reshape(-1, 1),
        "DN_triggertimes": trigger_times.reshape(-1, 1),
        "DN_stim": stimulus_hwt,
    })
    assert h5py.is_hdf5(tmp_path / "v73.mat")
    assert (tmp_path / "v73.mat").read_bytes().startswith(b"MATLAB 7.3 MAT-file")

    v5 = load_recording(_row(tmp_path / "v5.mat"))
    v73 = load_recording(_row(tmp_path / "v73.mat"))
    for name in ("spike_times", "trigger_times", "stimulus"):
        np.testing.assert_array_equal(getattr(v73, name), getattr(v5, name))
    assert (v73.frame_shape, v73.n_frames_dropped) == (v5.frame_shape, v5.n_frames_dropped)


def test_npz_flattened_and_text(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    frames_by_pixels = stimulus_hwt.transpose(2, 0, 1).reshape(N_FRAMES, HEIGHT * WIDTH)
    np.savez(tmp_path / "stim.npz", movie=frames_by_pixels)
    np.savetxt(tmp_path / "spikes.txt", spike_times[::-1], header="spike times, s")  # unsorted
    np.savetxt(tmp_path / "triggers.csv", trigger_times)

    recording = load_recording({
        "recording_id": "rec1", "spikes_file": "spikes.txt", "triggers_file": "triggers.csv",
        "stimulus_file": "stim.npz", "stimulus_key": "movie", "stimulus_axes": "tp",
        "frame_height": HEIGHT, "frame_width": WIDTH,
    }, base_dir=tmp_path)
    np.testing.assert_allclose(recording.spike_times, spike_times, rtol=1e-15)
    np.testing.assert_allclose(recording.trigger_times, trigger_times, rtol=1e-15)
    np.testing.assert_array_equal(recording.stimulus, _expected_stimulus(stimulus_hwt))


def test_npz_three_dimensional_other_axis_order(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    np.savez(tmp_path / "all.npz", DN_spiketimes=spike_times, DN_triggertimes=trigger_times,
             DN_stim=stimulus_hwt.transpose(2, 0, 1).astype(np.float32))
    recording = load_recording(_row(tmp_path / "all.npz", stimulus_axes="thw", frame_height=float(HEIGHT)))
    np.testing.assert_array_equal(recording.stimulus, _expected_stimulus(stimulus_hwt))


@pytest.mark.parametrize("axes", ["tp", "pt"])
def test_pixel_order_f_for_flattened_input(tmp_path, raw, axes):
    spike_times, trigger_times, stimulus_hwt = raw
    # MATLAB's reshape(stim, [], n_frames): pixel = col * height + row.
    pixels_by_frames = stimulus_hwt.reshape(HEIGHT * WIDTH, N_FRAMES, order="F")
    assert pixels_by_frames[2 * HEIGHT + 1, 5] == stimulus_hwt[1, 2, 5]
    stored = pixels_by_frames if axes == "pt" else pixels_by_frames.T
    np.savez(tmp_path / "f.npz", DN_spiketimes=spike_times, DN_triggertimes=trigger_times, DN_stim=stored)
    recording = load_recording(_row(tmp_path / "f.npz", stimulus_axes=axes, pixel_order="F",
                                    frame_height=HEIGHT, frame_width=WIDTH))
    np.testing.assert_array_equal(recording.stimulus, _expected_stimulus(stimulus_hwt))


def test_milliseconds(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    save_raw_mat(tmp_path / "ms.mat", spike_times * 1000, trigger_times * 1000, stimulus_hwt)
    recording = load_recording(_row(tmp_path / "ms.mat", time_unit="ms"))
    np.testing.assert_allclose(recording.spike_times, spike_times, rtol=1e-14)
    np.testing.assert_allclose(recording.trigger_times, trigger_times, rtol=1e-14)


def test_defaults_for_blank_cells(tmp_path, raw):
    """Blank cells as pandas gives them (NaN, None, "") take SHEET_DEFAULTS."""
    spike_times, trigger_times, stimulus_hwt = raw
    save_raw_mat(tmp_path / "raw.mat", spike_times, trigger_times, stimulus_hwt)
    row = _row(tmp_path / "raw.mat", format=float("nan"), triggers_file="", stimulus_file=None,
               spikes_key=float("nan"), stimulus_axes="", pixel_order=None, time_unit=float("nan"),
               frame_height=float("nan"), frame_width=float("nan"))
    recording = load_recording(row)
    np.testing.assert_array_equal(recording.stimulus, _expected_stimulus(stimulus_hwt))
    assert SHEET_DEFAULTS["stimulus_axes"] == "hwt" and SHEET_DEFAULTS["format"] == "auto"


# --- refusing bad input ----------------------------------------------------------------


def _write(tmp_path, spike_times, trigger_times, stimulus_hwt, name="bad.mat"):
    path = tmp_path / name
    save_raw_mat(path, spike_times, trigger_times, stimulus_hwt)
    return path


def test_non_monotonic_triggers(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    trigger_times = trigger_times.copy()
    trigger_times[6] = trigger_times[5]
    path = _write(tmp_path, spike_times, trigger_times, stimulus_hwt)
    error = _raises(_row(path), file_name="bad.mat", phrase="strictly increasing")
    assert "trigger time 5 (0-based)" in error.problem


def test_nan_spike(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    spike_times = spike_times.copy()
    spike_times[9] = np.nan
    path = _write(tmp_path, spike_times, trigger_times, stimulus_hwt)
    _raises(_row(path), file_name="bad.mat", phrase="spike time 9 (0-based) is nan")


def test_negative_spike(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    spike_times = spike_times.copy()
    spike_times[3] = -0.5
    path = _write(tmp_path, spike_times, trigger_times, stimulus_hwt)
    _raises(_row(path), file_name="bad.mat", phrase="spike time 3 (0-based) is negative (-0.5 s)")


def test_empty_spike_train(tmp_path, raw):
    _, trigger_times, stimulus_hwt = raw
    path = _write(tmp_path, np.zeros(0), trigger_times, stimulus_hwt)
    _raises(_row(path), file_name="bad.mat", phrase="spike train is empty")


def test_more_triggers_than_frames(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    path = _write(tmp_path, spike_times, trigger_times, stimulus_hwt[:, :, :20])
    _raises(_row(path), file_name="bad.mat", phrase="more triggers (22) than stimulus frames (20)")


def test_missing_variable(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    path = _write(tmp_path, spike_times, trigger_times, stimulus_hwt)
    error = _raises(_row(path, stimulus_key="stim"), file_name="bad.mat", phrase="no MATLAB variable 'stim'")
    assert "'DN_stim'" in error.problem  # lists what the file holds


def test_frame_shape_mismatch(tmp_path, raw):
    spike_times, trigger_times, stimulus_hwt = raw
    path = _write(tmp_path, spike_times, trigger_times, stimulus_hwt)
    _raises(_row(path, frame_height=3, frame_width=4), file_name="bad.mat",
            phrase="frames are 4x3 (height x width")


def test_truncated_file(tmp_path, raw):
    path = _write(tmp_path, *raw)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _raises(_row(path), file_name="bad.mat", phrase="truncated or corrupt")


def test_missing_file(tmp_path):
    _raises(_row("nowhere.mat"), base_dir=tmp_path, file_name="nowhere.mat", phrase="file not found")


def test_object_array_in_npz_is_refused(tmp_path, raw, monkeypatch):
    spike_times, trigger_times, stimulus_hwt = raw
    np.savez(tmp_path / "bad.npz", DN_spiketimes=np.array([0.1, "x", None], dtype=object),
             DN_triggertimes=trigger_times, DN_stim=stimulus_hwt)
    import pickle

    def no_unpickling(*args, **kwargs):
        raise AssertionError("tried to unpickle")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    _raises(_row(tmp_path / "bad.npz"), file_name="bad.npz", phrase="object array")


@pytest.mark.parametrize("columns, phrase", [
    ({"stimulus_axes": "hw"}, "stimulus_axes is 'hw'"),
    ({"pixel_order": "F"}, "pixel_order 'F' applies only to a flattened stimulus"),
    ({"stimulus_axes": "tp"}, "frame_height and frame_width are required"),
    ({"time_unit": "us"}, "time_unit is 'us'"),
    ({"frame_width": -2}, "frame_width is -2"),
])
def test_bad_sheet_rows(tmp_path, raw, columns, phrase):
    path = _write(tmp_path, *raw)
    _raises(_row(path, **columns), file_name="recordings.tsv: rec1", phrase=phrase)


def test_text_stimulus_is_refused(tmp_path, raw):
    spike_times, _, _ = raw
    np.savetxt(tmp_path / "spikes.txt", spike_times)
    _raises(_row(tmp_path / "spikes.txt"), file_name="spikes.txt", phrase="cannot be read from a text file")

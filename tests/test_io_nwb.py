"""Tests for sparsefield.io.nwb: reading units, stimulus and trials; writing a session."""

import datetime
import hashlib
import os
import time

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.io.nwb import (
    NwbStimulus,
    read_nwb_intervals,
    read_nwb_stimulus,
    read_nwb_units,
    write_nwb_session,
)

pynwb = pytest.importorskip("pynwb")

START = datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.timezone.utc)
UNIT_IDS = [4, 11, 2]
TRAINS = [np.array([0.01, 0.5, 1.25]), np.array([]), np.array([2.0, 2.5])]
FRAMES = np.arange(5 * 3 * 4, dtype=np.uint8).reshape(5, 3, 4)
FRAME_TIMES = np.array([0.0, 0.033, 0.067, 0.1, 0.133])


def _write(path, *, units=True, quality=True, ks_label=False, stimuli=("white_noise",),
           regular=False, trials=True, intervals=()):
    """An NWB file written with pynwb itself (not with sparsefield's writer)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.epoch import TimeIntervals
    from pynwb.image import ImageSeries

    nwb = NWBFile(session_description="fixture", identifier="fixture", session_start_time=START)
    for name in stimuli:
        if regular:
            series = ImageSeries(name=name, data=FRAMES, unit="n.a.", starting_time=0.5, rate=30.0)
        else:
            series = ImageSeries(name=name, data=FRAMES, unit="n.a.", timestamps=FRAME_TIMES)
        nwb.add_stimulus(series)
    if units:
        if quality:
            nwb.add_unit_column("quality", "curation label")
        if ks_label:
            nwb.add_unit_column("KSLabel", "Kilosort label")
        for index, (unit_id, train) in enumerate(zip(UNIT_IDS, TRAINS)):
            extra = {}
            if quality:
                extra["quality"] = ["good", "", "mua"][index]
            if ks_label:
                extra["KSLabel"] = ["mua", "good", "good"][index]
            nwb.add_unit(spike_times=train, id=unit_id, **extra)
    if trials:
        for start, stop in [(0.0, 1.0), (1.5, 2.75)]:
            nwb.add_trial(start_time=start, stop_time=stop)
    for name in intervals:
        table = TimeIntervals(name=name, description=name)
        table.add_interval(start_time=3.0, stop_time=4.0)
        nwb.add_time_intervals(table)
    with NWBHDF5IO(path, "w") as io:
        io.write(nwb)
    return str(path)


@pytest.fixture(scope="module")
def nwb_file(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("nwb") / "session.nwb")


def _raises(function, path, *args, phrases, source=None, **kwargs):
    with pytest.raises(InputError) as caught:
        function(path, *args, **kwargs)
    message = str(caught.value)
    assert caught.value.source == str(path if source is None else source), message
    for phrase in phrases:
        assert phrase in message, message
    return message


# --- read_nwb_units ----------------------------------------------------------------------


def _assert_units(trains, ids=UNIT_IDS, times=TRAINS):
    np.testing.assert_array_equal(trains.unit_ids, ids)
    assert trains.unit_ids.dtype == np.int64
    assert len(trains.times) == len(times)
    for train, expected in zip(trains.times, times):
        assert train.dtype == np.float64 and train.ndim == 1
        np.testing.assert_array_equal(train, expected)
    assert trains.per_trial is False


def test_units_round_trip(nwb_file):
    trains = read_nwb_units(nwb_file)
    _assert_units(trains)
    assert trains.labels == ("good", "", "mua")


def test_units_label_column(tmp_path):
    path = _write(tmp_path / "ks.nwb", quality=False, ks_label=True)
    assert read_nwb_units(path).labels == ("mua", "good", "good")  # found by default
    assert read_nwb_units(path, label_column="KSLabel").labels == ("mua", "good", "good")
    _raises(read_nwb_units, path, label_column="cell_type",
            phrases=["'cell_type'", "'spike_times'", "'KSLabel'"])


def test_units_without_labels(tmp_path):
    path = _write(tmp_path / "plain.nwb", quality=False)
    trains = read_nwb_units(path)
    _assert_units(trains)
    assert trains.labels is None


def test_file_without_units(tmp_path):
    path = _write(tmp_path / "nounits.nwb", units=False)
    _raises(read_nwb_units, path, phrases=["has no Units table (nwbfile.units is empty)"])


def test_non_finite_spike_time_names_the_unit(tmp_path):
    from pynwb import NWBHDF5IO, NWBFile

    nwb = NWBFile(session_description="nan", identifier="nan", session_start_time=START)
    nwb.add_unit(spike_times=[0.1, 0.2], id=8)
    nwb.add_unit(spike_times=[0.3, np.nan], id=17)
    path = tmp_path / "nan.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    _raises(read_nwb_units, path, phrases=["unit 17 (row 1 of the Units table)", "non-finite"])


def test_not_an_nwb_file(tmp_path):
    path = tmp_path / "junk.nwb"
    path.write_bytes(b"not hdf5 at all")
    _raises(read_nwb_units, path, phrases=["NWB"])


# --- read_nwb_stimulus -------------------------------------------------------------------


def test_stimulus_with_timestamps(nwb_file):
    stimulus = read_nwb_stimulus(nwb_file)
    assert isinstance(stimulus, NwbStimulus) and stimulus.name == "white_noise"
    assert stimulus.frames.dtype == np.uint8
    np.testing.assert_array_equal(stimulus.frames, FRAMES)
    assert stimulus.timestamps.dtype == np.float64
    np.testing.assert_array_equal(stimulus.timestamps, FRAME_TIMES)
    assert stimulus.rate is None and stimulus.starting_time is None


def test_regular_stimulus_and_choice_by_name(tmp_path):
    path = _write(tmp_path / "two.nwb", stimuli=("white_noise", "checkers"), regular=True)
    _raises(read_nwb_stimulus, path, phrases=["2 stimuli", "'white_noise'", "'checkers'"])
    _raises(read_nwb_stimulus, path, "gratings", phrases=["'gratings'", "'checkers'"])
    stimulus = read_nwb_stimulus(path, "checkers")
    assert stimulus.name == "checkers"
    np.testing.assert_array_equal(stimulus.frames, FRAMES)
    assert stimulus.timestamps is None
    assert stimulus.starting_time == 0.5 and stimulus.rate == 30.0


def test_no_stimulus(tmp_path):
    path = _write(tmp_path / "nostim.nwb", stimuli=())
    _raises(read_nwb_stimulus, path, phrases=["has no stimulus"])


# --- read_nwb_intervals ------------------------------------------------------------------


def test_intervals(tmp_path, nwb_file):
    start, stop = read_nwb_intervals(nwb_file)
    assert start.dtype == np.float64 and stop.dtype == np.float64
    np.testing.assert_array_equal(start, [0.0, 1.5])
    np.testing.assert_array_equal(stop, [1.0, 2.75])

    path = _write(tmp_path / "one.nwb", trials=False, intervals=("blocks",))
    start, stop = read_nwb_intervals(path)  # the only table
    np.testing.assert_array_equal(start, [3.0])
    np.testing.assert_array_equal(stop, [4.0])

    assert read_nwb_intervals(_write(tmp_path / "none.nwb", trials=False)) is None

    path = _write(tmp_path / "two.nwb", trials=False, intervals=("blocks", "runs"))
    _raises(read_nwb_intervals, path, phrases=["'blocks'", "'runs'"])
    np.testing.assert_array_equal(read_nwb_intervals(path, "runs")[1], [4.0])
    _raises(read_nwb_intervals, path, "trials", phrases=["'trials'", "'blocks'"])


# --- write_nwb_session -------------------------------------------------------------------


def _session(path, **changes):
    arguments = dict(
        unit_ids=UNIT_IDS, spike_trains=TRAINS, stimulus_frames=FRAMES, frame_times=FRAME_TIMES,
        labels=["good", "noise", ""], trials=(np.array([0.0, 0.5]), np.array([0.4, 0.9])),
    )
    arguments.update(changes)
    write_nwb_session(path, **arguments)
    return path


def test_write_then_read_back(tmp_path):
    path = _session(tmp_path / "out.nwb")
    assert os.listdir(tmp_path) == ["out.nwb"]  # no temporary left behind
    trains = read_nwb_units(path)
    _assert_units(trains)
    assert trains.labels == ("good", "noise", "")
    stimulus = read_nwb_stimulus(path)
    assert stimulus.name == "white_noise" and stimulus.frames.dtype == np.uint8
    np.testing.assert_array_equal(stimulus.frames, FRAMES)
    np.testing.assert_array_equal(stimulus.timestamps, FRAME_TIMES)
    start, stop = read_nwb_intervals(path)
    np.testing.assert_array_equal(start, [0.0, 0.5])
    np.testing.assert_array_equal(stop, [0.4, 0.9])
    # a real NWB file: valid against the schema, and pynwb itself reads it
    assert pynwb.validate(path=str(path)) == []
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert nwb.identifier == "sparsefield"
        np.testing.assert_array_equal(nwb.units["spike_times"][0], TRAINS[0])


def test_write_is_deterministic(tmp_path):
    first = _session(tmp_path / "a.nwb")
    time.sleep(1.1)  # HDF5 object times have one-second resolution
    second = _session(tmp_path / "b.nwb")
    digest = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (first, second)]
    assert digest[0] == digest[1]
    other = _session(tmp_path / "c.nwb", identifier="another-session")
    assert hashlib.sha256(other.read_bytes()).hexdigest() != digest[0]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = _session(tmp_path / "out.nwb")
    before = path.read_bytes()

    def broken_write(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):
        _session(path, labels=None)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.nwb"]


def test_write_refuses_mismatched_inputs(tmp_path):
    path = tmp_path / "bad.nwb"
    _raises(_session, path, labels=["good"], source="labels", phrases=["3 strings"])
    _raises(_session, path, frame_times=FRAME_TIMES[:-1], source="frame_times",
            phrases=["4 times", "5 frames"])
    _raises(_session, path, spike_trains=TRAINS[:2], source="spike_trains",
            phrases=["2 trains", "3 ids"])
    _raises(_session, path, unit_ids=[4, 4, 2], source="unit_ids", phrases=["unit id 4"])
    _raises(_session, path, trials=([0.0, 1.0], [0.5, 0.9]), source="trials",
            phrases=["trial 1 (0-based)"])
    assert not path.exists()

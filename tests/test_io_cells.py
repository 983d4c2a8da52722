"""Tests for sparsefield.io.cells: MATLAB cell arrays (v5 and v7.3) and unit-indexed .npz."""

import h5py
import numpy as np
import pytest
import scipy.io

from sparsefield.errors import InputError
from sparsefield.io.cells import SpikeTrains, read_spike_cells, read_trial_cells, read_units_npz

# --- writing fixtures in each format's own layout ---------------------------------------


def _cell(shape, elements):
    """Object ndarray of MATLAB shape ``shape`` filled in C order from ``elements``."""
    cell = np.empty(shape, dtype=object)
    for index, element in zip(np.ndindex(*shape), elements):
        cell[index] = element
    return cell


class _Struct(dict):
    """A MATLAB struct element for the v7.3 writer (field name -> numeric array)."""


def _save_mat73(path, variables):
    """Write a file the way MATLAB's ``save -v7.3`` does.

    HDF5 with a 512-byte userblock holding MATLAB's text header.  Numeric arrays
    are stored with their axes reversed (MATLAB is column-major) and a
    MATLAB_class; an empty array is stored as its size vector with
    MATLAB_empty = 1.  A cell is a dataset of object references (axes reversed
    too) to datasets in the ``#refs#`` group; a struct element is a group with
    MATLAB_class 'struct'; text is uint16 with MATLAB_class 'char'.
    """
    classes = {np.dtype(np.float64): "double", np.dtype(np.int32): "int32",
               np.dtype(np.uint8): "uint8"}
    with h5py.File(path, "w", userblock_size=512) as handle:
        refs = handle.create_group("#refs#")
        empty = refs.create_dataset("a", data=np.zeros(2, dtype=np.uint64))
        empty.attrs["MATLAB_class"] = np.bytes_("canonical empty")
        empty.attrs["MATLAB_empty"] = np.uint8(1)
        counter = iter(range(1, 10_000))

        def write(group, name, value):
            if isinstance(value, _Struct):
                node = group.create_group(name)
                node.attrs["MATLAB_class"] = np.bytes_("struct")
                for field, array in value.items():
                    write(node, field, array)
                return node
            if isinstance(value, str):
                node = group.create_dataset(
                    name, data=np.array([[ord(char)] for char in value], dtype=np.uint16))
                node.attrs["MATLAB_class"] = np.bytes_("char")
                node.attrs["MATLAB_int_decode"] = np.int32(2)
                return node
            if value.dtype == object:
                references = np.empty(value.shape[::-1], dtype=h5py.ref_dtype)
                for index in np.ndindex(*value.shape):
                    target = write(refs, f"r{next(counter)}", value[index])
                    references[index[::-1]] = target.ref
                node = group.create_dataset(name, data=references, dtype=h5py.ref_dtype)
                node.attrs["MATLAB_class"] = np.bytes_("cell")
                return node
            if value.size == 0:
                node = group.create_dataset(name, data=np.array(value.shape[::-1], dtype=np.uint64))
                node.attrs["MATLAB_class"] = np.bytes_(classes[value.dtype])
                node.attrs["MATLAB_empty"] = np.uint8(1)
                return node
            node = group.create_dataset(name, data=np.ascontiguousarray(value.T))
            node.attrs["MATLAB_class"] = np.bytes_(classes[value.dtype])
            return node

        for key, value in variables.items():
            write(handle, key, value)
    text = (b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Nov 23 12:00:00 2026 "
            b"HDF5 schema 1.00 .")
    header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as handle:
        handle.write(header.ljust(512, b"\x00"))


def _save(path, variables, version):
    if version == "v5":
        scipy.io.savemat(path, variables, format="5")
    else:
        _save_mat73(path, variables)
    return str(path)


def _trains():
    """Three trains in MATLAB shapes: a column, a row of int32, an empty 0x0."""
    return [
        np.array([[0.5], [0.125], [3.75]]),
        np.array([[1, 4, 9, 16]], dtype=np.int32),
        np.zeros((0, 0)),
    ]


EXPECTED = [np.array([0.5, 0.125, 3.75]), np.array([1.0, 4.0, 9.0, 16.0]), np.zeros(0)]

VERSIONS = ["v5", "v7.3"]


def _assert_trains(actual, expected):
    assert len(actual) == len(expected)
    for train, wanted in zip(actual, expected):
        assert train.dtype == np.float64 and train.ndim == 1
        np.testing.assert_array_equal(train, wanted)


# --- read_spike_cells --------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("shape", [(1, 3), (3, 1)])
def test_vector_cell_gives_one_unit_per_cell(tmp_path, version, shape):
    path = _save(tmp_path / "spikes.mat", {"spikes": _cell(shape, _trains())}, version)
    trains = read_spike_cells(path, "spikes")
    assert isinstance(trains, SpikeTrains)
    assert trains.unit_ids.dtype == np.int64
    np.testing.assert_array_equal(trains.unit_ids, [1, 2, 3])
    _assert_trains(trains.times, EXPECTED)
    assert trains.labels is None and trains.per_trial is False


@pytest.mark.parametrize("version", VERSIONS)
def test_units_by_trials_cell(tmp_path, version):
    # 2 units x 3 trials; the value encodes (unit, trial) so a transposition would show.
    elements = [np.array([[10.0 * unit + trial, 100.0 + unit]]) for unit in (1, 2)
                for trial in (1, 2, 3)]
    elements[4] = np.zeros((0, 0))  # unit 2 fired nothing in trial 2
    path = _save(tmp_path / "trials.mat", {"spikes": _cell((2, 3), elements)}, version)
    trains = read_spike_cells(path, "spikes")
    assert trains.per_trial is True
    np.testing.assert_array_equal(trains.unit_ids, [1, 2])
    assert len(trains.times) == 2 and all(len(unit) == 3 for unit in trains.times)
    for unit in (1, 2):
        for trial in (1, 2, 3):
            expected = [] if (unit, trial) == (2, 2) else [10.0 * unit + trial, 100.0 + unit]
            np.testing.assert_array_equal(trains.times[unit - 1][trial - 1], expected)


@pytest.mark.parametrize("version", VERSIONS)
def test_plain_vector_is_one_unit(tmp_path, version):
    path = _save(tmp_path / "one.mat", {"spikes": np.array([[0.25], [0.5], [2.0]])}, version)
    trains = read_spike_cells(path, "spikes")
    np.testing.assert_array_equal(trains.unit_ids, [1])
    _assert_trains(trains.times, [np.array([0.25, 0.5, 2.0])])
    assert trains.per_trial is False


def test_version_is_sniffed_from_content_not_extension(tmp_path):
    v73 = _save(tmp_path / "spikes.bin", {"spikes": _cell((1, 3), _trains())}, "v7.3")
    assert open(v73, "rb").read(19) == b"MATLAB 7.3 MAT-file"
    _assert_trains(read_spike_cells(v73, "spikes").times, EXPECTED)
    v5 = tmp_path / "spikes.h5"
    scipy.io.savemat(v5, {"spikes": _cell((1, 3), _trains())}, format="5")
    _assert_trains(read_spike_cells(v5, "spikes").times, EXPECTED)


def _raises(function, path, *args, phrases):
    with pytest.raises(InputError) as caught:
        function(path, *args)
    message = str(caught.value)
    assert caught.value.source == str(path), message
    for phrase in phrases:
        assert phrase in message, message
    return message


@pytest.mark.parametrize("version", VERSIONS)
def test_matrix_element_names_file_key_and_cell(tmp_path, version):
    elements = _trains()
    elements[1] = np.arange(8.0).reshape(2, 4)
    path = _save(tmp_path / "bad.mat", {"spikes": _cell((1, 3), elements)}, version)
    _raises(read_spike_cells, path, "spikes",
            phrases=["spikes{2} (unit 2)", "2x4 matrix", "not a vector of spike times"])


@pytest.mark.parametrize("version", VERSIONS)
def test_struct_element_is_refused(tmp_path, version):
    elements = _trains()
    if version == "v5":
        struct = np.empty((1, 1), dtype=[("times", object)])
        struct[0, 0]["times"] = np.array([[1.0]])
        elements[2] = struct
    else:
        elements[2] = _Struct(times=np.array([[1.0]]))
    path = _save(tmp_path / "struct.mat", {"spikes": _cell((1, 3), elements)}, version)
    _raises(read_spike_cells, path, "spikes", phrases=["spikes{3} (unit 3)", "struct"])


@pytest.mark.parametrize("version", VERSIONS)
def test_text_element_is_refused(tmp_path, version):
    elements = _trains()
    elements[0] = "abc"
    path = _save(tmp_path / "text.mat", {"spikes": _cell((3, 1), elements)}, version)
    _raises(read_spike_cells, path, "spikes", phrases=["spikes{1} (unit 1)", "text"])


@pytest.mark.parametrize("version", VERSIONS)
def test_non_finite_spike_time_is_refused(tmp_path, version):
    elements = _trains()
    elements[1] = np.array([[1.0, np.nan, 2.0]])
    path = _save(tmp_path / "nan.mat", {"spikes": _cell((1, 3), elements)}, version)
    _raises(read_spike_cells, path, "spikes",
            phrases=["spikes{2} (unit 2)", "non-finite", "value 1 (0-based)"])


def test_per_trial_element_names_unit_and_trial(tmp_path):
    elements = [np.array([[1.0]])] * 6
    elements[5] = np.ones((3, 2))
    path = _save(tmp_path / "bad.mat", {"spikes": _cell((2, 3), elements)}, "v5")
    _raises(read_spike_cells, path, "spikes", phrases=["spikes{2,3} (unit 2, trial 3)", "3x2"])


@pytest.mark.parametrize("version", VERSIONS)
def test_missing_key_lists_variables(tmp_path, version):
    path = _save(tmp_path / "keys.mat",
                 {"spikes": _cell((1, 3), _trains()), "stim": np.ones((2, 2))}, version)
    _raises(read_spike_cells, path, "spike_times",
            phrases=["'spike_times'", "'spikes'", "'stim'"])


def test_matrix_variable_is_refused(tmp_path):
    path = _save(tmp_path / "matrix.mat", {"spikes": np.ones((3, 4))}, "v5")
    _raises(read_spike_cells, path, "spikes", phrases=["variable 'spikes'", "3x4 matrix"])


def test_missing_file(tmp_path):
    _raises(read_spike_cells, tmp_path / "absent.mat", "spikes", phrases=["not found"])


# --- read_trial_cells --------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_trial_cells_round_trip(tmp_path, version):
    path = _save(tmp_path / "triggers.mat", {"triggers": _cell((1, 3), _trains())}, version)
    trials = read_trial_cells(path, "triggers")
    assert isinstance(trials, tuple)
    _assert_trains(trials, EXPECTED)


def test_trial_cells_plain_vector_is_one_trial(tmp_path):
    path = _save(tmp_path / "triggers.mat", {"triggers": np.array([[0.1, 0.2, 0.3]])}, "v7.3")
    trials = read_trial_cells(path, "triggers")
    assert len(trials) == 1
    np.testing.assert_array_equal(trials[0], [0.1, 0.2, 0.3])


def test_trial_cells_refuse_two_dimensional_cell_and_bad_element(tmp_path):
    path = _save(tmp_path / "grid.mat",
                 {"triggers": _cell((2, 2), [np.array([[1.0]])] * 4)}, "v5")
    _raises(read_trial_cells, path, "triggers", phrases=["'triggers'", "2x2 cell"])
    elements = _trains()
    elements[2] = np.ones((2, 2))
    path = _save(tmp_path / "bad.mat", {"triggers": _cell((1, 3), elements)}, "v7.3")
    _raises(read_trial_cells, path, "triggers", phrases=["triggers{3} (trial 3)", "2x2 matrix"])


# --- read_units_npz ----------------------------------------------------------------------


def test_units_npz_round_trip(tmp_path):
    times = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2])
    units = np.array([7, 3, 7, 12, 3, 7], dtype=np.int32)
    path = tmp_path / "units.npz"
    np.savez(path, spike_times=times, units=units)
    trains = read_units_npz(path, "spike_times", "units")
    np.testing.assert_array_equal(trains.unit_ids, [3, 7, 12])
    # file order within each unit, not sorted
    _assert_trains(trains.times, [np.array([0.1, 0.7]), np.array([0.9, 0.5, 0.2]),
                                  np.array([0.3])])
    assert trains.labels is None and trains.per_trial is False


def test_units_npz_accepts_whole_float_index_and_column_vectors(tmp_path):
    path = tmp_path / "units.npz"
    np.savez(path, t=np.array([[1.0], [2.0], [3.0]]), u=np.array([[2.0, 1.0, 2.0]]))
    trains = read_units_npz(path, "t", "u")
    np.testing.assert_array_equal(trains.unit_ids, [1, 2])
    _assert_trains(trains.times, [np.array([2.0]), np.array([1.0, 3.0])])


def test_units_npz_bad_input(tmp_path):
    path = tmp_path / "units.npz"
    np.savez(path, t=np.arange(4.0), u=np.array([1, 1, 2]))
    _raises(read_units_npz, path, "t", "u", phrases=["'t' has 4", "'u' has 3"])
    np.savez(path, t=np.arange(3.0), u=np.array([1.0, 1.5, 2.0]))
    _raises(read_units_npz, path, "t", "u", phrases=["unit index 1 (0-based)", "1.5",
                                                     "not a whole number"])
    np.savez(path, t=np.array([0.1, np.inf]), u=np.array([4, 5]))
    _raises(read_units_npz, path, "t", "u", phrases=["spike 1 (0-based, unit 5)", "inf"])
    np.savez(path, t=np.array([0.1, "x"], dtype=object), u=np.array([1, 1]))
    _raises(read_units_npz, path, "t", "u", phrases=["object array"])
    np.savez(path, t=np.arange(2.0), u=np.array([1, 1]))
    _raises(read_units_npz, path, "times", "u", phrases=["'times'", "'t'", "'u'"])

"""Reproducible files: .npz archives and MAT files carry no dates, so the same arrays
give the same bytes."""

import hashlib
import zipfile

import numpy as np
import pytest
import scipy.io

from sparsefield._files import ZIP_DATE_TIME
from sparsefield.io import read_variables, save_npz, save_raw_mat
from sparsefield.io.writers import MAT_DESCRIPTION


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


ARRAYS = {
    "weights": np.arange(12.0).reshape(3, 4),
    "lags": np.array([0, 1, 2]),
    "label": np.str_("sim_gauss µ"),
    "converged": np.asarray(True),
    "n_iter": np.asarray(7, dtype=np.int64),
}


@pytest.mark.parametrize("compress", [False, True])
def test_save_npz_round_trips_without_pickle(tmp_path, compress):
    path = tmp_path / "fit.npz"
    save_npz(path, ARRAYS, compress=compress)
    with np.load(path, allow_pickle=False) as loaded:
        assert sorted(loaded.files) == sorted(ARRAYS)
        for name, value in ARRAYS.items():
            np.testing.assert_array_equal(loaded[name], value)
            assert loaded[name].dtype == np.asarray(value).dtype


def test_save_npz_bytes_depend_only_on_the_arrays(tmp_path, monkeypatch):
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    save_npz(first, ARRAYS)
    # Another time of day and another insertion order give the same bytes.
    monkeypatch.setattr("time.time", lambda: 2_000_000_000.0)
    save_npz(second, dict(reversed(list(ARRAYS.items()))))
    assert _digest(first) == _digest(second)
    with zipfile.ZipFile(first) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == sorted(f"{name}.npy" for name in ARRAYS)
    assert {info.date_time for info in infos} == {ZIP_DATE_TIME}


def test_save_npz_refuses_objects_and_leaves_no_file(tmp_path):
    path = tmp_path / "bad.npz"
    with pytest.raises(ValueError):
        save_npz(path, {"objects": np.array([{"a": 1}], dtype=object)})
    assert list(tmp_path.iterdir()) == []


def test_save_raw_mat_has_a_fixed_header_and_reads_back(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    spikes, triggers = np.sort(rng.uniform(0, 10, 50)), np.arange(0.0, 10.0, 0.2)
    stimulus = rng.integers(0, 2, (4, 3, 50)).astype(np.uint8)
    first, second = tmp_path / "a.mat", tmp_path / "b.mat"
    save_raw_mat(first, spikes, triggers, stimulus)
    monkeypatch.setattr("time.asctime", lambda *args: "Thu Jan  1 00:00:00 2099")
    save_raw_mat(second, spikes, triggers, stimulus)
    assert _digest(first) == _digest(second)
    header = first.read_bytes()[:116]
    assert header == MAT_DESCRIPTION.encode().ljust(116, b" ")
    assert scipy.io.loadmat(first)["__header__"] == MAT_DESCRIPTION.encode()
    variables = read_variables(first, "mat", ("DN_spiketimes", "DN_triggertimes", "DN_stim"))
    np.testing.assert_array_equal(np.ravel(variables["DN_spiketimes"]), spikes)

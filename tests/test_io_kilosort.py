"""Tests for sparsefield.io.kilosort: Kilosort/Phy folders and event-time files."""

import os

import numpy as np
import pytest
import scipy.io

from sparsefield.errors import InputError
from sparsefield.io.kilosort import KilosortFolder, read_event_times, read_kilosort, read_params

SAMPLE_RATE = 30000.0

# Kilosort's params.py, as written by Kilosort 2.5 / Phy (one assignment per line).
PARAMS = """dat_path = r'C:\\data\\session\\continuous.dat'
n_channels_dat = 385
dtype = 'int16'
offset = 0
sample_rate = 30000.
hp_filtered = False
"""


def _write_folder(folder, samples, clusters, *, params=PARAMS, labels=(), templates=False):
    """A Kilosort/Phy output folder.

    ``labels``: ``(file name, column, {cluster: label})`` triples written as
    tab-separated tables the way Phy writes them.  ``templates``: store the
    clusters as spike_templates.npy (uncurated output) instead of spike_clusters.npy.
    """
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "spike_times.npy"), samples)
    np.save(os.path.join(folder, "spike_templates.npy" if templates else "spike_clusters.npy"),
            clusters)
    if params is not None:
        with open(os.path.join(folder, "params.py"), "w") as handle:
            handle.write(params)
    for file_name, column, table in labels:
        with open(os.path.join(folder, file_name), "w") as handle:
            handle.write(f"cluster_id\t{column}\n")
            for cluster, label in table.items():
                handle.write(f"{cluster}\t{label}\n")
    return str(folder)


@pytest.fixture
def spikes():
    """Spike samples (uint64, (n, 1) as Kilosort 2 saves them) and clusters (int32)."""
    samples = np.array([[12], [30], [31], [450], [900], [1_000_001], [2_500_000]], dtype=np.uint64)
    clusters = np.array([5, 2, 5, 9, 2, 5, 9], dtype=np.int32)
    return samples, clusters


def _expected(samples, clusters, sample_rate=SAMPLE_RATE):
    """Trains in seconds written out by a loop over spikes."""
    trains = {}
    for sample, cluster in zip(samples.reshape(-1), clusters):
        trains.setdefault(int(cluster), []).append(float(sample) / sample_rate)
    return trains


def test_round_trip_with_cluster_group(tmp_path, spikes):
    samples, clusters = spikes
    folder = _write_folder(tmp_path / "ks", samples, clusters,
                           labels=[("cluster_group.tsv", "group", {2: "good", 9: "mua", 77: "noise"})])
    result = read_kilosort(folder)
    assert isinstance(result, KilosortFolder)
    assert result.sample_rate == SAMPLE_RATE and result.folder == folder
    assert result.cluster_file == "spike_clusters.npy"
    trains = result.trains
    np.testing.assert_array_equal(trains.unit_ids, [2, 5, 9])
    assert trains.unit_ids.dtype == np.int64
    expected = _expected(samples, clusters)
    for unit_id, train in zip(trains.unit_ids, trains.times):
        assert train.dtype == np.float64
        np.testing.assert_array_equal(train, expected[int(unit_id)])
    assert trains.labels == ("good", "", "mua")  # cluster 5 has no row
    assert trains.per_trial is False


def test_cluster_group_preferred_over_kslabel(tmp_path, spikes):
    samples, clusters = spikes
    folder = _write_folder(tmp_path / "ks", samples, clusters, labels=[
        ("cluster_KSLabel.tsv", "KSLabel", {2: "mua", 5: "good", 9: "good"}),
        ("cluster_group.tsv", "group", {2: "good", 5: "noise", 9: "mua"}),
    ])
    assert read_kilosort(folder).trains.labels == ("good", "noise", "mua")


def test_kslabel_only_and_no_labels(tmp_path, spikes):
    samples, clusters = spikes
    ks_labels = ("cluster_KSLabel.tsv", "KSLabel", {2: "mua", 5: "good", 9: "good"})
    folder = _write_folder(tmp_path / "ks", samples, clusters, labels=[ks_labels])
    assert read_kilosort(folder).trains.labels == ("mua", "good", "good")
    bare = _write_folder(tmp_path / "bare", samples, clusters)
    assert read_kilosort(bare).trains.labels is None


def test_int64_vector_times_and_template_fallback(tmp_path, spikes):
    samples, clusters = spikes
    samples = samples.reshape(-1).astype(np.int64)
    folder = _write_folder(tmp_path / "ks", samples, clusters.astype(np.uint32), templates=True,
                           params="sample_rate = 20000\n")
    result = read_kilosort(folder)
    assert result.cluster_file == "spike_templates.npy"
    assert result.sample_rate == 20000.0
    expected = _expected(samples, clusters, 20000.0)
    np.testing.assert_array_equal(result.trains.unit_ids, sorted(expected))
    for unit_id, train in zip(result.trains.unit_ids, result.trains.times):
        np.testing.assert_array_equal(train, expected[int(unit_id)])


def test_params_py_is_parsed_never_executed(tmp_path):
    marker = tmp_path / "EXECUTED"
    path = tmp_path / "params.py"
    path.write_text(
        "import os\n"
        f"side_effect = __import__('os').makedirs({str(marker)!r})\n"
        "sample_rate = 25000.0  \n"
        "channels = [1, 2,\n"
        "  3]\n"
        "name = 'probe A'\n"
        "a = b = 3\n"
    )
    params = read_params(path)
    assert not marker.exists()
    assert params == {"sample_rate": 25000.0, "name": "probe A"}


def _raises(function, *args, source, phrases, **kwargs):
    with pytest.raises(InputError) as caught:
        function(*args, **kwargs)
    message = str(caught.value)
    assert caught.value.source == str(source), message
    for phrase in phrases:
        assert phrase in message, message
    return message


def test_folder_errors(tmp_path, spikes):
    samples, clusters = spikes
    _raises(read_kilosort, tmp_path / "absent", source=tmp_path / "absent", phrases=["not found"])
    (tmp_path / "file").write_text("x")
    _raises(read_kilosort, tmp_path / "file", source=tmp_path / "file", phrases=["not a"])
    folder = _write_folder(tmp_path / "noparams", samples, clusters, params=None)
    _raises(read_kilosort, folder, source=folder,
            phrases=["has no params.py; Kilosort/Phy folders store sample_rate there"])


@pytest.mark.parametrize("params, phrase", [
    ("dat_path = 'x.dat'\n", "has no line 'sample_rate"),
    ("sample_rate = 0\n", "sample_rate is 0"),
    ("sample_rate = 'fast'\n", "sample_rate is 'fast'"),
])
def test_bad_sample_rate(tmp_path, spikes, params, phrase):
    samples, clusters = spikes
    folder = _write_folder(tmp_path / "ks", samples, clusters, params=params)
    _raises(read_kilosort, folder, source=os.path.join(folder, "params.py"), phrases=[phrase])


def test_spike_file_errors(tmp_path, spikes):
    samples, clusters = spikes
    folder = _write_folder(tmp_path / "short", samples, clusters[:-1])
    _raises(read_kilosort, folder, source=os.path.join(folder, "spike_clusters.npy"),
            phrases=["6 cluster ids", "7 spikes"])
    folder = _write_folder(tmp_path / "negative", np.array([3, -4, 5]), np.array([1, 1, 1]))
    _raises(read_kilosort, folder, source=os.path.join(folder, "spike_times.npy"),
            phrases=["spike 1 (0-based)", "-4", ">= 0"])
    folder = _write_folder(tmp_path / "fraction", np.array([3.0, 4.5]), np.array([1, 1]))
    _raises(read_kilosort, folder, source=os.path.join(folder, "spike_times.npy"),
            phrases=["spike 1 (0-based)", "4.5", "not a whole number"])
    folder = _write_folder(tmp_path / "object", np.array([3, "x"], dtype=object), np.array([1, 1]))
    _raises(read_kilosort, folder, source=os.path.join(folder, "spike_times.npy"),
            phrases=["object array"])
    folder = _write_folder(tmp_path / "matrix", np.zeros((3, 2), dtype=np.int64), np.array([1, 1, 1]))
    _raises(read_kilosort, folder, source=os.path.join(folder, "spike_times.npy"),
            phrases=["3x2 matrix"])


def test_label_file_without_its_column(tmp_path, spikes):
    samples, clusters = spikes
    folder = _write_folder(tmp_path / "ks", samples, clusters,
                           labels=[("cluster_group.tsv", "label", {2: "good"})])
    _raises(read_kilosort, folder, source=os.path.join(folder, "cluster_group.tsv"),
            phrases=["no column 'group'", "'label'"])


# --- read_event_times --------------------------------------------------------------------


def test_event_times_from_npy_samples(tmp_path):
    path = tmp_path / "sync.npy"
    np.save(path, np.array([[300], [600], [1500]], dtype=np.uint64))
    times = read_event_times(path, unit="samples", sample_rate=3000.0)
    assert times.dtype == np.float64
    np.testing.assert_array_equal(times, [300 / 3000.0, 600 / 3000.0, 1500 / 3000.0])


def test_event_times_from_text_in_ms(tmp_path):
    path = tmp_path / "frames.txt"
    path.write_text("# frame onsets\n100\n250.5\n400\n")
    np.testing.assert_array_equal(read_event_times(path, unit="ms"),
                                  [100 * 1e-3, 250.5 * 1e-3, 400 * 1e-3])
    csv = tmp_path / "frames.csv"
    csv.write_text("0.1,0.2,0.35\n")
    np.testing.assert_array_equal(read_event_times(csv), [0.1, 0.2, 0.35])


def test_event_times_from_mat_and_npz(tmp_path):
    mat = tmp_path / "sync.mat"
    scipy.io.savemat(mat, {"frame_times": np.array([[0.5], [1.0]]), "other": np.ones(3)})
    np.testing.assert_array_equal(read_event_times(mat, key="frame_times"), [0.5, 1.0])
    _raises(read_event_times, mat, source=mat, phrases=["2 variables", "'frame_times'", "'other'"])
    npz = tmp_path / "sync.npz"
    np.savez(npz, onsets=np.array([1.5, 2.5]))
    np.testing.assert_array_equal(read_event_times(npz), [1.5, 2.5])  # the only array


def test_event_time_errors(tmp_path):
    path = tmp_path / "sync.npy"
    np.save(path, np.array([0.1, np.nan]))
    _raises(read_event_times, path, source=path, phrases=["non-finite", "value 1 (0-based)"])
    _raises(read_event_times, path, unit="samples", source="sample_rate", phrases=["required"])
    _raises(read_event_times, path, unit="s", sample_rate=1000.0, source="sample_rate",
            phrases=["unit='samples'"])
    _raises(read_event_times, path, unit="minutes", source="unit", phrases=["'minutes'"])
    odd = tmp_path / "sync.bin"
    odd.write_bytes(b"\x00")
    _raises(read_event_times, odd, source=odd, phrases=["'.bin'"])

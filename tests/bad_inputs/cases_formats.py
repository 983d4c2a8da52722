"""Corpus cases: lab formats that cannot be used as given (NWB written with pynwb,
Kilosort/Phy folders written in Kilosort's layout, .npz, text, unknown files).  One row
each, all run together (see _corpus.py)."""

import datetime

import numpy as np
import scipy.io

from _corpus import Case

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
PARAMS = "dat_path = 'continuous.dat'\nn_channels_dat = 385\ndtype = 'int16'\noffset = 0\nsample_rate = 30000.\nhp_filtered = False\n"


def _timing(rng, n_frames=300):
    """Frame times (jittered 0.2 s), a 6x5 binary stimulus with 10 spare frames, and
    three units' spike times inside the frames."""
    triggers = np.cumsum(rng.normal(0.2, 0.02, n_frames))
    stimulus = rng.integers(0, 2, (6, 5, n_frames + 10)).astype(np.uint8)
    trains = [np.sort(rng.uniform(0.5, triggers[-1], count)) for count in (300, 200, 120)]
    return triggers, stimulus, trains


def _nwb(units=True, stimuli=("white_noise",), labels=False, nan_unit=False, **row):
    """make(): an NWB file written with pynwb (Units table, ImageSeries stimuli with
    timestamps)."""
    def make(folder, rng):
        from pynwb import NWBHDF5IO, NWBFile
        from pynwb.image import ImageSeries

        triggers, stimulus, trains = _timing(rng)
        nwb = NWBFile(session_description="corpus", identifier="corpus", session_start_time=START)
        for name in stimuli:
            nwb.add_stimulus(ImageSeries(name=name, data=stimulus[:, :, :300].transpose(2, 0, 1),
                                         unit="n.a.", timestamps=triggers))
        if units:
            if labels:
                nwb.add_unit_column("quality", "curation label")
            for unit_id, train in zip((4, 9, 17), trains):
                if nan_unit and unit_id == 17:
                    train = np.append(train, np.nan)
                extra = {"quality": "mua"} if labels else {}
                nwb.add_unit(spike_times=train, id=unit_id, **extra)
        with NWBHDF5IO(str(folder / "session.nwb"), "w") as io:
            io.write(nwb)
        return {"spikes_file": "session.nwb", **row}
    return make


def _junk_nwb(folder, rng):
    (folder / "session.nwb").write_bytes(b"not an HDF5 file at all")
    return {"spikes_file": "session.nwb"}


def _kilosort(params=PARAMS, clusters_cut=0, stimulus=True, **row):
    """make(): a Kilosort/Phy folder (spike_times.npy in samples (n, 1) uint64,
    spike_clusters.npy int32, params.py) and a .mat with the frame times and stimulus."""
    def make(folder, rng):
        triggers, movie, trains = _timing(rng)
        sorter = folder / "kilosort"
        sorter.mkdir()
        times = np.concatenate(trains)
        clusters = np.repeat(np.array([3, 11, 12], dtype=np.int32), [t.size for t in trains])
        order = np.argsort(times, kind="stable")
        samples = np.round(times[order] * 30000.0).astype(np.uint64)[:, None]
        np.save(sorter / "spike_times.npy", samples)
        np.save(sorter / "spike_clusters.npy", clusters[order][: clusters.size - clusters_cut])
        if params is not None:
            (sorter / "params.py").write_text(params)
        scipy.io.savemat(folder / "stimulus.mat", {"DN_triggertimes": triggers, "DN_stim": movie})
        out = {"spikes_file": "kilosort", "triggers_file": "stimulus.mat",
               "frame_height": 6, "frame_width": 5}
        if stimulus:
            out["stimulus_file"] = "stimulus.mat"
        out.update(row)
        return out
    return make


def _npz(variables, **row):
    """make(): an .npz of ``variables(times, units)`` beside a .mat with the frame times
    and stimulus."""
    def make(folder, rng):
        triggers, movie, trains = _timing(rng)
        times = np.concatenate(trains)
        units = np.repeat(np.arange(1, 4), [t.size for t in trains])
        np.savez(folder / "spikes.npz", **variables(times, units))
        scipy.io.savemat(folder / "stimulus.mat", {"DN_triggertimes": triggers, "DN_stim": movie})
        return {"spikes_file": "spikes.npz", "spikes_key": "times", "units_key": "units",
                "triggers_file": "stimulus.mat", "stimulus_file": "stimulus.mat",
                "frame_height": 6, "frame_width": 5, **row}
    return make


def _text_stimulus(folder, rng):
    triggers, movie, trains = _timing(rng)
    np.savetxt(folder / "spikes.txt", trains[0])
    np.savetxt(folder / "triggers.txt", triggers)
    np.savetxt(folder / "stimulus.txt", movie.reshape(-1, movie.shape[2]))
    return {"spikes_file": "spikes.txt", "triggers_file": "triggers.txt",
            "stimulus_file": "stimulus.txt", "frame_height": 6, "frame_width": 5}


def _unknown_extension(folder, rng):
    np.save(folder / "spikes.npy", _timing(rng)[2][0])
    (folder / "spikes.npy").rename(folder / "spikes.xyz")
    return {"spikes_file": "spikes.xyz", "frame_height": 6, "frame_width": 5}


def _mat(**row):
    """make(): a good single-unit .mat (save_raw_mat's layout), with sheet changes."""
    def make(folder, rng):
        triggers, movie, trains = _timing(rng)
        scipy.io.savemat(folder / "recording.mat", {"DN_spiketimes": trains[0][:, None],
                                                    "DN_triggertimes": triggers[:, None],
                                                    "DN_stim": movie})
        return {"spikes_file": "recording.mat", "frame_height": 6, "frame_width": 5, **row}
    return make


CASES = [
    Case("nwb_without_units", "row", "an NWB file (pynwb) with a stimulus but no Units table",
         _nwb(units=False), ("has no Units table",), "session.nwb"),
    Case("nwb_two_stimuli_no_key", "row",
         "an NWB file with two stimulus series and a blank stimulus_key",
         _nwb(stimuli=("noise_a", "noise_b")), ("noise_a", "noise_b"), "session.nwb"),
    Case("nwb_unknown_stimulus_key", "row", "stimulus_key names a series the NWB file lacks",
         _nwb(stimulus_key="checkers"), ("checkers",), "session.nwb"),
    Case("nwb_label_selects_nothing", "row",
         "unit_label good, but every unit of the NWB file is labelled mua",
         _nwb(labels=True, unit_label="good"), ("good",), "session.nwb"),
    Case("nwb_nan_spike_time", "row", "a NaN spike time in one unit of an NWB file",
         _nwb(nan_unit=True), ("unit 17", "non-finite"), "session.nwb"),
    Case("not_an_nwb_file", "row", "a .nwb file that is not HDF5", _junk_nwb, ("NWB",),
         "session.nwb"),
    Case("kilosort_without_params", "row", "a Kilosort folder without params.py",
         _kilosort(params=None), ("has no params.py",), "kilosort"),
    Case("kilosort_params_without_rate", "row", "params.py without sample_rate",
         _kilosort(params="dtype = 'int16'\n"), ("sample_rate",), "params.py"),
    Case("kilosort_clusters_shorter", "row",
         "spike_clusters.npy shorter than spike_times.npy",
         _kilosort(clusters_cut=5), ("spike_clusters.npy",), "kilosort"),
    Case("kilosort_without_stimulus_file", "row",
         "a Kilosort folder with the stimulus_file cell left blank",
         _kilosort(stimulus=False), ("holds no stimulus", "stimulus_file"), "recordings.tsv"),
    Case("npz_units_key_missing", "row", "units_key names an array the .npz lacks",
         _npz(lambda t, u: {"times": t, "cluster": u}), ("units",), "spikes.npz"),
    Case("npz_units_length_mismatch", "row", "a unit index shorter than the spike times",
         _npz(lambda t, u: {"times": t, "units": u[:-3]}), ("units",), "spikes.npz"),
    Case("npz_object_array", "row", "spike times stored as a pickled object array in .npz",
         _npz(lambda t, u: {"times": np.array([t[:10], t[10:25]], dtype=object), "units": u}),
         ("times",), "spikes.npz"),
    Case("text_stimulus", "row", "the stimulus given as a text file",
         _text_stimulus, ("text",), "stimulus.txt"),
    Case("unknown_extension", "row", "a spikes file with an unknown extension",
         _unknown_extension, ("cannot tell the file format",), "spikes.xyz"),
    Case("samples_without_sample_rate", "row", "time_unit samples and no sample_rate",
         _mat(time_unit="samples"), ("sample_rate",), "recordings.tsv"),
    Case("stimulus_axes_disagree", "row", "stimulus_axes tp for a 3-D stimulus",
         _mat(stimulus_axes="tp"), ("stimulus_axes",), "recording.mat"),
    Case("frame_rate_and_triggers_file", "row",
         "both a frame_rate and a triggers_file: which gives the frame times?",
         _mat(frame_rate=5.0, triggers_file="recording.mat"), ("frame_rate", "triggers_file"),
         "recordings.tsv"),
]

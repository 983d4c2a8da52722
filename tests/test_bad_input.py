"""Bad raw input, run through the workflow: one clear message naming the file and the
problem, a non-zero exit, and no output left for that recording."""

import numpy as np
import pandas as pd
import pytest
import scipy.io

from conftest import copy_workflow, run_snakemake
from sparsefield.io import save_raw_mat

pytestmark = pytest.mark.workflow


def _good(rng):
    triggers = np.cumsum(rng.normal(0.2, 0.02, 300))
    spikes = np.sort(rng.uniform(0.5, triggers[-1], 400))
    stimulus = rng.integers(0, 2, (6, 5, 310)).astype(np.uint8)
    return spikes, triggers, stimulus


def _nonmonotonic(path, rng):
    spikes, triggers, stimulus = _good(rng)
    triggers[100] = triggers[98]
    save_raw_mat(path, spikes, triggers, stimulus)


def _nan_spike(path, rng):
    spikes, triggers, stimulus = _good(rng)
    spikes[5] = np.nan
    save_raw_mat(path, spikes, triggers, stimulus)


def _negative_spike(path, rng):
    spikes, triggers, stimulus = _good(rng)
    spikes[0] = -1.5
    save_raw_mat(path, spikes, triggers, stimulus)


def _empty_spikes(path, rng):
    _, triggers, stimulus = _good(rng)
    save_raw_mat(path, np.zeros(0), triggers, stimulus)


def _too_many_triggers(path, rng):
    spikes, triggers, stimulus = _good(rng)
    save_raw_mat(path, spikes, triggers, stimulus[:, :, :250])


def _missing_variable(path, rng):
    spikes, triggers, stimulus = _good(rng)
    scipy.io.savemat(path, {"DN_spiketimes": spikes[:, None], "DN_stim": stimulus})


def _truncated(path, rng):
    spikes, triggers, stimulus = _good(rng)
    save_raw_mat(path, spikes, triggers, stimulus)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cell_not_a_vector(path, rng):
    spikes, triggers, stimulus = _good(rng)
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0] = spikes[:, None]
    cell[0, 1] = rng.uniform(0.0, 50.0, (2, 4))
    scipy.io.savemat(path, {"DN_spiketimes": cell, "DN_triggertimes": triggers,
                            "DN_stim": stimulus})


def _trials_disagree(path, rng):
    spikes, triggers, stimulus = _good(rng)
    cell = np.empty((1, 3), dtype=object)
    for trial in range(3):
        cell[0, trial] = triggers[:120] + 100.0 * trial
    scipy.io.savemat(path, {"DN_spiketimes": spikes, "DN_triggertimes": cell,
                            "DN_stim": stimulus})


CASES = {
    "cell_not_a_vector": (_cell_not_a_vector, {}, "cell DN_spiketimes{2} (unit 2) is a 2x4 matrix"),
    "unit_not_in_file": (None, {"units": "1 7"}, "has no unit 7"),
    "trials_disagree_with_stimulus": (
        _trials_disagree, {}, "trial 3 needs stimulus frames 240..359 but the stimulus has only "
        "310 frames"),
    "nonmonotonic_triggers": (_nonmonotonic, {}, "increasing"),
    "nan_spike": (_nan_spike, {}, "non-finite values (NaN or infinite)"),
    "negative_spike": (_negative_spike, {}, "negative"),
    "empty_spike_train": (_empty_spikes, {}, "empty"),
    "more_triggers_than_frames": (_too_many_triggers, {}, "more triggers (300) than stimulus frames (250)"),
    "missing_variable": (_missing_variable, {}, "DN_triggertimes"),
    "shape_mismatch": (None, {"frame_height": 5, "frame_width": 6}, "frames are 6x5"),
    "truncated_file": (_truncated, {}, "truncated"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_recording_fails_cleanly(tmp_path, case):
    make, sheet_changes, phrase = CASES[case]
    workdir = copy_workflow(tmp_path)
    raw = workdir / "bad.mat"
    rng = np.random.default_rng(1)
    if make is None:
        save_raw_mat(raw, *_good(rng))
    else:
        make(raw, rng)
    row = {"recording_id": "bad", "spikes_file": "bad.mat", "frame_height": 6, "frame_width": 5}
    row.update(sheet_changes)
    pd.DataFrame([row]).to_csv(workdir / "bad.tsv", sep="\t", index=False)

    # Only the receptive-field branch reads the sheet.
    (workdir / "no_sparse.yaml").write_text("sparse:\n  enabled: false\n")
    result = run_snakemake(workdir, "--configfile", "no_sparse.yaml", "--config", "recordings=bad.tsv")

    assert result.returncode != 0
    messages = [line for line in result.stderr.splitlines() if "error: " in line]
    assert len(messages) == 1, result.stderr[-3000:]
    assert "bad.mat" in messages[0] or "bad.tsv" in messages[0], messages[0]
    assert phrase in messages[0], messages[0]
    leftovers = [p for p in (workdir / "results").rglob("*") if p.is_file()]
    assert leftovers == [], leftovers

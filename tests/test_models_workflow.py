"""Held-out scores in the workflow (issue 12 item 1): models.npz per session, the score
columns in units.tsv and summary.tsv, the session figure ``models`` (from the shared tiny
run); a misspelt or nonsense ``models`` key is one message naming it.  And the
figure itself for one unit and for hundreds."""

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, copy_workflow, run_snakemake, write_config
from sparsefield.plots import models_figure, save_figure
from sparsefield.rf.units_scores import ESTIMATES


@pytest.mark.parametrize("n_units", [1, 300])
def test_models_figure_for_one_unit_and_for_hundreds(tmp_path, n_units):
    rng = np.random.default_rng(0)
    bits = np.column_stack([np.zeros(n_units),
                            rng.uniform(0, 1, size=(n_units, len(ESTIMATES) - 1))])
    bits[0, 2] = np.nan  # a gap
    figure = models_figure(bits, list(ESTIMATES), np.arange(n_units) + 10,
                           truth=bits.max(axis=1) + 0.1, title="test")
    assert 3.0 <= figure.get_figheight() <= 11.0
    first = save_figure(figure, tmp_path / "first.png", dpi=40).read_bytes()
    if n_units == 1:  # same inputs, same bytes
        again = models_figure(bits, list(ESTIMATES), np.arange(n_units) + 10,
                              truth=bits.max(axis=1) + 0.1, title="test")
        assert save_figure(again, tmp_path / "again.png", dpi=40).read_bytes() == first


@pytest.mark.workflow
def test_scores_reach_the_summary_and_the_figure(tiny_run):
    # chunks of units (sessions.units_per_job) give the same models.npz byte for byte:
    # tests/test_units_per_job.py compares every receptive-field result
    summary = pd.read_csv(tiny_run / "results/summary.tsv", sep="\t")
    fitted = summary[summary["fitted"].astype(bool)]
    assert len(fitted) >= 5
    for name in ESTIMATES:
        assert f"bits_per_spike_{name}" in summary and f"pseudo_r2_{name}" in summary
    assert (fitted["bits_per_spike_baseline"] == 0).all()
    assert (fitted["pseudo_r2_baseline"] == 0).all()
    assert fitted["best_model"].isin(ESTIMATES).all()
    # every default recording is simulated: the true model's score for every fitted unit
    assert fitted["bits_per_spike_truth"].notna().all()
    assert (fitted["bits_per_spike_truth"] > 0).all()
    n_units = TINY["simulation"]["sessions"]["sim_session"]["n_units"]
    with np.load(tiny_run / "results/sim_session/models.npz", allow_pickle=False) as arrays:
        assert arrays["unit_ids"].size == n_units
        assert arrays["bits_per_spike"].shape == (n_units, len(ESTIMATES))
    for recording in ("sim_gauss", "sim_gabor", "sim_session"):
        figure = tiny_run / f"results/figures/rf/{recording}/models.png"
        assert figure.stat().st_size > 1000
        index = pd.read_csv(tiny_run / f"results/figures/rf/{recording}/index.tsv", sep="\t")
        assert "models" in set(index["figure"])


@pytest.mark.workflow
def test_a_misspelt_and_a_nonsense_models_key_in_one_message(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = write_config(workdir, {"models": {"n_fold": 3, "joint": {"fit": "full"}}})
    result = run_snakemake(workdir, "--dry-run", "--configfile", config, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output and output.count("WorkflowError") == 1, output[-3000:]
    assert "models: unknown key 'n_fold' (did you mean n_folds?)" in output, output[-3000:]
    assert "models.joint.fit: 'full' is not one of rank1, ridge" in output, output[-3000:]

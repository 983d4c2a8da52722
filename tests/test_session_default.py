"""Acceptance on the default config: the simulated session of 36 units, written as an NWB
file and read back through the NWB reader like a lab's file, is recovered unit by unit.

Every unit with >= 1000 spikes: lasso spatial map correlates >= 0.9 with the truth and
its centre lies within 1 pixel of the model's; units under the spike minimum are flagged
(fitted false, why) and the session completes.  About 2-3 minutes on 2 cores.
"""

import numpy as np
import pandas as pd
import pytest

from conftest import copy_workflow, run_snakemake, write_config

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def default_session(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("default_session"))
    settings = {"sparse": {"enabled": False}}
    result = run_snakemake(workdir, "results/sim_session/units.tsv", "--configfile",
                           write_config(workdir, settings))
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


def test_the_session_is_read_from_nwb_with_its_unit_ids(default_session):
    from sparsefield.io.nwb import read_nwb_units

    units = pd.read_csv(default_session / "results/sim_session/units.tsv", sep="\t")
    written = read_nwb_units(default_session / "results/simulated/sim_session/session.nwb")
    assert units["unit_id"].tolist() == written.unit_ids.tolist()
    assert len(units) >= 30
    with np.load(default_session / "results/simulated/sim_session/truth.npz") as truth:
        assert truth["unit_ids"].tolist() == units["unit_id"].tolist()


def test_units_with_enough_spikes_are_recovered(default_session):
    units = pd.read_csv(default_session / "results/sim_session/units.tsv", sep="\t")
    strong = units[units["n_spikes"] >= 1000]
    assert len(strong) >= 25
    assert strong["fitted"].all()
    worst = strong.nsmallest(3, "truth_lasso_spatial_corr")[
        ["unit_id", "n_spikes", "truth_lasso_spatial_corr"]]
    assert (strong["truth_lasso_spatial_corr"] >= 0.9).all(), worst.to_dict("records")
    far = strong.nlargest(3, "truth_centre_error_px")[["unit_id", "truth_centre_error_px"]]
    assert (strong["truth_centre_error_px"] <= 1.0).all(), far.to_dict("records")


def test_sparse_units_are_flagged_and_not_fitted(default_session):
    units = pd.read_csv(default_session / "results/sim_session/units.tsv", sep="\t")
    sparse = units[units["n_spikes"] < 50]
    assert len(sparse) >= 3
    assert not sparse["fitted"].any()
    assert sparse["why"].str.contains("< min_spikes 50").all()
    log = (default_session / "logs/summarise_recording/sim_session.log").read_text()
    for unit in sparse["unit_id"]:
        assert f"unit {unit} not fitted" in log

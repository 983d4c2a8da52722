"""Gabor fits in the tiny workflow run (conftest.TINY): per-unit columns, the atoms'
well-fitted share beside the heuristics, the comparison page and table; a bad ``gabor``
value is refused naming its key."""

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, run_snakemake, write_config
from sparsefield.gabor_table import NO_MAP, GaborTable

pytestmark = pytest.mark.workflow

SPARSE = TINY["sparse"]
RUNS = [
    f"{scheme}-J{j}-{solver}"
    for scheme in SPARSE["runs"]["schemes"]
    for j in (SPARSE["runs"]["localization"] if scheme in ("bdm", "brm") else [1])
    for solver in SPARSE["runs"]["solvers"]
]
COLUMNS = ["gabor_model", "gabor_orientation_deg", "gabor_sf_cpp", "gabor_sf_cpd",
           "gabor_sigma_x", "gabor_sigma_y", "gabor_n_x", "gabor_n_y", "gabor_r2",
           "gabor_null_r2", "gabor_well_fitted", "gabor_flag"]


def _table(path):
    with np.load(path, allow_pickle=False) as arrays:
        return GaborTable.from_npz(arrays)


def test_every_unit_gets_gabor_columns_and_unfitted_units_are_flagged(tiny_run):
    units = pd.read_csv(tiny_run / "results/sim_session/units.tsv", sep="\t",
                        keep_default_na=False, na_values=[""])
    assert set(COLUMNS) <= set(units.columns)
    table = _table(tiny_run / "results/sim_session/gabor.npz")
    assert table.ids.tolist() == units["unit_id"].tolist() and table.dims == 2
    assert units["gabor_model"].isin(["gabor", "gaussian", "none"]).all()
    # units under min_spikes have no map: flagged in the table, not an error of the run
    unfitted = units[~units["fitted"].astype(bool)]
    assert len(unfitted) >= 1
    assert (unfitted["gabor_model"] == "none").all() and (unfitted["gabor_flag"] == NO_MAP).all()
    fitted = units[units["gabor_model"] != "none"]
    assert fitted["gabor_r2"].between(0, 1).all() and fitted["gabor_sf_cpd"].isna().all()
    # simulated Gabor units carry their truth errors
    with np.load(tiny_run / "results/simulated/sim_session/truth.npz") as truth:
        kinds = {int(unit): str(truth[f"u{unit}_model_kind"]) for unit in truth["unit_ids"]}
    gabor_units = fitted[fitted["unit_id"].map(kinds) == "gabor"]
    assert len(gabor_units) >= 1
    assert gabor_units["truth_gabor_orientation_error_deg"].between(0, 90).all()
    summary = pd.read_csv(tiny_run / "results/summary.tsv", sep="\t")
    assert set(COLUMNS) <= set(summary.columns)


def test_atoms_are_fitted_and_the_summary_reports_the_well_fitted_share(tiny_run):
    n_atoms = SPARSE["learning"]["n_atoms"]
    for run in RUNS:
        table = _table(tiny_run / f"results/sparse/{run}/gabor.npz")
        # epochs_every 10 > 3 epochs: the last epoch only
        assert table.epoch.tolist() == [SPARSE["learning"]["n_epochs"]] * n_atoms
        assert table.ids.tolist() == list(range(n_atoms))
    summary = pd.read_csv(tiny_run / "results/sparse/summary.tsv", sep="\t")
    assert {"fraction_gabor_like", "fraction_localised", "fraction_well_fitted",
            "median_gabor_r2"} <= set(summary.columns)
    assert summary["fraction_well_fitted"].between(0, 1).all()
    assert (summary["gabor_r2_threshold"] == 0.8).all()


def test_each_2d_session_gets_the_comparison_page_and_table(tiny_run):
    for recording in ("sim_session", "sim_gabor", "sim_gauss"):
        table = pd.read_csv(tiny_run / f"results/{recording}/gabor_comparison.tsv", sep="\t")
        assert table["run"].tolist() == RUNS
        assert table["n_bootstrap"].eq(1000).all() and table["seed"].eq(0).all()
        both = table[(table["n_units_well_fitted"] > 0) & (table["n_atoms_well_fitted"] > 0)]
        assert both["energy_distance"].notna().all()
        figure = tiny_run / f"results/figures/rf/{recording}/gabor_comparison.png"
        assert figure.stat().st_size > 0
        index = pd.read_csv(tiny_run / f"results/figures/rf/{recording}/index.tsv", sep="\t")
        assert "gabor_comparison" in index["figure"].tolist()


@pytest.mark.parametrize("settings, key", [
    ({"gabor": {"r2_threshold": 1.5}}, "gabor.r2_threshold"),
    ({"gabor": {"epochs_every": -1}}, "gabor.epochs_every"),
])
def test_a_bad_gabor_value_is_refused_naming_the_key(workflow_copy, settings, key):
    result = run_snakemake(workflow_copy, "-n", "--configfile", write_config(workflow_copy, settings))
    assert result.returncode != 0
    assert key in result.stdout + result.stderr


@pytest.mark.parametrize("value, ok", [("0.1", True), ("-0.5", False)])
def test_the_sheet_s_pixel_size_is_checked(workflow_copy, value, ok):
    sheet = (workflow_copy / "config/recordings.tsv").read_text().splitlines()
    sheet[0] += "\tpixel_size_deg"
    sheet[1:] = [line + f"\t{value}" for line in sheet[1:]]
    (workflow_copy / "config/sheet.tsv").write_text("\n".join(sheet) + "\n")
    result = run_snakemake(workflow_copy, "-n", "--config", "recordings=config/sheet.tsv")
    assert (result.returncode == 0) == ok, result.stdout[-2000:] + result.stderr[-2000:]
    if not ok:
        assert "pixel_size_deg" in result.stdout + result.stderr

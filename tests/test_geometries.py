"""Acceptance: a full-field unit at 120 Hz and a 1-D bar unit at 60 Hz, simulated with
known kernels, through the whole workflow with the default lag settings.

The default lags must cover at least 0-300 ms whatever the frame rate, the recovered
temporal kernels must correlate >= 0.9 with the truth, and every figure must be written
without a layout warning (the panel sizes themselves are checked on the figure functions
in tests/test_plots_geometry.py).
"""

import numpy as np
import pandas as pd
import pytest

from conftest import copy_workflow, run_snakemake, write_config
from sparsefield.io import save_npz
from sparsefield.rf.neuron import NeuronModel
from sparsefield.rf.simulate_session import simulate_session

pytestmark = pytest.mark.workflow

KERNEL = dict(latency=0.06, width=0.015, rebound_latency=0.12, rebound_width=0.03,
              rebound_ratio=0.4, baseline_rate=20.0, gain=1.0)
CASES = {
    # name: frame shape, frames per second, seconds of recording, contrast
    "flicker120": ((1, 1), 120.0, 150.0, "gaussian"),
    "bars60": ((1, 24), 60.0, 240.0, "binary"),
}


def _write_case(workdir, name, frame_shape, rate, seconds, contrast):
    model = NeuronModel(kind="gaussian", center_row=0.0, center_col=frame_shape[1] / 2 - 0.3,
                        sigma=2.0, polarity="on", **KERNEL)
    raw, truth = simulate_session({7: model}, n_frames=int(rate * seconds),
                                  frame_shape=frame_shape, mean_frame_duration=1.0 / rate,
                                  contrast=contrast, seed=11)
    stimulus = raw["stimulus"].reshape(raw["stimulus"].shape[0], -1)
    np.savez(workdir / f"{name}.npz", spikes=raw["spike_times"][0], stimulus=stimulus)
    save_npz(workdir / f"{name}_truth.npz", truth[7])
    return {"recording_id": name, "spikes_file": f"{name}.npz", "spikes_key": "spikes",
            "stimulus_key": "stimulus", "stimulus_axes": "tp", "frame_rate": rate,
            "frame_height": frame_shape[0], "frame_width": frame_shape[1],
            "truth_file": f"{name}_truth.npz"}


@pytest.fixture(scope="module")
def geometry_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("geometries"))
    rows = [_write_case(workdir, name, *case) for name, case in CASES.items()]
    pd.DataFrame(rows).to_csv(workdir / "geometries.tsv", sep="\t", index=False)
    settings = {"recordings": "geometries.tsv", "sparse": {"enabled": False},
                "figures": {"dpi": 60}, "sta": {"n_shifts": 20, "tau_max": 0.35}}
    result = run_snakemake(workdir, "--configfile", write_config(workdir, settings))
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


@pytest.mark.parametrize("name", sorted(CASES))
def test_default_lags_cover_300_ms_and_kernels_are_recovered(geometry_run, name):
    _, rate, _, _ = CASES[name]
    with np.load(geometry_run / f"results/{name}/ml_fit.npz") as fit:
        lags = fit["lags"]
    assert lags[0] == 0 and lags[-1] / rate >= 0.3 - 1e-9
    row = pd.read_csv(geometry_run / f"results/{name}/units.tsv", sep="\t").iloc[0]
    assert row["unit_id"] == 1 and row["fitted"]
    assert row["truth_temporal_corr_svd"] >= 0.9, row.to_dict()
    assert row["truth_lasso_temporal_corr"] >= 0.9, row.to_dict()
    assert row["truth_sta_temporal_corr"] >= 0.9, row.to_dict()
    # the STC window is the whole frame over the lasso's lags, small enough to analyse
    assert row["stc_n_excitatory"] >= 0 and "stc_why" not in row.index, row.to_dict()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_figure_is_written_without_layout_warnings(geometry_run, name):
    figures = sorted((geometry_run / f"results/figures/rf/{name}").rglob("*.png"))
    names = {path.stem for path in figures}
    assert {"overview", "rf_lags", "ml_separation", "sta", "lasso_grid", "lasso_cv",
            "ml_vs_lasso", "lasso_separation", "truth", "rf_atlas", "kernel_heatmap",
            "nonlinearity", "stc"} <= names
    assert "mosaic" not in names  # no second dimension to tile
    for path in figures:
        assert path.stat().st_size > 0
    for log in (geometry_run / "logs").rglob("*.log"):
        if name in str(log) and log.parts[-2].startswith("figure") or (
                name in str(log) and "figure_" in str(log)):
            text = log.read_text()
            assert "constrained_layout not applied" not in text, log
            assert "UserWarning" not in text, (log, text[-2000:])


def test_gabor_fits_follow_the_geometry(geometry_run):
    # bars: the 1-D fit along the bars (a Gaussian unit: no carrier); full field: flagged
    bars = pd.read_csv(geometry_run / "results/bars60/units.tsv", sep="\t",
                       keep_default_na=False, na_values=[""]).iloc[0]
    assert bars["gabor_model"] == "gaussian" and pd.isna(bars["gabor_flag"]), bars.to_dict()
    assert np.isnan(bars["gabor_orientation_deg"])
    flicker = pd.read_csv(geometry_run / "results/flicker120/units.tsv", sep="\t",
                          keep_default_na=False, na_values=[""]).iloc[0]
    assert flicker["gabor_model"] == "none" and "full-field" in flicker["gabor_flag"]

"""The whole workflow, run by snakemake on a tiny config in a temporary directory."""

import re

import pandas as pd
import pytest
import yaml

from conftest import PROJECT, REAL_DATA, TINY, copy_workflow, run_snakemake, write_config

pytestmark = pytest.mark.workflow

FIGURES = (
    "overview",
    "rf_lags",
    "ml_separation",
    "sta",
    "lasso_grid",
    "lasso_cv",
    "ml_vs_lasso",
    "lasso_separation",
    "nonlinearity",
    "stc",
)


SESSION_FIGURES = ("rf_atlas", "kernel_heatmap", "mosaic", "models")


def test_every_figure_and_table_is_written(tiny_run):
    from scipy.io import loadmat

    summary = pd.read_csv(tiny_run / "results/summary.tsv", sep="\t")
    assert sorted(set(summary["recording_id"])) == ["sim_gabor", "sim_gauss", "sim_session"]
    for recording in ("sim_gauss", "sim_gabor", "sim_session"):
        for name in SESSION_FIGURES:
            assert (tiny_run / f"results/figures/rf/{recording}/{name}.png").stat().st_size > 0
        units = pd.read_csv(tiny_run / f"results/{recording}/units.tsv", sep="\t")
        assert units.equals(summary[summary["recording_id"] == recording].reset_index(drop=True)
                            [units.columns].astype(units.dtypes))
        drawn = sorted(int(path.name.split("-")[1]) for path in
                       (tiny_run / f"results/figures/rf/{recording}").glob("unit-*"))
        fitted = units[units["fitted"]]
        # figures.per_unit: the fitted units with the best CV gain
        best = fitted.sort_values(["lasso_cv_gain", "unit_id"], ascending=[False, True])
        per_unit = TINY["figures"]["per_unit"]
        assert drawn == sorted(best["unit_id"].head(per_unit).tolist())
        for unit in drawn:
            for name in FIGURES + ("truth",):
                path = tiny_run / f"results/figures/rf/{recording}/unit-{unit}/{name}.png"
                assert path.stat().st_size > 0
    # One-unit rows are sessions of one unit, id 1; every spike is counted in a frame or
    # reported as left out.
    for recording in ("sim_gauss", "sim_gabor"):
        row = summary[summary["recording_id"] == recording]
        assert row["unit_id"].tolist() == [1]
        raw = loadmat(tiny_run / f"results/simulated/{recording}/raw.mat")
        assert int(row["n_spikes"].iloc[0] + row["spikes_left_out"].iloc[0]) == raw["DN_spiketimes"].size
    session = summary[summary["recording_id"] == "sim_session"]
    assert len(session) == TINY["simulation"]["sessions"]["sim_session"]["n_units"]
    assert (session["n_spikes"] > 0).all()
    # units below min_spikes are flagged, not fitted, and the session completes
    flagged = session[~session["fitted"]]
    assert (flagged["n_spikes"] < 50).all() and flagged["why"].str.contains("min_spikes").all()


@pytest.mark.parametrize("folder", ["", "sim_gauss/", "sim_gabor/", "sim_session/"])
def test_each_results_folder_records_config_and_versions(tiny_run, folder):
    provenance = tiny_run / f"results/{folder}provenance"
    config = yaml.safe_load((provenance / "config.yaml").read_text())
    assert config["simulation"]["n_frames"] == TINY["simulation"]["n_frames"]
    assert config["sta"]["seed"] == 0  # a schema default, filled in
    versions = pd.read_csv(provenance / "versions.tsv", sep="\t", dtype=str)
    recorded = dict(zip(versions["package"], versions["version"]))
    assert {"python", "sparsefield", "numpy", "numba", "snakemake"} <= set(recorded)
    import numpy

    assert recorded["numpy"] == numpy.__version__
    sheet = pd.read_csv(provenance / "recordings.tsv", sep="\t")
    expected = [folder.rstrip("/")] if folder else ["sim_gauss", "sim_gabor", "sim_session"]
    assert list(sheet["recording_id"]) == expected


def test_every_job_writes_a_log_and_a_benchmark(tiny_run, tiny_jobs):
    for rule, jobs in tiny_jobs.items():
        # benchmarks/<rule>/<wildcards>.tsv, or benchmarks/<rule>.tsv without wildcards
        benchmarks = list(tiny_run.glob(f"benchmarks/{rule}/*.tsv")) or list(
            tiny_run.glob(f"benchmarks/{rule}.tsv")
        )
        logs = list(tiny_run.glob(f"logs/{rule}/*.log")) or list(tiny_run.glob(f"logs/{rule}.log"))
        assert len(benchmarks) == len(logs) == jobs, rule
        table = pd.read_csv(benchmarks[0], sep="\t")
        assert {"s", "max_rss"} <= set(table.columns)


def _rule_blocks():
    """{rule name: its text} of every rule in workflow/rules/*.smk."""
    blocks = {}
    for path in sorted((PROJECT / "workflow" / "rules").glob("*.smk")):
        parts = re.split(r"^rule (\w+):\n", path.read_text(), flags=re.MULTILINE)
        blocks.update(zip(parts[1::2], parts[2::2]))
    return blocks


def test_every_rule_declares_log_benchmark_threads_and_resources():
    blocks = _rule_blocks()
    assert {"fit_ml", "figure_truth", "provenance"} <= set(blocks)
    for rule, text in blocks.items():
        for directive in ("log:", "benchmark:", "threads:", "resources:", "mem_mb=", "runtime="):
            assert re.search(rf"^\s+{re.escape(directive)}", text, re.MULTILINE), (rule, directive)
        assert re.search(rf'"benchmarks/{rule}[/.]', text), (rule, "benchmarks/<rule>/...")
        assert re.search(rf'"logs/{rule}[/.]', text), (rule, "logs/<rule>/...")


def test_dry_run_and_lint_are_clean(workflow_copy):
    dry = run_snakemake(workflow_copy, "-n", "--quiet")
    assert dry.returncode == 0, dry.stderr[-4000:]
    lint = run_snakemake(workflow_copy, "--lint")
    assert lint.returncode == 0, lint.stdout[-4000:] + lint.stderr[-4000:]


def test_stc_results_columns_and_notes(tiny_run):
    """stc.npz per session; every fitted unit has the STC columns or a note why not."""
    import numpy as np

    summary = pd.read_csv(tiny_run / "results/summary.tsv", sep="\t")
    fitted = summary[summary["fitted"]]
    for recording in ("sim_gauss", "sim_gabor", "sim_session"):
        with np.load(tiny_run / f"results/{recording}/stc.npz") as arrays:
            rows = fitted[fitted["recording_id"] == recording]
            assert set(rows["unit_id"]) <= set(arrays["unit_ids"].tolist())
            assert arrays["window_shape"].tolist() == [5, 5]
    analysed = fitted["stc_n_excitatory"].notna()
    assert analysed.any()
    if (~analysed).any():
        assert fitted.loc[~analysed, "stc_why"].str.startswith("stc: ").all()
    for column in ("stc_n_suppressive", "stc_top_eigenvalue", "stc_null_upper",
                   "stc_sta_below_null", "bits_per_spike_energy"):
        assert column in summary.columns
    assert (fitted.loc[analysed, "stc_top_eigenvalue"]
            >= fitted.loc[analysed, "stc_bottom_eigenvalue"]).all()


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"rf": {"lagz": [0]}}, "lagz"),
        ({"rf": {"lags": "zero"}}, "zero"),
        ({"sta": {"n_shifts": 2.5}}, "2.5"),
        ({"stc": {"max_dims": 0}}, "stc.max_dims"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_config_is_refused_naming_the_key(workflow_copy, settings, key):
    result = run_snakemake(workflow_copy, "-n", "--configfile", write_config(workflow_copy, settings))
    assert result.returncode != 0
    assert key in result.stdout + result.stderr
    assert not (workflow_copy / "results").exists()


@pytest.mark.realdata
def test_real_recording_end_to_end(tmp_path):
    if not REAL_DATA.is_file():
        pytest.skip(f"real recording not found at {REAL_DATA}")
    workdir = copy_workflow(tmp_path)
    sheet = pd.read_csv(workdir / "config/recordings.real.tsv", sep="\t")
    sheet["spikes_file"] = str(REAL_DATA)
    sheet.to_csv(workdir / "real.tsv", sep="\t", index=False)
    settings = {"recordings": "real.tsv", "figures": {"dpi": 60}, "sta": {"n_shifts": 50}}
    if "sparse" in TINY:  # the receptive fields from spikes only
        settings["sparse"] = TINY["sparse"]
    result = run_snakemake(workdir, "--configfile", write_config(workdir, settings))
    assert result.returncode == 0, result.stderr[-4000:]
    summary = pd.read_csv(workdir / "results/summary.tsv", sep="\t").iloc[0]
    assert summary["unit_id"] == 1
    assert summary["n_spikes"] == 5493 and summary["spikes_left_out"] == 7
    assert (summary["lag0_peak_row"], summary["lag0_peak_col"]) == (12, 4)
    assert 60 <= summary["sta_peak_ms"] <= 160
    # The lasso's rank-1 map peaks at the RF centre, with its weight on lag 0.
    assert (summary["lasso_peak_row"], summary["lasso_peak_col"]) == (12, 4)
    assert summary["lasso_peak_lag"] == 0
    for name in FIGURES:
        assert (workdir / f"results/figures/rf/nds_cl_5/unit-1/{name}.png").is_file()

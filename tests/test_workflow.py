"""The whole workflow, run by snakemake on a tiny config in a temporary directory."""

import filecmp
import shutil

import pandas as pd
import pytest
import yaml

from conftest import REAL_DATA, copy_workflow, run_snakemake

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
)

TINY = {
    "simulation": {"n_frames": 600},
    "rf": {"lags": [0, 1, 2]},
    "lasso": {"lags": [0, 1, 2], "n_lambdas": 5, "n_folds": 3},
    "sta": {"n_shifts": 20, "tau_max": 0.3},
    "figures": {"dpi": 60},
}


def _write_config(workdir, settings):
    path = workdir / "tiny.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path.name


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny"))
    result = run_snakemake(workdir, "--configfile", _write_config(workdir, TINY))
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


def test_every_figure_and_table_is_written(tiny_run):
    for recording in ("sim_gauss", "sim_gabor"):
        for name in FIGURES + ("truth",):
            assert (tiny_run / f"results/{recording}/figures/{name}.png").stat().st_size > 0
        metrics = pd.read_csv(tiny_run / f"results/{recording}/metrics.tsv", sep="\t")
        assert len(metrics) == 1
    summary = pd.read_csv(tiny_run / "results/summary.tsv", sep="\t")
    assert sorted(summary["recording_id"]) == ["sim_gabor", "sim_gauss"]
    # Each spike is counted in a frame or reported as outside every frame.
    assert (
        summary["spikes_counted"] + summary["spikes_before"] + summary["spikes_after"]
        == summary["n_spikes"]
    ).all()


def test_rerun_gives_the_same_bytes(tiny_run):
    kept = tiny_run.parent / "kept"
    shutil.copytree(tiny_run / "results", kept)
    result = run_snakemake(
        tiny_run, "--configfile", "tiny.yaml", "--forceall", "--quiet", "all"
    )
    assert result.returncode == 0, result.stderr[-4000:]
    outputs = sorted(p.relative_to(kept) for p in kept.rglob("*") if p.suffix in {".png", ".tsv"})
    assert outputs
    for relative in outputs:
        assert filecmp.cmp(kept / relative, tiny_run / "results" / relative, shallow=False), relative


def test_dry_run_and_lint_are_clean(workflow_copy):
    dry = run_snakemake(workflow_copy, "-n", "--quiet")
    assert dry.returncode == 0, dry.stderr[-4000:]
    lint = run_snakemake(workflow_copy, "--lint")
    assert lint.returncode == 0, lint.stdout[-4000:] + lint.stderr[-4000:]


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"rf": {"lagz": [0]}}, "lagz"),
        ({"rf": {"lags": "zero"}}, "zero"),
        ({"sta": {"n_shifts": 2.5}}, "2.5"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_config_is_refused_naming_the_key(workflow_copy, settings, key):
    result = run_snakemake(workflow_copy, "-n", "--configfile", _write_config(workflow_copy, settings))
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
    result = run_snakemake(workdir, "--configfile", _write_config(workdir, settings))
    assert result.returncode == 0, result.stderr[-4000:]
    summary = pd.read_csv(workdir / "results/summary.tsv", sep="\t").iloc[0]
    assert summary["n_spikes"] == 5500
    assert summary["spikes_after"] == 7
    assert (summary["lag0_peak_row"], summary["lag0_peak_col"]) == (12, 4)
    assert 60 <= summary["sta_peak_ms"] <= 160
    # The lasso's rank-1 map peaks at the RF centre, with its weight on lag 0.
    assert (summary["lasso_peak_row"], summary["lasso_peak_col"]) == (12, 4)
    assert summary["lasso_peak_lag"] == 0
    for name in FIGURES:
        assert (workdir / f"results/nds_cl_5/figures/{name}.png").is_file()

"""`snakemake --report results/report.html` builds a self-contained report with every
figure, its caption, grouped by branch (category) and recording (subcategory)."""

import base64
import json
import re

import pytest

from conftest import copy_run, run_snakemake

pytestmark = pytest.mark.workflow


def _script_variable(html, name):
    """The JSON assigned to ``var <name> = ...;`` in the report's <script> blocks."""
    match = re.search(rf"var {name} = (\{{.*?\}});\s*</script>", html, re.DOTALL)
    assert match, f"no `var {name}` in the report"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory):
    workdir = copy_run(tiny_run, tmp_path_factory.mktemp("report") / "run")
    result = run_snakemake(workdir, "--configfile", "tiny.yaml", "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-4000:]
    html = (workdir / "results/report.html").read_text()
    return workdir, _script_variable(html, "results"), _script_variable(html, "categories")


def test_report_embeds_every_figure_with_its_caption(report):
    workdir, results, _ = report
    figures = sorted(
        str(path.relative_to(workdir)) for path in (workdir / "results/figures").rglob("*")
        if path.is_file() and path.name != "index.tsv"  # each session's list of its figures
    )
    rf_figures = [path for path in figures if path.startswith("results/figures/rf/")]
    # per recording: 5 session figures (atlas, kernel heat map, mosaic, the held-out
    # model comparison, the Gabor comparison: 2-D stimuli, sparse branch on); per unit
    # drawn: 8 figures + truth + the output nonlinearity + the spike-triggered covariance
    units = [path for path in rf_figures if "/unit-" in path]
    assert len(rf_figures) - len(units) == 3 * 5 and len(units) % 11 == 0 and len(units) >= 2 * 11
    assert set(figures) <= set(results)
    for figure in figures:
        entry = results[figure]
        assert entry["caption"].strip(), figure
        data = entry["data_uri"].split("base64,", 1)[1]
        assert base64.b64decode(data) == (workdir / figure).read_bytes(), figure
    assert "results/summary.tsv" in results


def test_report_groups_figures_by_branch_and_recording(report):
    _, _, categories = report
    spikes = categories["Receptive fields from spikes"]
    assert sorted(spikes) == ["sim_gabor", "sim_gauss", "sim_session"]
    for recording, paths in spikes.items():
        assert len(paths) >= 12
        assert all(path.startswith(f"results/figures/rf/{recording}/") for path in paths)

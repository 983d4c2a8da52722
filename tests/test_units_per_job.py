"""sessions.units_per_job: a session's units fitted in chunks (one job each, in parallel
on SLURM) and joined give the same bytes as one job for all units."""

import pytest

from conftest import TINY, copy_workflow, result_hashes, run_snakemake, write_config

pytestmark = pytest.mark.workflow


#: The session whose units are chunked (the one-unit rows make one chunk either way).
SESSION = "sim_session"


def _receptive_fields(hashes):
    """The session's receptive-field results: everything of :data:`SESSION` but what
    compares it with the sparse-coding branch (the Gabor comparison: the chunked run has
    no sparse branch), the figure list (compared by :func:`_figure_lists`) and the
    provenance records (whose config.yaml names units_per_job)."""
    return {path: digest for path, digest in hashes.items()
            if SESSION in path.split("/")
            and "provenance/" not in path and "gabor_comparison" not in path
            and not path.endswith("/index.tsv")}


def _figure_list(results):
    """The session's figure list (results/figures/rf/<id>/index.tsv) without the Gabor
    comparison's row."""
    path = results / "figures/rf" / SESSION / "index.tsv"
    return [line for line in path.read_text().splitlines() if "gabor_comparison" not in line]


def test_chunked_run_equals_the_unsplit_run_byte_for_byte(tiny_run, tmp_path):
    workdir = copy_workflow(tmp_path)
    settings = {**TINY, "sessions": {"units_per_job": 3}, "sparse": {"enabled": False}}
    result = run_snakemake(workdir, f"results/{SESSION}/units.tsv",
                           f"results/figures/rf/{SESSION}/index.tsv",
                           "--configfile", write_config(workdir, settings))
    assert result.returncode == 0, result.stderr[-4000:]
    n_units = TINY["simulation"]["sessions"][SESSION]["n_units"]
    chunks = sorted(path.name for path in (workdir / "logs/fit_lasso" / SESSION).glob("*.log"))
    assert chunks == [f"{chunk}.log" for chunk in range(-(-n_units // 3))]
    assert not list((workdir / "results").rglob("chunks/*/*.npz"))  # temporary, removed
    chunked = _receptive_fields(result_hashes(workdir))
    unsplit = _receptive_fields(result_hashes(tiny_run))
    assert len(chunked) >= 20 and sorted(chunked) == sorted(unsplit)
    assert [path for path in chunked if chunked[path] != unsplit[path]] == []
    figures = _figure_list(workdir / "results")
    assert len(figures) >= 10 and figures == _figure_list(tiny_run / "results")

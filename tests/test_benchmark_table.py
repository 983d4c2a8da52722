"""tools/benchmark_table.py: per-rule time and memory from a benchmarks/ folder."""

import importlib.util
import subprocess
import sys

import pytest

from conftest import PROJECT

TOOL = PROJECT / "tools" / "benchmark_table.py"
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _load_tool():
    spec = importlib.util.spec_from_file_location("benchmark_table", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path, *rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t50\t{s}\n" for s, rss in rows))


@pytest.fixture
def benchmarks(tmp_path):
    folder = tmp_path / "benchmarks"
    _write(folder / "fit_ml/a.tsv", (2.0, 100.0))
    _write(folder / "fit_ml/b.tsv", (4.0, 150.0))
    _write(folder / "fit_ml/c.tsv", (9.0, 120.0))
    _write(folder / "figure_sta/a.tsv", (1.0, 80.0), (3.0, 90.0))  # two repeats: one job
    _write(folder / "summarise_all.tsv", (0.5, "-"))  # no wildcards; RSS not measured
    _write(folder / "sparse/run/x-J4/atoms.tsv", (1.5, 60.0))  # deeper: first folder is the rule
    return folder


def test_rows_per_rule(benchmarks):
    tool = _load_tool()
    rows = {row["rule"]: row for row in tool.summarise(tool.read_benchmarks(benchmarks))}
    assert set(rows) == {"fit_ml", "figure_sta", "summarise_all", "sparse"}
    fit = rows["fit_ml"]
    assert (fit["jobs"], fit["median_s"], fit["total_s"], fit["max_s"], fit["max_rss_mb"]) == (
        3, 4.0, 15.0, 9.0, 150.0,
    )
    sta = rows["figure_sta"]
    assert (sta["jobs"], sta["total_s"], sta["max_rss_mb"]) == (1, 2.0, 90.0)
    assert rows["summarise_all"]["max_rss_mb"] == 0.0


def test_sorted_by_total_time_by_default(benchmarks):
    tool = _load_tool()
    rows = tool.summarise(tool.read_benchmarks(benchmarks))
    assert [row["rule"] for row in rows] == ["fit_ml", "figure_sta", "sparse", "summarise_all"]
    by_rss = tool.summarise(tool.read_benchmarks(benchmarks), sort="rss")
    assert by_rss[0]["rule"] == "fit_ml" and by_rss[-1]["rule"] == "summarise_all"


def test_command_line_prints_the_table(benchmarks):
    result = subprocess.run(
        [sys.executable, str(TOOL), str(benchmarks)], capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["rule", "jobs", "median", "s", "total", "s", "max", "s", "max", "RSS", "MB"]
    assert lines[2].split() == ["fit_ml", "3", "4.00", "15.00", "9.00", "150"]
    assert lines[-1].split() == ["total", "6", "19.00", "9.00", "150"]
    tsv = subprocess.run(
        [sys.executable, str(TOOL), str(benchmarks), "--tsv", "--sort", "rule"],
        capture_output=True, text=True, check=True,
    )
    assert tsv.stdout.splitlines()[0] == "rule\tjobs\tmedian_s\ttotal_s\tmax_s\tmax_rss_mb"
    assert tsv.stdout.splitlines()[1].startswith("figure_sta\t1\t")


def test_missing_folder_is_an_error(tmp_path):
    result = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path / "nowhere")], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "no such folder" in result.stderr

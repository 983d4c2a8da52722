"""The command line (sparsefield.cli): `sparsefield --version` and `sparsefield check`.

`check` must see the config Snakemake builds (config/config.yaml, --configfile, --config:
compared with Snakemake's own parser and with a tiny Snakefile that dumps its config)
and refuse what the workflow refuses while it is parsed, with the workflow's messages:
every sheet and config case of the bad-input corpus, and, against a real dry run, three
of them word for word."""

import importlib.util
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import sparsefield
from conftest import PROJECT, copy_workflow, run_snakemake
from sparsefield.cli import main, parse_config_args, workflow_config

CORPUS = PROJECT / "tests" / "bad_inputs"


def _corpus():
    """The corpus's sheet and config cases, and its base config."""
    sys.path.insert(0, str(CORPUS))
    try:
        import _corpus

        spec = importlib.util.spec_from_file_location("cli_cases_sheet_config",
                                                      CORPUS / "cases_sheet_config.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(CORPUS))
    return module.CASES, _corpus.BASE


SHEET_CONFIG_CASES, BASE = _corpus()


def _check(capsys, *arguments):
    """Run `sparsefield check ARGUMENTS` in the current folder: (exit status, stdout,
    stderr)."""
    try:
        status = main(["check", *arguments])
    except SystemExit as stop:
        status = stop.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the workflow (config/, workflow/, ...) as the current folder."""
    copy_workflow(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- --version, usage ------------------------------------------------------------------


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"sparsefield {sparsefield.__version__}\n"


def test_python_dash_m_and_the_console_script_are_declared():
    result = subprocess.run([sys.executable, "-m", "sparsefield", "--version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"sparsefield {sparsefield.__version__}"
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"sparsefield": "sparsefield.cli:main"}


@pytest.mark.parametrize("arguments", [
    [],                                   # no command
    ["check", "--bogus"],                 # an unknown option
    ["check", "--config", "a=1"],         # Snakemake wants keys of two characters at least
    ["check", "--config", "novalue"],     # not KEY=VALUE
])
def test_usage_errors_exit_with_2(project, capsys, arguments):
    with pytest.raises(SystemExit) as stop:
        main(arguments)
    assert stop.value.code == 2
    assert "usage: sparsefield" in capsys.readouterr().err


def test_outside_a_project_folder_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, err = _check(capsys)
    assert status == 2
    assert "no workflow/schemas/config.schema.yaml in" in err and "Snakefile" in err
    assert out == ""


def test_help_says_what_is_and_is_not_checked(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "workflow/schemas/ of the current folder" in text
    assert "does not read the data files" in text


# --- a config and sheet that pass --------------------------------------------------------


def test_the_default_config_and_sheet_pass_with_a_one_line_summary(project, capsys):
    rows = (project / "config/recordings.tsv").read_text().strip().splitlines()[1:]
    status, out, err = _check(capsys)
    assert (status, err) == (0, "")
    assert out.count("\n") == 1
    assert out.startswith(f"config and sheet OK: {len(rows)} sessions in config/recordings.tsv "
                          f"({len(rows)} written by the workflow), every unit of each; ")


def test_sheet_option_units_asked_for_and_the_sparse_branch(project, capsys):
    (project / "spikes.mat").write_bytes(b"")
    (project / "mine.tsv").write_text("recording_id\tspikes_file\tunits\n"
                                      "a1\tspikes.mat\t3, 7 12\n"
                                      "a2\tspikes.mat\t\n")
    status, out, err = _check(capsys, "--sheet", "mine.tsv", "--config", "sparse={enabled: false}")
    assert (status, err) == (0, "")
    assert out == ("config and sheet OK: 2 sessions in mine.tsv, 3 units asked for in 1 "
                   "session, every unit of the other 1; sparse coding off\n")


def test_sheet_option_overrides_the_config_key_recordings(project, capsys):
    (project / "other.tsv").write_text("recording_id\tspikes_file\nr1\tmissing.mat\n")
    status, _, err = _check(capsys, "--config", "recordings=config/recordings.tsv",
                            "--sheet", "other.tsv")
    assert status == 1
    assert err.startswith("other.tsv: r1: column spikes_file: missing.mat does not exist")


# --- the workflow's messages -------------------------------------------------------------


@pytest.mark.parametrize("case", SHEET_CONFIG_CASES, ids=[case.id for case in SHEET_CONFIG_CASES])
def test_every_sheet_and_config_case_of_the_corpus(project, capsys, case):
    """Each case is refused with one message holding the phrases the corpus expects of
    the workflow's message (tests/bad_inputs/test_corpus.py checks the workflow)."""
    (project / "base.yaml").write_text(yaml.safe_dump(BASE))
    arguments = [argument for argument in case.make(project, case.rng()) if argument != "-n"]
    status, out, err = _check(capsys, "--configfile", "base.yaml", *arguments)
    assert status == 1, (out, err)
    assert out == "" and "Traceback" not in err
    message = " ".join(line.strip() for line in err.splitlines()).replace(case.id, "<case>")
    for phrase in case.expect + (case.names,):
        assert phrase in message, f"{phrase!r} not in {err!r}"


def _dry_run_message(workdir, arguments):
    """The body of the one WorkflowError that `snakemake -n ARGUMENTS` prints (its lines
    as printed, up to Snakemake's own `File "...", line N` trailer)."""
    result = run_snakemake(workdir, *arguments, "-n", timeout=600)
    assert result.returncode != 0
    lines = (result.stdout + "\n" + result.stderr).splitlines()
    headers = [index for index, line in enumerate(lines) if line.startswith("WorkflowError in")]
    assert len(headers) == 1, (result.stdout + result.stderr)[-3000:]
    body = []
    for line in lines[headers[0] + 1:]:
        if not line.strip() or line.startswith('  File "'):
            break
        body.append(line)
    return "\n".join(body)


@pytest.mark.parametrize("case_id", ["sheet_several_problems", "config_file_over_size_limit",
                                     "config_cli_negative_number"])
def test_the_same_message_as_a_dry_run(tmp_path, monkeypatch, capsys, case_id):
    """Word for word, line for line what snakemake -n prints, for a multi-line sheet
    message, a config file named by its absolute path, and a --config value."""
    case = next(case for case in SHEET_CONFIG_CASES if case.id == case_id)
    copy_workflow(tmp_path)
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    arguments = ["--configfile", "base.yaml"] + [
        argument for argument in case.make(tmp_path, case.rng()) if argument != "-n"]
    workflow = _dry_run_message(tmp_path, arguments)
    monkeypatch.chdir(tmp_path)
    status, _, err = _check(capsys, *arguments)
    assert status == 1
    assert "\n" in workflow or case_id != "sheet_several_problems"
    assert err == workflow + "\n"


def test_config_file_problems(project, capsys):
    (project / "tabs.yaml").write_text("sta:\n\ttau_max: 1\n")
    (project / "list.yaml").write_text("- 1\n- 2\n")
    (project / "template.yaml").write_text("__use_yte__: true\nsta:\n  ?if True:\n    tau_max: 1\n")
    for name, expected in [("tabs.yaml", "is not valid JSON or YAML (line 2"),
                           ("list.yaml", "must be given as JSON or YAML with keys at top level"),
                           ("template.yaml", "is a YTE template"),
                           ("absent.yaml", "not found")]:
        status, _, err = _check(capsys, "--configfile", name)
        assert status == 1 and expected in err and str(project / name) in err, err


def test_without_config_yaml_a_configfile_is_needed_as_in_snakemake(project, capsys):
    (project / "config/config.yaml").rename(project / "whole.yaml")
    status, _, err = _check(capsys)
    assert status == 1
    assert err.startswith("Workflow defines configfile config/config.yaml but it is not present")
    status, out, _ = _check(capsys, "--configfile", "whole.yaml")
    assert status == 0 and out.startswith("config and sheet OK")


def test_a_mapping_alias_bomb_is_refused_before_it_is_merged(project, capsys):
    """Merging expands aliases of mappings (Snakemake's update_config does); the file is
    measured first, with the workflow's message."""
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: lol" for i in range(10)) + "}"]
    for level in range(1, 8):
        lines.append(f"m{level}: &m{level} {{"
                     + ", ".join(f"k{i}: *m{level - 1}" for i in range(10)) + "}")
    (project / "bomb.yaml").write_text("\n".join(lines) + "\n")
    status, _, err = _check(capsys, "--configfile", "bomb.yaml")
    assert status == 1
    assert err.startswith("config: holds more than 100000 values once its YAML aliases")


# --- the config as Snakemake builds it ---------------------------------------------------

ENTRIES = [
    ["ab=3", "cd=0.5", "ef=nan", "gh=1e-8", "ij=1_000", "kl= 7 "],
    ["flag=True", "other=False", "text=true", "none=", "quoted='hello'", 'dq="x y"'],
    ["sta={tau_max: -1, tau_step: 0.1}", "rf={lags: [0, 1, 2]}", "sparse={enabled: false}"],
    ["sta={tau_max: 1}", "sta={tau_step: 0.1}", "sta={tau_max: 2}"],   # merged like files
    ["eq=a=b", "colon=a: b: c", "bad=[1, 2", "path=results/x.tsv", "minus=-1"],
    ["nested={a: {b: [1, {c: d}]}}", "nested={a: {e: f}}", "over=1", "over={x: 1}"],
]


def _same(left, right):
    """Equal, NaN equal to NaN, types compared too (True is not 1)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if type(left) is not type(right) and not (isinstance(left, dict) and isinstance(right, dict)):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return left == right


@pytest.mark.parametrize("entries", ENTRIES)
def test_config_values_are_read_as_snakemake_reads_them(entries):
    snakemake_cli = pytest.importorskip("snakemake.cli")
    ours, theirs = parse_config_args(entries), snakemake_cli.parse_config(entries)
    assert _same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("entries", [["a=1"], ["1ab=2"], ["novalue"], ["ab=# nothing"]])
def test_config_entries_snakemake_refuses_are_refused(entries):
    snakemake_cli = pytest.importorskip("snakemake.cli")
    with pytest.raises(Exception):
        snakemake_cli.parse_config(entries)
    with pytest.raises(ValueError):
        parse_config_args(entries)


DUMP = """\
import json

configfile: "config/config.yaml"

with open("dump.json", "w") as handle:
    json.dump({"config": config, "files": [str(path) for path in workflow.configfiles]},
              handle)

rule all:
    default_target: True
"""

MERGES = [
    # two files in order, then values merged key by key, a list replaced, a mapping
    # replacing a scalar and a scalar a mapping
    (True, ["one.yaml", "two.yaml"],
     ["sta={tau_step: 0.25}", "rf={lags: [5]}", "extra=7", "sparse={runs: 3}"]),
    (True, [], ["sta={tau_max: 9}", "recordings=other.tsv", "sta={seed: 4}"]),
    (False, ["two.yaml"], ["flag=True"]),                 # no config/config.yaml
]


@pytest.mark.parametrize(("with_default", "files", "values"), MERGES)
def test_the_merged_config_is_snakemakes(tmp_path, monkeypatch, with_default, files, values):
    """A Snakefile that dumps its config: the same config and the same list of config
    files as workflow_config gives."""
    (tmp_path / "Snakefile").write_text(DUMP)
    (tmp_path / "config").mkdir()
    if with_default:
        (tmp_path / "config/config.yaml").write_text(
            "recordings: config/recordings.tsv\nsta: {tau_max: 0.5, tau_step: 0.01}\n"
            "rf: {lags: [0, 1]}\nsparse: {enabled: true, runs: {schemes: [none]}}\nextra: {a: 1}\n")
    (tmp_path / "one.yaml").write_text("sta: {tau_max: 0.3}\nrf: {lags: [2, 3]}\nextra: 2\n")
    (tmp_path / "two.yaml").write_text('{"sta": {"seed": 1}, "extra": {"b": 2}}')  # JSON
    arguments = (["--configfile", *files] if files else []) + ["--config", *values]
    result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "-n", "--quiet",
                             *arguments], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    theirs = json.loads((tmp_path / "dump.json").read_text())
    monkeypatch.chdir(tmp_path)
    config, used = workflow_config(files, values)
    assert json.loads(json.dumps(config)) == theirs["config"]
    assert [str(path) for path in used] == theirs["files"]


def test_the_summary_and_check_match_from_python_dash_m(project):
    """`python -m sparsefield check` in a project folder: exit 1 and the message on
    stderr; nothing on stdout."""
    result = subprocess.run([sys.executable, "-m", "sparsefield", "check", "--config",
                             "sta={tau_max: 0.05, tau_step: 0.1}"],
                            cwd=project, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("sta.tau_step, sta.tau_max: a step of 0.1 s is longer")
    assert Path(project / "results").exists() is False

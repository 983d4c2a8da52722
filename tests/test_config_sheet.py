"""The config and the recordings sheet (sparsefield.config, called by common.smk):
--config strings, every schema error at once with its key path, defaults, cross-key
checks, size limits and YAML alias bombs; the sheet read with no comment character and
no NA values, blank cells taking the documented defaults.  Then a few dry runs through
snakemake: one message, no traceback, a non-zero exit."""

import copy
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from conftest import PROJECT, copy_workflow, run_snakemake, write_config
from sparsefield.config import (
    CONFIG_MAX_NODES,
    check_config,
    check_config_files,
    coerce_strings,
    cross_key_errors,
    expanded_size,
)
from sparsefield.schema import ConfigErrors, load_schema
from sparsefield.sheet import check_sheet_files, read_sheet
from sparsefield.errors import InputError
from sparsefield.io import save_raw_mat
from sparsefield.io.session import load_session
from sparsefield.io.session_row import read_session_row

CONFIG_SCHEMA = load_schema(PROJECT / "workflow/schemas/config.schema.yaml")
SHEET_SCHEMA = load_schema(PROJECT / "workflow/schemas/recordings.schema.yaml")
DEFAULT_CONFIG = yaml.safe_load((PROJECT / "config/config.yaml").read_text())


def _config(**sections):
    """The default config with ``sections`` merged over it (one level deep)."""
    config = copy.deepcopy(DEFAULT_CONFIG)
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(config.get(name), dict):
            config[name].update(values)
        else:
            config[name] = values
    return config


def _problems(config):
    """Every message check_config gives for ``config`` (one string each)."""
    with pytest.raises(InputError) as caught:
        check_config(config, CONFIG_SCHEMA)
    error = caught.value
    return [str(item) for item in getattr(error, "errors", [error])]


# --- the config ------------------------------------------------------------------------


def test_defaults_are_filled_in_as_snakemake_validate_fills_them():
    from snakemake.utils import validate

    ours, theirs = copy.deepcopy(DEFAULT_CONFIG), copy.deepcopy(DEFAULT_CONFIG)
    check_config(ours, CONFIG_SCHEMA)
    validate(theirs, str(PROJECT / "workflow/schemas/config.schema.yaml"))
    assert ours == theirs
    # keys the rules read without .get(): filled in although config.yaml leaves them out
    assert ours["sparse"]["learning"]["normalise_measurements"] is True
    assert ours["sparse"]["images"]["scale"] == "unit"
    assert ours["simulation"]["sessions"]["sim_session"]["n_units"] == 36

    empty = {}
    check_config(empty, CONFIG_SCHEMA)
    assert empty["sta"]["tau_max"] == 0.5 and empty["sessions"]["units_per_job"] == 0
    assert empty["recordings"] == "config/recordings.tsv"


def test_command_line_strings_are_read_as_yaml_scalars_where_the_schema_wants_them():
    # what snakemake passes for --config sparse='{enabled: false}' rf='{lags: [0, 1]}' ...
    config = _config(
        sparse={"enabled": "false"},
        rf={"lags": ["0", "1"], "tol": "1e-8", "max_iter": "500.0"},
        lasso={"lags": "null", "lambda_min_ratio": ".05"},
        figures={"per_unit": "2"},
        recordings="1e-8",  # text stays text
    )
    config["simulation"]["neurons"]["sim_gauss"]["polarity"] = "on"
    config["simulation"]["neurons"]["sim_gabor"]["seed"] = "7"  # under additionalProperties
    check_config(config, CONFIG_SCHEMA)
    assert config["simulation"]["neurons"]["sim_gabor"]["seed"] == 7
    assert config["sparse"]["enabled"] is False
    assert config["rf"]["lags"] == [0, 1] and all(type(lag) is int for lag in config["rf"]["lags"])
    assert config["rf"]["tol"] == 1e-8 and isinstance(config["rf"]["tol"], float)
    assert config["rf"]["max_iter"] == 500 and type(config["rf"]["max_iter"]) is int
    assert config["lasso"]["lags"] is None
    assert config["lasso"]["lambda_min_ratio"] == 0.05
    assert config["figures"]["per_unit"] == 2
    assert config["recordings"] == "1e-8"
    assert config["simulation"]["neurons"]["sim_gauss"]["polarity"] == "on"


def test_a_string_kept_where_the_schema_accepts_it():
    value = {"per_unit": "all"}
    coerce_strings(value, CONFIG_SCHEMA["properties"]["figures"], CONFIG_SCHEMA)
    assert value == {"per_unit": "all"}


def test_a_command_line_string_that_reads_as_nothing_useful_says_how_to_write_it():
    problems = _problems(_config(sparse={"enabled": "maybe"}, sta={"n_shifts": "many"}))
    assert problems == [
        "sparse.enabled: 'maybe' is not true or false; write true or false",
        "sta.n_shifts: 'many' is not a whole number; write e.g. 3",
    ]


def test_every_schema_error_at_once_each_with_its_key_path():
    problems = _problems(_config(
        sta={"tau_max": "-1", "tua_step": 0.1},
        rf={"lags": [0, -2]},
        lasso={"rule": "mean", "n_folds": 1},
        figures={"per_unit": "few"},
        sparse={"runs": {"schemes": []}},
        bogus=3,
    ))
    text = "\n".join(problems)
    assert len(problems) == 8, text
    assert "sta.tau_max: -1 is less than or equal to the minimum of 0" in problems
    assert "rf.lags[1]: -2 is less than the minimum of 0" in problems
    assert "lasso.rule: 'mean' is not one of 1se, min" in problems
    assert "lasso.n_folds: 1 is less than the minimum of 2" in problems
    assert "figures.per_unit: 'few' is not one of all, none or a whole number >= 0" in problems
    assert "sparse.runs.schemes: [] has 0 items; it needs at least 1" in problems
    assert any(p.startswith("sta: unknown key 'tua_step' (did you mean tau_step?)") for p in problems)
    assert any(p.startswith("config: unknown key 'bogus'") for p in problems)
    assert "Failed validating" not in text and "On instance" not in text  # no jsonschema dump


def test_yaml_reading_on_as_true_gives_one_problem_saying_to_quote_it():
    config = _config()
    config["simulation"]["neurons"]["sim_gauss"]["polarity"] = yaml.safe_load("on")
    assert _problems(config) == ["simulation.neurons.sim_gauss.polarity: True is not text; "
                                 "write text, in quotes if YAML would read it otherwise"]


def test_a_long_list_of_problems_is_cut_short():
    problems = _config(rf={"lags": list(range(-30, 0))})
    with pytest.raises(ConfigErrors) as caught:
        check_config(problems, CONFIG_SCHEMA)
    assert len(caught.value.errors) == 30
    message = str(caught.value)
    assert message.startswith("config: 30 problems:") and message.endswith("... and 10 more")
    assert message.count("\n") == 21


def test_the_errors_come_in_one_message():
    with pytest.raises(ConfigErrors) as caught:
        check_config(_config(sta={"tau_max": -1, "n_shifts": 0}), CONFIG_SCHEMA)
    message = str(caught.value)
    assert message.startswith("config: 2 problems:\n")
    assert "sta.tau_max" in message and "sta.n_shifts" in message


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"simulation": {"neurons": {"x": {"kind": "gaussian"}}}},
         "simulation.neurons.x.seed: is required"),
        ({"simulation": {"neurons": {"bad name": {"seed": 1, "kind": "gaussian"}}}},
         "simulation.neurons: the name 'bad name' is not allowed"),
        ({"sparse": {"runs": {"solvers": ["fista", "fista"]}}},
         "sparse.runs.solvers: ['fista', 'fista'] repeats 'fista'"),
        ({"rf": {"window": [0.0]}}, "rf.window: [0.0] has 1 items; it needs at least 2"),
        ({"sta": {"tau_max": float("nan")}}, "sta.tau_max: nan is not a finite number"),
        ({"rf": {"tol": float("inf")}}, "rf.tol: inf is not a finite number"),
        ({"sta": 3}, "sta: 3 is not a mapping of keys"),
        ({"recordings": 12}, "recordings: 12 is not text"),
        ({"stc": {"n_shifts": 1}}, "stc.n_shifts: 1 is less than the minimum of 2"),
        ({"stc": {"n_lags": 0}}, "stc.n_lags: 0 is less than the minimum of 1"),
    ],
    ids=["required", "property_name", "repeated", "too_short", "nan", "inf", "not_a_mapping",
         "number_for_text", "stc_shifts", "stc_lags"],
)
def test_schema_messages(sections, expected):
    problems = _problems(_config(**sections))
    assert any(problem.startswith(expected) for problem in problems), problems


# --- cross-key checks ---------------------------------------------------------------------


def _checked(**sections):
    config = _config(**sections)
    check_config_errors = []
    try:
        check_config(config, CONFIG_SCHEMA)
    except InputError as error:
        check_config_errors = [str(item) for item in getattr(error, "errors", [error])]
    return check_config_errors


def test_sta_step_longer_than_tau_max_is_a_config_error_naming_both_keys():
    problems = _checked(sta={"tau_max": 0.05, "tau_step": 0.1})
    assert len(problems) == 1
    assert problems[0].startswith("sta.tau_step, sta.tau_max: a step of 0.1 s is longer than "
                                  "sta.tau_max = 0.05 s")
    assert _checked(sta={"tau_max": 0.1, "tau_step": 0.1}) == []  # two delays: 0 and 0.1 s
    assert _checked(sta={"tau_max": 0.3, "tau_step": 0.1}) == []  # 0.3/0.1 < 3 in floats


def test_disjoint_ml_and_lasso_lags():
    problems = _checked(rf={"lags": [0, 1]}, lasso={"lags": [2, 3]})
    assert problems == ["rf.lags, lasso.lags: [0, 1] and [2, 3] share no lag, so the ML and "
                        "lasso fits cannot be compared; give at least one lag in both"]
    assert _checked(rf={"lags": [0, 1]}, lasso={"lags": [1, 3]}) == []


@pytest.mark.parametrize("section", ["rf", "lasso"])
def test_reversed_window(section):
    problems = _checked(**{section: {"window": [0.3, 0.1]}})
    assert problems == [f"{section}.window: starts at 0.3 s, after it stops at 0.1 s; write "
                        "[start, stop]"]


@pytest.mark.parametrize(("key", "unit"), [("frame_interval", "s"), ("rate", "Hz")])
def test_plausible_ranges_upside_down(key, unit):
    if key not in CONFIG_SCHEMA["properties"]["sessions"]["properties"]:
        pytest.skip(f"sessions.{key} is not in the schema")
    problems = _checked(sessions={key: [5, 1]})
    assert problems == [f"sessions.{key}: the lowest plausible value 5 {unit} is above the "
                        f"highest 1 {unit}; write [lowest, highest]"]


def test_a_name_both_model_neuron_and_simulated_session():
    config = _config()
    config["simulation"]["sessions"]["sim_gauss"] = {"seed": 4}
    with pytest.raises(InputError, match="simulation.neurons, simulation.sessions: sim_gauss is "
                                         "both a model neuron and a simulated session"):
        check_config(config, CONFIG_SCHEMA)


def test_sparse_cross_key_checks_all_reported_and_only_when_enabled():
    config = _config()
    sparse = config["sparse"]
    sparse["patches"] = {"size": 12}
    sparse["compression"] = {"n_measurements": 150, "order": "hilbert"}
    sparse["runs"] = {"schemes": ["bdm"], "localization": [7]}
    sparse["images"] = {"names": ["camera", "coffee"], "validation": ["moon"]}
    problems = _problems(config)
    assert problems == [
        "sparse.compression.n_measurements: M = 150 > N = 144 pixels per 12x12 patch "
        "(sparse.patches.size); compression must not expand",
        "sparse.runs.localization: J = 7 must divide M = 150 (sparse.compression.n_measurements)",
        "sparse.runs.localization: J = 7 must divide N = 144 pixels (sparse.patches.size "
        "squared) for the block-diagonal scheme bdm",
        "sparse.compression.order: hilbert needs a power-of-two patch side; sparse.patches.size is 12",
        "sparse.images.validation: moon not in sparse.images.names",
    ]
    sparse["enabled"] = False
    check_config(config, CONFIG_SCHEMA)  # the branch is off: nothing to contradict


def test_validation_images_holding_out_every_image():
    problems = _checked(sparse={"images": {"names": ["camera", "coffee"],
                                           "validation": ["coffee", "camera"]}})
    assert problems == ["sparse.images.validation: holds out every image of sparse.images.names; "
                        "none is left for training"]


def test_the_default_config_has_no_cross_key_problem():
    config = _config()
    check_config(config, CONFIG_SCHEMA)
    assert cross_key_errors(config) == []


# --- size and structure --------------------------------------------------------------------


def _bomb(levels=9, width=10, kind="list"):
    """A YAML "billion laughs": width**levels leaves in a few hundred bytes."""
    if kind == "list":
        lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
        for level in range(1, levels + 1):
            lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
        lines.append(f"rf: {{lags: *a{levels}}}")
    else:
        lines = ["d0: &d0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"]
        for level in range(1, levels + 1):
            lines.append(f"d{level}: &d{level} {{"
                         + ", ".join(f"k{j}: *d{level - 1}" for j in range(width)) + "}")
        lines.append(f"sta: *d{levels}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_without_expanding_it():
    bomb = yaml.safe_load(_bomb())  # aliases stay shared: loading is cheap
    config = _config()
    config.update(bomb)
    start = time.perf_counter()
    with pytest.raises(InputError, match="holds more than 100000 values once its YAML aliases"):
        check_config(config, CONFIG_SCHEMA)
    assert time.perf_counter() - start < 5.0


def test_expanded_size_counts_shared_values_each_time():
    shared = [1, 2, 3]
    assert expanded_size({"a": shared, "b": shared}) == 1 + 2 + 2 * 4
    assert expanded_size(5) == 1
    assert expanded_size(_config()) < 1000
    with pytest.raises(InputError, match="more than 10 values"):
        expanded_size({"a": shared, "b": shared, "c": shared}, limit=10)
    assert CONFIG_MAX_NODES >= 10 * expanded_size(_config())


def test_a_value_that_contains_itself_is_refused():
    looped = yaml.safe_load("a: &a [1, *a]\n")
    with pytest.raises(InputError, match="contains itself"):
        check_config(_config(**looped), CONFIG_SCHEMA)


def test_config_files_over_the_size_limit(tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text("sta: {tau_max: 0.4}\n")
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 120_000)  # 1.2 MB
    check_config_files([small, tmp_path / "absent.yaml"])
    with pytest.raises(InputError, match=r"big.yaml: the config file has 1200000 bytes, more "
                                         r"than the limit of 1048576 \(1 MiB\)"):
        check_config(_config(), CONFIG_SCHEMA, config_files=[small, big])


# --- the sheet -------------------------------------------------------------------------------


def _sheet(tmp_path, text, name="recordings.tsv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(frame):
    """Rows as recording_row (common.smk) gives them: blank cells dropped."""
    return [{key: value for key, value in row.items() if value is not None}
            for row in frame.to_dict("records")]


def _sheet_error(tmp_path, text):
    path = _sheet(tmp_path, text)
    with pytest.raises(InputError) as caught:
        read_sheet(path, SHEET_SCHEMA)
    return str(caught.value), str(path)


def test_hash_in_a_path_and_the_id_NA_are_data(tmp_path):
    path = _sheet(tmp_path, "recording_id\tspikes_file\tframe_height\n"
                            "NA\tdata/run#2/spikes.mat\t20\n"
                            "nan\tdata/#1.mat\t\n"
                            "null\tNA\t3\n")
    frame = read_sheet(path, SHEET_SCHEMA)
    assert list(frame.index) == ["NA", "nan", "null"]
    rows = _rows(frame)
    assert rows[0]["recording_id"] == "NA" and rows[0]["spikes_file"] == "data/run#2/spikes.mat"
    assert rows[1]["spikes_file"] == "data/#1.mat" and "frame_height" not in rows[1]
    assert rows[2]["spikes_file"] == "NA" and rows[2]["frame_height"] == 3


def test_invalid_ids_name_the_row_and_the_rule(tmp_path):
    message, path = _sheet_error(tmp_path, "recording_id\tspikes_file\nN/A\tx.mat\n")
    assert message == (f"{path}: N/A: recording_id 'N/A' may hold only letters, digits, '_', "
                       "'.' and '-' and must start with a letter or digit")


def test_numeric_columns_stay_numeric_and_text_columns_text(tmp_path):
    path = _sheet(tmp_path, "recording_id\tspikes_file\tframe_height\tframe_rate\tunits\t"
                            "spikes_key\tmin_spikes\n"
                            "001\t7\t20\t60\t3\t123\t\n"
                            "b\tb.mat\t\t59.94\t3, 7\tkey\t5\n")
    rows = _rows(read_sheet(path, SHEET_SCHEMA))
    first, second = rows
    assert first["recording_id"] == "001" and first["spikes_file"] == "7"
    assert type(first["frame_height"]) is int and first["frame_height"] == 20
    assert type(first["frame_rate"]) is float and first["frame_rate"] == 60.0
    assert first["units"] == "3" and first["spikes_key"] == "123"
    assert "min_spikes" not in first and type(second["min_spikes"]) is int
    assert second["frame_rate"] == 59.94 and "frame_height" not in second
    settings = read_session_row(first)
    assert settings["units"] == (3,) and settings["spikes_key"] == "123"


#: The documented default (config/README.md, "The recordings sheet") of every optional
#: column, as sparsefield.io.session_row.read_session_row gives it for a blank cell with the
#: default config's sessions section: None means "not given" (the reader's default:
#: spikes_file for triggers_file/stimulus_file, DN_* for the keys, every unit, any label).
DOCUMENTED = {
    "format": "auto", "triggers_file": None, "stimulus_file": None, "spikes_key": None,
    "units_key": None, "triggers_key": None, "stimulus_key": None, "frame_height": None,
    "frame_width": None, "stimulus_axes": "hwt", "pixel_order": "C", "time_unit": "s",
    "spikes_time_unit": "s", "triggers_time_unit": "s", "sample_rate": None,
    "frame_rate": None, "first_frame_time": 0.0, "trial_stimulus": "continue", "units": None,
    "unit_label": None, "label_column": None, "min_spikes": 50, "max_frames_left_out": 0.05,
    "max_spikes_left_out": 1.0, "max_frame_gap": 4.0,
}
OPTIONAL = [name for name in SHEET_SCHEMA["properties"] if name not in SHEET_SCHEMA["required"]]
#: Columns the workflow reads itself, not the session reader (blank: not given).
WORKFLOW_COLUMNS = {"truth_file", "pixel_size_deg"}


def test_every_optional_column_is_documented_here():
    assert set(OPTIONAL) == set(DOCUMENTED) | WORKFLOW_COLUMNS


@pytest.mark.parametrize("column", OPTIONAL)
def test_a_blank_column_takes_the_documented_default(tmp_path, column):
    # blank in every row (the triggers_key case used to crash: "could not convert string
    # to float"), and with spaces only in one of them
    path = _sheet(tmp_path, f"recording_id\tspikes_file\t{column}\na\ta.mat\t\nb\tb.mat\t  \n")
    frame = read_sheet(path, SHEET_SCHEMA)
    sessions = _config()["sessions"]
    for row in _rows(frame):
        default = SHEET_SCHEMA["properties"][column].get("default")
        assert row.get(column) == default  # the schema's default, or nothing
        if column in WORKFLOW_COLUMNS:
            continue
        settings = read_session_row(row, defaults=sessions)
        assert settings[column] == DOCUMENTED[column], column


def test_every_column_blank_reads_the_same_session_as_a_minimal_sheet(tmp_path):
    rng = np.random.default_rng(0)
    triggers = np.cumsum(rng.normal(0.2, 0.01, 120))
    spikes = np.sort(rng.uniform(0.3, triggers[-1], 500))
    save_raw_mat(tmp_path / "raw.mat", spikes, triggers, rng.integers(0, 2, (4, 3, 125)))
    header = "\t".join(SHEET_SCHEMA["properties"])
    given = {"recording_id": "s1", "spikes_file": "raw.mat"}
    cells = [given.get(column, "") for column in SHEET_SCHEMA["properties"]]
    wide = _sheet(tmp_path, header + "\n" + "\t".join(cells) + "\n", name="wide.tsv")
    narrow = _sheet(tmp_path, "recording_id\tspikes_file\ns1\traw.mat\n", name="narrow.tsv")
    sessions = _config()["sessions"]
    loaded = [load_session(_rows(read_sheet(path, SHEET_SCHEMA))[0], base_dir=tmp_path,
                           defaults=sessions) for path in (wide, narrow)]
    assert loaded[0].n_frames == 120 and loaded[0].frame_shape == (4, 3)
    np.testing.assert_array_equal(loaded[0].spike_times, loaded[1].spike_times)
    np.testing.assert_array_equal(loaded[0].stimulus, loaded[1].stimulus)


def test_schema_defaults_are_filled_into_blank_cells(tmp_path):
    path = _sheet(tmp_path, "recording_id\tspikes_file\tpixel_order\na\ta.mat\t\nb\tb.mat\tF\n")
    rows = _rows(read_sheet(path, SHEET_SCHEMA))
    assert [row["pixel_order"] for row in rows] == ["C", "F"]
    assert [row["format"] for row in rows] == ["auto", "auto"]  # a column absent from the sheet


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("recording_id\tspikes_file\n", "{path}: the recordings sheet has a header but no rows; "
                                         "add one row per session"),
        ("", "{path}: the recordings sheet is empty; it needs a header line"),
        ("\n\t\n", "{path}: the recordings sheet is empty"),
        ("recording_id\tframe_height\na\t3\n", "{path}: the required column spikes_file is "
                                               "missing from the header line"),
        ("recording_id\tspikes_file\tframe_hieght\na\tx\t3\n",
         "{path}: unknown column 'frame_hieght' (did you mean frame_height?)"),
        ("recording_id\tspikes_file\tunits\tunits\na\tx\t1\t2\n",
         "{path}: the header names column units more than once"),
        ("recording_id\tspikes_file\na\tx\na\ty\n",
         "{path}: a: recording_id a is repeated (lines 2 and 3); ids must be unique"),
        ("recording_id\tspikes_file\tframe_height\na\tx\tabc\n",
         "{path}: a: column frame_height: 'abc' is not a whole number"),
        ("recording_id\tspikes_file\tframe_height\na\tx\t2.5\n",
         "{path}: a: column frame_height: '2.5' is not a whole number"),
        ("recording_id\tspikes_file\tframe_height\na\tx\t0\n",
         "{path}: a: column frame_height: 0 is less than the minimum of 1"),
        ("recording_id\tspikes_file\tframe_rate\na\tx\tnan\n",
         "{path}: a: column frame_rate: 'nan' is not a finite number"),
        ("recording_id\tspikes_file\ttime_unit\na\tx\tseconds\n",
         "{path}: a: column time_unit: 'seconds' is not one of s, ms, samples"),
        ("recording_id\tspikes_file\na\t\n", "{path}: a: column spikes_file is blank; it is required"),
        ("recording_id\tspikes_file\n\tx.mat\n",
         "{path}: line 2: recording_id is blank; every row needs one"),
        ("recording_id\tspikes_file\na\tx\t3\n",
         "{path}: a: line 2 has 3 cells but the header names 2 columns"),
        ("recording_id\tspikes_file\n# old run\tx\n",
         "{path}: # old run: recording_id '# old run' may hold only letters"),
        ('recording_id\tspikes_file\na\t"x.mat\nb\ty"\n', "{path}: a: line 3: a cell holds a line break"),
        ('recording_id\tspikes_file\na\t"x.mat\n', "{path}: line 2: unexpected end of data"),
    ],
    ids=["header_only", "empty", "blank_lines_only", "missing_required_column", "unknown_column",
         "repeated_column", "duplicate_id", "text_in_integer", "fraction_in_integer", "below_minimum",
         "nan", "bad_enum", "blank_required_cell", "blank_id", "too_many_cells", "comment_line",
         "unbalanced_quote", "unclosed_quote"],
)
def test_sheet_errors_name_the_file_row_and_column(tmp_path, text, expected):
    message, path = _sheet_error(tmp_path, text)
    assert message.startswith(expected.format(path=path)), message


def test_every_bad_cell_is_reported_at_once(tmp_path):
    message, path = _sheet_error(tmp_path, "recording_id\tspikes_file\tframe_height\tformat\n"
                                           "a\tx\tabc\tmat\nb\ty\t3\tdoc\n")
    assert message.startswith(f"{path}: 2 problems:")
    assert f"{path}: a: column frame_height" in message and f"{path}: b: column format" in message


def test_quoted_cells_utf8_bom_and_trailing_tabs(tmp_path):
    path = tmp_path / "recordings.tsv"
    path.write_bytes("\ufeffrecording_id\tspikes_file\t\n"
                     'a\t"my data/a b.mat"\t\t\n'.encode())
    rows = _rows(read_sheet(path, SHEET_SCHEMA))
    assert rows == [{"recording_id": "a", "spikes_file": "my data/a b.mat", "format": "auto",
                     "pixel_order": "C", "time_unit": "s"}]


def test_sheet_over_the_size_limit_or_missing(tmp_path):
    path = _sheet(tmp_path, "recording_id\tspikes_file\n" + "a\tx.mat\n" * 200)
    with pytest.raises(InputError, match="more than the limit of 1000"):
        read_sheet(path, SHEET_SCHEMA, max_bytes=1000)
    big = _sheet(tmp_path, "recording_id\tspikes_file\n" + "a\tx.mat\n" * 200_000, name="big.tsv")
    with pytest.raises(InputError, match=r"has \d+ bytes, more than the limit of 1048576"):
        read_sheet(big, SHEET_SCHEMA)
    with pytest.raises(InputError, match="absent.tsv: the recordings sheet .config key "
                                         "recordings. does not exist"):
        read_sheet(tmp_path / "absent.tsv", SHEET_SCHEMA)
    with pytest.raises(InputError, match="is a folder"):
        read_sheet(tmp_path, SHEET_SCHEMA)
    binary = tmp_path / "binary.tsv"
    binary.write_bytes(b"recording_id\tspikes_file\n\xff\xfe\x00x\n")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        read_sheet(binary, SHEET_SCHEMA)


def test_files_named_in_the_sheet_must_exist_unless_the_workflow_writes_them(tmp_path):
    (tmp_path / "here.mat").write_bytes(b"")
    (tmp_path / "ks").mkdir()
    path = _sheet(tmp_path, "recording_id\tspikes_file\ttriggers_file\ttruth_file\n"
                            "a\there.mat\t\t\n"
                            "b\tks\tgone.npy\tresults/simulated/b/truth.npz\n"
                            "c\tresults/simulated/c/raw.mat\t\tlost/truth.npz\n")
    frame = read_sheet(path, SHEET_SCHEMA)
    with pytest.raises(ConfigErrors) as caught:
        check_sheet_files(frame, path, base_dir=tmp_path)
    assert [str(error) for error in caught.value.errors] == [
        f"{path}: b: column triggers_file: gone.npy does not exist (paths are relative to the "
        "working directory)",
        f"{path}: c: column truth_file: lost/truth.npz does not exist (paths are relative to "
        "the working directory)",
    ]
    check_sheet_files(frame.loc[["a"]], path, base_dir=tmp_path)


# --- through snakemake (parse time: dry runs) ------------------------------------------------


def _dry_run(workdir, *arguments, timeout=120):
    return run_snakemake(workdir, "--dry-run", *arguments, timeout=timeout)


def _one_message(result, *phrases):
    """A parse-time error: non-zero exit, no traceback, no job, the phrases in the one
    WorkflowError's message."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert output.count("WorkflowError") == 1, output[-3000:]
    assert "Job stats" not in output
    for phrase in phrases:
        assert phrase in output, output[-3000:]
    return output


@pytest.mark.workflow
def test_dry_run_command_line_strings_and_a_blank_triggers_key_column(tmp_path):
    workdir = copy_workflow(tmp_path)
    sheet = (workdir / "config/recordings.tsv").read_text().splitlines()
    sheet = [sheet[0] + "\ttriggers_key"] + [line + "\t" for line in sheet[1:]]
    (workdir / "config/recordings.tsv").write_text("\n".join(sheet) + "\n")
    result = _dry_run(workdir, "--config", "sparse={enabled: false}",
                      "sta={tau_max: 0.3, tau_step: 1e-2}", "rf={lags: [0, 1]}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "load_recording" in output and "learn_dictionary" not in output


@pytest.mark.workflow
def test_dry_run_schema_errors_in_one_message(tmp_path):
    workdir = copy_workflow(tmp_path)
    result = _dry_run(workdir, "--config", "sta={tau_max: -1, n_shifts: many}",
                      "lasso={rule: mean}")
    _one_message(result, "config: 3 problems:", "sta.tau_max: -1 is less than or equal to the "
                 "minimum of 0", "sta.n_shifts: 'many' is not a whole number",
                 "lasso.rule: 'mean' is not one of 1se, min")


@pytest.mark.workflow
def test_dry_run_sta_step_longer_than_tau_max(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = write_config(workdir, {"sta": {"tau_max": 0.05, "tau_step": 0.1}})
    _one_message(_dry_run(workdir, "--configfile", config), "sta.tau_step, sta.tau_max")


@pytest.mark.workflow
def test_dry_run_header_only_sheet(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "empty.tsv").write_text("recording_id\tspikes_file\n")
    _one_message(_dry_run(workdir, "--config", "recordings=empty.tsv"),
                 "empty.tsv: the recordings sheet has a header but no rows")


@pytest.mark.workflow
@pytest.mark.parametrize(("kind", "levels"), [("list", 9), ("dict", 4)])
def test_dry_run_alias_bomb_config_file(tmp_path, kind, levels):
    """A list bomb reaches the workflow unexpanded (10**9 values) and is refused there.  A
    bomb of mappings is expanded by Snakemake itself while it merges the config files
    (snakemake.utils.update_config), before the workflow runs: a small one (10**5
    mappings) is refused by the workflow, a large one exhausts Snakemake's memory first
    (config/README.md)."""
    workdir = copy_workflow(tmp_path)
    (workdir / "bomb.yaml").write_text(_bomb(levels=levels, kind=kind))
    # a separate process with a memory cap and a timeout
    command = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30)); "
               "from snakemake.cli import main; sys.argv = ['snakemake'] + sys.argv[1:]; main()")
    result = subprocess.run([sys.executable, "-c", command, "--cores", "1", "--dry-run",
                             "--configfile", "bomb.yaml"], cwd=workdir, capture_output=True,
                            text=True, timeout=120)
    _one_message(result, "holds more than 100000 values once its YAML aliases")

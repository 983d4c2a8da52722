"""Corpus cases: the recordings sheet and the config, refused while the workflow is parsed
(sparsefield.config, called by workflow/rules/common.smk).  Each is a run of its own, a
dry run: the error comes before any job."""

from pathlib import Path

import yaml

from _corpus import Case, sparse_config, write_sheet

SHEET = "sheet.tsv"


def _raw(workdir):
    """An (empty) spikes file the sheet rows can point at: the sheet is refused before
    any file is read."""
    (Path(workdir) / "raw.mat").write_bytes(b"")
    return "raw.mat"


def _sheet_text(text):
    """make(): the sheet written as ``text``, run with it."""
    def make(workdir, rng):
        _raw(workdir)
        (Path(workdir) / SHEET).write_text(text)
        return ["--config", f"recordings={SHEET}", "-n"]
    return make


def _sheet_rows(*rows):
    """make(): a sheet of ``rows`` (dicts; spikes_file defaults to an existing file)."""
    def make(workdir, rng):
        spikes = _raw(workdir)
        write_sheet(Path(workdir) / SHEET, [{"spikes_file": spikes, **row} for row in rows])
        return ["--config", f"recordings={SHEET}", "-n"]
    return make


def _config_file(settings, name="bad.yaml"):
    """make(): a --configfile of ``settings`` (merged over the corpus base config)."""
    def make(workdir, rng):
        (Path(workdir) / name).write_text(yaml.safe_dump(settings))
        return ["--configfile", name, "-n"]
    return make


def _config_text(text, name="bad.yaml"):
    def make(workdir, rng):
        (Path(workdir) / name).write_text(text)
        return ["--configfile", name, "-n"]
    return make


def _command_line(*values):
    """make(): --config values as a shell passes them (snakemake reads their inside with
    YAML's base loader: every value a string)."""
    def make(workdir, rng):
        return ["--config", *values, "-n"]
    return make


def _sparse(**changes):
    def make(workdir, rng):
        return sparse_config(workdir, **changes) + ["-n"]
    return make


def _big_sheet(workdir, rng):
    spikes = _raw(workdir)
    lines = ["recording_id\tspikes_file"] + [f"r{i}\t{spikes}" for i in range(80_000)]
    (Path(workdir) / SHEET).write_text("\n".join(lines) + "\n")
    return ["--config", f"recordings={SHEET}", "-n"]


def _big_config(workdir, rng):
    (Path(workdir) / "big.yaml").write_text("sta: {tau_max: 0.4}\n" + "# padding\n" * 120_000)
    return ["--configfile", "big.yaml", "-n"]


def _not_utf8(workdir, rng):
    _raw(workdir)
    (Path(workdir) / SHEET).write_bytes("recording_id\tspikes_file\nm\u00fcller\traw.mat\n"
                                        .encode("latin-1"))
    return ["--config", f"recordings={SHEET}", "-n"]


def _alias_bomb(workdir, rng):
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    lines.append("rf: {lags: *a9}")
    (Path(workdir) / "bomb.yaml").write_text("\n".join(lines) + "\n")
    return ["--configfile", "bomb.yaml", "-n"]


def _name_collision(workdir, rng):
    settings = {"simulation": {"sessions": {"sim_gauss": {"seed": 5, "n_units": 4}}}}
    (Path(workdir) / "bad.yaml").write_text(yaml.safe_dump(settings))
    return ["--configfile", "bad.yaml", "-n"]


CASES = [
    # --- the sheet
    Case("sheet_header_only", "run", "a recordings sheet with its header line and no rows",
         _sheet_text("recording_id\tspikes_file\n"),
         ("the recordings sheet has a header but no rows",), SHEET),
    Case("sheet_empty", "run", "an empty recordings sheet",
         _sheet_text(""), ("the recordings sheet is empty",), SHEET),
    Case("sheet_missing", "run", "config key recordings names a sheet that does not exist",
         _command_line("recordings=absent.tsv"),
         ("config key recordings", "does not exist"), "absent.tsv"),
    Case("sheet_without_spikes_file_column", "run", "a sheet without the spikes_file column",
         _sheet_text("recording_id\tframe_height\nr1\t20\n"),
         ("the required column spikes_file is missing",), SHEET),
    Case("sheet_misspelt_column", "run", "a column frame_hieght (misspelt)",
         _sheet_rows({"recording_id": "r1", "frame_hieght": 20}),
         ("unknown column 'frame_hieght' (did you mean frame_height?)",), SHEET),
    Case("sheet_duplicate_id", "run", "two rows with the same recording_id",
         _sheet_rows({"recording_id": "r1"}, {"recording_id": "r1"}),
         ("recording_id r1 is repeated (lines 2 and 3)",), SHEET),
    Case("sheet_bad_time_unit", "run", "time_unit seconds instead of s",
         _sheet_rows({"recording_id": "r1", "time_unit": "seconds"}),
         ("r1: column time_unit: 'seconds' is not one of s, ms, samples",), SHEET),
    Case("sheet_text_in_number_column", "run", "frame_height 20px",
         _sheet_rows({"recording_id": "r1", "frame_height": "20px"}),
         ("r1: column frame_height: '20px' is not a whole number",), SHEET),
    Case("sheet_negative_min_spikes", "run", "a negative min_spikes",
         _sheet_rows({"recording_id": "r1", "min_spikes": -5}),
         ("r1: column min_spikes: -5 is less than the minimum of 0",), SHEET),
    Case("sheet_nan_frame_rate", "run", "frame_rate NaN",
         _sheet_rows({"recording_id": "r1", "frame_rate": "NaN"}),
         ("r1: column frame_rate: 'NaN' is not a finite number",), SHEET),
    Case("sheet_blank_spikes_file", "run", "a row with its spikes_file cell blank",
         _sheet_text("recording_id\tspikes_file\tframe_height\nr1\t\t20\n"),
         ("r1: column spikes_file is blank; it is required",), SHEET),
    Case("sheet_id_with_space", "run", "a recording_id with a space",
         _sheet_rows({"recording_id": "my rec"}),
         ("recording_id 'my rec' may hold only letters, digits",), SHEET),
    Case("sheet_comment_line", "run", "a line starting with # (the sheet has no comments)",
         _sheet_text("recording_id\tspikes_file\n# old session\traw.mat\nr1\traw.mat\n"),
         ("the sheet has no comment lines",), SHEET),
    Case("sheet_too_many_cells", "run", "a row with more cells than the header has columns",
         _sheet_text("recording_id\tspikes_file\nr1\traw.mat\t20\n"),
         ("line 2 has 3 cells but the header names 2 columns",), SHEET),
    Case("sheet_not_utf8", "run", "a sheet saved as Latin-1",
         _not_utf8, ("is not UTF-8 text",), SHEET),
    Case("sheet_over_size_limit", "run", "a recordings sheet of 1.2 MB",
         _big_sheet, ("bytes, more than the limit of 1048576",), SHEET),
    Case("sheet_missing_spikes_file", "run", "a row naming a spikes file that does not exist",
         _sheet_rows({"recording_id": "r1", "spikes_file": "data/missing.mat"}),
         ("r1: column spikes_file: data/missing.mat does not exist",), SHEET),
    Case("sheet_several_problems", "run", "two bad cells in two rows: both reported at once",
         _sheet_rows({"recording_id": "r1", "format": "matlab"},
                     {"recording_id": "r2", "pixel_order": "X"}),
         ("2 problems", "r1: column format", "r2: column pixel_order"), SHEET),
    # --- the config
    Case("config_sta_step_over_tau_max", "run", "sta.tau_step longer than sta.tau_max",
         _config_file({"sta": {"tau_max": 0.05, "tau_step": 0.1}}),
         ("the STA would have one delay (0 s) only",), "sta.tau_step, sta.tau_max"),
    Case("config_disjoint_lags", "run", "rf.lags and lasso.lags share no lag",
         _config_file({"rf": {"lags": [0, 1]}, "lasso": {"lags": [3, 4]}}),
         ("share no lag",), "rf.lags, lasso.lags"),
    Case("config_reversed_window", "run", "rf.window given as [stop, start]",
         _config_file({"rf": {"lags": None, "window": [0.3, 0.0]}}),
         ("starts at 0.3 s, after it stops at 0.0 s",), "rf.window"),
    Case("config_unknown_key", "run", "a misspelt key sta.tau_mx",
         _config_file({"sta": {"tau_mx": 0.4}}),
         ("unknown key 'tau_mx' (did you mean tau_max?)",), "sta"),
    Case("config_bad_enum", "run", "lasso.rule mean",
         _config_file({"lasso": {"rule": "mean"}}),
         ("'mean' is not one of 1se, min",), "lasso.rule"),
    Case("config_negative_count", "run", "a negative sta.n_shifts",
         _config_file({"sta": {"n_shifts": -1}}),
         ("-1 is less than the minimum of 2",), "sta.n_shifts"),
    Case("config_empty_list", "run", "an empty list of sparse-coding schemes",
         _config_file({"sparse": {"enabled": False, "runs": {"schemes": []}}}),
         ("needs at least 1",), "sparse.runs.schemes"),
    Case("config_text_for_number", "run", "sta.tau_max: half a second",
         _config_file({"sta": {"tau_max": "half a second"}}),
         ("is not a number; write e.g. 0.5",), "sta.tau_max"),
    Case("config_nan", "run", "sta.tau_max: .nan in a config file",
         _config_text("sta: {tau_max: .nan}\n"), ("nan is not a finite number",), "sta.tau_max"),
    Case("config_several_errors", "run", "three bad keys: all reported at once",
         _config_file({"sta": {"tau_max": -1, "seed": -2}, "figures": {"dpi": 5}}),
         ("3 problems", "sta.seed", "figures.dpi"), "sta.tau_max"),
    Case("config_cli_not_a_boolean", "run", "--config sparse='{enabled: maybe}'",
         _command_line("sparse={enabled: maybe}"),
         ("'maybe' is not true or false; write true or false",), "sparse.enabled"),
    Case("config_cli_negative_number", "run", "--config sta='{tau_max: -1}' (a string to "
         "Snakemake, read as a number)",
         _command_line("sta={tau_max: -1}"),
         ("-1 is less than or equal to the minimum of 0",), "sta.tau_max"),
    Case("config_cli_number_for_list", "run", "--config rf='{lags: 3}' where a list is wanted",
         _command_line("rf={lags: 3}"), ("is not a list or null",), "rf.lags"),
    Case("config_alias_bomb", "run", "a YAML alias bomb (10**9 values) in a --configfile",
         _alias_bomb, ("holds more than 100000 values once its YAML aliases",), "config"),
    Case("config_file_over_size_limit", "run", "a config file of 1.2 MB",
         _big_config, ("bytes, more than the limit of 1048576",), "big.yaml"),
    Case("config_name_collision", "run", "a simulated session named like a model neuron",
         _name_collision, ("sim_gauss is both a model neuron and a simulated session",),
         "simulation.neurons, simulation.sessions"),
    Case("config_validation_image_not_in_names", "run",
         "sparse.images.validation names an image not in sparse.images.names",
         _sparse(images={"names": ["camera", "grass"], "validation": ["coffee"]}),
         ("coffee not in sparse.images.names",), "sparse.images.validation"),
    Case("config_hilbert_patch_side", "run", "the hilbert pixel order with 12x12 patches",
         _sparse(patches={"size": 12, "n_train": 200, "n_validation": 50, "n_correlation": 50},
                 compression={"n_measurements": 32, "order": "hilbert"}),
         ("hilbert needs a power-of-two patch side",), "sparse.compression.order"),
]

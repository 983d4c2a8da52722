"""The command line: ``sparsefield --version`` and ``sparsefield check``.

``sparsefield check`` runs what the workflow checks while Snakemake parses it
(:func:`sparsefield.config.check_workflow_inputs`, as ``workflow/rules/common.smk``
calls it) on the config Snakemake would build, and nothing else: no job, no data file
read.  The config is built as Snakemake 9 builds it (mirrored here so that the check
needs neither Snakemake nor a Snakefile): the ``--configfile`` files in order, each
merged over the one before, then the ``--config`` values read as Snakemake reads them
(:func:`parse_config_args`), both merged over ``config/config.yaml`` of the current
folder (the Snakefile's ``configfile:``).  The schemas are read from
``workflow/schemas/`` of the current folder, as the workflow reads its own.  Exit
status: 0 and one line of summary on stdout when the config and the sheet pass; 1 and
the workflow's message on stderr when they do not; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sparsefield import __version__
from sparsefield._typing import StrPath
from sparsefield.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: The config file the Snakefile names (``configfile:``), relative to the current folder.
WORKFLOW_CONFIGFILE = "config/config.yaml"

#: The schemas the workflow checks against, relative to the current folder.
CONFIG_SCHEMA = "workflow/schemas/config.schema.yaml"
SHEET_SCHEMA = "workflow/schemas/recordings.schema.yaml"

#: A ``--config`` key, as Snakemake's ``parse_config`` accepts it (two characters at least).
CONFIG_KEY = re.compile(r"[a-zA-Z_][\w-]*\w$")


class CheckFailed(Exception):
    """A config file Snakemake would refuse to read; the message is printed as it is."""


# --- the config as Snakemake builds it -------------------------------------------------


def update_config(config: dict[str, Any], overwrite: Mapping[str, Any]) -> None:
    """Merge ``overwrite`` into ``config`` in place, mapping by mapping, as
    ``snakemake.utils.update_config`` does: a mapping is merged key by key into the
    mapping already there (or a new one), anything else replaces what was there.
    """

    def merge(config: Any, overwrite: Mapping[str, Any]) -> Any:
        for key, value in overwrite.items():
            if not isinstance(config, Mapping):
                config = {}
            if isinstance(value, Mapping):
                config[key] = merge(config.get(key, {}), value)
            else:
                config[key] = value
        return config

    merge(config, overwrite)


def _true_false(text: str) -> bool:
    if text == "True":
        return True
    if text == "False":
        return False
    raise ValueError(text)


def _config_value(text: str) -> Any:
    """One ``--config`` value as ``snakemake.cli.parse_config`` reads it: the first of
    ``int``, ``float``, ``True``/``False`` and YAML's base loader (strings, lists and
    mappings of strings) that reads it, else the text itself.
    """
    import yaml

    for read in (int, float, _true_false):
        try:
            return read(text)
        except ValueError:
            pass
    try:
        value = yaml.load(text, Loader=yaml.BaseLoader)
    except Exception:  # Snakemake catches everything here and keeps the text
        return text
    if value is None:
        raise ValueError(f"Invalid config definition: the value {text!r} reads as nothing "
                         "(Snakemake stops on it too); quote it or leave it out")
    return value


def parse_config_args(entries: Iterable[str] | None) -> dict[str, Any]:
    """The ``--config KEY=VALUE ...`` values as a dict, as Snakemake 9 reads them.

    Each value loses the quotes around it (``'"`` at either end), an empty value is
    None, and the rest is read by :func:`_config_value` (``3`` an int, ``0.5`` and
    ``nan`` floats, ``True`` a bool, ``true`` and ``{tau_max: -1}`` text or mappings of
    text that :func:`sparsefield.config.coerce_strings` reads later, as the workflow
    does).  Entries with the same key are merged like config files.

    Raises
    ------
    ValueError
        With Snakemake's message, for an entry without ``=`` or a key that is not an
        identifier of at least two characters.
    """
    config: dict[str, Any] = {}
    for entry in entries or ():
        if "=" not in entry:
            raise ValueError("Invalid config definition: Config entries have to be defined "
                             f"as name=value pairs. (Unparsable value: {entry!r})")
        key, value = entry.split("=", 1)
        value = value.strip("'\"")
        if not CONFIG_KEY.match(key):
            raise ValueError("Invalid config definition: Config entry must start with a "
                             f"valid identifier. (Snakemake's rule: {key!r} must be a letter "
                             "or '_', then letters, digits, '_' or '-', two characters at "
                             "least)")
        update_config(config, {key: None if value == "" else _config_value(value)})
    return config


def load_configfile(path: StrPath) -> dict[str, Any]:
    """A config file as Snakemake reads it: JSON, else YAML (safe loader); it must hold a
    mapping.  A YTE template (``__use_yte__: true``) is refused: it would run code.
    """
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise CheckFailed(f"Config file {path} not found.") from None
    except UnicodeDecodeError:
        raise CheckFailed(f"Config file {path} is not UTF-8 text.") from None
    except OSError as error:
        raise CheckFailed(f"Config file {path} cannot be read ({error.strerror}).") from None
    try:
        loaded = json.loads(text)
    except ValueError:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            problem = getattr(error, "problem", None)
            line = f" (line {where.line + 1}: {problem})" if where is not None else ""
            raise CheckFailed(f"Config file {path} is not valid JSON or YAML{line}. In case of "
                              "YAML, make sure to not mix whitespace and tab indentation.") \
                from None
        if isinstance(loaded, dict) and loaded.get("__use_yte__") is not None:
            if loaded.pop("__use_yte__"):
                raise CheckFailed(f"Config file {path} is a YTE template (__use_yte__: true); "
                                  "sparsefield check does not run templates: use snakemake -n"
                                  ) from None
    if not isinstance(loaded, dict):
        raise CheckFailed(f"Config file {path} must be given as JSON or YAML with keys at top "
                          "level.")
    return loaded


def workflow_config(configfiles: Iterable[StrPath] = (), config_args: Iterable[str] | None = (),
                    sheet: StrPath | None = None) -> tuple[dict[str, Any], list[Path | str]]:
    """The config and the list of config files (``workflow.configfiles``) that Snakemake 9
    builds from the current folder's ``config/config.yaml``, ``--configfile
    configfiles`` and ``--config config_args``; ``sheet`` (``--sheet``) is one more
    ``--config`` value, ``recordings``.

    Config files over the size limit are refused before they are read, and a file whose
    YAML aliases expand past :data:`sparsefield.config.CONFIG_MAX_NODES` values before
    it is merged (Snakemake would expand them while merging), each with the workflow's
    message.

    Raises
    ------
    ValueError
        A ``--config`` entry Snakemake refuses (a usage error).
    CheckFailed, InputError
        A config file that cannot be used.
    """
    from sparsefield.config import check_config_files, expanded_size

    overwrite = parse_config_args(config_args)
    if sheet is not None:
        update_config(overwrite, {"recordings": os.fspath(sheet)})
    paths = [Path(path).absolute() for path in configfiles]
    files = list(paths) + ([WORKFLOW_CONFIGFILE] if os.path.exists(WORKFLOW_CONFIGFILE) else [])
    check_config_files(files)
    loaded: dict[Path | str, dict[str, Any]] = {}
    for path in files:
        loaded[path] = load_configfile(path)
        expanded_size(loaded[path])
    merged: dict[str, Any] = {}
    for path in paths:
        update_config(merged, loaded[path])
    update_config(merged, overwrite)
    # The Snakefile starts from the command line's config, merges config/config.yaml
    # over it and the command line's config over that again.
    config = copy.deepcopy(merged)
    if WORKFLOW_CONFIGFILE in loaded:
        update_config(config, loaded[WORKFLOW_CONFIGFILE])
        update_config(config, merged)
    elif not paths:
        raise CheckFailed(f"Workflow defines configfile {WORKFLOW_CONFIGFILE} but it is not "
                          "present or accessible (full checked path: "
                          f"{os.path.abspath(WORKFLOW_CONFIGFILE)}).")
    return config, files


# --- the summary -------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(config: Mapping[str, Any], sheet: pd.DataFrame) -> str:
    """One line saying what the workflow would run: the sessions of the sheet (how many
    it writes itself, under results/), the units asked for, the sparse-coding branch.
    """
    from sparsefield.sheet import written_by_workflow

    path = config["recordings"]
    written = sum(written_by_workflow(str(cell)) for cell in sheet["spikes_file"])
    asked = [re.split(r"[\s,;]+", str(cell).strip()) for cell in sheet.get("units", [])
             if cell is not None and str(cell).strip()]
    text = f"config and sheet OK: {_plural(len(sheet), 'session')} in {path}"
    if written:
        text += f" ({written} written by the workflow)"
    if asked:
        text += (f", {_plural(sum(map(len, asked)), 'unit')} asked for in "
                 f"{_plural(len(asked), 'session')}")
        if len(sheet) > len(asked):
            text += f", every unit of the other {len(sheet) - len(asked)}"
    else:
        text += ", every unit of each"
    sparse = config.get("sparse", {})
    return text + f"; sparse coding {'on' if sparse.get('enabled') else 'off'}"


# --- the command line --------------------------------------------------------------------

CHECK_HELP = """\
Check the workflow's config and recordings sheet as the workflow does while Snakemake
parses it, with the same messages, without running anything.

Run it where you run snakemake (the project folder): it reads config/config.yaml and
the schemas in workflow/schemas/ of the current folder, merges the --configfile files
and the --config values over config/config.yaml as Snakemake 9 does (a --config value
is read as Snakemake reads it: an int, a float, True/False, else YAML text that the
check reads where the schema wants a number, a boolean or a list), then checks what
the workflow checks at parse time: the size of each config file, YAML aliases, every
schema error at once with its key path, the defaults, the checks across keys (rf.lags
and lasso.lags, sta.tau_step and sta.tau_max, the sparse-coding branch's M, J and
images, ...), every cell of the recordings sheet the config names (or --sheet), and
that the files the sheet names exist (except those the workflow writes, under
results/).

It does not read the data files: the checks of each session that need its spike times,
frame times or stimulus (frame intervals, rates, a stimulus that varies, ...) run when
the workflow loads the session.  Nor does it check that results/ can be written.

As in Snakemake, a second --configfile (or --config) replaces the list of the first:
give every file after one --configfile and every value after one --config.

Exit status: 0 and one line of summary when both pass; 1 and the message(s) on stderr
when not; 2 for a usage error."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sparsefield``."""
    parser = argparse.ArgumentParser(
        prog="sparsefield",
        description="sparsefield: receptive fields from spikes and from sparse coding. "
                    "The workflow runs with snakemake; this command checks its inputs.",
    )
    parser.add_argument("--version", action="version", version=f"sparsefield {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check", help="check the config and the recordings sheet without running anything",
        description=CHECK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--configfile", "--configfiles", nargs="+", metavar="FILE", default=[],
                       help="config files merged over config/config.yaml, in order "
                            "(as snakemake --configfile)")
    check.add_argument("--config", "-C", nargs="*", metavar="KEY=VALUE", default=[],
                       help="values merged over the config files (as snakemake --config), "
                            "e.g. sta='{tau_max: 0.3}'")
    check.add_argument("--sheet", metavar="SHEET",
                       help="check this recordings sheet instead of the one the config "
                            "names (as --config recordings=SHEET)")
    check.set_defaults(parser=check)
    return parser


def check(arguments: argparse.Namespace) -> int:
    """``sparsefield check``: the exit status."""
    parser = arguments.parser
    missing = [path for path in (CONFIG_SCHEMA, SHEET_SCHEMA) if not os.path.isfile(path)]
    if missing:
        parser.error(f"no {missing[0]} in {os.getcwd()}: run sparsefield check in the "
                     "project folder, where the Snakefile is")
    try:
        from sparsefield.config import check_workflow_inputs

        try:
            config, files = workflow_config(arguments.configfile, arguments.config,
                                            arguments.sheet)
        except ValueError as error:
            if isinstance(error, InputError):
                raise
            parser.error(str(error))
        sheet = check_workflow_inputs(config, CONFIG_SCHEMA, SHEET_SCHEMA, config_files=files)
    except (InputError, CheckFailed) as error:
        print(error, file=sys.stderr)
        return 1
    except ImportError as error:
        print(f"sparsefield check needs PyYAML, jsonschema and pandas (Snakemake installs "
              f"them; or pip install 'sparsefield[workflow]'): {error}", file=sys.stderr)
        return 1
    print(summary(config, sheet))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``sparsefield`` command; returns the exit status (argparse exits with 2 on a
    usage error).
    """
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "check":
        return check(arguments)
    parser.error(f"unknown command {arguments.command}")  # pragma: no cover

"""The recordings sheet: read, checked, defaults filled in.

The workflow (``workflow/rules/common.smk``, through
:func:`sparsefield.config.check_workflow_inputs`) reads it while it is parsed, after
the config, and ``sparsefield check`` does the same; the cells are unit tested in
``tests/test_config_sheet.py``.

Tab-separated, the first line the column names (:func:`read_sheet`).  No comment
character and no NA values: ``#`` in a path and a recording id ``NA`` are data.  Blank
cells are left out of the row (the readers apply the documented defaults; the schema's
``default`` values are filled in as Snakemake did).  Integer and number columns hold
ints and floats, every other column text, whatever the cell looks like.  Files the sheet
names must exist unless the workflow writes them (:func:`check_sheet_files`).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.schema import (
    ConfigErrors,
    check_file_size,
    describe_error,
    load_schema,
    schema_validator,
    show,
)

if TYPE_CHECKING:
    import pandas as pd
    from jsonschema.protocols import Validator

#: Largest recordings sheet read, in bytes (1 MiB: about 5000 rows of long paths).
SHEET_MAX_BYTES = 1 << 20


def _cell_value(text: str, kind: str) -> int | float | str:
    """A non-blank sheet cell as the schema's type; raises ValueError with the reason."""
    if kind == "integer":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{show(text)} is not a whole number") from None
        if not math.isfinite(number) or not number.is_integer():
            raise ValueError(f"{show(text)} is not a whole number")
        return int(number)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{show(text)} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{show(text)} is not a finite number")
        return number
    return text


def _sheet_kind(subschema: Mapping[str, Any]) -> str:
    kind = subschema.get("type", "string")
    return kind if isinstance(kind, str) else "string"


def read_sheet(path: StrPath, schema: dict[str, Any] | StrPath,
               max_bytes: int = SHEET_MAX_BYTES) -> pd.DataFrame:
    """The recordings sheet as a DataFrame indexed by ``recording_id``, checked.

    Parameters
    ----------
    path : path
        The sheet: tab-separated, first line the column names, one session per line.
        No comment character and no NA values; a cell is blank when it is empty or
        only spaces, and then left out of the row.  Quotes around a cell (as a
        spreadsheet writes them) are removed.
    schema : dict or path
        The row schema (``workflow/schemas/recordings.schema.yaml``): column names,
        types (integer and number columns become int and float; the rest stay text),
        required columns and ranges; its ``default`` values fill blank cells.
    max_bytes : int
        Larger sheets are refused before they are read.

    Returns
    -------
    pandas.DataFrame
        Object columns (ints, floats, str; None where blank), one per column of the
        sheet plus the schema's columns with a default, indexed by ``recording_id``
        (kept as a column too), rows in the order of the file.

    Raises
    ------
    InputError
        Naming the sheet file, and the recording id (or line) and column of a bad
        cell; a :class:`ConfigErrors` lists every bad cell at once.
    """
    import pandas as pd

    if not isinstance(schema, dict):
        schema = load_schema(schema)
    path = os.fspath(path)
    lines = _sheet_lines(path, max_bytes)
    header = _sheet_header(path, *lines[0], schema)
    if not lines[1:]:
        raise InputError(path, "the recordings sheet has a header but no rows; add one row "
                         "per session")
    records = _sheet_records(path, header, lines[1:], schema)

    properties = schema.get("properties", {})
    columns = list(header) + [name for name in properties if name not in header
                              and any(name in record for record in records)]
    frame = pd.DataFrame(
        {column: pd.Series([record.get(column) for record in records], dtype=object)
         for column in columns}
    )
    frame.index = pd.Index([record["recording_id"] for record in records], dtype=object,
                           name="recording_id")
    return frame


def _sheet_lines(path: str, max_bytes: int) -> list[tuple[int, list[str]]]:
    """The sheet's non-blank lines as (line number, stripped cells), the first one the
    header; raises for a sheet too large, not UTF-8 text, badly quoted or empty.
    """
    check_file_size(path, max_bytes, "recordings sheet (config key recordings)")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise InputError(path, f"is not UTF-8 text (byte {error.start}); save the sheet as "
                         "UTF-8 tab-separated text") from None
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror})") from None
    if "\0" in text:
        raise InputError(path, "holds NUL bytes: it is not a text file; give the "
                         "tab-separated recordings sheet")

    reader = csv.reader(io.StringIO(text), delimiter="\t", strict=True)
    lines = []
    try:
        for cells in reader:
            lines.append((reader.line_num, cells))
    except csv.Error as error:
        raise InputError(path, f"line {reader.line_num}: {error} (a cell that starts with "
                         "a quote must end with one)") from None
    lines = [(number, [cell.strip() for cell in cells]) for number, cells in lines]
    lines = [(number, cells) for number, cells in lines if any(cells)]
    if not lines:
        raise InputError(path, "the recordings sheet is empty; it needs a header line "
                         "(recording_id, spikes_file, ...) and one row per session")
    return lines


def _sheet_header(path: str, header_line: int, header: list[str],
                  schema: Mapping[str, Any]) -> list[str]:
    """The column names (trailing blank cells dropped); raises for a nameless or
    repeated column, and for every unknown or missing column at once.
    """
    properties = schema.get("properties", {})
    while header and not header[-1]:
        header.pop()
    if not all(header):
        raise InputError(path, f"line {header_line}: column {header.index('') + 1} of the "
                         "header has no name")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InputError(path, f"the header names column {', '.join(repeated)} more than once")
    errors = []
    for name in [name for name in header if name not in properties]:
        close = difflib.get_close_matches(name, list(properties), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if name.startswith("#"):
            hint = " (the sheet has no comment lines)"
        errors.append(InputError(path, f"unknown column {show(name)}{hint}; the columns are "
                                 f"described in config/README.md"))
    for name in [name for name in schema.get("required", []) if name not in header]:
        errors.append(InputError(path, f"the required column {name} is missing from the "
                                 "header line"))
    if errors:
        raise ConfigErrors(errors, what=path)
    return header


def _schema_problems(where: str, record: dict[str, Any], validator: Validator,
                     schema: Mapping[str, Any]) -> list[InputError]:
    """The schema's problems with one row (a dict of its non-blank cells)."""
    problems = []
    for error in validator.iter_errors(record):
        found = describe_error(error, schema)
        column = found.source if found.source != "config" else None
        if error.validator == "required":
            problem = f"column {column} is blank; it is required"
        elif error.validator == "pattern" and column == "recording_id":
            problem = (f"recording_id {show(record['recording_id'])} may hold only "
                       "letters, digits, '_', '.' and '-' and must start with a letter "
                       "or digit" + (" (the sheet has no comment lines)"
                                     if record["recording_id"].startswith("#") else ""))
        else:
            problem = f"column {column}: {found.problem}"
        problems.append(InputError(where, problem))
    return problems


def _sheet_records(path: str, header: list[str], rows: list[tuple[int, list[str]]],
                   schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each row as a dict of its non-blank cells (numbers where the schema says so, the
    schema's defaults filled in); every bad cell of every row at once.
    """
    properties = schema.get("properties", {})
    validator = schema_validator(schema)
    errors: list[InputError] = []
    records: list[dict[str, Any]] = []
    ids: dict[str, int] = {}
    for number, cells in rows:
        index = header.index("recording_id")
        identifier = cells[index] if index < len(cells) else ""
        where = f"{path}: {identifier}" if identifier else f"{path}: line {number}"
        if len(cells) > len(header) and any(cells[len(header):]):
            errors.append(InputError(where, f"line {number} has {len(cells)} cells but the "
                                     f"header names {len(header)} columns"))
            continue
        if any("\n" in cell or "\r" in cell for cell in cells):
            errors.append(InputError(where, f"line {number}: a cell holds a line break (a "
                                     "quote that opens a cell and closes in a later line?)"))
            continue
        record: dict[str, Any] = {}
        for column, cell in zip(header, cells, strict=False):
            if not cell:
                continue
            try:
                record[column] = _cell_value(cell, _sheet_kind(properties[column]))
            except ValueError as error:
                errors.append(InputError(where, f"column {column}: {error}"))
        if not record.get("recording_id"):
            errors.append(InputError(where, "recording_id is blank; every row needs one"))
            continue
        errors += _schema_problems(where, record, validator, schema)
        identifier = record["recording_id"]
        if identifier in ids:
            errors.append(InputError(where, f"recording_id {identifier} is repeated (lines "
                                     f"{ids[identifier]} and {number}); ids must be unique"))
        ids.setdefault(identifier, number)
        records.append(record)
    if errors:
        raise ConfigErrors(errors, what=path)
    return records


#: Sheet columns that name files (or a Kilosort folder).
FILE_COLUMNS = ("spikes_file", "triggers_file", "stimulus_file", "truth_file")


def written_by_workflow(path: StrPath, generated: Iterable[str] = ("results",)) -> bool:
    """Whether ``path`` (a sheet cell) lies under one of the ``generated`` folders, which
    the workflow writes itself (e.g. the simulated recordings in results/simulated/).
    """
    normal = os.path.normpath(path)
    return any(normal == folder or normal.startswith(folder + os.sep) for folder in generated)


def check_sheet_files(frame: pd.DataFrame, path: StrPath, generated: Iterable[str] = ("results",),
                      base_dir: StrPath = ".") -> None:
    """Refuse sheet rows naming files that do not exist and that the workflow does not
    write (paths under one of the ``generated`` folders, e.g. the simulated recordings
    in results/simulated/); every missing file at once, naming the sheet, the
    recording id and the column.  Paths are relative to ``base_dir`` (the work dir).
    """
    errors = []
    for identifier, row in zip(frame.index, frame.to_dict("records"), strict=True):
        for column in FILE_COLUMNS:
            value = row.get(column)
            if value is None:
                continue
            if written_by_workflow(value, generated):
                continue
            if not os.path.exists(os.path.join(base_dir, value)):
                errors.append(InputError(f"{path}: {identifier}",
                                         f"column {column}: {value} does not exist (paths are "
                                         "relative to the working directory)"))
    if errors:
        raise ConfigErrors(errors, what=os.fspath(path))

"""Checking a user's input against a JSON schema, with messages in the user's words.

Shared by the config (:mod:`sparsefield.config`) and the recordings sheet
(:mod:`sparsefield.sheet`): a validator that fills in the schema's defaults as
Snakemake's does, each jsonschema error turned into one
:class:`~sparsefield.errors.InputError` named by its key path (``sta.tau_max``) or
column, several problems reported at once (:class:`ConfigErrors`), and input files
refused by size before they are read.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
import reprlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sparsefield._typing import StrPath
from sparsefield.errors import InputError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

#: Problems listed in one message (the rest are counted).
MAX_SHOWN = 20

#: JSON-schema type names and what to write for each in a message.
_TYPE_WORDS = {
    "number": ("a number", "e.g. 0.5 or 1.0e-8"),
    "integer": ("a whole number", "e.g. 3"),
    "boolean": ("true or false", "true or false"),
    "null": ("null", "null"),
    "array": ("a list", "e.g. [0, 1, 2]"),
    "object": ("a mapping of keys", "its keys indented below it, or {key: value, ...}"),
    "string": ("text", "text, in quotes if YAML would read it otherwise"),
}

_SHOW = reprlib.Repr()
_SHOW.maxstring = 60
_SHOW.maxother = 60
_SHOW.maxlist = _SHOW.maxdict = _SHOW.maxtuple = 6
_SHOW.maxlevel = 2


class ConfigErrors(InputError):
    """Several problems with the config or the sheet, reported at once.

    ``errors`` holds one :class:`~sparsefield.errors.InputError` per problem (source:
    the config key, or the sheet file and row); the message lists them all.
    """

    def __init__(self, errors: Iterable[InputError], what: str = "config") -> None:
        self.errors = list(errors)
        if len(self.errors) == 1:
            super().__init__(self.errors[0].source, self.errors[0].problem)
        else:
            shown = self.errors[:MAX_SHOWN]
            lines = "\n".join(f"  {error}" for error in shown)
            if len(self.errors) > len(shown):
                lines += f"\n  ... and {len(self.errors) - len(shown)} more"
            super().__init__(what, f"{len(self.errors)} problems:\n{lines}")


def show(value: object) -> str:
    """A short repr of a config value or a cell for a message."""
    return _SHOW.repr(value)


def load_schema(path: StrPath) -> dict[str, Any]:
    """A schema file (YAML) as a dict."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def check_file_size(path: StrPath, limit: int, what: str) -> int:
    """Refuse a file larger than ``limit`` bytes (or not a readable file) before it is read.

    ``what`` names the file for the user ("config file", "recordings sheet").
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputError(path, f"the {what} is a folder; give a file")
    try:
        size = os.path.getsize(path)
    except OSError:
        raise InputError(path, f"the {what} does not exist or cannot be read") from None
    if size > limit:
        raise InputError(path, f"the {what} has {size} bytes, more than the limit of {limit} "
                         f"({limit // (1 << 20)} MiB); split it or trim it")
    return size




def resolve_ref(schema: Any, root: Mapping[str, Any]) -> Any:
    """Follow local ``$ref`` pointers (``#/$defs/name``)."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        reference = schema["$ref"]
        if not reference.startswith("#/"):
            return schema
        target = root
        for part in reference[2:].split("/"):
            target = target[part]
        schema = target
        seen += 1
    return schema


def schema_types(schema: Any, root: Mapping[str, Any]) -> set[str]:
    """The JSON types a (sub)schema accepts, through oneOf/anyOf; empty: any."""
    schema = resolve_ref(schema, root)
    if not isinstance(schema, dict):
        return set()
    found = set()
    kind = schema.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(kind)
    for branch_key in ("oneOf", "anyOf"):
        for branch in schema.get(branch_key, []):
            found |= schema_types(branch, root)
    return found


def schema_validator(schema: Mapping[str, Any]) -> Validator:
    """A Draft 2020-12 validator of ``schema`` that fills in the defaults of missing
    properties while it validates, as ``snakemake.utils.validate(..., set_default=True)``
    does.
    """
    from jsonschema import Draft202012Validator, validators

    check_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator: Validator, properties: Mapping[str, Any], instance: Any,
                                 schema: Mapping[str, Any]) -> Iterator[ValidationError]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    kind = validators.extend(Draft202012Validator, {"properties": properties_with_defaults})
    return kind(schema)


def key_path(parts: Iterable[str | int]) -> str:
    """``["sta", "tau_max"]`` -> ``"sta.tau_max"``; list indices as ``[2]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _describe(schema: Any, root: Mapping[str, Any]) -> str:
    """What a subschema accepts, in a few words (for oneOf/anyOf messages)."""
    schema = resolve_ref(schema, root)
    if not isinstance(schema, dict):
        return "a valid value"
    if "enum" in schema:
        return "one of " + ", ".join(str(choice) for choice in schema["enum"])
    for branch_key in ("oneOf", "anyOf"):
        if branch_key in schema:
            return " or ".join(_describe(branch, root) for branch in schema[branch_key])
    kinds = schema_types(schema, root)
    words = " or ".join(_TYPE_WORDS.get(kind, (kind, kind))[0]
                        for kind in sorted(kinds)) or "a valid value"
    bounds = []
    for keyword, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                          ("exclusiveMaximum", "<")):
        if keyword in schema:
            bounds.append(f"{sign} {schema[keyword]}")
    return words + (" " + " and ".join(bounds) if bounds else "")


def _type_message(error: ValidationError, root: Mapping[str, Any]) -> str:
    wanted: Any = error.validator_value
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    words = " or ".join(_TYPE_WORDS.get(kind, (kind, kind))[0] for kind in wanted)
    examples = "; or ".join(_TYPE_WORDS.get(kind, (kind, kind))[1] for kind in wanted)
    return f"{show(error.instance)} is not {words}; write {examples}"


def _unknown_keys_message(error: ValidationError, root: Mapping[str, Any]) -> str:
    properties = resolve_ref(error.schema, root).get("properties", {})
    instance: Any = error.instance
    unknown = [key for key in instance if key not in properties]
    known = sorted(properties)
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), known, n=1)
        parts.append(f"{show(key)}" + (f" (did you mean {close[0]}?)" if close else ""))
    return (f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; "
            f"the keys here are {', '.join(known)}")


def describe_error(error: ValidationError, root: Mapping[str, Any]) -> InputError:
    """One jsonschema ValidationError as an :class:`InputError` named by its key path."""
    path = list(error.absolute_path)
    kind = error.validator
    value: Any = error.instance
    expected: Any = error.validator_value
    if kind == "type":
        problem = _type_message(error, root)
    elif kind == "additionalProperties" and isinstance(value, dict):
        problem = _unknown_keys_message(error, root)
    elif kind == "required":
        missing = [name for name in expected if name not in value]
        path = path + [missing[0]] if len(missing) == 1 else path
        problem = ("is required" if len(missing) == 1
                   else f"{', '.join(missing)} are required")
    elif kind == "enum":
        choices = ", ".join(str(choice) for choice in expected)
        problem = f"{show(value)} is not one of {choices}"
    elif kind in ("oneOf", "anyOf"):
        problem = f"{show(value)} is not {_describe(error.schema, root)}"
    elif kind == "minItems":
        problem = f"{show(value)} has {len(value)} items; it needs at least {expected}"
    elif kind == "maxItems":
        problem = f"{show(value)} has {len(value)} items; at most {expected} are allowed"
    elif kind == "uniqueItems":
        seen: list[Any] = []
        repeated: list[Any] = []
        for item in value:
            (repeated if item in seen else seen).append(item)
        problem = f"{show(value)} repeats {show(repeated[0]) if repeated else 'an item'}"
    elif kind == "pattern":
        described = resolve_ref(error.schema, root).get("description")
        problem = f"{show(value)} does not match {expected}" + (
            f" ({described})" if described else "")
        if "propertyNames" in error.relative_schema_path:
            problem = f"the name {show(value)} is not allowed (letters, digits, '_', '.', '-')"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        problem = error.message  # e.g. "-1 is less than or equal to the minimum of 0"
    else:
        message = error.message
        problem = message if len(message) <= 200 else message[:200] + "..."
    return InputError(key_path(path) or "config", problem)


def _non_finite(value: object, path: tuple[str | int, ...] = ()) -> Iterator[InputError]:
    """Key paths of NaN or infinite numbers (the schema lets them through)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield InputError(key_path(path) or "config",
                         f"{value} is not a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, (*path, index))


def schema_errors(instance: Any, schema: Mapping[str, Any]) -> list[InputError]:
    """Every problem of ``instance`` against ``schema`` (defaults filled into
    ``instance`` along the way), as :class:`InputError` s sorted by key path.
    """
    validator = schema_validator(schema)
    raw = list(validator.iter_errors(instance))
    # a value of the wrong type also fails its enum or range: report the type only
    mistyped = {tuple(error.absolute_path) for error in raw if error.validator == "type"}
    found = [describe_error(error, schema) for error in raw
             if error.validator == "type" or tuple(error.absolute_path) not in mistyped]
    found += list(_non_finite(instance))
    unique: dict[str, InputError] = {}
    for error in found:
        unique.setdefault(str(error), error)
    return sorted(unique.values(), key=lambda error: (error.source, error.problem))



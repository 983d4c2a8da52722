"""The workflow's config and recordings sheet: read, checked, defaults filled in.

The workflow (``workflow/rules/common.smk``) calls these at parse time, before any
job exists, and turns an :class:`~sparsefield.errors.InputError` into one
Snakemake ``WorkflowError``; everything here is plain Python so that it is unit
tested (``tests/test_config_sheet.py``).

The config (:func:`check_config`)
    Snakemake has already read ``config/config.yaml``, each ``--configfile`` and the
    ``--config`` values and merged them.  What is checked, in this order:

    1. size: each config file at most :data:`CONFIG_MAX_BYTES`
       (:func:`check_config_files`), and the merged config at most
       :data:`CONFIG_MAX_NODES` values once YAML aliases are expanded
       (:func:`expanded_size`; an alias "bomb" is refused here, before anything
       walks it), with no value that contains itself;
    2. ``--config`` strings: Snakemake reads the inside of ``--config
       sparse='{enabled: false}'`` with YAML's base loader, which leaves every value
       a string (``'false'``, ``'-1'``).  Where the schema expects a number, an
       integer, a boolean, null, a list or a mapping, a string is read as a YAML
       scalar (``yaml.safe_load``) and kept when that gives the expected type
       (``1e-8``, which YAML 1.1 leaves a string, is read as a float where a number is
       expected); a whole float (``600.0``) where an integer is expected becomes an int;
    3. the schema (``workflow/schemas/config.schema.yaml``): every error at once,
       each as ``key.path: what is wrong``, with the schema's defaults filled in as
       ``snakemake.utils.validate(config, schema)`` fills them; NaN and infinite
       numbers are refused too;
    4. cross-key checks (:func:`cross_key_errors`): settings that each pass the
       schema but together give no result or a degenerate one.

The sheet (:func:`read_sheet`)
    Tab-separated, the first line the column names.  No comment character and no
    NA values: ``#`` in a path and a recording id ``NA`` are data.  Blank cells are
    left out of the row (the readers apply the documented defaults; the schema's
    ``default`` values are filled in as Snakemake did).  Integer and number columns
    hold ints and floats, every other column text, whatever the cell looks like.
"""

import copy
import csv
import difflib
import io
import math
import os
import reprlib

from sparsefield.errors import InputError

#: Largest recordings sheet read, in bytes (1 MiB: about 5000 rows of long paths).
SHEET_MAX_BYTES = 1 << 20

#: Largest config file accepted, in bytes.
CONFIG_MAX_BYTES = 1 << 20

#: Most values (mapping keys, list items and scalars, aliases expanded) in the merged
#: config; the default config has about 250, a config of 1000 model neurons 20000.
CONFIG_MAX_NODES = 100_000

#: JSON-schema type names and what to write for each in a message.
#: Problems listed in one message (the rest are counted).
MAX_SHOWN = 20

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

    def __init__(self, errors, what="config"):
        self.errors = list(errors)
        if len(self.errors) == 1:
            super().__init__(self.errors[0].source, self.errors[0].problem)
        else:
            shown = self.errors[:MAX_SHOWN]
            lines = "\n".join(f"  {error}" for error in shown)
            if len(self.errors) > len(shown):
                lines += f"\n  ... and {len(self.errors) - len(shown)} more"
            super().__init__(what, f"{len(self.errors)} problems:\n{lines}")


def show(value):
    """A short repr of a config value or a cell for a message."""
    return _SHOW.repr(value)


def load_schema(path):
    """A schema file (YAML) as a dict."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --- size and structure ----------------------------------------------------------------


def check_file_size(path, limit, what):
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


def check_config_files(paths, limit=CONFIG_MAX_BYTES):
    """Refuse config files over ``limit`` bytes (every path given that exists)."""
    errors = []
    for path in dict.fromkeys(os.fspath(path) for path in paths):
        if os.path.isfile(path):
            try:
                check_file_size(path, limit, "config file")
            except InputError as error:
                errors.append(error)
    if errors:
        raise ConfigErrors(errors)


def _children(node):
    if isinstance(node, dict):
        return list(node.values())
    return list(node)


def expanded_size(value, limit=CONFIG_MAX_NODES, source="config"):
    """Number of values in ``value`` with shared parts (YAML aliases) counted each time
    they occur, computed without expanding them; refuses more than ``limit`` and a
    value that contains itself.

    A mapping counts 1 plus 1 per key plus its values, a list 1 plus its items, a
    scalar 1.  The walk visits each distinct container once (iteratively: no
    recursion limit), so a "billion laughs" of a few lines costs a few steps.
    """
    sizes = {}
    open_ = set()
    stack = [(value, False)]
    while stack:
        node, finished = stack.pop()
        if not isinstance(node, (dict, list, tuple)):
            continue
        key = id(node)
        if finished:
            total = 1 + (len(node) if isinstance(node, dict) else 0)
            for child in _children(node):
                total += sizes[id(child)] if isinstance(child, (dict, list, tuple)) else 1
            sizes[key] = total
            open_.discard(key)
            if total > limit:
                raise InputError(source, f"holds more than {limit} values once its YAML "
                                 "aliases (*name) are expanded; a config that large is refused "
                                 "(an alias 'bomb'?)")
            continue
        if key in sizes:
            continue
        if key in open_:
            raise InputError(source, "a value contains itself (a YAML alias to an enclosing "
                             "anchor); write the value out")
        open_.add(key)
        stack.append((node, True))
        for child in _children(node):
            if isinstance(child, (dict, list, tuple)) and id(child) not in sizes:
                if id(child) in open_:
                    raise InputError(source, "a value contains itself (a YAML alias to an "
                                     "enclosing anchor); write the value out")
                stack.append((child, False))
    return sizes.get(id(value), 1)


# --- the schema ------------------------------------------------------------------------


def _resolve(schema, root):
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


def _types(schema, root):
    """The JSON types a (sub)schema accepts, through oneOf/anyOf; empty: any."""
    schema = _resolve(schema, root)
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
            found |= _types(branch, root)
    return found


def _json_types(value):
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"number", "integer"} if value.is_integer() else {"number"}
    if isinstance(value, str):
        return {"string"}
    if isinstance(value, (list, tuple)):
        return {"array"}
    if isinstance(value, dict):
        return {"object"}
    return set()


def _child_schema(schema, key, root):
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return None
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _scalar_candidates(text, types):
    """What a --config string may have meant, for the types the schema expects."""
    import yaml

    candidates = []
    try:
        candidates.append(yaml.safe_load(text))
    except yaml.YAMLError:
        pass
    if types & {"number", "integer"}:
        try:
            number = float(text.strip())
        except ValueError:
            pass
        else:
            candidates.append(number)
    return candidates


def coerce_strings(value, schema, root=None, validator=None):
    """``value`` with strings read as YAML scalars where ``schema`` expects another type.

    ``--config sta='{tau_max: -1}'`` reaches the workflow as ``{'tau_max': '-1'}``: a
    string where the schema wants a number becomes ``-1``; ``'false'`` where it wants a
    boolean becomes ``False``; ``'1e-8'`` (a string to YAML 1.1) becomes ``1e-08`` where
    it wants a number.  A string is kept when the schema accepts it as it is, or when
    it reads as nothing of the expected type (the schema then reports it).  A whole
    float where only an integer is allowed becomes an int.  Mappings and lists are
    changed in place and returned.
    """
    root = schema if root is None else root
    if validator is None:
        validator = _validator_class(root)(root)
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return value
    types = _types(schema, root)
    if isinstance(value, str) and types and types != {"string"}:
        if "string" in types and validator.evolve(schema=schema).is_valid(value):
            return value
        for candidate in _scalar_candidates(value, types):
            if isinstance(candidate, str):
                continue
            if isinstance(candidate, float) and "number" not in types and candidate.is_integer():
                candidate = int(candidate)
            if _json_types(candidate) & types:
                value = candidate
                break
        else:
            return value
    if isinstance(value, float) and "integer" in types and "number" not in types and \
            value.is_integer():
        return int(value)
    if isinstance(value, dict):
        for key in list(value):
            child = _child_schema(schema, key, root)
            if child is not None:
                value[key] = coerce_strings(value[key], child, root, validator)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                value[index] = coerce_strings(item, items, root, validator)
    return value


def _validator_class(root):
    """Draft 2020-12 that fills in the defaults of missing properties while it
    validates, as ``snakemake.utils.validate(..., set_default=True)`` does."""
    from jsonschema import Draft202012Validator, validators

    check_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(Draft202012Validator, {"properties": properties_with_defaults})


def key_path(parts):
    """``["sta", "tau_max"]`` -> ``"sta.tau_max"``; list indices as ``[2]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _describe(schema, root):
    """What a subschema accepts, in a few words (for oneOf/anyOf messages)."""
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return "a valid value"
    if "enum" in schema:
        return "one of " + ", ".join(str(choice) for choice in schema["enum"])
    for branch_key in ("oneOf", "anyOf"):
        if branch_key in schema:
            return " or ".join(_describe(branch, root) for branch in schema[branch_key])
    kinds = _types(schema, root)
    words = " or ".join(_TYPE_WORDS.get(kind, (kind, kind))[0]
                        for kind in sorted(kinds)) or "a valid value"
    bounds = []
    for keyword, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                          ("exclusiveMaximum", "<")):
        if keyword in schema:
            bounds.append(f"{sign} {schema[keyword]}")
    return words + (" " + " and ".join(bounds) if bounds else "")


def _type_message(error, root):
    wanted = error.validator_value
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    words = " or ".join(_TYPE_WORDS.get(kind, (kind, kind))[0] for kind in wanted)
    examples = "; or ".join(_TYPE_WORDS.get(kind, (kind, kind))[1] for kind in wanted)
    return f"{show(error.instance)} is not {words}; write {examples}"


def _unknown_keys_message(error, root):
    properties = _resolve(error.schema, root).get("properties", {})
    unknown = [key for key in error.instance if key not in properties]
    known = sorted(properties)
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), known, n=1)
        parts.append(f"{show(key)}" + (f" (did you mean {close[0]}?)" if close else ""))
    return (f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; "
            f"the keys here are {', '.join(known)}")


def describe_error(error, root):
    """One jsonschema ValidationError as an :class:`InputError` named by its key path."""
    path = list(error.absolute_path)
    kind = error.validator
    value = error.instance
    if kind == "type":
        problem = _type_message(error, root)
    elif kind == "additionalProperties" and isinstance(value, dict):
        problem = _unknown_keys_message(error, root)
    elif kind == "required":
        missing = [name for name in error.validator_value if name not in value]
        path = path + [missing[0]] if len(missing) == 1 else path
        problem = ("is required" if len(missing) == 1
                   else f"{', '.join(missing)} are required")
    elif kind == "enum":
        choices = ", ".join(str(choice) for choice in error.validator_value)
        problem = f"{show(value)} is not one of {choices}"
    elif kind in ("oneOf", "anyOf"):
        problem = f"{show(value)} is not {_describe(error.schema, root)}"
    elif kind == "minItems":
        problem = f"{show(value)} has {len(value)} items; it needs at least {error.validator_value}"
    elif kind == "maxItems":
        problem = f"{show(value)} has {len(value)} items; at most {error.validator_value} are allowed"
    elif kind == "uniqueItems":
        seen, repeated = [], []
        for item in value:
            (repeated if item in seen else seen).append(item)
        problem = f"{show(value)} repeats {show(repeated[0]) if repeated else 'an item'}"
    elif kind == "pattern":
        described = _resolve(error.schema, root).get("description")
        problem = f"{show(value)} does not match {error.validator_value}" + (
            f" ({described})" if described else "")
        if "propertyNames" in error.relative_schema_path:
            problem = f"the name {show(value)} is not allowed (letters, digits, '_', '.', '-')"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        problem = error.message  # e.g. "-1 is less than or equal to the minimum of 0"
    else:
        message = error.message
        problem = message if len(message) <= 200 else message[:200] + "..."
    return InputError(key_path(path) or "config", problem)


def _non_finite(value, path=()):
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


def schema_errors(instance, schema):
    """Every problem of ``instance`` against ``schema`` (defaults filled into
    ``instance`` along the way), as :class:`InputError` s sorted by key path."""
    validator = _validator_class(schema)(schema)
    raw = list(validator.iter_errors(instance))
    # a value of the wrong type also fails its enum or range: report the type only
    mistyped = {tuple(error.absolute_path) for error in raw if error.validator == "type"}
    found = [describe_error(error, schema) for error in raw
             if error.validator == "type" or tuple(error.absolute_path) not in mistyped]
    found += list(_non_finite(instance))
    unique = {}
    for error in found:
        unique.setdefault(str(error), error)
    return sorted(unique.values(), key=lambda error: (error.source, error.problem))


# --- cross-key checks --------------------------------------------------------------------


def _sta_delays(tau_max, tau_step):
    """Delays of the STA grid (sparsefield.rf.sta._delay_grid)."""
    return int(math.floor(tau_max / tau_step + 1e-9)) + 1


def cross_key_errors(config):
    """Settings that pass the schema one by one but contradict each other, or give a
    degenerate result; one :class:`InputError` each, named by the keys involved.

    - ``rf.lags`` and ``lasso.lags`` (both given) share no lag: ML and lasso cannot
      be compared;
    - ``rf.window`` / ``lasso.window`` starting after they stop, and the plausible
      ranges ``sessions.frame_interval`` / ``sessions.rate`` with their lowest value
      above their highest (every input would be implausible);
    - ``sta.tau_step`` longer than ``sta.tau_max``: an STA grid of one delay (τ = 0);
    - a name under both ``simulation.neurons`` and ``simulation.sessions``: both
      would write ``results/simulated/<name>/``;
    - with ``sparse.enabled``: ``sparse.compression.n_measurements`` M above the
      N = size² pixels of a patch; a ``sparse.runs.localization`` J not dividing M
      (or N for ``bdm``); ``sparse.compression.order: hilbert`` with a patch side
      that is not a power of two; and, for ``sparse.images.source: skimage``,
      ``sparse.images.validation`` naming an image not in ``sparse.images.names`` or
      holding out every one of them.
    """
    errors = []
    rf, lasso, sta = config.get("rf", {}), config.get("lasso", {}), config.get("sta", {})
    if rf.get("lags") and lasso.get("lags") and not set(rf["lags"]) & set(lasso["lags"]):
        errors.append(InputError("rf.lags, lasso.lags",
                                 f"{rf['lags']} and {lasso['lags']} share no lag, so the ML and "
                                 "lasso fits cannot be compared; give at least one lag in both"))
    for section in ("rf", "lasso"):
        window = config.get(section, {}).get("window")
        if window and len(window) == 2 and window[0] > window[1]:
            errors.append(InputError(f"{section}.window",
                                     f"starts at {window[0]} s, after it stops at {window[1]} s; "
                                     "write [start, stop]"))
    for key, unit in (("frame_interval", "s"), ("rate", "Hz")):
        bounds = config.get("sessions", {}).get(key)
        if isinstance(bounds, list) and len(bounds) == 2 and bounds[0] > bounds[1]:
            errors.append(InputError(f"sessions.{key}",
                                     f"the lowest plausible value {bounds[0]} {unit} is above the "
                                     f"highest {bounds[1]} {unit}; write [lowest, highest]"))
    if "tau_max" in sta and "tau_step" in sta and _sta_delays(sta["tau_max"], sta["tau_step"]) < 2:
        errors.append(InputError("sta.tau_step, sta.tau_max",
                                 f"a step of {sta['tau_step']} s is longer than sta.tau_max = "
                                 f"{sta['tau_max']} s, so the STA would have one delay (0 s) only; "
                                 "make sta.tau_step at most sta.tau_max"))
    simulation = config.get("simulation", {})
    both = sorted(set(simulation.get("neurons") or {}) & set(simulation.get("sessions") or {}))
    if both:
        errors.append(InputError("simulation.neurons, simulation.sessions",
                                 f"{', '.join(both)} is both a model neuron and a simulated "
                                 "session; both would write results/simulated/<name>/; rename one"))
    sparse = config.get("sparse", {})
    if sparse.get("enabled"):
        errors += _sparse_errors(sparse)
    return errors


def _sparse_errors(sparse):
    errors = []
    side = sparse["patches"]["size"]
    n_pixels = side * side
    m = sparse["compression"]["n_measurements"]
    if m > n_pixels:
        errors.append(InputError(
            "sparse.compression.n_measurements",
            f"M = {m} > N = {n_pixels} pixels per {side}x{side} patch (sparse.patches.size); "
            "compression must not expand"))
    for j in sparse["runs"]["localization"]:
        if m % j:
            errors.append(InputError("sparse.runs.localization",
                                     f"J = {j} must divide M = {m} "
                                     "(sparse.compression.n_measurements)"))
        if "bdm" in sparse["runs"]["schemes"] and n_pixels % j:
            errors.append(InputError("sparse.runs.localization",
                                     f"J = {j} must divide N = {n_pixels} pixels "
                                     "(sparse.patches.size squared) for the block-diagonal "
                                     "scheme bdm"))
    if sparse["compression"]["order"] == "hilbert" and side & (side - 1):
        errors.append(InputError("sparse.compression.order",
                                 f"hilbert needs a power-of-two patch side; sparse.patches.size "
                                 f"is {side}"))
    tau = sparse["learning"]["tau"]
    if sparse["patches"]["unit_norm"] and tau >= 1:
        errors.append(InputError(
            "sparse.learning.tau",
            f"{tau} >= 1: with unit-norm patches (sparse.patches.unit_norm) and unit-norm "
            "atoms a code is non-zero only where |atom . patch| > tau, and that is at most 1 "
            "(about 1 after compression), so every code would be zero and nothing would be "
            "learnt; use a tau well below 1 (the default is 0.1)"))
    images = sparse["images"]
    if images["source"] == "skimage":
        unknown = [name for name in images["validation"] if name not in images["names"]]
        if unknown:
            errors.append(InputError("sparse.images.validation",
                                     f"{', '.join(map(str, unknown))} not in sparse.images.names"))
        elif set(images["validation"]) >= set(images["names"]):
            errors.append(InputError("sparse.images.validation",
                                     "holds out every image of sparse.images.names; none is "
                                     "left for training"))
    return errors


# --- the config ----------------------------------------------------------------------


def check_config(config, schema, config_files=()):
    """Check the merged workflow config in place and return it, defaults filled in.

    Parameters
    ----------
    config : dict
        Snakemake's ``config`` (changed in place: ``--config`` strings read as YAML
        scalars where the schema expects another type, defaults filled in).
    schema : dict or path
        The config schema (``workflow/schemas/config.schema.yaml``).
    config_files : sequence of path
        The config files Snakemake read; each must be at most
        :data:`CONFIG_MAX_BYTES`.

    Raises
    ------
    ConfigErrors
        Every problem found at the first stage that has any (file sizes, expanded size,
        schema, cross-key checks); each names the config key (or file).
    """
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    check_config_files(config_files)
    if not isinstance(config, dict):
        raise InputError("config", f"expected a mapping of keys, got {show(config)}")
    expanded_size(config)
    coerce_strings(config, schema)
    expanded_size(config)
    errors = schema_errors(config, schema)
    if errors:
        raise ConfigErrors(errors)
    errors = cross_key_errors(config)
    if errors:
        raise ConfigErrors(errors)
    return config


# --- the sheet ---------------------------------------------------------------------------


def _cell_value(text, kind):
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


def _sheet_kind(subschema):
    kind = subschema.get("type", "string")
    return kind if isinstance(kind, str) else "string"


def read_sheet(path, schema, max_bytes=SHEET_MAX_BYTES):
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

    properties = schema.get("properties", {})
    header_line, header = lines[0]
    while header and not header[-1]:
        header.pop()
    errors = []
    if not all(header):
        raise InputError(path, f"line {header_line}: column {header.index('') + 1} of the "
                         "header has no name")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InputError(path, f"the header names column {', '.join(repeated)} more than once")
    unknown = [name for name in header if name not in properties]
    for name in unknown:
        close = difflib.get_close_matches(name, list(properties), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if name.startswith("#"):
            hint = " (the sheet has no comment lines)"
        errors.append(InputError(path, f"unknown column {show(name)}{hint}; the columns are "
                                 f"described in config/README.md"))
    missing = [name for name in schema.get("required", []) if name not in header]
    for name in missing:
        errors.append(InputError(path, f"the required column {name} is missing from the "
                                 "header line"))
    if errors:
        raise ConfigErrors(errors, what=path)
    rows = lines[1:]
    if not rows:
        raise InputError(path, "the recordings sheet has a header but no rows; add one row "
                         "per session")

    validator = _validator_class(schema)(schema)
    records, ids = [], {}
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
        record = {}
        for column, cell in zip(header, cells):
            if not cell:
                continue
            try:
                record[column] = _cell_value(cell, _sheet_kind(properties[column]))
            except ValueError as error:
                errors.append(InputError(where, f"column {column}: {error}"))
        if not record.get("recording_id"):
            errors.append(InputError(where, "recording_id is blank; every row needs one"))
            continue
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
            errors.append(InputError(where, problem))
        identifier = record["recording_id"]
        if identifier in ids:
            errors.append(InputError(where, f"recording_id {identifier} is repeated (lines "
                                     f"{ids[identifier]} and {number}); ids must be unique"))
        ids.setdefault(identifier, number)
        records.append(record)
    if errors:
        raise ConfigErrors(errors, what=path)

    columns = list(header) + [name for name in properties if name not in header
                              and any(name in record for record in records)]
    frame = pd.DataFrame(
        {column: pd.Series([record.get(column) for record in records], dtype=object)
         for column in columns}
    )
    frame.index = pd.Index([record["recording_id"] for record in records], dtype=object,
                           name="recording_id")
    return frame


#: Sheet columns that name files (or a Kilosort folder).
FILE_COLUMNS = ("spikes_file", "triggers_file", "stimulus_file", "truth_file")


def check_sheet_files(frame, path, generated=("results",), base_dir="."):
    """Refuse sheet rows naming files that do not exist and that the workflow does not
    write (paths under one of the ``generated`` folders, e.g. the simulated recordings
    in results/simulated/); every missing file at once, naming the sheet, the
    recording id and the column.  Paths are relative to ``base_dir`` (the work dir)."""
    errors = []
    for identifier, row in zip(frame.index, frame.to_dict("records")):
        for column in FILE_COLUMNS:
            value = row.get(column)
            if value is None:
                continue
            normal = os.path.normpath(value)
            if any(normal == folder or normal.startswith(folder + os.sep)
                   for folder in generated):
                continue
            if not os.path.exists(os.path.join(base_dir, value)):
                errors.append(InputError(f"{path}: {identifier}",
                                         f"column {column}: {value} does not exist (paths are "
                                         "relative to the working directory)"))
    if errors:
        raise ConfigErrors(errors, what=os.fspath(path))

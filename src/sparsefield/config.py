"""The workflow's config: read, checked, defaults filled in.

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

The sheet
    Read and checked by :mod:`sparsefield.sheet` (``read_sheet``, ``check_sheet_files``;
    still importable from here); :func:`check_workflow_inputs` runs the config's checks
    and the sheet's in the workflow's order, for ``common.smk`` and ``sparsefield check``.
    The schema messages of both come from :mod:`sparsefield.schema`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.schema import (
    ConfigErrors,
    check_file_size,
    load_schema,
    resolve_ref,
    schema_errors,
    schema_types,
    schema_validator,
    show,
)
from sparsefield.sheet import check_sheet_files, read_sheet

if TYPE_CHECKING:
    import pandas as pd
    from jsonschema.protocols import Validator

#: Largest config file accepted, in bytes.
CONFIG_MAX_BYTES = 1 << 20

#: Most values (mapping keys, list items and scalars, aliases expanded) in the merged
#: config; the default config has about 250, a config of 1000 model neurons 20000.
CONFIG_MAX_NODES = 100_000


# --- size and structure ----------------------------------------------------------------


def check_config_files(paths: Iterable[StrPath], limit: int = CONFIG_MAX_BYTES) -> None:
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


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    return list(node)


def expanded_size(value: object, limit: int = CONFIG_MAX_NODES, source: str = "config") -> int:
    """Number of values in ``value`` with shared parts (YAML aliases) counted each time
    they occur, computed without expanding them; refuses more than ``limit`` and a
    value that contains itself.

    A mapping counts 1 plus 1 per key plus its values, a list 1 plus its items, a
    scalar 1.  The walk visits each distinct container once (iteratively: no
    recursion limit), so a "billion laughs" of a few lines costs a few steps.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
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


# --- --config strings -----------------------------------------------------------------


def _json_types(value: object) -> set[str]:
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


def _child_schema(schema: Any, key: str, root: Mapping[str, Any]) -> Any:
    schema = resolve_ref(schema, root)
    if not isinstance(schema, dict):
        return None
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _scalar_candidates(text: str, types: set[str]) -> list[Any]:
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


def coerce_strings(value: Any, schema: Any, root: Mapping[str, Any] | None = None,
                   validator: Validator | None = None) -> Any:
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
        validator = schema_validator(root)
    schema = resolve_ref(schema, root)
    if not isinstance(schema, dict):
        return value
    types = schema_types(schema, root)
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


# --- cross-key checks --------------------------------------------------------------------


def _sta_delays(tau_max: float, tau_step: float) -> int:
    """Delays of the STA grid (sparsefield.rf.sta.delay_grid)."""
    return int(math.floor(tau_max / tau_step + 1e-9)) + 1


def cross_key_errors(config: Mapping[str, Any]) -> list[InputError]:
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


def _sparse_errors(sparse: Mapping[str, Any]) -> list[InputError]:
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


def check_config(config: dict[str, Any], schema: dict[str, Any] | StrPath,
                 config_files: Iterable[StrPath] = ()) -> dict[str, Any]:
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


def check_workflow_inputs(config: dict[str, Any], config_schema: dict[str, Any] | StrPath,
                          sheet_schema: dict[str, Any] | StrPath,
                          config_files: Iterable[StrPath] = ()) -> pd.DataFrame:
    """What the workflow checks while it is parsed (``workflow/rules/common.smk``), in
    its order: the config (:func:`check_config`, in place), then the recordings sheet
    that ``config["recordings"]`` names (:func:`sparsefield.sheet.read_sheet`), then the
    files the sheet names (:func:`sparsefield.sheet.check_sheet_files`).  Also run by
    ``sparsefield check``; no data file is read.

    Parameters
    ----------
    config : dict
        The merged config (changed in place as :func:`check_config` says).
    config_schema, sheet_schema : dict or path
        ``workflow/schemas/config.schema.yaml`` and ``recordings.schema.yaml``.
    config_files : sequence of path
        The config files read (Snakemake's ``workflow.configfiles``).

    Returns
    -------
    pandas.DataFrame
        The sheet, as :func:`sparsefield.sheet.read_sheet` returns it.

    Raises
    ------
    InputError
        The first stage's problems (a :class:`ConfigErrors` when there are several).
    """
    check_config(config, config_schema, config_files=config_files)
    path = config["recordings"]
    sheet = read_sheet(path, sheet_schema)
    # files the sheet names must exist, except what the workflow writes (results/)
    check_sheet_files(sheet, path)
    return sheet

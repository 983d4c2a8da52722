"""One source of truth for names and defaults (issue 11, item 2).

Choice sets (solver names, compression schemes, selection rules, ...) and defaults are
defined once in the library, next to the code that implements them.  The workflow's
schemas, its wildcard constraints, ``config/config.yaml`` and ``config/README.md`` repeat
them for their readers; these tests check that every copy agrees with the library:

- every ``enum`` of ``workflow/schemas/*.schema.yaml`` equals, in order, the library
  constant it mirrors (:data:`CONFIG_ENUMS`, :data:`SHEET_ENUMS`; an enum without an
  entry there fails), or is what the library accepts where there is no constant;
- every wildcard constraint in ``workflow/rules/*.smk`` that limits a wildcard to a
  choice set is built from the library constant (:data:`CHOICE_WILDCARDS`);
- every default of ``config.schema.yaml`` equals ``config/config.yaml``'s value, the
  signature default of each library parameter the key feeds (:data:`DEFAULT_SOURCES`,
  listed key by key; a default without an entry fails) and the default column of
  ``config/README.md``'s tables; the README's rows name every allowed value of an enum;
- the recordings sheet's documented defaults (schema, schema descriptions, README)
  equal :data:`sparsefield.io.session_row.SESSION_DEFAULTS` / ``VARIABLE_DEFAULTS``.
"""

import ast
import importlib
import inspect
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sparsefield import gabor, gabor_compare, gabor_table
from sparsefield.errors import InputError
from sparsefield.io import plausibility, recording, session_row
from sparsefield.plots import atoms as plots_atoms
from sparsefield.plots import overview as plots_overview
from sparsefield.plots import style
from sparsefield.rf import (
    joint_subframe,
    lags,
    lasso_backends,
    lasso_cv,
    lasso_lags,
    lasso_path,
    lasso_population,
    ml,
    model_predictions,
    neuron,
    separation,
    simulate,
    simulate_session,
    sta,
    stc,
    units_lasso,
    units_ml,
    units_scores,
    units_sta,
)
from sparsefield.sparse import compression, dictionary, images, inference, prepare, whitening

PROJECT = Path(__file__).resolve().parents[1]
RULES = PROJECT / "workflow" / "rules"
CONFIG_SCHEMA = yaml.safe_load((PROJECT / "workflow/schemas/config.schema.yaml").read_text())
SHEET_SCHEMA = yaml.safe_load((PROJECT / "workflow/schemas/recordings.schema.yaml").read_text())
CONFIG = yaml.safe_load((PROJECT / "config/config.yaml").read_text())
README = (PROJECT / "config/README.md").read_text()


# ----------------------------------------------------------------------------
# The schemas, walked


def _resolve(node, root):
    """``node`` with a local ``$ref`` (``#/$defs/<name>``) replaced by its target."""
    while "$ref" in node:
        reference = node["$ref"]
        assert reference.startswith("#/$defs/"), reference
        target = root["$defs"][reference.rsplit("/", 1)[1]]
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
    return node


def _walk(node, root, path=""):
    """(path, node) of every schema node: ``a.b`` for properties, ``a.*`` for the values
    of a mapping, ``a[]`` for the items of a list; ``oneOf`` alternatives keep the path."""
    node = _resolve(node, root)
    yield path, node
    for key, child in node.get("properties", {}).items():
        yield from _walk(child, root, f"{path}.{key}" if path else key)
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], root, f"{path}.*")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], root, f"{path}[]")
    for alternative in node.get("oneOf", []) + node.get("anyOf", []):
        yield from _walk(alternative, root, path)


def _enums(root):
    return {path: node["enum"] for path, node in _walk(root, root) if "enum" in node}


def _defaults(root):
    """Defaults of the leaves (a section's ``default: {}`` only says "fill it in")."""
    return {path: node["default"] for path, node in _walk(root, root)
            if "default" in node and node.get("type") != "object"}


SCHEMA_ENUMS = _enums(CONFIG_SCHEMA)
SCHEMA_DEFAULTS = _defaults(CONFIG_SCHEMA)


# ----------------------------------------------------------------------------
# Values compared across YAML, Markdown and Python


def _plain(value):
    """Tuples as lists, so that a library tuple equals a YAML list."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _same(first, second):
    """Equal values of the same kind (``True`` is not ``1``; ``60`` is ``60.0``)."""
    first, second = _plain(first), _plain(second)
    if isinstance(first, list) or isinstance(second, list):
        return (isinstance(first, list) and isinstance(second, list)
                and len(first) == len(second) and all(map(_same, first, second)))
    if isinstance(first, bool) or isinstance(second, bool) or first is None or second is None:
        return first is second
    if isinstance(first, (int, float)) and isinstance(second, (int, float)):
        return first == second
    return type(first) is type(second) and first == second


def _number_or_text(value):
    """YAML 1.1 reads ``1e-8`` as text: numbers written so become floats."""
    if isinstance(value, list):
        return [_number_or_text(item) for item in value]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _parse(text):
    """A default as config/README.md writes it (``null``, ``1e-8``, ``[0, 0.3]``, ``png``)."""
    return _number_or_text(yaml.safe_load(text.replace("`", "").strip()))


def _split_top_level(text):
    """``null, [0, 0.3], 5`` -> ``["null", "[0, 0.3]", "5"]`` (commas inside brackets kept)."""
    parts, depth, current = [], 0, ""
    for character in text:
        depth += character in "[(" or -(character in "])")
        if character == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += character
    return parts + [current.strip()]


# ----------------------------------------------------------------------------
# 1. Enums: the schemas' choice sets are the library's


def _figure_units_choices():
    """What ``figures.per_unit`` may name: the workflow's own choice, made in
    common.smk's figure_units (no library function takes it)."""
    text = (RULES / "common.smk").read_text()
    body = text[text.index("def figure_units"):]
    body = body[:body.index("\ndef ", 1)]
    return tuple(sorted(re.findall(r'per_unit == "(\w+)"', body)))  # the code's order is no order


#: Every enum of config.schema.yaml and the library constant it mirrors.
CONFIG_ENUMS = {
    "rf.separation_centering": ("sparsefield.rf.separation.CENTERINGS", separation.CENTERINGS),
    "lasso.separation_centering": ("sparsefield.rf.separation.CENTERINGS", separation.CENTERINGS),
    "sta.separation_centering": ("sparsefield.rf.separation.CENTERINGS", separation.CENTERINGS),
    "lasso.rule": ("sparsefield.rf.lasso_cv.RULES", lasso_cv.RULES),
    "lasso.backend": ("sparsefield.rf.lasso_backends.BACKENDS", lasso_backends.BACKENDS),
    "lasso.units_solver": ("sparsefield.rf.units_lasso.UNIT_SOLVERS", units_lasso.UNIT_SOLVERS),
    "sta.null_model": ("sparsefield.rf.units_sta.NULLS", units_sta.NULLS),
    "sessions.constant_pixels": ("sparsefield.io.plausibility.CONSTANT_PIXELS",
                                 plausibility.CONSTANT_PIXELS),
    "sparse.images.scale": ("sparsefield.sparse.images.SCALES", images.SCALES),
    "sparse.compression.order": ("sparsefield.sparse.compression.ORDERS", compression.ORDERS),
    "sparse.compression.normalise": ("sparsefield.sparse.compression.NORMALISATIONS",
                                     compression.NORMALISATIONS),
    "sparse.learning.update": ("sparsefield.sparse.dictionary.UPDATES", dictionary.UPDATES),
    "sparse.runs.schemes[]": ("sparsefield.sparse.compression.SCHEMES", compression.SCHEMES),
    "sparse.runs.solvers[]": ("sparsefield.sparse.inference.METHODS", inference.METHODS),
    # The config's model neurons have no surround keys (see the test below), so the kind
    # that needs them is left out.
    "simulation.neurons.*.kind": (
        "sparsefield.rf.neuron.KINDS without center_surround",
        tuple(kind for kind in neuron.KINDS if kind != "center_surround")),
    "figures.per_unit": ("figure_units in workflow/rules/common.smk", _figure_units_choices()),
    "models.joint.fit": ("sparsefield.rf.model_predictions.JOINT_FITS",
                         model_predictions.JOINT_FITS),
}

#: Enums with no library constant, checked against what the library accepts instead.
CONFIG_ENUMS_BY_BEHAVIOUR = {
    "figures.format": "sparsefield.plots.save_figure's file extensions",
    "simulation.neurons.*.polarity": "sparsefield.rf.neuron.NeuronModel.polarity",
}

#: Every enum of recordings.schema.yaml and the library constant it mirrors.
SHEET_ENUMS = {
    "format": ("sparsefield.io.session_row.SESSION_FORMATS", session_row.SESSION_FORMATS),
    # load_session accepts the stored orders of sparsefield.io.recording and "t" (one value
    # per frame), written inline as STIMULUS_AXES + ("t",) in sparsefield.io.session_row.
    "stimulus_axes": ('sparsefield.io.recording.STIMULUS_AXES + ("t",)',
                      recording.STIMULUS_AXES + ("t",)),
    "pixel_order": ("sparsefield.io.recording.PIXEL_ORDERS", recording.PIXEL_ORDERS),
    "time_unit": ("sparsefield.io.session_row.TIME_UNITS", session_row.TIME_UNITS),
    "spikes_time_unit": ("sparsefield.io.session_row.TIME_UNITS", session_row.TIME_UNITS),
    "triggers_time_unit": ("sparsefield.io.session_row.TIME_UNITS", session_row.TIME_UNITS),
    "trial_stimulus": ("sparsefield.io.session_row.TRIAL_STIMULUS", session_row.TRIAL_STIMULUS),
}


def test_every_enum_of_the_schemas_has_its_library_source_listed_here():
    assert set(SCHEMA_ENUMS) == set(CONFIG_ENUMS) | set(CONFIG_ENUMS_BY_BEHAVIOUR)
    assert set(_enums(SHEET_SCHEMA)) == set(SHEET_ENUMS)


@pytest.mark.parametrize("path", sorted(CONFIG_ENUMS))
def test_config_enum_is_the_library_constant(path):
    name, constant = CONFIG_ENUMS[path]
    assert constant, f"{name} is empty"
    # in order too: the schema's order is the order of its error messages and the README's
    assert SCHEMA_ENUMS[path] == list(constant), (
        f"config.schema.yaml {path}: enum {SCHEMA_ENUMS[path]} but {name} is {list(constant)}")


@pytest.mark.parametrize("column", sorted(SHEET_ENUMS))
def test_sheet_enum_is_the_library_constant(column):
    name, constant = SHEET_ENUMS[column]
    enum = SHEET_SCHEMA["properties"][column]["enum"]
    assert enum == list(constant), (
        f"recordings.schema.yaml {column}: enum {enum} but {name} is {list(constant)}")


def test_library_copies_of_a_choice_set_are_the_same_tuple():
    # the module that implements a choice defines it; others re-export it
    assert units_lasso.RULES is lasso_cv.RULES
    assert units_lasso.BACKENDS is lasso_backends.BACKENDS
    assert lasso_lags.BACKENDS is lasso_backends.BACKENDS
    assert dictionary.SOLVERS is inference.METHODS


def test_model_neurons_in_the_config_cannot_take_surround_keys():
    """Why ``center_surround`` is not a kind of the config's model neurons."""
    keys = CONFIG_SCHEMA["$defs"]["neuron"]["properties"]
    fields = set(inspect.signature(neuron.NeuronModel).parameters)
    assert fields - set(keys) == {"surround_ratio", "surround_weight"}
    assert set(keys) - fields == {"seed"}


def test_polarities_are_what_the_neuron_model_accepts():
    for polarity in SCHEMA_ENUMS["simulation.neurons.*.polarity"]:
        assert neuron.NeuronModel(polarity=polarity).polarity == polarity
    for polarity in ("ON", "both", ""):
        with pytest.raises(InputError, match="polarity"):
            neuron.NeuronModel(polarity=polarity)


def test_figure_formats_are_what_save_figure_writes(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sparsefield.plots import save_figure

    for name in SCHEMA_ENUMS["figures.format"]:
        save_figure(plt.figure(figsize=(1, 1)), tmp_path / f"figure.{name}", dpi=50)
        assert (tmp_path / f"figure.{name}").stat().st_size > 0
    for name in ("jpg", "eps", "gif"):
        figure = plt.figure(figsize=(1, 1))
        with pytest.raises(InputError, match="unsupported figure format"):
            save_figure(figure, tmp_path / f"figure.{name}")
        plt.close(figure)


# ----------------------------------------------------------------------------
# 2. Wildcard constraints built from the library's choice sets


#: Wildcards whose values come from a library choice set: (module, constant name).
CHOICE_WILDCARDS = {
    "scheme": (compression, "SCHEMES"),
    "solver": (inference, "METHODS"),
}

#: Every choice set a wildcard might be limited to (a new one must be listed above).
CHOICE_SETS = [constant for _, constant in [*CONFIG_ENUMS.values(), *SHEET_ENUMS.values()]]


def _constraints():
    """(file name, wildcard, expression) of every wildcard constraint in
    workflow/rules/*.smk, global or inside a rule."""
    found = []
    for path in sorted(RULES.glob("*.smk")):
        lines = path.read_text().splitlines()
        for index, line in enumerate(lines):
            if line.strip() != "wildcard_constraints:":
                continue
            indent = len(line) - len(line.lstrip())
            for entry in lines[index + 1:]:
                if entry.strip() and len(entry) - len(entry.lstrip()) <= indent:
                    break
                if entry.strip() and not entry.strip().startswith("#"):
                    match = re.fullmatch(r"\s*(\w+)\s*=\s*(.+?),?\s*", entry)
                    assert match, f"{path.name}: cannot read the constraint {entry!r}"
                    found.append((path.name, match[1], match[2]))
    return found


def _namespace(file_name):
    """What a rule file's library imports bind (``from sparsefield... import ...``),
    read with ast and importlib (nothing of the file is executed)."""
    namespace, statement = {"re": re}, ""
    for line in (RULES / file_name).read_text().splitlines():
        if statement or re.match(r"from sparsefield\b", line):
            statement += line + "\n"
            if statement.count("(") == statement.count(")"):
                node = ast.parse(statement).body[0]
                module = importlib.import_module(node.module)
                for alias in node.names:
                    namespace[alias.asname or alias.name] = getattr(module, alias.name)
                statement = ""
    return namespace


def _evaluate(expression, namespace):
    """The value of a wildcard constraint such as ``"|".join(map(re.escape, SCHEMES))``,
    ``r"\\d+"`` or ``("bdm", "brm")``: constants, names of ``namespace``, tuples,
    ``str.join``, ``map`` and ``re.escape`` only (no eval).  NameError for a name the
    namespace lacks (a constraint built from the config or the sheet)."""
    calls = {"map": lambda function, values: list(map(function, values))}

    def value(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(value(item) for item in node.elts)
        if isinstance(node, ast.Name):
            if node.id in calls:
                return calls[node.id]
            if node.id not in namespace:
                raise NameError(node.id)
            return namespace[node.id]
        if isinstance(node, ast.Attribute) and (
                (isinstance(node.value, ast.Name) and node.value.id == "re"
                 and node.attr == "escape")
                or (isinstance(node.value, ast.Constant) and node.attr == "join")):
            return getattr(value(node.value), node.attr)
        if isinstance(node, ast.Call) and not node.keywords:
            return value(node.func)(*(value(argument) for argument in node.args))
        raise NameError(f"{ast.dump(node)[:60]} is not evaluated here")

    return value(ast.parse(expression, mode="eval").body)


def _alternatives(pattern):
    """``a|b\\-c`` -> ``["a", "b-c"]``, or None for a pattern that is not a plain list."""
    parts = pattern.split("|")
    words = [re.sub(r"\\(.)", r"\1", part) for part in parts]
    if not all(re.fullmatch(r"[\w.-]+", word) for word in words):
        return None
    return words


def test_the_rule_files_constraints_are_read():
    names = [wildcard for _, wildcard, _ in _constraints()]
    assert {"recording", "unit", "chunk", "scheme", "J", "solver"} <= set(names)
    assert len(names) == len(set(names)), "a wildcard is constrained twice"


@pytest.mark.parametrize("wildcard", sorted(CHOICE_WILDCARDS))
def test_choice_wildcard_is_built_from_the_library_constant(wildcard):
    module, name = CHOICE_WILDCARDS[wildcard]
    constant = getattr(module, name)
    matches = [(file, expression) for file, found, expression in _constraints()
               if found == wildcard]
    assert len(matches) == 1, f"wildcard {wildcard}: {len(matches)} constraints"
    file, expression = matches[0]
    namespace = _namespace(file)
    # the expression names the constant, imported from the module that defines it
    assert re.search(rf"\b{name}\b", expression), (
        f"{file}: {wildcard}={expression} should be built from {module.__name__}.{name}")
    assert namespace.get(name) is constant, (
        f"{file} does not import {name} from {module.__name__}")
    pattern = _evaluate(expression, namespace)
    assert _alternatives(pattern) == list(constant)
    for value in constant:
        assert re.fullmatch(pattern, value)
    assert not re.fullmatch(pattern, "".join(constant))


def test_no_other_wildcard_is_limited_to_a_choice_set_by_a_literal():
    for file, wildcard, expression in _constraints():
        if wildcard in CHOICE_WILDCARDS:
            continue
        try:
            pattern = _evaluate(expression, _namespace(file))
        except NameError:  # built from the config or the sheet (recording, neuron, ...)
            continue
        words = _alternatives(pattern)
        if words is None:
            continue
        for choices in CHOICE_SETS:
            assert not set(words) <= set(choices), (
                f"{file}: {wildcard}={expression} repeats a library choice set; build it "
                "from the constant and list it in CHOICE_WILDCARDS")


def test_the_run_names_give_j_to_the_library_s_localized_schemes():
    """common_sparse.smk's sparse_runs gives J only to the schemes with a localization."""
    text = (RULES / "common_sparse.smk").read_text()
    uses = re.findall(r"\bif scheme in (\([^)]*\)|\w+)", text)
    assert uses, "sparse_runs no longer chooses the localized schemes as expected here"
    for use in uses:
        namespace = _namespace("common_sparse.smk")
        values = _evaluate(use, namespace)
        assert tuple(values) == compression.LOCALIZED_SCHEMES, use
    with pytest.raises(InputError, match="no localization"):
        compression.compression_matrix("dense", 4, 4, 2, seed=0)
    for scheme in compression.LOCALIZED_SCHEMES:
        assert compression.compression_matrix(scheme, 4, 4, 2, seed=0).shape == (4, 4)


# ----------------------------------------------------------------------------
# 3. Defaults: schema = config.yaml = library signatures = README


@dataclass(frozen=True)
class Source:
    """Where the library keeps a default: ``label`` for messages, ``value`` the default."""

    label: str
    value: object


def param(function, name, index=None):
    """The signature default of ``function``'s parameter ``name`` (item ``index`` of it)."""
    default = inspect.signature(function).parameters[name].default
    label = f"{function.__module__}.{function.__qualname__}({name}=)"
    if default is inspect.Parameter.empty:  # fails the comparison, naming the parameter
        return Source(f"{label} (no default)", default)
    if index is not None:
        return Source(f"{label}[{index}]", default[index])
    return Source(label, default)


def item(mapping, key, label):
    return Source(f"{label}[{key!r}]", mapping[key])


def const(value, label):
    return Source(label, value)


@dataclass(frozen=True)
class NoLibraryDefault:
    """A key with no library default: the reason."""

    why: str


_REQUIRED = "a required argument of {}"
_ML = units_ml.fit_ml_units
_LASSO = (units_lasso.fit_lasso_units, lasso_lags.fit_lasso_lags, lasso_cv.lasso_cv)
_PATHS = (lasso_path.lasso_path, lasso_population.lasso_path_population)
_STA = (units_sta.sta_units, sta.spike_triggered_average)
_SEPARATE = (separation.separate_units, separation.separate)
_SETTINGS = dictionary.LearningSettings


def _all(functions, name):
    return tuple(param(function, name) for function in functions)


#: Every default of config.schema.yaml and the library defaults of what it feeds (the
#: workflow script passes the key to each function named, or to the function these
#: wrap with the same meaning).
DEFAULT_SOURCES = {
    "recordings": NoLibraryDefault("the workflow's own sheet; the library reads any row"),
    # simulation: workflow/scripts/simulate_recording.py and simulate_session.py
    # (simulate_session's sd_frame_duration=0.0 and n_extra_frames=0 are its own, for
    # sessions without jitter; the workflow passes sd_frame_duration and not n_extra_frames)
    "simulation.n_frames": (param(simulate_session.session_models, "n_frames"),),
    "simulation.n_extra_frames": (param(simulate.simulate_recording, "n_extra_frames"),),
    "simulation.frame_height": (param(simulate.simulate_recording, "frame_shape", 0),
                                param(simulate_session.session_models, "frame_shape", 0)),
    "simulation.frame_width": (param(simulate.simulate_recording, "frame_shape", 1),
                               param(simulate_session.session_models, "frame_shape", 1)),
    "simulation.mean_frame_duration": (
        param(simulate.simulate_recording, "mean_frame_duration"),
        param(simulate_session.session_models, "mean_frame_duration")),
    "simulation.sd_frame_duration": (param(simulate.simulate_recording, "sd_frame_duration"),),
    "simulation.dt": (param(simulate.simulate_recording, "dt"),),
    "simulation.sessions.*.n_units": (param(simulate_session.session_models, "n_units"),),
    # rf: workflow/scripts/fit_ml.py
    "rf.lags": NoLibraryDefault(_REQUIRED.format("fit_ml_units; null means from the window "
                                                 "(sparsefield.rf.lags.session_lags)")),
    "rf.window": NoLibraryDefault(_REQUIRED.format("sparsefield.rf.lags.lags_from_window")),
    "rf.min_lags": (param(lags.lags_from_window, "min_lags"),),
    "rf.max_iter": (param(_ML, "max_iter"), param(ml.fit_ml, "max_iter")),
    "rf.tol": (param(_ML, "tol"), param(ml.fit_ml, "tol")),
    "rf.separation_centering": _all(_SEPARATE, "centering"),
    # lasso: workflow/scripts/fit_lasso.py
    "lasso.lags": NoLibraryDefault(_REQUIRED.format("fit_lasso_units; null means from "
                                                    "the window")),
    "lasso.window": NoLibraryDefault(_REQUIRED.format("sparsefield.rf.lags.lags_from_window")),
    "lasso.min_lags": (param(lags.lags_from_window, "min_lags"),),
    "lasso.n_lambdas": _all(_LASSO + _PATHS, "n_lambdas")
    + (param(lasso_path.lambda_grid, "n_lambdas"),),
    "lasso.lambda_min_ratio": _all(_LASSO + _PATHS, "lambda_min_ratio")
    + (param(lasso_path.lambda_grid, "lambda_min_ratio"),
       const(lasso_path.DEFAULT_LAMBDA_MIN_RATIO,
             "sparsefield.rf.lasso_path.DEFAULT_LAMBDA_MIN_RATIO")),
    "lasso.n_folds": _all(_LASSO, "n_folds"),
    "lasso.rule": _all(_LASSO, "rule"),
    "lasso.tol": _all(_LASSO + _PATHS, "tol"),
    "lasso.backend": _all(_LASSO[:2] + (lasso_backends.fit_lasso_at_lambda,), "backend"),
    "lasso.units_solver": (param(units_lasso.fit_lasso_units, "solver"),),
    "lasso.separation_centering": _all(_SEPARATE, "centering"),
    # sta: workflow/scripts/spike_triggered_average.py
    "sta.tau_max": _all(_STA, "tau_max"),
    "sta.tau_step": _all(_STA, "tau_step"),
    "sta.n_shifts": _all(_STA, "n_shifts"),
    "sta.seed": _all(_STA, "seed"),
    "sta.null_model": (param(units_sta.sta_units, "null"), param(sta.check_delays, "null")),
    "sta.separation_centering": _all(_SEPARATE, "centering"),
    # stc: workflow/scripts/stc_units.py -> units_stc.stc_units (no defaults of its own)
    "stc.enabled": NoLibraryDefault("whether the workflow runs the STC"),
    "stc.n_lags": NoLibraryDefault("null: the workflow takes lasso.lags' largest lag + 1"),
    "stc.patch": NoLibraryDefault(_REQUIRED.format("stc_units")),
    "stc.max_dims": NoLibraryDefault(_REQUIRED.format("stc_units")),
    "stc.n_shifts": (param(stc.spike_triggered_covariance, "n_shifts"),),
    "stc.alpha": (param(stc.spike_triggered_covariance, "alpha"),),
    "stc.seed": (param(stc.spike_triggered_covariance, "seed"),),
    # figures: the figure scripts
    "figures.format": NoLibraryDefault("save_figure takes the format from the file name"),
    "figures.dpi": (const(style.DPI, "sparsefield.plots.style.DPI"),),
    "figures.overview_window": (param(plots_overview.overview_figure, "window"),),
    "figures.per_unit": NoLibraryDefault("the workflow's choice of units (common.smk)"),
    # sessions: sparsefield.io.session.load_session(defaults=config["sessions"])
    **{f"sessions.{key}": (item(session_row.SESSION_DEFAULTS, key,
                                "sparsefield.io.session_row.SESSION_DEFAULTS"),)
       for key in ("min_spikes", "max_frames_left_out", "max_spikes_left_out", "max_frame_gap")},
    **{f"sessions.{key}": (item(plausibility.PLAUSIBILITY_DEFAULTS, key,
                                "sparsefield.io.plausibility.PLAUSIBILITY_DEFAULTS"),
                           item(session_row.SESSION_DEFAULTS, key,
                                "sparsefield.io.session_row.SESSION_DEFAULTS"))
       for key in ("frame_interval", "rate", "constant_pixels", "max_time_error")},
    "sessions.units_per_job": NoLibraryDefault(
        _REQUIRED.format("sparsefield.rf.units.unit_chunks")),
    # models: workflow/scripts/score_models.py
    "models.enabled": NoLibraryDefault("whether the workflow scores the estimates"),
    "models.n_folds": (param(units_scores.score_units, "n_folds"),),
    "models.joint.fit": (param(units_scores.score_units, "joint_fit"),),
    "models.joint.max_iter": (param(units_scores.score_units, "joint_max_iter"),),
    "models.joint.alpha": (param(units_scores.score_units, "joint_alpha"),),
    "models.joint.n_bases": (param(units_scores.score_units, "joint_bases"),),
    "models.joint.tol": (param(units_scores.score_units, "tol"),),
    "models.subframe.bins_per_frame": (param(joint_subframe.subframe_counts, "bins_per_frame"),),
    "models.subframe.n_bases": (param(units_scores.score_units, "subframe_bases"),),
    "models.subframe.span_s": (param(units_scores.score_units, "subframe_span"),),
    "models.subframe.max_iter": (param(units_scores.score_units, "subframe_max_iter"),),
    # gabor: workflow/scripts/fit_gabor_units.py, fit_gabor_atoms.py, gabor_comparison.py
    "gabor.n_orientations": _all((gabor_table.fit_unit_maps, gabor_table.fit_atoms,
                                  gabor.fit_gabors), "n_orientations"),
    "gabor.n_frequencies": _all((gabor_table.fit_unit_maps, gabor_table.fit_atoms,
                                 gabor.fit_gabors), "n_frequencies"),
    "gabor.n_frequencies_1d": (param(gabor_table.fit_unit_maps, "n_frequencies_1d"),
                               param(gabor.fit_gabors_1d, "n_frequencies")),
    "gabor.bic_margin": _all((gabor_table.fit_unit_maps, gabor_table.fit_atoms,
                              gabor.fit_gabors, gabor.fit_gabors_1d), "bic_margin"),
    "gabor.r2_threshold": _all((gabor_table.fit_unit_maps, gabor_table.fit_atoms), "r2_threshold")
    + (param(gabor.GaborFits.well_fitted, "min_r2"),
       const(gabor_table.R2_THRESHOLD, "sparsefield.gabor_table.R2_THRESHOLD")),
    "gabor.epochs_every": (param(gabor_table.fit_atoms, "epochs_every"),),
    "gabor.n_bootstrap": (param(gabor_compare.energy_distance_interval, "n_bootstrap"),
                          param(gabor_compare.comparison_rows, "n_bootstrap")),
    "gabor.seed": _all((gabor_table.fit_unit_maps, gabor_table.fit_atoms,
                        gabor_compare.energy_distance_interval, gabor_compare.comparison_rows),
                       "seed"),
    # sparse.images, sparse.patches: workflow/scripts/sparse_patches.py
    "sparse.enabled": NoLibraryDefault("whether the workflow runs the branch"),
    "sparse.images.source": NoLibraryDefault(_REQUIRED.format("load_images")),
    "sparse.images.names": (
        const(images.SKIMAGE_IMAGES, "sparsefield.sparse.images.SKIMAGE_IMAGES"),),
    "sparse.images.variable": (param(images.load_images, "variable"),),
    "sparse.images.scale": (param(images.load_images, "scale"),),
    "sparse.images.validation": NoLibraryDefault(_REQUIRED.format("prepare_patches")),
    "sparse.images.frequency_whitening": (param(prepare.prepare_patches, "frequency_whitening"),),
    "sparse.images.f0_fraction": (
        param(prepare.prepare_patches, "f0_fraction"),
        const(whitening.DEFAULT_F0_FRACTION, "sparsefield.sparse.whitening.DEFAULT_F0_FRACTION"),
        *_all((whitening.whiten_images, whitening.frequency_whiten, whitening.whitening_filter),
              "f0_fraction")),
    **{f"sparse.patches.{key}": NoLibraryDefault(_REQUIRED.format("prepare_patches"))
       for key in ("size", "n_train", "n_validation", "n_correlation", "seed")},
    "sparse.patches.zca": (param(prepare.prepare_patches, "zca"),),
    "sparse.patches.zca_epsilon": (
        param(prepare.prepare_patches, "zca_epsilon"), param(whitening.ZCA.fit, "epsilon"),
        const(whitening.DEFAULT_EPSILON, "sparsefield.sparse.whitening.DEFAULT_EPSILON")),
    "sparse.patches.unit_norm": (param(prepare.prepare_patches, "normalise"),),
    # sparse.compression: workflow/scripts/compression_matrix.py
    "sparse.compression.n_measurements": NoLibraryDefault(_REQUIRED.format("compression_matrix")),
    "sparse.compression.order": (param(compression.compression_matrix, "order"),),
    "sparse.compression.normalise": (param(compression.compression_matrix, "normalise"),),
    "sparse.compression.seed": NoLibraryDefault(
        "compression_matrix's seed=None means none given: required for random schemes"),
    # sparse.learning: workflow/scripts/learn_dictionary.py -> LearningSettings (the
    # inference settings tol and max_iter are passed on to encode, whose own defaults
    # are for a single call: tol=1e-6)
    **{f"sparse.learning.{key}": (param(_SETTINGS, key),)
       for key in ("n_atoms", "tau", "n_epochs", "batch_size", "update", "learning_rate",
                   "decay", "tol", "max_iter", "normalise_measurements", "seed")},
    "sparse.learning.threads": NoLibraryDefault("threads of the job (the rule's threads)"),
    # sparse.runs: which runs the workflow makes
    "sparse.runs.schemes": (const(compression.SCHEMES, "sparsefield.sparse.compression.SCHEMES"),),
    "sparse.runs.localization": NoLibraryDefault("the workflow's comparison"),
    "sparse.runs.solvers": NoLibraryDefault("the workflow's comparison (a subset of METHODS)"),
    # sparse.figures: workflow/scripts/figure_sparse_animation.py
    "sparse.figures.animation_fps": (param(plots_atoms.write_atom_animation, "fps"),),
    "sparse.figures.animation_atoms": (param(plots_atoms.write_atom_animation, "max_atoms"),),
}

#: Library defaults known to differ from the workflow's, in files this test does not own:
#: (path, source label) -> what to change.  Strict: once fixed, the entry must go.
KNOWN_DISAGREEMENTS = {}

#: The sections whose every key must be listed above (issue 11), and the rest.
SECTIONS = ("rf", "lasso", "sta", "sessions", "sparse.learning", "sparse.patches",
            "sparse.compression")


def test_every_schema_default_has_its_library_source_listed_here():
    assert set(SCHEMA_DEFAULTS) == set(DEFAULT_SOURCES)
    for section in SECTIONS:
        keys = _resolve(_node(CONFIG_SCHEMA, section), CONFIG_SCHEMA)["properties"]
        assert {f"{section}.{key}" for key in keys} <= set(DEFAULT_SOURCES), section


def _node(schema, path):
    node = schema
    for key in path.split("."):
        node = _resolve(node, schema)["properties"][key]
    return node


def _library_cases():
    for path, sources in sorted(DEFAULT_SOURCES.items()):
        if isinstance(sources, NoLibraryDefault):
            continue
        for source in sources:
            reason = KNOWN_DISAGREEMENTS.get((path, source.label))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(path, source, id=f"{path}-{source.label}", marks=marks)


@pytest.mark.parametrize(("path", "source"), list(_library_cases()))
def test_schema_default_is_the_library_default(path, source):
    assert _same(SCHEMA_DEFAULTS[path], source.value), (
        f"config.schema.yaml {path}: default {SCHEMA_DEFAULTS[path]!r} but {source.label} "
        f"is {source.value!r}")


def test_no_library_default_says_why():
    for path, sources in DEFAULT_SOURCES.items():
        assert isinstance(sources, NoLibraryDefault) or sources, path
        if isinstance(sources, NoLibraryDefault):
            assert sources.why, path


def _config_values(path):
    """(path in config.yaml, value) of a key in config/config.yaml (``*``: every entry)."""
    found = [("", CONFIG)]
    for key in path.split("."):
        step = []
        for where, value in found:
            if not isinstance(value, dict):
                continue
            names = list(value) if key == "*" else [key] if key in value else []
            step += [(f"{where}.{name}".lstrip("."), value[name]) for name in names]
        found = step
    return found


@pytest.mark.parametrize("path", sorted(SCHEMA_DEFAULTS))
def test_config_yaml_gives_the_schema_default(path):
    for where, value in _config_values(path):
        assert _same(value, SCHEMA_DEFAULTS[path]), (
            f"config/config.yaml {where}: {value!r} but the schema's default is "
            f"{SCHEMA_DEFAULTS[path]!r}")


def test_the_lasso_keys_of_config_yaml_are_all_there():
    """The four places of each lasso default: signature, schema, config.yaml, README."""
    schema_keys = _node(CONFIG_SCHEMA, "lasso")["properties"]
    assert set(CONFIG["lasso"]) == set(schema_keys)


# ----------------------------------------------------------------------------
# config/README.md's tables


def _tables(text):
    """(heading, header cells, rows of cells) of every Markdown table."""
    heading, table = None, None
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if table is None:
                table = (heading, cells, [])
            elif not set("".join(cells)) <= set("-: "):
                assert len(cells) == len(table[1]), f"README table row {line!r}"
                table[2].append(cells)
            continue
        if table is not None:
            yield table
            table = None
        if line.startswith("#"):
            heading = line.lstrip("#").strip()


def _names(key_cell):
    """``\\`patches.n_train\\`, \\`n_validation\\``` -> patches.n_train, patches.n_validation."""
    names = re.findall(r"`([^`]+)`", key_cell)
    group = names[0].rpartition(".")[0]
    return [name if "." in name or not group else f"{group}.{name}" for name in names]


def _readme_rows():
    """Config keys of the README's tables: path -> (meaning, default text or None)."""
    rows = {}
    for heading, header, body in _tables(README):
        section = re.match(r"`([\w.]+)`", heading or "")
        if header[0] != "key" or not section:
            continue
        prefix = section[1]
        if header == ["key", "meaning"]:  # the model neurons' keys (no defaults)
            prefix = f"{prefix}.neurons.*"
        for cells in body:
            names = _names(cells[0])
            defaults = [None] * len(names)
            if len(cells) == 3:
                defaults = _split_top_level(cells[2]) if len(names) > 1 else [cells[2]]
                assert len(defaults) == len(names), f"README row {cells[0]}: {cells[2]!r}"
            for name, default in zip(names, defaults):
                rows[f"{prefix}.{name}"] = (cells[1], default)
    return rows


README_ROWS = _readme_rows()


def _readme_default(path):
    """The README's default of a config key, parsed."""
    if path == "recordings":  # a paragraph, not a table
        section = README[README.index("## `recordings`"):README.index("## `simulation`")]
        return _parse(re.search(r"Default `([^`]+)`", section)[1])
    if path == "simulation.sessions.*.n_units":  # the row of the default session, "36 units"
        return float(re.search(r"(\d+) units", README_ROWS["simulation.sessions"][1])[1])
    assert path in README_ROWS, f"config/README.md has no row for {path}"
    return _parse(README_ROWS[path][1])


def test_the_readme_tables_are_read():
    assert len(README_ROWS) > 80
    assert README_ROWS["lasso.n_folds"][1] == "5"
    assert README_ROWS["sparse.patches.n_correlation"][1] == "4000"


def test_every_readme_key_is_a_schema_key():
    schema_paths = {path for path, _ in _walk(CONFIG_SCHEMA, CONFIG_SCHEMA)}
    assert set(README_ROWS) <= schema_paths, set(README_ROWS) - schema_paths


@pytest.mark.parametrize("path", sorted(SCHEMA_DEFAULTS))
def test_readme_default_is_the_schema_default(path):
    documented = _readme_default(path)
    assert _same(documented, SCHEMA_DEFAULTS[path]), (
        f"config/README.md {path}: default {documented!r} but the schema's is "
        f"{SCHEMA_DEFAULTS[path]!r}")


@pytest.mark.parametrize("path", sorted(SCHEMA_ENUMS))
def test_readme_names_every_choice(path):
    key = path.removesuffix("[]")
    meaning, _ = README_ROWS[key]
    same_as = re.match(r"as in `(\w+)`", meaning)
    if same_as:  # "as in `rf`": the choices are listed in that section's row
        key = f"{same_as[1]}.{key.partition('.')[2]}"
        assert SCHEMA_ENUMS.get(key) == SCHEMA_ENUMS[path], key
        meaning, _ = README_ROWS[key]
    named = set(re.findall(r"`([^`]+)`", meaning))
    missing = [value for value in SCHEMA_ENUMS[path] if value not in named]
    assert not missing, f"config/README.md {key}: {missing} not named"


# ----------------------------------------------------------------------------
# The recordings sheet: schema, schema descriptions and README against the library


#: Defaults of the sheet's columns when a cell is blank (sparsefield.io.session_row).
SHEET_DEFAULTS = {**session_row.VARIABLE_DEFAULTS,
                  **{key: value for key, value in session_row.SESSION_DEFAULTS.items()
                     if key in SHEET_SCHEMA["properties"]}}
#: Sheet columns whose blank cell takes the config's sessions.<column>.
FROM_CONFIG = sorted(set(SHEET_SCHEMA["properties"]) & set(CONFIG_SCHEMA["properties"]["sessions"]
                                                           ["properties"]))


def _sheet_rows():
    rows = {}
    for heading, header, body in _tables(README):
        if header[0] != "column":
            continue
        for cells in body:
            names = _names(cells[0])
            defaults = _split_top_level(cells[2]) if len(names) > 1 else [cells[2]]
            if len(defaults) == 1:
                defaults *= len(names)
            assert len(defaults) == len(names), f"README sheet row {cells[0]}: {cells[2]!r}"
            for name, default in zip(names, defaults):
                rows[name] = (cells[1], default)
    return rows


SHEET_ROWS = _sheet_rows()


def _text(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_every_sheet_column_is_in_the_readme():
    assert set(SHEET_ROWS) == set(SHEET_SCHEMA["properties"])
    assert FROM_CONFIG == ["max_frame_gap", "max_frames_left_out", "max_spikes_left_out",
                           "min_spikes"]


@pytest.mark.parametrize("column", sorted(SHEET_DEFAULTS))
def test_sheet_default_is_the_library_default(column):
    default = SHEET_DEFAULTS[column]
    schema = SHEET_SCHEMA["properties"][column]
    readme = SHEET_ROWS[column][1]
    if column in FROM_CONFIG:
        # the config's sessions key is the default, and its default is the library's
        assert _same(SCHEMA_DEFAULTS[f"sessions.{column}"], default)
        assert "default" not in schema
        assert f"sessions.{column}" in schema["description"]
        assert re.fullmatch(rf"`sessions\.{column}` \((.+)\)", readme), readme
        assert _same(_parse(re.fullmatch(r".*\((.+)\)", readme)[1]), default)
        return
    if "default" in schema:
        assert _same(schema["default"], default), column
    else:  # left blank for the reader (e.g. NWB stimulus axes); the description says it
        text = re.escape(_text(default))
        described = rf"(default|Blank:)\s+{text}\b|\b{text}, default"
        assert re.search(described, schema["description"]), (column, schema["description"])
    assert _same(_parse(readme), default), f"config/README.md sheet {column}: {readme!r}"


def test_sheet_readme_names_every_choice():
    for column, enum in _enums(SHEET_SCHEMA).items():
        meaning, default = SHEET_ROWS[column]
        if default == "`time_unit`":  # spikes_time_unit, triggers_time_unit
            assert enum == SHEET_SCHEMA["properties"]["time_unit"]["enum"]
            meaning = SHEET_ROWS["time_unit"][0]
        named = set(re.findall(r"`([^`]+)`", meaning))
        if "permutation of `hwt`" in meaning:
            named |= {"".join(order) for order in itertools.permutations("hwt")}
        named |= {part for name in named for part in name.split("/")}  # `tp`/`pt`
        missing = [value for value in enum if value not in named]
        assert not missing, f"config/README.md sheet {column}: {missing} not named"

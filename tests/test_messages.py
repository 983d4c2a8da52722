"""Messages speak the user's language (issue 10): a library error raised inside a rule is
printed as one line naming the config key (not the argument name), the recording, unit
or run of the job; an unexpected failure is one line too, its traceback in the log only."""

import ast
import errno
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparsefield.errors import FitError, InputError

PROJECT = Path(__file__).resolve().parents[1]
SCRIPTS = PROJECT / "workflow" / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _common  # noqa: E402  (the workflow scripts' shared start-up)


def test_user_message_names_the_config_key_and_the_job():
    keys = {"n_folds": "lasso.n_folds", "tau_max": "sta.tau_max", "null": "sta.null_model",
            "edges": "somewhere"}
    error = InputError("n_folds", "3 folds need at least 6 rows")
    assert _common.user_message(error, keys, "recording r1, unit 7") == \
        "recording r1, unit 7: lasso.n_folds: 3 folds need at least 6 rows"
    # identifiers inside the sentence too; plain words ("null", "edges") are left alone
    error = InputError("tau_max", "is longer than 2 x tau_max; the null needs edges, tau_maxima")
    assert _common.user_message(error, keys) == \
        "sta.tau_max: is longer than 2 x sta.tau_max; the null needs edges, tau_maxima"
    # a source that is not an argument name (a file) is kept; the job is not repeated
    error = InputError("data/rec.mat", "is truncated")
    assert _common.user_message(error, keys, "recording r1") == "recording r1: data/rec.mat: is truncated"
    assert _common.user_message(InputError("x", "y"), {}, "recording r1") == "recording r1: x: y"
    assert _common.user_message(FitError("unit 7: ML fit did not converge"), keys, "recording r1") \
        == "recording r1: unit 7: ML fit did not converge"
    error = FitError("unit 7: ML fit at lag 2 did not converge after 5 iterations: ABNORMAL "
                     "(raise max_iter, now 5, or loosen the tolerance tol, now 1e-08)")
    assert _common.user_message(error, {"max_iter": "rf.max_iter", "tol": "rf.tol"}) == (
        "unit 7: ML fit at lag 2 did not converge after 5 iterations: ABNORMAL "
        "(raise rf.max_iter, now 5, or loosen the tolerance tol, now 1e-08)")


def test_job_context_from_the_wildcards():
    assert _common.job_context({"recording": "s1", "chunk": "0"}) == "recording s1"
    assert _common.job_context({"recording": "s1", "unit": "7"}) == "recording s1, unit 7"
    assert _common.job_context({"scheme": "bdm", "J": "4", "solver": "fista"}) == \
        "run bdm-J4-fista"
    assert _common.job_context({"scheme": "brm", "J": "2"}) == "compression brm-J2"
    assert _common.job_context({}) == ""


def _run_script(tmp_path, body):
    """Run ``body`` after ``start`` with a stand-in for snakemake's object; returns the
    CompletedProcess and the log file's text."""
    log = tmp_path / "job.log"
    code = "\n".join([
        "import sys",
        f"sys.path.insert(0, {str(SCRIPTS)!r})",
        "from types import SimpleNamespace",
        "snakemake = SimpleNamespace(threads=1, log=[" + repr(str(log)) + "], rule='fit_lasso',",
        "                            wildcards={'recording': 'rec', 'chunk': '0'},",
        "                            output=['results/rec/chunks/0/lasso_fit.npz'])",
        "from _common import start",
        "start(snakemake, keys={'n_folds': 'lasso.n_folds'})",
        body,
    ])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    return result, log.read_text()


def test_a_library_error_is_one_line_naming_the_key(tmp_path):
    result, log = _run_script(tmp_path, "from sparsefield.errors import InputError\n"
                                        "raise InputError('n_folds', '3 folds need 6 rows')")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "[fit_lasso] error: recording rec: lasso.n_folds: 3 folds need 6 rows"]
    assert "Traceback" not in log and "lasso.n_folds" in log


def test_an_unexpected_failure_is_one_line_with_the_traceback_in_the_log(tmp_path):
    result, log = _run_script(tmp_path, "def inner():\n    raise ValueError('boom')\ninner()")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == (f"[fit_lasso] error: recording rec: unexpected failure in rule fit_lasso: "
                        f"ValueError: boom (details in {tmp_path / 'job.log'})")
    assert "Traceback" not in result.stderr
    assert "Traceback (most recent call last)" in log and "in inner" in log
    assert log.count("error: recording rec: unexpected failure") == 1


def test_a_full_disk_is_one_line_naming_the_folder(tmp_path):
    from sparsefield._files import describe_write_error

    error = OSError(errno.ENOSPC, "No space left on device")
    expected = describe_write_error(error, ["results/rec/chunks/0/lasso_fit.npz"])
    assert expected and "results/rec/chunks/0" in expected
    result, log = _run_script(tmp_path, f"raise OSError({errno.ENOSPC}, 'No space left on device')")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"[fit_lasso] error: recording rec: {expected}"]
    assert "Traceback" not in result.stderr and "Traceback" in log


# --- every script maps the argument names its library calls can raise ------------------------


def _script_keys(path):
    """The constant entries of the ``keys`` given to ``start`` in a workflow script."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "start"):
            for keyword in node.keywords:
                if keyword.arg == "keys":
                    return _constant_pairs(keyword.value)
            return {}
    raise AssertionError(f"{path.name} does not call start()")


def _constant_pairs(node):
    pairs = {}
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
                pairs[key.value] = value.value
            elif isinstance(key, ast.Constant):
                pairs[key.value] = None  # computed (e.g. sparse.images.names or .source)
    elif isinstance(node, ast.DictComp):
        # {name: f"sparse.learning.{name}" for name in (...)}: expand it
        generator = node.generators[0]
        names = ast.literal_eval(generator.iter)
        template = node.value
        for name in names:
            parts = [value.value if isinstance(value, ast.Constant) else name
                     for value in template.values]
            pairs[name] = "".join(parts)
    elif isinstance(node, ast.BinOp):  # a | b
        pairs.update(_constant_pairs(node.left))
        pairs.update(_constant_pairs(node.right))
    return pairs


#: Argument names a rule's library calls raise InputError with, that a user can reach
#: through the config (the map the scripts must hold).
REACHABLE = {
    "fit_ml.py": {"lags", "window", "window start (s)", "window stop (s)", "min_lags",
                  "max_iter", "tol", "centering"},
    "fit_lasso.py": {"lags", "window", "window start (s)", "window stop (s)", "min_lags",
                     "n_lambdas", "lambda_min_ratio", "n_folds", "rule", "tol", "backend",
                     "solver", "centering"},
    "spike_triggered_average.py": {"tau_max", "tau_step", "n_shifts", "seed", "null",
                                   "centering"},
    "sparse_patches.py": {"patch_size", "n_train", "n_validation", "n_correlation", "seed",
                          "epsilon", "validation_names", "f0_fraction", "scale", "variable",
                          "source"},
    "compression_matrix.py": {"scheme", "localization", "n_measurements", "order",
                              "normalise", "seed", "patch_size"},
    "learn_dictionary.py": {"n_atoms", "tau", "n_epochs", "batch_size", "update",
                            "learning_rate", "decay", "tol", "max_iter", "seed", "solver"},
    "figure_sparse_animation.py": {"fps", "max_atoms", "patch_size"},
}


def _schema_keys():
    schema = yaml.safe_load((PROJECT / "workflow/schemas/config.schema.yaml").read_text())
    found = set()

    def walk(node, prefix):
        for name, child in (node.get("properties") or {}).items():
            path = f"{prefix}.{name}" if prefix else name
            found.add(path)
            if isinstance(child, dict):
                walk(child, path)

    walk(schema, "")
    return found


@pytest.mark.parametrize("script", sorted(REACHABLE))
def test_scripts_map_every_reachable_argument_name_to_a_config_key(script):
    keys = _script_keys(SCRIPTS / script)
    missing = REACHABLE[script] - set(keys)
    assert not missing, f"{script}: no config key for {sorted(missing)}"
    schema = _schema_keys()
    for name, key in keys.items():
        if key is not None:
            assert key in schema, f"{script}: {name} -> {key}, not a key of the config schema"


def test_the_common_keys_are_config_keys():
    schema = _schema_keys()
    for name, key in _common._COMMON_KEYS.items():
        assert key in schema, (name, key)


def test_every_script_starts_with_start():
    for path in sorted(SCRIPTS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        text = path.read_text()
        assert "from _common import" in text and "start(snakemake" in text, path.name

"""The package's shape: small modules, small functions, no private names across modules.

These are the structure rules of issue 11 (and of ``notes/style.md``):

- no module of ``sparsefield`` over 600 lines;
- no function or method over 100 lines;
- no leading-underscore name imported from another module, and no private module
  (``sparsefield.rf._lasso_kernels``) imported from outside its own package.  Top-level
  private modules (``sparsefield._numba``, ``sparsefield._kernels``, ...) are the shared
  ones: any package may use them.  The workflow's scripts follow the same rule
  (``workflow/scripts/_common.py`` is theirs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
SCRIPTS = ROOT / "workflow" / "scripts"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100


def package_modules():
    """Yield (dotted module name, path) for every module of the package."""
    for path in sorted((SRC / "sparsefield").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def script_modules():
    """Yield (name, path) for the workflow's scripts (package ``scripts``)."""
    for path in sorted(SCRIPTS.glob("*.py")):
        yield "scripts." + path.stem, path


def is_private(name):
    """True for ``_name`` but not for dunders such as ``__version__``."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_module(dotted):
    """True when ``dotted`` names a module or package of ``sparsefield``."""
    path = SRC.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def resolve(module_name, path, node):
    """The absolute dotted name an ``ImportFrom`` node imports from."""
    if node.level == 0:
        return node.module or ""
    package = module_name.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_import_problems(module_name, path, root=ROOT):
    """Every private import of one module, as readable strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name.rsplit(".", 1)[0] if path.name != "__init__.py" else module_name
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = resolve(module_name, path, node)
            # ``from . import _kernels`` imports a module: judged as a module below
            targets = [(f"{source}.{alias.name}", None)
                       if is_module(f"{source}.{alias.name}") else (source, alias.name)
                       for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        else:
            continue
        for source, name in targets:
            where = f"{path.relative_to(root)}:{node.lineno}"
            if name is not None and is_private(name):
                problems.append(f"{where}: imports private name {name!r} from {source}")
            parts = source.split(".")
            for depth, part in enumerate(parts):
                if not is_private(part) or depth == 1:
                    # depth 1: a top-level shared module such as sparsefield._numba
                    continue
                owner = ".".join(parts[:depth])
                if owner != package and not (depth == 0 and source == "_common"):
                    problems.append(
                        f"{where}: imports the private module {source} from outside {owner}")
    return problems


def test_no_module_is_too_long():
    long = {str(path.relative_to(ROOT)): n for _, path in package_modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_too_long():
    long = []
    for _, path in list(package_modules()) + list(script_modules()):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_no_private_name_crosses_a_module():
    problems = []
    for name, path in list(package_modules()) + list(script_modules()):
        problems += private_import_problems(name, path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source, expected", [
    ("from sparsefield.rf._lasso_kernels import soft_threshold\n", 1),
    ("from sparsefield.plots.rf import _lag_label\n", 1),
    ("from sparsefield._numba import numba\n", 0),
    ("from ._sta_kernels import sta_kernel\n", 0),
    ("from ..rf._lasso_kernels import path_kernel\n", 1),
    ("from sparsefield import __version__\n", 0),
])
def test_the_private_import_check_sees_what_it_should(tmp_path, source, expected):
    """The checker itself, on small modules placed in sparsefield.sparse."""
    path = tmp_path / "sparsefield" / "sparse" / "example.py"
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    found = private_import_problems("sparsefield.sparse.example", path, root=tmp_path)
    assert len(found) == expected, found

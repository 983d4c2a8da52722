"""The documentation (docs/): its examples run and recover the truth, its generated
pages cover every public module and every config key, and (slow, needs the docs
extra) ``sphinx-build -W`` succeeds.
"""

import importlib.util
import os
import pkgutil
import re
import runpy
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import yaml
from conftest import PROJECT

DOCS = PROJECT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))
SCHEMAS = PROJECT / "workflow" / "schemas"


def _extension(name: str) -> ModuleType:
    """A module of docs/_ext, imported from its file."""
    spec = importlib.util.spec_from_file_location(f"docs_ext_{name}", DOCS / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# examples


def _check_ml_receptive_field(result: dict) -> None:
    assert result["best_lag"] == 0  # 90 ms latency, 200 ms frames
    assert result["spatial_corr_best_lag"] > 0.9
    assert result["spatial_corr_svd"] > 0.9
    assert result["temporal_corr_svd"] > 0.9


def _check_lasso_path_cv(result: dict) -> None:
    assert result["lambda_1se"] >= result["lambda_min"]  # 1se is the sparser choice
    assert 0 < result["n_nonzero"] < result["n_weights"]
    assert result["spatial_corr"] > 0.9


def _check_sta_subframe(result: dict) -> None:
    assert result["peak_pixel"] == (4, 6)  # the model's centre
    assert 0.05 <= result["peak_delay_s"] <= 0.2  # around the 120 ms latency
    assert result["peak_z"] < -5  # an OFF cell, far outside the shift null
    assert result["spatial_corr"] > 0.9
    assert result["temporal_corr"] > 0.9


def _check_sparse_dictionary(result: dict) -> None:
    assert result["phi_shape"] == (32, 64)
    assert result["atoms_shape"] == (64, 64)  # pixel-space atoms recovered
    assert result["val_loss_last"] < result["val_loss_first"]
    assert result["val_error"] < result["pca_error"]


def _check_estimator_lasso_cv(result: dict) -> None:
    assert 0 < result["n_nonzero"] < 100
    assert result["spatial_corr"] > 0.9
    assert np.isfinite(result["held_out_loglik"])


def _check_estimator_dictionary(result: dict) -> None:
    assert result["components_shape"] == (64, 64)
    assert 1 <= result["n_active"] < 64
    assert result["reconstruction_error"] < result["pca_error"]


CHECKS = {
    "ml_receptive_field": _check_ml_receptive_field,
    "lasso_path_cv": _check_lasso_path_cv,
    "sta_subframe": _check_sta_subframe,
    "sparse_dictionary": _check_sparse_dictionary,
    "estimator_lasso_cv": _check_estimator_lasso_cv,
    "estimator_dictionary": _check_estimator_dictionary,
}

def test_every_example_has_a_check_and_a_page() -> None:
    """At least four examples; each has a check here and a literalinclude in the docs."""
    names = {path.stem for path in EXAMPLES}
    assert len(names) >= 4
    assert names == set(CHECKS)
    library = (DOCS / "library.rst").read_text(encoding="utf-8")
    for name in names:
        assert f".. literalinclude:: examples/{name}.py" in library


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
    """Each example runs, prints its results, recovers what it should and writes nothing."""
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(path), run_name="docs_example")
    result = namespace["main"]()
    printed = capsys.readouterr().out
    assert printed.strip()
    CHECKS[path.stem](result)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# generated pages


def _public_modules_by_import() -> set[str]:
    """Every public module of sparsefield, found by importing the packages."""
    import sparsefield

    names = {"sparsefield"}

    def fail(name: str) -> None:
        raise ImportError(f"cannot import {name} while walking the package")

    for info in pkgutil.walk_packages(sparsefield.__path__, "sparsefield.", onerror=fail):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.add(info.name)
    return names


def test_api_pages_cover_every_public_module(tmp_path: Path) -> None:
    """One automodule page per public module (as an import-based walk finds them),
    all listed in the index; stale pages removed.
    """
    api_doc = _extension("api_doc")
    (tmp_path / "sparsefield.removed_module.rst").write_text("stale")
    written = api_doc.write_api_pages(tmp_path)

    public = _public_modules_by_import()
    assert set(written) == public
    assert {"sparsefield", "sparsefield.io", "sparsefield.rf", "sparsefield.sparse"} <= public
    assert len(public) > 20
    pages = {path.stem for path in tmp_path.glob("*.rst")} - {"index"}
    assert pages == public  # the stale page is gone
    index = (tmp_path / "index.rst").read_text()
    for name in public:
        page = (tmp_path / f"{name}.rst").read_text()
        assert f".. automodule:: {name}\n   :members:" in page
        assert re.search(rf"^   {re.escape(name)}$", index, re.MULTILINE)
    assert not any(part.startswith("_") for name in written for part in name.split("."))


def test_public_modules_leaves_out_private_ones(tmp_path: Path) -> None:
    """Private modules and the modules of private packages get no page."""
    api_doc = _extension("api_doc")
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "_private").mkdir()
    for name in ("__init__.py", "a.py", "_kernels.py", "sub/__init__.py", "sub/b.py",
                 "sub/_c.py", "_private/__init__.py", "_private/d.py"):
        (package / name).write_text("")
    assert api_doc.public_modules(package, "pkg") == ["pkg", "pkg.a", "pkg.sub", "pkg.sub.b"]


def _leaf_keys(node: dict, defs: dict, prefix: str = "") -> list[str]:
    """Dotted keys of every property of a schema (free names as <name>)."""
    if "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[1]], **node}
    keys = []
    for name, child in node.get("properties", {}).items():
        keys.append(prefix + name)
        keys += _leaf_keys(child, defs, f"{prefix}{name}.")
        free = child.get("additionalProperties")
        if isinstance(free, dict):
            keys += _leaf_keys(free, defs, f"{prefix}{name}.<name>.")
    return keys


@pytest.mark.parametrize("schema_name", ["config.schema.yaml", "recordings.schema.yaml"])
def test_config_reference_lists_every_key_with_its_default(schema_name: str) -> None:
    """Every key of the schema has a row, with its default and allowed values."""
    schema_doc = _extension("schema_doc")
    path = SCHEMAS / schema_name
    schema = yaml.safe_load(path.read_text())
    tables = schema_doc.schema_tables(schema)
    rows = {row.key: row for table in tables for row in table.rows}
    keys = _leaf_keys(schema, schema.get("$defs", {}))
    assert keys and set(keys) == set(rows)
    text = schema_doc.schema_rst(path)
    for key in keys:
        assert f"``{key}``" in text
    if schema_name == "config.schema.yaml":
        assert rows["lasso.n_lambdas"].default == "10"
        assert rows["lasso.rule"].allowed == "``1se``, ``min``"
        assert rows["sessions.frame_interval"].default == "[0.001, 10]"
        assert rows["simulation.neurons.<name>.seed"].default == "(required)"
        assert rows["rf.window"].default == "[0.0, 0.3]"  # through $ref
    else:
        assert rows["recording_id"].default == "(required)"
        assert "``nwb``" in rows["format"].allowed


def _resolve(target: str) -> object:
    """The object a dotted name names: the longest importable module, then attributes."""
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ImportError(target)


def test_references_in_the_pages_name_existing_objects() -> None:
    """Sphinx does not warn about a reference to a moved name (it only drops the link):
    every ``:func:``/``:class:``/``:mod:``... target of the hand-written pages and the
    examples' imports must exist.
    """
    role = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc):`(?:[^`<]*<)?~?([\w.]+)>?`")
    targets = set()
    for page in DOCS.glob("*.rst"):
        targets |= set(role.findall(page.read_text(encoding="utf-8")))
    assert len(targets) > 20
    missing = []
    for target in sorted(targets):
        try:
            _resolve(target)
        except (ImportError, AttributeError):
            missing.append(target)
    assert not missing, f"docs/*.rst refer to names that do not exist: {missing}"


def test_readme_sections_the_docs_include_exist() -> None:
    """Every ``readme-section`` of the pages names a section of README.md."""
    readme_doc = _extension("readme_doc")
    markdown = (PROJECT / "README.md").read_text(encoding="utf-8")
    directive = re.compile(r"^\.\. readme-section:: (.+)\n((?:   :\w+: .*\n)*)", re.MULTILINE)
    found = 0
    for page in DOCS.glob("*.rst"):
        for match in directive.finditer(page.read_text(encoding="utf-8")):
            options = dict(re.findall(r":(\w+): (.*)", match.group(2)))
            lines = readme_doc.section(markdown, match.group(1), options.get("from"),
                                       options.get("until"))
            assert any(line.strip() for line in lines), (page.name, match.group(1))
            found += 1
    assert found >= 5


def test_markdown_tables_and_inline_markup_become_rst() -> None:
    """Pipe tables, code spans, links, escapes and lists of the README become reST."""
    readme_doc = _extension("readme_doc")
    rst = readme_doc.markdown_to_rst([
        "Intro with `code`s, **bold**, a [link](https://example.org) and |x|.",
        "",
        "| a | b |",
        "|---|--:|",
        "| `x|y` | 1.5 \\* |",
        "",
        "- item `one`",
        "  continued",
    ])
    text = "\n".join(rst)
    assert "``code``\\ s" in text and "\\|x\\|" in text
    assert "`link <https://example.org>`__" in text
    assert ".. list-table::" in text and "``x|y``" in text and "1.5 \\*" in text
    assert "- item ``one``\n  continued" in text


def test_markdown_images_become_rst_images() -> None:
    """An image on its own line (bench/scaling.py's figure) becomes ``.. image::``."""
    readme_doc = _extension("readme_doc")
    rst = "\n".join(readme_doc.markdown_to_rst([
        "Text before.",
        "![Scaling curves](docs/_static/scaling.png)",
        "Text after.",
    ]))
    assert ".. image:: /_static/scaling.png\n   :alt: Scaling curves" in rst
    assert "Text before." in rst and "Text after." in rst and "![" not in rst


# ---------------------------------------------------------------------------
# the build


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path: Path) -> None:
    """``make docs``'s build: every page, every API page, warnings as errors."""
    pytest.importorskip("sphinx", reason="the docs extra is not installed: "
                        "pip install -e '.[docs]' (make docs does)")
    pytest.importorskip("numpydoc", reason="the docs extra is not installed: "
                        "pip install -e '.[docs]' (make docs does)")
    html = tmp_path / "html"
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(html)],
        capture_output=True, text=True, cwd=PROJECT, timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    for name in _public_modules_by_import():
        assert (html / "api" / f"{name}.html").is_file(), name
    # The README's numbers reach the benchmarks page at build time.
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    first_row = re.search(r"^\| \(a\) real recording.*$", readme, re.MULTILINE).group(0)
    seconds = first_row.split("|")[3].strip()
    assert seconds in (html / "benchmarks.html").read_text(encoding="utf-8")
    assert "lasso.n_lambdas" in (html / "config.html").read_text(encoding="utf-8")
    # Every cross-reference of the hand-written pages found its object (Sphinx only
    # warns about unresolved ones in nitpicky mode).
    xref = r'<code class="xref py[^"]*"><span class="pre">([^<]+)</span>'
    for page in DOCS.glob("*.rst"):
        text = (html / f"{page.stem}.html").read_text(encoding="utf-8")
        every = re.findall(xref, text)
        linked = re.findall(r'<a class="reference internal" href="[^"]*"[^>]*>' + xref, text)
        assert sorted(every) == sorted(linked), (page.name, set(every) - set(linked))

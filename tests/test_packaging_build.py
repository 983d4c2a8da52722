"""The package as a user gets it: `python -m build` makes an sdist and, from it, a wheel
(from a copy of the checkout's package files, so the checkout is not touched); the
wheel installs into a fresh venv and its `sparsefield` command runs, also as the check
of a project folder; pip installs the sdist.  About 5 s on 2 cores, so in the default
run (marked `slow` all the same, for `-m "not slow"`).

Without the `build` package the sdist and the wheel are made by the same PEP 517 calls
that `python -m build --no-isolation` makes (setuptools.build_meta: the sdist, then the
wheel from the unpacked sdist)."""

import email
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import sparsefield
from conftest import PROJECT, copy_workflow

pytestmark = pytest.mark.slow

#: What an sdist is made from, beside src/.
SOURCES = ("pyproject.toml", "README.md", "LICENSE")

#: `python -m build --no-isolation` by hand: source folder and output folder as arguments.
HOOKS = """\
import os, sys, tarfile, tempfile
from setuptools import build_meta
source, out = sys.argv[1:]
os.chdir(source)
sdist = build_meta.build_sdist(out)
with tempfile.TemporaryDirectory() as folder:
    with tarfile.open(os.path.join(out, sdist)) as archive:
        archive.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    os.chdir(os.path.join(folder, sdist[: -len(".tar.gz")]))
    build_meta.build_wheel(out)
"""


def _run(command, **options):
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                            timeout=300, **options)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _package_files():
    """Every file of the package in the checkout, relative to src/."""
    root = PROJECT / "src"
    return sorted(str(path.relative_to(root)) for path in (root / "sparsefield").rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """(sdist, wheel) built from a copy of the package files."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        shutil.copy(PROJECT / name, source / name)
    shutil.copytree(PROJECT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    if importlib.util.find_spec("build") is not None:
        _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source])
    else:
        _run([sys.executable, "-c", HOOKS, source, out])
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(out.iterdir())
    return sdists[0], wheels[0]


def _fresh_venv(folder):
    """A venv without pip (pip of this environment installs into it: pip --python)."""
    _run([sys.executable, "-m", "venv", "--without-pip", folder])
    return Path(folder) / "bin" / "python"


def _pip_install(python, *arguments):
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
          "--no-index", *arguments])


def test_the_wheel_holds_the_package_the_licence_and_the_command(dist):
    _, wheel = dist
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(name.split("/")[0] for name in names if name.endswith(".dist-info/METADATA"))
        metadata = email.message_from_string(archive.read(f"{info}/METADATA").decode())
        licence = archive.read(f"{info}/licenses/LICENSE").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    package = sorted(name for name in names if name.startswith("sparsefield/"))
    assert package == _package_files()
    assert "sparsefield/py.typed" in package and "sparsefield/cli.py" in package
    assert not [name for name in names if name.startswith(("tests/", "workflow/", "config/"))]
    assert licence == (PROJECT / "LICENSE").read_text()
    assert metadata["Version"] == sparsefield.__version__
    assert metadata["License-Expression"] == "MIT"
    assert "sparsefield = sparsefield.cli:main" in entry_points.splitlines()


def test_the_sdist_holds_what_the_wheel_is_built_from(dist):
    sdist, _ = dist
    top = sdist.name[: -len(".tar.gz")]
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    for name in SOURCES:
        assert name in names
    assert {f"src/{name}" for name in _package_files()} <= names


def test_the_wheel_installs_into_a_fresh_venv_and_its_command_runs(dist, tmp_path):
    _, wheel = dist
    python = _fresh_venv(tmp_path / "venv")
    _pip_install(python, wheel)
    located = _run([python, "-c", "import sparsefield; print(sparsefield.__file__)"],
                   cwd=tmp_path).stdout.strip()
    assert Path(located).is_relative_to(tmp_path / "venv")
    expected = f"sparsefield {sparsefield.__version__}"
    assert _run([tmp_path / "venv/bin/sparsefield", "--version"]).stdout.strip() == expected
    assert _run([python, "-m", "sparsefield", "--version"],
                cwd=tmp_path).stdout.strip() == expected


def test_the_installed_command_checks_a_project_folder(dist, tmp_path):
    """`sparsefield check` of the installed wheel in a copy of the workflow: it reads
    config/ and workflow/schemas/ of the current folder.  The wheel was installed without
    its dependencies; this environment's are appended to the venv's path (after the
    venv's own site-packages, so sparsefield comes from the wheel)."""
    _, wheel = dist
    python = _fresh_venv(tmp_path / "venv")
    _pip_install(python, wheel)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_dependencies.pth").write_text("\n".join(ours) + "\n")
    (tmp_path / "project").mkdir()
    project = copy_workflow(tmp_path / "project")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    located = _run([python, "-c", "import sparsefield.cli as c; print(c.__file__)"],
                   cwd=project, env=environment).stdout.strip()
    assert Path(located).is_relative_to(tmp_path / "venv")
    command = tmp_path / "venv/bin/sparsefield"
    passed = _run([command, "check"], cwd=project, env=environment)
    assert passed.stdout.startswith("config and sheet OK: ")
    refused = subprocess.run([str(command), "check", "--config", "sta={n_shifts: -1}"],
                             cwd=project, env=environment, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 1
    assert refused.stderr == "sta.n_shifts: -1 is less than the minimum of 2\n"


def test_pip_installs_the_sdist(dist, tmp_path):
    sdist, _ = dist
    target = tmp_path / "target"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
          "--no-build-isolation", "--target", target, sdist])
    assert (target / "sparsefield" / "py.typed").is_file()
    assert (target / "bin" / "sparsefield").is_file()
    python = _fresh_venv(tmp_path / "venv")
    environment = {**os.environ, "PYTHONPATH": str(target)}
    result = _run([python, "-m", "sparsefield", "--version"], cwd=tmp_path, env=environment)
    assert result.stdout.strip() == f"sparsefield {sparsefield.__version__}"

"""environment.yml (the conda route) and pyproject.toml (the pip route) must agree."""

import re
import tomllib

import yaml

from conftest import PROJECT


def _name(requirement):
    return re.split(r"[\[<>=!~ ]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_and_pyproject_name_the_same_packages():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        pip_names |= {_name(r) for r in extra}

    environment = yaml.safe_load((PROJECT / "environment.yml").read_text())
    conda_names = set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            conda_names |= {_name(r) for r in entry["pip"] if not r.startswith("-e")}
        else:
            conda_names.add(_name(entry))
    conda_names -= {"python", "pip"}
    assert conda_names == pip_names

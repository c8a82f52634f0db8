"""environment.yml and pyproject.toml list the same dependencies; notebooks are clean."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import ROOT

CONDA_NAMES = {"python-duckdb": "duckdb"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(d) for d in project["dependencies"]}
    wanted |= {_name(d) for d in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {
        CONDA_NAMES.get(_name(d), _name(d)) for d in env["dependencies"] if isinstance(d, str)
    } - {"python", "pip"}
    assert conda == wanted


def test_public_api_is_declared():
    import salesops_analysis as so

    for name in so.__all__:
        assert hasattr(so, name), name

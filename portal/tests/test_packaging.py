"""What the package ships: the portal's code, never what only the tests use."""

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[2]


def shipped_packages() -> set[str]:
    """The packages `pip install .` puts in the wheel, found as setuptools finds them from
    pyproject.toml (its `find` looks for namespace packages too)."""
    rule = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    return set(find_namespace_packages(str(ROOT), include=rule["include"], exclude=rule.get("exclude", [])))


def test_the_package_ships_the_portal_and_its_client():
    assert {"portal", "contexts", "clusters", "clusters.providers", "portalctl"} <= shipped_packages()


def test_the_package_ships_no_tests_test_tools_or_test_settings():
    assert not [name for name in shipped_packages() if {"tests", "testing"} & set(name.split("."))]
    assert (ROOT / "portal" / "testing" / "settings.py").exists()  # where the test settings live

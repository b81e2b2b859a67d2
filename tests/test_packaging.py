"""Packaging: one version (the package's metadata), the license text shipped, type
information marked, a citation file, and the extras a user installs (gpu, test)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import twosided

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_version_is_written_once_and_read_from_the_metadata():
    source = (ROOT / "src" / "twosided" / "__init__.py").read_text()
    assert "importlib.metadata" in source
    assert not re.search(r"__version__\s*=\s*[\"']\d+\.\d+", source)  # no literal copy
    assert twosided.__version__ == PROJECT["version"]


def test_the_mit_license_is_shipped():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    assert PROJECT["license"] == {"text": "MIT"} or PROJECT["license"] == "MIT"
    assert "LICENSE" in PROJECT.get("license-files", ["LICENSE"])


def test_type_information_is_marked_and_shipped():
    assert (ROOT / "src" / "twosided" / "py.typed").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in data["tool"]["setuptools"]["package-data"]["twosided"]


def test_a_citation_file_names_the_software_and_its_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["title"] == "twosided"
    assert cff["version"] == PROJECT["version"] and cff["license"] == "MIT"
    assert cff["type"] == "software" and cff["authors"]


def test_extras_and_dependencies():
    extras = PROJECT["optional-dependencies"]
    assert any(dep.startswith("jax[cuda12]") for dep in extras["gpu"])
    names = {re.split(r"[<>=\[ ]", dep)[0] for dep in PROJECT["dependencies"]}
    assert {"filelock", "psutil"} <= names

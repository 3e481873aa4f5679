"""Small, generic helpers shared by the test tiers (unit, golden, e2e)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write dedented YAML to `tmp_path/<name>` and return its path (line 1 = first line)."""

    def write(text: str, name: str = "dsgen.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def _bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned Datastar bundle, fetched (and sha256-checked) once, then from dsgen's cache."""
    from dsgen._assets import datastar_bundle

    path = tmp_path_factory.mktemp("datastar") / "datastar.js"
    path.write_bytes(datastar_bundle())
    return path


@pytest.fixture
def datastar_js(monkeypatch: pytest.MonkeyPatch, _bundle: Path) -> Path:
    """Point dsgen at a local copy of the bundle so rendering a project touches no network."""
    monkeypatch.setenv("DSGEN_DATASTAR_JS", str(_bundle))
    return _bundle

"""Small, generic helpers shared by the test tiers (unit, golden, e2e)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

DATASTAR_JS = Path("/tmp/ds/datastar.js")


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write dedented YAML to `tmp_path/<name>` and return its path (line 1 = first line)."""

    def write(text: str, name: str = "dsgen.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def datastar_js(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point dsgen at a local Datastar bundle so rendering a project touches no network."""
    if not DATASTAR_JS.is_file():
        pytest.skip(f"{DATASTAR_JS} is missing (the pinned Datastar bundle)")
    monkeypatch.setenv("DSGEN_DATASTAR_JS", str(DATASTAR_JS))
    return DATASTAR_JS

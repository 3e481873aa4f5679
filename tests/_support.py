"""Shared helpers for dsgen's tests: example discovery and the golden-tree snapshot."""

from __future__ import annotations

from pathlib import Path

from syrupy.extensions.amber import AmberSnapshotExtension

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"
SNAPSHOTS = ROOT / "snapshots"


def example_specs() -> list[Path]:
    """Every blueprint's examples/*.yml: each is a golden case and an end-to-end case."""
    return sorted(BLUEPRINTS.glob("*/examples/*.yml"))


def example_id(path: Path) -> str:
    return f"{path.parent.parent.name}-{path.stem}"


class TreeSnapshot(AmberSnapshotExtension):
    """Golden outputs live in the repo's top-level snapshots/ folder."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOTS)

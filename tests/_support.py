"""Shared helpers for dsgen's tests: example discovery and the golden-tree snapshot."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from syrupy.data import Snapshot, SnapshotCollection, SnapshotCollections
from syrupy.extensions.base import AbstractSyrupyExtension

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"
SNAPSHOTS = ROOT / "snapshots"


def example_specs() -> list[Path]:
    """Every blueprint's examples/*.yml: each is a golden case and an end-to-end case."""
    return sorted(BLUEPRINTS.glob("*/examples/*.yml"))


def example_id(path: Path) -> str:
    return f"{path.parent.parent.name}-{path.stem}"


# What linting or testing a golden folder in place leaves behind (never generated).
TOOL_CACHES = frozenset({".ruff_cache", ".pytest_cache", "__pycache__", ".mypy_cache"})


class Tree(dict):
    """A snapshot of several files: {relative path: text}, compared as a whole."""

    def __repr__(self) -> str:
        return f"<tree of {len(self)} files>"


class TreeSnapshot(AbstractSyrupyExtension):
    """A golden *directory*: `snapshots/<test module>/<test name>/<path of each file>`.

    The asserted value is a mapping {relative path: text}; each entry is stored as its own
    file, so a template change shows as an ordinary diff of the generated file. Updating a
    snapshot rewrites its whole folder (files no longer generated disappear); a folder whose
    test is gone is reported unused (and removed by --snapshot-update) like any syrupy snapshot.
    """

    write_immediately = True

    # -- layout --------------------------------------------------------------------------
    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOTS / test_location.basename)

    @classmethod
    def get_location(cls, *, test_location, index) -> str:
        name = cls.get_snapshot_name(test_location=test_location, index=index)
        return str(Path(cls.dirname(test_location=test_location)) / _clean(name))

    @classmethod
    def matches_test_location(cls, *, test_location, snapshot_location) -> bool:
        # Only the test that wrote a folder owns it. syrupy relates a snapshot to the paths
        # given on the command line by looking for the test folder in the snapshot's path,
        # which snapshots/ (outside tests/) never contains: with a looser match, updating one
        # selected test (`pytest tests/test_golden.py::test_x --snapshot-update`) would delete
        # every other folder of the module. Folders of removed cases: see test_golden.py.
        return Path(snapshot_location) == Path(
            cls.get_location(test_location=test_location, index=0)
        )

    def is_snapshot_location(self, *, location: str) -> bool:
        return Path(location).parent == SNAPSHOTS or Path(location).parent.parent == SNAPSHOTS

    def discover_snapshots(self, *, test_location, ignore_extensions=None) -> SnapshotCollections:
        found = SnapshotCollections()
        folder = Path(self.dirname(test_location=test_location))
        if folder.is_dir():
            for case in sorted(p for p in folder.iterdir() if p.is_dir()):
                found.add(self.read_snapshot_collection(snapshot_location=str(case)))
        return found

    # -- reading and writing ---------------------------------------------------------------
    def serialize(self, data, *, exclude=None, include=None, matcher=None) -> Tree:
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise TypeError("a tree snapshot is a {relative path: text} mapping")
        return Tree(sorted(data.items()))

    def read_snapshot_collection(self, *, snapshot_location: str) -> SnapshotCollection:
        collection = SnapshotCollection(location=snapshot_location)
        collection.add(Snapshot(name=Path(snapshot_location).name))
        return collection

    def read_snapshot_data_from_location(self, *, snapshot_location, snapshot_name, session_id):
        root = Path(snapshot_location)
        if not root.is_dir():
            return None
        return Tree(
            sorted(
                (path.relative_to(root).as_posix(), path.read_bytes().decode("utf-8"))
                for path in root.rglob("*")
                if path.is_file() and not TOOL_CACHES.intersection(path.relative_to(root).parts)
            )
        )

    @classmethod
    def write_snapshot_collection(cls, *, snapshot_collection, name_order=None) -> None:
        root = Path(snapshot_collection.location)
        data = next(iter(snapshot_collection)).data
        shutil.rmtree(root, ignore_errors=True)
        for rel, text in data.items():
            path = root / rel
            if root not in path.resolve().parents:
                raise ValueError(f"tree snapshot path escapes its folder: {rel!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))

    def delete_snapshots(self, *, snapshot_location: str, snapshot_names: set[str]) -> None:
        shutil.rmtree(snapshot_location, ignore_errors=True)

    # -- reporting -------------------------------------------------------------------------
    def diff_lines(self, serialized_data, snapshot_data):
        old, new = dict(snapshot_data or {}), dict(serialized_data or {})
        for rel in sorted(old.keys() | new.keys()):
            if old.get(rel) == new.get(rel):
                continue
            yield from difflib.unified_diff(
                (old.get(rel) or "").splitlines(),
                (new.get(rel) or "").splitlines(),
                f"snapshot/{rel}" if rel in old else "/dev/null",
                f"received/{rel}" if rel in new else "/dev/null",
                lineterm="",
            )


def _clean(name: str) -> str:
    return "".join(c for c in name if c not in '\\/?*:|"<>' and c.isprintable())

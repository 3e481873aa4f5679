"""dsgen's database layer: one backend per database, behind a small interface.

A backend turns a spec into a schema state, diffs two states into typed ops (each op knows
its own up/down/summary) and writes the revision that applies them. `dsgen db --backend NAME`
and the library pick a backend from the registry below; a new database plugs in as a module
of its own plus one registry entry, without touching the others.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dsgen._planned import refusal
from dsgen.db.errors import (
    DestructiveMigrationError,
    MigrationError,
    MigrationRefusedError,
)

if TYPE_CHECKING:
    from dsgen._blueprints import Registry
    from dsgen._model import Spec

__all__ = [
    "Backend", "DestructiveMigrationError", "Migration", "MigrationError",
    "MigrationRefusedError", "Op", "backend_names", "find_backend", "get_backend", "not_built",
]


class Op(Protocol):
    """One schema change, as every backend's ops present it."""

    table: str

    @property
    def loss(self) -> str | None: ...

    def summary(self) -> str: ...


@dataclass(frozen=True)
class Migration:
    """A revision to write: its project-relative posix path, its text and what it does."""

    path: str
    text: str
    ops: list
    revision: str


class Backend(Protocol):
    """What `dsgen db` needs from a database backend."""

    name: str

    def schema_state(self, spec: Spec, registry: Registry | None = None) -> dict:
        """The JSON-able schema the spec leads to (with what its patterns' hooks declare)."""
        ...

    def diff(self, old: dict, new: dict, *, renames: dict[str, dict[str, str]] | None = None,
             allow_destructive: bool = False) -> list:
        """Typed ops that turn state `old` into `new` (refusing unsafe changes)."""
        ...

    def write_revision(self, ops: list, state: dict, *, revision: str,
                       down_revision: str | None, message: str) -> str:
        """The text of the revision that applies `ops` and records `state`."""
        ...

    def has_history(self, project: Path) -> bool:
        """Whether the project has revisions already."""
        ...

    def plan(self, spec: Spec, project: Path, *, message: str | None = None,
             allow_destructive: bool = False,
             registry: Registry | None = None) -> Migration | None:
        """The next revision for the project (None: its schema is up to date)."""
        ...


# name -> "module:attribute" of a Backend class; _NOT_YET: why a planned one is not built yet.
_REGISTRY: dict[str, str] = {
    "postgres": "dsgen.db.postgres:PostgresBackend",
}
_NOT_YET: dict[str, str] = {
    "mongo": "MongoDB is planned",
}


def backend_names() -> list[str]:
    return sorted({*_REGISTRY, *_NOT_YET})


def not_built(name: str) -> str | None:
    """Why the planned backend `name` is not built yet, or None (built, or unknown)."""
    return _NOT_YET.get(name)


def find_backend(name: str) -> Backend | None:
    """The backend called `name`, or None when it is not available (yet)."""
    target = _REGISTRY.get(name)
    if target is None:
        return None
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)()


def get_backend(name: str) -> Backend:
    """The backend called `name`; a clear error for unknown and not-yet-available ones."""
    if name in _NOT_YET:
        raise MigrationError(f"{refusal(f'the database backend {name!r}')}: {_NOT_YET[name]}; "
                             "'dsgen db' writes Alembic revisions for postgres apps")
    target = _REGISTRY.get(name)
    if target is None:
        raise MigrationError(f"unknown database backend '{name}'; known: "
                             + ", ".join(backend_names()))
    backend = find_backend(name)
    assert backend is not None
    return backend

"""The revision history on disk: revision ids and the schema state each one records."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsgen.db.errors import MigrationError
from dsgen.db.postgres.state import STATE_VERSION, empty_state

STATE_CONSTANT = "DSGEN_STATE"
VERSIONS_DIR = "migrations/versions"


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: tuple[str, ...]
    state: dict | None
    path: Path


def read_revision(path: Path) -> Revision | None:
    """The revision ids and dsgen state of one revision file, read with ast (never imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise MigrationError(f"cannot read the migration {path}: {exc}") from exc
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in (
                    "revision", "down_revision", STATE_CONSTANT):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError as exc:
                    raise MigrationError(f"{path}: {target.id} is not a constant") from exc
    if not isinstance(values.get("revision"), str):
        return None
    down = values.get("down_revision")
    downs = (down,) if isinstance(down, str) else tuple(down or ())
    state = None
    if STATE_CONSTANT in values:
        try:
            state = json.loads(values[STATE_CONSTANT])
        except (TypeError, ValueError) as exc:
            raise MigrationError(f"{path}: {STATE_CONSTANT} is not valid JSON: {exc}") from exc
    return Revision(values["revision"], downs, state, path)


def read_history(versions_dir: Path) -> list[Revision]:
    if not versions_dir.is_dir():
        return []
    revisions = [r for p in sorted(versions_dir.glob("*.py")) if (r := read_revision(p))]
    return revisions


def head_revision(revisions: list[Revision]) -> Revision | None:
    """The one revision no other revision follows; an error when the history branches."""
    if not revisions:
        return None
    parents = {d for r in revisions for d in r.down_revision}
    heads = [r for r in revisions if r.revision not in parents]
    if len(heads) != 1:
        names = ", ".join(f"{r.revision} ({r.path.name})" for r in heads) or "none (a cycle)"
        raise MigrationError(f"the migration history has {len(heads)} heads: {names}; merge "
                             "them first ('alembic merge heads') so dsgen knows which to follow")
    return heads[0]


def recorded_state(revisions: list[Revision], head: Revision | None) -> dict:
    """The state in the head revision, or in its nearest ancestor that has one.

    Revisions written by hand (data fixes, say) carry no state; dsgen follows them down to
    the last state it recorded.
    """
    by_id = {r.revision: r for r in revisions}
    current, seen = head, set()
    while current is not None and current.revision not in seen:
        if current.state is not None:
            if current.state.get("dsgen_state") != STATE_VERSION:
                raise MigrationError(f"{current.path}: state version "
                                     f"{current.state.get('dsgen_state')!r} is not one this "
                                     f"dsgen reads ({STATE_VERSION})")
            return current.state
        seen.add(current.revision)
        current = by_id.get(current.down_revision[0]) if current.down_revision else None
    return empty_state()

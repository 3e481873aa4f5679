"""The PostgreSQL backend: Alembic revisions that carry the schema state they lead to."""

from __future__ import annotations

from pathlib import Path

from dsgen._blueprints import Registry
from dsgen._model import Backend, Spec
from dsgen.db import Migration, MigrationError
from dsgen.db.postgres.diff import diff_states
from dsgen.db.postgres.history import VERSIONS_DIR, head_revision, read_history, recorded_state
from dsgen.db.postgres.ops import Op
from dsgen.db.postgres.realtime import realtime_ops, realtime_state
from dsgen.db.postgres.revision import default_message, render_revision, slugify
from dsgen.db.postgres.state import schema_state, spec_renames


class PostgresBackend:
    name = "postgres"

    def schema_state(self, spec: Spec, registry: Registry | None = None) -> dict:
        return realtime_state(schema_state(spec, registry))

    def diff(self, old: dict, new: dict, *, renames: dict[str, dict[str, str]] | None = None,
             allow_destructive: bool = False) -> list[Op]:
        ops = diff_states(old, new, renames=renames, allow_destructive=allow_destructive)
        first, last = realtime_ops(old, new)
        return first + ops + last

    def write_revision(self, ops: list[Op], state: dict, *, revision: str,
                       down_revision: str | None, message: str) -> str:
        return render_revision(ops, state, revision=revision, down_revision=down_revision,
                               message=message)

    def has_history(self, project: Path) -> bool:
        return bool(read_history(project / VERSIONS_DIR))

    def plan(self, spec: Spec, project: Path, *, message: str | None = None,
             allow_destructive: bool = False,
             registry: Registry | None = None) -> Migration | None:
        return plan_migration(spec, project / VERSIONS_DIR, message=message,
                              allow_destructive=allow_destructive, registry=registry)


def plan_migration(spec: Spec, versions_dir: Path, *, message: str | None = None,
                   allow_destructive: bool = False,
                   registry: Registry | None = None) -> Migration | None:
    """The next revision that brings the recorded schema to the spec; None when up to date."""
    if spec.app.backend is not Backend.POSTGRES:
        raise MigrationError(f"'dsgen db' writes Alembic migrations for postgres; this app's "
                             f"backend is '{spec.app.backend.value}'")
    backend = PostgresBackend()
    revisions = read_history(versions_dir)
    head = head_revision(revisions)
    new = backend.schema_state(spec, registry)
    old = recorded_state(revisions, head)
    ops = backend.diff(old, new, renames=spec_renames(spec), allow_destructive=allow_destructive)
    if not ops:
        return None
    numbers = [int(r.revision) for r in revisions if r.revision.isdigit()]
    revision = f"{max(numbers, default=0) + 1:04d}"
    message = (message or "").strip() or default_message(ops, head is None)
    text = backend.write_revision(ops, new, revision=revision,
                                  down_revision=head.revision if head else None,
                                  message=message)
    return Migration(f"{VERSIONS_DIR}/{revision}_{slugify(message)}.py", text, ops, revision)

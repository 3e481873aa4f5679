"""The database layer's backend interface: the registry, dispatch from `dsgen db`, typed ops."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsgen import db
from dsgen._cli import app
from dsgen._project import emit_migration
from dsgen.db import Migration, MigrationError, backend_names, find_backend, get_backend
from dsgen.db.postgres import PostgresBackend
from dsgen.db.postgres import ops as pg_ops
from dsgen.db.postgres import realtime as pg_realtime

SPEC = """\
dsgen: 1
app: {name: shop}
stores:
  item:
    fields:
      title: {type: string, required: true}
screens:
  items: {pattern: data-table, store: item}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "dsgen.yaml").write_text(SPEC, encoding="utf-8")
    return tmp_path


def test_registry_names_every_backend():
    assert backend_names() == ["mongo", "postgres"]
    assert isinstance(get_backend("postgres"), PostgresBackend)
    assert find_backend("mongo") is None


def test_mongo_is_a_clear_not_yet_error():
    with pytest.raises(MigrationError, match="the database backend 'mongo' is not supported "
                                             "yet by this dsgen version: MongoDB is planned"):
        get_backend("mongo")


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(MigrationError, match="unknown database backend 'oracle'; known: "
                                             "mongo, postgres"):
        get_backend("oracle")


def test_cli_db_dispatches_on_backend(project: Path):
    runner = CliRunner()
    result = runner.invoke(app, ["db", "--backend", "mongo", "--dir", str(project)])
    assert result.exit_code == 1
    assert "not supported yet" in result.output
    assert not (project / "migrations").exists()       # nothing written
    result = runner.invoke(app, ["db", "--dir", str(project)])
    assert result.exit_code == 0, result.output
    assert (project / "migrations/versions/0001_initial.py").is_file()


class _FakeBackend:
    """A backend that is not PostgreSQL, plugged in through the registry alone."""

    name = "fake"

    def schema_state(self, spec, registry=None):
        return {"collections": sorted(s.name.snake for s in spec.stores)}

    def diff(self, old, new, *, renames=None, allow_destructive=False):
        return [] if old == new else [("create", c) for c in new["collections"]]

    def write_revision(self, ops, state, *, revision, down_revision, message):
        return f"# {message}\n" + "".join(f"{verb} {name}\n" for verb, name in ops)

    def has_history(self, project):
        return (project / "fake").is_dir()

    def plan(self, spec, project, *, message=None, allow_destructive=False, registry=None):
        ops = self.diff({}, self.schema_state(spec))
        text = self.write_revision(ops, {}, revision="1", down_revision=None,
                                   message=message or "first")
        return Migration("fake/1.txt", text, [], "1")


def test_a_new_backend_plugs_in_through_the_registry(project: Path, monkeypatch):
    module = types.ModuleType("fake_backend_for_test")
    module.FakeBackend = _FakeBackend
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(db._REGISTRY, "fake", f"{module.__name__}:FakeBackend")
    migration = emit_migration(project, backend="fake")
    assert migration is not None and migration.path == "fake/1.txt"
    assert (project / "fake/1.txt").read_text() == "# first\ncreate item\n"
    assert not (project / "migrations").exists()


def _op_classes() -> list[type]:
    found = [pg_ops.Op]
    for module in (pg_ops, pg_realtime):
        found += [v for v in vars(module).values()
                  if isinstance(v, type) and issubclass(v, pg_ops.Op) and v is not pg_ops.Op]
    return sorted(set(found) - {pg_ops.Op, pg_ops._AlterColumn}, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _op_classes(), ids=lambda c: c.__name__)
def test_every_op_owns_its_up_down_and_summary(cls):
    for method in ("up", "down", "summary"):
        assert getattr(cls, method) is not getattr(pg_ops.Op, method), (cls, method)


def test_there_are_as_many_ops_as_before():
    assert len(_op_classes()) == 22  # + UpgradeRealtimeLog

"""The date-range pattern's database rule: no two bookings of a resource overlap.

`dsgen db` emits it as an exclusion constraint (plus the btree_gist extension it needs), so
the rule holds even when two requests race past the app's own check.
"""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

import pytest

from dsgen._load import parse_spec
from dsgen._model import Spec
from dsgen.db.postgres import plan_migration
from dsgen.db.postgres.ddl import exclude_sql
from dsgen.db.postgres.diff import diff_states
from dsgen.db.postgres.ops import (
    AddConstraint,
    CreateExtension,
    CreateTable,
    DropConstraint,
    DropExtension,
    RenameColumn,
    RenameConstraint,
    summarize,
)
from dsgen.db.postgres.state import empty_state, schema_state, spec_renames
from tests.test_migrate import Project, _ruff, database, pg_server  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _no_pattern_indexes(monkeypatch):
    """These tests are about the schema diff; the indexes a screen's queries need are
    tested on their own (tests/test_pattern_indexes.py)."""
    monkeypatch.setattr("dsgen.db.postgres.state.PatternSchema.add_index",
                        lambda self, table, name, definition: None)

BOOKINGS = """
    room:
      fields:
        name: {type: string, required: true}
    booking:
      fields:
        room: {type: ref, store: room, required: true}
        guest: {type: string, required: true}
        starts: {type: date, required: true}
        ends: {type: date, required: true}
    """
SCREEN = "{pattern: date-range, store: booking, start: starts, end: ends, resource: room}"
NAME = "ex_bookings_room_starts_ends"


def spec(stores: str, screens: str | None = None) -> Spec:
    """A spec from its `stores:` YAML and a one-line mapping of screens."""
    screens = screens if screens is not None else f"{{calendar: {SCREEN}}}"
    text = ("dsgen: 1\napp: {name: hotel}\nscreens: " + screens + "\nstores:\n" +
            textwrap.indent(textwrap.dedent(stores).strip("\n"), "  ") + "\n")
    parsed, diagnostics = parse_spec(Path("dsgen.yaml"), text)
    assert not diagnostics, [str(d) for d in diagnostics]
    assert parsed is not None
    return parsed


def diff(old: Spec | None, new: Spec, **kwargs) -> list:
    before = schema_state(old) if old is not None else empty_state()
    return diff_states(before, schema_state(new), renames=spec_renames(new), **kwargs)


def kinds(ops: list) -> list[str]:
    return [type(op).__name__ for op in ops]


# -- schema state ---------------------------------------------------------------------------


def test_a_date_range_screen_adds_the_exclusion_constraint_and_its_extension():
    state = schema_state(spec(BOOKINGS))
    assert state["extensions"] == ["btree_gist"]
    assert state["tables"]["bookings"]["constraints"][NAME] == {
        "kind": "exclude", "using": "gist", "columns": ["room"], "range": ["starts", "ends"],
        "range_type": "daterange", "bounds": "[)", "where": []}
    assert "ex_" not in " ".join(state["tables"]["rooms"]["constraints"])


def test_the_constraint_sql_is_end_exclusive_and_quotes_every_identifier():
    d = schema_state(spec(BOOKINGS))["tables"]["bookings"]["constraints"][NAME]
    assert exclude_sql(d) == ('EXCLUDE USING gist ("room" WITH =, '
                              'daterange("starts", "ends", \'[)\') WITH &&)')


def test_other_patterns_and_plain_stores_get_nothing():
    state = schema_state(spec(BOOKINGS, "{rooms: {pattern: master-detail, store: booking}}"))
    assert "extensions" not in state  # states written before this feature stay identical
    assert not any(d["kind"] == "exclude" for t in state["tables"].values()
                   for d in t["constraints"].values())


def test_without_a_resource_no_two_rows_overlap_at_all_and_no_extension_is_needed():
    screens = "{calendar: {pattern: date-range, store: booking, start: starts, end: ends}}"
    state = schema_state(spec(BOOKINGS, screens))
    assert "extensions" not in state  # daterange && needs no btree_gist
    d = state["tables"]["bookings"]["constraints"]["ex_bookings_starts_ends"]
    assert exclude_sql(d) == 'EXCLUDE USING gist (daterange("starts", "ends", \'[)\') WITH &&)'


def test_rows_without_both_dates_are_left_out_of_the_rule():
    stores = BOOKINGS.replace("starts: {type: date, required: true}", "starts: date")
    d = schema_state(spec(stores))["tables"]["bookings"]["constraints"][NAME]
    assert d["where"] == [["starts", "NOT NULL"]]
    assert exclude_sql(d).endswith(' WITH &&) WHERE ("starts" IS NOT NULL)')


def test_keyword_and_odd_field_names_are_quoted():
    stores = """
        place:
          fields:
            name: string
        slot:
          fields:
            from: {type: date, required: true}
            to: {type: date, required: true}
            where: {type: ref, store: place}
        """
    screens = "{slots: {pattern: date-range, store: slot, start: from, end: to, resource: where}}"
    d = schema_state(spec(stores, screens))["tables"]["slots"]["constraints"][
        "ex_slots_where_from_to"]
    assert exclude_sql(d) == ('EXCLUDE USING gist ("where" WITH =, '
                              'daterange("from", "to", \'[)\') WITH &&)')


@pytest.mark.parametrize("screen", [
    "{pattern: date-range, store: booking, start: starts, end: starts, resource: room}",
    "{pattern: date-range, store: booking, start: starts, end: guest, resource: room}",
    "{pattern: date-range, store: booking, start: starts, end: ends, resource: guest}",
    "{pattern: date-range, store: booking, start: nope, end: ends}",
    "{pattern: date-range, store: nope, start: starts, end: ends}",
])
def test_screens_whose_options_do_not_fit_are_skipped(screen):
    # check_spec reports these; the state must still be computable (dsgen db --dry-run).
    state = schema_state(spec(BOOKINGS, f"{{calendar: {screen}}}"))
    assert not any(d["kind"] == "exclude" for t in state["tables"].values()
                   for d in t["constraints"].values())


def test_two_screens_with_the_same_options_share_one_constraint():
    state = schema_state(spec(BOOKINGS, f"{{a: {SCREEN}, b: {SCREEN}}}"))
    names = [n for n, d in state["tables"]["bookings"]["constraints"].items()
             if d["kind"] == "exclude"]
    assert names == [NAME]


# -- diff -----------------------------------------------------------------------------------


def test_the_first_migration_creates_the_extension_before_the_tables():
    ops = diff(None, spec(BOOKINGS))
    assert kinds(ops) == ["CreateExtension", "CreateTable", "CreateTable"]
    assert summarize(ops)[0] == "create extension btree_gist"


def test_adding_the_screen_to_an_existing_store_adds_the_constraint():
    plain = spec(BOOKINGS, "{rooms: {pattern: master-detail, store: booking}}")
    ops = diff(plain, spec(BOOKINGS))
    assert kinds(ops) == ["CreateExtension", "AddConstraint"]
    assert isinstance(ops[1], AddConstraint) and ops[1].loss is None
    assert summarize(ops) == ["create extension btree_gist",
                              f"add exclusion constraint {NAME} on bookings"]


def test_removing_the_screen_drops_the_constraint_then_the_extension():
    plain = spec(BOOKINGS, "{rooms: {pattern: master-detail, store: booking}}")
    ops = diff(spec(BOOKINGS), plain)
    assert kinds(ops) == ["DropConstraint", "DropExtension"]
    assert isinstance(ops[0], DropConstraint) and isinstance(ops[1], DropExtension)


def test_changing_the_resource_replaces_the_constraint():
    stores = BOOKINGS.replace("guest: {type: string, required: true}",
                              "guest: {type: string, required: true}\n"
                              "        desk: {type: ref, store: room}")
    other = SCREEN.replace("resource: room", "resource: desk")
    ops = diff(spec(stores), spec(stores, f"{{calendar: {other}}}"))
    assert kinds(ops) == ["DropConstraint", "AddConstraint"]


def test_a_renamed_date_field_renames_the_column_and_follows_into_the_constraint():
    renamed = BOOKINGS.replace("ends: {type: date, required: true}",
                               "checkout: {type: date, required: true, renamed_from: ends}")
    ops = diff(spec(BOOKINGS), spec(renamed, f"{{calendar: {SCREEN.replace('ends', 'checkout')}}}"))
    assert kinds(ops) == ["RenameColumn", "RenameConstraint"]
    assert isinstance(ops[0], RenameColumn) and isinstance(ops[1], RenameConstraint)
    assert ops[1].new == "ex_bookings_room_starts_checkout"


def test_the_revision_renders_ruff_clean_sql(tmp_path):
    migration = plan_migration(spec(BOOKINGS), tmp_path / "versions")
    assert migration is not None
    text = migration.text
    assert """op.execute('CREATE EXTENSION IF NOT EXISTS "btree_gist"')""" in text
    assert """ADD CONSTRAINT "ex_bookings_room_starts_ends" EXCLUDE USING gist '""" in text
    assert """op.execute('DROP EXTENSION IF EXISTS "btree_gist"')""" in text
    up, down = text.split("def downgrade")
    assert up.index("CREATE EXTENSION") < up.index("op.create_table")
    assert down.index('op.drop_table("bookings")') < down.index("DROP EXTENSION")
    path = tmp_path / "0001_initial.py"
    path.write_text(text)
    _ruff(path)


def test_a_later_revision_is_named_after_the_rule(tmp_path):
    versions = tmp_path / "migrations" / "versions"
    first = plan_migration(spec(BOOKINGS, "{rooms: {pattern: master-detail, store: booking}}"),
                           versions)
    assert first is not None
    (tmp_path / first.path).parent.mkdir(parents=True)
    (tmp_path / first.path).write_text(first.text)
    second = plan_migration(spec(BOOKINGS), versions)
    assert second is not None
    assert second.path == "migrations/versions/0002_no_overlapping_bookings.py"
    assert isinstance(second.ops[0], CreateExtension)
    assert not any(isinstance(op, CreateTable) for op in second.ops)


# -- a real database ------------------------------------------------------------------------

INSERT = ("INSERT INTO bookings (room, guest, starts, ends) SELECT id, 'G', '{0}', '{1}' "
          "FROM rooms WHERE name = '{2}'")


@pytest.fixture
def project(tmp_path, database):  # noqa: F811 (the imported fixture, used here)
    p = Project(tmp_path / "proj", database)
    yield p
    p.engine.dispose()


def _migrate(project: Project, s: Spec, **kwargs) -> list:
    migration = plan_migration(s, project.versions, **kwargs)
    assert migration is not None
    (project.root / migration.path).write_text(migration.text)
    return migration.ops


def _extensions(project: Project) -> set[str]:
    return {r[0] for r in project.rows("SELECT extname FROM pg_extension")}


@pytest.mark.db
def test_the_database_rejects_overlaps_per_resource_and_downgrades_cleanly(project):
    assert "btree_gist" not in _extensions(project)
    _migrate(project, spec(BOOKINGS))
    project.upgrade()
    assert "btree_gist" in _extensions(project)
    project.run("INSERT INTO rooms (name) VALUES ('A'), ('B')")
    project.run(INSERT.format("2030-01-10", "2030-01-13", "A"))
    project.rejects(INSERT.format("2030-01-12", "2030-01-14", "A"), NAME)
    project.rejects(INSERT.format("2030-01-01", "2030-02-01", "A"), NAME)
    project.run(INSERT.format("2030-01-13", "2030-01-15", "A"))  # check-out day = check-in day
    project.run(INSERT.format("2030-01-07", "2030-01-10", "A"))
    project.run(INSERT.format("2030-01-10", "2030-01-13", "B"))  # another room
    assert project.rows("SELECT count(*) FROM bookings") == [(4,)]

    project.downgrade("base")
    assert project.tables() == {"alembic_version"}
    assert "btree_gist" not in _extensions(project)
    project.upgrade()  # and up again, from nothing
    assert "btree_gist" in _extensions(project)


@pytest.mark.db
def test_adding_and_removing_the_screen_later_on_a_real_database(project):
    plain = spec(BOOKINGS, "{rooms: {pattern: master-detail, store: booking}}")
    _migrate(project, plain)
    project.upgrade()
    project.run("INSERT INTO rooms (name) VALUES ('A')")
    project.run(INSERT.format("2030-01-10", "2030-01-13", "A"))
    assert kinds(_migrate(project, spec(BOOKINGS))) == ["CreateExtension", "AddConstraint"]
    project.upgrade()
    project.rejects(INSERT.format("2030-01-12", "2030-01-14", "A"), NAME)
    assert kinds(_migrate(project, plain)) == ["DropConstraint", "DropExtension"]
    project.upgrade()
    project.run(INSERT.format("2030-01-12", "2030-01-14", "A"))
    assert "btree_gist" not in _extensions(project)
    project.run("DELETE FROM bookings WHERE starts = '2030-01-12'")
    project.downgrade("0002")
    project.rejects(INSERT.format("2030-01-12", "2030-01-14", "A"), NAME)
    project.downgrade("0001")
    assert "btree_gist" not in _extensions(project)


@pytest.mark.db
def test_two_concurrent_overlapping_inserts_one_wins(project):
    import psycopg

    _migrate(project, spec(BOOKINGS))
    project.upgrade()
    project.run("INSERT INTO rooms (name) VALUES ('A')")
    url = project.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    results: list[str] = []
    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        first.execute(INSERT.format("2030-01-10", "2030-01-13", "A"))  # not committed yet

        def race() -> None:
            try:
                second.execute(INSERT.format("2030-01-12", "2030-01-14", "A"))  # waits on first
                second.commit()
                results.append("committed")
            except psycopg.errors.ExclusionViolation as exc:
                second.rollback()
                results.append(exc.diag.constraint_name or "")

        thread = threading.Thread(target=race)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()  # blocked on the first transaction's conflicting row
        first.commit()
        thread.join(timeout=10)
    assert results == [NAME]
    assert project.rows("SELECT count(*) FROM bookings") == [(1,)]

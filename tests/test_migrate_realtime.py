"""Realtime stores in migrations: the `realtime_events` log (once) and per-table triggers."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsgen.db.errors import MigrationError
from dsgen.db.postgres import plan_migration
from dsgen.db.postgres.history import read_revision
from dsgen.db.postgres.ops import render_down, render_up, summarize
from dsgen.db.postgres.realtime import (
    REALTIME_LOG,
    CreateRealtimeLog,
    DisableRealtime,
    DropRealtimeLog,
    EnableRealtime,
    UpgradeRealtimeLog,
    realtime_ops,
)
from dsgen.db.postgres.realtime import realtime_state as _realtime_state
from dsgen.db.postgres.revision import render_revision
from dsgen.db.postgres.state import schema_state
from tests.test_migrate import (  # noqa: F401 (fixtures)
    Project,
    _ruff,
    database,
    pg_server,
    project,
    spec,
)

PLAIN = "note:\n  fields: {body: text}\ntag:\n  fields: {name: string}"
NOTE_RT = "note:\n  fields: {body: text}\n  realtime: true\ntag:\n  fields: {name: string}"
BOTH_RT = ("note:\n  fields: {body: text}\n  realtime: true\n"
           "tag:\n  fields: {name: string}\n  realtime: true")


def state(stores: str) -> dict:
    return _realtime_state(schema_state(spec(stores)))


def plan(old: str | None, new: str) -> tuple[list, list]:
    return realtime_ops(state(old) if old else {"tables": {}}, state(new))


def kinds(ops: list) -> list[tuple[str, str]]:
    return [(type(op).__name__, op.table) for op in ops]


def test_no_realtime_store_leaves_the_state_as_it_was():
    assert state(PLAIN) == schema_state(spec(PLAIN))
    assert "realtime_log" not in state(PLAIN)


def test_a_realtime_store_records_its_channel_and_the_log():
    s = state(NOTE_RT)
    assert s["realtime_log"] == REALTIME_LOG
    assert s["tables"]["notes"]["realtime_channel"] == "notes"
    assert "realtime_channel" not in s["tables"]["tags"]


def test_first_realtime_store_creates_the_log_then_its_triggers():
    before, after = plan(PLAIN, NOTE_RT)
    assert kinds(before) == [("CreateRealtimeLog", REALTIME_LOG)]
    assert kinds(after) == [("EnableRealtime", "notes")]


def test_the_log_is_created_once_for_several_stores():
    before, after = plan(None, BOTH_RT)
    assert kinds(before) == [("CreateRealtimeLog", REALTIME_LOG)]
    assert kinds(after) == [("EnableRealtime", "notes"), ("EnableRealtime", "tags")]
    before, after = plan(NOTE_RT, BOTH_RT)
    assert (kinds(before), kinds(after)) == ([], [("EnableRealtime", "tags")])


def test_turning_one_off_keeps_the_log_turning_the_last_off_drops_it():
    before, after = plan(BOTH_RT, NOTE_RT)
    assert (kinds(before), kinds(after)) == ([("DisableRealtime", "tags")], [])
    before, after = plan(NOTE_RT, PLAIN)
    assert kinds(before) == [("DisableRealtime", "notes")]
    assert kinds(after) == [("DropRealtimeLog", REALTIME_LOG)]


def test_unchanged_realtime_emits_nothing():
    assert plan(NOTE_RT, NOTE_RT) == ([], [])


def test_a_head_that_says_realtime_but_predates_the_plumbing_gets_it():
    old = schema_state(spec(NOTE_RT))  # `realtime: true`, no channel, no log
    assert old["tables"]["notes"]["realtime"] is True
    before, after = realtime_ops(old, state(NOTE_RT))
    assert kinds(before) == [("CreateRealtimeLog", REALTIME_LOG)]
    assert kinds(after) == [("EnableRealtime", "notes")]


def test_a_store_named_like_the_log_is_refused():
    with pytest.raises(MigrationError, match="rename that store"):
        state("realtime_event:\n  fields: {x: int}\n  realtime: true")


def test_up_and_down_mirror_each_other():
    enable, disable = EnableRealtime("notes", "notes"), DisableRealtime("notes", "notes")
    assert render_down(enable) == render_up(disable)
    assert render_down(disable) == render_up(enable)
    log, drop = CreateRealtimeLog(REALTIME_LOG), DropRealtimeLog(REALTIME_LOG)
    assert render_down(log) == render_up(drop)
    assert render_down(drop) == render_up(log)
    assert summarize([enable, disable]) == [
        f"realtime on notes (triggers -> {REALTIME_LOG}, channel notes)",
        "realtime off notes (drop its triggers)"]


def test_revisions_render_ruff_clean_and_record_the_plumbing(tmp_path):
    versions = tmp_path / "versions"
    versions.mkdir()
    first = plan_migration(spec(PLAIN), versions)
    assert first is not None
    (versions / Path(first.path).name).write_text(first.text)
    assert not any(isinstance(op, CreateRealtimeLog) for op in first.ops)
    second = plan_migration(spec(NOTE_RT), versions)
    assert second is not None
    assert [type(op).__name__ for op in second.ops] == ["CreateRealtimeLog", "EnableRealtime"]
    assert second.path.endswith("_realtime_notes.py")
    text = second.text
    assert "CREATE TABLE realtime_events" in text and "realtime_capture('notes')" in text
    assert "DROP TABLE realtime_events" in text.split("def downgrade")[1]
    path = tmp_path / "0002.py"
    path.write_text(text)
    _ruff(path)
    revision = read_revision(path)
    assert revision is not None and revision.state is not None
    assert revision.state["realtime_log"] == REALTIME_LOG
    (versions / path.name).write_text(text)
    assert plan_migration(spec(NOTE_RT), versions) is None  # up to date


def _triggers(p: Project) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in p.rows(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal")}


def _functions(p: Project) -> set[str]:
    return {r[0] for r in p.rows(
        "SELECT proname FROM pg_proc WHERE proname IN "
        "('realtime_order', 'realtime_capture', 'realtime_prune')")}


def _columns(p: Project, table: str) -> set[str]:
    return {r[0] for r in p.rows(
        f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'")}


@pytest.mark.db
def test_on_a_real_database_writes_are_logged_in_order_and_downgrade_is_clean(project):  # noqa: F811
    project.migrate(PLAIN)
    project.upgrade()
    project.run("INSERT INTO notes (body) VALUES ('before')")
    project.migrate(NOTE_RT)  # 0002: log + notes triggers
    project.upgrade()
    assert REALTIME_LOG in project.tables()
    assert _functions(project) == {"realtime_capture", "realtime_prune"}
    assert {t for _, t in _triggers(project)} == {
        "notes_realtime_capture", "notes_realtime_truncate"}
    project.run("INSERT INTO notes (body) VALUES ('a'), ('b')")
    project.run("UPDATE notes SET body = 'c' WHERE body = 'a'")
    project.run("DELETE FROM notes WHERE body = 'b'")
    project.run("INSERT INTO tags (name) VALUES ('not realtime')")
    events = project.rows(f"SELECT channel, op FROM {REALTIME_LOG} ORDER BY id")
    assert events == [("notes", "INSERT"), ("notes", "INSERT"), ("notes", "UPDATE"),
                      ("notes", "DELETE")]
    ids = project.rows(f"SELECT record_id FROM {REALTIME_LOG} ORDER BY id")
    assert all(r[0] is not None for r in ids)
    assert project.rows("SELECT realtime_prune('1 hour')") == [(0,)]
    assert project.rows(f"SELECT count(DISTINCT xid) FROM {REALTIME_LOG}") == [(3,)]

    project.migrate(BOTH_RT)  # 0003: tags joins, the log stays
    project.upgrade()
    project.run("INSERT INTO tags (name) VALUES ('now realtime')")
    assert project.rows(f"SELECT count(*) FROM {REALTIME_LOG} WHERE channel = 'tags'") \
        == [(1,)]
    project.migrate(PLAIN)  # 0004: both off, the log goes
    project.upgrade()
    assert REALTIME_LOG not in project.tables()
    assert _triggers(project) == set() and _functions(project) == set()
    project.run("INSERT INTO notes (body) VALUES ('quiet')")

    project.downgrade("0003")  # the log and every trigger come back (empty)
    assert {c for c, _ in _triggers(project)} == {"notes", "tags"}
    project.run("INSERT INTO tags (name) VALUES ('again')")
    assert project.rows(f"SELECT channel, op FROM {REALTIME_LOG}") == [("tags", "INSERT")]
    project.downgrade("0001")
    assert REALTIME_LOG not in project.tables()
    assert _triggers(project) == set() and _functions(project) == set()
    assert project.rows("SELECT count(*) FROM notes") == [(3,)]
    project.upgrade("0002")  # and up again
    assert REALTIME_LOG in project.tables() and {c for c, _ in _triggers(project)} == {"notes"}
    project.upgrade()
    assert REALTIME_LOG not in project.tables() and _triggers(project) == set()
    project.downgrade("base")
    assert project.tables() == {"alembic_version"}


def test_a_head_of_the_commit_ordered_log_is_upgraded():
    old, new = state(BOTH_RT), state(NOTE_RT)
    del old["realtime_version"]  # as an earlier dsgen recorded it
    before, after = realtime_ops(old, new)
    assert kinds(before) == [("DisableRealtime", "tags"), ("UpgradeRealtimeLog", REALTIME_LOG)]
    assert before[0].version == 1 and before[1].tables == ("notes",) and after == []
    upgrade = before[1]
    assert render_down(upgrade) != render_up(upgrade)
    assert "DROP FUNCTION realtime_order()" in str(render_up(upgrade))
    assert "realtime_order()" in str(render_down(upgrade))
    assert realtime_ops(new, new) == ([], [])


V1_STATE_KEY = "realtime_version"


def _v1_revision(p: Project, stores: str) -> None:
    """Revision 0002 as an earlier dsgen wrote it: the commit-ordered log (version 1)."""
    head = read_revision(next(p.versions.glob("0001_*.py")))
    assert head is not None and head.state is not None
    new = state(stores)
    del new[V1_STATE_KEY]
    ops = [CreateRealtimeLog(REALTIME_LOG, 1),
           *(EnableRealtime(t, t, 1) for t in sorted(new["tables"])
             if new["tables"][t].get("realtime_channel"))]
    text = render_revision(ops, new, revision="0002", down_revision="0001", message="v1 log")
    (p.versions / "0002_v1_log.py").write_text(text)


@pytest.mark.db
def test_a_project_made_with_the_commit_ordered_log_upgrades_and_downgrades(project):  # noqa: F811
    project.migrate(PLAIN)
    _v1_revision(project, BOTH_RT)
    project.upgrade()
    assert _functions(project) == {"realtime_order", "realtime_capture", "realtime_prune"}
    assert "xid" not in _columns(project, REALTIME_LOG)
    project.run("INSERT INTO notes (body) VALUES ('under v1')")

    ops = project.migrate(NOTE_RT)  # 0003: tags leaves, the log is upgraded
    assert [type(op) for op in ops] == [DisableRealtime, UpgradeRealtimeLog]
    project.upgrade()
    assert _functions(project) == {"realtime_capture", "realtime_prune"}
    assert {t for _, t in _triggers(project)} == {
        "notes_realtime_capture", "notes_realtime_truncate"}
    assert {"xid", "id", "channel"} <= _columns(project, REALTIME_LOG)
    project.run("INSERT INTO notes (body) VALUES ('under v2')")
    assert project.rows(f"SELECT op, xid = '0' FROM {REALTIME_LOG} ORDER BY id") == [
        ("INSERT", True), ("INSERT", False)]
    project.run(f"UPDATE {REALTIME_LOG} SET at = now() - interval '2 days'")
    project.run("SELECT realtime_prune('1 day')")
    assert project.rows(f"SELECT count(*) FROM {REALTIME_LOG}") == [(0,)]
    assert project.rows("SELECT pruned_through <> '0' FROM realtime_horizon") == [(True,)]
    assert plan_migration(spec(NOTE_RT), project.versions) is None  # up to date

    project.downgrade("0002")  # the commit-ordered log again, tags' triggers back
    assert _functions(project) == {"realtime_order", "realtime_capture", "realtime_prune"}
    assert {t for _, t in _triggers(project)} == {
        f"{t}_realtime_{k}" for t in ("notes", "tags") for k in ("order", "capture", "truncate")}
    assert "xid" not in _columns(project, REALTIME_LOG)
    project.run("INSERT INTO tags (name) VALUES ('v1 again')")
    project.upgrade()
    project.migrate(PLAIN)  # 0004: the last one off drops the (new) log
    project.upgrade()
    assert REALTIME_LOG not in project.tables() and _functions(project) == set()
    project.downgrade("0001")
    assert REALTIME_LOG not in project.tables() and _triggers(project) == set()
    assert _functions(project) == set()

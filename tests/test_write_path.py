"""One write path for the CLI and the library: one conflict policy, one "find the project"."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsgen._errors import ConflictError, UsageError
from dsgen._project import (
    add_pattern,
    eject_blueprint,
    emit_migration,
    find_project,
    update_project,
)
from dsgen._write import Action, Conflicts, FileResult


@pytest.mark.parametrize("command", [
    lambda d: update_project(d),
    lambda d: emit_migration(d),
    lambda d: add_pattern(d, "kanban"),
    lambda d: eject_blueprint(d, "kanban"),
], ids=["update", "db", "add-pattern", "eject"])
def test_every_command_finds_the_project_the_same_way(tmp_path: Path, command):
    with pytest.raises(UsageError) as caught:
        command(tmp_path)
    assert str(caught.value) == (f"no dsgen.yaml in {tmp_path.resolve()}; run this inside a "
                                 "dsgen project (or pass --dir)")


def test_find_project(tmp_path: Path):
    (tmp_path / "dsgen.yaml").write_text("dsgen: 1\n")
    assert find_project(tmp_path / ".") == (tmp_path.resolve(), tmp_path.resolve() / "dsgen.yaml")


def test_the_policy_takes_its_names_and_refuses_others():
    assert Conflicts.of("abort") is Conflicts.ABORT
    assert Conflicts.of(Conflicts.MARKERS) is Conflicts.MARKERS
    with pytest.raises(UsageError, match="unknown conflict policy 'yolo'; expected 'abort' or "
                                         "'markers'"):
        Conflicts.of("yolo")


def test_an_unknown_policy_is_refused_before_anything_is_read(tmp_path: Path):
    (tmp_path / "dsgen.yaml").write_text("dsgen: 1\n")
    with pytest.raises(UsageError, match="unknown conflict policy"):
        update_project(tmp_path, conflicts="yolo", dry_run=True)


def _result(action: Action) -> FileResult:
    return FileResult(f"{action.value}.txt", action, b"", b"", b"")


def test_abort_stops_on_conflicts_and_unmanaged_files_markers_does_not():
    results = [_result(a) for a in Action]
    with pytest.raises(ConflictError) as caught:
        Conflicts.ABORT.check(results)
    assert caught.value.paths == ["conflict.txt", "unmanaged.txt"]
    Conflicts.MARKERS.check(results)          # writes markers; unmanaged files stay untouched
    Conflicts.ABORT.check([_result(Action.MERGE), _result(Action.CREATE)])

"""plan_writes / write_files: lock + pristine + three-way merge, all-or-nothing."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from dsgen._errors import ConflictError
from dsgen._merge import OURS_MARK, THEIRS_MARK
from dsgen._render import RenderedFile
from dsgen._write import LOCK_FILE, PRISTINE_DIR, Action, plan_writes, write_files

OLD = "line 1\nline 2\nline 3\nline 4\nline 5\n"


def files(**contents: str | bytes) -> list[RenderedFile]:
    """RenderedFiles from keyword arguments; `__` in a name is a `/`."""
    return [RenderedFile(name.replace("__", "/"), c.encode() if isinstance(c, str) else c,
                         "test/template") for name, c in contents.items()]


def actions(results) -> dict[str, Action]:
    return {r.path: r.action for r in results}


def lock(dest: Path) -> dict[str, dict]:
    return json.loads((dest / LOCK_FILE).read_text())["files"]


def sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def snapshot(dest: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under dest (dsgen's state included) with its content and mtime."""
    return {p.relative_to(dest).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(dest.rglob("*")) if p.is_file()}


def age(dest: Path) -> None:
    """Move every mtime into the past, so a rewrite shows even on a coarse clock."""
    for p in dest.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(1_000_000_000, 1_000_000_000))


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """A project rendered once: a.txt and app/b.py, with dsgen's lock and pristine copies."""
    project = tmp_path / "project"
    results = write_files(files(a_txt=OLD, app__b_py="x = 1\n"), project)
    assert actions(results) == {"a_txt": Action.CREATE, "app/b_py": Action.CREATE}
    age(project)
    return project


def test_first_render_creates_files_lock_and_pristine(dest):
    assert (dest / "a_txt").read_text() == OLD
    assert (dest / "app/b_py").read_text() == "x = 1\n"
    assert lock(dest) == {"a_txt": {"sha256": sha(OLD)}, "app/b_py": {"sha256": sha("x = 1\n")}}
    assert (dest / PRISTINE_DIR / "a_txt").read_text() == OLD
    assert (dest / PRISTINE_DIR / "app/b_py").read_text() == "x = 1\n"
    assert not list(dest.rglob("*.dsgen-tmp"))


def test_identical_rerun_writes_nothing(dest):
    before = snapshot(dest)
    results = write_files(files(a_txt=OLD, app__b_py="x = 1\n"), dest)
    assert actions(results) == {"a_txt": Action.IDENTICAL, "app/b_py": Action.IDENTICAL}
    assert not any(r.action.changes_disk for r in results)
    assert snapshot(dest) == before


def test_pristine_file_is_updated(dest):
    new = OLD.replace("line 3", "line 3 (new)")
    results = write_files(files(a_txt=new, app__b_py="x = 1\n"), dest)
    assert actions(results)["a_txt"] is Action.UPDATE
    assert (dest / "a_txt").read_text() == new
    assert lock(dest)["a_txt"] == {"sha256": sha(new)}
    assert (dest / PRISTINE_DIR / "a_txt").read_text() == new


def test_user_edit_is_kept_when_the_render_did_not_change(dest):
    edited = OLD + "my line\n"
    (dest / "a_txt").write_text(edited)
    age(dest)
    before = snapshot(dest)
    results = write_files(files(a_txt=OLD, app__b_py="x = 1\n"), dest)
    assert actions(results)["a_txt"] is Action.KEEP
    assert snapshot(dest) == before
    assert (dest / "a_txt").read_text() == edited


def test_user_edit_is_merged_with_a_changed_render(dest):
    (dest / "a_txt").write_text(OLD.replace("line 1", "line 1 (mine)"))
    new = OLD.replace("line 5", "line 5 (new)")
    results = write_files(files(a_txt=new, app__b_py="x = 1\n"), dest)
    [result] = [r for r in results if r.path == "a_txt"]
    assert (result.action, result.conflicts) == (Action.MERGE, 0)
    merged = "line 1 (mine)\nline 2\nline 3\nline 4\nline 5 (new)\n"
    assert (dest / "a_txt").read_text() == merged
    # the lock and pristine hold dsgen's render, never the merge: the file still reads
    # as edited by the user next time
    assert lock(dest)["a_txt"] == {"sha256": sha(new)}
    assert (dest / PRISTINE_DIR / "a_txt").read_text() == new
    again = write_files(files(a_txt=new, app__b_py="x = 1\n"), dest)
    assert actions(again)["a_txt"] is Action.KEEP
    assert (dest / "a_txt").read_text() == merged


def test_conflict_aborts_and_writes_nothing(dest):
    (dest / "a_txt").write_text(OLD.replace("line 3", "line 3 (mine)"))
    age(dest)
    before = snapshot(dest)
    rendered = files(a_txt=OLD.replace("line 3", "line 3 (new)"), app__b_py="x = 2\n",
                     c_txt="new file\n")
    with pytest.raises(ConflictError) as info:
        write_files(rendered, dest)
    assert info.value.paths == ["a_txt"]
    assert info.value.exit_code == 1
    assert snapshot(dest) == before        # b not updated, c not created, lock unchanged


def test_conflict_with_markers(dest):
    (dest / "a_txt").write_text(OLD.replace("line 3", "line 3 (mine)"))
    new = OLD.replace("line 3", "line 3 (new)")
    results = write_files(files(a_txt=new, app__b_py="x = 1\n"), dest, conflicts="markers")
    [result] = [r for r in results if r.path == "a_txt"]
    assert (result.action, result.conflicts) == (Action.CONFLICT, 1)
    text = (dest / "a_txt").read_text()
    assert text.startswith("line 1\nline 2\n" + OURS_MARK + "\nline 3 (mine)\n")
    assert text.endswith(f"line 3 (new)\n{THEIRS_MARK}\nline 4\nline 5\n")
    assert lock(dest)["a_txt"] == {"sha256": sha(new)}
    # next run: the markers are the user's to resolve; dsgen keeps them
    assert actions(write_files(files(a_txt=new, app__b_py="x = 1\n"), dest))["a_txt"] \
        is Action.KEEP


def test_deleted_file_stays_deleted(dest):
    (dest / "a_txt").unlink()
    results = write_files(files(a_txt=OLD + "more\n", app__b_py="x = 1\n"), dest)
    assert actions(results)["a_txt"] is Action.DELETED
    assert not (dest / "a_txt").exists()
    assert lock(dest)["a_txt"] == {"sha256": sha(OLD + "more\n"), "deleted": True}
    results = write_files(files(a_txt=OLD + "even more\n", app__b_py="x = 1\n"), dest)
    assert actions(results)["a_txt"] is Action.DELETED
    assert not (dest / "a_txt").exists()


def test_unmanaged_file_blocks_the_write_and_nothing_is_written(tmp_path):
    (tmp_path / "a_txt").write_text("the user's own file\n")
    age(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(ConflictError) as info:
        write_files(files(a_txt=OLD, b_txt="b\n"), tmp_path)
    assert info.value.paths == ["a_txt"]
    assert snapshot(tmp_path) == before
    assert not (tmp_path / ".dsgen").exists()


def test_unmanaged_file_is_untouched_with_markers(tmp_path):
    (tmp_path / "a_txt").write_text("the user's own file\n")
    results = write_files(files(a_txt=OLD, b_txt="b\n"), tmp_path, conflicts="markers")
    assert actions(results) == {"a_txt": Action.UNMANAGED, "b_txt": Action.CREATE}
    assert (tmp_path / "a_txt").read_text() == "the user's own file\n"
    assert (tmp_path / "b_txt").read_text() == "b\n"
    assert set(lock(tmp_path)) == {"b_txt"}
    assert not (tmp_path / PRISTINE_DIR / "a_txt").exists()


def test_existing_identical_file_is_adopted(tmp_path):
    (tmp_path / "a_txt").write_text(OLD)
    results = write_files(files(a_txt=OLD), tmp_path)
    assert actions(results) == {"a_txt": Action.IDENTICAL}
    assert lock(tmp_path) == {"a_txt": {"sha256": sha(OLD)}}


def test_file_no_longer_generated_is_removed_when_pristine(dest):
    results = write_files(files(app__b_py="x = 1\n"), dest)
    assert actions(results)["a_txt"] is Action.REMOVE
    assert not (dest / "a_txt").exists()
    assert not (dest / PRISTINE_DIR / "a_txt").exists()
    assert set(lock(dest)) == {"app/b_py"}


def test_file_no_longer_generated_is_kept_when_edited(dest):
    (dest / "a_txt").write_text(OLD + "mine\n")
    results = write_files(files(app__b_py="x = 1\n"), dest)
    assert actions(results)["a_txt"] is Action.ORPHAN
    assert (dest / "a_txt").read_text() == OLD + "mine\n"
    assert set(lock(dest)) == {"app/b_py"}
    # it is the user's now: a later render of the same path does not overwrite it
    results = write_files(files(a_txt=OLD, app__b_py="x = 1\n"), dest, conflicts="markers")
    assert actions(results)["a_txt"] is Action.UNMANAGED
    assert (dest / "a_txt").read_text() == OLD + "mine\n"


def test_untracked_paths_are_written_but_not_recorded(tmp_path):
    results = write_files(files(dsgen_yaml="dsgen: 1\n", a_txt=OLD), tmp_path,
                          untracked={"dsgen_yaml"})
    assert actions(results) == {"a_txt": Action.CREATE, "dsgen_yaml": Action.CREATE}
    assert (tmp_path / "dsgen_yaml").read_text() == "dsgen: 1\n"
    assert set(lock(tmp_path)) == {"a_txt"}
    assert not (tmp_path / PRISTINE_DIR / "dsgen_yaml").exists()


def test_edited_binary_file_is_a_conflict(tmp_path):
    write_files(files(logo_png=b"\x89PNG\x00\xff1"), tmp_path)
    (tmp_path / "logo_png").write_bytes(b"\x89PNG\x00\xffmine")
    [result] = plan_writes(files(logo_png=b"\x89PNG\x00\xff2"), tmp_path)
    assert (result.action, result.after) == (Action.CONFLICT, None)
    with pytest.raises(ConflictError):
        write_files(files(logo_png=b"\x89PNG\x00\xff2"), tmp_path)
    assert (tmp_path / "logo_png").read_bytes() == b"\x89PNG\x00\xffmine"


def test_plan_writes_touches_nothing(dest):
    (dest / "a_txt").write_text(OLD + "mine\n")
    age(dest)
    before = snapshot(dest)
    results = plan_writes(files(a_txt=OLD.replace("line 1", "L1"), c_txt="c\n"), dest)
    assert actions(results) == {"a_txt": Action.MERGE, "app/b_py": Action.REMOVE,
                                "c_txt": Action.CREATE}
    assert [r.path for r in results] == sorted(r.path for r in results)
    merged = next(r for r in results if r.path == "a_txt")
    assert merged.after == b"L1\nline 2\nline 3\nline 4\nline 5\nmine\n"
    assert snapshot(dest) == before


def test_a_failed_write_leaves_the_project_as_it_was(dest):
    # 'app' becomes a file, so 'app/new.py' cannot be written: nothing else may change.
    (dest / "app/b_py").unlink()
    (dest / "app").rmdir()
    (dest / "app").write_text("in the way\n")
    age(dest)
    before = snapshot(dest)
    with pytest.raises(OSError):
        write_files(files(a_txt=OLD + "new\n", app__new_py="y = 1\n", z_txt="z\n"), dest)
    assert snapshot(dest) == before
    assert not list(dest.rglob("*.dsgen-tmp"))


def test_a_directory_in_the_way_leaves_the_project_as_it_was(dest):
    (dest / "c_txt").mkdir()
    (dest / "c_txt" / "keep").write_text("mine\n")
    age(dest)
    before = snapshot(dest)
    with pytest.raises(ConflictError) as caught:
        write_files(files(a_txt=OLD + "new\n", app__b_py="x = 1\n", c_txt="c\n"), dest)
    assert caught.value.paths == ["c_txt"]
    assert snapshot(dest) == before


def test_orphan_drops_its_pristine_copy(dest):
    (dest / "a_txt").write_text(OLD + "mine\n")
    write_files(files(app__b_py="x = 1\n"), dest)
    assert not (dest / PRISTINE_DIR / "a_txt").exists()

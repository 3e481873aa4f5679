"""The lock and the project folder are untrusted input (issue 13, findings 1 and 2): no lock
entry and no symbolic link makes dsgen write or delete outside the project."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsgen._cli import app
from dsgen._errors import DsgenError
from dsgen._render import RenderedFile
from dsgen._write import LOCK_FILE, Action, plan_writes, write_files

SECRET = b"the user's own file, outside the project\n"


def files(**contents: str) -> list[RenderedFile]:
    """RenderedFiles from keyword arguments; `__` in a name is a `/`, `_py` is `.py`."""
    return [RenderedFile(name.replace("__", "/").replace("_py", ".py").replace("_txt", ".txt"),
                         text.encode(), "test/template")
            for name, text in contents.items()]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree(root: Path) -> dict[str, bytes | str]:
    """Every file and link under root (links not followed)."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = p.read_bytes()
    return out


@pytest.fixture
def world(tmp_path: Path):
    """A rendered project and, beside it, a folder of the user's with a file in it."""
    project = tmp_path / "project"
    write_files(files(a_txt="a\n", app__b_py="x = 1\n"), project)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(SECRET)
    return project, outside


def _set_lock(project: Path, entries: dict) -> None:
    path = project / LOCK_FILE
    data = json.loads(path.read_text())
    data["files"].update(entries)
    path.write_text(json.dumps(data))


def _refused(project: Path, outside: Path, rendered=None):
    """The render is refused with a dsgen error, and nothing changed anywhere."""
    before, before_outside = tree(project), tree(outside)
    rendered = rendered if rendered is not None else files(a_txt="a\n", app__b_py="x = 1\n")
    with pytest.raises(DsgenError) as info:
        write_files(rendered, project, conflicts="markers")
    assert tree(project) == before and tree(outside) == before_outside
    assert info.value.exit_code in (1, 2)
    return str(info.value)


@pytest.mark.parametrize("edited", [False, True], ids=["untouched", "edited"])
@pytest.mark.parametrize("how", ["absolute", "dotdot", "dotdot-inside"])
def test_a_lock_entry_outside_the_project_deletes_nothing(world, how, edited):
    # Finding 1: an entry with the outside file's sha (untouched) was "removed"; with another
    # sha (edited) it was "orphaned", and its pristine copy at dest/.dsgen/pristine/<abs>
    # (= the absolute path itself) deleted.
    project, outside = world
    victim = outside / "victim.txt"
    name = {"absolute": str(victim), "dotdot": "../outside/victim.txt",
            "dotdot-inside": "app/../../outside/victim.txt"}[how]
    _set_lock(project, {name: {"sha256": sha(b"other" if edited else SECRET)}})
    message = _refused(project, outside)
    assert "lock.json is not a lock dsgen wrote" in message and repr(name) in message
    assert victim.read_bytes() == SECRET


@pytest.mark.parametrize(("name", "reason"), [
    ("..\\outside\\victim.txt", "holds a backslash"),
    ("a\x00b", "holds a control character"),
    ("C:/x", "is absolute"),
    ("./a.txt", "is not normalised"),
    ("app//b.py", "is not normalised"),
    (".dsgen/lock.json", "is inside dsgen's own .dsgen/"),
    ("", "not a path"),
])
def test_malformed_lock_paths_are_refused(world, name, reason):
    project, outside = world
    _set_lock(project, {name: {"sha256": sha(b"x")}})
    message = _refused(project, outside)
    assert reason in message


@pytest.mark.parametrize("lock", [
    "{not json", "[]", '{"files": []}', '{"files": {"a.txt": "abc"}}',
    '{"files": {"a.txt": {"sha256": "zz"}}}',
    '{"files": {"a.txt": {"sha256": "' + "0" * 64 + '", "deleted": "yes"}}}',
    "[" * 100_000 + "]" * 100_000,
])
def test_an_invalid_lock_is_a_clear_error(world, lock):
    project, outside = world
    (project / LOCK_FILE).write_text(lock)
    message = _refused(project, outside)
    assert "is not a lock dsgen wrote" in message and "Restore it" in message


def test_a_lock_entry_through_a_symlink_out_deletes_nothing(world):
    project, outside = world
    (project / "link").symlink_to(outside, target_is_directory=True)
    _set_lock(project, {"link/victim.txt": {"sha256": sha(SECRET)}})
    message = _refused(project, outside)
    assert "link/victim.txt leads outside the project" in message


@pytest.mark.parametrize("link", ["app", ".dsgen", ".dsgen/pristine", ".dsgen/pristine/app"])
def test_a_symlink_out_of_the_project_is_never_followed(tmp_path, link):
    # Finding 2: `app -> ../x` made `dsgen new` write into x.
    project, outside = tmp_path / "project", tmp_path / "outside"
    outside.mkdir()
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    (project / link).symlink_to(outside, target_is_directory=True)
    message = _refused(project, outside, files(a_txt="a\n", app__b_py="x = 1\n"))
    assert "leads outside the project" in message and str(outside) in message
    assert list(outside.iterdir()) == []


def test_a_file_symlink_out_is_never_read_nor_replaced(world):
    project, outside = world
    (project / "a.txt").unlink()
    (project / "a.txt").symlink_to(outside / "victim.txt")
    message = _refused(project, outside)
    assert "a.txt leads outside the project" in message


def test_a_symlink_within_the_project_is_fine(tmp_path):
    project = tmp_path / "project"
    (project / "real").mkdir(parents=True)
    (project / "app").symlink_to("real", target_is_directory=True)
    results = write_files(files(app__b_py="x = 1\n"), project)
    assert [r.action for r in results] == [Action.CREATE]
    assert (project / "real" / "b.py").read_text() == "x = 1\n"
    assert (project / ".dsgen/pristine/app/b.py").read_text() == "x = 1\n"


def test_plan_writes_refuses_before_reading(world):
    project, outside = world
    _set_lock(project, {str(outside / "victim.txt"): {"sha256": sha(SECRET)}})
    with pytest.raises(DsgenError):
        plan_writes(files(a_txt="a\n"), project)


def test_bad_relpath_accepts_what_dsgen_renders():
    from dsgen._write import bad_relpath

    for path in ["a.txt", "app/core/x.py", "app/static/datastar.js", ".env.example",
                 "tests/.gitkeep", "a..b/c"]:
        assert bad_relpath(path) is None, path


# -- through the CLI: exit 1 with the message, nothing written ---------------------------
@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("NO_COLOR", "1")
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args],
                                            catch_exceptions=False)


def test_cli_new_into_a_folder_with_a_symlink_out(tmp_path, run, datastar_js):
    project, outside = tmp_path / "shop", tmp_path / "x"
    outside.mkdir()
    project.mkdir()
    (project / "app").symlink_to("../x", target_is_directory=True)
    result = run("new", "shop", "--dir", project, "--yes")
    assert result.exit_code == 1, result.output
    assert "refusing to write outside the project" in result.output
    assert "app/__init__.py leads outside the project" in result.output
    assert list(outside.iterdir()) == [] and tree(project) == {"app": "-> ../x"}


def test_cli_update_with_a_hostile_lock(tmp_path, run, datastar_js):
    project, outside = tmp_path / "shop", tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(SECRET)
    assert run("new", "shop", "--dir", project).exit_code == 0
    _set_lock(project, {str(outside / "victim.txt"): {"sha256": sha(SECRET)},
                        "../outside/victim.txt": {"sha256": sha(b"edited")}})
    before = tree(project)
    result = run("update", "--dir", project, "--yes")
    assert result.exit_code == 1, result.output
    assert "is not a lock dsgen wrote" in result.output
    assert (outside / "victim.txt").read_bytes() == SECRET and tree(project) == before


def test_cli_eject_through_a_symlinked_state_dir(tmp_path, run, datastar_js):
    project, outside = tmp_path / "shop", tmp_path / "outside"
    outside.mkdir()
    assert run("new", "shop", "--dir", project).exit_code == 0
    (project / ".dsgen" / "blueprints").symlink_to(outside, target_is_directory=True)
    result = run("blueprints", "eject", "kanban", "--dir", project)
    assert result.exit_code == 1, result.output
    assert "refusing to write outside the project" in result.output
    assert list(outside.iterdir()) == []


def test_a_cloned_projects_templates_cannot_run_code(tmp_path, run, datastar_js):
    # A project's own templates (.dsgen/blueprints/) come with a cloned repository: they
    # render in Jinja's sandbox. Before, this template ran a shell command on `dsgen update`.
    project, marker = tmp_path / "shop", tmp_path / "pwned"
    assert run("new", "shop", "--dir", project).exit_code == 0
    folder = project / ".dsgen/blueprints/app/templates"
    folder.mkdir(parents=True)
    (folder / "x.txt.jinja").write_text(
        "[[ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') ]]\n")
    before = tree(project)
    result = run("update", "--dir", project, "--yes")
    assert result.exit_code == 1, result.output
    assert "is unsafe" in result.output
    assert not marker.exists() and tree(project) == before


def test_a_cloned_projects_templates_cannot_read_outside(tmp_path, run, datastar_js):
    project, outside = tmp_path / "shop", tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_bytes(SECRET)
    assert run("new", "shop", "--dir", project).exit_code == 0
    folder = project / ".dsgen/blueprints/app/templates"
    folder.mkdir(parents=True)
    (folder / "leak.txt").symlink_to(outside / "id_rsa")
    before = tree(project)
    result = run("update", "--dir", project, "--yes")
    assert result.exit_code == 1, result.output
    assert "refusing to read templates from outside the project" in result.output
    assert ".dsgen/blueprints/app/templates/leak.txt" in result.output
    assert tree(project) == before


def test_a_projects_own_templates_still_render(tmp_path, run, datastar_js):
    project = tmp_path / "shop"
    assert run("new", "shop", "--dir", project).exit_code == 0
    folder = project / ".dsgen/blueprints/app/templates"
    folder.mkdir(parents=True)
    (folder / "NOTES.md.jinja").write_text("# [[ app.title ]]: [[ screens | length ]]\n")
    result = run("update", "--dir", project)
    assert result.exit_code == 0, result.output
    assert (project / "NOTES.md").read_text() == "# Shop: 2\n"

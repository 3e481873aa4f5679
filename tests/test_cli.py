"""The CLI through typer's CliRunner: exit codes, messages, schema, blueprints."""

from __future__ import annotations

import json
import runpy
import shutil
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

import dsgen._blueprints as blueprints_module
from dsgen import __version__
from dsgen._blueprints import Registry, builtin_registry, load_blueprint
from dsgen._cli import app
from dsgen._starter import starter_spec

BLUEPRINTS = Path(__file__).resolve().parent.parent / "blueprints"


@pytest.fixture
def local_datastar(datastar_js) -> Path:
    """The conftest's copy of the pinned bundle (fetched and checked once per session):
    rendering a project then touches no network, and no test skips for want of it."""
    return datastar_js


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")       # rich must not wrap the lines we read
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def flat(text: str) -> str:
    return " ".join(text.split())


def test_version(run):
    result = run("--version")
    assert (result.exit_code, result.stdout) == (0, f"dsgen {__version__}\n")


def test_unknown_command_is_a_usage_error(run):
    result = run("chekc")
    assert result.exit_code == 2
    assert "No such command" in result.output


# -- dsgen check -------------------------------------------------------------------------
def test_check_ok(run, write_spec):
    path = write_spec(starter_spec("shop"))
    result = run("check", path)
    assert result.exit_code == 0
    assert flat(result.stderr) == f"ok {path}: 2 store(s), 2 screen(s)"
    assert result.stdout == ""


def test_check_reports_every_error_with_location_and_hint(run, write_spec):
    path = write_spec("""\
        dsgen: 1
        app: {name: shop, backend: mongodb}
        stores:
          task:
            fields:
              title: strng
        screens:
          tasks: {pattern: master-detial, store: task}
        """)
    result = run("check", path)
    assert result.exit_code == 2
    err = flat(result.stderr)
    assert f"error {path}:2:28: app.backend: expected one of 'postgres', 'mongo', got " \
           "'mongodb'" in err
    assert "hint: did you mean 'mongo'?" in err
    assert f"error {path}:6:14: stores.task.fields.title.type: unknown field type 'strng'" in err
    assert "hint: did you mean 'string'?" in err
    assert f"error {path}:8:20: screens.tasks.pattern: unknown pattern 'master-detial'" in err
    assert "hint: did you mean 'master-detail'?" in err
    assert "3 errors in the spec; nothing was written." in err
    # errors come in file order, each with its source line and a caret under the column
    assert err.index(":2:28:") < err.index(":6:14:") < err.index(":8:20:")
    assert "6 | title: strng" in err
    assert result.stdout == ""


def test_check_missing_spec(run, tmp_path):
    result = run("check", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert f"no spec at {tmp_path / 'nope.yaml'}" in flat(result.stderr)
    assert "hint: create one with 'dsgen new NAME'" in flat(result.stderr)


# -- dsgen schema ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def schema() -> dict:
    result = CliRunner().invoke(app, ["schema"], catch_exceptions=False)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(data)
    return data


def _yaml(text: str):
    return YAML(typ="safe").load(text)


def _errors(schema: dict, data) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(e.message for e in validator.iter_errors(data))


def test_schema_accepts_the_starter_spec(schema):
    assert _errors(schema, _yaml(starter_spec("shop"))) == []


@pytest.mark.parametrize("example", sorted(BLUEPRINTS.glob("*/examples/*.yml")),
                         ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_schema_accepts_every_blueprint_example(schema, example):
    assert _errors(schema, _yaml(example.read_text(encoding="utf-8"))) == []


def test_schema_accepts_a_full_master_detail_spec(schema):
    assert _errors(schema, _yaml(textwrap.dedent("""\
        dsgen: 1
        app: {name: crm, title: CRM, backend: postgres, auth: none}
        stores:
          contact:
            fields:
              name: {type: string, required: true, max: 120, label: Name}
              status: {type: enum, values: [a, b], default: a}
              created: {type: datetime, default: now}
              friends: {type: ref, store: contact, many: true}
              old: {type: int, renamed_from: older}
            realtime: true
            indexes:
              - {fields: [status, created], unique: true, partial: {status: a}}
        screens:
          contacts:
            pattern: master-detail
            store: contact
            title: Contacts
            nav: true
            list: [name, status]
            detail: [name]
            search: [name]
        signals:
          _ui: {open: true, theme: light, list: [1, 2]}
        """))) == []


@pytest.mark.parametrize(("change", "bad"), [
    (("  name: shop\n", "  name: Shop\n"), "'Shop' does not match"),
    (("dsgen: 1", "dsgen: 2"), "1 was expected"),
    (("website: url", "website: urll"), "is not valid under any of the given schemas"),
    (("    search: [name]\n", "    serch: [name]\n"), "is not valid under any of the given "
     "schemas"),
    (("\nsignals:", "\nsignal:"), "Additional properties are not allowed ('signal' was "
     "unexpected)"),
])
def test_schema_rejects_what_the_loader_rejects(schema, change, bad):
    text = starter_spec("shop")
    assert change[0] in text
    errors = _errors(schema, _yaml(text.replace(*change, 1)))
    assert any(bad in e for e in errors), errors


# -- dsgen blueprints --------------------------------------------------------------------
def test_blueprints_list(run):
    result = run("blueprints", "list")
    assert result.exit_code == 0
    ids = [b.id for b in builtin_registry().patterns]
    assert "master-detail" in ids and "app" not in ids
    lines = [line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()
             and not line.startswith(" ")]
    assert lines == ids


def test_blueprints_show_unknown_pattern_suggests(run):
    result = run("blueprints", "show", "master-detial")
    assert result.exit_code == 2
    assert "unknown pattern 'master-detial' (did you mean 'master-detail'?)" in \
        flat(result.stderr)


def test_blueprints_show_unknown_pattern_lists_them(run):
    result = run("blueprints", "show", "spreadsheet")
    assert result.exit_code == 2
    err = flat(result.stderr)
    assert "unknown pattern 'spreadsheet'; patterns: " in err and "did you mean" not in err
    assert "master-detail" in err


def test_blueprints_show_prints_the_readme(run, tmp_path, monkeypatch):
    folder = tmp_path / "kanban"
    folder.mkdir()
    (folder / "blueprint.yml").write_text("id: kanban\nsummary: Cards in columns.\n")
    (folder / "README.md").write_text("# kanban\n\nCards in columns, one per value.\n")
    registry = Registry({"kanban": load_blueprint(folder)})
    monkeypatch.setattr(blueprints_module, "builtin_registry", lambda: registry)
    result = run("blueprints", "show", "kanban")
    assert result.exit_code == 0
    assert "Cards in columns, one per value." in result.stdout
    assert run("blueprints", "show", "kanbn").exit_code == 2


def test_blueprints_show_without_a_readme_is_no_traceback(tmp_path, monkeypatch):
    folder = tmp_path / "kanban"
    folder.mkdir()
    (folder / "blueprint.yml").write_text("id: kanban\nsummary: Cards in columns.\n")
    registry = Registry({"kanban": load_blueprint(folder)})
    monkeypatch.setattr(blueprints_module, "builtin_registry", lambda: registry)
    result = CliRunner().invoke(app, ["blueprints", "show", "kanban"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Cards in columns." in result.output


def test_blueprints_show_a_builtin_pattern(run):
    result = run("blueprints", "show", "master-detail")
    assert result.exit_code == 0
    readme = (BLUEPRINTS / "master-detail" / "README.md").read_text(encoding="utf-8")
    title = next(line for line in readme.splitlines() if line.startswith("# "))
    assert title[2:].strip() in result.stdout


# -- dsgen new / update: exit codes 0, 1 (conflict) and 2 (invalid spec or usage) --------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory, _bundle) -> Path:
    """The starter project, rendered once by `dsgen new` for the tests of this module."""
    dest = tmp_path_factory.mktemp("rendered") / "shop"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DSGEN_DATASTAR_JS", str(_bundle))
        result = CliRunner().invoke(app, ["new", "shop", "--dir", str(dest)],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return dest


@pytest.fixture
def project(rendered, tmp_path, local_datastar) -> Path:
    """A fresh copy of the rendered starter project (copying beats rendering again)."""
    dest = tmp_path / "shop"
    shutil.copytree(rendered, dest)
    return dest


def test_new_renders_the_starter_project(project):
    assert (project / "dsgen.yaml").read_text() == starter_spec("shop")
    assert (project / "app/static/datastar.js").is_file()
    assert (project / ".dsgen/lock.json").is_file()
    assert (project / "app/screens/contacts.py").is_file()


def test_update_with_no_change_writes_nothing(run, project):
    before = {p: p.stat().st_mtime_ns for p in project.rglob("*")}
    result = run("update", "--dir", project, "--json")
    assert result.exit_code == 0
    assert "up to date: nothing to write" in flat(result.stderr)
    data = json.loads(result.stdout)
    assert data["created"] == [] and data["updated"] == [] and data["conflict"] == []
    assert "app/screens/contacts.py" in data["identical"]
    assert data["dry_run"] is False
    assert {p: p.stat().st_mtime_ns for p in project.rglob("*")} == before


def test_update_check_exits_1_when_out_of_date(run, project):
    spec = project / "dsgen.yaml"
    spec.write_text(spec.read_text().replace("title: Shop", "title: Shop Two"))
    before = (project / "app/screens/contacts.py").read_bytes()
    result = run("update", "--dir", project, "--check")
    assert result.exit_code == 1
    assert "out of date" in flat(result.stderr)
    assert (project / "app/screens/contacts.py").read_bytes() == before


def test_update_conflict_exits_1_and_writes_nothing(run, project):
    screen = project / "app/screens/contacts.py"
    original = screen.read_text()
    assert "contact" in original
    screen.write_text(original.replace("contact", "kontakt"))    # edit every line naming it
    spec = project / "dsgen.yaml"
    spec.write_text(spec.read_text().replace("store: contact", "store: company")
                    .replace("list: [name, company, status]", "list: [name]")
                    .replace("search: [name, email]", "search: [name]"))
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    result = run("update", "--dir", project)
    assert result.exit_code == 1, result.output
    err = flat(result.stderr)
    assert "conflict:" in err and "app/screens/contacts.py" in err and "nothing was written" \
        in err
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_update_with_an_invalid_spec_exits_2(run, project):
    spec = project / "dsgen.yaml"
    spec.write_text(spec.read_text().replace("pattern: master-detail", "pattern: masterdetail",
                                             1))
    result = run("update", "--dir", project)
    assert result.exit_code == 2
    assert "hint: did you mean 'master-detail'?" in flat(result.stderr)


def test_update_outside_a_project_exits_2(run, tmp_path):
    result = run("update", "--dir", tmp_path)
    assert result.exit_code == 2
    assert f"no dsgen.yaml in {tmp_path.resolve()}" in flat(result.stderr)


def test_new_with_a_folder_that_makes_no_package_name_exits_2(run, tmp_path):
    result = run("new", "123", "--dir", tmp_path / "123")
    assert result.exit_code == 2
    assert "does not make a Python package name" in flat(result.stderr)
    assert not (tmp_path / "123").exists()


def test_new_dry_run_writes_nothing(run, tmp_path, local_datastar):
    result = run("new", "shop", "--dir", tmp_path / "shop", "--dry-run")
    assert result.exit_code == 0
    assert "+++ b/app/screens/contacts.py" in result.stdout
    assert not (tmp_path / "shop").exists()


def test_python_dash_m_dsgen_works(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["dsgen", "--version"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("dsgen", run_name="__main__")
    assert info.value.code in (0, None)
    assert capsys.readouterr().out == f"dsgen {__version__}\n"

"""Pattern hooks: a pattern's own Python (`pattern.py`) computes what its templates read and
declares the tables it needs, so a pattern with a table of its own plugs in from a folder
outside dsgen's `blueprints/`, with no edit under `dsgen/`."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from dsgen._blueprints import BUILTIN_DIR, builtin_registry, load_registry
from dsgen._errors import DsgenError
from dsgen._project import new_project, prepare_spec
from dsgen.db import MigrationError
from dsgen.db.postgres import PostgresBackend
from tests.test_migrate import Project, database, pg_server  # noqa: F401 (fixtures)

PACK = {
    "visits/blueprint.yml": """\
        id: visits
        kind: pattern
        summary: A page that counts its visits in a table of its own.
        version: 1
        backends: [postgres]
        store: none
        icon: rows
        options:
          greeting:
            type: string
            default: Hello
            doc: The start of the heading.
        """,
    "visits/pattern.py": '''\
        TABLE = "visit_counts"


        def view(screen):
            return {"visits_table": TABLE,
                    "heading": f"{screen.options['greeting']}, {screen.title}"}


        def check(screen, store):
            if "," in str(screen.options.get("greeting", "Hello")):
                return ["the greeting may not hold a comma: the heading adds one"]
            return []


        def schema(db, screens):
            db.add_table(
                TABLE, purpose="counts visits in",
                columns=[db.column("screen", "text", False, None),
                         db.column("visits", "integer", False, "0")],
                constraints={db.identifier(f"pk_{TABLE}"): {
                    "kind": "primary_key", "columns": ["screen"]}},
            )
        ''',
    "visits/templates/app/screens/[[ screen.name.snake ]].py.jinja": '''\
        """Screen `[[ screen.name.snake ]]`: counts its visits in table `[[ visits_table ]]`."""

        from fastapi import APIRouter
        from fastapi.responses import HTMLResponse
        from markupsafe import escape

        from app.db import Conn

        router = APIRouter(tags=[[ [screen.name.snake]|py ]])

        SCREEN = [[ screen.name.snake|py ]]
        HEADING = [[ heading|py ]]
        COUNT = (
            'INSERT INTO [[ visits_table|ident ]] ("screen", "visits") VALUES (%s, 1) '
            'ON CONFLICT ("screen") DO UPDATE SET "visits" = [[ visits_table|ident ]]."visits" + 1 '
            'RETURNING "visits"'
        )


        @router.get([[ screen.route|py ]], response_class=HTMLResponse)
        async def show(conn: Conn) -> str:
            row = await (await conn.execute(COUNT, (SCREEN,))).fetchone()
            assert row is not None
            return f'<h1>{escape(HEADING)}</h1><p id="visits">{row["visits"]}</p>'
        ''',
    "visits/templates/tests/test_[[ screen.name.snake ]].py.jinja": '''\
        """The `[[ screen.name.snake ]]` screen counts its visits in its pattern's own table."""

        from typing import Any

        from fastapi.testclient import TestClient


        def test_each_visit_is_counted(client: TestClient, db: Any) -> None:
            first = client.get([[ screen.route|py ]])
            assert first.status_code == 200
            assert [[ ("<h1>" ~ heading ~ "</h1>")|py ]] in first.text
            assert '<p id="visits">1</p>' in first.text
            assert '<p id="visits">2</p>' in client.get([[ screen.route|py ]]).text
            row = db.execute(
                'SELECT "visits" FROM [[ visits_table|ident ]] WHERE "screen" = %s',
                ([[ screen.name.snake|py ]],),
            ).fetchone()
            assert row["visits"] == 2
        ''',
}

SPEC = """\
dsgen: 1
app: {name: toy, title: Toy}
stores:
  note:
    fields:
      title: {type: string, required: true}
screens:
  visitors: {pattern: visits, greeting: Welcome}
  notes: {pattern: master-detail, store: note}
"""


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A folder of blueprints outside dsgen (a shareable pack): one pattern, `visits`."""
    root = tmp_path / "pack"
    for path, text in PACK.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    path = tmp_path / "toy.yml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_the_registry_takes_extra_folders(pack: Path):
    registry = load_registry(BUILTIN_DIR, pack)
    assert registry.get("visits") is not None and registry.get("visits").hooks is not None
    assert set(builtin_registry().blueprints) < set(registry.blueprints)
    assert "visits" not in builtin_registry().blueprints
    with pytest.raises(DsgenError, match="already defined"):
        load_registry(BUILTIN_DIR, BUILTIN_DIR)


def test_a_broken_hook_is_a_clear_error(pack: Path):
    (pack / "visits/pattern.py").write_text("import nowhere_to_be_found\n")
    with pytest.raises(DsgenError, match="visits/pattern.py: the pattern's hooks fail to load: "
                                         "ModuleNotFoundError"):
        _ = load_registry(pack).get("visits").hooks


def test_hooks_feed_templates_and_schema(pack: Path, spec_path: Path, tmp_path: Path):
    registry = load_registry(BUILTIN_DIR, pack)
    outcome = new_project("toy", dest=tmp_path / "toy", spec_path=spec_path, registry=registry)
    project = outcome.project
    screen = (project / "app/screens/visitors.py").read_text()
    assert 'HEADING = "Welcome, Visitors"' in screen              # from the view hook
    assert 'INSERT INTO "visit_counts"' in screen
    assert '"visit_counts",' in (project / "tests/conftest.py").read_text()  # truncated too
    revision = next((project / "migrations/versions").glob("0001_*.py")).read_text()
    assert 'op.create_table(\n        "visit_counts",' in revision  # from the schema hook
    # A store may not take the pattern's table name.
    clash = SPEC.replace("  note:\n", "  visit_count:\n").replace("store: note", "store: "
                                                                  "visit_count")
    spec = prepare_spec(_write(tmp_path / "clash.yml", clash), registry)
    with pytest.raises(MigrationError, match="a store's table is named 'visit_counts', which "
                                             "the visits pattern counts visits in"):
        PostgresBackend().schema_state(spec, registry)


def test_the_pattern_checks_its_screens(pack: Path, tmp_path: Path):
    from dsgen._errors import SpecError

    registry = load_registry(BUILTIN_DIR, pack)
    comma = _write(tmp_path / "comma.yml", SPEC.replace("greeting: Welcome", "greeting: 'Hi, you'"))
    with pytest.raises(SpecError) as caught:
        prepare_spec(comma, registry)
    assert [(d.path, d.message) for d in caught.value.diagnostics] == [
        ("screens.visitors", "the greeting may not hold a comma: the heading adds one")]


@pytest.mark.db
def test_the_pattern_table_migrates(pack: Path, spec_path: Path, tmp_path: Path,
                                    database: str):  # noqa: F811
    registry = load_registry(BUILTIN_DIR, pack)
    project = Project(tmp_path / "alembic", database)
    spec = prepare_spec(spec_path, registry)
    migration = PostgresBackend().plan(spec, project.root, registry=registry)
    assert migration is not None
    (project.root / migration.path).write_text(migration.text)
    project.upgrade()
    project.run("INSERT INTO visit_counts (screen) VALUES ('visitors')")
    assert project.rows("SELECT screen, visits FROM visit_counts") == [("visitors", 0)]
    project.downgrade("base")
    assert project.rows("SELECT to_regclass('visit_counts')") == [(None,)]


@pytest.mark.e2e
def test_the_pattern_serves_its_screen(pack: Path, spec_path: Path, tmp_path: Path):
    """Generated with the pack, the app's own test of the screen passes (embedded PostgreSQL,
    migrations, FastAPI TestClient GET of the screen), and the project is ruff-clean."""
    from tests.test_e2e import shared_venv

    registry = load_registry(BUILTIN_DIR, pack)
    project = new_project("toy", dest=tmp_path / "toy", spec_path=spec_path,
                          registry=registry).project
    venv = shared_venv()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for command in (["ruff", "check", "."], ["pytest", "-q", "-p", "no:cacheprovider",
                                              "tests/test_visitors.py"]):
        result = subprocess.run([str(venv / "bin" / command[0]), *command[1:]], cwd=project,
                                capture_output=True, text=True, timeout=600, env=env)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

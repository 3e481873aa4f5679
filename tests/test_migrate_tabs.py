"""The tab order table of the `tabs` pattern: in the schema only when a tabs screen reorders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dsgen._blueprints import builtin_registry
from dsgen._load import parse_spec
from dsgen._model import Spec
from dsgen.db.errors import DestructiveMigrationError, MigrationError
from dsgen.db.postgres.diff import diff_states
from dsgen.db.postgres.ops import CreateTable
from dsgen.db.postgres.revision import render_revision
from dsgen.db.postgres.state import empty_state, schema_state

STORES = """\
stores:
  contact:
    fields:
      name: {type: string, required: true}
"""
MASTER_DETAIL = "  contacts: {pattern: master-detail, store: contact}\n"
TABS = "  settings: {pattern: tabs, tabs: [{name: people, screen: contacts}], reorder: true}\n"

TAB_ORDERS = builtin_registry().get("tabs").hooks.TAB_ORDERS  # the pattern's own table


def spec(screens: str, stores: str = STORES) -> Spec:
    text = "dsgen: 1\napp: {name: shop}\n" + stores + "screens:\n" + screens
    parsed, diagnostics = parse_spec(Path("dsgen.yaml"), text)
    assert not diagnostics, [str(d) for d in diagnostics]
    assert parsed is not None
    return parsed


def test_no_tabs_screen_no_table():
    assert TAB_ORDERS not in schema_state(spec(MASTER_DETAIL))["tables"]


def test_tabs_that_cannot_be_reordered_need_no_table():
    fixed = TABS.replace("reorder: true", "reorder: false")

    assert TAB_ORDERS not in schema_state(spec(MASTER_DETAIL + fixed))["tables"]
    assert TAB_ORDERS not in schema_state(spec(MASTER_DETAIL + fixed.replace(
        ", reorder: false", "")))["tables"]


def test_a_tabs_screen_adds_the_table():
    table = schema_state(spec(MASTER_DETAIL + TABS))["tables"][TAB_ORDERS]

    assert table == {
        "store": None,
        "link": None,
        "realtime": False,
        "columns": [
            {"name": "screen", "type": "text", "nullable": False, "default": None},
            {"name": "position", "type": "integer", "nullable": False, "default": None},
            {"name": "tab", "type": "text", "nullable": False, "default": None},
        ],
        "constraints": {"pk_tab_orders": {"kind": "primary_key", "columns": ["screen", "tab"]}},
        "indexes": {},
    }


def test_one_table_for_every_tabs_screen():
    two = TABS + TABS.replace("settings", "more_settings")

    tables = schema_state(spec(MASTER_DETAIL + two))["tables"]

    assert sorted(tables) == ["contacts", TAB_ORDERS]


def test_adding_a_tabs_screen_creates_only_that_table():
    before = schema_state(spec(MASTER_DETAIL))

    ops = diff_states(before, schema_state(spec(MASTER_DETAIL + TABS)))

    assert [(type(op), op.table) for op in ops] == [(CreateTable, TAB_ORDERS)]
    assert ops[0].summary() == "create table tab_orders"


def test_removing_the_last_tabs_screen_drops_it_destructively():
    before = schema_state(spec(MASTER_DETAIL + TABS))

    with pytest.raises(DestructiveMigrationError, match="tab_orders"):
        diff_states(before, schema_state(spec(MASTER_DETAIL)))


def test_a_store_table_of_that_name_is_refused():
    stores = STORES + "  tab_order:\n    fields:\n      name: string\n"

    with pytest.raises(MigrationError, match="rename that store"):
        schema_state(spec(MASTER_DETAIL + TABS, stores))


def test_initial_revision_golden():
    new = schema_state(spec(MASTER_DETAIL + TABS))
    ops = diff_states(empty_state(), new)

    text = render_revision(ops, new, revision="0001", down_revision=None, message="initial")

    expected = textwrap.indent(textwrap.dedent("""\
        op.create_table(
            "tab_orders",
            sa.Column("screen", sa.Text(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("tab", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("screen", "tab", name="pk_tab_orders"),
        )
    """), "    ")
    assert expected in text
    assert '    op.drop_table("tab_orders")\n' in text

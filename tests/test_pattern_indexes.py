"""The indexes the patterns' hot queries need: declared by each pattern's `schema` hook
(blueprints/<p>/pattern.py, building blocks in dsgen/_pattern_indexes.py) and emitted by
the migrations like declared ones. Their effect at 1,000,000 rows: bench/tables."""

from __future__ import annotations

from pathlib import Path

from dsgen._pattern_indexes import pattern_indexes
from dsgen.db.postgres import plan_migration
from dsgen.db.postgres.diff import diff_states
from dsgen.db.postgres.ops import summarize
from dsgen.db.postgres.state import schema_state, spec_renames

ROOT = Path(__file__).resolve().parents[1]


def load(text: str):
    from dsgen._load import parse_spec

    parsed, diagnostics = parse_spec(Path("dsgen.yaml"), text)
    assert not diagnostics, [str(d) for d in diagnostics]
    return parsed


def all_patterns():
    return load((ROOT / "bench" / "all_patterns.yml").read_text())


def test_every_hot_query_shape_gets_its_index():
    got = {(table, name): d for table, name, d in pattern_indexes(all_patterns())}
    assert got == {
        # master-detail: the list by label, substring search on each search field
        ("contacts", "ix_contacts_name_id"): {"columns": ["name", "id"], "unique": False,
                                              "where": []},
        ("contacts", "ix_contacts_name_trgm"): {
            "columns": ["name"], "unique": False, "where": [], "using": "gin",
            "ops": {"name": "gin_trgm_ops"}},
        ("contacts", "ix_contacts_email_trgm"): {
            "columns": ["email"], "unique": False, "where": [], "using": "gin",
            "ops": {"email": "gin_trgm_ops"}},
        # data-table: the filter box (ILIKE on every text-like field, OR-ed: one trigram
        # index each, or the OR cannot use any); its default order (name, id) is the list's
        ("contacts", "ix_contacts_status_trgm"): {
            "columns": ["status"], "unique": False, "where": [], "using": "gin",
            "ops": {"status": "gin_trgm_ops"}},
        ("contacts", "ix_contacts_notes_trgm"): {
            "columns": ["notes"], "unique": False, "where": [], "using": "gin",
            "ops": {"notes": "gin_trgm_ops"}},
        # kanban: a column in card order
        ("tasks", "ix_tasks_lane_position_title_id"): {
            "columns": ["lane", "position", "title", "id"], "unique": False, "where": []},
        # gantt: rows by start, then label
        ("tasks", "ix_tasks_starts_title_id"): {
            "columns": ["starts", "title", "id"], "unique": False, "where": []},
        # tree: one level, siblings by COALESCE(label, '') then id
        ("tasks", "ix_tasks_parent_title_id"): {
            "columns": ["parent", "title", "id"], "unique": False, "where": [],
            "keys": {"title": "coalesce_text"}},
        # date-range: one resource's bookings that end after a day
        ("bookings", "ix_bookings_room_ends_starts"): {
            "columns": ["room", "ends", "starts"], "unique": False, "where": []},
    }


def test_the_state_carries_them_with_the_extension_and_drops_a_redundant_ref_index():
    state = schema_state(all_patterns())
    assert "pg_trgm" in state["extensions"]
    tasks = state["tables"]["tasks"]["indexes"]
    assert "ix_tasks_parent_title_id" in tasks
    # A ref's own one-column index is a prefix of (room, ends, starts) and of (parent,
    # ...): not made twice. A ref no pattern index starts with keeps its own.
    assert "ix_bookings_room" not in state["tables"]["bookings"]["indexes"]
    assert "ix_tasks_parent" not in tasks
    assert "ix_contacts_company" in state["tables"]["contacts"]["indexes"]


def test_the_initial_revision_writes_gin_ops_and_expression_keys(tmp_path):
    migration = plan_migration(all_patterns(), tmp_path, message="initial")
    assert migration is not None
    text = migration.text
    assert """op.execute('CREATE EXTENSION IF NOT EXISTS "pg_trgm"')""" in text
    assert 'postgresql_using="gin"' in text
    assert 'postgresql_ops={"name": "gin_trgm_ops"}' in text
    assert """sa.text("COALESCE(\\"title\\"::text, '')")""" in text


SEARCHLESS = """dsgen: 1
app: {name: shop}
stores:
  item:
    fields:
      title: {type: string, required: true}
screens:
  items: {pattern: master-detail, store: item%s}
"""


def test_adding_search_adds_the_trigram_index_and_the_extension_removing_drops_them():
    before = schema_state(load(SEARCHLESS % ""))
    after_spec = load(SEARCHLESS % ", search: [title]")
    after = schema_state(after_spec)
    ops = diff_states(before, after, renames=spec_renames(after_spec))
    assert summarize(ops) == ["create extension pg_trgm",
                              "create index ix_items_title_trgm on items (title)"]
    back = diff_states(after, before)
    assert summarize(back) == ["drop index ix_items_title_trgm on items",
                               "drop extension pg_trgm"]


def test_a_renamed_field_follows_into_the_opclass_and_the_expression_key():
    old = schema_state(load(SEARCHLESS % ", search: [title]"))
    renamed = load((SEARCHLESS % ", search: [name]").replace(
        "title: {type: string, required: true}",
        "name: {type: string, required: true, renamed_from: title}"))
    ops = diff_states(old, schema_state(renamed), renames=spec_renames(renamed))
    assert [type(op).__name__ for op in ops] == ["RenameColumn", "RenameIndex", "RenameIndex"]


def test_the_plan_test_seed_fills_required_and_wanted_columns_in_one_statement():
    from dsgen._pattern_indexes import seed_select
    from dsgen._views import store_views

    spec = all_patterns()
    views = store_views(spec)
    contacts = seed_select(views["contact"], ["name", "email"])
    assert contacts == (
        'INSERT INTO "contacts" ("name", "email") SELECT left(md5(g::text), 32), '
        "'u' || left(md5(g::text), 32) || '@example.com' FROM generate_series(1, %(n)s) AS g")
    tasks = seed_select(views["task"], ["title"])
    assert tasks is not None and '"lane"' not in tasks  # optional: its default
    assert "(ARRAY['todo', 'doing', 'review', 'done'])[g %% 4 + 1]" not in tasks
    assert '"starts", "ends"' in tasks and "date '2020-01-01' + (g %% 3650)::int" in tasks
    # A required ref cannot be filled from generate_series alone: no plan test.
    assert seed_select(views["booking"], ["guest"]) is None


def test_a_data_table_indexes_its_filter_fields_and_its_default_order():
    spec = load("""
dsgen: 1
app: {name: shop}
stores:
  item:
    fields:
      sku: {type: string, required: true}
      owner: {type: ref, store: item}
      title: string
      size: int
screens:
  listed: {pattern: data-table, store: item, columns: [owner, title, size], filter: [title]}
  items: {pattern: data-table, store: item, sort: -size}
""")
    got = sorted(name for _, name, _ in pattern_indexes(spec))
    # listed: the first column is a ref (sorted by the referenced label: no index of this
    # table serves it), the filter names only title; items: every text field, by size.
    assert got == ["ix_items_size_id", "ix_items_sku_trgm", "ix_items_title_trgm"]


def test_the_plan_test_seed_writes_enum_literals_safe_for_a_parameterised_statement():
    """The seed runs with parameters (`%(n)s`): a '%' in an enum value is doubled, a quote
    is doubled by SQL's own rule (zoo seed 20261220 spec 1: an enum value '50%')."""
    from dsgen._pattern_indexes import seed_select
    from dsgen._views import store_views

    spec = load("""dsgen: 1
app: {name: shop}
stores:
  item:
    fields:
      title: {type: string, required: true}
      share: {type: enum, values: ['50%', "it's", '%(n)s'], required: true}
screens:
  items: {pattern: master-detail, store: item}
""")
    seed = seed_select(store_views(spec)["item"], ["title"])
    assert seed is not None
    assert "(ARRAY['50%%', 'it''s', '%%(n)s'])[g %% 3 + 1]" in seed
    # With the parameter in (pyformat, as psycopg reads it): the values as the spec wrote them.
    rendered = seed % {"n": 7}
    assert "ARRAY['50%', 'it''s', '%(n)s']" in rendered and "generate_series(1, 7)" in rendered


def test_a_column_named_twice_in_a_hot_query_is_indexed_once():
    """A kanban grouped by its own label field (zoo seed 20261220 spec 6): the index was
    (limit, limit, id), and Alembic refused it (DuplicateColumnError)."""
    spec = load("""dsgen: 1
app: {name: shop}
stores:
  item:
    fields:
      limit: {type: enum, values: [a, b], required: true}
screens:
  board: {pattern: kanban, store: item, group_by: limit}
""")
    got = {name: d["columns"] for _, name, d in pattern_indexes(spec)}
    assert got == {"ix_items_limit_id": ["limit", "id"]}

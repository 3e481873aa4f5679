"""The command palette's record search, as decided at render time (dsgen/_search.py)."""

from __future__ import annotations

from pathlib import Path

from dsgen._blueprints import builtin_registry
from dsgen._project import prepare_spec
from dsgen._render import build_plan

ROOT = Path(__file__).resolve().parents[1]
ALL_PATTERNS = ROOT / "bench" / "all_patterns.yml"


def sources(path: Path, text: str | None = None, *, admin: bool = True):
    registry = builtin_registry()
    spec = prepare_spec(path, registry, text, admin=admin)
    plan = build_plan(spec, registry)
    found = plan.jobs[0].context["search_sources"]
    return [(s.store.name.snake, s.title, s.screen.name.snake, s.route, s.label.name.snake,
             [f.name.snake for f in s.columns]) for s in found]


def test_every_store_with_a_record_page_is_searched():
    assert sources(ALL_PATTERNS) == [
        # master-detail's detail wins over the data-table before it (no record page);
        # its `search` fields join the label.
        ("contact", "Contacts", "contacts", "/contacts", "name", ["name", "email"]),
        # the first page opening one task: the kanban's drawer (wizard: drafts, not records)
        ("task", "Tasks", "board", "/board", "title", ["title"]),
        ("company", "Companies", "companies", "/companies", "name", ["name"]),
        ("room", "Rooms", "rooms", "/rooms", "name", ["name"]),
        # booking: only a date-range screen, no page for one booking: not searched
    ]


SPEC = """\
dsgen: 1
app: {name: shop}
stores:
  order:
    fields:
      number: {type: int, required: true}
      note: text
  group:
    fields:
      select: {type: string}
      parent: {type: ref, store: group}
  item:
    fields:
      when: {type: date}
      until: {type: date}
  loose: {fields: {name: string}}
screens:
  orders: {pattern: master-detail, store: order, search: [note]}
  groups: {pattern: tree, store: group, parent: parent, label: select}
  items: {pattern: gantt, store: item, start: when, end: until}
  looses: {pattern: data-table, store: loose}
"""


def test_text_columns_only_and_reserved_words(tmp_path: Path):
    assert sources(tmp_path / "dsgen.yaml", SPEC, admin=False) == [
        # the label (an int) is shown, not matched; the `search` fields are
        ("order", "Orders", "orders", "/orders", "number", ["note"]),
        ("group", "Groups", "groups", "/groups", "select", ["select"]),
        # item: no text column to match in; loose: a data-table, no record page
    ]

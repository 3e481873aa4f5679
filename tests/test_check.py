"""check_spec: cross-references and pattern options, checked against a blueprint registry."""

from __future__ import annotations

import textwrap

import pytest

from dsgen._blueprints import Registry, builtin_registry, load_blueprint
from dsgen._check import check_spec
from dsgen._errors import SpecError
from dsgen._load import parse_spec
from dsgen._project import prepare_spec

# The headline patterns of the spec format, as manifests: the built-in registry may not ship
# them all yet, and these tests must not change when a blueprint's docs do.
MANIFESTS = {
    "kanban": """\
        id: kanban
        summary: Cards in columns, one column per value of an enum field.
        backends: [postgres, mongo]
        store: required
        options:
          group_by: {type: field, required: true, field_types: [enum],
                     doc: "an enum field: one column per value"}
          order_by: {type: field, field_types: [int]}
          card: {type: fields}
        """,
    "gantt": """\
        id: gantt
        summary: Bars on a time line.
        backends: [postgres]
        store: required
        options:
          start: {type: field, required: true, field_types: [date, datetime]}
          end: {type: field, required: true, field_types: [date, datetime]}
          label: {type: field}
          depends_on: {type: field, field_types: [ref], same_store: true, many: true}
        """,
    "tree": """\
        id: tree
        summary: A hierarchy.
        backends: [postgres]
        store: required
        options:
          parent: {type: field, required: true, field_types: [ref], same_store: true,
                   many: false}
          label: {type: field}
        """,
    "date-range": """\
        id: date-range
        summary: Bookings.
        backends: [postgres]
        store: required
        options:
          start: {type: field, required: true, field_types: [date]}
          end: {type: field, required: true, field_types: [date]}
          resource: {type: field, field_types: [ref]}
          max_nights: {type: int, min: 1}
          note: {type: string}
        """,
    "tabs": """\
        id: tabs
        summary: Tabs holding other screens.
        backends: [postgres, mongo]
        store: none
        options:
          tabs:
            type: list
            required: true
            items:
              name: {type: string, required: true, doc: "a snake_case name"}
              title: {type: string, required: true}
              screen: {type: screen}
          reorder: {type: bool}
          url: {type: bool}
        """,
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    root = tmp_path_factory.mktemp("blueprints")
    blueprints = dict(builtin_registry().blueprints)
    for name, manifest in MANIFESTS.items():
        (root / name).mkdir()
        (root / name / "blueprint.yml").write_text(textwrap.dedent(manifest), encoding="utf-8")
        blueprints[name] = load_blueprint(root / name)
    return Registry(blueprints)


STORES = """\
dsgen: 1
app: {name: shop}
stores:
  task:
    fields:
      title: string
      lane: {type: enum, values: [todo, done]}
      position: int
      starts: date
      ends: datetime
      parent: {type: ref, store: task}
      depends_on: {type: ref, store: task, many: true}
      owner: {type: ref, store: person}
  person:
    fields:
      name: string
screens:
"""
# STORES is 17 lines long; the screens below start on line 18.


def _screens(text: str) -> str:
    """Screens written at any indentation, placed under STORES' `screens:`."""
    return textwrap.indent(textwrap.dedent(text), "  ")


def check(write_spec, registry, text: str):
    spec, diagnostics = parse_spec(write_spec(text))
    assert diagnostics == [], [str(d) for d in diagnostics]
    return check_spec(spec, registry)


def found(diagnostics) -> list[tuple]:
    return [(d.location.line if d.location else None, d.location.col if d.location else None,
             d.path, d.message, d.hint) for d in diagnostics]


def _screen(bad: str, expected: tuple, good: str, id: str):
    """A case whose one screen sits on line 18, after STORES."""
    return pytest.param(STORES + f"  {bad}\n", expected, STORES + f"  {good}\n", id=id)


S = "screens.board"
CASES = [
    _screen("board: {pattern: kanbn, store: task, group_by: lane}",
            (18, 20, f"{S}.pattern", "unknown pattern 'kanbn'", "did you mean 'kanban'?"),
            "board: {pattern: kanban, store: task, group_by: lane}", "pattern-unknown"),
    _screen("board: {pattern: spreadsheet, store: task}",
            (18, 20, f"{S}.pattern", "unknown pattern 'spreadsheet'",
             "see 'dsgen blueprints list'"),
            "board: {pattern: master-detail, store: task}", "pattern-unknown-no-hint"),
    _screen("board: {pattern: kanban, store: tsk, group_by: lane}",
            (18, 35, f"{S}.store", "unknown store 'tsk', expected one of 'task', 'person'",
             "did you mean 'task'?"),
            "board: {pattern: kanban, store: task, group_by: lane}", "screen-store-unknown"),
    _screen("board: {pattern: kanban, group_by: lane}",
            (18, 10, S, "pattern 'kanban' needs a store", "add 'store: <store name>'"),
            "board: {pattern: kanban, store: task, group_by: lane}", "screen-store-missing"),
    _screen("board: {pattern: tabs, store: task, tabs: [{name: a, title: A}]}",
            (18, 33, f"{S}.store", "pattern 'tabs' shows no store", "remove 'store'"),
            "board: {pattern: tabs, tabs: [{name: a, title: A}]}", "screen-store-forbidden"),
    _screen("board: {pattern: kanban, store: task, group_by: lane, orderby: position}",
            (18, 57, f"{S}.orderby", "unknown option 'orderby' for pattern 'kanban', expected "
             "one of 'pattern', 'store', 'title', 'nav', 'group_by', 'order_by', 'card'",
             "did you mean 'order_by'?"),
            "board: {pattern: kanban, store: task, group_by: lane, order_by: position}",
            "option-unknown"),
    _screen("board: {pattern: kanban, store: task}",
            (18, 10, S, "pattern 'kanban' needs the option 'group_by'",
             "an enum field: one column per value"),
            "board: {pattern: kanban, store: task, group_by: lane}", "option-required"),
    _screen("board: {pattern: kanban, store: task, group_by: lane, card: title}",
            (18, 63, f"{S}.card", "expected a list of field names, got 'title'",
             "write 'card: [a, b]'"),
            "board: {pattern: kanban, store: task, group_by: lane, card: [title]}",
            "option-fields-not-list"),
    _screen("board: {pattern: kanban, store: task, group_by: lane, card: [title, lnae]}",
            (18, 71, f"{S}.card[1]", "unknown field 'lnae' of store 'task'",
             "did you mean 'lane'?"),
            "board: {pattern: kanban, store: task, group_by: lane, card: [title, lane]}",
            "option-fields-unknown"),
    _screen("board: {pattern: kanban, store: task, group_by: lane, card: [title, lane, title]}",
            (18, 77, f"{S}.card[2]", "field 'title' is listed twice", "list each field once"),
            "board: {pattern: kanban, store: task, group_by: lane, card: [title, lane]}",
            "option-fields-twice"),
    _screen("board: {pattern: kanban, store: task, group_by: xyzzy}",
            (18, 51, f"{S}.group_by", "unknown field 'xyzzy' of store 'task'",
             "expected one of 'title', 'lane', 'position', 'starts', 'ends', 'parent', "
             "'depends_on', 'owner'"),
            "board: {pattern: kanban, store: task, group_by: lane}", "option-field-unknown"),
    _screen("board: {pattern: kanban, store: task, group_by: title}",
            (18, 51, f"{S}.group_by", "field 'title' is string, but 'group_by' needs enum",
             "fields of 'task' that fit: lane"),
            "board: {pattern: kanban, store: task, group_by: lane}", "option-field-type"),
    _screen("board: {pattern: kanban, store: person, group_by: name}",
            (18, 53, f"{S}.group_by", "field 'name' is string, but 'group_by' needs enum",
             "add an enum field to 'person'"),
            "board: {pattern: kanban, store: task, group_by: lane}",
            "option-field-type-none-fits"),
    _screen("board: {pattern: kanban, store: task, group_by: created_at}",
            (18, 51, f"{S}.group_by", "field 'created_at' is datetime, but 'group_by' needs "
             "enum", "fields of 'task' that fit: lane"),
            "board: {pattern: gantt, store: task, start: created_at, end: updated_at}",
            "option-implicit-field"),
    _screen("board: {pattern: tree, store: task, parent: owner}",
            (18, 47, f"{S}.parent", "field 'owner' must refer to store 'task' itself",
             "declare it as {type: ref, store: task}"),
            "board: {pattern: tree, store: task, parent: parent}", "option-same-store"),
    _screen("board: {pattern: tree, store: task, parent: depends_on}",
            (18, 47, f"{S}.parent", "field 'depends_on' must not be a many-ref",
             "remove 'many'"),
            "board: {pattern: tree, store: task, parent: parent}", "option-not-many"),
    _screen("board: {pattern: gantt, store: task, start: starts, end: ends, depends_on: parent}",
            (18, 78, f"{S}.depends_on", "field 'parent' must be a many-ref",
             "set 'many: true'"),
            "board: {pattern: gantt, store: task, start: starts, end: ends, "
            "depends_on: depends_on}", "option-many"),
    _screen("board: {pattern: date-range, store: task, start: starts, end: starts, "
            "max_nights: 0}",
            (18, 85, f"{S}.max_nights", "expected at least 1, got 0", None),
            "board: {pattern: date-range, store: task, start: starts, end: starts, "
            "max_nights: 14}", "option-int-min"),
    _screen("board: {pattern: date-range, store: task, start: starts, end: starts, "
            "max_nights: two}",
            (18, 85, f"{S}.max_nights", "expected a whole number, got 'two'", None),
            "board: {pattern: date-range, store: task, start: starts, end: starts, "
            "max_nights: 2}", "option-int"),
    _screen("board: {pattern: date-range, store: task, start: starts, end: starts, note: ''}",
            (18, 79, f"{S}.note", "expected a non-empty string, got ''", None),
            "board: {pattern: date-range, store: task, start: starts, end: starts, note: hi}",
            "option-string"),
    _screen("board: {pattern: tabs, tabs: [{name: a, title: A}], url: 'yes'}",
            (18, 60, f"{S}.url", "expected true or false, got 'yes'", None),
            "board: {pattern: tabs, tabs: [{name: a, title: A}], url: true}", "option-bool"),
    _screen("board: {pattern: tabs, tabs: []}",
            (18, 32, f"{S}.tabs", "expected a non-empty list, got a list", None),
            "board: {pattern: tabs, tabs: [{name: a, title: A}]}", "option-list-empty"),
    _screen("board: {pattern: tabs, tabs: [a]}",
            (18, 33, f"{S}.tabs[0]", "expected a mapping with one of 'name', 'title', "
             "'screen', got 'a'", None),
            "board: {pattern: tabs, tabs: [{name: a, title: A}]}", "option-list-item"),
    _screen("board: {pattern: tabs, tabs: [{name: a, titel: A, title: A}]}",
            (18, 50, f"{S}.tabs[0].titel", "unknown key 'titel', expected one of 'name', "
             "'title', 'screen'", "did you mean 'title'?"),
            "board: {pattern: tabs, tabs: [{name: a, title: A}]}", "option-list-unknown-key"),
    _screen("board: {pattern: tabs, tabs: [{name: a}]}",
            (18, 33, f"{S}.tabs[0]", "missing 'title'", None),
            "board: {pattern: tabs, tabs: [{name: a, title: A}]}", "option-list-missing"),
    _screen("board: {pattern: tabs, tabs: [{name: a, title: A}, {name: a, title: B}]}",
            (18, 61, f"{S}.tabs[1].name", "duplicate name 'a'", "names must be unique"),
            "board: {pattern: tabs, tabs: [{name: a, title: A}, {name: b, title: B}]}",
            "option-list-duplicate-name"),
    _screen("board: {pattern: tabs, tabs: [{name: Tab A, title: A}]}",
            (18, 40, f"{S}.tabs[0].name", "'Tab A' is not a snake_case identifier", None),
            "board: {pattern: tabs, tabs: [{name: tab_a, title: A}]}", "option-list-bad-name"),
    _screen("board: {pattern: tabs, tabs: [{name: a, title: A, screen: board}]}",
            (18, 61, f"{S}.tabs[0].screen", "a screen cannot contain itself", None),
            "board: {pattern: tabs, tabs: [{name: a, title: A}]}", "option-screen-self"),
    _screen("board: {pattern: tabs, tabs: [{name: a, title: A, screen: bord}]}",
            (18, 61, f"{S}.tabs[0].screen", "unknown screen 'bord'", None),
            "board: {pattern: tabs, tabs: [{name: a, title: A}]}", "option-screen-unknown"),
    _screen("api: {pattern: kanban, store: task, group_by: lane}",
            (18, 8, "screens.api", "'/api' is a path the app serves itself",
             "rename the screen, e.g. 'api_screen'"),
            "api_screen: {pattern: kanban, store: task, group_by: lane}", "screen-route-reserved"),
]


@pytest.mark.parametrize(("bad", "expected", "good"), CASES)
def test_error_and_its_fix(write_spec, registry, bad, expected, good):
    assert found(check(write_spec, registry, bad)) == [expected]
    assert found(check(write_spec, registry, good)) == []


def test_screen_option_suggests_a_close_screen(write_spec, registry):
    diagnostics = check(write_spec, registry, STORES + _screens("""\
          board: {pattern: kanban, store: task, group_by: lane}
          home: {pattern: tabs, tabs: [{name: a, title: A, screen: bord}]}
        """))
    assert found(diagnostics) == [(19, 60, "screens.home.tabs[0].screen",
                                   "unknown screen 'bord'", "did you mean 'board'?")]


def test_screen_option_cannot_nest_the_same_pattern(write_spec, registry):
    diagnostics = check(write_spec, registry, STORES + _screens("""\
          inner: {pattern: tabs, tabs: [{name: a, title: A}]}
          outer: {pattern: tabs, tabs: [{name: b, title: B, screen: inner}]}
        """))
    assert found(diagnostics) == [(19, 61, "screens.outer.tabs[0].screen",
                                   "screen 'inner' is a tabs too; nesting is not supported",
                                   "point at a screen of another pattern")]


def _store(bad: str, expected: tuple, good: str, id: str):
    """A case about stores; the field under test sits on line 5."""
    head = "dsgen: 1\napp: {name: shop}\nstores:\n  task:\n"
    tail = "    realtime: false\nscreens: {home: {pattern: tabs, tabs: [{name: a, title: A}]}}\n"
    return pytest.param(head + f"    fields: {bad}\n" + tail, expected,
                        head + f"    fields: {good}\n" + tail, id=id)


CASES_STORES = [
    _store("{owner: {type: ref, store: tsak}}",
           (5, 40, "stores.task.fields.owner.store", "unknown store 'tsak', expected one of "
            "'task'", "did you mean 'task'?"),
           "{owner: {type: ref, store: task}}", "ref-store-unknown"),
    _store("{title: {type: string}, name: {type: string, renamed_from: title}}",
           (5, 72, "stores.task.fields.name.renamed_from", "'title' is still a field of "
            "'task'", "a renamed field's old name must be gone"),
           "{name: {type: string, renamed_from: title}}", "renamed-from-still-there"),
    _store("{tags: {type: ref, store: task, many: true, unique: true}}",
           (5, 65, "stores.task.fields.tags.unique", "a many-ref cannot be unique",
            "remove 'unique'"),
           "{tags: {type: ref, store: task, many: true}}", "many-unique"),
]


@pytest.mark.parametrize(("bad", "expected", "good"), CASES_STORES)
def test_store_error_and_its_fix(write_spec, registry, bad, expected, good):
    assert found(check(write_spec, registry, bad)) == [expected]
    assert found(check(write_spec, registry, good)) == []


def test_ref_to_an_unknown_store_suggests(write_spec, registry):
    diagnostics = check(write_spec, registry, """\
        dsgen: 1
        app: {name: shop}
        stores:
          person: {fields: {name: string}}
          task: {fields: {owner: {type: ref, store: persn}}}
        screens: {home: {pattern: tabs, tabs: [{name: a, title: A}]}}
        """)
    assert found(diagnostics) == [(5, 45, "stores.task.fields.owner.store", "unknown store "
                                   "'persn', expected one of 'person', 'task'",
                                   "did you mean 'person'?")]


def test_two_stores_sharing_a_table(write_spec, registry):
    text = """\
        dsgen: 1
        app: {name: shop}
        stores:
          datum: {fields: {name: string}}
          data: {fields: {name: string}}
        screens: {home: {pattern: tabs, tabs: [{name: a, title: A}]}}
        """
    assert found(check(write_spec, registry, text)) == [
        (5, 9, "stores.data", "store 'data' and 'datum' would share the table 'data'",
         "rename one of them")]
    assert check(write_spec, registry, text.replace("data:", "facts:")) == []


def test_link_table_clashing_with_a_store(write_spec, registry):
    text = """\
        dsgen: 1
        app: {name: shop}
        stores:
          contact_tag: {fields: {name: string}}
          contact: {fields: {tags: {type: ref, store: contact_tag, many: true}}}
        screens: {home: {pattern: tabs, tabs: [{name: a, title: A}]}}
        """
    assert found(check(write_spec, registry, text)) == [
        (5, 28, "stores.contact.fields.tags", "the link table 'contact_tags' of this many-ref "
         "clashes with store 'contact_tag'", "rename the field or the store")]
    assert check(write_spec, registry, text.replace("tags:", "labels:")) == []


def test_auth_is_not_available_yet(write_spec, registry):
    text = ("dsgen: 1\napp: {name: shop, auth: password}\n"
            "screens: {home: {pattern: tabs, tabs: [{name: a, title: A}]}}\n")
    assert found(check(write_spec, registry, text)) == [
        (2, 25, "app.auth", "auth 'password' is not supported yet by this dsgen version",
         "use 'auth: none' for now: sign-in, owned rows and role-gated screens are planned")]
    assert check(write_spec, registry, text.replace("password", "none")) == []


@pytest.fixture
def mongo_built(monkeypatch):
    """The database layer as it will be once the mongo backend is built: the blueprints'
    own `backends` decide (until then, one 'not supported yet' error stands for all)."""
    from dsgen import db

    monkeypatch.delitem(db._NOT_YET, "mongo")


def test_backend_a_pattern_does_not_support(write_spec, registry, mongo_built):
    text = STORES.replace("app: {name: shop}", "app: {name: shop, backend: mongo}") + \
        "  board: {pattern: gantt, store: task, start: starts, end: ends}\n"
    assert found(check(write_spec, registry, text))[1:] == [
        (18, 20, "screens.board.pattern", "pattern 'gantt' does not support the 'mongo' "
         "backend yet", "supported: postgres")]


def test_backend_the_project_blueprint_does_not_support(write_spec, registry, mongo_built):
    # Every screen's pattern supports mongo, but the project itself (the 'app' blueprint)
    # does not: that must be an error too, not a broken render.
    assert "mongo" not in registry.blueprints["app"].backends
    text = STORES.replace("app: {name: shop}", "app: {name: shop, backend: mongo}") + \
        "  board: {pattern: kanban, store: task, group_by: lane}\n"
    assert found(check(write_spec, registry, text)) == [
        (2, 28, "app.backend", "the project blueprint 'app' does not support the 'mongo' "
         "backend yet", "supported: postgres")]


def test_every_error_is_reported_at_once(write_spec, registry):
    diagnostics = check(write_spec, registry, STORES + _screens("""\
          board: {pattern: kanbn, store: task}
          timeline: {pattern: gantt, store: task, start: title, end: ends}
          outline: {pattern: tree, store: tsk, parent: parent}
        """))
    assert [(d.location.line, d.path, d.hint) for d in diagnostics] == [
        (18, "screens.board.pattern", "did you mean 'kanban'?"),
        (19, "screens.timeline.start", "fields of 'task' that fit: starts, ends"),
        (20, "screens.outline.store", "did you mean 'task'?"),
    ]


def test_builtin_master_detail(write_spec):
    text = STORES + "  tasks: {pattern: master-detail, store: task, search: [title, position]}\n"
    assert found(check(write_spec, builtin_registry(), text)) == [
        (18, 64, "screens.tasks.search[1]", "field 'position' is int, but 'search' needs "
         "string or text or email or url or enum", "fields of 'task' that fit: title, lane")]
    fixed = text.replace("[title, position]", "[title, lane]")
    assert check(write_spec, builtin_registry(), fixed) == []


def test_check_does_not_repeat_loader_errors(write_spec, registry):
    # A screen whose store is unknown has its field options skipped, not reported twice.
    diagnostics = check(write_spec, registry, STORES + _screens("""\
          board: {pattern: kanban, store: nope, group_by: nothing, card: [nothing]}
        """))
    assert [d.path for d in diagnostics] == ["screens.board.store"]


def test_items_the_loader_dropped_are_not_reported_again(write_spec, registry):
    # An invalid store, field or screen is the loader's error; naming it elsewhere must not
    # add "unknown store 'company'" while the store is right there in the spec.
    spec, loader = parse_spec(write_spec("""\
        dsgen: 1
        app: {name: shop}
        stores:
          company: [name]
          contact:
            fields:
              name: string
              company: {type: ref, store: company}
              lane: {type: enm, values: [a, b]}
        screens:
          contacts: {pattern: kanban, store: contact, group_by: lane, card: [name, lane]}
          companies: {pattern: master-detail, store: company}
          broken: tabs
          home: {pattern: tabs, tabs: [{name: a, title: A, screen: broken}]}
        """))
    assert [d.path for d in loader] == ["stores.company", "stores.contact.fields.lane.type",
                                        "screens.broken"]
    assert check_spec(spec, registry) == []


@pytest.mark.parametrize(("store", "screen", "problems"), [
    ("class", "items", [("stores.class", 4, 3)]),
    ("item", "import", [("screens.import", 10, 3)]),
    ("match", "lambda", [("stores.match", 4, 3), ("screens.lambda", 10, 3)]),
])
def test_keyword_store_and_screen_names_are_refused_at_the_key(write_spec, store, screen,
                                                                problems):
    # Located at the name itself (the key), not at the first line of its body (issue 9).
    path = write_spec(f"""\
        dsgen: 1
        app: {{name: kw}}
        stores:
          {store}:
            fields:
              name: string
            realtime: false
        screens:
          # a comment
          {screen}:
            pattern: master-detail
            store: {store}
        """)
    with pytest.raises(SpecError) as info:
        prepare_spec(path, builtin_registry())
    found = info.value.diagnostics
    assert [(d.path, d.location.line, d.location.col) for d in found] == problems
    for d in found:
        assert "Python keyword" in d.message and d.hint.startswith("try '")


def test_a_valid_spec_with_block_names(write_spec):
    path = write_spec("""\
        dsgen: 1
        app: {name: kw}
        stores:
          item:
            fields:
              name: string
        screens:
          items:
            pattern: master-detail
            store: item
        """)
    assert prepare_spec(path, builtin_registry()).screens[0].name.snake == "items"


# -- rules between options, declared in the manifests (differs_from, within, stored,
# distinct, min, covers_required): `dsgen check` reports them at file:line:col --------------
RULE_STORES = """\
dsgen: 1
app: {name: rules}
stores:
  task:
    fields:
      title: {type: string, required: true}
      email: {type: email, required: true}
      due: date
      done: {type: bool, required: true}
      notes: text
screens:
"""


@pytest.mark.parametrize(("screen", "expected", "good"), [
    pytest.param(
        "  plan: {pattern: gantt, store: task, start: due, end: due}\n",
        [(12, 56, "screens.plan.end", "'end' must be another field than 'start' (both are "
          "'due')", "add another date or datetime field to 'task'")],
        None, id="gantt-end-is-start"),
    pytest.param(
        "  stay: {pattern: date-range, store: task, start: due, end: due}\n",
        [(12, 61, "screens.stay.end", "'end' must be another field than 'start' (both are "
          "'due')", "add another date field to 'task'")],
        None, id="date-range-end-is-start"),
    pytest.param(
        "  table: {pattern: data-table, store: task, columns: [title, due], "
        "editable: [title, notes]}\n",
        [(12, 86, "screens.table.editable[1]", "field 'notes' of 'editable' is not one of "
          "the screen's columns", "add it to 'columns' (title, due) or leave it out")],
        "  table: {pattern: data-table, store: task, columns: [title, due], "
        "editable: [title]}\n", id="data-table-editable-outside-columns"),
    pytest.param(
        "  join:\n    pattern: wizard\n    store: task\n    steps:\n"
        "      - {title: One, fields: [title, notes]}\n"
        "      - {title: Two, fields: [notes, created_at]}\n"
        "      - {title: Three, fields: []}\n",
        [(16, 7, "screens.join.steps", "required field 'email' is in none of the steps",
          "add it to one, or give it a default"),
         (17, 31, "screens.join.steps[1].fields[0]", "field 'notes' is in steps[0] already",
          "a field may be in one of the steps only"),
         (17, 38, "screens.join.steps[1].fields[1]", "field 'created_at' is set by the "
          "database, not typed into a form", "fields of 'task': title, email, due, done, notes"),
         (18, 32, "screens.join.steps[2].fields", "expected at least 1 field, got 0",
          "fields of 'task': title, email, due, done, notes")],
        "  join:\n    pattern: wizard\n    store: task\n    steps:\n"
        "      - {title: One, fields: [title, notes]}\n"
        "      - {title: Two, fields: [email]}\n", id="wizard-steps"),
])
def test_rules_between_options_are_located(write_spec, screen, expected, good):
    diagnostics = check(write_spec, builtin_registry(), RULE_STORES + screen)
    assert sorted(found(diagnostics)) == sorted(expected)
    if good is not None:
        assert check(write_spec, builtin_registry(), RULE_STORES + good) == []


@pytest.mark.parametrize(("screen", "path", "message"), [
    ("  plan: {pattern: gantt, store: task, start: due, end: due}\n", "screens.plan.end",
     "'end' must be another field than 'start' (both are 'due')"),
    ("  table: {pattern: data-table, store: task, columns: [title], editable: [due]}\n",
     "screens.table.editable", "editable field 'due' is not one of the screen's columns"),
    ("  table: {pattern: data-table, store: task, sort: -nope}\n", "screens.table.sort",
     "sort '-nope' is not a sortable column of store 'task'"),
    ("  join: {pattern: wizard, store: task, steps: [{title: One, fields: [title]}]}\n",
     "screens.join.steps", "required field email is in no step (add it to one, or give it "
     "a default)"),
])
def test_templates_fail_with_a_spec_error_when_a_rule_is_broken(write_spec, screen, path,
                                                                 message):
    """The templates keep their own checks (fail()): a render that skipped `check_spec`
    (the library, an ejected template) still stops with a spec error, not a Jinja one."""
    from dsgen._errors import SpecError
    from dsgen._project import render_project

    spec, diagnostics = parse_spec(write_spec(RULE_STORES + screen))
    assert diagnostics == []
    with pytest.raises(SpecError) as info:
        render_project(spec, builtin_registry(), with_assets=False)
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.path, diagnostic.message) == (path, message)
    assert diagnostic.hint
    assert diagnostic.location is not None       # the round-trip parse knows where


def test_a_render_time_rule_is_located_on_the_quick_path_too(tmp_path, write_spec):
    """`dsgen new` parses a valid spec without locations; a blueprint's fail() still points
    at file:line:col (the spec's text is parsed again to find it)."""
    from dsgen._errors import SpecError
    from dsgen._project import new_project

    path = write_spec(RULE_STORES + "  table: {pattern: data-table, store: task, "
                      "columns: [title], editable: [due]}\n")
    with pytest.raises(SpecError) as info:
        new_project("rules", dest=tmp_path / "rules", spec_path=path, dry_run=True)
    [diagnostic] = info.value.diagnostics
    assert diagnostic.path == "screens.table.editable[0]"
    assert (diagnostic.location.line, diagnostic.location.col) == (12, 74)  # at `due`
    assert not (tmp_path / "rules").exists()


# -- rules of the patterns' own check hooks (pattern.py), found by the spec zoo ----------
HOOK_STORES = """\
dsgen: 1
app: {name: hooks}
stores:
  task:
    fields:
      title: {type: string, required: true}
      lane: {type: enum, values: [todo, done]}
      rank: {type: int, unique: true}
      spot: int
      arrives: {type: date, default: now}
      leaves: {type: date, default: 2026-01-15}
      early: {type: date, default: 2025-01-01}
    indexes:
      - {fields: [title, spot], unique: true}
screens:
"""


@pytest.mark.parametrize(("screen", "expected", "good"), [
    pytest.param(
        "  board: {pattern: kanban, store: task, group_by: lane, order_by: rank}\n",
        [(16, 57, "screens.board.order_by", "'rank' is unique, but every column numbers its "
          "cards from the same first position (drop 'unique' from the field, or order by "
          "another int field)", None)],
        None, id="kanban-order-by-unique"),
    pytest.param(
        "  board: {pattern: kanban, store: task, group_by: lane, order_by: spot}\n",
        [(16, 57, "screens.board.order_by", "'spot' is in a unique index (title, spot), but "
          "the board renumbers positions on every move (drop the field from the index, or "
          "order by another int field)", None)],
        None, id="kanban-order-by-in-unique-index"),
    pytest.param(
        "  stay: {pattern: date-range, store: task, start: arrives, end: leaves}\n",
        [(16, 44, "screens.stay.start", "'arrives' defaults to today, after the default of "
          "end 'leaves' (2026-01-15) (a booking without dates would end before it starts; "
          "give end a later default, 'now' or none)", None)],
        "  stay: {pattern: date-range, store: task, start: early, end: arrives}\n",
        id="date-range-defaults-out-of-order"),
    pytest.param(
        "  stay: {pattern: date-range, store: task, start: leaves, end: early}\n",
        [(16, 44, "screens.stay.start", "'leaves' defaults to 2026-01-15, after the default "
          "of end 'early' (2025-01-01) (a booking without dates would end before it starts; "
          "give end a later default, 'now' or none)", None)],
        "  stay: {pattern: date-range, store: task, start: early, end: leaves}\n",
        id="date-range-fixed-defaults-out-of-order"),
    pytest.param(
        "  table: {pattern: data-table, store: task, columns: [title], sort: -spot}\n",
        [(16, 63, "screens.table.sort", "'-spot' is not a sortable column of store 'task' "
          "(expected one of title, created_at, updated_at, optionally prefixed with '-')",
          None)],
        "  table: {pattern: data-table, store: task, columns: [title], sort: -updated_at}\n",
        id="data-table-sort-not-shown"),
])
def test_pattern_hooks_refuse_what_the_app_cannot_serve(write_spec, screen, expected, good):
    diagnostics = check(write_spec, builtin_registry(), HOOK_STORES + screen)
    assert found(diagnostics) == expected
    if good is not None:
        assert check(write_spec, builtin_registry(), HOOK_STORES + good) == []


def test_a_required_ref_to_its_own_store_is_refused_at_the_key(write_spec):
    """Found by the zoo (seed 20261208, spec 0): no first row can ever be inserted."""
    diagnostics = check(write_spec, builtin_registry(), """\
        dsgen: 1
        app: {name: selfref}
        stores:
          node:
            fields:
              title: string
              up: {type: ref, store: node, required: true}
              other: {type: ref, store: node}
        screens:
          nodes: {pattern: master-detail, store: node}
        """)
    assert found(diagnostics) == [
        (7, 46, "stores.node.fields.up.required", "a required ref to its own store: the first "
         "'node' could never be saved (there is nothing to refer to yet)",
         "remove 'required' (a first, top-level record leaves it empty)")]


def test_a_circle_of_required_refs_is_refused_at_each_of_its_keys(write_spec):
    """Found by the zoo (seed 20261209, spec 7): the sample factory recursed for ever, and the
    app could never save a first row of either store."""
    diagnostics = check(write_spec, builtin_registry(), """\
        dsgen: 1
        app: {name: circle}
        stores:
          room:
            fields:
              title: string
              keeper: {type: ref, store: guest, required: true}
          guest:
            fields:
              name: string
              room: {type: ref, store: room, required: true}
              friend: {type: ref, store: room}
          other:
            fields:
              room: {type: ref, store: room, required: true}
        screens:
          rooms: {pattern: master-detail, store: room}
        """)
    assert [(d.path, d.message) for d in diagnostics] == [
        ("stores.room.fields.keeper.required", "required refs go round in a circle (room -> "
         "guest -> room): none of these rows could be saved first"),
        ("stores.guest.fields.room.required", "required refs go round in a circle (guest -> "
         "room -> guest): none of these rows could be saved first")]

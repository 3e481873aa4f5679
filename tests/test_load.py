"""parse_spec / load_spec: every shape error located at file:line:col with key path and hint."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from dsgen._errors import Location, SpecError
from dsgen._load import load_spec, parse_spec
from dsgen._model import Auth, Backend, FieldType

# Appended to specs whose errors sit elsewhere, so the spec is otherwise complete.
SCREENS = "screens: {home: {pattern: master-detail}}\n"


def parse(write_spec, text: str):
    path = write_spec(text)
    spec, diagnostics = parse_spec(path)
    return spec, diagnostics, path


def found(diagnostics) -> list[tuple]:
    return [(d.location.line if d.location else None, d.location.col if d.location else None,
             d.path, d.message, d.hint) for d in diagnostics]


# (bad spec, the one diagnostic it yields as (line, col, path, message, hint), fixed spec)
CASES = [
    pytest.param(
        """\
        dsgen: 1
        app: {name: shop}
        screens: {home: {pattern: master-detail}}
        signal:
          _ui: {open: true}
        """,
        (4, 1, "signal", "unknown key 'signal', expected one of 'dsgen', 'app', 'stores', "
         "'screens', 'signals'", "did you mean 'signals'?"),
        """\
        dsgen: 1
        app: {name: shop}
        screens: {home: {pattern: master-detail}}
        signals:
          _ui: {open: true}
        """,
        id="top-unknown-key"),
    pytest.param(
        "app: {name: shop}\n" + SCREENS,
        (1, 1, "dsgen", "missing the spec format version", "add 'dsgen: 1' as the first line"),
        "dsgen: 1\napp: {name: shop}\n" + SCREENS,
        id="version-missing"),
    pytest.param(
        "dsgen: 2\napp: {name: shop}\n" + SCREENS,
        (1, 8, "dsgen", "unsupported spec version the number 2, expected 1",
         "this dsgen reads 'dsgen: 1'"),
        "dsgen: 1\napp: {name: shop}\n" + SCREENS,
        id="version-unsupported"),
    pytest.param(
        "dsgen: true\napp: {name: shop}\n" + SCREENS,
        (1, 8, "dsgen", "unsupported spec version the boolean true, expected 1",
         "this dsgen reads 'dsgen: 1'"),
        "dsgen: 1\napp: {name: shop}\n" + SCREENS,
        id="version-boolean"),
    pytest.param(
        "dsgen: 1\n" + SCREENS,
        (1, 1, "app", "missing the 'app' section", "add 'app: {name: myapp}'"),
        "dsgen: 1\napp: {name: shop}\n" + SCREENS,
        id="app-missing"),
    pytest.param(
        "dsgen: 1\napp: shop\n" + SCREENS,
        (2, 6, "app", "expected the app settings (a mapping), got 'shop'", None),
        "dsgen: 1\napp: {name: shop}\n" + SCREENS,
        id="app-not-mapping"),
    pytest.param(
        "dsgen: 1\napp: {name: shop, titel: Shop}\n" + SCREENS,
        (2, 19, "app.titel", "unknown key 'titel', expected one of 'name', 'title', "
         "'backend', 'auth'", "did you mean 'title'?"),
        "dsgen: 1\napp: {name: shop, title: Shop}\n" + SCREENS,
        id="app-unknown-key"),
    pytest.param(
        """\
        dsgen: 1
        app:
          title: Shop
        """ + SCREENS,
        (3, 3, "app.name", "missing the app name", "add 'name: myapp' (the Python package name)"),
        """\
        dsgen: 1
        app:
          name: shop
          title: Shop
        """ + SCREENS,
        id="app-name-missing"),
    pytest.param(
        "dsgen: 1\napp: {name: My-Shop}\n" + SCREENS,
        (2, 13, "app.name", "app name 'My-Shop' is not a snake_case identifier (lower-case "
         "letters, digits and _, starting with a letter)", "try 'my_shop'"),
        "dsgen: 1\napp: {name: my_shop}\n" + SCREENS,
        id="app-name-not-identifier"),
    pytest.param(
        'dsgen: 1\napp: {name: "shop\\n"}\n' + SCREENS,
        (2, 13, "app.name", "app name 'shop\n' is not a snake_case identifier (lower-case "
         "letters, digits and _, starting with a letter)", "try 'shop'"),
        'dsgen: 1\napp: {name: "shop"}\n' + SCREENS,
        id="app-name-trailing-newline"),
    pytest.param(
        "dsgen: 1\napp: {name: tests}\n" + SCREENS,
        (2, 13, "app.name", "app name 'tests' is reserved", "try 'tests_app'"),
        "dsgen: 1\napp: {name: tests_app}\n" + SCREENS,
        id="app-name-reserved"),
    pytest.param(
        "dsgen: 1\napp: {name: class}\n" + SCREENS,
        (2, 13, "app.name", "app name 'class' is reserved", "try 'class_app'"),
        "dsgen: 1\napp: {name: classes}\n" + SCREENS,
        id="app-name-keyword"),
    pytest.param(
        "dsgen: 1\napp: {name: shop, title: ''}\n" + SCREENS,
        (2, 26, "app.title", "expected a non-empty string, got ''", None),
        "dsgen: 1\napp: {name: shop, title: 'Shop'}\n" + SCREENS,
        id="app-title-empty"),
    pytest.param(
        "dsgen: 1\napp: {name: shop, backend: postgress}\n" + SCREENS,
        (2, 28, "app.backend", "expected one of 'postgres', 'mongo', got 'postgress'",
         "did you mean 'postgres'?"),
        "dsgen: 1\napp: {name: shop, backend: postgres}\n" + SCREENS,
        id="app-backend"),
    pytest.param(
        "dsgen: 1\napp: {name: shop, auth: pasword}\n" + SCREENS,
        (2, 25, "app.auth", "expected one of 'none', 'password', 'oauth', got 'pasword'",
         "did you mean 'password'?"),
        "dsgen: 1\napp: {name: shop, auth: password}\n" + SCREENS,
        id="app-auth"),
    pytest.param(
        "dsgen: 1\napp: {name: shop}\nstores: [item]\n" + SCREENS,
        (3, 9, "stores", "expected stores by name (a mapping), got a list", None),
        "dsgen: 1\napp: {name: shop}\nstores: {item: {fields: {name: string}}}\n" + SCREENS,
        id="stores-not-mapping"),
    pytest.param(
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          Items:
            fields: {name: string}
        """ + SCREENS,
        (4, 3, "stores.Items", "store name 'Items' is not a snake_case identifier (lower-case "
         "letters, digits and _, starting with a letter)", "try 'items'"),
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          items:
            fields: {name: string}
        """ + SCREENS,
        id="store-name"),
    pytest.param(
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item: string
        """ + SCREENS,
        (4, 9, "stores.item", "expected store 'item' (a mapping), got 'string'", None),
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item: {fields: {name: string}}
        """ + SCREENS,
        id="store-not-mapping"),
    pytest.param(
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            fields: {name: string}
            realtme: true
        """ + SCREENS,
        (6, 5, "stores.item.realtme", "unknown key 'realtme', expected one of 'fields', "
         "'realtime', 'indexes'", "did you mean 'realtime'?"),
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            fields: {name: string}
            realtime: true
        """ + SCREENS,
        id="store-unknown-key"),
    pytest.param(
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            realtime: true
        """ + SCREENS,
        (5, 5, "stores.item.fields", "a store needs at least one field",
         "add 'fields: {name: string}'"),
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            fields: {name: string}
            realtime: true
        """ + SCREENS,
        id="store-fields-missing"),
    pytest.param(
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            fields: {}
        """ + SCREENS,
        (5, 13, "stores.item.fields", "a store needs at least one field", "add 'name: string'"),
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            fields: {name: string}
        """ + SCREENS,
        id="store-fields-empty"),
    pytest.param(
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            realtime: yes
            fields: {name: string}
        """ + SCREENS,
        (5, 15, "stores.item.realtime", "expected true or false, got 'yes'", None),
        """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            realtime: true
            fields: {name: string}
        """ + SCREENS,
        id="store-realtime-not-bool"),
]


def _field_case(bad: str, expected: tuple, good: str, id: str):
    """A field-level case: the field map sits on line 6 of the same small spec."""
    head = "dsgen: 1\napp: {name: shop}\nstores:\n  item:\n    fields:\n"
    return pytest.param(head + f"      {bad}\n" + SCREENS, expected,
                        head + f"      {good}\n" + SCREENS, id=id)


F = "stores.item.fields"
CASES += [
    _field_case("First Name: string",
                (6, 7, f"{F}.First Name", "field name 'First Name' is not a snake_case "
                 "identifier (lower-case letters, digits and _, starting with a letter)",
                 "try 'first_name'"),
                "first_name: string", "field-name"),
    _field_case("name: [string]",
                (6, 13, f"{F}.name", "expected a field type or a field mapping, got a list",
                 "write 'name: string' or 'name: {type: string, required: true}'"),
                "name: string", "field-not-type-or-mapping"),
    _field_case("name: {required: true}",
                (6, 13, f"{F}.name.type", "missing the field type",
                 "add 'type: string' (one of 'string', 'text', 'int', 'float', 'decimal', "
                 "'bool', 'date', 'datetime', 'email', 'url', 'enum', 'json', 'uuid', 'ref')"),
                "name: {type: string, required: true}", "field-type-missing"),
    _field_case("name: strng",
                (6, 13, f"{F}.name.type", "unknown field type 'strng', expected one of "
                 "'string', 'text', 'int', 'float', 'decimal', 'bool', 'date', 'datetime', "
                 "'email', 'url', 'enum', 'json', 'uuid', 'ref'", "did you mean 'string'?"),
                "name: string", "field-type-unknown-shorthand"),
    _field_case("qty: {type: integer, min: 0}",
                (6, 19, f"{F}.qty.type", "unknown field type 'integer', expected one of "
                 "'string', 'text', 'int', 'float', 'decimal', 'bool', 'date', 'datetime', "
                 "'email', 'url', 'enum', 'json', 'uuid', 'ref'", "did you mean 'int'?"),
                "qty: {type: int, min: 0}", "field-type-unknown-mapping"),
    _field_case("id: int",
                (6, 11, f"{F}.id.type", "'id' is a column every store gets, of type uuid",
                 "rename the field or make it uuid"),
                "id: uuid", "field-implicit-type"),
    _field_case("name: {type: string, requird: true}",
                (6, 28, f"{F}.name.requird", "unknown key 'requird', expected one of 'type', "
                 "'required', 'unique', 'default', 'min', 'max', 'values', 'store', 'many', "
                 "'label', 'renamed_from'", "did you mean 'required'?"),
                "name: {type: string, required: true}", "field-unknown-key"),
    _field_case("name: {type: string, required: yes}",
                (6, 38, f"{F}.name.required", "expected true or false, got 'yes'", None),
                "name: {type: string, required: true}", "field-required-not-bool"),
    _field_case("name: {type: string, unique: 1}",
                (6, 36, f"{F}.name.unique", "expected true or false, got the number 1", None),
                "name: {type: string, unique: true}", "field-unique-not-bool"),
    _field_case("name: {type: string, label: ''}",
                (6, 35, f"{F}.name.label", "expected a non-empty string, got ''", None),
                "name: {type: string, label: 'Full name'}", "field-label-empty"),
    _field_case("name: {type: string, renamed_from: Old Name}",
                (6, 42, f"{F}.name.renamed_from", "previous field name 'Old Name' is not a "
                 "snake_case identifier (lower-case letters, digits and _, starting with a "
                 "letter)", "try 'old_name'"),
                "name: {type: string, renamed_from: old_name}", "field-renamed-from"),
    _field_case("name: {type: string, values: [a, b]}",
                (6, 36, f"{F}.name.values", "'values' applies to enum fields only",
                 "set 'type: enum' or remove 'values'"),
                "name: {type: enum, values: [a, b]}", "field-values-not-enum"),
    _field_case("lane: {type: enum, values: todo}",
                (6, 34, f"{F}.lane.values", "expected a non-empty list of strings, got 'todo'",
                 "write 'values: [todo, doing, done]'"),
                "lane: {type: enum, values: [todo]}", "field-values-not-list"),
    _field_case("lane: {type: enum, values: [todo, done, todo]}",
                (6, 34, f"{F}.lane.values", "duplicate enum value 'todo'",
                 "each value may appear once"),
                "lane: {type: enum, values: [todo, done]}", "field-values-duplicate"),
    _field_case("lane: enum",
                (6, 13, f"{F}.lane.values", "an enum field needs its values",
                 "add 'values: [a, b, c]'"),
                "lane: {type: enum, values: [todo, done]}", "field-enum-without-values"),
    _field_case("name: {type: string, store: item}",
                (6, 35, f"{F}.name.store", "'store' applies to ref fields only",
                 "set 'type: ref' or remove 'store'"),
                "name: {type: ref, store: item}", "field-store-not-ref"),
    _field_case("parent: {type: ref, store: [item]}",
                (6, 34, f"{F}.parent.store", "expected a store name, got a list", None),
                "parent: {type: ref, store: item}", "field-store-not-string"),
    _field_case("parent: ref",
                (6, 15, f"{F}.parent.store", "a ref field needs the store it refers to",
                 "add 'store: <store name>'"),
                "parent: {type: ref, store: item}", "field-ref-without-store"),
    _field_case("tags: {type: string, many: true}",
                (6, 34, f"{F}.tags.many", "'many' applies to ref fields only", "remove 'many'"),
                "tags: {type: ref, store: item, many: true}", "field-many-not-ref"),
    _field_case("done: {type: bool, min: 1}",
                (6, 31, f"{F}.done.min", "'min' applies to number and text fields, not bool",
                 "remove 'min'"),
                "done: {type: bool}", "field-bound-not-bounded"),
    _field_case("qty: {type: int, min: low}",
                (6, 29, f"{F}.qty.min", "expected a number, got 'low'", None),
                "qty: {type: int, min: 0}", "field-bound-not-number"),
    _field_case("name: {type: string, max: -1}",
                (6, 33, f"{F}.name.max", "a length bound must be a whole number >= 0, got the "
                 "number -1", None),
                "name: {type: string, max: 1}", "field-length-negative"),
    _field_case("qty: {type: int, min: 10, max: 1}",
                (6, 38, f"{F}.qty.max", "max 1 is below min 10", "swap them"),
                "qty: {type: int, min: 1, max: 10}", "field-min-above-max"),
    _field_case("due: {type: date, default: tomorrow}",
                (6, 34, f"{F}.due.default", "default 'tomorrow' does not fit a date field: "
                 "expected 'now' or an ISO date", "write 'default: now'"),
                "due: {type: date, default: now}", "default-date"),
    _field_case("at: {type: datetime, default: 2024-01-31}",
                (6, 37, f"{F}.at.default", "default '2024-01-31' does not fit a datetime "
                 "field: expected 'now' or an ISO date-time", "write 'default: now'"),
                "at: {type: datetime, default: 2024-01-31 10:30:00}", "default-datetime"),
    _field_case("qty: {type: int, default: now}",
                (6, 33, f"{F}.qty.default", "default 'now' does not fit an int field: expected "
                 "a constant", "'now' applies to date and datetime fields"),
                "qty: {type: int, default: 0}", "default-now-not-date"),
    _field_case("done: {type: bool, default: 'no'}",
                (6, 35, f"{F}.done.default", "default 'no' does not fit a bool field: expected "
                 "true or false", None),
                "done: {type: bool, default: false}", "default-bool"),
    _field_case("qty: {type: int, default: 1.5}",
                (6, 33, f"{F}.qty.default", "default the number 1.5 does not fit an int field: "
                 "expected a whole number", None),
                "qty: {type: int, default: 1}", "default-int"),
    _field_case("price: {type: decimal, default: cheap}",
                (6, 39, f"{F}.price.default", "default 'cheap' does not fit a decimal field: "
                 "expected a number", None),
                "price: {type: decimal, default: 9.5}", "default-decimal"),
    _field_case("qty: {type: int, min: 0, max: 10, default: 11}",
                (6, 50, f"{F}.qty.default", "default the number 11 does not fit an int field: "
                 "expected a number within [0, 10]", None),
                "qty: {type: int, min: 0, max: 10, default: 10}", "default-out-of-range"),
    _field_case("lane: {type: enum, values: [todo, done], default: dnoe}",
                (6, 57, f"{F}.lane.default", "default 'dnoe' does not fit an enum field: "
                 "expected one of 'todo', 'done'", "did you mean 'done'?"),
                "lane: {type: enum, values: [todo, done], default: done}", "default-enum"),
    _field_case("name: {type: string, default: 5}",
                (6, 37, f"{F}.name.default", "default the number 5 does not fit a string "
                 "field: expected a string", None),
                "name: {type: string, default: '5'}", "default-string"),
    _field_case("code: {type: string, max: 3, default: toolong}",
                (6, 45, f"{F}.code.default", "default 'toolong' does not fit a string field: "
                 "expected at most 3 characters", None),
                "code: {type: string, max: 3, default: abc}", "default-string-too-long"),
    _field_case("ratio: {type: float, default: .inf}",
                (6, 37, f"{F}.ratio.default", "default the number inf does not fit a float "
                 "field: expected a finite value",
                 "YAML's .inf and .nan have no JSON, Python or SQL form"),
                "ratio: {type: float, default: 1.0e+9}", "default-not-finite"),
    _field_case("meta: {type: json, default: {limits: [1, .nan]}}",
                (6, 35, f"{F}.meta.default", "default a mapping does not fit a json "
                 "field: expected a finite value",
                 "YAML's .inf and .nan have no JSON, Python or SQL form"),
                "meta: {type: json, default: {limits: [1, null]}}", "default-json-not-finite"),
    _field_case("ratio: {type: float, max: .nan}",
                (6, 33, f"{F}.ratio.max", "expected a finite number, got the number nan", None),
                "ratio: {type: float, max: 1.5}", "field-bound-not-finite"),
    _field_case("parent: {type: ref, store: item, default: x}",
                (6, 49, f"{F}.parent.default", "a ref field cannot have a default",
                 "remove 'default'"),
                "parent: {type: ref, store: item}", "default-ref"),
]


def _index_case(bad: str, expected: tuple, good: str, id: str):
    """An index case: `indexes:` is line 7; the index item text starts on line 8."""
    head = ("dsgen: 1\napp: {name: shop}\nstores:\n  item:\n"
            "    fields: {name: string, status: {type: enum, values: [a, b]}}\n"
            "    realtime: false\n")
    return pytest.param(head + f"    indexes: {bad}\n" + SCREENS, expected,
                        head + f"    indexes: {good}\n" + SCREENS, id=id)


IX = "stores.item.indexes"
CASES += [
    _index_case("{fields: [name]}",
                (7, 14, IX, "expected a list of indexes, got a mapping",
                 "write '- fields: [a, b]'"),
                "[{fields: [name]}]", "index-not-list"),
    _index_case("[name]",
                (7, 15, f"{IX}[0]", "expected an index (a mapping), got 'name'", None),
                "[{fields: [name]}]", "index-not-mapping"),
    _index_case("[{fields: [name], uniq: true}]",
                (7, 32, f"{IX}[0].uniq", "unknown key 'uniq', expected one of 'fields', "
                 "'unique', 'partial'", "did you mean 'unique'?"),
                "[{fields: [name], unique: true}]", "index-unknown-key"),
    _index_case("[{unique: true}]",
                (7, 15, f"{IX}[0].fields", "expected a non-empty list of field names, got "
                 "nothing", "write 'fields: [status, created]'"),
                "[{fields: [name], unique: true}]", "index-fields-missing"),
    _index_case("[{fields: [name, stauts]}]",
                (7, 31, f"{IX}[0].fields[1]", "unknown field 'stauts' in index",
                 "did you mean 'status'?"),
                "[{fields: [name, status]}]", "index-unknown-field"),
    _index_case("[{fields: [status, name, status]}]",
                (7, 39, f"{IX}[0].fields[2]", "field 'status' is in the index twice",
                 "list each field once"),
                "[{fields: [status, name]}]", "index-field-twice"),
    _index_case("[{fields: [name], partial: {status: c}}]",
                (7, 50, f"{IX}[0].partial.status", "'c' is not a value of the enum 'status', "
                 "expected one of 'a', 'b'", None),
                "[{fields: [name], partial: {status: b}}]", "index-partial-not-enum-value"),
    _index_case("[{fields: [name], partial: [status]}]",
                (7, 41, f"{IX}[0].partial", "expected field -> constant (a mapping), got a list",
                 None),
                "[{fields: [name], partial: {status: a}}]", "index-partial-not-mapping"),
    _index_case("[{fields: [name], partial: {stat: a}}]",
                (7, 42, f"{IX}[0].partial.stat", "unknown field 'stat' in partial condition",
                 "did you mean 'status'?"),
                "[{fields: [name], partial: {status: a}}]", "index-partial-unknown-field"),
    _index_case("[{fields: [name], partial: {status: [a, b]}}]",
                (7, 50, f"{IX}[0].partial.status",
                 "expected a constant (string, number, boolean or null)", None),
                "[{fields: [name], partial: {status: a}}]", "index-partial-not-constant"),
    _index_case("[{fields: [name], partial: {status: .nan}}]",
                (7, 50, f"{IX}[0].partial.status",
                 "expected a constant (string, number, boolean or null)", None),
                "[{fields: [name], partial: {status: a}}]", "index-partial-not-finite"),
    _index_case("[{fields: [created_at], unique: maybe}]",
                (7, 46, f"{IX}[0].unique", "expected true or false, got 'maybe'", None),
                "[{fields: [created_at], unique: true}]", "index-unique-not-bool"),
]

HEAD = "dsgen: 1\napp: {name: shop}\n"
CASES += [
    pytest.param(
        HEAD,
        (1, 1, "screens", "missing the 'screens' section", "add at least one screen, e.g. "
         "'screens: {home: {pattern: master-detail, store: <store>}}'"),
        HEAD + SCREENS,
        id="screens-missing"),
    pytest.param(
        HEAD + "screens: [home]\n",
        (3, 10, "screens", "expected screens by name (a mapping), got a list", None),
        HEAD + SCREENS,
        id="screens-not-mapping"),
    pytest.param(
        HEAD + "screens: {}\n",
        (3, 10, "screens", "an app needs at least one screen", None),
        HEAD + SCREENS,
        id="screens-empty"),
    pytest.param(
        HEAD + "screens:\n  All-Items: {pattern: master-detail}\n",
        (4, 3, "screens.All-Items", "screen name 'All-Items' is not a snake_case identifier "
         "(lower-case letters, digits and _, starting with a letter)", "try 'all_items'"),
        HEAD + "screens:\n  all_items: {pattern: master-detail}\n",
        id="screen-name"),
    pytest.param(
        HEAD + "screens:\n  home: master-detail\n",
        (4, 9, "screens.home", "expected screen 'home' (a mapping), got 'master-detail'",
         None),
        HEAD + "screens:\n  home: {pattern: master-detail}\n",
        id="screen-not-mapping"),
    pytest.param(
        HEAD + "screens:\n  home: {store: item}\n",
        (4, 9, "screens.home.pattern", "missing the screen's pattern",
         "add 'pattern: master-detail' (see 'dsgen blueprints list')"),
        HEAD + "screens:\n  home: {pattern: master-detail, store: item}\n",
        id="screen-pattern-missing"),
    pytest.param(
        HEAD + "screens:\n  home: {pattern: [master-detail]}\n",
        (4, 19, "screens.home.pattern", "expected a pattern id, got a list", None),
        HEAD + "screens:\n  home: {pattern: master-detail}\n",
        id="screen-pattern-not-string"),
    pytest.param(
        HEAD + "screens:\n  home: {pattern: master-detail, store: 3}\n",
        (4, 41, "screens.home.store", "expected a store name, got the number 3", None),
        HEAD + "screens:\n  home: {pattern: master-detail, store: item}\n",
        id="screen-store-not-string"),
    pytest.param(
        HEAD + "screens:\n  home: {pattern: master-detail, title: ''}\n",
        (4, 41, "screens.home.title", "expected a non-empty string, got ''", None),
        HEAD + "screens:\n  home: {pattern: master-detail, title: Home}\n",
        id="screen-title-empty"),
    pytest.param(
        HEAD + "screens:\n  home: {pattern: master-detail, nav: 'no'}\n",
        (4, 39, "screens.home.nav", "expected true, false or a group path, got 'no'",
         "write false (a group path would name a menu group 'no')"),
        HEAD + "screens:\n  home: {pattern: master-detail, nav: false}\n",
        id="screen-nav-not-bool"),
    pytest.param(
        HEAD + SCREENS + "signals: [_ui]\n",
        (4, 10, "signals", "expected signal namespaces (a mapping), got a list", None),
        HEAD + SCREENS + "signals: {_ui: {open: true}}\n",
        id="signals-not-mapping"),
    pytest.param(
        HEAD + SCREENS + "signals:\n  my ui: {open: true}\n",
        (5, 3, "signals.my ui", "signal namespace 'my ui' is not a name",
         "letters, digits and _, e.g. '_ui' or 'filters'"),
        HEAD + SCREENS + "signals:\n  my_ui: {open: true}\n",
        id="signal-namespace-name"),
    pytest.param(
        HEAD + SCREENS + "signals:\n  _ui: [open]\n",
        (5, 8, "signals._ui", "expected signal names -> initial values (a mapping), got a list",
         None),
        HEAD + SCREENS + "signals:\n  _ui: {open: true}\n",
        id="signal-namespace-not-mapping"),
    pytest.param(
        HEAD + SCREENS + "signals:\n  _ui: {sidebar-open: true}\n",
        (5, 9, "signals._ui.sidebar-open", "signal name 'sidebar-open' is not a name",
         "letters, digits and _, e.g. 'sidebarOpen'"),
        HEAD + SCREENS + "signals:\n  _ui: {sidebarOpen: true}\n",
        id="signal-name"),
    pytest.param(
        HEAD + SCREENS + 'signals:\n  _ui: {"open\\n": true}\n',
        (5, 9, "signals._ui.open\n", "signal name 'open\n' is not a name",
         "letters, digits and _, e.g. 'sidebarOpen'"),
        HEAD + SCREENS + 'signals:\n  _ui: {"open": true}\n',
        id="signal-name-trailing-newline"),
    pytest.param(
        HEAD + SCREENS + "signals:\n  filters: {limit: .inf}\n",
        (5, 20, "signals.filters.limit", "a signal's initial value must be JSON, which has no "
         "inf", "use null or a number"),
        HEAD + SCREENS + "signals:\n  filters: {limit: null}\n",
        id="signal-value-not-finite"),
    pytest.param(
        HEAD + SCREENS + "signals:\n  filters: {since: 2024-01-31}\n",
        (5, 20, "signals.filters.since", "a signal's initial value must be JSON (string, "
         "number, boolean, null, list or mapping)", "quote the date: '2024-01-31'"),
        HEAD + SCREENS + "signals:\n  filters: {since: '2024-01-31'}\n",
        id="signal-value-date"),
]


@pytest.mark.parametrize(("bad", "expected", "good"), CASES)
def test_error_and_its_fix(write_spec, bad, expected, good):
    _, diagnostics, path = parse(write_spec, textwrap.dedent(bad))
    assert found(diagnostics) == [expected]
    assert diagnostics[0].location.file == path
    spec, diagnostics, _ = parse(write_spec, textwrap.dedent(good))
    assert found(diagnostics) == []
    assert spec is not None


def test_invalid_yaml_is_located(write_spec):
    _, diagnostics, path = parse(write_spec, """\
        dsgen: 1
        app: {name: shop
        screens: {}
        """)
    assert found(diagnostics) == [(3, 8, "", "invalid YAML: expected ',' or '}', but got ':'",
                                   "check the indentation and quoting around this place")]


def test_duplicate_key_is_invalid_yaml(write_spec):
    _, diagnostics, _ = parse(write_spec, """\
        dsgen: 1
        app: {name: shop}
        app: {name: other}
        """ + SCREENS)
    [d] = diagnostics
    assert (d.location.line, d.location.col) == (3, 1)
    assert 'duplicate key "app"' in d.message


@pytest.mark.parametrize(("text", "got"), [("", "nothing"), ("- a\n- b\n", "a list"),
                                           ("hello\n", "'hello'")])
def test_root_must_be_a_mapping(write_spec, text, got):
    spec, diagnostics, _ = parse(write_spec, text)
    assert spec is None
    assert found(diagnostics) == [(1, 1, "", "expected a mapping with keys one of 'dsgen', "
                                   f"'app', 'stores', 'screens', 'signals', got {got}",
                                   "start from 'dsgen new --dry-run'")]


def test_missing_file(tmp_path):
    spec, diagnostics = parse_spec(tmp_path / "nope.yaml")
    assert spec is None
    assert [(d.location, d.message, d.hint) for d in diagnostics] == [
        (None, f"no spec at {tmp_path / 'nope.yaml'}", "create one with 'dsgen new NAME'")]


def test_undecodable_file(tmp_path):
    path = tmp_path / "dsgen.yaml"
    path.write_bytes(b"dsgen: 1\napp: {name: \xff}\n")
    spec, diagnostics = parse_spec(path)
    assert spec is None
    [d] = diagnostics
    # located at the offending byte (line 2, column 13), as every spec error is
    assert d.location == Location(path, 2, 13)
    assert d.message == "the file is not UTF-8 text: byte 0xff invalid start byte"
    assert d.hint == "save the spec as UTF-8"


def test_text_argument_wins_over_the_file(tmp_path):
    path = tmp_path / "dsgen.yaml"      # never created: the text is used
    spec, diagnostics = parse_spec(path, "dsgen: 1\napp: {name: shop}\n" + SCREENS)
    assert diagnostics == [] and spec.app.name.snake == "shop" and spec.path == path


def test_every_error_is_reported_at_once(write_spec):
    _, diagnostics, _ = parse(write_spec, """\
        dsgen: 1
        app: {name: shop, backend: mongodb}
        stores:
          task:
            fields:
              lane: {type: enum, values: [todo, done], default: todo}
              title: strng
        screens:
          board: {store: task}
        """)
    assert [(d.location.line, d.location.col, d.path) for d in diagnostics] == [
        (2, 28, "app.backend"),
        (7, 14, "stores.task.fields.title.type"),
        (9, 10, "screens.board.pattern"),
    ]
    assert [d.hint for d in diagnostics][:2] == ["did you mean 'mongo'?",
                                                 "did you mean 'string'?"]


def test_invalid_items_are_dropped_but_the_rest_is_kept(write_spec):
    spec, diagnostics, _ = parse(write_spec, """\
        dsgen: 1
        app: {name: shop}
        stores:
          task:
            fields:
              title: strng
              done: bool
        screens:
          Bad: {pattern: master-detail}
          good: {pattern: master-detail, store: task}
        """)
    assert len(diagnostics) == 2
    assert [f.name.snake for f in spec.stores[0].fields] == ["done"]
    assert [s.name.snake for s in spec.screens] == ["good"]


def test_load_spec_raises_with_every_diagnostic(write_spec):
    path = write_spec("dsgen: 3\napp: {name: Shop}\n" + SCREENS)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert [d.path for d in info.value.diagnostics] == ["dsgen", "app.name"]
    assert str(info.value) == "2 errors in the spec"
    assert str(info.value.diagnostics[0]) == (
        f"{path}:1:8 dsgen: unsupported spec version the number 3, expected 1 "
        "(this dsgen reads 'dsgen: 1')")


FULL = """\
dsgen: 1
app:
  name: acme_crm
  title: Acme CRM
stores:
  company:
    fields:
      name: {type: string, required: true, max: 120}
  contact:
    fields:
      name:    {type: string, required: true, max: 120}
      email:   {type: email, unique: true}
      company: {type: ref, store: company}
      status:  {type: enum, values: [lead, active, churned], default: lead}
      score:   {type: int, min: 0, max: 100}
      notes:   text
      created: {type: datetime, default: now}
      born:    {type: date, default: 2000-01-31}
      meta:    {type: json, default: {a: [1, 2]}}
    realtime: true
    indexes:
      - fields: [status, created]
      - fields: [email]
        unique: true
        partial: {status: active}
  task:
    fields:
      title: {type: string, required: true, label: Task title}
      depends_on: {type: ref, store: task, many: true}
screens:
  contacts:
    pattern: master-detail
    store: contact
    title: Contacts
    list: [name, company, status]
    search: [name, email]
  board:
    pattern: kanban
    store: task
    nav: false
    tabs:
      - {name: profile, screen: contacts}
signals:
  _ui:
    sidebarOpen: true
    theme: light
  filters: {tags: [a, b], since: null}
"""


def test_full_spec_parses_to_typed_model(write_spec):
    spec = load_spec(write_spec(FULL))
    assert spec.version == 1
    assert (spec.app.name.snake, spec.app.title, spec.app.backend, spec.app.auth) == (
        "acme_crm", "Acme CRM", Backend.POSTGRES, Auth.NONE)
    assert [s.name.snake for s in spec.stores] == ["company", "contact", "task"]
    contact = spec.store("contact")
    assert contact.realtime is True
    assert [(f.name.snake, f.type) for f in contact.fields] == [
        ("name", FieldType.STRING), ("email", FieldType.EMAIL), ("company", FieldType.REF),
        ("status", FieldType.ENUM), ("score", FieldType.INT), ("notes", FieldType.TEXT),
        ("created", FieldType.DATETIME), ("born", FieldType.DATE), ("meta", FieldType.JSON)]
    name = contact.field("name")
    assert (name.required, name.max, name.min) == (True, 120, None)
    assert contact.field("status").values == ("lead", "active", "churned")
    assert contact.field("status").default == "lead"
    assert contact.field("created").default == "now"
    assert contact.field("born").default == date(2000, 1, 31)
    meta = contact.field("meta").default
    assert meta == {"a": [1, 2]} and type(meta) is dict and type(meta["a"]) is list
    assert contact.field("company").store == "company"
    assert contact.field("email").location == Location(spec.path, 12, 16)
    assert [(i.fields, i.unique, i.partial) for i in contact.indexes] == [
        (("status", "created"), False, ()), (("email",), True, (("status", "active"),))]
    task = spec.store("task")
    assert task.field("title").display == "Task title"
    assert (task.field("depends_on").many, task.field("depends_on").store) == (True, "task")
    contacts, board = spec.screens
    assert (contacts.pattern, contacts.store, contacts.title, contacts.nav) == (
        "master-detail", "contact", "Contacts", True)
    assert contacts.options == {"list": ["name", "company", "status"], "search": ["name", "email"]}
    assert type(contacts.options["list"]) is list
    assert contacts.option_locations["search"] == Location(spec.path, 36, 5)
    assert (board.nav, board.display) == (False, "Board")
    assert board.options == {"tabs": [{"name": "profile", "screen": "contacts"}]}
    assert spec.signals == {"_ui": {"sidebarOpen": True, "theme": "light"},
                            "filters": {"tags": ["a", "b"], "since": None}}


def test_locations_are_recorded_for_nested_options(write_spec):
    spec = load_spec(write_spec(FULL))
    assert spec.where("screens.contacts.list[1]") == Location(spec.path, 35, 18)
    assert spec.where("screens.board.tabs[0].screen") == Location(spec.path, 42, 33)
    # an unrecorded path falls back to its nearest recorded ancestor
    assert spec.where("screens.board.nothing.here") == Location(spec.path, 38, 5)
    assert spec.where("nowhere") is None


def test_defaults_of_optional_keys(write_spec):
    spec = load_spec(write_spec("dsgen: 1\napp: {name: order_desk}\n" + SCREENS))
    assert spec.app.title == "Order desk"
    assert spec.stores == () and spec.signals == {}
    [home] = spec.screens
    assert (home.store, home.title, home.nav, home.options) == (None, None, True, {})


def test_null_stores_and_signals_are_empty(write_spec):
    spec = load_spec(write_spec("dsgen: 1\napp: {name: shop}\nstores:\nsignals:\n" + SCREENS))
    assert spec.stores == () and spec.signals == {}


def test_implicit_fields_with_their_own_type_are_allowed(write_spec):
    spec = load_spec(write_spec("""\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            fields: {id: uuid, created_at: datetime, name: string}
            indexes: [{fields: [updated_at]}]
        """ + SCREENS))
    assert [f.name.snake for f in spec.stores[0].fields] == ["id", "created_at", "name"]
    assert spec.stores[0].indexes[0].fields == ("updated_at",)


def test_bad_enum_values_do_not_also_fail_the_default(write_spec):
    _, diagnostics, _ = parse(write_spec, """\
        dsgen: 1
        app: {name: shop}
        stores:
          task:
            fields:
              lane: {type: enum, values: [], default: todo}
        """ + SCREENS)
    assert [d.path for d in diagnostics] == ["stores.task.fields.lane.values"]


def test_string_default_within_min_length(write_spec):
    _, diagnostics, _ = parse(write_spec, """\
        dsgen: 1
        app: {name: shop}
        stores:
          item:
            fields:
              code: {type: string, min: 2, default: x}
        """ + SCREENS)
    assert found(diagnostics) == [(6, 45, "stores.item.fields.code.default",
                                   "default 'x' does not fit a string field: expected at least "
                                   "2 characters", None)]


def test_index_partial_value_suggests_an_enum_value(write_spec):
    spec, diagnostics, _ = parse(write_spec, """\
        dsgen: 1
        app: {name: shop}
        stores:
          contact:
            fields:
              email: email
              status: {type: enum, values: [lead, active, churned]}
              tags: {type: ref, store: contact, many: true}
            indexes:
              - {fields: [email], unique: true, partial: {status: actve}}
              - {fields: [status, tags]}
              - {fields: [email], partial: {tags: null}}
              - {fields: [email], partial: {status: null}}
        """ + SCREENS)
    assert found(diagnostics) == [
        (10, 59, "stores.contact.indexes[0].partial.status", "'actve' is not a value of the "
         "enum 'status', expected one of 'lead', 'active', 'churned'", "did you mean 'active'?"),
        (11, 27, "stores.contact.indexes[1].fields[1]", "'tags' is a many-ref, kept in a link "
         "table: not a column an index can hold", "index columns of the store itself"),
        (12, 37, "stores.contact.indexes[2].partial.tags", "'tags' is a many-ref, kept in a "
         "link table: not a column a condition can test", "test columns of the store itself"),
    ]
    assert [i.partial for i in spec.store("contact").indexes] == [(("status", None),)]


# -- the quick path: a valid spec loaded by the safe loader must equal the round-trip one ---
def _without_locations(spec):
    from dataclasses import replace

    stores = tuple(replace(s, location=None, indexes=tuple(replace(i, location=None)
                                                           for i in s.indexes),
                           fields=tuple(replace(f, location=None) for f in s.fields))
                   for s in spec.stores)
    screens = tuple(replace(s, location=None, option_locations={}) for s in spec.screens)
    return replace(spec, stores=stores, screens=screens)


SCALARS = """\
dsgen: 1
app: {name: shop, title: "Shop \\u2713"}
stores:
  item:
    fields:
      name: {type: string, required: true, max: 0x40, label: 'Name: ''the'' one'}
      notes:
        type: text
        default: |
          two
          lines
      price: {type: decimal, min: 0.50, max: 1_000, default: 1.0e+1}
      qty: {type: int, default: 0o17}
      due: {type: date, default: 2024-01-31}
      seen: {type: datetime, default: now}
      kind: {type: enum, values: [yes, no, "on"], default: "no"}
      meta: {type: json, default: {a: [1, 2.5, null, true]}}
    indexes:
      - {fields: [name, kind], unique: true, partial: {kind: "no"}}
screens:
  items: {pattern: master-detail, store: item, list: [name, price]}
signals:
  _ui: {open: false, size: 1.5, tags: [a, b]}
"""


def _all_specs():
    from tests._support import example_specs

    return [(p.name, p.read_text(encoding="utf-8")) for p in example_specs()] + [
        ("scalars.yml", SCALARS)]


@pytest.mark.parametrize(("name", "text"), _all_specs(), ids=lambda v: v if
                         isinstance(v, str) and v.endswith(".yml") else "")
def test_quick_spec_equals_the_round_trip_parse(tmp_path, name, text):
    from dsgen._blueprints import builtin_registry
    from dsgen._load import quick_spec
    from dsgen._project import render_project

    path = tmp_path / name
    slow, diagnostics = parse_spec(path, text)
    assert diagnostics == []
    quick = quick_spec(path, text)
    assert quick is not None
    assert _without_locations(quick) == _without_locations(slow)
    assert set(quick.locations) <= set(slow.locations)      # what was declared, without
    assert not any(quick.locations.values())                # where
    if name == "scalars.yml":
        registry = builtin_registry()
        render = {f.path: f.content for f in render_project(quick, registry, with_assets=False)}
        assert render == {f.path: f.content
                          for f in render_project(slow, registry, with_assets=False)}


@pytest.mark.parametrize("text", [
    "dsgen: 1\napp: {name: shop\n",                                 # invalid YAML
    "dsgen: 1\napp: {name: Shop}\nscreens: {home: {pattern: page}}\n",  # a shape error
    "- a list\n",                                                    # not a mapping
    "dsgen: 1\nbase: &b {name: shop}\napp: {<<: *b}\nscreens: {}\n",  # merge keys
    "dsgen: 1\napp: {name: shop}\nscreens: {home: {pattern: page}}\n"
    "signals: {_ui: {at: 2024-01-31 10:00:00}}\n",                 # a date-time
    "dsgen: 1\napp: !custom {name: shop}\nscreens: {home: {pattern: page}}\n",  # a tag
])
def test_quick_spec_leaves_anything_unusual_to_the_round_trip_parse(tmp_path, text):
    from dsgen._load import quick_spec

    assert quick_spec(tmp_path / "dsgen.yaml", text) is None


def test_an_invalid_spec_still_reports_locations_through_prepare_spec(write_spec):
    from dsgen._blueprints import builtin_registry
    from dsgen._project import prepare_spec

    path = write_spec("dsgen: 1\napp: {name: shop}\nscreens:\n  home: {pattern: nope}\n")
    with pytest.raises(SpecError) as info:
        prepare_spec(path, builtin_registry())
    [diagnostic] = info.value.diagnostics
    assert diagnostic.location == Location(path, 4, 19)
    assert diagnostic.path == "screens.home.pattern"
